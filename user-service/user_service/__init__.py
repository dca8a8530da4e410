"""user-service: accounts, login, and the keys that sign the library's tokens (port 5001)."""

import logging
from datetime import timedelta
from sqlalchemy.exc import ProgrammingError

from library_common import deps as app_deps
from library_common.app import create_service_app, token_verifier
from library_common.config import DEV_SECRET, load_settings

from .accounts import PasswordHasher, check_account, ensure_librarian
from .cli import create_user
from .deps import Deps
from .keys import KeyStore, LocalKeyResolver, TokenIssuer
from .models import db
from .throttle import ThrottlePolicy
from . import views

DEFAULTS = {
    "SECRET_KEY": DEV_SECRET,
    "JWT_PRIVATE_KEY": "",
    "JWT_TTL_SECONDS": 3600,
    "PASSWORD_HASH_METHOD": "scrypt",
    "LOGIN_MAX_FAILURES_PER_USER": 5,
    "LOGIN_MAX_FAILURES_PER_CLIENT": 50,
    "LOGIN_THROTTLE_WINDOW_SECONDS": 900,
    "BOOTSTRAP_LIBRARIAN": "",
}

log = logging.getLogger(__name__)


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    key_store = KeyStore(settings["SECRET_KEY"], settings["JWT_PRIVATE_KEY"])
    app = create_service_app(__name__, settings, db, [views.accounts.blp, views.users.blp, views.keys.blp],
                             secret_names=["SECRET_KEY"])
    hasher = PasswordHasher(settings["PASSWORD_HASH_METHOD"])
    app_deps.attach(app, Deps(
        token_verifier=token_verifier(settings, key_resolver=LocalKeyResolver(key_store), account_check=check_account),
        hasher=hasher,
        key_store=key_store,
        token_issuer=TokenIssuer(
            key_store, settings["JWT_ISSUER"], settings["JWT_AUDIENCE"], settings["JWT_TTL_SECONDS"]
        ),
        throttle_policy=ThrottlePolicy(
            max_failures_per_user=settings["LOGIN_MAX_FAILURES_PER_USER"],
            max_failures_per_client=settings["LOGIN_MAX_FAILURES_PER_CLIENT"],
            window=timedelta(seconds=settings["LOGIN_THROTTLE_WINDOW_SECONDS"]),
        ),
    ))
    app.cli.add_command(create_user)
    if settings["BOOTSTRAP_LIBRARIAN"]:
        username, _, password = settings["BOOTSTRAP_LIBRARIAN"].partition(":")
        if not password:
            raise RuntimeError("BOOTSTRAP_LIBRARIAN must look like username:password")
        with app.app_context():
            try:
                ensure_librarian(hasher, username, password, log)
            except ProgrammingError:  # e.g. `flask db upgrade` itself, before the tables exist
                db.session.rollback()
                log.warning("Skipped BOOTSTRAP_LIBRARIAN: the database is not migrated yet")
    return app
