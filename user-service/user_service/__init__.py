"""user-service: accounts, login, and the keys that sign the library's tokens (port 5001)."""

import logging
from datetime import timedelta

import marshmallow as ma
from sqlalchemy.exc import ProgrammingError

from library_common import deps as app_deps
from library_common.app import create_service_app, token_verifier
from library_common.audit import audit_blueprint, prune as prune_audit_log
from library_common.clock import now
from library_common.config import DEV_SECRET, load_settings
from library_common.feeds import feed_blueprint
from library_common.http import client_from_settings
from library_common.rate_limits import Limit, RateLimiter
from library_common.schema import USERNAME

from .accounts import PasswordHasher, check_account, ensure_librarian
from .approval import checked_mode
from .cli import create_user, rotate_keys
from .deps import Deps
from .keys import KeyStore, LocalKeyResolver, TokenIssuer
from .links import LinkTokens
from .models import db
from .neighbours import Circulation
from .service_clients import clients_from_settings
from .throttle import ThrottlePolicy
from . import views

DEFAULTS = {
    "SECRET_KEY": DEV_SECRET,
    "LIBRARY_TIMEZONE": "UTC",  # the library's own days: a card is valid through its last day there
    # Signs the mailed links (verify an address, choose a password): a key of its own, made per data directory
    # by `make run`, since anyone who knows it can forge a link into any account.
    "LINK_SECRET_KEY": DEV_SECRET,
    "JWT_PRIVATE_KEY": "",
    "JWT_TTL_SECONDS": 3600,
    "PASSWORD_HASH_METHOD": "scrypt",
    "LOGIN_FAILURES_PER_USER_AND_CLIENT": 5,
    "LOGIN_FAILURES_PER_CLIENT": 50,
    "LOGIN_THROTTLE_WINDOW_SECONDS": 900,
    "RATE_LIMIT_REGISTER": "20/hour",
    "RATE_LIMIT_PASSWORD_CHANGE": "10/hour",
    "RATE_LIMIT_PASSWORD_RESET": "10/hour",
    # The choose-a-password page asks once per opening; more is someone trying tokens.
    "RATE_LIMIT_PASSWORD_LINK_CHECK": "30/hour",
    "RATE_LIMIT_VERIFICATION_MAIL": "5/hour",
    "RATE_LIMIT_PASSWORD_LINKS_PER_ACCOUNT": "3/hour",
    "RATE_LIMIT_SERVICE_TOKENS": "30/minute",
    "RATE_LIMIT_EMAIL_CHANGE": "10/hour",
    "RATE_LIMIT_EMAIL_CHANGES_PER_ACCOUNT": "5/day",
    "RATE_LIMIT_MAILS_PER_ADDRESS": "5/day",
    "EMAIL_VERIFICATION_HOURS": 48,
    "PASSWORD_RESET_MINUTES": 60,
    "BORROW_SERVICE_URL": "http://127.0.0.1:5002",
    "BOOTSTRAP_LIBRARIAN": "",
    # notification-service's secret for POST /service-tokens (the same value as its SERVICE_SECRET); empty: it
    # may not read the event feeds.
    "NOTIFICATION_SERVICE_SECRET": "",
    # books-service's, for its worker's questions to borrow-service (reverting an import); empty: none.
    "BOOKS_SERVICE_SECRET": "",
    # Accounts registered online: "open" (may borrow at once), "verified" (provisional until the address is
    # confirmed or a librarian approves them) or "approval" (until a librarian approves them); see approval.py.
    "SELF_REGISTRATION": "verified",
    # How long a new library card is valid, in days from the day it is issued (about three years).
    "CARD_VALIDITY_DAYS": 1095,
}

log = logging.getLogger(__name__)


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    librarian, _, librarian_password = settings["BOOTSTRAP_LIBRARIAN"].partition(":")
    blueprints = [views.accounts.blp, views.users.blp, views.cards.blp, views.categories.blp, views.email_links.blp,
                  views.keys.blp, views.contacts.blp, views.service_tokens.blp,
                  feed_blueprint(housekeeping=prune_audit_log),  # no worker here: pruned as the feed is read
                  audit_blueprint(settings)]
    app = create_service_app(__name__, settings, db, blueprints,
                             secret_names=["SECRET_KEY", "LINK_SECRET_KEY"],
                             other_secrets={"JWT_PRIVATE_KEY": settings["JWT_PRIVATE_KEY"],
                                            "BOOTSTRAP_LIBRARIAN's password": librarian_password,
                                            "NOTIFICATION_SERVICE_SECRET": settings["NOTIFICATION_SERVICE_SECRET"],
                                            "BOOKS_SERVICE_SECRET": settings["BOOKS_SERVICE_SECRET"]})
    app_deps.attach(app, build_deps(settings))
    app.cli.add_command(create_user)
    app.cli.add_command(rotate_keys)
    if settings["BOOTSTRAP_LIBRARIAN"]:
        _bootstrap_librarian(app, librarian, librarian_password)
    return app


