"""The library's services that act as themselves rather than for a person (notification-service reading the
event feeds, books-service's worker asking borrow-service about books), by name, with their secrets (one
setting each, e.g. NOTIFICATION_SERVICE_SECRET: a secret store injects it into both services as it is); each
exchanges its secret for a short token (POST /service-tokens)."""

import hmac
from dataclasses import dataclass
from datetime import datetime

from library_common.auth import MAIL_LINKS, READ_CIRCULATION, READ_EVENTS
from library_common.errors import Unauthorized

from .keys import SERVICE_TOKEN_SECONDS, issue_service_token

# What each service may ask, and nothing more: a compromise of books-service (which parses uploaded files)
# must not read the accounts' feed or mint a password link.
SCOPES = {
    "notification-service": (READ_EVENTS, MAIL_LINKS),
    "books-service": (READ_CIRCULATION,),
}


@dataclass(frozen=True)
class ServiceClient:
    secret: str
    scopes: tuple


def clients_from_settings(settings):
    """{service name: ServiceClient} for the services given a secret (none: no service gets a token)."""
    secrets = {"notification-service": settings["NOTIFICATION_SERVICE_SECRET"],
               "books-service": settings["BOOKS_SERVICE_SECRET"]}
    return {name: ServiceClient(secret, SCOPES[name]) for name, secret in secrets.items() if secret}


def service_token(clients, issuer, service, secret, now: datetime):
    """A token for a known service that gave its own secret, with that service's scopes; the same refusal for
    any other."""
    known = clients.get(service)
    if known is None or not hmac.compare_digest(known.secret.encode(), secret.encode()):
        raise Unauthorized("Unknown service or wrong secret")
    return {"token": issue_service_token(issuer, service, known.scopes, now), "expires_in": SERVICE_TOKEN_SECONDS}
