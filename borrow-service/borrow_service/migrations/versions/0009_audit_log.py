"""The audit trail: an append-only audit_log of what staff change (library_common.audit)

Revision ID: 0009
Revises: 0008
"""
from alembic import op

from library_common.audit import create_audit_table, drop_audit_table

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    create_audit_table(op)


def downgrade():
    drop_audit_table(op)
