"""Password guessing is throttled per (username, client) and per client, with growing delays.

Every attempt to prove a password (logging in, changing the password) is counted *before* the
password is checked, with the counters' rows locked, so simultaneous attempts each see the count
the others left: 16 guesses at once against a limit of 5 check five passwords, not sixteen. The
first failures are free; from then on each scope must wait 1, 2, 4, ... seconds (at most the
window) between attempts, and gets a 429 with Retry-After meanwhile. A count starts again after a
whole window without attempts, counted from the end of the last wait (so waiting out the longest
delay earns one guess, not a fresh allowance). A success forgets the (username, client) count and takes itself
back off the client's.

There is no count per username alone: failures from one client never lock the account's owner
out when they log in from another. Counters live in PostgreSQL, so every worker and replica
shares them.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from library_common.errors import TooManyRequests
from library_common.rate_limits import human_duration
from library_common.transactions import transaction

from .models import LoginFailures

ACCOUNT_AND_CLIENT = "user+client"
CLIENT = "client"


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures_per_user_and_client: int
    free_failures_per_client: int
    window: timedelta  # a count starts again after this long without attempts; also the longest delay

    def delay(self, failures, free):
        """How long to wait after the `failures`-th failure in a window (none before `free` of them)."""
        if failures < free:
            return None
        return timedelta(seconds=min(2 ** min(failures - free, 30), self.window.total_seconds()))


def _scopes(policy, username, client):
    """(scope, key, free failures), always in this order, so two attempts lock rows in the same order."""
    return (
        (ACCOUNT_AND_CLIENT, f"{username.lower()} {client}", policy.free_failures_per_user_and_client),
        (CLIENT, client, policy.free_failures_per_client),
    )


_ENSURE_ROW = sa.text(
    "INSERT INTO login_failures (scope, key, failures, last_attempt) VALUES (:scope, :key, 0, :now) "
    "ON CONFLICT DO NOTHING"
)
# Counters that would start again anyway (see count_attempt) are dropped now and then.
_FORGET_OLD = sa.text(
    "DELETE FROM login_failures WHERE GREATEST(last_attempt, blocked_until) + :window <= :now"
)


def _locked(session, scope, key):
    return session.get(LoginFailures, (scope, key), with_for_update=True, populate_existing=True)


def count_attempt(policy, username, client, now):
    """Count an attempt to prove `username`'s password from `client`; TooManyRequests while either scope waits.

    Call it before checking the password, and `forget_attempt` after a success.
    """
    restarted = False
    with transaction() as session:
        rows = []
        for scope, key, free in _scopes(policy, username, client):
            session.execute(_ENSURE_ROW, {"scope": scope, "key": key, "now": now})
            rows.append((_locked(session, scope, key), free))
        waits = [row.blocked_until for row, _free in rows if row.blocked_until and row.blocked_until > now]
        if not waits:
            for row, free in rows:
                if max(row.last_attempt, row.blocked_until or row.last_attempt) + policy.window <= now:
                    row.failures, restarted = 0, True
                row.failures += 1
                row.last_attempt = now
                delay = policy.delay(row.failures, free)
                row.blocked_until = now + delay if delay else None
    if restarted:  # on its own, holding no counter's lock
        with transaction() as session:
            session.execute(_FORGET_OLD, {"window": policy.window, "now": now})
    if waits:
        retry_after = math.ceil((max(waits) - now).total_seconds())
        raise TooManyRequests(f"Too many failed attempts; try again in {human_duration(retry_after)}",
                              retry_after=retry_after)


def forget_attempt(policy, username, client):
    """The password was right: forget this username's count from this client, and this attempt in the client's."""
    (account_scope, account_key, _), (client_scope, client_key, free) = _scopes(policy, username, client)
    with transaction() as session:
        session.execute(sa.delete(LoginFailures).filter_by(scope=account_scope, key=account_key))
        row = _locked(session, client_scope, client_key)
        if row is not None:
            row.failures = max(0, row.failures - 1)
            if row.failures < free:
                row.blocked_until = None

