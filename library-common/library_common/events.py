"""The library's event log: what happened in a service (a loan made, a hold ready, an account registered),
written by its rules in the same transaction as the change itself (a transactional outbox), so an event
exists exactly when the change does, and read by other services from the producer's feed.

Readers remember a cursor and ask for what comes after it. Ids from a sequence commit out of order (a
transaction that took id 7 may commit after one that took id 8), so a reader that remembered "the last
id I saw" would skip 7 for ever. Each event therefore also records the id of the transaction that wrote
it, and the feed hands out only events of transactions older than every transaction still running
(`pg_snapshot_xmin`): those are all committed or gone, so nothing can later appear before the cursor.
Order is (transaction id, event id), the cursor is that pair.

The log forgets. Events name whom they concern (`subject`, a username) and carry ids, never names or
addresses: a reader looks those up from their owner. Each reading service is a registered reader whose
position the producer keeps (`event_readers`); events older than EVENT_RETENTION_DAYS that every reader has
passed are deleted as the readers read on (`prune`), and a rule that forgets a person (an account deleted, a
reading history wiped) scrubs their events at once (`scrub`).
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from . import tracing
from .transactions import session, transaction

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

    class EventReader(db.Model):
        """Where each service that reads this log has read to: what every reader has passed may be pruned."""

        __tablename__ = "event_readers"

        reader: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
        txid: Mapped[int] = mapped_column(sa.BigInteger)
        event_id: Mapped[int] = mapped_column(sa.BigInteger)
        read_at: Mapped[sa.DateTime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    return Event


def record(event_type, subject=None, **payload):
    """Add an event to the current transaction: it is kept if, and only if, the transaction commits. Its payload
    keeps the current trace's `traceparent` (when tracing is on), so its reader continues that trace."""
    payload |= tracing.carrier()
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


def read_for(reader, cursor, limit, retention, now):
    """`read_feed` for a registered reader: asking for what follows a cursor says it has what precedes it, so
    its position is kept and what every reader has, once older than `retention`, goes (the log keeps nobody's
    reading for ever)."""
    with transaction():
        passed(reader, cursor)
        prune(now - retention)
    return read_feed(cursor, limit)


def find(event_id):
    """One event by its id (type, subject, payload, occurred_at), or None."""
    return session().execute(sa.text("SELECT id, txid, type, subject, payload, occurred_at FROM events WHERE id = :id"),
                             {"id": event_id}).mappings().first()


def superseded(event):
    """Whether a later event of the same type about the same subject was recorded (a newer request)."""
    return session().execute(sa.text(
        "SELECT EXISTS (SELECT 1 FROM events WHERE type = :type AND subject = :subject AND id > :id)"),
        {"type": event["type"], "subject": event["subject"], "id": event["id"]}).scalar()


def scrub(subject=None, before=None):
    """Forget whom events were about: `subject`'s events (or everyone's), those recorded `before` (or all),
    keep what happened but no longer name anyone, and their payloads keep nothing but ids. A reader that has
    not read them yet reads anonymous events, which tell nobody anything."""
    conditions, parameters = ["subject IS NOT NULL"], {}
    if subject is not None:
        conditions.append("lower(subject) = lower(:subject)")
        parameters["subject"] = subject
    if before is not None:
        conditions.append("occurred_at < :before")
        parameters["before"] = before
    return session().execute(sa.text(
        "UPDATE events SET subject = NULL, payload = (SELECT coalesce(jsonb_object_agg(key, value), '{}') "
        "FROM jsonb_each(payload) WHERE key LIKE '%\\_id') WHERE " + " AND ".join(conditions)), parameters).rowcount


def passed(reader, cursor):
    """`reader` has everything up to `cursor` (it asks for what follows): remember it, for pruning."""
    txid, event_id = parse_cursor(cursor)
    session().execute(sa.text(
        "INSERT INTO event_readers (reader, txid, event_id, read_at) VALUES (:reader, :txid, :id, now()) "
        "ON CONFLICT (reader) DO UPDATE SET txid = excluded.txid, event_id = excluded.event_id, read_at = now() "
        "WHERE (event_readers.txid, event_readers.event_id) <= (excluded.txid, excluded.event_id)"),
        {"reader": reader, "txid": txid, "id": event_id})


def prune(older_than):
    """Delete the events recorded before `older_than` that every registered reader has passed (none while no
    reader is registered: nothing is known to have been read). Returns how many went."""
    return session().execute(sa.text(
        "DELETE FROM events WHERE occurred_at < :older_than AND EXISTS (SELECT 1 FROM event_readers) "
        "AND (txid, id) <= ALL (SELECT txid, event_id FROM event_readers)"),
        {"older_than": older_than}).rowcount


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


def create_event_readers_table(op):
    """For a producer's migration: where its readers have read to."""
    op.create_table(
        "event_readers",
        sa.Column("reader", sa.String(64), primary_key=True),
        sa.Column("txid", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
