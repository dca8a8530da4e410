"""Per-client rate limits that hold across every worker and replica: counters in PostgreSQL.

A limit such as RATE_LIMIT_REGISTER=10/hour allows each client address that many requests per
fixed window. One atomic upsert counts a request and returns the window's count, so simultaneous
requests each see their own number. Each service that limits something keeps the counters in its
own database: its models declare `rate_limit_table(db.metadata)` and a migration creates it.

Flask-Limiter would do the counting too, but it has no PostgreSQL store (it needs Redis, Memcached
or MongoDB), and this system's only shared state is PostgreSQL.
"""

import functools
import math
import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import request

from . import clock, metrics
from .deps import AppDeps
from .errors import TooManyRequests
from .transactions import transaction

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour|day)\s*")


@dataclass(frozen=True)
class Limit:
    count: int
    period: timedelta
    what: str  # for people: "sign-ups", in "Too many sign-ups from your address"

    @classmethod
    def parse(cls, setting_name, text, what):
        """'10/hour' -> Limit(10, one hour); anything else stops start-up with the setting's name."""
        match = _LIMIT.fullmatch(text)
        if not match or int(match.group(1)) < 1:
            raise RuntimeError(f"{setting_name} must look like 10/hour (a count per second, minute, hour or day), "
                               f"not {text!r}")
        return cls(int(match.group(1)), timedelta(seconds=PERIODS[match.group(2)]), what)


def rate_limit_table(metadata):
    """The counters' table, declared in a service's metadata (its migration creates it)."""
    return sa.Table(
        "rate_limits", metadata,
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("client", sa.String(64), primary_key=True),
        sa.Column("window_started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
    )


_COUNT = sa.text(
    """
    INSERT INTO rate_limits AS counter (name, client, window_started, hits)
    VALUES (:name, :client, :now, 1)
    ON CONFLICT (name, client) DO UPDATE SET
        hits = CASE WHEN counter.window_started + :period > :now THEN counter.hits + 1 ELSE 1 END,
        window_started = CASE WHEN counter.window_started + :period > :now THEN counter.window_started ELSE :now END
    RETURNING hits, window_started
    """
)
# Counters of windows long over are dropped now and then (whenever some client starts a new window).
_FORGET_OLD = sa.text("DELETE FROM rate_limits WHERE name = :name AND window_started + :period <= :now")


def human_duration(seconds):
    """12 -> '12 seconds', 600 -> '10 minutes', 5400 -> '2 hours' (rounded up: never too hopeful)."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds > size:
            count = math.ceil(seconds / size)
            return f"{count} {unit}s" if count > 1 else f"1 {unit}"
    count = max(1, math.ceil(seconds))
    return f"{count} seconds" if count > 1 else "1 second"


class RateLimiter:
    """The app's limits by name ({"register": Limit(...)}), counted per client address."""

    def __init__(self, limits):
        self.limits = limits

    def hit(self, name, client, now):
        """Count one request of `client` against limit `name`; TooManyRequests once over it."""
        limit = self.limits[name]
        with transaction() as session:
            hits, window_started = session.execute(
                _COUNT, {"name": name, "client": client[:64], "now": now, "period": limit.period}).one()
        if hits == 1:  # on its own, holding no counter's lock, so two clients never deadlock
            with transaction() as session:
                session.execute(_FORGET_OLD, {"name": name, "now": now, "period": limit.period})
        if hits > limit.count:
            metrics.RATE_LIMIT_REFUSALS.labels(name).inc()
            retry_after = max(1, math.ceil((window_started + limit.period - now).total_seconds()))
            raise TooManyRequests(
                f"Too many {limit.what} from your address; try again in {human_duration(retry_after)}",
                retry_after=retry_after,
            )


    def within(self, name, client, now):
        """Count one request of `client` against limit `name`; whether it was within the limit (for limits
        that are kept silently: the caller answers the same either way, and does less)."""
        try:
            self.hit(name, client, now)
        except TooManyRequests:
            return False
        return True


def rate_limited(name, when=None):
    """A view decorator: count the request against limit `name` of the app's `rate_limiter` (its deps),
    per client address, before the view runs. `when(*args, **kwargs)`, given the view's arguments (put
    this decorator nearest the function so they are parsed), limits only the requests it returns true for.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if when is None or when(*args, **kwargs):
                AppDeps.current().rate_limiter.hit(name, request.remote_addr or "unknown", clock.now())
            return view(*args, **kwargs)

        return wrapper

    return decorate
