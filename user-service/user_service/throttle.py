"""Login throttling: too many failures for one username, or from one client, earn a 429 for a while.

Counters live in PostgreSQL and are updated with one atomic upsert, so the limit holds
across gunicorn workers and replicas.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, text

from library_common.errors import TooManyRequests
from library_common.transactions import transaction

from .models import LoginFailures, db


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures_per_user: int
    max_failures_per_client: int
    window: timedelta


def _limits(policy, username, client):
    return (
        ("user", username.lower(), policy.max_failures_per_user),
        ("client", client, policy.max_failures_per_client),
    )


def ensure_not_throttled(policy, username, client, now):
    for scope, key, limit in _limits(policy, username, client):
        row = db.session.scalars(select(LoginFailures).filter_by(scope=scope, key=key)).first()
        if row and row.failures >= limit and row.window_started + policy.window > now:
            retry_after = (row.window_started + policy.window - now).total_seconds()
            raise TooManyRequests("Too many failed logins; try again later", retry_after=retry_after)


_RECORD_FAILURE = text(
    """
    INSERT INTO login_failures (scope, key, failures, window_started)
    VALUES (:scope, :key, 1, :now)
    ON CONFLICT (scope, key) DO UPDATE SET
        failures = CASE WHEN login_failures.window_started + :window > :now
                        THEN login_failures.failures + 1 ELSE 1 END,
        window_started = CASE WHEN login_failures.window_started + :window > :now
                              THEN login_failures.window_started ELSE :now END
    """
)


def record_failure(policy, username, client, now):
    with transaction():
        for scope, key, _ in _limits(policy, username, client):
            db.session.execute(_RECORD_FAILURE, {"scope": scope, "key": key, "now": now, "window": policy.window})


def forget_failures(username):
    with transaction():
        db.session.execute(delete(LoginFailures).filter_by(scope="user", key=username.lower()))
