"""books' popularity (imported ratings, for ranking the work above its box sets and companions) and original
titles (searched as titles); every book's search document built again, now with its initials also joined
("J.K." is found by "jk"); available books counted by a small index of the books without a copy

Revision ID: 0080
Revises: 0070
"""
import sqlalchemy as sa
from alembic import op

from library_common.search_text import book_search_columns

revision = "0080"
down_revision = "0070"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    op.add_column("books", sa.Column("original_title", sa.String(300), nullable=True))
    op.add_column("books", sa.Column("popularity", sa.BigInteger(), server_default="0", nullable=False))
    # GET /books?available=true counts the whole catalogue's available books as all of them less those without
    # a copy (this index) and those whose copies are all out (borrow-service's counts)
    op.create_index("books_without_copies", "books", ["genre"], postgresql_where=sa.text("copies = 0"))
    _index_again(op.get_bind())


def _index_again(connection):
    """Every book's search document, as search_text builds it now. Only documents that changed are written (a
    book without initials keeps its own), so the triggers' word tally moves only for those."""
    last_id = 0
    while True:
        rows = connection.execute(sa.text(
            "SELECT id, title, author, isbn, subjects, description, language FROM books WHERE id > :last "
            "ORDER BY id LIMIT :batch"), {"last": last_id, "batch": BATCH}).all()
        if not rows:
            return
        connection.execute(sa.text(
            "UPDATE books SET search_vector = CAST(:document AS tsvector) "
            "WHERE id = :id AND search_vector IS DISTINCT FROM CAST(:document AS tsvector)"),
            [{"id": row.id, "document": book_search_columns(row.title, row.author, row.isbn, row.subjects,
                                                            row.description, row.language)["search_vector"]}
             for row in rows])
        last_id = rows[-1].id


def downgrade():
    op.drop_index("books_without_copies", table_name="books")
    op.drop_column("books", "popularity")
    op.drop_column("books", "original_title")
    # the search documents keep their joined initials: searches find a little more, nothing less
