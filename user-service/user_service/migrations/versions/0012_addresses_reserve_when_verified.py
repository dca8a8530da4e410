"""an unverified address reserves nothing: only verified addresses are unique; names fit on one line

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

from library_common.search_text import fold
from library_common.text import breaks_the_line, one_line

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None



def upgrade():
    op.drop_index("users_email_lower_key", table_name="users")
    op.create_index("users_verified_email_lower_key", "users", [sa.text("lower(email)")], unique=True,
                    postgresql_where=sa.text("email_verified_at IS NOT NULL"))
    connection = op.get_bind()
    bent = [row for row in connection.execute(sa.text("SELECT id, first_name, last_name FROM users")).all()
            if breaks_the_line(row.first_name) or breaks_the_line(row.last_name)]
    for row in bent:
        first, last = one_line(row.first_name) or "?", one_line(row.last_name) or "?"
        connection.execute(sa.text("UPDATE users SET first_name = :first, last_name = :last, first_name_folded = "
                                   ":first_folded, last_name_folded = :last_folded WHERE id = :id"),
                           {"id": row.id, "first": first, "last": last, "first_folded": fold(first),
                            "last_folded": fold(last)})


def downgrade():
    op.drop_index("users_verified_email_lower_key", table_name="users")
    op.create_index("users_email_lower_key", "users", [sa.text("lower(email)")], unique=True)
