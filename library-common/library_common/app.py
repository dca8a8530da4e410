"""The one place a service's Flask app is assembled, so all services behave alike."""

from flask import Flask
from flask_migrate import Migrate

from . import health
from .api import Api, IdConverter, UsernameConverter, register_error_handlers, require_json_bodies
from .auth import JwksKeyResolver, RemoteAccountCheck, TokenVerifier
from .config import refuse_insecure_production, sqlalchemy_url
from .http import client_from_settings
from .observability import configure_logging, init_request_ids, trust_proxies

SWAGGER_UI_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14/"


def create_service_app(
    import_name,
    *,
    service_name,
    title,
    settings,
    db,
    migrations_dir,
    blueprints,
    key_resolver=None,
    account_check=None,
    secret_names=(),
):
    """Build a service's app: settings, logging, database, migrations, OpenAPI, errors and auth.

    `key_resolver` finds the public key for a token, `account_check` confirms its account is still
    active; by default both ask user-service (JWKS, `/me`).
    """
    refuse_insecure_production(settings, secret_names)
    if not settings["DATABASE_URL"]:
        raise RuntimeError(f"{service_name}: set DATABASE_URL (make run does this for you)")

    app = Flask(import_name)
    app.config.update(settings)
    app.config.update(
        SERVICE_NAME=service_name,
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
        API_TITLE=title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=SWAGGER_UI_CDN,
    )
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["username"] = UsernameConverter
    if not settings.get("TESTING"):  # under pytest, its own capture handles logs
        configure_logging(service_name, settings["LOG_LEVEL"])
    trust_proxies(app, settings["TRUSTED_PROXIES"])
    init_request_ids(app)

    db.init_app(app)
    Migrate(app, db, directory=str(migrations_dir))
    app.extensions["migration_heads"] = health.migration_heads(migrations_dir)

    api = Api(app)
    api.register_converter(IdConverter, lambda converter: {"type": "integer", "minimum": 1, "maximum": converter.max})
    api.register_converter(UsernameConverter, lambda converter: {"type": "string", "pattern": converter.regex})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.register_blueprint(health.blp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    register_error_handlers(app, api)
    require_json_bodies(app)

    app.extensions["token_verifier"] = TokenVerifier(
        key_resolver or jwks_key_resolver(settings),
        settings["JWT_ISSUER"],
        settings["JWT_AUDIENCE"],
        account_check or remote_account_check(settings),
    )
    return app


def jwks_key_resolver(settings):
    return JwksKeyResolver(settings["JWKS_URL"], settings["JWKS_CACHE_SECONDS"], timeout=settings["HTTP_READ_TIMEOUT"])


def remote_account_check(settings):
    client = client_from_settings(settings, "user-service", "USER_SERVICE_URL")
    return RemoteAccountCheck(client, settings["ACCOUNT_CHECK_SECONDS"])
