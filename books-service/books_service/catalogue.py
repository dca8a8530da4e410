"""The catalogue's rules, as plain functions: search, add, change and remove books."""

import re
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from stdnum import isbn as stdnum_isbn

from library_common.errors import Conflict, DependencyUnavailable, NotFound
from library_common.transactions import transaction

from .models import Book, GenreCount, db

SORTS = {
    "title": (sa.func.lower(Book.title), Book.id),
    "author": (sa.func.lower(Book.author), sa.func.lower(Book.title), Book.id),
    "newest": (Book.created_at.desc(), Book.id.desc()),
}
# A search counts at most this many matches (25 pages): "more than 500" tells a reader as much as
# "363,814" would, and counting every match of a common word costs time that grows with the
# catalogue (at 1,000,000 books, a cap of 1,000 cost 2.6 ms a search on average, 500 costs 1.5 ms).
COUNT_LIMIT = 500
_DIGIT_HYPHEN = re.compile(r"(?<=\d)[-\s](?=\d)")
_WORD = re.compile(r"[^\W_]+")


def normalise_isbn(raw):
    """ISBN-10 or ISBN-13 with a valid checksum, as ISBN-13 digits; ValueError otherwise."""
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(raw))
    except stdnum_isbn.ValidationError as exc:
        raise ValueError("Not a valid ISBN-10 or ISBN-13") from exc


def prefix_tsquery(text):
    """'hitch adam' -> 'hitch:* & adam:*'; ISBNs typed with hyphens become one word. None if no words."""
    words = _WORD.findall(_DIGIT_HYPHEN.sub("", text.lower()))
    return " & ".join(f"{word}:*" for word in words) or None


@dataclass(frozen=True)
class BookQuery:
    q: str | None = None
    ids: tuple[int, ...] | None = None
    genre: str | None = None
    author: str | None = None
    only_available: bool = False
    availability: bool = True
    sort: str | None = None
    offset: int = 0
    limit: int = 20


class Total(NamedTuple):
    count: int
    complete: bool  # False: there are more than `count` (COUNT_LIMIT) matches


def browse(query: BookQuery, circulation):
    """One page of the catalogue with each book's availability, and the Total of matches.

    `circulation` (borrow-service) is asked once for the page, or once for every loan when only
    available books are wanted (which then fails rather than guess).
    """
    on_loan = circulation.on_loan() if query.only_available else None
    books, total = search(query, on_loan)
    if on_loan is None and query.availability:
        on_loan = circulation.on_loan_or_unknown([book.id for book in books])
    return count_availability(books, on_loan), total


def describe(book_id, circulation, availability=True):
    """One book, with its availability unless asked not to (then unknown, and borrow-service is not called)."""
    book = get_book(book_id)
    return count_availability([book], circulation.on_loan_or_unknown([book_id]) if availability else None)[0]


def search(query: BookQuery, on_loan=None):
    """(books of one page, Total of matches). `on_loan` ({book_id: count}) is needed only for only_available.

    Searches list in title order unless asked for relevance: a common word's first page is then read
    from the title index until 20 books match, instead of ranking every match.
    """
    statement = sa.select(Book)
    tsquery = prefix_tsquery(query.q) if query.q else None
    if query.ids is not None:
        statement = statement.where(Book.id.in_(query.ids))
    if tsquery:
        statement = statement.where(Book.search_vector.op("@@")(sa.func.to_tsquery("simple", tsquery)))
    if query.genre:
        statement = statement.where(sa.func.lower(Book.genre) == query.genre.lower())
    if query.author:
        statement = statement.where(sa.func.lower(Book.author) == query.author.lower())
    if query.only_available and on_loan:
        loans = sa.values(sa.column("book_id", sa.Integer), sa.column("count", sa.Integer), name="loans").data(
            list(on_loan.items())
        )
        statement = statement.outerjoin(loans, loans.c.book_id == Book.id).where(
            sa.func.coalesce(loans.c.count, 0) < Book.copies
        )
    if tsquery or query.ids is not None or query.author or query.only_available:
        total = _count_up_to_limit(statement)
    else:
        total = Total(books_in_genre(query.genre), True)
    sort = query.sort or "title"
    if sort == "relevance" and tsquery:
        rank = sa.func.ts_rank(Book.search_vector, sa.func.to_tsquery("simple", tsquery))
        page = statement.order_by(rank.desc(), Book.id).offset(query.offset).limit(query.limit)
        return db.session.scalars(page).all(), total
    # Find the page's ids from a covering index alone (no table rows read for the OFFSET), then
    # fetch just those rows: page 2,500 of 100,000 books costs ~3 ms instead of ~30 ms.
    order = SORTS.get(sort, SORTS["title"])  # relevance without words to rank: title order
    page_ids = statement.with_only_columns(Book.id).order_by(*order).offset(query.offset).limit(query.limit)
    page_ids = page_ids.subquery()
    books = db.session.scalars(sa.select(Book).join(page_ids, Book.id == page_ids.c.id).order_by(*order)).all()
    return books, total


