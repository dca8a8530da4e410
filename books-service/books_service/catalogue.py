"""The catalogue's rules, as plain functions: search, add, change and remove books."""

import contextlib
import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import NamedTuple

import pycountry
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.exc import IntegrityError
from stdnum import isbn as stdnum_isbn

from library_common import audit
from library_common.errors import Conflict, DependencyUnavailable, PreconditionFailed, found
from library_common.search_text import author_sort_key, book_search_columns, prefix_tsquery, title_sort_key, words
from library_common.transactions import transaction

from . import inventory
from .genres import find_genre, genre_for_filing
from .models import Book, FacetCount, db

# Orders a page can be listed in; every one ends in the id, so pages never overlap. Books without a
# year come last whether the newest or the oldest are first.
SORTS = {
    "title": (Book.title_sort, Book.id),
    "author": (Book.author_sort, Book.title_sort, Book.id),
    "newest": (Book.published_year.desc().nulls_last(), Book.title_sort, Book.id),
    "oldest": (Book.published_year.asc().nulls_last(), Book.title_sort, Book.id),
    "added": (Book.created_at.desc(), Book.id.desc()),
}
RELEVANCE = "relevance"
# A search counts at most this many matches (25 pages): "more than 500" tells a reader as much as
# "363,814" would, and counting every match of a common word costs time that grows with the
# catalogue (at 1,000,000 books, a cap of 1,000 cost 2.6 ms a search on average, 500 costs 1.5 ms).
COUNT_LIMIT = 500
# A search finding this many books or fewer is offered a correction, as Blacklight does.
FEW_MATCHES = 5
# Relevance is PostgreSQL's cover density ranking (ts_rank_cd: the searched words close together, as often
# as they are, weighted A-D), normalisation 1 dividing by 1 + log(words in the document): among books
# matching in the title, the one whose record says little else ranks first, and "The Hunger Games (The
# Hunger Games, #1)" above "The Hunger Games Tribute Guide". Chosen on the search-quality set
# (tests/search_quality): 69 of 88 with ts_rank_cd, 67-68 with ts_rank, before typos were corrected.
RANK_NORMALISATION = 1
# How much popularity counts (see relevance): 10 times the readers ranks 10 ** 0.3, twice as high, 100 times four
# times. Chosen on the search-quality set (README "Search": 88 of 88 with 0.3; 85 with the logarithm of the
# popularity instead, 86 with 0.1), checked against 300 searches for the whole title of a little-read goodbooks
# book (297 in the first three with EXACT_TITLE, 294 with neither), so that popularity does not bury them.
POPULARITY_WEIGHT = 0.3
EXACT_TITLE = 3
_ISBN_LIKE = re.compile(r"^(\d{8,9}|\d{9}[\dx]|\d{12}[\dx])$")


def normalise_isbn(raw):
    """ISBN-10 or ISBN-13 with a valid checksum, as ISBN-13 digits; ValueError otherwise."""
    try:
        return stdnum_isbn.to_isbn13(stdnum_isbn.validate(raw))
    except stdnum_isbn.ValidationError as exc:
        raise ValueError("Not a valid ISBN-10 or ISBN-13") from exc


def normalise_language(raw):
    """An ISO 639 code ("en", "eng", "en-US", "fre") as ISO 639-1 where the language has one ("en", "fr"),
    else its ISO 639-2 code; ValueError otherwise."""
    code = re.split(r"[-_]", raw.strip(), maxsplit=1)[0].lower()
    if len(code) == 2:
        language = pycountry.languages.get(alpha_2=code)
    else:
        language = pycountry.languages.get(alpha_3=code) or pycountry.languages.get(bibliographic=code)
    if language is None:
        raise ValueError("Not an ISO 639 language code (such as en, eng or fr)")
    return getattr(language, "alpha_2", language.alpha_3)


def language_name(code):
    language = pycountry.languages.get(alpha_2=code) if len(code) == 2 else pycountry.languages.get(alpha_3=code)
    return language.name if language else code


