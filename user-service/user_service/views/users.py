"""User records: the seed's `GET /users` (now librarians only), one user, `/me`, and changes."""

from flask import request

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.clock import now
from library_common.pagination import offset

from .. import accounts, approval
from ..schemas import DeskRegistrationSchema, UserListArgs, UserSchema, UserUpdateSchema
from ..deps import deps

blp = Blueprint("users", __name__, description="User accounts")


@blp.route("/users")
@blp.librarian_required
@blp.paginated(UserListArgs, UserSchema)
def list_users(args):
    """List users (librarians), optionally those whose username or name starts with `q`"""
    return accounts.list_users(offset(args), args["per_page"], args.get("q"), args.get("provisional"))


@blp.route("/users", methods=["POST"])
@blp.librarian_required
@blp.arguments(DeskRegistrationSchema)
@blp.response(201, UserSchema)
@blp.errors(409)
def register_at_desk(data):
    """Register a patron at the desk (librarians): no password; with an e-mail address, a link to choose one is
    mailed to it (account.password_reset_requested, purpose "welcome"), which also verifies the address"""
    return accounts.register_at_desk(deps(), now=now(), **data)


@blp.route("/me")
@blp.login_required
@blp.response(200, UserSchema)
@blp.errors(404)
def me():
    """The logged-in user"""
    return accounts.get_user(current_principal().username)


@blp.route("/users/<username:username>")
@blp.login_required
@blp.response(200, UserSchema)
@blp.errors(404)
def get_user(username):
    """One user (that user or a librarian)"""
    return accounts.account_for(current_principal(), username)


def _changes_password(changes, **_):
    return "password" in changes


@blp.route("/users/<username:username>", methods=["PATCH"])
@blp.login_required
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
@blp.errors(404, 409)
@blp.rate_limited("password_change", when=_changes_password)
def update_user(changes, username):
    """Change names, e-mail address or password (yourself; the password and address with current_password),
    names, e-mail address, role or active flag (librarians). A password change or a deactivation ends the
    account's sessions: its tokens stop working, this one included. A new address gets a verification link"""
    return accounts.update_user(deps(), current_principal(), username, changes,
                                client=request.remote_addr or "unknown", now=now())


@blp.route("/users/<username:username>/approval", methods=["POST"])
@blp.librarian_required
@blp.response(200, UserSchema)
@blp.errors(404)
def approve(username):
    """Approve an account registered online (librarians): it may borrow from now on; approving it again changes
    nothing"""
    return approval.approve(username)


@blp.route("/users/<username:username>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(404, 409, 503)
def delete_user(username):
    """Delete a deactivated account without books on loan (librarians); its name stays taken"""
    accounts.delete_user(current_principal(), username, deps().circulation, now())
