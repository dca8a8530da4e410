"""The library's time: timezone-aware UTC, read in one place so rules take `now` as an argument."""

from datetime import datetime, timezone


def now():
    return datetime.now(timezone.utc)
