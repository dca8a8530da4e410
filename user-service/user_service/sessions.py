"""Logging in and out: throttled, checked, and answered with a signed token; ended everywhere at once."""

from library_common.transactions import transaction

from . import accounts, throttle


def log_in(deps, username, password, client, now):
    """(user, token) for valid credentials; 401, 403 or 429 otherwise. `client` is the caller's address."""
    throttle.count_attempt(deps.throttle_policy, username, client, now)
    user = accounts.authenticate(deps.hasher, username, password)  # when it raises, the attempt stays counted
    throttle.forget_attempt(deps.throttle_policy, username, client)
    return user, deps.token_issuer.issue(user, now)


def log_out(principal, now):
    """End every session of the caller's account, on every device, this one included: the API keeps no
    per-session state, so a logout cannot tell one device's token from another's."""
    with transaction():
        accounts.end_sessions(accounts.get_user(principal.username), now)