# An ISBN as people write it: digits with hyphens or spaces, an ISBN-10 perhaps ending in X ("0-439-65548-X").
# words() keeps digits joined by hyphens together but would split off the final "-X", so a search finds ISBNs
# in the text as typed first.
_ISBN_WRITTEN = re.compile(r"(?<![\w-])\d[\d -]{6,15}[\dXx](?![\w-])")


def _as_isbn13(written):
    """The ISBN-13 of an ISBN as written (an ISBN-10 that lost its leading zeros too); the text itself if it is none."""
    compact = re.sub(r"[\s-]", "", written.group(0))
    with contextlib.suppress(ValueError):
        return normalise_isbn(compact.rjust(10, "0") if compact.isdigit() and len(compact) < 10 else compact)
    return written.group(0)


def query_words(text):
    """The folded words of a search; one that reads as an ISBN (hyphens or not, ISBN-10 even without its
    leading zeros, as spreadsheets write them) becomes the ISBN-13 the catalogue stores."""
    found = []
    for word in words(_ISBN_WRITTEN.sub(_as_isbn13, text or "")):
        if _ISBN_LIKE.match(word):
            with contextlib.suppress(ValueError):  # not an ISBN after all: searched as typed
                word = normalise_isbn(word.rjust(10, "0") if len(word) < 10 else word)
        found.append(word)
    return found


@dataclass(frozen=True)
class BookQuery:
    q: str | None = None
    ids: tuple[int, ...] | None = None
    genre: str | None = None
    author: str | None = None
    language: str | None = None
    decade: int | None = None
    only_available: bool = False
    availability: bool = True
    sort: str | None = None
    offset: int = 0
    limit: int = 20

    @property
    def words(self):
        return query_words(self.q)


class Total(NamedTuple):
    count: int
    complete: bool  # False: there are more than `count` (COUNT_LIMIT) matches


class Found(NamedTuple):
    books: list
    total: Total
    by_title_instead: bool = False  # relevance was asked for, but the search is too broad to rank: title order
    did_you_mean: list | None = None  # a corrected search that finds more
    corrected: bool = False  # the books are the corrected search's (the search as typed found none)


def browse(query: BookQuery, circulation, vocabulary):
    """One page of the catalogue with each book's availability, the Total of matches, and a correction
    when a search finds few books (FEW_MATCHES) and a corrected one finds more; when the search as typed
    finds nothing, the books are the corrected search's.

    `circulation` (borrow-service) is asked once for the page, or once for every loan when only
    available books are wanted (which then fails rather than guess).
    """
    counts = circulation.counts() if query.only_available else None
    on_loan = counts.out if counts else None
    searched = query.words
    found = search(query, on_loan, searched)
    if searched and found.total.count <= FEW_MATCHES:
        corrections = vocabulary.corrections(searched, found.total.count > 0)
        corrected = _better_search(query, on_loan, corrections, found.total.count)
        if corrected and found.total.count == 0:
            found = search(query, on_loan, corrected)._replace(did_you_mean=corrected, corrected=True)
        elif corrected:
            found = found._replace(did_you_mean=corrected)
    if counts is None and query.availability:
        counts = circulation.counts_or_unknown([book.id for book in found.books])
    count_availability(found.books, counts)
    return found


def _better_search(query, on_loan, corrections, matches):
    """The first corrected search that finds more books than `matches`; None when none does."""
    for corrected in corrections:
        if count_matches(query, on_loan, corrected).count > matches:
            return corrected
    return None


def describe(book_id, circulation, availability=True):
    """One book, with its availability unless asked not to (then unknown, and borrow-service is not called)."""
    book = get_book(book_id)
    return count_availability([book], circulation.counts_or_unknown([book_id]) if availability else None)[0]


