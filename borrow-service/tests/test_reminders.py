"""The worker's reminders become events: one per patron and due day, one per overdue stage, one per hold
about to expire, never twice."""

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from borrow_service import reminders
from borrow_service.deps import deps
from borrow_service.models import Event, Hold, Loan, db

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)


@pytest.fixture
def lent(app):
    def lend(username, book_id, due_in_days):
        with app.app_context():
            db.session.add(Loan(username=username, book_id=book_id, title=f"Book {book_id}", barcode=f"B{book_id}",
                                borrow_date=NOW - timedelta(days=14), returned=False, renewals=0,
                                due_date=NOW + timedelta(days=due_in_days)))
            db.session.commit()

    return lend


def scan(app, now=NOW):
    with app.app_context():
        return reminders.remind(deps().reminder_policy, now)


def recorded(app, event_type):
    with app.app_context():
        return [(event.subject, event.payload) for event in
                db.session.scalars(sa.select(Event).where(Event.type == event_type).order_by(Event.id))]


def test_loans_due_on_one_day_make_one_reminder_per_patron(app, lent):
    lent("alice", 1, 2.0)
    lent("alice", 2, 2.1)
    lent("alice", 3, 1.0)
    lent("bob", 4, 2.0)
    lent("carol", 5, 5.0)  # not yet within DUE_SOON_DAYS

    assert scan(app) == 3
    assert scan(app) == 0  # run again: nobody reminded twice

    due = recorded(app, "loans.due_soon")
    assert sorted((who, [loan["title"] for loan in payload["loans"]]) for who, payload in due) == [
        ("alice", ["Book 1", "Book 2"]), ("alice", ["Book 3"]), ("bob", ["Book 4"])]


def test_overdue_reminders_at_each_stage_once(app, lent):
    lent("alice", 1, -1.5)
    lent("alice", 2, -2.0)
    lent("bob", 3, -9.0)  # already past the 7-day stage when first seen: reminded at that stage only

    scan(app)
    scan(app, NOW + timedelta(days=6))

    stages = [(who, payload["days"], [loan["title"] for loan in payload["loans"]])
              for who, payload in recorded(app, "loans.overdue")]
    assert stages == [("alice", 1, ["Book 2", "Book 1"]), ("bob", 7, ["Book 3"]),
                      ("alice", 7, ["Book 2", "Book 1"]), ("bob", 14, ["Book 3"])]


def test_a_hold_about_to_expire_is_reminded_once(app):
    with app.app_context():
        db.session.add_all([
            Hold(book_id=1, title="Dune", username="alice", status="ready", placed_at=NOW - timedelta(days=7),
                 ready_at=NOW - timedelta(days=6), pickup_by=NOW + timedelta(hours=20), barcode="B1"),
            Hold(book_id=2, title="Emma", username="bob", status="ready", placed_at=NOW, ready_at=NOW,
                 pickup_by=NOW + timedelta(days=5), barcode="B2"),
            # made ready with less than the warning left: the "ready" notice just told carol the date
            Hold(book_id=3, title="Ulysses", username="carol", status="ready", placed_at=NOW,
                 ready_at=NOW - timedelta(hours=1), pickup_by=NOW + timedelta(hours=10), barcode="B3")])
        db.session.commit()

    assert scan(app) == 1 and scan(app) == 0
    assert [(who, payload["title"]) for who, payload in recorded(app, "hold.expiring")] == [("alice", "Dune")]


def test_the_policy_reads_the_settings():
    policy = reminders.ReminderPolicy.from_settings({"DUE_SOON_DAYS": 2, "OVERDUE_NOTICE_DAYS": "14, 1,7",
                                                     "HOLD_EXPIRY_WARNING_HOURS": 12})

    assert (policy.due_soon_days, policy.overdue_days, policy.hold_warning) == (2, (1, 7, 14), timedelta(hours=12))
