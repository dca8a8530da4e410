"""covering sort indexes: deep catalogue pages by index-only scan (found by make bench)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("books_title_order_idx", table_name="books")
    op.create_index("books_title_order_idx", "books", [sa.literal_column("lower(title)"), "id"],
                    postgresql_include=["title"])
    op.drop_index("books_author_order_idx", table_name="books")
    op.create_index("books_author_order_idx", "books",
                    [sa.literal_column("lower(author)"), sa.literal_column("lower(title)"), "id"],
                    postgresql_include=["author", "title"])


def downgrade():
    op.drop_index("books_author_order_idx", table_name="books")
    op.create_index("books_author_order_idx", "books",
                    [sa.literal_column("lower(author)"), sa.literal_column("lower(title)"), "id"])
    op.drop_index("books_title_order_idx", table_name="books")
    op.create_index("books_title_order_idx", "books", [sa.literal_column("lower(title)"), "id"])