def relevance(searched):
    """Cover density (see RANK_NORMALISATION), times the book's popularity to the power POPULARITY_WEIGHT, times
    EXACT_TITLE when the search is the book's whole title. Among books that match alike, the work readers mean
    ranks above its box sets and companions, which the data has far fewer readers of ("The Fellowship of the
    Ring" above "The Lord of the Rings Sketchbook"); a reader who typed a whole title still gets that book
    before a more popular one that merely shares a word with it ("George": the book of that name, not Orwell's).
    A book the data says nothing of (popularity 0) weighs 1."""
    whole_title = sa.case((Book.title_sort == title_sort_key(" ".join(searched)), EXACT_TITLE), else_=1.0)
    return (sa.func.ts_rank_cd(Book.search_vector, _tsquery(searched), RANK_NORMALISATION)
            * sa.func.power(1 + Book.popularity, POPULARITY_WEIGHT) * whole_title)


def _tsquery(searched, weights=""):
    # a cast, not to_tsquery: the words are already folded and split (as the documents were), and
    # to_tsquery's parser would split them again ("4e5a2e5b" into "4e5" and "a2e5b", like a number)
    return sa.cast(prefix_tsquery(searched, weights), TSQUERY)


def decade_of(year_column):
    return year_column // 10 * 10


def matching(query: BookQuery, on_loan=None, searched=None):
    """SELECT books matching the query's filters and words (`searched`, default the query's own)."""
    searched = query.words if searched is None else searched
    statement = sa.select(Book)
    if query.ids is not None:
        statement = statement.where(Book.id.in_(query.ids))
    if searched:
        statement = statement.where(Book.search_vector.op("@@")(_tsquery(searched)))
    if query.genre:
        genre = find_genre(query.genre)
        statement = statement.where(Book.genre == (genre.name if genre else query.genre))
    if query.author:
        # the sort key finds the author's books in its index; the name itself tells apart two authors
        # whose names fold to the same key
        statement = statement.where(Book.author_sort == author_sort_key(query.author),
                                    sa.func.lower(Book.author) == query.author.lower())
    if query.language:
        statement = statement.where(Book.language == query.language)
    if query.decade is not None:
        statement = statement.where(Book.published_year.between(query.decade, query.decade + 9))
    if query.only_available and on_loan:
        loans = _loans_table(on_loan)
        statement = statement.outerjoin(loans, loans.c.book_id == Book.id).where(
            sa.func.coalesce(loans.c.count, 0) < Book.copies
        )
    return statement


def _loans_table(on_loan):
    """borrow-service's {book id: copies out} as a table `loans` (book_id, count), sent as two arrays: two
    parameters however many books are out. (A VALUES list, a row of parameters per book, cost about 0.13 ms a
    book to plan and run: 650 ms for each query once 5,000 books were out.)"""
    return sa.select(sa.func.unnest(sa.cast(list(on_loan), ARRAY(sa.Integer))).label("book_id"),
                     sa.func.unnest(sa.cast(list(on_loan.values()), ARRAY(sa.Integer))).label("count")
                     ).subquery("loans")


def _only_genre_filter(query, searched):
    return not (searched or query.ids is not None or query.author or query.language or query.decade is not None
                or query.only_available)


def count_matches(query: BookQuery, on_loan=None, searched=None):
    searched = query.words if searched is None else searched
    if _only_genre_filter(query, searched):
        return Total(books_in_genre(query.genre), True)
    if _only_genre_filter(replace(query, only_available=False), searched):
        return Total(_available_in_genre(query.genre, on_loan or {}), True)
    return _count_up_to_limit(matching(query, on_loan, searched))


def _available_in_genre(genre, on_loan):
    """Books with a copy free, in the catalogue or a genre, counted whole (so that "available now" pages through
    the whole catalogue): every book (the tally) less those without a copy (a small partial index) and those
    whose copies are all out, among the books borrow-service counts loans of."""
    filed = find_genre(genre) if genre else None
    in_genre = [Book.genre == (filed.name if filed else genre)] if genre else []
    without_copies = db.session.scalar(sa.select(sa.func.count()).where(Book.copies == 0, *in_genre))
    all_out = 0
    if on_loan:
        loans = _loans_table(on_loan)
        all_out = db.session.scalar(sa.select(sa.func.count()).select_from(Book).join(loans, loans.c.book_id == Book.id)
                                    .where(Book.copies > 0, loans.c.count >= Book.copies, *in_genre))
    return books_in_genre(genre) - without_copies - all_out


