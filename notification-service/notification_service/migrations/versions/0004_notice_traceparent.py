"""a notice keeps the trace of the event it was made from, so its mail continues that trace

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("notices", sa.Column("traceparent", sa.String(55), nullable=True))


def downgrade():
    op.drop_column("notices", "traceparent")
