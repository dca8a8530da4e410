"""The lending rules, as plain functions over the database.

The copy count and the per-patron limit are enforced inside PostgreSQL: a borrow takes
transaction-scoped advisory locks on the patron and on the book (always in that order,
so two borrows never deadlock), then asks books-service how many copies the book has, counts
and inserts. Every worker process and every replica goes through the same locks, so N copies
yield exactly N loans.

books-service lowers a book's copies (or deletes it) first and then asks for its loans through
`settled_active_count`, which waits on the same book lock: a borrow in flight either read the
old copies and is counted, or waits and reads the new ones. Neither side can over-lend.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from library_common.errors import Conflict, Forbidden, NotFound
from library_common.transactions import transaction

from .models import Loan, db
from .neighbours import Account

_PATRON_LOCKS = 1
_BOOK_LOCKS = 2


@dataclass(frozen=True)
class LoanPolicy:
    loan_days: int
    max_active_loans: int
    max_renewals: int

    @property
    def loan_period(self):
        return timedelta(days=self.loan_days)


@dataclass(frozen=True)
class LoanFilters:
    username: str | None = None
    book_id: int | None = None
    active: bool | None = None
    overdue: bool | None = None
    offset: int = 0
    limit: int = 20


def borrower(principal, requested_username, directory):
    """Whom a loan request is for: the caller, or (librarians only) an existing user they name."""
    return _account_for(principal, requested_username, directory).username


def lender_to(principal, requested_username, directory):
    """Whom a borrow is for, as `borrower`; a deactivated account borrows nothing (Conflict)."""
    account = _account_for(principal, requested_username, directory)
    if not account.active:
        raise Conflict(f"{account.username}'s account is deactivated: it cannot borrow")
    return account.username


def _account_for(principal, requested_username, directory):
    if not requested_username or requested_username.lower() == principal.username.lower():
        return Account(principal.username, active=True)  # a valid token vouches for its own account
    if not principal.is_librarian:
        raise Forbidden("Patrons may only borrow and return for themselves")
    return directory.account(requested_username, principal.token)


def whose_loans(principal, requested_username):
    """The loans a caller may list: a librarian anyone's (or all, None); a patron only their own."""
    if principal.is_librarian:
        return requested_username
    if requested_username and requested_username.lower() != principal.username.lower():
        raise Forbidden("You may only see your own loans")
    return principal.username


def _lock(namespace, key_sql, params):
    db.session.execute(sa.text(f"SELECT pg_advisory_xact_lock({namespace}, {key_sql})"), params)


def _active_count(*conditions):
    return db.session.scalar(sa.select(sa.func.count()).select_from(Loan).where(~Loan.returned, *conditions))


def check_out(deps, principal, *, book_id, requested_username, now):
    """The seed's borrow: a copy of `book_id` for the caller, or (librarians) for an active patron they name."""
    username = lender_to(principal, requested_username, deps.directory)
    return borrow(deps.policy, deps.catalogue, username=username, book_id=book_id, now=now)


def borrow(policy, catalogue, *, username, book_id, now):
    """Lend a copy of book `book_id` to `username`; Conflict when the rules say no.

    The book's copies are asked of books-service (`catalogue`) while holding the book's lock, so a
    lowering or deletion there cannot slip between that answer and the loan (see the module's doc).
    """
    try:
        with transaction():
            _lock(_PATRON_LOCKS, "hashtext(:username)", {"username": username.lower()})
            _lock(_BOOK_LOCKS, ":book_id", {"book_id": book_id})
            book = catalogue.book(book_id)
            if _active_count(Loan.username == username, Loan.book_id == book.book_id):
                raise Conflict(f"{username} already has a copy of this book")
            if _active_count(Loan.username == username) >= policy.max_active_loans:
                raise Conflict(f"Loan limit reached: at most {policy.max_active_loans} books at a time")
            if _active_count(Loan.book_id == book.book_id) >= book.copies:
                raise Conflict("No copy of this book is free right now")
            loan = Loan(username=username, book_id=book.book_id, borrow_date=now, due_date=now + policy.loan_period,
                        returned=False, renewals=0)
            db.session.add(loan)
            db.session.flush()
    except IntegrityError as exc:  # the partial unique index is the last line of defence
        raise Conflict(f"{username} already has a copy of this book") from exc
    return loan


def check_in(deps, principal, *, book_id, requested_username, now):
    """The seed's return by book: the caller's loan of it, or (librarians) a named patron's."""
    username = borrower(principal, requested_username, deps.directory)
    with transaction():
        loan = db.session.scalars(
            sa.select(Loan).where(Loan.username == username, Loan.book_id == book_id, ~Loan.returned).with_for_update()
        ).first()
        if loan is None:
            raise NotFound(f"{username} has no active loan of book {book_id}")
        return _mark_returned(loan, now)


def return_loan(*, loan_id, actor, now):
    """Return one loan by its id: the borrower's own, or any for a librarian."""
    with transaction():
        loan = _loan_for(loan_id, actor, "return")
        if loan.returned:
            raise Conflict("This book has been returned already")
        return _mark_returned(loan, now)


def _mark_returned(loan, now):
    loan.returned = True
    loan.returned_date = now
    return loan


def _loan_for(loan_id, actor, action):
    """The loan, locked for a change by `actor`: NotFound, or Forbidden when it is someone else's."""
    loan = db.session.scalars(sa.select(Loan).where(Loan.id == loan_id).with_for_update()).first()
    if loan is None:
        raise NotFound(f"No loan with id {loan_id}")
    if not actor.may_act_for(loan.username):
        raise Forbidden(f"You may only {action} your own loans")
    return loan


def renew(policy, *, loan_id, actor, now):
    with transaction():
        loan = _loan_for(loan_id, actor, "renew")
        if loan.returned:
            raise Conflict("This book has been returned already")
        if is_overdue(loan, now):
            raise Conflict("Overdue loans cannot be renewed; please return the book")
        if loan.renewals >= policy.max_renewals:
            raise Conflict(f"Already renewed {loan.renewals} times, the most allowed")
        loan.renewals += 1
        loan.due_date = loan.due_date + policy.loan_period
    return loan


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
    return loans, total


def settled_active_count(book_id):
    """Copies of `book_id` on loan once the borrows of it in flight have finished (they hold its lock)."""
    with transaction():
        _lock(_BOOK_LOCKS, ":book_id", {"book_id": book_id})
        return _active_count(Loan.book_id == book_id)


def active_counts(book_ids=None):
    """{book_id: copies on loan}, for these books or for every book with a loan."""
    statement = sa.select(Loan.book_id, sa.func.count()).where(~Loan.returned).group_by(Loan.book_id)
    if book_ids is not None:
        statement = statement.where(Loan.book_id.in_(book_ids))
    counts = dict(db.session.execute(statement).all())
    if book_ids is not None:
        counts = {book_id: counts.get(book_id, 0) for book_id in book_ids}
    return counts
