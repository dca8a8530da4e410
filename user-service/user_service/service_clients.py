"""The library's services that act as themselves rather than for a person (notification-service reading the
event feeds, books-service's worker asking borrow-service about books), by name, with their secrets (one
setting each, e.g. NOTIFICATION_SERVICE_SECRET: a secret store injects it into both services as it is); each
exchanges its secret for a short token (POST /service-tokens)."""

import hmac
from datetime import datetime

from library_common.errors import Unauthorized

from .keys import SERVICE_TOKEN_SECONDS, issue_service_token


def clients_from_settings(settings):
    """{service name: secret} for the services given a secret (none: no service gets a token)."""
    known = {"notification-service": settings["NOTIFICATION_SERVICE_SECRET"],
             "books-service": settings["BOOKS_SERVICE_SECRET"]}
    return {name: secret for name, secret in known.items() if secret}


def service_token(clients, issuer, service, secret, now: datetime):
    """A token for a known service that gave its own secret; the same refusal for any other."""
    known = clients.get(service)
    if known is None or not hmac.compare_digest(known.encode(), secret.encode()):
        raise Unauthorized("Unknown service or wrong secret")
    return {"token": issue_service_token(issuer, service, now), "expires_in": SERVICE_TOKEN_SECONDS}
