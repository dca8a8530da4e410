"""Holds (title-level requests): a patron joins the line for a book whose every copy is out; the first
copy that comes back waits on the hold shelf for the first in line until the pickup window closes.

waiting -> ready (an item on the hold shelf until `pickup_by`) -> fulfilled (borrowed);
or cancelled (by the patron or staff), or expired (not collected in time). A ready hold that ends
without being collected passes its item to the next in line, or back to the shelf.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from library_common import audit, events
from library_common.errors import BadRequest, Conflict, Forbidden, found
from library_common.transactions import transaction

from . import circulation, estimates, rules
from .loans import addressed, patron_asking
from .models import OPEN, Hold, Loan, db
from .neighbours import DEFAULT_ITEM_TYPE


@dataclass(frozen=True)
class HoldFilters:
    username: str | None = None
    book_id: int | None = None
    statuses: tuple[str, ...] | None = None
    offset: int = 0
    limit: int = 20


def place_hold(deps, principal, *, book_id, requested_username, now):
    """Join the line for a book: for yourself, or (librarians) for an active patron; not for a book none of
    whose copies the patron's rules let them hold."""
    patron = patron_asking(principal, requested_username, deps.directory)
    username = patron.username
    policy = deps.policy
    try:
        with transaction():
            circulation.lock_patron(username)
            circulation.lock_book(book_id)
            shelf = circulation.shelf_of(deps.catalogue.items(book_id))
            if db.session.scalar(sa.select(sa.func.count()).select_from(Loan).where(
                    Loan.username == username, Loan.book_id == book_id, ~Loan.returned)):
                raise Conflict(addressed(principal, username, "You already have this book",
                                         f"{username} already has this book"))
            if _open_hold(username, book_id) is not None:
                raise Conflict(addressed(principal, username, "You already have a hold on this book",
                                         f"{username} already has a hold on this book"))
            if _open_holds(username) >= policy.max_holds:
                raise Conflict(addressed(principal, username,
                                         f"You have reached the limit of {policy.max_holds} holds; "
                                         "cancel one to place another",
                                         f"{username} has reached the limit of {policy.max_holds} holds"))
            holdable = {kind for kind in set(shelf.types.values()) or {DEFAULT_ITEM_TYPE}
                        if rules.rule_for(patron.category, kind, policy).holdable}
            if not holdable:
                raise Conflict("Holds are not taken on this book's copies (its item types' rules)")
            circulation.allocate(shelf, now, policy)
            if policy.web_checkout and any(shelf.type_of(code) in holdable for code in shelf.free):
                raise Conflict("A copy is free to borrow right now: borrow it instead")
            last = db.session.scalar(sa.select(sa.func.max(Hold.queue_rank)).where(Hold.book_id == book_id))
            hold = Hold(book_id=book_id, title=shelf.title, username=username, status="waiting", placed_at=now,
                        patron_category=patron.category, queue_rank=(last or 0) + 1)
            db.session.add(hold)
            db.session.flush()
            events.record("hold.placed", username, hold_id=hold.id, book_id=book_id, title=hold.title)
            audit_hold("hold.placed", hold, audit.created(hold, ("book_id", "queue_rank", "patron_category")))
    except IntegrityError as exc:  # behind the check: one open hold per patron and book
        raise Conflict(addressed(principal, username, "You already have a hold on this book",
                                 f"{username} already has a hold on this book")) from exc
    return hold


def audit_hold(action, hold, changes):
    """An entry in the audit trail about a hold (none when the patron acts for themself)."""
    audit.record(action, hold.id, related=f"book:{hold.book_id}", subject=hold.username, changes=changes,
                 summary=f"“{hold.title}” for {hold.username}")


def _open_hold(username, book_id):
    return db.session.scalars(sa.select(Hold).where(Hold.username == username, Hold.book_id == book_id,
                                                    Hold.status.in_(OPEN))).first()


def _open_holds(username):
    return db.session.scalar(sa.select(sa.func.count()).select_from(Hold).where(Hold.username == username,
                                                                                Hold.status.in_(OPEN)))


def get_hold(hold_id, actor):
    hold = found(db.session.get(Hold, hold_id), f"No hold with id {hold_id}")
    if not actor.may_act_for(hold.username):
        raise Forbidden("You may only see and cancel your own holds")
    return hold


