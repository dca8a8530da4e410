"""imports keep their first record's cells (`sample`), so the page that asks which column holds what can show
an example of each: "Column 2 (J.R.R. Tolkien)"

Revision ID: 0070
Revises: 0060
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0070"
down_revision = "0060"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("imports", sa.Column("sample", postgresql.JSONB(), nullable=True))


def downgrade():
    op.drop_column("imports", "sample")
