"""Who is logged in: flask-login users built from the token user-service issued.

The token lives only in the server-signed session cookie. It is verified like any service
verifies it (RS256 through user-service's JWKS); an expired or tampered one logs the user out.
"""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, flash, g, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from library_common.auth import SESSION_ENDED, Principal
from library_common.errors import DependencyUnavailable, Unauthorized

from .backend import BackendError
from .deps import deps

login_manager = LoginManager()
login_manager.login_view = "account.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"

EXPIRED = "Your session has expired. Please log in again."


class Reader(UserMixin):
    """The logged-in person, as their token (a Principal) describes them."""

    def __init__(self, principal: Principal):
        self.principal = principal
        self.username, self.role, self.token = principal.username, principal.role, principal.token
        self.is_librarian = principal.is_librarian
        self.display_name = f"{principal.first_name} {principal.last_name}".strip() or principal.username

    def get_id(self):
        return self.username


def _verify(token):
    return deps().token_verifier.verify(token)


@login_manager.user_loader
def load_reader(username):
    token = session.get("token")
    if not token:
        return None
    try:
        principal = _verify(token)
    except Unauthorized as refusal:
        session.clear()
        flash(refusal.message if refusal.message in SESSION_ENDED.values() else EXPIRED, "info")
        g.told_why_logged_out = True
        return None
    except DependencyUnavailable:
        return None  # cannot check the token right now: browse as a visitor, keep the session
    return Reader(principal) if principal.username == username else None


def start_session(token):
    """Log in with a token fresh from user-service; a new session, so nothing carries over."""
    principal = _verify(token)
    session.clear()
    session["token"] = token
    login_user(Reader(principal))
    return principal


def renew_session(username, password):
    """After a password change, which ended every session of the account (this one too): a new one, logged in
    with the new password, so the reader stays logged in here while their other devices are logged out."""
    ended = session.get("token")
    if ended:
        deps().account_check.forget(ended)
    token, _user = deps().backend.login(username, password)
    start_session(token)


def end_session():
    logout_user()
    session.clear()


def log_out(everywhere=False):
    """Log out here, or `everywhere`: user-service stops accepting this session's token (or every token it
    issued the account before now), and this process stops at once; the frontend's other processes follow within
    SESSION_CHECK_SECONDS (a second), so a copy of the session cookie then lands on the login page, and the
    account's other devices, told why, too.

    False when user-service could not be told: this browser is logged out, but a copy of its cookie (or the other
    devices) is not."""
    token = session.get("token")
    end_session()
    if not token:
        return True
    deps().account_check.forget(token)
    try:
        deps().backend.logout(token, everywhere)
    except (DependencyUnavailable, BackendError):
        return False
    return True


# Personal before anyone logs in: what people type into them, and the mailed links' tokens.
ACCOUNT_FORMS = frozenset({"account.login", "account.signup", "account.forgot_password", "account.verify_email",
                           "account.reset_password"})
# The same for everyone, logged in or not.
EVERYONES_FILES = frozenset({"static", "favicon"})


def no_store_for_personal_pages(app):
    """On a library's public terminals, no browser or cache keeps a page someone saw logged in, or a log-in,
    sign-up or mailed link's page, for the next person to bring back. Anonymous catalogue pages stay cacheable."""

    @app.after_request
    def no_store(response):
        if request.endpoint in ACCOUNT_FORMS or (request.endpoint not in EVERYONES_FILES and session.get("token")):
            response.headers["Cache-Control"] = "no-store"
        return response


def librarian_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_librarian:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


# The blueprints whose every page is for librarians (for_librarians_only), filled as the views are imported.
LIBRARIANS_BLUEPRINTS = set()


def for_librarians_only(blueprint):
    """Every page of `blueprint` is for librarians: visitors are sent to log in, patrons get 403, before anything
    reads what they sent (see check_who_before_reading)."""
    LIBRARIANS_BLUEPRINTS.add(blueprint.name)


def check_who_before_reading(app):
    """Librarians' pages check the session and its role before anything parses the request's body (the CSRF check
    reads the form, and an import's form is a file of up to IMPORT_MAX_BYTES): a visitor or a patron is refused
    without their upload being read. Call it before CSRFProtect: app-wide checks run in the order they were added,
    and a blueprint's own after every app-wide one."""

    @app.before_request
    def librarians_pages():
        if request.blueprint in LIBRARIANS_BLUEPRINTS:
            return librarian_required(lambda: None)()
        return None


def safe_next(target, default="/"):
    """Only a path on this site: never another host, scheme, or protocol-relative URL."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
