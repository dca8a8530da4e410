"""loans

Revision ID: 0001
Revises: 


"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('borrow_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.DateTime(timezone=True), nullable=False),
    sa.Column('returned', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('returned_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('renewals', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('renewals >= 0', name='loans_renewals_non_negative'),
    sa.CheckConstraint('returned = (returned_date IS NOT NULL)', name='loans_returned_has_date'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('loans_active_by_book', 'loans', ['book_id'], unique=False, postgresql_where=sa.text('NOT returned'))
    op.create_index('loans_active_by_due_date', 'loans', ['due_date'], unique=False, postgresql_where=sa.text('NOT returned'))
    op.create_index('loans_by_user', 'loans', ['username', sa.literal_column('borrow_date DESC')], unique=False)
    op.create_index('loans_one_active_per_user_book', 'loans', ['username', 'book_id'], unique=True, postgresql_where=sa.text('NOT returned'))


def downgrade():
    op.drop_index('loans_one_active_per_user_book', table_name='loans', postgresql_where=sa.text('NOT returned'))
    op.drop_index('loans_by_user', table_name='loans')
    op.drop_index('loans_active_by_due_date', table_name='loans', postgresql_where=sa.text('NOT returned'))
    op.drop_index('loans_active_by_book', table_name='loans', postgresql_where=sa.text('NOT returned'))
    op.drop_table('loans')
