"""The audit trail: which member of staff changed what, when, from where. Each service that owns data keeps its
own `audit_log`, written by its rules in the same transaction as the change (an entry exists exactly when the
change does) and read by librarians at `GET /audit`.

The trail is about staff: a patron acting for themself (borrowing, renewing, placing a hold) and an anonymous
visitor (registering online) leave no entry (`acting()` is None for them); a librarian, or a service with its
own token, does. Work a service does by itself outside requests (its worker) is recorded as that service.

Entries cannot be changed or deleted: no API route does it, and the database refuses it as well (a trigger
refuses UPDATE and TRUNCATE always, and DELETE of an entry younger than RETENTION_FLOOR_DAYS, so only the
worker's pruning of entries older than AUDIT_RETENTION_DAYS passes; UPDATE, DELETE and TRUNCATE are revoked
from PUBLIC).
"""

import datetime as dt
import decimal
import enum
from dataclasses import dataclass
from datetime import timedelta, timezone

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from marshmallow import fields, validate
from sqlalchemy.dialects.postgresql import JSONB

from .api import Blueprint
from .auth import LIBRARIAN, SERVICE
from .schema import StorableString
from .clock import now
from .transactions import session, transaction
from .worker import one_at_a_time

# No entry younger than this can be deleted, whoever asks (the database's trigger): a retention setting below it
# is refused when the service starts.
RETENTION_FLOOR_DAYS = 30
MAX_LIMIT = 500
PRUNE_SECONDS = 3600  # how often the worker deletes the entries past retention

_OBJECT = r"[a-z_]{1,32}:[^\s\x00]{1,64}"


def _columns():
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        # clock_timestamp, not now(): the entries of one transaction must be told apart, and ordered
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("clock_timestamp()")),
        sa.Column("actor", sa.String(64), nullable=False),  # a username, or the service's name
        sa.Column("actor_role", sa.String(16), nullable=False),  # librarian or service
        sa.Column("action", sa.String(64), nullable=False),  # <object type>.<verb>: book.updated
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=False),
        sa.Column("related", sa.String(64)),  # what the object belongs to, as type:id (an item's book: book:7)
        sa.Column("subject", sa.String(64)),  # the patron concerned (their username), if any
        sa.Column("summary", sa.String(200), nullable=False, server_default=""),
        sa.Column("changes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("request_id", sa.String(128)),  # as library_common.observability accepts them
        sa.Column("client_address", sa.String(64)),
    ]


def _indexes(table):
    """The newest first, overall and for each filter of `GET /audit` (each Index joins `table` as it is made)."""
    newest = (table.c.at.desc(), table.c.id.desc())
    return [
        sa.Index("audit_log_newest", *newest),
        sa.Index("audit_log_by_actor", table.c.actor, *newest),
        sa.Index("audit_log_by_action", table.c.action, *newest),
        sa.Index("audit_log_by_action_prefix", table.c.action, postgresql_ops={"action": "varchar_pattern_ops"}),
        sa.Index("audit_log_by_object", table.c.object_type, table.c.object_id, *newest),
        sa.Index("audit_log_by_related", table.c.related, *newest),
        sa.Index("audit_log_by_subject", table.c.subject, *newest),
    ]


def _table(metadata):
    table = sa.Table("audit_log", metadata, *_columns())
    _indexes(table)
    return table


audit_log = _table(sa.MetaData())


def audit_model(db):
    """The `audit_log` table of a service, declared on its metadata (each service migrates it:
    `create_audit_table`)."""

    class AuditEntry(db.Model):
        __table__ = _table(db.metadata)

    return AuditEntry


# --- the database's guarantees ---------------------------------------------------------------------------------

_GUARD_FUNCTION = f"""
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.at < clock_timestamp() - interval '{RETENTION_FLOOR_DAYS} days' THEN
    RETURN OLD;  -- the worker's pruning of old entries
  END IF;
  RAISE EXCEPTION 'The audit trail cannot be changed: % of audit_log refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$
"""


def create_audit_table(op):
    """For a service's migration: `audit_log`, its indexes, and the database's refusal to change it."""
    _table(sa.MetaData()).create(op.get_bind())  # with its indexes
    op.execute(_GUARD_FUNCTION)
    op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()")
    op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()")
    # Any role the service connects as that does not own the table may add and read entries, nothing else (a
    # production deployment runs its migrations as the owner and the app as such a role: README, Audit trail).
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC")


def drop_audit_table(op):
    """The reverse of create_audit_table, for that migration's downgrade."""
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_refuse_change()")


