"""Who is logged in: flask-login users built from the token user-service issued.

The token lives only in the server-signed session cookie. It is verified like any service
verifies it (RS256 through user-service's JWKS); an expired or tampered one logs the user out.
"""

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from library_common.auth import Principal
from library_common.errors import DependencyUnavailable, Unauthorized

login_manager = LoginManager()
login_manager.login_view = "account.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"

EXPIRED = "Your session has expired. Please log in again."


@dataclass
class Reader(UserMixin):
    principal: Principal

    def get_id(self):
        return self.principal.username

    @property
    def username(self):
        return self.principal.username

    @property
    def role(self):
        return self.principal.role

    @property
    def is_librarian(self):
        return self.principal.is_librarian

    @property
    def display_name(self):
        return f"{self.principal.first_name} {self.principal.last_name}".strip() or self.username

    @property
    def token(self):
        return self.principal.token


def _verify(token):
    return current_app.extensions["token_verifier"].verify(token)


@login_manager.user_loader
def load_reader(username):
    token = session.get("token")
    if not token:
        return None
    try:
        principal = _verify(token)
    except Unauthorized:
        session.clear()
        flash(EXPIRED, "info")
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


def end_session():
    logout_user()
    session.clear()


def librarian_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_librarian:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def safe_next(target, default="/"):
    """Only a path on this site: never another host, scheme, or protocol-relative URL."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
