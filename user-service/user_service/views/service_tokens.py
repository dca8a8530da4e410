"""The library's other services exchange their secret for a short token (to read the event feeds)."""

import marshmallow as ma
from marshmallow import fields, validate

from library_common.api import Blueprint
from library_common.clock import now
from library_common.schema import StorableString, Strict

from .. import service_clients
from ..deps import deps

blp = Blueprint("service_tokens", __name__, description="Tokens for the library's other services")


class ServiceTokenRequest(Strict):
    service = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z-]{1,40}\Z"))
    secret = StorableString(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class ServiceTokenSchema(ma.Schema):
    token = fields.String(metadata={"description": "An RS256 JWT with role 'service'"})
    expires_in = fields.Integer(metadata={"description": "Seconds"})


@blp.route("/service-tokens", methods=["POST"])
@blp.arguments(ServiceTokenRequest)
@blp.response(200, ServiceTokenSchema)
@blp.errors(401)
@blp.rate_limited("service_tokens")
def service_token(request_body):
    """A token for one of the library's services (its name and its secret, e.g. NOTIFICATION_SERVICE_SECRET),
    with the scopes that service needs (RATE_LIMIT_SERVICE_TOKENS per client address)"""
    return service_clients.service_token(deps().service_clients, deps().token_issuer, request_body["service"],
                                         request_body["secret"], now())
