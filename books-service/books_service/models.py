from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from library_common.audit import audit_model
from library_common.rate_limits import rate_limit_table

db = SQLAlchemy()
AuditEntry = audit_model(db)

# Book.search_vector, title_sort and author_sort are built in Python (library_common.search_text: folded,
# so accents never matter) whenever a book is written; see catalogue._index_for_search.
# Sort keys hold folded ASCII-ish text and compare byte by byte ("C"): the same order on every server.
SORT_COLLATION = "C"


class Book(db.Model):
    __tablename__ = "books"
    __table_args__ = (
        sa.CheckConstraint("copies >= 0", name="books_copies_not_negative"),
        sa.Index("books_search_idx", "search_vector", postgresql_using="gin"),
        # (sort key, id): a deep page's ids come from the index alone (index-only scan), then 20 rows are read;
        # the title order also carries the search document (kept small enough: search_text.DOCUMENT_BYTES),
        # so a search in title order filters index entries instead of fetching rows
        sa.Index("books_title_sort_idx", "title_sort", "id", postgresql_include=["search_vector"]),
        sa.Index("books_author_sort_idx", "author_sort", "title_sort", "id"),
        sa.Index("books_newest_idx", sa.column("created_at").desc(), sa.column("id").desc()),
        sa.Index("books_year_newest_idx", sa.column("published_year").desc().nulls_last(), "title_sort", "id"),
        sa.Index("books_year_oldest_idx", sa.column("published_year").asc().nulls_last(), "title_sort", "id"),
        sa.Index("books_genre_title_idx", "genre", "title_sort", "id"),
        sa.Index("books_language_title_idx", "language", "title_sort", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    # The title the work first had, when this is a translation or a retitled edition ("L’Étranger" for "The
    # Stranger"): searched as the title is (search_text.search_document).
    original_title: Mapped[str | None] = mapped_column(sa.String(300))
    author: Mapped[str] = mapped_column(sa.String(200))
    # A name from the controlled list (genres); renaming a genre renames it here too.
    genre: Mapped[str] = mapped_column(sa.String(100), sa.ForeignKey("genres.name", onupdate="CASCADE"))
    isbn: Mapped[str | None] = mapped_column(sa.String(13), unique=True)
    published_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    description: Mapped[str | None] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.String(3))  # ISO 639-1 where there is one, else 639-2
    subjects: Mapped[list[str]] = mapped_column(ARRAY(sa.String(100)), server_default="{}")
    # Where its cover image is published; the worker fetches it into `covers` (a trigger, migration 0050, keeps
    # a row there for each book with one), and readers get it from this service, never from that address.
    cover_url: Mapped[str | None] = mapped_column(sa.String(2000))
    # The items that can circulate (status 'available'), kept by triggers on `items` (migration 0020).
    copies: Mapped[int] = mapped_column(server_default="0")
    # How many readers wanted the book, as the data the library has says it: ratings from an imported file
    # (goodbooks' ratings_count). Relevance ranks the work readers mean above its box sets and companions with
    # it (catalogue.relevance). 0: nothing known.
    popularity: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now()
    )
    title_sort: Mapped[str] = mapped_column(sa.Text(collation=SORT_COLLATION))
    author_sort: Mapped[str] = mapped_column(sa.Text(collation=SORT_COLLATION))
    search_vector = mapped_column(TSVECTOR, nullable=False, deferred=True)

    items: Mapped[list["Item"]] = relationship(back_populates="book", order_by="Item.barcode",
                                               passive_deletes=True)
    # One small query per page of books (the bytes stay behind: Cover.content is deferred); kept by the trigger.
    cover: Mapped["Cover | None"] = relationship(lazy="selectin", viewonly=True)

    # Copies free to borrow and patrons waiting, from borrow-service (catalogue.count_availability); None: unknown.
    available_copies = None
    holds_waiting = None

    @property
    def available(self):
        return None if self.available_copies is None else self.available_copies > 0

    @property
    def has_cover(self):
        return self.cover is not None and self.cover.etag is not None


