"""circulation by item: loans record the item (barcode) and the title they were made with; holds and their
hold shelf; patrons' history choice and anonymised returned loans; the event log; the worker's job tables

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from library_common.events import create_events_table
from library_common.worker import schema_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("loans", sa.Column("barcode", sa.String(32)))
    op.add_column("loans", sa.Column("title", sa.String(300)))
    op.add_column("loans", sa.Column("borrower_key", sa.String(64)))
    op.alter_column("loans", "username", nullable=True)
    op.create_check_constraint("loans_active_have_a_borrower", "loans", "username IS NOT NULL OR returned")
    op.create_index("loans_one_active_per_item", "loans", ["barcode"], unique=True,
                    postgresql_where=sa.text("NOT returned"))
    op.create_index("loans_returned_recently", "loans", [sa.literal_column("returned_date DESC")],
                    postgresql_where=sa.text("returned"))

    op.create_table(
        "holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("book_id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(300)),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="waiting"),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True)),
        sa.Column("pickup_by", sa.DateTime(timezone=True)),
        sa.Column("barcode", sa.String(32)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.String(32)),
        sa.CheckConstraint("status IN ('waiting', 'ready', 'fulfilled', 'cancelled', 'expired')",
                           name="holds_status_known"),
        sa.CheckConstraint("status <> 'ready' OR (pickup_by IS NOT NULL AND barcode IS NOT NULL)",
                           name="holds_ready_have_an_item_and_a_deadline"),
    )
    op.create_index("holds_one_open_per_patron_book", "holds", ["username", "book_id"], unique=True,
                    postgresql_where=sa.text("status IN ('waiting', 'ready')"))
    op.create_index("holds_one_per_shelved_item", "holds", ["barcode"], unique=True,
                    postgresql_where=sa.text("status = 'ready'"))
    op.create_index("holds_queue", "holds", ["book_id", "id"], postgresql_where=sa.text("status = 'waiting'"))
    op.create_index("holds_ready_by_deadline", "holds", ["pickup_by"], postgresql_where=sa.text("status = 'ready'"))
    op.create_index("holds_by_patron", "holds", ["username", sa.literal_column("placed_at DESC")])
    op.create_index("holds_closed_recently", "holds", [sa.literal_column("closed_at DESC")],
                    postgresql_where=sa.text("closed_at IS NOT NULL"))

    op.create_table(
        "patron_settings",
        sa.Column("username", sa.String(32), primary_key=True),
        sa.Column("keep_history", sa.Boolean, nullable=False, server_default=sa.false()),
    )

    create_events_table(op)
    op.execute(schema_sql())


def downgrade():
    raise NotImplementedError("circulation by item cannot be undone without losing holds and the event log")
