"""the event log: what happened to accounts (registered, e-mail to verify, password reset asked for ...),
written in the same transaction as the change, read by the other services from GET /events

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from library_common.events import create_events_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    create_events_table(op)


def downgrade():
    op.drop_table("events")
