"""folded names: the user search ignores accents ("zoe" finds Zoë) without PostgreSQL's unaccent; prefix
searches by index

Revision ID: 0010
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from library_common.search_text import fold

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("first_name_folded", sa.String(100), nullable=True))
    op.add_column("users", sa.Column("last_name_folded", sa.String(100), nullable=True))
    connection = op.get_bind()
    names = connection.execute(sa.text("SELECT id, first_name, last_name FROM users")).all()
    if names:
        connection.execute(sa.text("UPDATE users SET first_name_folded = :first, last_name_folded = :last WHERE id = :id"),
                           [{"id": row.id, "first": fold(row.first_name), "last": fold(row.last_name)}
                            for row in names])
    op.alter_column("users", "first_name_folded", nullable=False)
    op.alter_column("users", "last_name_folded", nullable=False)
    op.create_index("users_username_prefix_idx", "users", [sa.literal_column("lower(username) text_pattern_ops")])
    op.create_index("users_first_name_prefix_idx", "users", [sa.literal_column("first_name_folded text_pattern_ops")])
    op.create_index("users_last_name_prefix_idx", "users", [sa.literal_column("last_name_folded text_pattern_ops")])


def downgrade():
    for index in ("users_last_name_prefix_idx", "users_first_name_prefix_idx", "users_username_prefix_idx"):
        op.drop_index(index, table_name="users")
    op.drop_column("users", "last_name_folded")
    op.drop_column("users", "first_name_folded")
