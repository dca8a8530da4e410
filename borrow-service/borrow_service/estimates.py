"""An honest wait: when a waiting hold's copy is expected, from what this library actually knows.

For each copy of the book that is out, the moment it is expected to be free again:
- on loan: its due date, moved by how late (or early) this library's loans typically come back (the
  median of return date minus due date over the last 500 returns); an overdue copy, or one whose
  typical return has already passed, counts as coming back tomorrow;
- on the hold shelf: when its patron typically collects a ready hold (the median delay over the last
  200 collected holds, never after its pickup deadline, when it would pass on), plus a typical loan
  (the median length of the last 500 loans).
The line is then walked in order: each waiting hold ahead takes the copy free soonest and keeps it for
a typical pickup delay plus a typical loan; this hold's copy is the one free soonest after them.
With little history (under 20 returns or collections) the library's rules stand in: no lateness, a
full LOAN_DAYS loan, half the pickup window to collect.
Evergreen shows position x average wait / copies, Open Library only the line; a date built from the
real due dates and the library's habits is what readers ask for (openlibrary #2938).
"""

import heapq
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from .models import Hold, Loan, db

SOON = timedelta(days=1)
MIN_HISTORY = 20
RECENT_RETURNS = 500
RECENT_COLLECTIONS = 200


@dataclass(frozen=True)
class Habits:
    """How this library's loans and holds typically go."""

    lateness: timedelta  # return date minus due date (negative: early)
    loan_length: timedelta
    pickup_delay: timedelta


@dataclass(frozen=True)
class CopyOut:
    due_date: object = None  # on loan until then
    ready_at: object = None  # or on the hold shelf since then...
    pickup_by: object = None  # ...until then


def expected_available(now, position, copies_out, habits):
    """The moment the hold at `position` (1 = next) is expected to get a copy; None without copies."""
    free_at = [_free_again(copy, now, habits) for copy in copies_out]
    if not free_at:
        return None
    heapq.heapify(free_at)
    kept = habits.pickup_delay + habits.loan_length
    for _ahead in range(position - 1):
        heapq.heappush(free_at, heapq.heappop(free_at) + kept)
    return free_at[0]


def _free_again(copy, now, habits):
    if copy.due_date is not None:
        return max(copy.due_date + habits.lateness, now + SOON)
    collected = min(max(copy.ready_at + habits.pickup_delay, now), copy.pickup_by)
    return collected + habits.loan_length


def library_habits(policy):
    """Habits from the library's recent history; its rules where the history is too short to say."""
    returns = sa.select((Loan.returned_date - Loan.due_date).label("late"),
                        (Loan.returned_date - Loan.borrow_date).label("length")) \
        .where(Loan.returned).order_by(Loan.returned_date.desc()).limit(RECENT_RETURNS).subquery()
    returned, late, length = db.session.execute(sa.select(
        sa.func.count(), sa.func.percentile_cont(0.5).within_group(returns.c.late),
        sa.func.percentile_cont(0.5).within_group(returns.c.length)).select_from(returns)).one()
    collections = sa.select((Hold.closed_at - Hold.ready_at).label("delay")) \
        .where(Hold.status == "fulfilled", Hold.ready_at.is_not(None)) \
        .order_by(Hold.closed_at.desc()).limit(RECENT_COLLECTIONS).subquery()
    collected, delay = db.session.execute(sa.select(
        sa.func.count(), sa.func.percentile_cont(0.5).within_group(collections.c.delay))
        .select_from(collections)).one()
    enough_returns = returned >= MIN_HISTORY
    return Habits(lateness=late if enough_returns else timedelta(0),
                  loan_length=length if enough_returns else policy.loan_period,
                  pickup_delay=delay if collected >= MIN_HISTORY else policy.pickup_window / 2)


def for_book(book_id, position, policy, now):
    """The expected date for the hold at `position` in the book's line."""
    loans = db.session.scalars(sa.select(Loan.due_date).where(Loan.book_id == book_id, ~Loan.returned)).all()
    shelved = db.session.execute(sa.select(Hold.ready_at, Hold.pickup_by)
                                 .where(Hold.book_id == book_id, Hold.status == "ready")).all()
    copies_out = [CopyOut(due_date=due) for due in loans] + [CopyOut(ready_at=ready, pickup_by=until)
                                                             for ready, until in shelved]
    moment = expected_available(now, position, copies_out, library_habits(policy))
    return moment.date() if moment else None
