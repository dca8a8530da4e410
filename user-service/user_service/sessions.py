"""Logging in and out: throttled, checked, and answered with a signed token; ended on one device, or on all."""

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from library_common.transactions import transaction

from . import accounts, throttle
from .keys import token_lifetime_with_leeway
from .models import EndedSession


def log_in(deps, username, password, client, now):
    """(user, token) for valid credentials; 401, 403 or 429 otherwise. `client` is the caller's address."""
    throttle.count_attempt(deps.throttle_policy, username, client, now)
    user = accounts.authenticate(deps.hasher, username, password)  # when it raises, the attempt stays counted
    throttle.forget_attempt(deps.throttle_policy, username, client)
    return user, deps.token_issuer.issue(user, now)


def log_out(deps, principal, now):
    """End the caller's session on this device only: its token (named by its `jti`) is refused from now on, and
    kept in ended_sessions until it would have expired anyway (a token's lifetime after now at the latest, it
    having been issued before); rows whose tokens have expired since go at the same time."""
    expires_at = now + token_lifetime_with_leeway(deps.token_issuer.ttl_seconds)
    with transaction() as session:
        session.execute(delete(EndedSession).where(EndedSession.expires_at < now))
        session.execute(insert(EndedSession).values(session_id=principal.session_id, expires_at=expires_at)
                        .on_conflict_do_nothing())


def log_out_everywhere(principal, now):
    """End every session of the caller's account, on every device, this one included; the others are told it was
    Log out everywhere."""
    with transaction():
        accounts.end_sessions(accounts.get_user(principal.username), now, because="logged_out_everywhere")
