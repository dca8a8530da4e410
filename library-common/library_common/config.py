"""Configuration from environment variables, with safe development defaults.

A service declares its settings once as a dict of defaults; each one can be
overridden by an environment variable of the same name, cast to the default's type.
"""

import ipaddress
import os

from sqlalchemy.engine import URL, make_url

# Marks a secret whose development default must never reach production.
DEV_SECRET = "dev-only-insecure-secret"
# The development librarian's password (`make run`): published here, so never a production secret.
DEV_LIBRARIAN_PASSWORD = "librarian-pass"
# Values published in this repository; .env.example's are all CHANGE-ME placeholders, refused as such.
PUBLISHED_SECRETS = frozenset({DEV_SECRET, DEV_LIBRARIAN_PASSWORD})
PLACEHOLDER_MARK = "change-me"
MIN_KEY_BYTES = 32
# The development mail catcher (library_common.mailcatcher): compose's service of this name, and make run's on
# loopback; its SMTP port either way. It keeps every mail, password links and all, where others may read it.
MAIL_CATCHER_HOST = "mailcatcher"
MAIL_CATCHER_SMTP_PORT = 1025

COMMON_DEFAULTS = {
    "APP_ENV": "development",
    "LOG_LEVEL": "INFO",
    "DATABASE_URL": "",
    # Or the URL's parts, as container platforms inject them (the password from a secret store):
    "DB_HOST": "",
    "DB_PORT": 5432,
    "DB_NAME": "",
    "DB_USER": "",
    "DB_PASSWORD": "",
    "JWT_ISSUER": "library-user-service",
    "JWT_AUDIENCE": "library",
    "JWKS_URL": "http://127.0.0.1:5001/.well-known/jwks.json",
    "JWKS_CACHE_SECONDS": 300,
    "USER_SERVICE_URL": "http://127.0.0.1:5001",
    # How long an "account is active" answer from user-service is trusted (deactivation delay).
    "ACCOUNT_CHECK_SECONDS": 30,
    # A producer's events that every reader has passed are deleted once they are this old (library_common.events).
    "EVENT_RETENTION_DAYS": 7.0,
    # A service's audit trail (library_common.audit) keeps its entries this long; at least its floor, 30.
    "AUDIT_RETENTION_DAYS": 730.0,
    "HTTP_CONNECT_TIMEOUT": 1.0,
    "HTTP_READ_TIMEOUT": 3.0,
    "HTTP_RETRIES": 2,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Addresses or CIDR ranges of the proxies in front (the frontend, a load balancer), comma-separated:
    # only their X-Forwarded-For/-Proto are believed (empty: nobody's).
    "TRUSTED_PROXIES": "",
    "DB_POOL_SIZE": 5,
    "DB_POOL_TIMEOUT": 5,
    "DB_STATEMENT_TIMEOUT_MS": 5000,
    # Prometheus metrics (library_common.metrics), served apart from the app on this port (0: not served), bound
    # to this address: loopback unless a private network's scraper must reach it.
    "METRICS_ENABLED": True,
    "METRICS_PORT": 0,
    "METRICS_HOST": "127.0.0.1",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _cast(name, raw, default):
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"{name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def load_settings(defaults, overrides=None, environ=None):
    """Return COMMON_DEFAULTS and `defaults`, overridden by the environment, then by `overrides`."""
    environ = os.environ if environ is None else environ
    settings = {}
    for name, default in {**COMMON_DEFAULTS, **defaults}.items():
        raw = environ.get(name)
        try:
            settings[name] = default if raw is None else _cast(name, raw, default)
        except ValueError as exc:
            raise RuntimeError(f"Invalid value for {name}: {exc}") from exc
    settings.update(overrides or {})
    if not settings["DATABASE_URL"] and settings["DB_HOST"]:
        settings["DATABASE_URL"] = URL.create(
            "postgresql+psycopg2",
            username=settings["DB_USER"] or None,
            password=settings["DB_PASSWORD"] or None,
            host=settings["DB_HOST"],
            port=settings["DB_PORT"],
            database=settings["DB_NAME"] or None,
        ).render_as_string(hide_password=False)
    return settings


def sqlalchemy_url(url):
    """Accept the URL forms people paste (postgres://, postgresql://) and pin the psycopg2 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def is_published(value):
    """A value anyone can read in this repository: a CHANGE-ME placeholder or a development default."""
    return PLACEHOLDER_MARK in value.lower() or value in PUBLISHED_SECRETS


def secret_problems(keys, others=None):
    """What is wrong with these secrets for production, as sentences (none: fine).

    `keys` ({name: value}) must be set, unpublished and at least MIN_KEY_BYTES long; `others` (passwords,
    optional keys) only unpublished when set. No two of them may be equal.
    """
    problems = []
    for name, value in keys.items():
        if not value:
            problems.append(f"{name} is missing")
        elif is_published(value):
            problems.append(f"{name} is a published example or development value")
        elif len(value.encode()) < MIN_KEY_BYTES:
            problems.append(f"{name} is shorter than {MIN_KEY_BYTES} bytes")
    for name, value in (others or {}).items():
        if value and is_published(value):
            problems.append(f"{name} is a published example or development value")
    problems += shared_secret_problems({**keys, **(others or {})})
    return problems


def shared_secret_problems(secrets_by_name):
    """Sentences naming every two secrets that are equal (one leaked would give away the other)."""
    first_named = {}
    problems = []
    for name, value in secrets_by_name.items():
        if not value:
            continue
        if value in first_named:
            problems.append(f"{name} is the same as {first_named[value]}")
        else:
            first_named[value] = name
    return problems


def refuse_insecure_production(settings, secret_names, other_secrets=None):
    """Stop start-up in production when a secret is missing, published, too short or used twice.

    `secret_names`: the keys this process needs; `other_secrets` ({name: value}): passwords and optional
    keys it knows besides the database password, which is always checked.
    """
    if settings["APP_ENV"] != "production":
        return
    database_url_password = make_url(sqlalchemy_url(settings["DATABASE_URL"])).password \
        if settings["DATABASE_URL"] else None
    others = {"DB_PASSWORD": settings["DB_PASSWORD"], "the password in DATABASE_URL": database_url_password or "",
              **(other_secrets or {})}
    if others["the password in DATABASE_URL"] == others["DB_PASSWORD"]:  # one password, given two ways
        del others["the password in DATABASE_URL"]
    problems = secret_problems({name: settings.get(name) or "" for name in secret_names}, others)
    if problems:
        raise RuntimeError("Refusing to start in production: " + "; ".join(problems))


def is_the_mail_catcher(host, port):
    """Whether an SMTP server is the development mail catcher: compose's, or make run's on loopback (a relay
    on loopback at another port, beside the service, is a real one)."""
    if host == MAIL_CATCHER_HOST:
        return True
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return loopback and port == MAIL_CATCHER_SMTP_PORT


def refuse_the_mail_catcher_in_production(settings):
    """Stop start-up in production when mail would go to the development mail catcher (by SMTP)."""
    if settings["APP_ENV"] != "production" or settings["MAIL_TRANSPORT"] != "smtp":
        return
    if is_the_mail_catcher(settings["SMTP_HOST"], settings["SMTP_PORT"]):
        raise RuntimeError(f"Refusing to start in production: SMTP_HOST {settings['SMTP_HOST']} (port "
                           f"{settings['SMTP_PORT']}) is the development mail catcher; name your mail server")
