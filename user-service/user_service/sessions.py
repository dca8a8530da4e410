"""Logging in: throttled, checked, and answered with a signed token."""

from library_common.errors import Unauthorized

from . import accounts, throttle


def log_in(deps, username, password, client, now):
    """(user, token) for valid credentials; 401, 403 or 429 otherwise. `client` is the caller's address."""
    throttle.ensure_not_throttled(deps.throttle_policy, username, client, now)
    try:
        user = accounts.authenticate(deps.hasher, username, password)
    except Unauthorized:
        throttle.record_failure(deps.throttle_policy, username, client, now)
        raise
    throttle.forget_failures(user.username)
    return user, deps.token_issuer.issue(user, now)
