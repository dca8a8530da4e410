"""books

Revision ID: 0001
Revises: 


"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('books',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('genre', sa.String(length=100), nullable=False),
    sa.Column('isbn', sa.String(length=13), nullable=True),
    sa.Column('published_year', sa.SmallInteger(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('copies', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("to_tsvector('simple', title || ' ' || author || ' ' || coalesce(isbn, ''))", persisted=True), nullable=True),
    sa.CheckConstraint('copies >= 1', name='books_copies_positive'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('isbn')
    )
    op.create_index('books_author_order_idx', 'books', [sa.literal_column('lower(author)'), sa.literal_column('lower(title)'), 'id'], unique=False)
    op.create_index('books_genre_idx', 'books', [sa.literal_column('lower(genre)')], unique=False)
    op.create_index('books_newest_idx', 'books', [sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('books_search_idx', 'books', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('books_title_order_idx', 'books', [sa.literal_column('lower(title)'), 'id'], unique=False)


def downgrade():
    op.drop_index('books_title_order_idx', table_name='books')
    op.drop_index('books_search_idx', table_name='books', postgresql_using='gin')
    op.drop_index('books_newest_idx', table_name='books')
    op.drop_index('books_genre_idx', table_name='books')
    op.drop_index('books_author_order_idx', table_name='books')
    op.drop_table('books')