# --- recording -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    name: str
    role: str  # LIBRARIAN or SERVICE


def acting():
    """Who acts now, as the audit trail names them: the librarian or the service whose token this request
    carries; the service itself outside requests (its worker); None for patrons and visitors, who are not
    audited."""
    if not has_request_context():
        return Actor(current_app.config["SERVICE_NAME"], SERVICE)
    principal = g.get("principal")
    if principal is None or not (principal.is_librarian or principal.is_service):
        return None
    return Actor(principal.username, LIBRARIAN if principal.is_librarian else SERVICE)


def record(action, object_id, *, summary="", changes=None, related=None, subject=None, actor=None):
    """Add an entry to the current transaction (kept if, and only if, it commits): `action` is
    "<object type>.<verb>", `object_id` the object's id, `changes` {field: {"before": x, "after": y}}.
    `actor` defaults to `acting()`; nothing is recorded when nobody on the staff acts."""
    actor = actor or acting()
    if actor is None:
        return
    in_request = has_request_context()
    session().execute(audit_log.insert().values(
        actor=actor.name[:64], actor_role=actor.role, action=action, object_type=action.partition(".")[0],
        object_id=str(object_id)[:64], related=related, subject=subject, summary=(summary or "")[:200],
        changes=changes or {}, request_id=g.get("request_id") if in_request else None,
        client_address=(request.remote_addr or None) if in_request else None))