def _count_up_to_limit(statement):
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(statement.limit(COUNT_LIMIT + 1).subquery()))
    return Total(min(counted, COUNT_LIMIT), counted <= COUNT_LIMIT)


def get_book(book_id):
    book = db.session.get(Book, book_id)
    if book is None:
        raise NotFound(f"No book with id {book_id}")
    return book


def _store(change):
    """Run `change()` in a transaction; a duplicate ISBN becomes a Conflict said next to the field."""
    try:
        with transaction():
            return change()
    except IntegrityError as exc:
        if "isbn" in str(exc.orig):
            raise Conflict("A book with this ISBN is already in the catalogue",
                           errors={"isbn": "Already in the catalogue"}) from exc
        raise


def add_book(fields):
    def insert():
        book = Book(**fields)
        db.session.add(book)
        db.session.flush()
        return book

    book = _store(insert)
    book.available_copies = book.copies  # new: no loans yet
    return book


# PUT replaces a book: what the request leaves out goes back to these.
REPLACED_DEFAULTS = {"isbn": None, "published_year": None, "description": None, "copies": 1}


def replace_book(book_id, fields, circulation, token):
    return update_book(book_id, REPLACED_DEFAULTS | fields, circulation, token)


def update_book(book_id, changes, circulation, token):
    """Apply changes. Fewer copies are applied first and then checked against the loans (see
    `_confirm_or_undo`); the change is undone, and refused, when more copies than that are on loan."""
    book = get_book(book_id)
    before = {field: getattr(book, field) for field in changes}
    new_copies = changes.get("copies", book.copies)
    lowered = new_copies < book.copies

    def apply(values):
        def change():
            current = get_book(book_id)
            for field, value in values.items():
                setattr(current, field, value)
            return current

        return change

    book = _store(apply(changes))
    if lowered:
        _confirm_or_undo(book_id, new_copies, circulation, token, undo=lambda: _store(apply(before)))
    return count_availability([book], circulation.on_loan_or_unknown([book_id]))[0]


def delete_book(book_id, circulation, token):
    """Remove a book: deleted first, then checked for loans (see `_confirm_or_undo`); put back, with the
    same id and fields, and refused while copies are on loan."""
    book = get_book(book_id)
    row = {column.key: getattr(book, column.key) for column in Book.__table__.columns if column.computed is None}
    with transaction():
        db.session.delete(book)

    def put_back():
        with transaction():
            db.session.execute(sa.insert(Book).values(**row))

    _confirm_or_undo(book_id, 0, circulation, token, undo=put_back)


def _confirm_or_undo(book_id, copies, circulation, token, undo):
    """A change leaving `copies` copies is committed; now ask borrow-service for the book's loans through the
    call that waits for borrows in flight. Each borrow reads the copies while holding that same lock, so it
    either read the old number and is counted here, or reads the new one: no borrow can slip between.
    When the loans exceed `copies`, or cannot be counted, the change is undone."""
    try:
        on_loan = circulation.settled_on_loan(book_id, token)
    except DependencyUnavailable:
        undo()
        raise
    if on_loan > copies:
        undo()
        if copies == 0:
            raise Conflict("This book has copies on loan; check them in before deleting it")
        raise Conflict(f"{on_loan} copies are on loan; copies cannot go below that",
                       errors={"copies": f"At least {on_loan} (copies on loan)"})


def books_in_genre(genre=None):
    """Books in the catalogue, or in `genre` (any letter case), from the tally the triggers keep."""
    tally = sa.select(sa.func.coalesce(sa.func.sum(GenreCount.books), 0))
    if genre:
        tally = tally.where(sa.func.lower(GenreCount.genre) == genre.lower())
    return db.session.scalar(tally)


def genre_counts():
    rows = db.session.execute(sa.select(GenreCount.genre, GenreCount.books).where(GenreCount.books > 0)
                              .order_by(sa.func.lower(GenreCount.genre), GenreCount.genre))
    return [{"genre": genre, "count": count} for genre, count in rows]


def count_availability(books, on_loan):
    """Set each book's `available_copies` from `on_loan` ({book_id: copies out}); None (unknown) when it is."""
    for book in books:
        book.available_copies = None if on_loan is None else max(0, book.copies - on_loan.get(book.id, 0))
    return books
