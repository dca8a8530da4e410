"""notification-service (port 5003): what happened in the library, told to patrons in the app and by e-mail.
It reads the other services' event logs (never their tables), makes each event into at most one notice, and
its worker mails them; patrons read theirs at GET /notifications and choose channels at /preferences."""

from library_common import deps as app_deps
from library_common.app import create_service_app, token_verifier
from library_common.config import (
    DEV_SECRET,
    MAIL_CATCHER_SMTP_PORT,
    load_settings,
    refuse_the_mail_catcher_in_production,
)

from . import views
from .delivery import MailSettings, transport_from_settings
from .deps import Deps
from .models import db
from .neighbours import accounts_from_settings, feeds_from_settings, service_tokens_from_settings

DEFAULTS = {
    "BORROW_SERVICE_URL": "http://127.0.0.1:5002",
    # Its name and secret at user-service (user-service's NOTIFICATION_SERVICE_SECRET), for reading the feeds.
    "SERVICE_NAME_FOR_TOKENS": "notification-service",
    "SERVICE_SECRET": DEV_SECRET,
    "LIBRARY_NAME": "The Library",
    "SITE_URL": "http://127.0.0.1:8000",  # links in notices point here
    "LIBRARY_TIMEZONE": "UTC",  # dates and times in notices are the library's local ones
    "SEND_RECEIPTS": False,  # checkout and return receipts
    "POLL_SECONDS": 2,  # how often the worker reads the event logs and sends what is due
    "MAIL_TRANSPORT": "smtp",  # or "ses" (Amazon SES's API, with the task's role)
    "SMTP_HOST": "127.0.0.1",  # make run's mail catcher (production refuses it)
    "SMTP_PORT": MAIL_CATCHER_SMTP_PORT,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "MAIL_FROM": "The Library <library@localhost>",
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_RETRY_SECONDS": 30.0,  # the first retry's delay; each next one doubles, up to an hour
    "MAIL_CLAIM_SECONDS": 300.0,  # a send claimed this long ago by a process that died is tried again
}


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    refuse_the_mail_catcher_in_production(settings)
    blueprints = [views.notifications.blp, views.preferences.blp, views.notices.blp]
    app = create_service_app(__name__, settings, db, blueprints, secret_names=["SERVICE_SECRET"],
                             other_secrets={"SMTP_PASSWORD": settings["SMTP_PASSWORD"]})
    tokens = service_tokens_from_settings(settings)
    app_deps.attach(app, Deps(
        token_verifier=token_verifier(settings),
        feeds=feeds_from_settings(settings, tokens),
        accounts=accounts_from_settings(settings, tokens),
        transport=transport_from_settings(settings),
        mail=MailSettings.from_settings(settings),
    ))
    return app
