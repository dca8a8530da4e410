"""a new address waits beside the confirmed one until its link is used

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # Unverified, so it reserves nothing: no index, no uniqueness (accounts.py, _set_email).
    op.add_column("users", sa.Column("pending_email", sa.String(254), nullable=True))


def downgrade():
    op.drop_column("users", "pending_email")
