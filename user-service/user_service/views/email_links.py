"""Links mailed to accounts' addresses: verify the address, choose a password (forgotten, or the first one of a
patron registered at the desk). user-service records each link in its event log; notification-service mails it."""

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.clock import now

from .. import recovery
from ..deps import deps
from ..schemas import (EmailVerificationSchema, MessageSchema, PasswordLinkSchema, PasswordResetRequestSchema,
                       PasswordResetSchema, UserSchema)

blp = Blueprint("email_links", __name__, description="E-mail verification and password resets, by mailed link")


@blp.route("/email-verifications", methods=["POST"])
@blp.arguments(EmailVerificationSchema)
@blp.response(200, UserSchema)
def verify_email(body):
    """Verify an e-mail address with the token of its link (400 when expired, or for an address the account
    no longer has); using it again changes nothing"""
    return recovery.verify_email(deps().links, body["token"], now(), deps().self_registration)


@blp.route("/users/<username:username>/email-verifications", methods=["POST"])
@blp.login_required
@blp.response(202, MessageSchema)
@blp.errors(404, 409)
@blp.rate_limited("verification_mail")
def resend_verification(username):
    """Mail the link that verifies your address again (your own account; RATE_LIMIT_VERIFICATION_MAIL per
    client address); 409 without an address or when it is verified already"""
    return recovery.resend_verification(deps(), current_principal(), username, now())


@blp.route("/password-resets", methods=["POST"])
@blp.arguments(PasswordResetRequestSchema)
@blp.response(202, MessageSchema)
@blp.rate_limited("password_reset")
def request_password_reset(body):
    """Forgot password: the same answer whether or not an account matches the username or address; a link is
    mailed when a live, active account with a verified address does (RATE_LIMIT_PASSWORD_RESET per client
    address, RATE_LIMIT_PASSWORD_LINKS_PER_ACCOUNT links per account)"""
    return recovery.request_password_reset(deps(), body["username_or_email"], now())


@blp.route("/password-resets/check", methods=["POST"])
@blp.arguments(PasswordLinkSchema)
@blp.response(200, MessageSchema)
@blp.errors(403)
@blp.rate_limited("password_link_check")
def check_password_link(body):
    """Whether the token of a mailed password link would still set a password, without using it: 200, or 400
    for a link expired, used or for another address (403 if the account is deactivated); nothing about the
    account in either answer. RATE_LIMIT_PASSWORD_LINK_CHECK per client address"""
    return recovery.check_password_link(deps(), body["token"], now())


@blp.route("/password-resets/confirm", methods=["POST"])
@blp.arguments(PasswordResetSchema)
@blp.response(200, UserSchema)
@blp.errors(403)
def reset_password(body):
    """Choose a new password with the token of a mailed link: once, within its lifetime; every earlier
    session of the account ends (400 for a link expired, used or for another address; 403 if deactivated)"""
    return recovery.reset_password(deps(), body["token"], body["password"], now())


@blp.route("/users/<username:username>/password-reset", methods=["POST"])
@blp.librarian_required
@blp.response(202, MessageSchema)
@blp.errors(404, 409)
def send_password_reset(username):
    """Mail a patron a link to choose a new password (librarians; nobody is ever shown a password); 409 when
    the account is deactivated or has no verified address"""
    return recovery.send_password_reset(username)