def search(query: BookQuery, on_loan=None, searched=None):
    """Found: the books of one page and the Total of matches. `on_loan` ({book_id: count}) is needed only
    for only_available.

    Searches list in title order unless asked for relevance: a common word's first page is then read
    from the title index until 20 books match, instead of ranking every match. Relevance ranks a search
    of at most COUNT_LIMIT matches; a broader one is listed in title order (`by_title_instead`), since
    ranking all 363,814 books with a common word costs a second at 1,000,000 books and tells a reader
    little: another word helps more.
    """
    searched = query.words if searched is None else searched
    statement = matching(query, on_loan, searched)
    total = count_matches(query, on_loan, searched)
    sort = query.sort or "title"
    if sort == RELEVANCE and searched and total.complete:
        page = statement.order_by(relevance(searched).desc(), Book.title_sort, Book.id)
        page = page.offset(query.offset).limit(query.limit)
        return Found(db.session.scalars(page).all(), total)
    # Find the page's ids from a covering index alone (no table rows read for the OFFSET), then
    # fetch just those rows: page 2,500 of 100,000 books costs ~3 ms instead of ~30 ms.
    order = SORTS.get(sort, SORTS["title"])  # relevance without words to rank: title order
    page_ids = statement.with_only_columns(Book.id).order_by(*order).offset(query.offset).limit(query.limit)
    page_ids = page_ids.subquery()
    books = db.session.scalars(sa.select(Book).join(page_ids, Book.id == page_ids.c.id).order_by(*order)).all()
    return Found(books, total, by_title_instead=sort == RELEVANCE and bool(searched))


def _count_up_to_limit(statement):
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(statement.limit(COUNT_LIMIT + 1).subquery()))
    return Total(min(counted, COUNT_LIMIT), counted <= COUNT_LIMIT)


def get_book(book_id):
    return found(db.session.get(Book, book_id), f"No book with id {book_id}")


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


def _file(book):
    """Everything derived from a book's own fields: its genre's name in the controlled list, its sort
    keys and its search document (library_common.search_text)."""
    with db.session.no_autoflush:  # a changed book must not be written before its genre is in the list
        book.genre = genre_for_filing(book.genre)
    derived = book_search_columns(book.title, book.author, book.isbn, book.subjects, book.description, book.language,
                                  book.original_title)
    for column, value in derived.items():
        setattr(book, column, value)


def add_book(fields):
    """A new book with `copies` items (1 unless said), each with a generated barcode."""
    fields = dict(fields)
    copies = fields.pop("copies", 1)

    def insert():
        book = Book(**{"subjects": [], **fields})
        _file(book)
        db.session.add(book)
        db.session.flush()
        inventory.insert_items(book.id, copies)
        audit_book("book.created", book, audit.created(book, BOOK_FIELDS) | {"copies": {"after": copies}})
        return book

    book = _store(insert)
    db.session.refresh(book)  # copies, counted from its items by the database
    book.available_copies, book.holds_waiting = book.copies, 0  # new: nothing is out, nobody waits
    return book


# What the audit trail keeps of a book's changes (library_common.audit): its own fields, not those derived.
BOOK_FIELDS = ("title", "original_title", "author", "genre", "isbn", "published_year", "description", "language",
               "subjects", "cover_url", "popularity")


def audit_book(action, book, changes):
    audit.record(action, book.id, summary=book.title, changes=changes)


# PUT replaces a book: what the request leaves out goes back to these.
REPLACED_DEFAULTS = {"isbn": None, "published_year": None, "description": None, "copies": 1, "language": None,
                     "subjects": [], "cover_url": None, "original_title": None}