def build_deps(settings):
    key_store = KeyStore(settings["SECRET_KEY"], settings["JWT_PRIVATE_KEY"],
                         refresh_seconds=settings["JWKS_CACHE_SECONDS"])
    return Deps(
        token_verifier=token_verifier(settings, key_resolver=LocalKeyResolver(key_store), account_check=check_account),
        hasher=PasswordHasher(settings["PASSWORD_HASH_METHOD"]),
        key_store=key_store,
        token_issuer=TokenIssuer(key_store, settings["JWT_ISSUER"], settings["JWT_AUDIENCE"],
                                 settings["JWT_TTL_SECONDS"]),
        throttle_policy=ThrottlePolicy(
            free_failures_per_user_and_client=settings["LOGIN_FAILURES_PER_USER_AND_CLIENT"],
            free_failures_per_client=settings["LOGIN_FAILURES_PER_CLIENT"],
            window=timedelta(seconds=settings["LOGIN_THROTTLE_WINDOW_SECONDS"]),
        ),
        service_clients=clients_from_settings(settings),
        rate_limiter=RateLimiter({
            "register": Limit.parse("RATE_LIMIT_REGISTER", settings["RATE_LIMIT_REGISTER"], "sign-ups"),
            "password_change": Limit.parse("RATE_LIMIT_PASSWORD_CHANGE", settings["RATE_LIMIT_PASSWORD_CHANGE"],
                                           "password changes"),
            "password_reset": Limit.parse("RATE_LIMIT_PASSWORD_RESET", settings["RATE_LIMIT_PASSWORD_RESET"],
                                          "password reset requests"),
            "password_link_check": Limit.parse("RATE_LIMIT_PASSWORD_LINK_CHECK",
                                               settings["RATE_LIMIT_PASSWORD_LINK_CHECK"], "password link checks"),
            "verification_mail": Limit.parse("RATE_LIMIT_VERIFICATION_MAIL", settings["RATE_LIMIT_VERIFICATION_MAIL"],
                                             "requests for a verification link"),
            # Counted per account, not per client (recovery.request_password_reset); never answered with a 429.
            "password_links_per_account": Limit.parse("RATE_LIMIT_PASSWORD_LINKS_PER_ACCOUNT",
                                                      settings["RATE_LIMIT_PASSWORD_LINKS_PER_ACCOUNT"],
                                                      "password links"),
            "email_change": Limit.parse("RATE_LIMIT_EMAIL_CHANGE", settings["RATE_LIMIT_EMAIL_CHANGE"],
                                        "changes of address"),
            # Counted per account and per address (accounts.py), whoever asks from wherever.
            "email_changes_per_account": Limit.parse("RATE_LIMIT_EMAIL_CHANGES_PER_ACCOUNT",
                                                     settings["RATE_LIMIT_EMAIL_CHANGES_PER_ACCOUNT"],
                                                     "changes of this account's address"),
            "mails_per_address": Limit.parse("RATE_LIMIT_MAILS_PER_ADDRESS", settings["RATE_LIMIT_MAILS_PER_ADDRESS"],
                                             "mails to this address"),
            # A service asks every few minutes per process; more is someone trying secrets (or a loop).
            "service_tokens": Limit.parse("RATE_LIMIT_SERVICE_TOKENS", settings["RATE_LIMIT_SERVICE_TOKENS"],
                                          "service tokens"),
        }),
        circulation=Circulation(client_from_settings(settings, "borrow-service", "BORROW_SERVICE_URL")),
        links=LinkTokens(settings["LINK_SECRET_KEY"], timedelta(hours=settings["EMAIL_VERIFICATION_HOURS"]),
                         timedelta(minutes=settings["PASSWORD_RESET_MINUTES"])),
        self_registration=checked_mode(settings["SELF_REGISTRATION"]),
        card_validity_days=_positive("CARD_VALIDITY_DAYS", settings["CARD_VALIDITY_DAYS"]),
    )


def _positive(name, days):
    """A number of days that must be at least one: a card valid for none would be expired when issued."""
    if days < 1:
        raise RuntimeError(f"{name} must be at least 1, not {days}")
    return days


def _bootstrap_librarian(app, username, password):
    if not password:
        raise RuntimeError("BOOTSTRAP_LIBRARIAN must look like username:password")
    try:
        USERNAME(username)
    except ma.ValidationError as exc:
        raise RuntimeError(f"BOOTSTRAP_LIBRARIAN's username: {exc.messages[0]}") from exc
    with app.app_context():
        try:
            ensure_librarian(app_deps.AppDeps.current(), username, password, log, now())
        except ProgrammingError:  # e.g. `flask db upgrade` itself, before the tables exist
            db.session.rollback()
            log.warning("Skipped BOOTSTRAP_LIBRARIAN: the database is not migrated yet")
