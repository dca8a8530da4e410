"""Registration and login: the seed's `POST /register` and `POST /login`."""

from flask import current_app, request

from library_common.api import Blueprint
from library_common.errors import Unauthorized

from .. import accounts, throttle
from ..keys import issue_token
from ..schemas import LoginResultSchema, LoginSchema, RegisteredSchema, RegistrationSchema
from ._deps import now, services

blp = Blueprint("accounts", __name__, description="Sign up and log in")


@blp.route("/register", methods=["POST"])
@blp.arguments(RegistrationSchema)
@blp.response(201, RegisteredSchema)
@blp.errors(400, 409)
def register(data):
    """Create a patron account"""
    user = accounts.register(services().hasher, **data)
    return {"message": "User registered successfully", "data": user}


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
@blp.errors(400, 401, 403, 429)
def login(credentials):
    """Exchange a username and password for a token"""
    deps, moment = services(), now()
    client = request.remote_addr or "unknown"
    throttle.ensure_not_throttled(deps.throttle_policy, credentials["username"], client, moment)
    try:
        user = accounts.authenticate(deps.hasher, credentials["username"], credentials["password"])
    except Unauthorized:
        throttle.record_failure(deps.throttle_policy, credentials["username"], client, moment)
        raise
    throttle.forget_failures(user.username)
    token = issue_token(
        deps.key_store,
        user,
        issuer=current_app.config["JWT_ISSUER"],
        audience=current_app.config["JWT_AUDIENCE"],
        ttl_seconds=current_app.config["JWT_TTL_SECONDS"],
        now=moment,
    )
    return {"message": "Login successful", "token": token, "user": user}
