"""a notice's message alone, for the app (the mail's text has the greeting, the links and the signature too)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # Notices made before keep "" and are shown with their mail's text, as they were.
    op.add_column("notices", sa.Column("summary", sa.Text(), nullable=False, server_default=""))


def downgrade():
    op.drop_column("notices", "summary")