def replace_book(book_id, fields, circulation, token, if_match=None):
    return update_book(book_id, REPLACED_DEFAULTS | fields, circulation, token, if_match)


def version_of(book):
    """A book's version, as its ETag: it changes with every save (`updated_at`), so an edit made from an older
    read can be refused (If-Match) instead of silently undoing the save in between."""
    return f'"{book.id}.{book.updated_at.timestamp():.6f}"'


def _unchanged_since(book, if_match):
    if if_match is not None and if_match != version_of(book):
        raise PreconditionFailed(f"“{book.title}” was changed by someone else since you opened it: reload it to see "
                                 "their changes, then make yours again")


def update_book(book_id, changes, circulation, token, if_match=None):
    """Apply changes. More copies: new items with generated barcodes; fewer: free items are withdrawn,
    and never below the copies that are out (asked of borrow-service only then). `if_match`: the version the
    caller read (PreconditionFailed when the book has been saved since)."""
    changes = dict(changes)
    book = get_book(book_id)
    _unchanged_since(book, if_match)
    new_copies = changes.pop("copies", book.copies)
    copies_before = book.copies
    if new_copies < book.copies:
        inventory.withdraw_free_items(book, book.copies - new_copies, circulation, token)

    def apply():
        if if_match is not None:  # again under the row's lock: two saves from one version, one wins
            db.session.refresh(book, with_for_update=True)
            _unchanged_since(book, if_match)
        before = audit.snapshot(book, BOOK_FIELDS)
        for field, value in changes.items():
            setattr(book, field, value)
        _file(book)
        if new_copies > book.copies:
            inventory.insert_items(book.id, new_copies - book.copies)
        copies = {"copies": {"before": copies_before, "after": new_copies}} if new_copies != copies_before else {}
        audit_book("book.updated", book, audit.changes(before, book) | copies)

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
        audit_book("book.deleted", book, audit.deleted(book, BOOK_FIELDS))
        db.session.delete(book)


def books_in_genre(genre=None):
    """Books in the catalogue, or in `genre` (any letter case or spacing), from the tally the triggers keep."""
    tally = sa.select(sa.func.coalesce(sa.func.sum(FacetCount.books), 0)).where(FacetCount.facet == "genre")
    if genre:
        filed = find_genre(genre)
        tally = tally.where(FacetCount.value == (filed.name if filed else genre))
    # sum() of a bigint is numeric in PostgreSQL, a Decimal here, whose floor division rounds towards zero: the
    # pages' Link header counted one page too few for an odd number of books (7 by 2: "last" was page 3)
    return int(db.session.scalar(tally))


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


# Facets: how many of the matching books have each genre, author, language and publication decade.
FACETS = ("genre", "author", "language", "decade")
FACET_VALUES_SHOWN = {"genre": 50, "author": 10, "language": 20, "decade": 30}
# A search or filter counts its facets over at most this many matches (then `complete` is false): the
# counts of "the" over 363,814 books would cost a second; over 1,000 they take a few milliseconds and
# still show where the matches lie. The whole catalogue's facets come from the tally, exact and at once.
FACET_COUNT_LIMIT = 1000


def facet_counts(query: BookQuery, circulation):
    """{facet: [{value, label, count}], "available": count or None, "complete": bool} for the query's
    matches (the same filters as browse). Books available now are counted only where that is cheap: when
    the matches are at most a page of 100 (one question to borrow-service), or all available."""
    on_loan = circulation.counts().out if query.only_available else None
    if _only_genre_filter(query, query.words) and not query.genre:
        counts, matched, complete = _facets_from_tally(), None, True
    else:
        counts, matched, complete = _facets_of_matches(query, on_loan)
    available = None
    if complete and matched is not None:
        if query.only_available:
            available = matched
        elif matched <= 100:
            copies = dict(db.session.execute(matching(query).with_only_columns(Book.id, Book.copies)).all())
            loans = circulation.counts_or_unknown(list(copies))
            if loans is not None:
                available = sum(1 for book_id, count in copies.items() if count > loans.out.get(book_id, 0))
    facets = {facet: _shown(facet, counts.get(facet, {})) for facet in FACETS}
    return {**facets, "available": available, "complete": complete}