def cancel_hold(deps, *, hold_id, actor, now):
    """The patron leaves the line, or staff take them off it; a copy waiting for them goes to the next."""
    with transaction():
        hold = get_hold(hold_id, actor)
        circulation.lock_book(hold.book_id)
        db.session.refresh(hold, with_for_update=True)
        if hold.status not in OPEN:
            raise Conflict(f"This hold is {hold.status} already")
        _cancel(hold, now, deps.policy, by=actor.username)
    return hold


def move(deps, *, hold_id, direction, reason, actor, now):
    """A librarian moves a waiting patron one place up or down the book's line, and says why (kept with the
    hold, shown on the queue). Ranks are swapped under the book's lock, so the line never has two in a place."""
    with transaction():
        hold = get_hold(hold_id, actor)
        circulation.lock_book(hold.book_id)
        db.session.refresh(hold, with_for_update=True)
        if hold.status != "waiting":
            raise Conflict(f"Only a waiting hold has a place in line; this one is {hold.status}")
        line = circulation.waiting_holds(hold.book_id)
        place = next(index for index, other in enumerate(line) if other.id == hold.id)
        other_place = place - 1 if direction == "up" else place + 1
        if not 0 <= other_place < len(line):
            raise Conflict(f"{hold.username} is {'first' if direction == 'up' else 'last'} in line already")
        other = line[other_place]
        before = audit.snapshot(hold, ("queue_rank", "moved_note"))
        hold.queue_rank, other.queue_rank = other.queue_rank, hold.queue_rank
        hold.moved_note = f"Moved {direction} by {actor.username} on {now:%-d %b %Y}: {reason}"
        audit_hold("hold.moved", hold, audit.changes(before, hold)
                   | {"place": {"before": place + 1, "after": other_place + 1}})
    return hold


def change_dates(deps, *, hold_id, actor, dates, now):
    """The patron (or a librarian for them) suspends a waiting hold until a day (copies pass it by meanwhile; it
    keeps its place) or says it is not needed after a day (it expires then). `dates`: the fields to set, None
    to clear one."""
    today = circulation.library_day(now, deps.policy)
    for name, day in dates.items():
        if day is not None and day < today:
            raise BadRequest("That day has gone by", errors={name: "Before today"})
    with transaction():
        hold = get_hold(hold_id, actor)
        circulation.lock_book(hold.book_id)
        db.session.refresh(hold, with_for_update=True)
        if hold.status != "waiting":
            raise Conflict(f"Only a waiting hold can be suspended or given an end date; this one is {hold.status}")
        before = audit.snapshot(hold, dates)
        for name, day in dates.items():
            setattr(hold, name, day)
        if hold.suspended_until and hold.not_needed_after and hold.not_needed_after < hold.suspended_until:
            raise BadRequest("It would lapse while suspended",
                             errors={"not_needed_after": "Before the suspension ends"})
        audit_hold("hold.updated", hold, audit.changes(before, hold))
    return hold


def expire_unneeded(now, policy):
    """Waiting holds past the day their patron said they were needed by expire. Returns how many."""
    today = circulation.library_day(now, policy)
    due = db.session.scalars(sa.select(Hold.id).where(Hold.status == "waiting", Hold.not_needed_after < today)).all()
    for hold_id in due:
        with transaction():
            hold = db.session.get(Hold, hold_id)
            circulation.lock_book(hold.book_id)
            db.session.refresh(hold, with_for_update=True)
            if hold.status == "waiting":
                _close(hold, "expired", now, policy)
    return len(due)


def expire_uncollected(deps, now):
    """Every ready hold whose pickup window has closed expires; its item goes to the next in line (the
    worker runs this on its schedule). Returns how many expired."""
    due = db.session.scalars(sa.select(Hold.id).where(Hold.status == "ready", Hold.pickup_by < now)
                             .order_by(Hold.pickup_by)).all()
    expired = 0
    for hold_id in due:  # one transaction each: a book's lock is held only for its own holds
        with transaction():
            hold = db.session.get(Hold, hold_id)
            circulation.lock_book(hold.book_id)
            db.session.refresh(hold, with_for_update=True)
            if hold.status == "ready" and hold.pickup_by < now:
                _close(hold, "expired", now, deps.policy)
                expired += 1
    return expired


