"""indexes for a book's history and the loans desk (found by the query-plan tests)

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
    op.create_index("loans_by_book", "loans", ["book_id", sa.literal_column("borrow_date DESC")])
    op.create_index("loans_active_newest", "loans", [sa.literal_column("borrow_date DESC"), sa.literal_column("id DESC")],
                    postgresql_where=sa.text("NOT returned"))


def downgrade():
    op.drop_index("loans_active_newest", table_name="loans")
    op.drop_index("loans_by_book", table_name="loans")
