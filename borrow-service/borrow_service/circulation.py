"""Who has which copy of a book: the per-book picture that lending, returning and holds all work from.

Every change to a book's copies happens under PostgreSQL advisory locks taken inside the transaction:
the patron's first (when a patron is involved), then the book's, always in that order so two changes
never deadlock. The book's items are asked of books-service while the lock is held, so a copy withdrawn
meanwhile is never lent (books-service withdraws first, then asks us under the same lock). Every worker
process and every replica goes through the same locks, so N copies make at most N loans and trapped
items, whatever arrives at once.

A copy that becomes free goes to the first waiting hold before anyone else can take it: returned, a
ready hold cancelled or expired, or a copy added while patrons wait (`allocate`).
"""

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from library_common import events

from . import calendar, rules
from .models import Hold, Loan, db
from .neighbours import DEFAULT_ITEM_TYPE

_PATRON_LOCKS = 1
_BOOK_LOCKS = 2


def lock_patron(username):
    db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:username))"),
                       {"space": _PATRON_LOCKS, "username": username.lower()})


def lock_book(book_id):
    db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :book_id)"),
                       {"space": _BOOK_LOCKS, "book_id": book_id})


@dataclass
class Shelf:
    """A book's copies as seen under its lock: the circulating items, which are lent, which wait on the
    hold shelf for whom. Loans from before copies had barcodes hold "some copy" each."""

    book_id: int
    title: str | None
    circulating: tuple[str, ...]
    types: dict = field(default_factory=dict)  # barcode -> item type
    lent: set = field(default_factory=set)  # lent, or returned away from the desk and not scanned in yet
    unnumbered_loans: int = 0
    trapped: dict = field(default_factory=dict)  # barcode -> its ready Hold

    @property
    def free(self):
        untouched = [code for code in self.circulating if code not in self.lent and code not in self.trapped]
        return untouched[self.unnumbered_loans:]

    def type_of(self, barcode):
        return self.types.get(barcode, DEFAULT_ITEM_TYPE)


def shelf_of(book_items):
    """The Shelf of a book whose items (`neighbours.BookItems`) were just asked, under its lock."""
    barcodes = db.session.execute(sa.select(Loan.barcode).where(
        Loan.book_id == book_items.book_id, sa.or_(~Loan.returned, Loan.awaiting_check_in))).scalars().all()
    trapped = db.session.scalars(sa.select(Hold).where(Hold.book_id == book_items.book_id,
                                                       Hold.status == "ready")).all()
    return Shelf(book_items.book_id, book_items.title, book_items.circulating, book_items.types,
                 lent={barcode for barcode in barcodes if barcode is not None},
                 unnumbered_loans=sum(1 for barcode in barcodes if barcode is None),
                 trapped={hold.barcode: hold for hold in trapped})


def waiting_holds(book_id, on=None):
    """The book's line, in order. `on` (a day of the library's): only the holds that can take a copy that day,
    passing by those suspended until later and those no longer needed."""
    conditions = [Hold.book_id == book_id, Hold.status == "waiting"]
    if on is not None:
        conditions += [sa.or_(Hold.suspended_until.is_(None), Hold.suspended_until <= on),
                       sa.or_(Hold.not_needed_after.is_(None), Hold.not_needed_after >= on)]
    return db.session.scalars(sa.select(Hold).where(*conditions).order_by(Hold.queue_rank, Hold.id)).all()


def library_day(now, policy):
    """Today, on the library's calendar."""
    return now.astimezone(policy.zone).date()


def trap(hold, barcode, item_type, now, policy):
    """Put the item on the hold shelf for `hold`, until the pickup window of the patron's rule for the item
    closes (on an open day)."""
    window = timedelta(days=rules.rule_for(hold.patron_category, item_type, policy).hold_pickup_days)
    pickup_by = calendar.next_open(now + window, policy.zone)  # (queries: the hold is changed after them)
    hold.status, hold.barcode, hold.item_type, hold.ready_at, hold.pickup_by = ("ready", barcode, item_type, now,
                                                                                pickup_by)
    events.record("hold.ready", hold.username, hold_id=hold.id, book_id=hold.book_id, title=hold.title,
                  barcode=barcode, pickup_by=hold.pickup_by.isoformat())


def pass_on(book_id, barcode, item_type, now, policy):
    """An item of the book just became free: it goes to the first waiting hold (returned), or nowhere
    (back to the shelf, None)."""
    queue = waiting_holds(book_id, library_day(now, policy))
    if not queue:
        return None
    trap(queue[0], barcode, item_type, now, policy)
    return queue[0]


def allocate(shelf, now, policy):
    """Give each free item of the shelf to the next waiting hold; the holds made ready. Not where staff set
    copies aside themselves (WEB_CHECKOUT=false): a copy on the shelf waits to be pulled and scanned in."""
    if not policy.web_checkout:
        return []
    made_ready = []
    for hold, barcode in zip(waiting_holds(shelf.book_id, library_day(now, policy)), shelf.free, strict=False):
        trap(hold, barcode, shelf.type_of(barcode), now, policy)
        shelf.trapped[barcode] = hold
        made_ready.append(hold)
    return made_ready
