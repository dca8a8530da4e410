"""The library's reminders, found by the worker's scans and recorded as events (notification-service tells
the patrons): loans due in DUE_SOON_DAYS, loans overdue by each of OVERDUE_NOTICE_DAYS, holds whose pickup
window closes within HOLD_EXPIRY_WARNING_HOURS (a hold made ready inside that window is not warned: the
"ready" notice, a moment before, gave the same date).

A patron with several loans due on one day gets one reminder for them all (one event with the list). Each
reminder is remembered by a key (the loan and its due date, the loan and the overdue stage, the hold) in
the same transaction as its event, so a scan run twice, or by two workers, reminds nobody twice.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from library_common import events
from library_common.transactions import transaction

from .models import Hold, Loan, Reminder, db


@dataclass(frozen=True)
class ReminderPolicy:
    due_soon_days: int = 3
    overdue_days: tuple[int, ...] = (1, 7, 14)
    hold_warning: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings):
        return cls(due_soon_days=settings["DUE_SOON_DAYS"],
                   overdue_days=tuple(sorted(int(day) for day in settings["OVERDUE_NOTICE_DAYS"].split(","))),
                   hold_warning=timedelta(hours=settings["HOLD_EXPIRY_WARNING_HOURS"]))


def _first_time(key, now):
    """True once per key, ever (inside the caller's transaction)."""
    given = insert(Reminder).values(key=key, sent_at=now).on_conflict_do_nothing(index_elements=["key"])
    return db.session.execute(given.returning(Reminder.key)).first() is not None


def _loan(loan):
    return {"loan_id": loan.id, "book_id": loan.book_id, "title": loan.title, "due_date": loan.due_date.isoformat()}


def remind(policy, now):
    """One scan: record every reminder now due and not yet given. Returns how many events were recorded."""
    recorded = 0
    with transaction():
        soon = db.session.scalars(sa.select(Loan).where(~Loan.returned, Loan.due_date >= now,
                                                        Loan.due_date < now + timedelta(days=policy.due_soon_days))
                                  .order_by(Loan.username, Loan.due_date, Loan.id)).all()
        due_on = defaultdict(list)
        for loan in soon:
            if _first_time(f"due_soon:{loan.id}:{loan.due_date.date()}", now):
                due_on[(loan.username, loan.due_date.date())].append(loan)
        for (username, _day), loans in due_on.items():
            events.record("loans.due_soon", username, due_date=loans[0].due_date.isoformat(),
                          loans=[_loan(loan) for loan in loans])
            recorded += 1
    with transaction():  # each loan is reminded once per stage reached (the latest: no burst of old stages)
        late = db.session.scalars(sa.select(Loan).where(~Loan.returned,
                                                        Loan.due_date < now - timedelta(days=policy.overdue_days[0]))
                                  .order_by(Loan.username, Loan.due_date, Loan.id)).all()
        by_patron_and_stage = defaultdict(list)
        for loan in late:
            *earlier, latest = [days for days in policy.overdue_days if loan.due_date < now - timedelta(days=days)]
            # The earlier stages are recorded with the latest, so a loan already reminded costs one statement.
            if _first_time(f"overdue:{latest}:{loan.id}", now):
                for days in earlier:
                    _first_time(f"overdue:{days}:{loan.id}", now)
                by_patron_and_stage[(loan.username, latest)].append(loan)
        for (username, days), loans in by_patron_and_stage.items():
            events.record("loans.overdue", username, days=days, loans=[_loan(loan) for loan in loans])
            recorded += 1
    with transaction():
        closing = db.session.scalars(sa.select(Hold).where(Hold.status == "ready",
                                                           Hold.pickup_by < now + policy.hold_warning,
                                                           Hold.pickup_by > now,
                                                           Hold.ready_at < Hold.pickup_by - policy.hold_warning)
                                ).all()
        for hold in closing:
            if _first_time(f"hold_expiring:{hold.id}", now):
                events.record("hold.expiring", hold.username, hold_id=hold.id, book_id=hold.book_id,
                              title=hold.title, pickup_by=hold.pickup_by.isoformat())
                recorded += 1
    return recorded
