"""The library's other services, by name, and their secrets (SERVICE_CLIENTS="notification-service=<secret>,...");
each exchanges its secret for a short token (POST /service-tokens) to read the event feeds."""

import hmac
from datetime import datetime

from library_common.errors import Unauthorized

from .keys import SERVICE_TOKEN_SECONDS, issue_service_token


def parse_clients(setting):
    """'name=secret,name=secret' -> {name: secret}; RuntimeError at start-up for anything else."""
    clients = {}
    for entry in filter(None, (part.strip() for part in setting.split(","))):
        name, _, secret = entry.partition("=")
        if not name or not secret:
            raise RuntimeError("SERVICE_CLIENTS must look like name=secret,name=secret")
        clients[name] = secret
    return clients


def service_token(clients, issuer, service, secret, now: datetime):
    """A token for a known service that gave its own secret; the same refusal for any other."""
    known = clients.get(service)
    if known is None or not hmac.compare_digest(known.encode(), secret.encode()):
        raise Unauthorized("Unknown service or wrong secret")
    return {"token": issue_service_token(issuer, service, now), "expires_in": SERVICE_TOKEN_SECONDS}
