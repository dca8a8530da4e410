"""The library's calendar: the days it is closed (dates, and days of the week it always is). A due date or a
hold's pickup deadline that falls on a closed day moves to the next open day, at the same local time:
nobody is asked to return a book, or collect one, on a day the door is shut. Days are the library's own,
in LIBRARY_TIMEZONE, not UTC's.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from library_common import audit
from library_common.errors import BadRequest, Conflict, NotFound
from library_common.transactions import transaction

from .models import ClosedDay, db

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LOOK_AHEAD = timedelta(days=366)  # a library closed for longer than a year has other problems than due dates


@dataclass(frozen=True)
class Closures:
    """The closed days from a day on, as one lookup."""

    weekdays: frozenset
    days: frozenset

    def closed(self, day):
        return day.weekday() in self.weekdays or day in self.days


def closures_from(first_day):
    rows = db.session.scalars(sa.select(ClosedDay).where(sa.or_(
        ClosedDay.weekday.is_not(None),
        ClosedDay.day.between(first_day, first_day + LOOK_AHEAD)))).all()
    return Closures(frozenset(row.weekday for row in rows if row.weekday is not None),
                    frozenset(row.day for row in rows if row.day is not None))


def next_open(moment, zone):
    """`moment` if the library is open on its local day, otherwise the same local time on the next open day.
    (Aware local arithmetic keeps the wall-clock time across a change to or from summer time.)"""
    local = moment.astimezone(zone)
    closures = closures_from(local.date())
    if len(closures.weekdays) == 7:
        return moment  # closed every day of the week: no open day to move to, so the rule's date stands
    for _ in range(LOOK_AHEAD.days):
        if not closures.closed(local.date()):
            return local.astimezone(moment.tzinfo)
        local = (local.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
    return moment


def calendar(today):
    """The weekly closures and the closed dates from `today` on, in date order."""
    rows = db.session.scalars(sa.select(ClosedDay).where(sa.or_(ClosedDay.weekday.is_not(None),
                                                                ClosedDay.day >= today))
                              .order_by(ClosedDay.weekday, ClosedDay.day)).all()
    return {"weekdays": [row for row in rows if row.weekday is not None],
            "days": [row for row in rows if row.day is not None]}


def close_on(first_day: date, last_day: date | None, reason, today):
    """Close the library from `first_day` to `last_day` (one day when None); days already closed keep their
    reason. Returns the days added."""
    last_day = last_day or first_day
    if last_day < first_day:
        raise BadRequest("The last closed day comes before the first", errors={"last_day": "Before the first day"})
    if first_day < today:
        raise BadRequest("A day gone by cannot be closed", errors={"day": "Already past"})
    if (last_day - first_day).days > 366:
        raise BadRequest("At most a year at a time", errors={"last_day": "More than a year after the first day"})
    days = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    with transaction():
        taken = set(db.session.scalars(sa.select(ClosedDay.day).where(ClosedDay.day.in_(days))))
        added = [ClosedDay(day=day, reason=reason) for day in days if day not in taken]
        db.session.add_all(added)
        db.session.flush()
        for closure in added:
            _audit("closure.added", closure, audit.created(closure, CLOSURE_FIELDS))
    return added


def close_weekly(weekday, reason):
    """The library is closed every such day of the week (0 Monday ... 6 Sunday)."""
    try:
        with transaction():
            closure = ClosedDay(weekday=weekday, reason=reason)
            db.session.add(closure)
            db.session.flush()
            _audit("closure.added", closure, audit.created(closure, CLOSURE_FIELDS))
    except IntegrityError as exc:
        raise Conflict(f"The library is closed on {WEEKDAYS[weekday]}s already") from exc
    return closure


def reopen(closure_id):
    """Remove a closure (a date or a weekday): the day is open again. Loans already due keep their dates."""
    with transaction():
        closure = db.session.get(ClosedDay, closure_id)
        if closure is None:
            raise NotFound(f"No closed day with id {closure_id}")
        _audit("closure.deleted", closure, audit.deleted(closure, CLOSURE_FIELDS))
        db.session.delete(closure)


CLOSURE_FIELDS = ("day", "weekday", "reason")


def _audit(action, closure, changes):
    when = f"every {WEEKDAYS[closure.weekday]}" if closure.weekday is not None else f"{closure.day:%-d %b %Y}"
    audit.record(action, closure.id, summary=f"Closed {when}: {closure.reason}"[:200], changes=changes)
