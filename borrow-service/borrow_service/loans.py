"""The lending rules, as plain functions over the database: borrow (by book, or at the desk by an item's
barcode), return, check in, renew, and the lists of loans.

Each change runs in one transaction under the locks described in `circulation`; the limits (one copy
of a book per patron, MAX_ACTIVE_LOANS, an item lent once) are checked under them, and partial unique
indexes stand behind the checks.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from library_common import audit, events
from library_common.errors import BadRequest, Conflict, Forbidden, NotFound
from library_common.transactions import transaction

from . import calendar, circulation, rules
from .models import ANY, Hold, Loan, db


@dataclass(frozen=True)
class LoanFilters:
    username: str | None = None
    book_id: int | None = None
    active: bool | None = None
    overdue: bool | None = None
    offset: int = 0
    limit: int = 20


def addressed(principal, username, to_themselves, to_staff):
    """A message for whoever reads it: "You already have this book", or "alice already has this book"."""
    return to_themselves if principal.username.lower() == username.lower() else to_staff


# Why a provisional account (registered online, not approved yet) may not borrow, by what would approve it.
WAITING_FOR_APPROVAL = {
    "email_confirmation": "Your account is waiting for approval: confirm your e-mail address (the link we sent "
                          "you, or add an address on your Account page), or ask at the desk",
    "librarian_approval": "Your account is waiting for a librarian's approval: ask at the desk",
}


def borrower(principal, requested_username, directory):
    """Whom a request is for: the caller, or (librarians only) an active patron they name, as registered."""
    if _for_themselves(principal, requested_username):
        return principal.username
    return _named_patron(principal, requested_username, directory).username


def lender_to(principal, requested_username, directory):
    """The patron a loan is for (as `borrower`; `neighbours.Patron`), once user-service says the account may
    borrow: one registered online stays provisional (it may hold, not borrow) until its address is confirmed or
    a librarian approves it, and an expired library card lends nothing until the desk renews it.
    Asked of user-service on every loan, the caller's own included, rather than read from a claim in the token:
    a token issued while the account was provisional lives on for an hour after the approval, and a claim would
    need this check behind it anyway."""
    patron = patron_asking(principal, requested_username, directory)
    if patron.provisional:
        raise Conflict(addressed(principal, patron.username, WAITING_FOR_APPROVAL[patron.awaiting],
                                 f"{patron.username}'s account is waiting for approval (registered online): "
                                 "approve it on their page to lend to them"))
    if patron.card_expired:
        expired = f" on {patron.card_expires_on:%-d %b %Y}" if patron.card_expires_on else ""
        raise Conflict(addressed(principal, patron.username,
                                 f"Your library card expired{expired}: please renew it at the desk to borrow",
                                 f"{patron.username}'s library card expired{expired}: renew it on their page "
                                 "to lend to them"))
    return patron


def patron_asking(principal, requested_username, directory):
    """The patron a request is for, as user-service has them (category, card): the caller, or (librarians) an
    active patron they name."""
    if _for_themselves(principal, requested_username):
        return directory.patron(principal.username, principal.token)
    return _named_patron(principal, requested_username, directory)


def _for_themselves(principal, requested_username):
    return not requested_username or requested_username.lower() == principal.username.lower()


def _named_patron(principal, requested_username, directory):
    """The active patron a librarian names, as user-service has them."""
    if not principal.is_librarian:
        raise Forbidden("Patrons may only borrow, return and place holds for themselves")
    patron = directory.patron(requested_username, principal.token)
    if not patron.active:
        raise Conflict(f"{patron.username}'s account is deactivated")
    return patron


def _active_count(*conditions):
    return db.session.scalar(sa.select(sa.func.count()).select_from(Loan).where(~Loan.returned, *conditions))


def _ready_hold(username, book_id):
    return db.session.scalars(sa.select(Hold).where(Hold.username == username, Hold.book_id == book_id,
                                                    Hold.status == "ready")).first()


PLACE_A_REQUEST = ("Borrowing on the web is a request at this library: place a request (a hold) and staff will "
                   "set a copy aside for you on the hold shelf")


def check_out(deps, principal, *, book_id, requested_username, now):
    """Borrow any free copy of a book (the seed's POST /borrowbook): for the caller, or (librarians) for a
    patron they name. A copy waiting on the hold shelf for this patron is theirs; free copies go to
    patrons waiting in line first; of the others, the first the patron's rules lend."""
    if not deps.policy.web_checkout and not principal.is_librarian:
        raise Conflict(PLACE_A_REQUEST)
    patron = lender_to(principal, requested_username, deps.directory)
    username = patron.username
    with _lending(principal, username):
        circulation.lock_patron(username)
        circulation.lock_book(book_id)
        shelf = circulation.shelf_of(deps.catalogue.items(book_id))
        _not_twice(principal, username, book_id)
        circulation.allocate(shelf, now, deps.policy)
        hold = _ready_hold(username, book_id)
        if hold is not None:
            barcode = hold.barcode
        else:
            lendable = [code for code in shelf.free
                        if rules.rule_for(patron.category, shelf.type_of(code), deps.policy).for_loan]
            if not lendable:
                raise Conflict(_none_free(book_id, shelf))
            barcode = lendable[0]
        rule = rules.rule_for(patron.category, shelf.type_of(barcode), deps.policy)
        _within_rule(principal, username, rule, shelf.type_of(barcode))
        loan = _lend(username, shelf, barcode, hold, rule, now, deps.policy)
        audit_loan("loan.checked_out", loan, audit.created(loan, LENT_FIELDS))
        return loan


def _none_free(book_id, shelf):
    if shelf.free:
        return "The copies on the shelf are for use in the library only (not for loan)"
    waiting = len(circulation.waiting_holds(book_id))
    return "No copy of this book is free right now" + (f"; {waiting} waiting for one: place a hold to join them"
                                                       if waiting else ": place a hold to be next")


@dataclass(frozen=True)
class Override:
    """A librarian lends past the rule, and says why: past the loan limit or to a copy not for loan, and (with
    `due_date`) until a day of their choosing. Recorded with the loan."""

    reason: str
    due_date: date | None = None


def check_out_item(deps, principal, *, barcode, requested_username, now, override=None):
    """The desk lends the item it scanned to a patron (librarians); `override` (Override) lends past the rule's
    limits, or until a date of the librarian's choosing."""
    patron = lender_to(principal, requested_username, deps.directory)
    username = patron.username
    book_id = deps.catalogue.item(barcode).book_id
    with _lending(principal, username):
        circulation.lock_patron(username)
        circulation.lock_book(book_id)
        shelf = circulation.shelf_of(deps.catalogue.items(book_id))
        if barcode not in shelf.circulating:
            raise Conflict(f"Item {barcode} is not in circulation (its status in the catalogue); "
                           "make it available first")
        if barcode in shelf.lent:
            raise Conflict(f"Item {barcode} is already on loan; check it in first")
        _not_twice(principal, username, book_id)
        rule = rules.rule_for(patron.category, shelf.type_of(barcode), deps.policy)
        if override is None:
            _within_rule(principal, username, rule, shelf.type_of(barcode))
        circulation.allocate(shelf, now, deps.policy)
        hold = shelf.trapped.get(barcode)
        if hold is not None and hold.username != username:
            raise Conflict(f"Item {barcode} is on the hold shelf for {hold.username} until "
                           f"{hold.pickup_by:%d %b}")
        if hold is None and barcode not in shelf.free:
            raise Conflict(f"Item {barcode} is lent as another copy of this book (a loan from before barcodes); "
                           "check that loan in first")
        own_hold = _ready_hold(username, book_id)
        set_aside = own_hold.barcode if own_hold is not None and own_hold.barcode != barcode else None
        if set_aside:  # the patron takes another copy: the one set aside for them goes to the next in line
            own_hold.barcode = barcode
        loan = _lend(username, shelf, barcode, own_hold, rule, now, deps.policy)
        if override is not None:
            _record_override(loan, override, principal, now, deps.policy.zone)
        audit_loan("loan.checked_out" if override is None else "loan.overridden", loan,
                   audit.created(loan, LENT_FIELDS + OVERRIDE_FIELDS))
        if set_aside:
            circulation.pass_on(book_id, set_aside, shelf.type_of(set_aside), now, deps.policy)
        return loan


@contextmanager
def _lending(principal, username):
    """A lending transaction: the partial unique indexes (a book twice, an item twice) are the last line
    of defence behind the checks, and say so in the reader's words."""
    try:
        with transaction():
            yield
    except IntegrityError as exc:
        raise Conflict(addressed(principal, username, "You already have this book",
                                 f"{username} already has this book")) from exc


def _not_twice(principal, username, book_id):
    if _active_count(Loan.username == username, Loan.book_id == book_id):
        raise Conflict(addressed(principal, username, "You already have this book",
                                 f"{username} already has this book"))


def _within_rule(principal, username, rule, item_type):
    """The patron may take one more item under `rule`: it lends this type, and they have fewer than its
    `max_loans` of the items it covers (every loan, for a rule of every item type)."""
    if not rule.for_loan:
        raise Conflict(f"Items of type {item_type} are for use in the library only (not for loan)")
    scope = [] if rule.item_type == ANY else [Loan.item_type == rule.item_type]
    if _active_count(Loan.username == username, *scope) >= rule.max_loans:
        what = "books" if rule.item_type == ANY else f"{rule.item_type} items"
        raise Conflict(addressed(principal, username,
                                 f"You have reached the loan limit of {rule.max_loans} {what}; "
                                 "return one to borrow another",
                                 f"{username} has reached the loan limit of {rule.max_loans} {what}"))


def _lend(username, shelf, barcode, hold, rule, now, policy):
    if hold is not None:
        hold.status, hold.closed_at = "fulfilled", now
        events.record("hold.fulfilled", username, hold_id=hold.id, book_id=hold.book_id, title=hold.title)
    loan = Loan(username=username, book_id=shelf.book_id, barcode=barcode, title=shelf.title, borrow_date=now,
                due_date=calendar.next_open(now + timedelta(days=rule.loan_days), policy.zone), returned=False,
                renewals=0, item_type=shelf.type_of(barcode), rule=rule.key, loan_days=rule.loan_days,
                max_renewals=rule.max_renewals, no_renewal_before_days=rule.no_renewal_before_days)
    db.session.add(loan)
    db.session.flush()
    events.record("loan.made", username, loan_id=loan.id, book_id=loan.book_id, title=loan.title,
                  barcode=barcode, due_date=loan.due_date.isoformat())
    return loan


# What the audit trail keeps of a loan made (library_common.audit), and of one made past the rule.
LENT_FIELDS = ("barcode", "book_id", "due_date", "rule", "loan_days", "max_renewals")
OVERRIDE_FIELDS = ("override_reason", "overridden_by")


def audit_loan(action, loan, changes):
    """An entry in the audit trail about a loan (none when the patron acts for themself)."""
    audit.record(action, loan.id, related=f"book:{loan.book_id}", subject=loan.username, changes=changes,
                 summary=f"{loan.barcode or 'a copy'} “{loan.title}” for {loan.username}")


def _record_override(loan, override, principal, now, zone):
    if override.due_date is not None:
        if override.due_date <= now.astimezone(zone).date():
            raise BadRequest("The due date must be after today", errors={"due_date": "Not after today"})
        # the end of that day where the library is: due "on" a day means by its close
        loan.due_date = datetime.combine(override.due_date, time(23, 59), tzinfo=zone).astimezone(now.tzinfo)
    loan.override_reason, loan.overridden_by = override.reason, principal.username


@dataclass(frozen=True)
class CheckIn:
    """What the desk is told when an item comes back: where it goes now."""

    loan: Loan
    # "shelf", "hold_shelf" (for `hold`), "out_of_circulation" (withdrawn, damaged... meanwhile), or
    # "awaiting_check_in" (returned on the web while a hold waits: to the hold shelf once the desk scans it)
    route: str
    hold: Hold | None = None


def check_in(deps, principal, *, book_id, requested_username, now):
    """The seed's return by book: the caller's loan of it, or (librarians, at the desk) a named patron's."""
    username = borrower(principal, requested_username, deps.directory)
    with transaction():
        loan = db.session.scalars(sa.select(Loan).where(Loan.username == username, Loan.book_id == book_id,
                                                        ~Loan.returned)).first()
        if loan is None:
            raise NotFound(addressed(principal, username, f"You have no loan of book {book_id}",
                                     f"{username} has no loan of book {book_id}"))
        return _return(deps, loan, now, at_desk=principal.is_librarian).loan


def return_loan(deps, *, loan_id, actor, now):
    """Return one loan by its id: the borrower's own (on the web), or any for a librarian (at the desk)."""
    with transaction():
        return _return(deps, _loan_of(actor, loan_id, "return"), now, at_desk=actor.is_librarian).loan


def _loan_of(actor, loan_id, verb):
    """The loan `loan_id` if `actor` may `verb` it (its borrower or a librarian); an anonymised one is gone."""
    loan = db.session.get(Loan, loan_id)
    if loan is None or loan.username is None:
        raise NotFound(f"No loan with id {loan_id}")
    if not actor.may_act_for(loan.username):
        raise Forbidden(f"You may only {verb} your own loans")
    return loan


def check_in_item(deps, *, barcode, now):
    """The desk scans a returned item: its loan ends (or, returned on the web, its wait for this scan), and the
    answer says where the item goes now."""
    item = deps.catalogue.item(barcode)
    with transaction():
        circulation.lock_book(item.book_id)
        claimed = db.session.scalars(sa.select(Loan).where(Loan.barcode == barcode, Loan.awaiting_check_in)
                                     .with_for_update()).first()
        if claimed is not None:
            claimed.awaiting_check_in = False
            audit_loan("loan.checked_in", claimed, {"awaiting_check_in": {"before": True, "after": False}})
            return _route(deps, claimed, now, item)
        loan = db.session.scalars(sa.select(Loan).where(Loan.barcode == barcode, ~Loan.returned)).first()
        if loan is None:  # a loan from before barcodes holds "some copy" of the book: this one, then
            loan = db.session.scalars(sa.select(Loan).where(Loan.book_id == item.book_id, Loan.barcode.is_(None),
                                                            ~Loan.returned).order_by(Loan.id)).first()
            if loan is None:
                pulled = _pulled_for_a_hold(deps, item, now)
                if pulled is not None:
                    return pulled
                raise _not_on_loan(item, deps.policy.zone)
            loan.barcode = barcode
        return _return(deps, loan, now, item)


def _pulled_for_a_hold(deps, item, now):
    """A copy from the shelf scanned in while a patron waits for its book (the pull list, or a copy found on the
    shelf): it goes to the hold shelf for the first in line. None when nobody waits or it is not free."""
    shelf = circulation.shelf_of(deps.catalogue.items(item.book_id))
    if item.barcode not in shelf.free:
        return None
    hold = circulation.pass_on(item.book_id, item.barcode, shelf.type_of(item.barcode), now, deps.policy)
    return CheckIn(None, "hold_shelf", hold) if hold is not None else None


def _not_on_loan(item, zone):
    """Why a scanned copy cannot be checked in, in the desk's words: it waits on the hold shelf (for whom), it is
    marked missing or lost (and has turned up: `errors.item_status` lets the desk offer "mark found"), or it
    simply is not out."""
    held = db.session.scalars(sa.select(Hold).where(Hold.barcode == item.barcode, Hold.status == "ready")).first()
    if held is not None:
        return Conflict(f"Item {item.barcode} ({item.title}) is on the hold shelf for {held.username} until "
                        f"{local_day(held.pickup_by, zone)}: it is not on loan", errors={"hold_shelf": held.username})
    if item.status in ("missing", "lost"):
        return Conflict(f"Item {item.barcode} ({item.title}) is marked {item.status} and is not on loan: mark it "
                        "found to put it back in circulation", errors={"item_status": item.status})
    return Conflict(f"Item {item.barcode} ({item.title}) is not on loan")


def _return(deps, loan, now, item=None, at_desk=True):
    """End a loan, then route its item: to the first patron waiting, or back to the shelf. Returned away from
    the desk (`at_desk` False: the patron, on the web) while a patron waits, the copy is still in the
    returner's bag: it waits for the desk's scan before anyone is told it is ready."""
    circulation.lock_book(loan.book_id)
    db.session.refresh(loan, with_for_update=True)
    if loan.returned:
        raise Conflict("This book has been returned already")
    before = audit.snapshot(loan, RETURN_FIELDS)
    loan.returned, loan.returned_date = True, now
    events.record("loan.returned", loan.username, loan_id=loan.id, book_id=loan.book_id, title=loan.title,
                  barcode=loan.barcode)
    audit_loan("loan.checked_in", loan, audit.changes(before, loan))
    if not at_desk and loan.barcode is not None and circulation.waiting_holds(
            loan.book_id, circulation.library_day(now, deps.policy)):
        loan.awaiting_check_in = True
        return CheckIn(loan, "awaiting_check_in")
    return _route(deps, loan, now, item)


RETURN_FIELDS = ("returned", "returned_date", "barcode")


def _route(deps, loan, now, item):
    """Where the item of a loan just ended goes."""
    if item is not None and not item.circulating:
        return CheckIn(loan, "out_of_circulation")
    if loan.barcode is None:  # some copy came back: a waiting patron gets one at the next allocation
        return CheckIn(loan, "shelf")
    hold = circulation.pass_on(loan.book_id, loan.barcode, loan.item_type, now, deps.policy)
    return CheckIn(loan, "hold_shelf" if hold else "shelf", hold)


def renewable_from(loan):
    """When renewals open for a loan (its rule's "no renewal before" days before the due date); None: now."""
    if loan.no_renewal_before_days is None:
        return None
    return loan.due_date - timedelta(days=loan.no_renewal_before_days)


def renew(deps, *, loan_id, actor, now):
    """Another loan period counted from today (never earlier than the current due date), up to the rule's
    renewals; not before the rule's "no renewal before" days, not when overdue, and not while another patron
    waits for the book and no other copy is free (what Koha and FOLIO do by default)."""
    zone = deps.policy.zone
    with transaction():
        loan = _loan_of(actor, loan_id, "renew")
        circulation.lock_book(loan.book_id)
        db.session.refresh(loan, with_for_update=True)
        if loan.returned:
            raise Conflict("This book has been returned already")
        if is_overdue(loan, now):
            raise Conflict("Overdue loans cannot be renewed; please return the book")
        if loan.renewals >= loan.max_renewals:
            raise Conflict(f"Already renewed {loan.renewals} times, the most allowed" if loan.max_renewals
                           else "Loans of this item cannot be renewed")
        opens = renewable_from(loan)
        if opens is not None and now < opens:
            raise Conflict(f"Too soon to renew: renewals open on {local_day(opens, zone)}, "
                           f"{loan.no_renewal_before_days} days before it is due")
        today = circulation.library_day(now, deps.policy)
        if circulation.waiting_holds(loan.book_id, today):
            shelf = circulation.shelf_of(deps.catalogue.items(loan.book_id))
            circulation.allocate(shelf, now, deps.policy)
            # (with copies pulled by staff, a free copy serves one waiting patron once pulled)
            if len(circulation.waiting_holds(loan.book_id, today)) > len(shelf.free):
                raise Conflict("Another patron is waiting for this book, so it cannot be renewed; "
                               "please return it by its due date")
        due = calendar.next_open(now + timedelta(days=loan.loan_days), zone)
        if due.astimezone(zone).date() <= loan.due_date.astimezone(zone).date():
            raise Conflict(f"Renewing today would give no more time: it is due on {local_day(loan.due_date, zone)} "
                           "either way")
        before = audit.snapshot(loan, ("renewals", "due_date"))
        loan.renewals += 1
        loan.due_date = due
        audit_loan("loan.renewed", loan, audit.changes(before, loan))
        events.record("loan.renewed", loan.username, loan_id=loan.id, book_id=loan.book_id, title=loan.title,
                      due_date=loan.due_date.isoformat())
    return loan


def local_day(moment, zone):
    """"5 Dec 2026": a day as the library's patrons read it (in its timezone)."""
    return f"{moment.astimezone(zone):%-d %b %Y}"


def is_overdue(loan, now):
    return not loan.returned and loan.due_date < now


def find_loans(filters, now):
    """(loans of one page, newest first; total matches)."""
    statement = sa.select(Loan)
    if filters.username:
        statement = statement.where(Loan.username == filters.username)
    if filters.book_id:
        statement = statement.where(Loan.book_id == filters.book_id)
    if filters.active is not None:  # written as NOT returned / returned so the partial indexes apply
        statement = statement.where(~Loan.returned if filters.active else Loan.returned)
    if filters.overdue is True:
        statement = statement.where(~Loan.returned, Loan.due_date < now)
    elif filters.overdue is False:
        statement = statement.where(sa.or_(Loan.returned, Loan.due_date >= now))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    loans = db.session.scalars(
        statement.order_by(Loan.borrow_date.desc(), Loan.id.desc()).offset(filters.offset).limit(filters.limit)
    ).all()
    active_books = {loan.book_id for loan in loans if not loan.returned}
    if active_books:
        _out, waiting = counts(sorted(active_books))
        for loan in loans:
            loan.holds_waiting = None if loan.returned else waiting[loan.book_id]
    return loans, total


def counts(book_ids=None):
    """({book_id: copies out (on loan or on the hold shelf)}, {book_id: holds waiting}), for these books or
    for every book with a copy out."""
    out = dict(db.session.execute(
        sa.select(sa.column("book_id"), sa.func.count()).select_from(
            sa.union_all(sa.select(Loan.book_id).where(sa.or_(~Loan.returned, Loan.awaiting_check_in)),
                         sa.select(Hold.book_id).where(Hold.status == "ready")).subquery())
        .where(*([sa.column("book_id").in_(book_ids)] if book_ids is not None else []))
        .group_by(sa.column("book_id"))).all())
    waiting = {}
    if book_ids is not None:
        waiting = dict(db.session.execute(
            sa.select(Hold.book_id, sa.func.count()).where(Hold.status == "waiting", Hold.book_id.in_(book_ids))
            .group_by(Hold.book_id)).all())
        out = {book_id: out.get(book_id, 0) for book_id in book_ids}
        waiting = {book_id: waiting.get(book_id, 0) for book_id in book_ids}
    return out, waiting


def copies_out(book_id):
    """Who has each copy of a book that is out, under the book's lock (books-service asks this before an
    item leaves circulation): {barcode: {state, username, due_date | pickup_by}}, and holds waiting."""
    return copies_out_of([book_id])[book_id]


def copies_out_of(book_ids):
    """copies_out for several books at once, under each one's lock (taken in id order, so two callers never
    wait for each other in a circle): {book_id: {items, unnumbered_loans, holds_waiting}}."""
    with transaction():
        for book_id in sorted(set(book_ids)):
            circulation.lock_book(book_id)
        loans = db.session.scalars(sa.select(Loan).where(Loan.book_id.in_(book_ids),
                                                         sa.or_(~Loan.returned, Loan.awaiting_check_in))).all()
        holds = db.session.scalars(sa.select(Hold).where(Hold.book_id.in_(book_ids),
                                                         Hold.status.in_(("ready", "waiting")))).all()
    books = {book_id: {"items": {}, "unnumbered_loans": 0, "holds_waiting": 0} for book_id in book_ids}
    for loan in loans:
        if loan.awaiting_check_in:
            books[loan.book_id]["items"][loan.barcode] = {"state": "awaiting_check_in", "username": loan.username}
        elif loan.barcode:
            books[loan.book_id]["items"][loan.barcode] = {"state": "on_loan", "username": loan.username,
                                                          "due_date": loan.due_date}
        else:
            books[loan.book_id]["unnumbered_loans"] += 1
    for hold in holds:
        if hold.status == "ready":
            books[hold.book_id]["items"][hold.barcode] = {"state": "on_hold_shelf", "username": hold.username,
                                                          "pickup_by": hold.pickup_by}
        else:
            books[hold.book_id]["holds_waiting"] += 1
    return books
