"""holds: a place in the book's line that a librarian may change (with a reason), suspended until a date, not
needed after a date

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("holds", sa.Column("queue_rank", sa.Integer(), nullable=True))
    op.execute("UPDATE holds SET queue_rank = ranked.rank FROM (SELECT id, row_number() OVER "
               "(PARTITION BY book_id ORDER BY id) AS rank FROM holds) AS ranked WHERE holds.id = ranked.id")
    op.alter_column("holds", "queue_rank", nullable=False, server_default="0")  # ties: the older hold first
    op.add_column("holds", sa.Column("moved_note", sa.String(300), nullable=True))
    op.add_column("holds", sa.Column("suspended_until", sa.Date(), nullable=True))
    op.add_column("holds", sa.Column("not_needed_after", sa.Date(), nullable=True))
    op.drop_index("holds_queue", table_name="holds")
    op.create_index("holds_queue", "holds", ["book_id", "queue_rank"], postgresql_where=sa.text("status = 'waiting'"))


def downgrade():
    op.drop_index("holds_queue", table_name="holds")
    op.create_index("holds_queue", "holds", ["book_id", "id"], postgresql_where=sa.text("status = 'waiting'"))
    for column in ("not_needed_after", "suspended_until", "moved_note", "queue_rank"):
        op.drop_column("holds", column)
