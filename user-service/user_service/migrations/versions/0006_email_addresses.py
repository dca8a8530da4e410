"""accounts may have an e-mail address, unique whatever its letter case, verified by a mailed link

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("email", sa.String(254), nullable=True))
    op.add_column("users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("users_email_lower_key", "users", [sa.text("lower(email)")], unique=True)


def downgrade():
    op.drop_index("users_email_lower_key", table_name="users")
    op.drop_column("users", "email_verified_at")
    op.drop_column("users", "email")
