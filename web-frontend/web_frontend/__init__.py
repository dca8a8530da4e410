"""web-frontend: the pages patrons and librarians use (port 8000), over the three services."""

from zoneinfo import ZoneInfo

from flask import request
from flask_wtf.csrf import CSRFProtect
from markupsafe import Markup

from library_common import deps as app_deps
from library_common.app import create_base_app, token_verifier
from library_common.auth import RemoteAccountCheck
from library_common.config import DEV_SECRET, load_settings
from library_common.http import client_from_settings

from . import assets, errors
from .backend import Backend
from .deps import Deps
from . import formatting
from .formatting import cover_hue, cover_initials, in_future, nice_date, ordinal, short_date
from .session import check_who_before_reading, login_manager, no_store_for_personal_pages
from . import views

DEFAULTS = {
    "SECRET_KEY": DEV_SECRET,
    "BOOKS_SERVICE_URL": "http://127.0.0.1:5000",
    "BORROW_SERVICE_URL": "http://127.0.0.1:5002",
    "NOTIFICATION_SERVICE_URL": "http://127.0.0.1:5003",
    # The local mail catcher's API (make run): the development-only mailbox page shows what was sent.
    "MAILBOX_URL": "",
    "HTMX_SRC": "cdn",
    "SESSION_COOKIE_SECURE": False,
    # Longer than any service's own calls to its neighbours, so a page hears their answer
    # ("availability unknown") instead of timing out first.
    "HTTP_READ_TIMEOUT": 5.0,
    # The largest file of records a librarian may upload (the import page; books-service has the same limit).
    "IMPORT_MAX_BYTES": 20 * 1024 * 1024,
    # How long a session's token is taken as still valid before user-service's /me is asked again: a logout (or a
    # password change, a deactivation) ends a copy of the session cookie within this long, in every process.
    "SESSION_CHECK_SECONDS": 1.0,
    "LIBRARY_TIMEZONE": "UTC",  # dates on the pages are the library's own days (borrow-service has the same)
}


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    if settings["HTMX_SRC"] not in ("cdn", "local"):
        raise RuntimeError("HTMX_SRC must be 'cdn' or 'local'")
    if settings["HTMX_SRC"] == "local" and not assets.LOCAL_HTMX.exists():
        raise RuntimeError(f"HTMX_SRC=local but {assets.LOCAL_HTMX} is missing: run `make install`")

    app = create_base_app(__name__, service_name="web-frontend", settings=settings, secret_names=["SECRET_KEY"])
    production = settings["APP_ENV"] == "production"
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["SESSION_COOKIE_SECURE"] or production,
        REMEMBER_COOKIE_SECURE=settings["SESSION_COOKIE_SECURE"] or production,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=settings["MAX_CONTENT_LENGTH"],
    )
    check_who_before_reading(app)  # first: who may send it, then how much they may send, then the form is read
    _larger_uploads_for_imports(app, settings["IMPORT_MAX_BYTES"])
    CSRFProtect(app)
    login_manager.init_app(app)
    users = client_from_settings(settings, "account service", "USER_SERVICE_URL")
    account_check = RemoteAccountCheck(users, settings["SESSION_CHECK_SECONDS"], young_tokens_vouch=False)
    app_deps.attach(app, Deps(
        token_verifier=token_verifier(settings, account_check=account_check),
        backend=Backend(
            client_from_settings(settings, "catalogue service", "BOOKS_SERVICE_URL"),
            users,
            client_from_settings(settings, "loans service", "BORROW_SERVICE_URL"),
            client_from_settings(settings, "notification service", "NOTIFICATION_SERVICE_URL"),
        ),
        mailbox=client_from_settings(settings, "mail catcher", "MAILBOX_URL")
        if settings["MAILBOX_URL"] and settings["APP_ENV"] == "development" else None,
        account_check=account_check,
    ))
    for blueprint in (views.catalogue.bp, views.account.bp, views.borrows.bp, views.manage.bp, views.imports.bp,
                      views.notifications.bp, views.mailbox.bp, views.policy.bp, views.activity.bp):
        app.register_blueprint(blueprint)
    errors.register(app)
    _security_headers(app, settings["HTMX_SRC"])
    no_store_for_personal_pages(app)

    formatting.LIBRARY_ZONE["zone"] = ZoneInfo(settings["LIBRARY_TIMEZONE"])
    for template_filter in (nice_date, short_date, ordinal, cover_initials, cover_hue, in_future):
        app.add_template_filter(template_filter)

    @app.context_processor
    def page_helpers():
        return {"htmx_script": lambda: _htmx_script(settings["HTMX_SRC"])}

    @app.get("/favicon.ico")
    def favicon():  # browsers ask for it whatever the page says
        return app.send_static_file("favicon.svg"), 200, {"Content-Type": "image/svg+xml"}

    @app.get("/health")
    def health():
        return {"status": "ok", "service": "web-frontend"}

    return app


def _larger_uploads_for_imports(app, max_bytes):
    """The import page takes a file of up to `max_bytes`; every other form keeps MAX_CONTENT_LENGTH."""

    @app.before_request
    def allow_a_large_file():
        if request.endpoint == "imports.imports" and request.method == "POST":
            request.max_content_length = max_bytes


def _htmx_script(source):
    if source == "local":
        return Markup('<script src="/static/vendor/htmx.min.js" defer></script>')
    return Markup(f'<script src="{assets.HTMX_CDN_URL}" integrity="{assets.HTMX_INTEGRITY}" '
                  'crossorigin="anonymous" defer></script>')


def _security_headers(app, htmx_source):
    script_src = "'self'" if htmx_source == "local" else f"'self' {assets.HTMX_CDN_URL}"
    policy = (f"default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data:; "
              "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")

    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.vary.add("HX-Request")  # one URL, two bodies: the page, or its htmx fragment
        return response