def _shown(facet, counts):
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:FACET_VALUES_SHOWN[facet]]
    if facet == "decade":  # decades read best in time order
        ranked.sort(key=lambda item: int(item[0]))
    return [{"value": value, "label": _facet_label(facet, value), "count": count} for value, count in ranked]


def _facet_label(facet, value):
    if facet == "language":
        return language_name(value)
    if facet == "decade":
        return f"{value}s"
    return value


def _facets_from_tally():
    """The whole catalogue's most common values of each facet, from the tally (an index walk per facet)."""
    per_facet = [
        sa.select(FacetCount.facet, FacetCount.value, FacetCount.books)
        .where(FacetCount.facet == facet, FacetCount.books > 0)
        .order_by(FacetCount.books.desc(), FacetCount.value).limit(FACET_VALUES_SHOWN[facet]).subquery().select()
        for facet in FACETS
    ]
    counts = {}
    for facet, value, books in db.session.execute(sa.union_all(*per_facet)):
        counts.setdefault(facet, {})[value] = books
    return counts


def _facets_of_matches(query, on_loan):
    """(counts, number of matches, complete), counted over at most FACET_COUNT_LIMIT matches in one
    grouped query (GROUPING SETS: one group per facet, and () for the number of matches)."""
    sample = (matching(query, on_loan)
              .with_only_columns(Book.genre, Book.author, Book.language,
                                 sa.cast(decade_of(Book.published_year), sa.Text).label("decade"))
              .limit(FACET_COUNT_LIMIT + 1).subquery())
    columns = [sample.c[facet] for facet in FACETS]
    grouped = sa.select(*columns, sa.func.count()).group_by(
        sa.func.grouping_sets(*[sa.tuple_(column) for column in columns], sa.tuple_()))
    counts, matched = {}, 0
    for *values, count in db.session.execute(grouped):
        present = [(facet, value) for facet, value in zip(FACETS, values, strict=True) if value is not None]
        if present:
            counts.setdefault(present[0][0], {})[present[0][1]] = count
        elif not any(values):
            matched = max(matched, count)  # the () group; a facet whose value is null gives a smaller row
    complete = matched <= FACET_COUNT_LIMIT
    return counts, matched if complete else FACET_COUNT_LIMIT, complete


# Suggestions come from a sample of the books matching what was typed, so that a prefix found in many
# authors' names but few titles never walks the whole title index looking for title matches.
SUGGESTION_SAMPLE = 200


def suggestions(text, limit=8):
    """Titles and authors for a search box as someone types: [{"kind": "title"|"author", "text": ...}].

    Among the first SUGGESTION_SAMPLE books every typed word matches (folded, so accents never matter):
    the authors most of them are by, whose names have the words, then titles with the words, in title
    order."""
    searched = query_words(text)
    if not searched or len("".join(searched)) < 2:
        return []
    in_title = Book.search_vector.op("@@")(_tsquery(searched, "A"))
    in_author = Book.search_vector.op("@@")(_tsquery(searched, "B"))
    sample = db.session.execute(
        sa.select(Book.title, Book.title_sort, Book.author, in_title, in_author)
        .where(Book.search_vector.op("@@")(_tsquery(searched))).limit(SUGGESTION_SAMPLE)).all()
    authors = Counter(author for _title, _key, author, _in_title, by_author in sample if by_author)
    named = [author for author, _count in sorted(authors.items(), key=lambda item: (-item[1], item[0]))[:3]]
    titles = dict.fromkeys(title for title, _key, _author, titled, _by_author in sorted(sample, key=lambda row: row[1])
                           if titled)
    return ([{"kind": "author", "text": author} for author in named]
            + [{"kind": "title", "text": title} for title in list(titles)[:limit - len(named)]])
