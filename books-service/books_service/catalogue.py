"""The catalogue's rules, as plain functions: search, add, change and remove books."""

import re
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from stdnum import isbn as stdnum_isbn

from library_common.errors import Conflict, DependencyUnavailable, NotFound
from library_common.transactions import transaction

from . import inventory
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
    counts = circulation.counts() if query.only_available else None
    books, total = search(query, counts.out if counts else None)
    if counts is None and query.availability:
        counts = circulation.counts_or_unknown([book.id for book in books])
    return count_availability(books, counts), total


def describe(book_id, circulation, availability=True):
    """One book, with its availability unless asked not to (then unknown, and borrow-service is not called)."""
    book = get_book(book_id)
    return count_availability([book], circulation.counts_or_unknown([book_id]) if availability else None)[0]


def search(query: BookQuery, out=None):
    """(books of one page, Total of matches). `out` ({book_id: copies out}) is needed only for only_available.

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
    if query.only_available and out:
        loans = sa.values(sa.column("book_id", sa.Integer), sa.column("count", sa.Integer), name="loans").data(
            list(out.items())
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
    """A new book with `copies` items (1 unless said), each with a generated barcode."""
    fields = dict(fields)
    copies = fields.pop("copies", 1)

    def insert():
        book = Book(**fields)
        db.session.add(book)
        db.session.flush()
        inventory.insert_items(book.id, copies)
        return book

    book = _store(insert)
    db.session.refresh(book)  # copies, counted from its items by the database
    book.available_copies, book.holds_waiting = book.copies, 0  # new: nothing is out, nobody waits
    return book


# PUT replaces a book: what the request leaves out goes back to these.
REPLACED_DEFAULTS = {"isbn": None, "published_year": None, "description": None, "copies": 1}


def replace_book(book_id, fields, circulation, token):
    return update_book(book_id, REPLACED_DEFAULTS | fields, circulation, token)


def update_book(book_id, changes, circulation, token):
    """Apply changes. More copies: new items with generated barcodes; fewer: free items are withdrawn,
    and never below the copies that are out (asked of borrow-service only then)."""
    changes = dict(changes)
    book = get_book(book_id)
    new_copies = changes.pop("copies", book.copies)
    if new_copies < book.copies:
        inventory.withdraw_free_items(book, book.copies - new_copies, circulation, token)

    def apply():
        for field, value in changes.items():
            setattr(book, field, value)
        if new_copies > book.copies:
            inventory.insert_items(book.id, new_copies - book.copies)

    _store(apply)
    db.session.refresh(book)
    return count_availability([book], circulation.counts_or_unknown([book_id]))[0]


def delete_book(book_id, circulation, token):
    """Remove a book and its items; refused while any copy is out or patrons wait for it.

    Its items leave circulation first, so no borrow takes one while borrow-service is asked."""
    book = get_book(book_id)
    circulating = [item for item in book.items if item.status == inventory.CIRCULATING]
    with transaction():
        for item in circulating:
            item.status = "withdrawn"
    try:
        state = circulation.book_state(book_id, token)
    except DependencyUnavailable:
        inventory.restore_status(circulating, inventory.CIRCULATING)
        raise
    if state.out or state.holds_waiting:
        inventory.restore_status(circulating, inventory.CIRCULATING)
        if state.out:
            raise Conflict("This book has copies out (on loan or on the hold shelf); check them in before "
                           "deleting it")
        raise Conflict(f"{state.holds_waiting} patrons are waiting for this book; cancel their holds before "
                       "deleting it")
    with transaction():
        db.session.delete(book)


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


def count_availability(books, counts):
    """Set each book's `available_copies` and `holds_waiting` from borrow-service's Counts; None (unknown)
    when those are."""
    for book in books:
        if counts is None:
            book.available_copies = book.holds_waiting = None
        else:
            book.available_copies = max(0, book.copies - counts.out.get(book.id, 0))
            book.holds_waiting = counts.holds_waiting.get(book.id, 0)
    return books
