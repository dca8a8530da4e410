"""accounts keep a tombstone when deleted and a time before which their tokens are refused;
usernames must match the API's rule in full

Revision ID: 0002
Revises: 0001

"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('tokens_valid_after', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    # NOT VALID: enforced from now on, without failing on a "ghost" name (say "alice\n") registered before;
    # such accounts stay as they are, for a librarian to look at.
    op.execute("ALTER TABLE users ADD CONSTRAINT users_username_format "
               "CHECK (username ~ '^[A-Za-z0-9._-]{3,32}$') NOT VALID")


def downgrade():
    op.drop_constraint('users_username_format', 'users', type_='check')
    op.drop_column('users', 'deleted_at')
    op.drop_column('users', 'tokens_valid_after')
