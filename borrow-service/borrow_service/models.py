from datetime import date, datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

from library_common.audit import audit_model
from library_common.events import event_model

db = SQLAlchemy()
Event = event_model(db)
AuditEntry = audit_model(db)


class Loan(db.Model):
    __tablename__ = "loans"
    __table_args__ = (
        # A patron holds at most one copy of a book at a time, and an item is lent once, whatever the application does.
        sa.Index("loans_one_active_per_user_book", "username", "book_id", unique=True,
                 postgresql_where=sa.text("NOT returned")),
        sa.Index("loans_one_active_per_item", "barcode", unique=True, postgresql_where=sa.text("NOT returned")),
        sa.Index("loans_active_by_book", "book_id", postgresql_where=sa.text("NOT returned")),
        sa.Index("loans_by_user", "username", sa.column("borrow_date").desc()),
        sa.Index("loans_active_by_due_date", "due_date", postgresql_where=sa.text("NOT returned")),
        sa.Index("loans_by_book", "book_id", sa.column("borrow_date").desc()),
        sa.Index("loans_active_newest", sa.column("borrow_date").desc(), sa.column("id").desc(),
                 postgresql_where=sa.text("NOT returned")),
        sa.Index("loans_returned_recently", sa.column("returned_date").desc(), postgresql_where=sa.text("returned")),
        sa.Index("loans_awaiting_check_in", "barcode", unique=True, postgresql_where=sa.text("awaiting_check_in")),
        sa.CheckConstraint("returned = (returned_date IS NOT NULL)", name="loans_returned_has_date"),
        sa.CheckConstraint("renewals >= 0", name="loans_renewals_non_negative"),
        sa.CheckConstraint("username IS NOT NULL OR returned", name="loans_active_have_a_borrower"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once a returned loan is anonymised (history privacy); borrower_key then keeps a keyed pseudonym.
    username: Mapped[str | None] = mapped_column(sa.String(32))
    borrower_key: Mapped[str | None] = mapped_column(sa.String(64))
    book_id: Mapped[int]
    # The item lent; NULL for loans made before copies had barcodes (they hold "some copy" of the book).
    barcode: Mapped[str | None] = mapped_column(sa.String(32))
    title: Mapped[str | None] = mapped_column(sa.String(300))  # as it was when lent: history outlives the book
    borrow_date: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    due_date: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    returned: Mapped[bool] = mapped_column(server_default=sa.false())
    returned_date: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    renewals: Mapped[int] = mapped_column(server_default="0")
    # The rule the loan was made under (rules.py), kept with it: a rule changed later applies to new loans.
    item_type: Mapped[str] = mapped_column(sa.String(32), server_default="book")
    rule: Mapped[str] = mapped_column(sa.String(80), server_default="* × *")  # "child × dvd": whose, of what
    loan_days: Mapped[float] = mapped_column(sa.Float, server_default="14")
    max_renewals: Mapped[int] = mapped_column(server_default="2")
    no_renewal_before_days: Mapped[int | None]
    # Returned away from the desk (the web's return) while a hold waits: the copy is still in the patron's
    # bag, so it goes to the hold shelf only when the desk scans it in (loans.check_in_item).
    awaiting_check_in: Mapped[bool] = mapped_column(server_default=sa.false())
    # A librarian lent past the rule (a limit, a copy not for loan, or a due date of their own): who, and why.
    override_reason: Mapped[str | None] = mapped_column(sa.String(200))
    overridden_by: Mapped[str | None] = mapped_column(sa.String(32))

    # For an active loan in a list (loans.find_loans): how many patrons wait for its book, so a page can say
    # before the click that a renewal will be refused.
    holds_waiting = None


HOLD_STATUSES = ("waiting", "ready", "fulfilled", "cancelled", "expired")
OPEN = ("waiting", "ready")


class Hold(db.Model):
    """A patron's request for a book (any copy). Waiting holds queue by `queue_rank` (first come, first served:
    ranks are taken under the book's lock); a ready hold has an item on the hold shelf until `pickup_by`."""

    __tablename__ = "holds"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {HOLD_STATUSES}", name="holds_status_known"),
        sa.CheckConstraint("status <> 'ready' OR (pickup_by IS NOT NULL AND barcode IS NOT NULL)",
                           name="holds_ready_have_an_item_and_a_deadline"),
        sa.Index("holds_one_open_per_patron_book", "username", "book_id", unique=True,
                 postgresql_where=sa.text("status IN ('waiting', 'ready')")),
        sa.Index("holds_one_per_shelved_item", "barcode", unique=True, postgresql_where=sa.text("status = 'ready'")),
        sa.Index("holds_queue", "book_id", "queue_rank", postgresql_where=sa.text("status = 'waiting'")),
        sa.Index("holds_ready_by_deadline", "pickup_by", postgresql_where=sa.text("status = 'ready'")),
        sa.Index("holds_by_patron", "username", sa.column("placed_at").desc()),
        sa.Index("holds_closed_recently", sa.column("closed_at").desc(),
                 postgresql_where=sa.text("closed_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int]
    title: Mapped[str | None] = mapped_column(sa.String(300))
    username: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="waiting")
    placed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    pickup_by: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    barcode: Mapped[str | None] = mapped_column(sa.String(32))  # the item on the hold shelf (kept once closed)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(sa.String(32))  # who cancelled it (the patron, or staff)
    # Its place in the book's line (first come, first served: the next rank under the book's lock); a librarian
    # may move a patron up or down, with a reason (`moved_note`).
    queue_rank: Mapped[int] = mapped_column(server_default="0")  # ties: the older hold first
    moved_note: Mapped[str | None] = mapped_column(sa.String(300))
    # The patron's own dates: away until `suspended_until` (the hold keeps its place, copies pass it by), and
    # no longer wanted after `not_needed_after` (it expires then).
    suspended_until: Mapped[date | None] = mapped_column(sa.Date)
    not_needed_after: Mapped[date | None] = mapped_column(sa.Date)
    # The patron's category when the hold was placed: the circulation rule for its pickup window (rules.py).
    patron_category: Mapped[str] = mapped_column(sa.String(32), server_default="adult")
    item_type: Mapped[str | None] = mapped_column(sa.String(32))  # of the item on the hold shelf (kept once closed)

    # For a waiting hold, set by holds.with_queue_places: its place in line and the date a copy is expected.
    position = None
    estimated_available = None


class PatronSettings(db.Model):
    """What a patron chose about their loans: reading history is kept only when they opt in (ALA guidance)."""

    __tablename__ = "patron_settings"

    username: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    keep_history: Mapped[bool] = mapped_column(server_default=sa.false())


class Reminder(db.Model):
    """A reminder given (its key: what it was about, see reminders.py), so none is given twice."""

    __tablename__ = "reminders"

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


ANY = "*"  # a rule's patron category or item type that matches every one


class CirculationRule(db.Model):
    """One cell of the circulation rules matrix: patron category x item type, either of them "*" for every
    one. The most specific rule that matches a loan is the one it is made under (rules.py)."""

    __tablename__ = "circulation_rules"
    __table_args__ = (
        sa.CheckConstraint("loan_days > 0 AND hold_pickup_days > 0 AND max_renewals >= 0 AND max_loans >= 0 "
                           "AND (no_renewal_before_days IS NULL OR no_renewal_before_days >= 0)",
                           name="circulation_rules_numbers_make_sense"),
    )

    patron_category: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    item_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    loan_days: Mapped[float] = mapped_column(sa.Float)
    max_renewals: Mapped[int]
    no_renewal_before_days: Mapped[int | None]  # renewals open this many days before the due date; None: any time
    max_loans: Mapped[int]  # of this rule's items at once; 0: not for loan (reference)
    holdable: Mapped[bool]
    hold_pickup_days: Mapped[float] = mapped_column(sa.Float)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_by: Mapped[str | None] = mapped_column(sa.String(32))


class ClosedDay(db.Model):
    """A day the library is closed (a date), or a day of the week it always is (weekday 0 Monday to 6
    Sunday): due dates and pickup deadlines that fall on one move to the next open day (calendar.py)."""

    __tablename__ = "closed_days"
    __table_args__ = (
        sa.CheckConstraint("(day IS NULL) <> (weekday IS NULL)", name="closed_days_a_date_or_a_weekday"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="closed_days_weekday_known"),
        sa.Index("closed_days_one_per_date", "day", unique=True, postgresql_where=sa.text("day IS NOT NULL")),
        sa.Index("closed_days_one_per_weekday", "weekday", unique=True,
                 postgresql_where=sa.text("weekday IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date | None] = mapped_column(sa.Date)
    weekday: Mapped[int | None]
    reason: Mapped[str] = mapped_column(sa.String(100), server_default="")