class Genre(db.Model):
    """The controlled list of genres librarians manage. `key` (folded, spacing and punctuation ignored)
    is unique, so "science fiction" and "Science  Fiction" can never be two genres."""

    __tablename__ = "genres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    key: Mapped[str] = mapped_column(sa.String(100), unique=True)


class FacetCount(db.Model):
    """How many books have each genre, author, language and decade, kept by triggers on `books`
    (migration 0010): totals, the genre list and unfiltered facets read a few rows here instead of
    counting every book."""

    __tablename__ = "book_facet_counts"
    __table_args__ = (sa.Index("book_facet_counts_top_idx", "facet", sa.column("books").desc(), "value"),)

    facet: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    books: Mapped[int] = mapped_column(sa.BigInteger)


class SearchWord(db.Model):
    """The catalogue's own words (titles, authors, subjects) and how many books use each, kept by
    triggers on `books` (migration 0010): what "Did you mean" corrections are chosen from."""

    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    books: Mapped[int] = mapped_column(sa.BigInteger)


ITEM_STATUSES = ("available", "missing", "lost", "damaged", "withdrawn")
# A copy's physical form, where it matters to a reader or to shelving (the kind of material is its item type).
ITEM_FORMATS = ("hardback", "paperback", "large_print", "board_book", "disc", "ebook_reader", "other")
# Every copy has an item type; new ones get this unless told otherwise, so it can be renamed but never deleted.
DEFAULT_ITEM_TYPE = "book"
ITEM_TYPE_CODE = "^[a-z0-9_-]{1,32}$"


class ItemType(db.Model):
    """The library's list of item types (book, reference, DVD...): what kind of material a copy is, which the
    library's loan rules can tell apart. Librarians add, rename and (while no copy has it) delete them."""

    __tablename__ = "item_types"
    __table_args__ = (sa.CheckConstraint(f"code ~ '{ITEM_TYPE_CODE}'", name="item_types_code_format"),)

    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))


class Item(db.Model):
    """One copy of a book, with a barcode of its own. Its inventory status is this service's; who has it
    and which hold it waits on the shelf for is borrow-service's (circulation)."""

    __tablename__ = "items"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {ITEM_STATUSES}", name="items_status_known"),
        sa.CheckConstraint("barcode ~ '^[!-~]{4,32}$'", name="items_barcode_printable"),
        sa.CheckConstraint(f"format IN {ITEM_FORMATS}", name="items_format_known"),
        sa.Index("items_by_book", "book_id", "barcode"),
        sa.Index("items_by_type", "item_type"),  # counts per type, and deleting a type looks for copies of it
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(sa.ForeignKey("books.id", ondelete="CASCADE"))
    barcode: Mapped[str] = mapped_column(sa.String(32), unique=True, server_default=sa.text("next_item_barcode()"))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="available")
    item_type: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("item_types.code", name="items_item_type_known"), server_default=DEFAULT_ITEM_TYPE)
    # Where a reader finds it: the classification on its spine label ("823.914 ISH") and the part of the
    # library it is shelved in ("Adult fiction, 2nd floor"); and its physical form, one of ITEM_FORMATS.
    call_number: Mapped[str | None] = mapped_column(sa.String(64))
    shelf_location: Mapped[str | None] = mapped_column(sa.String(100))
    format: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now()
    )
    book: Mapped[Book] = relationship(back_populates="items", lazy="joined", innerjoin=True)

    @property
    def title(self):
        return self.book.title


COVER_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


