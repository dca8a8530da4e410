from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from library_common.rate_limits import rate_limit_table

db = SQLAlchemy()

# 'simple' keeps words as typed (no stemming, no stop words), which suits titles,
# names and ISBNs; prefix queries on it are served by the GIN index.
SEARCH_DOCUMENT = "to_tsvector('simple', title || ' ' || author || ' ' || coalesce(isbn, ''))"


class Book(db.Model):
    __tablename__ = "books"
    __table_args__ = (
        sa.CheckConstraint("copies >= 1", name="books_copies_positive"),
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
    copies: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now()
    )
    search_vector = mapped_column(TSVECTOR, sa.Computed(SEARCH_DOCUMENT, persisted=True), deferred=True)

    # Copies free to borrow, from borrow-service's loan counts (catalogue.count_availability); None: unknown.
    available_copies = None

    @property
    def available(self):
        return None if self.available_copies is None else self.available_copies > 0


class GenreCount(db.Model):
    """How many books each genre has, kept by triggers on `books` (migration 0003): the catalogue's
    totals and genre list read a few dozen rows here instead of counting every book."""

    __tablename__ = "book_genre_counts"

    genre: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    books: Mapped[int] = mapped_column(sa.BigInteger)


rate_limits = rate_limit_table(db.metadata)
