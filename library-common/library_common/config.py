"""Configuration from environment variables, with safe development defaults.

A service declares its settings once as a dict of defaults; each one can be
overridden by an environment variable of the same name, cast to the default's type.
"""

import os

from sqlalchemy.engine import URL

# Marks a secret whose development default must never reach production.
DEV_SECRET = "dev-only-insecure-secret"

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
    "HTTP_CONNECT_TIMEOUT": 1.0,
    "HTTP_READ_TIMEOUT": 3.0,
    "HTTP_RETRIES": 2,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # How many proxies in front of this app append X-Forwarded-For/-Proto (0: none, trust nothing).
    "TRUSTED_PROXIES": 0,
    "DB_POOL_SIZE": 5,
    "DB_POOL_TIMEOUT": 5,
    "DB_STATEMENT_TIMEOUT_MS": 5000,
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


def refuse_insecure_production(settings, secret_names):
    """Stop start-up in production when a secret is missing or still the development default."""
    if settings["APP_ENV"] != "production":
        return
    weak = [name for name in secret_names if not settings.get(name) or settings[name] == DEV_SECRET]
    if weak:
        raise RuntimeError(
            "Refusing to start in production with missing or default secrets: " + ", ".join(weak)
        )
