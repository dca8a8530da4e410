"""notices, what user-service said of each account, how far each event log has been read, preferences;
the worker's job tables

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from library_common.worker import schema_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedupe_key", sa.String(100), nullable=False, unique=True),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("link", sa.String(500)),
        sa.Column("in_app", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.Column("email_to", sa.String(254)),
        sa.Column("email_status", sa.String(10), nullable=False, server_default="none"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(500)),
        sa.CheckConstraint("email_status IN ('none', 'pending', 'sending', 'sent', 'failed')",
                           name="notices_email_status_known"),
    )
    op.create_index("notices_in_app_newest", "notices", ["username", sa.literal_column("id DESC")],
                    postgresql_where=sa.text("in_app"))
    op.create_index("notices_unread", "notices", ["username"], postgresql_where=sa.text("in_app AND read_at IS NULL"))
    op.create_index("notices_to_send", "notices", ["next_attempt_at"],
                    postgresql_where=sa.text("email_status = 'pending'"))
    op.create_index("notices_being_sent", "notices", ["claimed_at"],
                    postgresql_where=sa.text("email_status = 'sending'"))
    op.create_index("notices_failed", "notices", [sa.literal_column("id DESC")],
                    postgresql_where=sa.text("email_status = 'failed'"))
    op.create_table(
        "recipients",
        sa.Column("username", sa.String(32), primary_key=True),
        sa.Column("first_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("email", sa.String(254)),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "feed_cursors",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("cursor", sa.String(50), nullable=False),
    )
    op.create_table(
        "preferences",
        sa.Column("username", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("channels", sa.String(8), nullable=False),
        sa.CheckConstraint("channels IN ('both', 'email', 'in_app')", name="preferences_channels_known"),
    )
    op.execute(schema_sql())


def downgrade():
    raise NotImplementedError("the first revision is not undone")
