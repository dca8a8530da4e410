"""the event log forgets: where each reader has read to, so what all have passed can be pruned

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from library_common.events import create_event_readers_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    create_event_readers_table(op)


def downgrade():
    op.drop_table("event_readers")