def pull_list(deps, now):
    """What staff fetch from the shelves for the hold shelf (WEB_CHECKOUT=false): each waiting hold that a free
    copy of its book can serve today, first in line first, with the free copies' barcodes. [(hold, barcodes)]"""
    today = circulation.library_day(now, deps.policy)
    book_ids = db.session.scalars(sa.select(Hold.book_id).where(Hold.status == "waiting").distinct()
                                  .order_by(Hold.book_id)).all()
    wanted = []
    for book_id in book_ids:
        shelf = circulation.shelf_of(deps.catalogue.items(book_id))
        if shelf.free:
            line = circulation.waiting_holds(book_id, today)[:len(shelf.free)]
            wanted += [(hold, list(shelf.free)) for hold in line]
    return sorted(wanted, key=lambda pair: pair[0].placed_at)


def allocate_waiting(deps, now):
    """Copies added while patrons wait go to them (the worker runs this on its schedule: returns and
    cancellations hand copies on at once, new copies arrive through books-service)."""
    book_ids = db.session.scalars(sa.select(Hold.book_id).where(Hold.status == "waiting").distinct()).all()
    made_ready = 0
    for book_id in book_ids:
        with transaction():
            circulation.lock_book(book_id)
            made_ready += len(circulation.allocate(circulation.shelf_of(deps.catalogue.items(book_id)),
                                                   now, deps.policy))
    return made_ready


def _cancel(hold, now, policy, by):
    before = audit.snapshot(hold, ("status",))
    _close(hold, "cancelled", now, policy, by=by)
    audit_hold("hold.cancelled", hold, audit.changes(before, hold))


def _close(hold, status, now, policy, by=None):
    was_ready, barcode = hold.status == "ready", hold.barcode
    hold.status, hold.closed_at, hold.closed_by = status, now, by
    events.record(f"hold.{status}", hold.username, hold_id=hold.id, book_id=hold.book_id, title=hold.title,
                  by_staff=bool(by and by.lower() != hold.username.lower()))
    if was_ready:
        db.session.flush()  # the item leaves this hold before it can be trapped for the next
        circulation.pass_on(hold.book_id, barcode, hold.item_type, now, policy)


def find_holds(filters):
    statement = sa.select(Hold)
    if filters.username:
        statement = statement.where(Hold.username == filters.username)
    if filters.book_id:
        statement = statement.where(Hold.book_id == filters.book_id)
    if filters.statuses:
        statement = statement.where(Hold.status.in_(filters.statuses))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    order = (Hold.pickup_by, Hold.id) if filters.statuses == ("ready",) else (Hold.placed_at.desc(), Hold.id.desc())
    holds = db.session.scalars(statement.order_by(*order).offset(filters.offset).limit(filters.limit)).all()
    return holds, total


def with_queue_places(holds, deps, now):
    """Set `position` (waiting holds ahead, plus one) and `estimated_available` on each waiting hold."""
    for hold in holds:
        hold.position = hold.estimated_available = None
        if hold.status == "waiting":
            hold.position = 1 + db.session.scalar(sa.select(sa.func.count()).select_from(Hold).where(
                Hold.book_id == hold.book_id, Hold.status == "waiting",
                sa.tuple_(Hold.queue_rank, Hold.id) < sa.tuple_(hold.queue_rank, hold.id)))
            hold.estimated_available = estimates.for_book(hold.book_id, hold.position, deps.policy, now)
    return holds


def close_patron(deps, username, now, by):
    """An account is being deleted: refused (Conflict) while it has books on loan; otherwise its open holds
    are cancelled (a copy set aside for it goes to the next in line). Returns how many were cancelled."""
    with transaction():
        circulation.lock_patron(username)
        if db.session.scalar(sa.select(sa.func.count()).select_from(Loan).where(Loan.username == username,
                                                                                ~Loan.returned)):
            raise Conflict(f"{username} still has books on loan; check them in before deleting the account")
        open_holds = db.session.scalars(sa.select(Hold).where(Hold.username == username, Hold.status.in_(OPEN))
                                        .order_by(Hold.book_id)).all()
        for hold in open_holds:  # books in order: two closings never wait on each other's locks crosswise
            circulation.lock_book(hold.book_id)
            db.session.refresh(hold, with_for_update=True)
            if hold.status in OPEN:
                _cancel(hold, now, deps.policy, by=by)
    return len(open_holds)
