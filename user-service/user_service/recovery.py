"""E-mail verification and passwords set by mailed link: the rules behind the links (links.py) that
notification-service mails after reading the events recorded here, in the same transaction as the change."""

import hmac

from sqlalchemy.exc import IntegrityError

from library_common.errors import BadRequest, Conflict, Forbidden
from library_common import events
from library_common.transactions import transaction

from .accounts import (DEACTIVATED, EMAIL_TAKEN, end_sessions, find_by_username_or_email, find_user, get_user,
                       may_receive_password_link, one_more_mail_to, record_password_changed, record_password_link,
                       record_verification_link, refuse_username_as_password, verified_owner)
from .approval import approve_by_email
from .trail import record_account
from .links import EXPIRED_OR_USED

FOR_ANOTHER_ADDRESS = "This link is for another e-mail address; use the link we sent to your current address"
RESET_ANSWER = "If an account matches, we have sent a link to its e-mail address"


def verify_email(links, token, now, self_registration):
    """The account whose current address the link was sent to, now verified (and, as `self_registration`
    says, approved if it was provisional). Using the link again is harmless (nothing changes); a link sent to
    an address the account no longer has verifies nothing."""
    claim = links.read_email_verification(token, now)
    try:
        with transaction():
            user = find_user(claim.username, lock=True)
            if user is None:
                raise BadRequest(EXPIRED_OR_USED)
            if (user.pending_email or "").lower() == claim.email:
                if not _confirm_pending(user, now):
                    raise Conflict(EMAIL_TAKEN)
            elif (user.email or "").lower() != claim.email:
                raise BadRequest(FOR_ANOTHER_ADDRESS)
            elif not _mark_verified(user, now):
                raise Conflict(EMAIL_TAKEN)
            approve_by_email(self_registration, user)
            return user
    except IntegrityError as exc:  # another account verified it at this very moment (the unique index)
        raise Conflict(EMAIL_TAKEN) from exc


def _mark_verified(user, now):
    """Whether the account's address is now verified: an address another account verified first stays
    that account's, and this one's stays unverified."""
    if user.email_verified_at is None:
        if verified_owner(user.email, but_not=user) is not None:
            return False
        user.email_verified_at = now
        events.record("account.email_verified", user.username)
    return True


def _confirm_pending(user, now):
    """The pending address replaces the verified one, verified (False, nothing changed, when another account
    verified it first); the address verified until now hears of the change, as it would have at once before."""
    if verified_owner(user.pending_email, but_not=user) is not None:
        return False
    previous = user.email
    user.email, user.email_verified_at, user.pending_email = user.pending_email, now, None
    events.record("account.email_changed", user.username, previous_email=previous)
    events.record("account.email_verified", user.username)
    return True


def resend_verification(deps, actor, username, now):
    """Mail the verification link again, to the account holder's own unverified address (within the
    address's RATE_LIMIT_MAILS_PER_ADDRESS, silently beyond it)."""
    if actor.username.lower() != username.lower():  # before looking: whether an account exists is not theirs
        raise Forbidden("You may only ask for a link to your own address")
    user = get_user(username)
    if user.email is None:
        raise Conflict("Your account has no e-mail address: add one first")
    address = user.address_to_confirm
    if address is None:
        raise Conflict("Your e-mail address is already verified")
    if one_more_mail_to(deps, address, now):
        with transaction():
            record_verification_link(user)
    return {"message": f"We have sent a new link to {address}"}


def request_password_reset(deps, username_or_email, now):
    """"Forgot password": a link to the account's address when a live, active account matches by username
    or address and may receive one (may_receive_password_link). The answer is the same either way, so it
    tells nobody whether an account exists or has an address. Each account gets at most
    RATE_LIMIT_PASSWORD_LINKS_PER_ACCOUNT links, whoever asks from wherever: nobody can flood a reader's
    mailbox with them."""
    user = find_by_username_or_email(username_or_email)
    if user is not None and user.active and may_receive_password_link(user) and _one_more_link(deps, user, now):
        with transaction():
            record_password_link(user)
    return {"message": RESET_ANSWER}


def _one_more_link(deps, user, now):
    return deps.rate_limiter.within("password_links_per_account", f"account {user.username.lower()}", now)


def send_password_reset(username):
    """A librarian has a link mailed to a patron (who then chooses the password; nobody else ever sees it)."""
    user = get_user(username)
    if not user.active:
        raise Conflict(f"{user.username}'s account is deactivated: reactivate it first")
    if user.email is None:
        raise Conflict(f"{user.username} has no e-mail address: add one, and we will send the link to it")
    if not may_receive_password_link(user):
        raise Conflict(f"{user.username}'s e-mail address is not verified yet: ask them to open the link we sent "
                       "to it, or correct the address")
    with transaction():
        record_password_link(user)
        record_account("account.password_reset_sent", user)
    return {"message": f"We have e-mailed {user.username} a link to choose a new password"}


def check_password_link(deps, token, now):
    """Whether a password link would still set a password: the page it opens asks before showing its form, so
    a reader whose link was used or expired is told so rather than typing a password twice to hear it. The
    same checks as reset_password, and the same refusals (400, or 403 deactivated), in the same words; the
    answer names nothing of the account (the token is only signed, and whoever holds it can read it anyway,
    but a check is no reason to say more)."""
    claim = deps.links.read_password(token, now)
    user = find_user(claim.username)
    if user is None or (user.email or "").lower() != claim.email or not hmac.compare_digest(
            deps.links.fingerprint(user.password_hash), claim.password_fingerprint):
        raise BadRequest(EXPIRED_OR_USED)
    if not user.active:
        raise Forbidden(DEACTIVATED)
    return {"message": "This link can still set a password"}


def reset_password(deps, token, password, now):
    """Set the password a link was sent for: once (the password hash it was issued against changes), while
    the account still has the address it went to; every earlier session ends. The link proves the mail
    arrived, so an unverified address (a welcome link's) is verified by it."""
    claim = deps.links.read_password(token, now)
    refuse_username_as_password(password, claim.username)
    password_hash = deps.hasher.hash(password)  # slow by design: before the row is locked
    with transaction():
        user = find_user(claim.username, lock=True)
        if user is None or (user.email or "").lower() != claim.email or not hmac.compare_digest(
                deps.links.fingerprint(user.password_hash), claim.password_fingerprint):
            raise BadRequest(EXPIRED_OR_USED)
        if not user.active:
            raise Forbidden(DEACTIVATED)
        user.password_hash = password_hash
        end_sessions(user, now, because="password_changed")
        _mark_verified(user, now)
        record_password_changed(user, via="reset_link")
        return user
