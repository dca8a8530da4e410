"""Registration, login and logout: the seed's `POST /register` and `POST /login`, `POST /logout` (this session) and
`POST /logout/everywhere`."""

from flask import request

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.clock import now

from .. import approval, sessions
from ..deps import deps
from ..schemas import LoginResultSchema, LoginSchema, RegisteredSchema, RegistrationSchema

blp = Blueprint("accounts", __name__, description="Sign up, log in and out")


@blp.route("/register", methods=["POST"])
@blp.arguments(RegistrationSchema)
@blp.response(201, RegisteredSchema)
@blp.errors(409)
@blp.rate_limited("register")
def register(data):
    """Create a patron account (each client address may sign up RATE_LIMIT_REGISTER times); with an e-mail
    address, a link to verify it is mailed to it. Provisional (may not borrow) until a librarian approves it or,
    under SELF_REGISTRATION=verified, the address is confirmed; approved at once under `open`"""
    user = approval.sign_up(deps(), now=now(), **data)
    return {"message": "User registered successfully", "data": user}


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
@blp.errors(401, 403, 429)
def login(credentials):
    """Exchange a username and password for a token"""
    user, token = sessions.log_in(
        deps(), credentials["username"], credentials["password"], request.remote_addr or "unknown", now()
    )
    return {"message": "Login successful", "token": token, "user": user}


@blp.route("/logout", methods=["POST"])
@blp.login_required
@blp.response(204)
def logout():
    """End this session (the token sent): it stops working here at once, everywhere within ACCOUNT_CHECK_SECONDS;
    the account's other sessions go on"""
    sessions.log_out(deps(), current_principal(), now())


@blp.route("/logout/everywhere", methods=["POST"])
@blp.login_required
@blp.response(204)
def logout_everywhere():
    """End every session of your account, on every device, this one included (they are told why): their tokens
    stop working here at once, everywhere within ACCOUNT_CHECK_SECONDS"""
    sessions.log_out_everywhere(current_principal(), now())