class Cover(db.Model):
    """A book's cover image, fetched from its `cover_url` by the worker (covers.py) and served by this service,
    so no reader's browser asks a third party for it. The row is made (or reset) by a trigger on books whenever
    the book's cover_url is set or changed, and goes with the book."""

    __tablename__ = "covers"
    __table_args__ = (
        sa.CheckConstraint(f"content_type IN {COVER_TYPES}", name="covers_type_allowed"),
        sa.Index("covers_due", "retry_at", postgresql_where=sa.text("retry_at IS NOT NULL")),
    )

    book_id: Mapped[int] = mapped_column(sa.ForeignKey("books.id", ondelete="CASCADE"), primary_key=True)
    source_url: Mapped[str] = mapped_column(sa.String(2000))  # the cover_url these bytes came (or come) from
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    content_type: Mapped[str | None] = mapped_column(sa.String(16))  # one of COVER_TYPES, from the bytes' magic
    etag: Mapped[str | None] = mapped_column(sa.String(64))  # the bytes' SHA-256 (hex); None until fetched
    fetched_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(server_default="0")  # failed tries since the address was set
    problem: Mapped[str | None] = mapped_column(sa.Text)  # why the last try failed
    # When the worker tries (again); None: fetched, or given up on (refused, or COVER_FETCH_ATTEMPTS failed).
    retry_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


IMPORT_STATUSES = ("staging", "staged", "committing", "committed", "reverting", "reverted", "failed")
RECORD_OUTCOMES = ("new", "match", "invalid")


class Import(db.Model):
    """A file of records a librarian uploaded, staged before anything changes in the catalogue (imports.py)."""

    __tablename__ = "imports"
    __table_args__ = (sa.CheckConstraint(f"status IN {IMPORT_STATUSES}", name="imports_status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    format: Mapped[str] = mapped_column(sa.String(8))  # csv or marc
    status: Mapped[str] = mapped_column(sa.String(12), server_default="staging")
    created_by: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    # When the work last moved: a running import whose worker died is taken up again after IMPORT_STALL_SECONDS.
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    # The file, kept until the import is committed (staging again with another column mapping reads it again).
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    # on_match ("skip" or "add_copies"), copies and genre for records without them, and the CSV column mapping
    options: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    columns: Mapped[list | None] = mapped_column(JSONB)  # a CSV's header (or "Column 1"... when it has none)
    sample: Mapped[list | None] = mapped_column(JSONB)  # a CSV's first record's cells: what each column holds
    total: Mapped[int | None] = mapped_column()  # records in the file (None until counted)
    done: Mapped[int] = mapped_column(server_default="0")  # records through the current step
    counts: Mapped[dict] = mapped_column(JSONB, server_default="{}")  # outcomes, then results
    problem: Mapped[str | None] = mapped_column(sa.Text)  # why it failed, or what staging needs from the librarian

    @property
    def first_row_looks_like_data(self):
        """A CSV whose first row, read as column names, looks like a record (import_formats.looks_like_a_record):
        the page offers to read it as one."""
        from .import_formats import looks_like_a_record  # the formats' module reads files, not the database

        return (self.format == "csv" and self.options.get("header", True) and self.columns is not None
                and looks_like_a_record(self.columns))


class ImportRecord(db.Model):
    """One record of an import: its fields as the catalogue would file them, what staging found (a new book,
    a match by ISBN, or invalid with the reasons), and after the commit what became of it."""

    __tablename__ = "import_records"
    __table_args__ = (
        sa.CheckConstraint(f"outcome IN {RECORD_OUTCOMES}", name="import_records_outcome_known"),
        sa.Index("import_records_by_outcome", "import_id", "outcome", "number"),
        sa.Index("import_records_book", "book_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("imports.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()  # its place in the file (a CSV's data row, a MARC record), from 1
    outcome: Mapped[str] = mapped_column(sa.String(8))
    fields: Mapped[dict] = mapped_column(JSONB)
    notes: Mapped[list] = mapped_column(JSONB, server_default="[]")  # why invalid, or what was left out
    match_book_id: Mapped[int | None] = mapped_column()  # the catalogue's book with its ISBN
    result: Mapped[str | None] = mapped_column(sa.String(16))  # created, copies_added, skipped, removed, kept
    book_id: Mapped[int | None] = mapped_column()  # the book it created or added copies to
    added_barcodes: Mapped[list | None] = mapped_column(JSONB)  # copies it added to a matching book


rate_limits = rate_limit_table(db.metadata)
