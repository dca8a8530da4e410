"""account links are made by user-service as they are mailed (the notice keeps the event that asked for one);
whom to greet and where to write are asked of user-service, not kept from the accounts' events

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("notices", sa.Column("link_event_id", sa.BigInteger, nullable=True))
    # Links kept from before: hidden where they are stored (a pending one is no longer sent: ask again).
    op.execute(sa.text("UPDATE notices SET link = regexp_replace(link, 'token=[^&#]+', 'token=(hidden)'), "
                       "body_text = regexp_replace(body_text, 'token=[^&#\\s\"''<>]+', 'token=(hidden)', 'g'), "
                       "body_html = regexp_replace(body_html, 'token=[^&#\\s\"''<>]+', 'token=(hidden)', 'g'), "
                       "email_status = CASE WHEN email_status IN ('pending', 'sending') THEN 'none' ELSE email_status END "
                       "WHERE kind = 'account_link'"))
    op.drop_table("recipients")


def downgrade():
    op.create_table(
        "recipients",
        sa.Column("username", sa.String(32), primary_key=True),
        sa.Column("first_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("email", sa.String(254)),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.drop_column("notices", "link_event_id")