def jsonable(value):
    """A field's value as the trail keeps it in JSON: dates as ISO text, sets as sorted lists."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    return value


def snapshot(source, fields):
    """`fields` of an object (its attributes) or a dict, as the trail keeps them: take one before a change."""
    if isinstance(source, dict):
        return {field: jsonable(source.get(field)) for field in fields}
    return {field: jsonable(getattr(source, field, None)) for field in fields}


def changes(before, after, fields=None):
    """{field: {"before": x, "after": y}} for each field whose value differs between `before` and `after`
    (objects or dicts; `fields` defaults to `before`'s keys, `before` being a snapshot)."""
    fields = list(before) if fields is None else list(fields)
    old, new = snapshot(before, fields), snapshot(after, fields)
    return {field: {"before": old[field], "after": new[field]} for field in fields if old[field] != new[field]}


def created(after, fields):
    """The fields of something new, as `changes` gives them (`after` only)."""
    return {field: {"after": value} for field, value in snapshot(after, fields).items() if value is not None}


def deleted(before, fields):
    """The fields of something gone, as `changes` gives them (`before` only)."""
    return {field: {"before": value} for field, value in snapshot(before, fields).items() if value is not None}


# --- reading ---------------------------------------------------------------------------------------------------

class _Moment(fields.AwareDateTime):
    """An ISO 8601 date and time; without an offset, UTC. A '+' of an offset that reached us unencoded in a query
    string (where it means a space) is read as the '+' it was."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=timezone.utc, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().replace(" ", "+")
        moment = super()._deserialize(value, attr, data, **kwargs)
        # In UTC: PostgreSQL refuses offsets beyond 15:59 that ISO 8601 (and Python) allow, such as -22:54.
        try:
            return moment.astimezone(timezone.utc)
        except OverflowError as exc:
            raise ma.ValidationError("Not a moment the library can have recorded") from exc


class AuditQueryArgs(ma.Schema):
    actor = StorableString(validate=validate.Length(min=1, max=64), metadata={"description": "Who acted"})
    action = StorableString(validate=validate.Regexp(r"^[a-z_]{1,32}(\.([a-z_]{1,31})?)?\Z"), metadata={
        "description": "An action (book.updated), or every action of an object type (a prefix ending in '.': book.)"})
    object_type = StorableString(validate=validate.Regexp(r"^[a-z_]{1,32}\Z"))
    object_id = StorableString(validate=validate.Length(min=1, max=64))
    object = StorableString(validate=validate.Regexp(_OBJECT + r"\Z"), metadata={
        "description": "type:id (book:7): the entries about it, and those of what belongs to it (its items, loans)"})
    subject = StorableString(validate=validate.Length(min=1, max=64), metadata={"description": "The patron concerned"})
    since = _Moment(metadata={"description": "From this moment on (inclusive)"})
    until = _Moment(metadata={"description": "Before this moment (exclusive)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    before = _Moment(metadata={"description": "The cursor: entries before the `at` of the last one you have "
                                              "(with microseconds)"})
    before_id = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1), metadata={
        "description": "With `before`: also the entries at that very moment with a smaller id (the last one's id)"})

    @ma.validates_schema
    def cursor_has_a_moment(self, data, **kwargs):
        if "before_id" in data and "before" not in data:
            raise ma.ValidationError("Give `before` (the last entry's `at`) with `before_id`", "before_id")


class AuditEntrySchema(ma.Schema):
    id = fields.Integer()
    at = fields.Function(lambda entry: entry["at"].astimezone(timezone.utc).isoformat(timespec="microseconds"),
                         metadata={"description": "ISO 8601 with microseconds and offset"})
    actor = fields.String()
    actor_role = fields.String(metadata={"description": "librarian or service"})
    action = fields.String(metadata={"description": "<object type>.<verb>, e.g. book.updated"})
    object_type = fields.String()
    object_id = fields.String()
    related = fields.String(allow_none=True, metadata={"description": "What the object belongs to, type:id"})
    subject = fields.String(allow_none=True, metadata={"description": "The patron concerned"})
    summary = fields.String()
    changes = fields.Dict(metadata={"description": '{field: {"before": x, "after": y}}'})
    request_id = fields.String(allow_none=True)
    client_address = fields.String(allow_none=True)


class AuditPageSchema(ma.Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    has_more = fields.Boolean(metadata={"description": "Ask again with before/before_id of the last item"})


def before_cursor(before, before_id=None):
    """The cursor's condition: entries at `before` or later are out, except (with `before_id`) those at that very
    moment with a smaller id. Entries of one transaction may share a moment; (at, id) orders them all."""
    if before_id is None:
        return audit_log.c.at < before
    return sa.tuple_(audit_log.c.at, audit_log.c.id) < sa.tuple_(sa.literal(before, audit_log.c.at.type),
                                                                 sa.literal(before_id, sa.BigInteger))


def find(args):
    """{items: the entries `args` (AuditQueryArgs) asks for, newest first; has_more}."""
    table, conditions = audit_log, []
    for name in ("actor", "object_type", "object_id", "subject"):
        if name in args:
            conditions.append(table.c[name] == args[name])
    if "action" in args:
        action = args["action"]
        conditions.append(table.c.action.startswith(action, autoescape=True) if action.endswith(".")
                          else table.c.action == action)
    if "object" in args:
        object_type, _, object_id = args["object"].partition(":")
        conditions.append(sa.or_(sa.and_(table.c.object_type == object_type, table.c.object_id == object_id),
                                 table.c.related == args["object"]))
    if "since" in args:
        conditions.append(table.c.at >= args["since"])
    if "until" in args:
        conditions.append(table.c.at < args["until"])
    if "before" in args:
        conditions.append(before_cursor(args["before"], args.get("before_id")))
    rows = session().execute(sa.select(table).where(*conditions).order_by(table.c.at.desc(), table.c.id.desc())
                             .limit(args["limit"] + 1)).mappings().all()
    return {"items": rows[:args["limit"]], "has_more": len(rows) > args["limit"]}


def retention(settings):
    """AUDIT_RETENTION_DAYS as a timedelta; a setting under the database's floor is refused at start."""
    days = settings["AUDIT_RETENTION_DAYS"]
    if days < RETENTION_FLOOR_DAYS:
        raise RuntimeError(f"AUDIT_RETENTION_DAYS must be at least {RETENTION_FLOOR_DAYS} (the database refuses to "
                           f"delete younger entries), not {days}")
    return timedelta(days=days)


def prune(now):
    """Delete the entries older than AUDIT_RETENTION_DAYS (the worker, on its schedule). Returns how many went."""
    with transaction():
        return session().execute(audit_log.delete().where(
            audit_log.c.at < now - retention(current_app.config))).rowcount


def audit_blueprint(settings):
    """`GET /audit`: the service's audit trail, for librarians. Refuses a retention under the floor."""
    retention(settings)
    blp = Blueprint("audit", __name__, description="The audit trail: what staff changed here")

    @blp.route("/audit")
    @blp.librarian_required
    @blp.arguments(AuditQueryArgs, location="query")
    @blp.response(200, AuditPageSchema)
    @blp.errors(400)
    def audit_trail(args):
        """What staff changed here, newest first, by cursor: ask again with `before` and `before_id` set to the
        last entry's `at` and `id` while `has_more` (librarians)"""
        return find(args)

    return blp


def add_pruning(jobs):
    """Give a service's procrastinate blueprint its `prune_audit_log` task (schedule it every PRUNE_SECONDS)."""
    @one_at_a_time(jobs, "prune_audit_log")
    def prune_audit_log(timestamp):
        return prune(now())

    return prune_audit_log
