"""The one place a service's Flask app is assembled, so all services behave alike."""

import sys
from pathlib import Path

from flask import Flask, request
from flask_migrate import Migrate

from . import health, metrics, swagger_ui, tracing
from .api import Api, IdConverter, UsernameConverter, register_error_handlers, require_json_bodies
from .auth import JwksKeyResolver, RemoteAccountCheck, TokenVerifier
from .config import refuse_insecure_production, sqlalchemy_url
from .http import client_from_settings
from .observability import configure_logging, init_request_ids, trust_proxies


HSTS = "max-age=31536000"  # a year: browsers that once reached us over HTTPS never try plain HTTP


def create_base_app(import_name, *, service_name, settings, secret_names=(), other_secrets=None):
    """What every app is built from, the web frontend included: settings, the production secret guard,
    logging, the proxies in front, request ids, traces (when OTEL_EXPORTER_OTLP_ENDPOINT is set), HSTS over HTTPS."""
    refuse_insecure_production(settings, secret_names, other_secrets)
    app = Flask(import_name)
    app.config.update(settings)
    app.config["SERVICE_NAME"] = service_name
    if settings["METRICS_ENABLED"]:
        metrics.instrument_requests(app)  # first: a request another hook answers is counted too
    if not settings.get("TESTING"):  # under pytest, its own capture handles logs
        configure_logging(service_name, settings["LOG_LEVEL"])
    trust_proxies(app, settings["TRUSTED_PROXIES"])
    init_request_ids(app)
    tracing.instrument_app(app)  # after the request ids: its server spans carry them

    @app.after_request
    def strict_transport_security(response):
        if request.is_secure:  # directly, or as a trusted proxy in front says (X-Forwarded-Proto)
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return app


def create_service_app(package, settings, db, blueprints, *, secret_names=(), other_secrets=None):
    """A service's app: the base app plus its database, its migrations (the package's `migrations/`),
    OpenAPI blueprints and JSON errors. `books_service` is served as books-service.

    The caller attaches its deps (library_common.deps), the token verifier among them.
    """
    service_name = package.replace("_", "-")
    migrations_dir = Path(sys.modules[package].__file__).parent / "migrations"
    if not settings["DATABASE_URL"]:
        raise RuntimeError(f"{service_name}: set DATABASE_URL (make run does this for you)")
    app = create_base_app(package, service_name=service_name, settings=settings, secret_names=secret_names,
                          other_secrets=other_secrets)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=sqlalchemy_url(settings["DATABASE_URL"]),
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_pre_ping": True,
            "pool_size": settings["DB_POOL_SIZE"],
            "pool_timeout": settings["DB_POOL_TIMEOUT"],
            "connect_args": {
                "connect_timeout": 3,
                "options": f"-c statement_timeout={settings['DB_STATEMENT_TIMEOUT_MS']}",
            },
        },
        API_TITLE=f"Library {service_name}",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["username"] = UsernameConverter

    db.init_app(app)
    if settings["METRICS_ENABLED"]:
        with app.app_context():
            metrics.watch_pool(db.engine)
    Migrate(app, db, directory=str(migrations_dir))
    app.extensions["migration_heads"] = health.migration_heads(migrations_dir)

    api = Api(app)
    api.register_converter(IdConverter, lambda converter: {"type": "integer", "minimum": 1, "maximum": converter.max})
    api.register_converter(UsernameConverter, lambda converter: {"type": "string", "pattern": converter.regex})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.register_blueprint(health.blp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.register_blueprint(swagger_ui.blp)  # /docs, from the service's own pinned files
    register_error_handlers(app, api)
    require_json_bodies(app)
    return app


def token_verifier(settings, *, key_resolver=None, account_check=None):
    """Verifies the library's tokens: by default the keys come from user-service's JWKS and each
    token's account is confirmed with its `/me` (user-service itself passes its own)."""
    return TokenVerifier(
        key_resolver or JwksKeyResolver(settings["JWKS_URL"], settings["JWKS_CACHE_SECONDS"],
                                        timeout=settings["HTTP_READ_TIMEOUT"]),
        settings["JWT_ISSUER"],
        settings["JWT_AUDIENCE"],
        account_check or RemoteAccountCheck(client_from_settings(settings, "user-service", "USER_SERVICE_URL"),
                                            settings["ACCOUNT_CHECK_SECONDS"]),
    )
