from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from library_common.rate_limits import rate_limit_table

db = SQLAlchemy()

# 'simple' keeps words as typed (no stemming, no stop words), which suits titles,
# names and ISBNs; prefix queries on it are served by the GIN index.
SEARCH_DOCUMENT = "to_tsvector('simple', title || ' ' || author || ' ' || coalesce(isbn, ''))"


class Book(db.Model):
    __tablename__ = "books"
    __table_args__ = (
        sa.CheckConstraint("copies >= 0", name="books_copies_not_negative"),
        sa.Index("books_search_idx", "search_vector", postgresql_using="gin"),
        # INCLUDE makes them covering, so a deep page's ids come from the index alone (index-only scan)
        # ... and the title order also carries the search document, so a search in title order can
        # skip non-matching books without reading their rows
        sa.Index("books_title_order_idx", sa.func.lower(sa.column("title")), "id",
                 postgresql_include=["title", "search_vector"]),
        sa.Index("books_author_order_idx", sa.func.lower(sa.column("author")), sa.func.lower(sa.column("title")), "id",
                 postgresql_include=["author", "title"]),
        sa.Index("books_newest_idx", sa.column("created_at").desc(), sa.column("id").desc()),
        sa.Index("books_genre_title_idx", sa.func.lower(sa.column("genre")), sa.func.lower(sa.column("title")), "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    author: Mapped[str] = mapped_column(sa.String(200))
    genre: Mapped[str] = mapped_column(sa.String(100))
    isbn: Mapped[str | None] = mapped_column(sa.String(13), unique=True)
    published_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    description: Mapped[str | None] = mapped_column(sa.Text)
    # The items that can circulate (status 'available'), kept by triggers on `items` (migration 0020).
    copies: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now()
    )
    search_vector = mapped_column(TSVECTOR, sa.Computed(SEARCH_DOCUMENT, persisted=True), deferred=True)

    items: Mapped[list["Item"]] = relationship(back_populates="book", order_by="Item.barcode",
                                               passive_deletes=True)

    # Copies free to borrow and patrons waiting, from borrow-service (catalogue.count_availability); None: unknown.
    available_copies = None
    holds_waiting = None

    @property
    def available(self):
        return None if self.available_copies is None else self.available_copies > 0


class GenreCount(db.Model):
    """How many books each genre has, kept by triggers on `books` (migration 0003): the catalogue's
    totals and genre list read a few dozen rows here instead of counting every book."""

    __tablename__ = "book_genre_counts"

    genre: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    books: Mapped[int] = mapped_column(sa.BigInteger)


ITEM_STATUSES = ("available", "missing", "lost", "damaged", "withdrawn")


class Item(db.Model):
    """One copy of a book, with a barcode of its own. Its inventory status is this service's; who has it
    and which hold it waits on the shelf for is borrow-service's (circulation)."""

    __tablename__ = "items"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {ITEM_STATUSES}", name="items_status_known"),
        sa.CheckConstraint("barcode ~ '^[!-~]{4,32}$'", name="items_barcode_printable"),
        sa.Index("items_by_book", "book_id", "barcode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(sa.ForeignKey("books.id", ondelete="CASCADE"))
    barcode: Mapped[str] = mapped_column(sa.String(32), unique=True, server_default=sa.text("next_item_barcode()"))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="available")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now()
    )
    book: Mapped[Book] = relationship(back_populates="items", lazy="joined", innerjoin=True)

    @property
    def title(self):
        return self.book.title


rate_limits = rate_limit_table(db.metadata)
