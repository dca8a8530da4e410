"""Logging in: throttled, checked, and answered with a signed token."""

from library_common.errors import Unauthorized

from . import accounts, throttle


def log_in(services, username, password, client, now):
    """(user, token) for valid credentials; 401, 403 or 429 otherwise. `client` is the caller's address."""
    throttle.ensure_not_throttled(services.throttle_policy, username, client, now)
    try:
        user = accounts.authenticate(services.hasher, username, password)
    except Unauthorized:
        throttle.record_failure(services.throttle_policy, username, client, now)
        raise
    throttle.forget_failures(user.username)
    return user, services.token_issuer.issue(user, now)
