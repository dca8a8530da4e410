"""the event log forgets: where each reader has read to (so what all have passed can be pruned), and the
accounts' events lose the names, addresses and link tokens they carried (readers now ask for them)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

from library_common.events import create_event_readers_table

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    create_event_readers_table(op)
    op.execute(sa.text("UPDATE events SET payload = payload - 'username' - 'first_name' - 'last_name' - 'email' "
                       "- 'token' - 'expires_at'"))


def downgrade():
    op.drop_table("event_readers")
