"""Every failure a person can meet is a page (or, for htmx, an inline message), never a stack trace."""

import logging
from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import login_url
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from library_common.errors import DependencyUnavailable

from .backend import BackendError, SessionExpired
from .session import EXPIRED, end_session, login_manager, safe_next

log = logging.getLogger(__name__)

EXPLANATIONS = {
    400: ("Something was wrong with that request", "Please go back and try again."),
    403: ("This page is not for you", "Your account does not have access to this page."),
    404: ("Page not found", "There is nothing here. Try the catalogue instead."),
    405: ("That did not work", "This page cannot be used that way."),
    413: ("Too much data", "What you sent is larger than the library accepts."),
    500: ("Something went wrong on our side", "Please try again in a moment."),
    503: ("Part of the library is unavailable", "Please try again in a moment."),
}


def is_htmx():
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def inline_message(message, category):
    """For htmx: show `message` in the page's live message area instead of swapping the target."""
    return (render_template("_message.html", message=message, category=category), 200,
            {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})


def with_message(fragment, message, category, retarget=False):
    """An htmx answer that also replaces whatever the message area said before (a later Return must not
    leave an earlier Renew's news on screen). `retarget`: the message alone, the target left as it is."""
    if retarget:
        return inline_message(message, category)
    return fragment + render_template("_message.html", message=message, category=category, out_of_band=True)


def error_page(status, detail=None):
    title, explanation = EXPLANATIONS.get(status, EXPLANATIONS[500])
    if is_htmx():
        return inline_message(detail or explanation, "error")
    return render_template("error.html", status=status, title=title, explanation=detail or explanation), status


def register(app):
    @app.errorhandler(SessionExpired)
    def session_expired(_error):
        end_session()
        flash(EXPIRED, "info")
        if is_htmx():
            return "", 200, {"HX-Redirect": login_url_back_here()}
        return redirect(login_url_back_here())

    @app.errorhandler(DependencyUnavailable)
    def unavailable(error):
        return error_page(503, error.message)

    @app.errorhandler(BackendError)
    def backend_error(error):
        return error_page(error.status if error.status in EXPLANATIONS else 400, error.message)

    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return error_page(400, "This form has expired or was not sent from this site. Please reload the page and "
                               "try again.")

    @app.errorhandler(HTTPException)
    def http_error(error):
        return error_page(error.code)

    @app.errorhandler(Exception)
    def unexpected(_error):
        log.exception("unhandled error")
        return error_page(500)


@login_manager.unauthorized_handler
def log_in_first():
    """A visitor asked for a page or an action for logged-in readers: to the login page, and back here after.
    htmx hears 401 and takes the whole page there (HX-Redirect), instead of putting the login form in a fragment."""
    if not g.get("told_why_logged_out"):  # "Please log in" says less than why the session ended (load_reader)
        flash(login_manager.login_message, login_manager.login_message_category)
    if is_htmx():
        return "", 401, {"HX-Redirect": login_url_back_here()}
    return redirect(login_url(login_manager.login_view, request.url))  # as flask-login does without this handler


def login_url_back_here():
    """The login page, with a `next` back to this page (after a form was posted: the page it was posted from)."""
    back_to = request.full_path if request.method == "GET" else (request.referrer or "/")
    return url_for("account.login", next=safe_next(_path_only(back_to)))


def _path_only(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
