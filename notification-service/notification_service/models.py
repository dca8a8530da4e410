from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()

EMAIL_STATUSES = ("none", "pending", "sending", "sent", "failed")
CHANNELS = ("both", "email", "in_app")


class Notice(db.Model):
    """One thing the library tells one patron, made from one event of the library's log (`dedupe_key` is that
    event's source and id: an event read twice makes no second notice). Shown in the app when `in_app`; mailed
    to `email_to` when its `email_status` says so."""

    __tablename__ = "notices"
    __table_args__ = (
        sa.CheckConstraint(f"email_status IN {EMAIL_STATUSES}", name="notices_email_status_known"),
        sa.Index("notices_in_app_newest", "username", sa.column("id").desc(), postgresql_where=sa.text("in_app")),
        sa.Index("notices_unread", "username", postgresql_where=sa.text("in_app AND read_at IS NULL")),
        sa.Index("notices_to_send", "next_attempt_at", postgresql_where=sa.text("email_status = 'pending'")),
        sa.Index("notices_being_sent", "claimed_at", postgresql_where=sa.text("email_status = 'sending'")),
        sa.Index("notices_failed", sa.column("id").desc(), postgresql_where=sa.text("email_status = 'failed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    username: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(32))
    subject: Mapped[str] = mapped_column(sa.String(300))
    summary: Mapped[str] = mapped_column(sa.Text, server_default="")  # the message alone, for the app
    body_text: Mapped[str] = mapped_column(sa.Text)  # the whole mail: greeting, message, links, signature
    body_html: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(500))
    in_app: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    email_to: Mapped[str | None] = mapped_column(sa.String(254))
    # An account link's: the event that asked for it. user-service makes the link, and names the address, as
    # the mail is sent (no working link is ever kept here); `email_to` says where it went.
    link_event_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    email_status: Mapped[str] = mapped_column(sa.String(10), server_default="none")
    attempts: Mapped[int] = mapped_column(server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    # The W3C traceparent of reading the event it was made from (library_common.tracing, when on): its mail
    # continues the trace that event came from (a check-in's, say).
    traceparent: Mapped[str | None] = mapped_column(sa.String(55))


class FeedCursor(db.Model):
    """How far this service has read another service's event log."""

    __tablename__ = "feed_cursors"

    source: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    cursor: Mapped[str] = mapped_column(sa.String(50))


class Preference(db.Model):
    """How a patron wants one kind of notice: by e-mail, in the app, or both (the default)."""

    __tablename__ = "preferences"
    __table_args__ = (sa.CheckConstraint(f"channels IN {CHANNELS}", name="preferences_channels_known"),)

    username: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    channels: Mapped[str] = mapped_column(sa.String(8))
