"""a librarian's override at the desk (past a loan limit, a copy not for loan, a due date of their own) is
recorded with the loan: who, and why

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("loans", sa.Column("override_reason", sa.String(200), nullable=True))
    op.add_column("loans", sa.Column("overridden_by", sa.String(32), nullable=True))


def downgrade():
    op.drop_column("loans", "overridden_by")
    op.drop_column("loans", "override_reason")
