"""login throttling per (username, client) and per client with growing delays; per-client rate limits

Revision ID: 0003
Revises: 0002

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # The counts per username alone are what let anyone lock an account out; they are not carried over.
    op.execute("DELETE FROM login_failures WHERE scope <> 'client'")
    op.alter_column('login_failures', 'key', type_=sa.Text(), existing_type=sa.String(length=128),
                    existing_nullable=False)
    op.alter_column('login_failures', 'window_started', new_column_name='last_attempt')
    op.add_column('login_failures', sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True))
    op.create_table('rate_limits',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('window_started', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', 'client')
    )


def downgrade():
    op.drop_table('rate_limits')
    op.drop_column('login_failures', 'blocked_until')
    op.alter_column('login_failures', 'last_attempt', new_column_name='window_started')
    op.execute("DELETE FROM login_failures")
    op.alter_column('login_failures', 'key', type_=sa.String(length=128), existing_type=sa.Text(),
                    existing_nullable=False)
