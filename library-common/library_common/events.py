"""The library's event log: what happened in a service (a loan made, a hold ready, an account registered),
written by its rules in the same transaction as the change itself (a transactional outbox), so an event
exists exactly when the change does, and read by other services from the producer's feed.

Readers remember a cursor and ask for what comes after it. Ids from a sequence commit out of order (a
transaction that took id 7 may commit after one that took id 8), so a reader that remembered "the last
id I saw" would skip 7 for ever. Each event therefore also records the id of the transaction that wrote
it, and the feed hands out only events of transactions older than every transaction still running
(`pg_snapshot_xmin`): those are all committed or gone, so nothing can later appear before the cursor.
Order is (transaction id, event id), the cursor is that pair.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .transactions import session

_CURRENT_TRANSACTION = sa.text("pg_current_xact_id()::text::bigint")
_OLDEST_RUNNING = sa.text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


def event_model(db):
    """The `events` table of a service (each producer declares it on its own metadata and migrates it)."""

    class Event(db.Model):
        __tablename__ = "events"
        __table_args__ = (sa.Index("events_feed_order", "txid", "id"),)

        id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
        txid: Mapped[int] = mapped_column(sa.BigInteger, server_default=_CURRENT_TRANSACTION)
        type: Mapped[str] = mapped_column(sa.String(64))
        subject: Mapped[str | None] = mapped_column(sa.String(64))  # whom it concerns (a username), if anyone
        payload: Mapped[dict] = mapped_column(JSONB)
        occurred_at: Mapped[sa.DateTime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    return Event


def record(event_type, subject=None, **payload):
    """Add an event to the current transaction: it is kept if, and only if, the transaction commits."""
    session().execute(sa.text("INSERT INTO events (type, subject, payload) VALUES (:type, :subject, :payload)")
                      .bindparams(sa.bindparam("payload", type_=JSONB)),
                      {"type": event_type, "subject": subject, "payload": payload})


def parse_cursor(cursor):
    """'<txid>-<id>' -> (txid, id); '' or None -> the beginning. ValueError for anything else."""
    if not cursor:
        return (0, 0)
    txid, _, event_id = cursor.partition("-")
    return (int(txid), int(event_id))


def format_cursor(txid, event_id):
    return f"{txid}-{event_id}"


def read_feed(cursor, limit):
    """(events after `cursor` that can no longer be preceded by anything, oldest first; the cursor after them)."""
    after = parse_cursor(cursor)
    rows = session().execute(sa.text(
        "SELECT id, txid, type, subject, payload, occurred_at FROM events "
        "WHERE (txid, id) > (:txid, :id) AND txid < " + _OLDEST_RUNNING.text +
        " ORDER BY txid, id LIMIT :limit"), {"txid": after[0], "id": after[1], "limit": limit}).mappings().all()
    next_cursor = format_cursor(rows[-1]["txid"], rows[-1]["id"]) if rows else format_cursor(*after)
    return [dict(row) | {"cursor": format_cursor(row["txid"], row["id"])} for row in rows], next_cursor


def create_events_table(op):
    """For a producer's migration: its `events` table and the index its feed is read in."""
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("txid", sa.BigInteger, nullable=False, server_default=_CURRENT_TRANSACTION),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64)),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("events_feed_order", "events", ["txid", "id"])
