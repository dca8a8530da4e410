"""The audit trail's machinery: field-level diffs, who is recorded, the cursor that pages without losing or
doubling an entry, and the database's refusal to change what was recorded."""

import os
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from flask import Flask, g
from flask_sqlalchemy import SQLAlchemy

from library_common import audit
from library_common.auth import Principal
from library_common.databases import recreate_database
from library_common.transactions import transaction


# ---- diffs --------------------------------------------------------------------------------------------------

class Book:
    def __init__(self, **fields):
        self.__dict__.update(fields)


def test_changes_lists_only_the_fields_that_differ_with_before_and_after():
    before = audit.snapshot(Book(title="Dune", year=1965, subjects=["sf"]), ("title", "year", "subjects"))
    after = Book(title="Dune Messiah", year=1965, subjects=["sf", "desert"])
    assert audit.changes(before, after) == {"title": {"before": "Dune", "after": "Dune Messiah"},
                                            "subjects": {"before": ["sf"], "after": ["sf", "desert"]}}


def test_changes_keeps_dates_as_iso_text_and_compares_dicts_and_objects_alike():
    assert audit.changes({"due": date(2026, 12, 1)}, {"due": date(2026, 12, 15)}) == {
        "due": {"before": "2026-12-01", "after": "2026-12-15"}}
    assert audit.changes({"due": date(2026, 12, 1)}, Book(due=date(2026, 12, 1))) == {}


def test_created_and_deleted_give_one_side_and_leave_out_empty_fields():
    book = Book(title="Dune", isbn=None)
    assert audit.created(book, ("title", "isbn")) == {"title": {"after": "Dune"}}
    assert audit.deleted(book, ("title", "isbn")) == {"title": {"before": "Dune"}}


# ---- who acts ---------------------------------------------------------------------------------------------------

def principal(role, username="someone"):
    return Principal(username=username, role=role)


def test_librarians_and_services_are_recorded_patrons_and_visitors_are_not():
    app = Flask(__name__)
    app.config["SERVICE_NAME"] = "books-service"
    with app.app_context():
        assert audit.acting() == audit.Actor("books-service", "service")  # its worker
        with app.test_request_context():
            assert audit.acting() is None  # a visitor
            g.principal = principal("patron", "alice")
            assert audit.acting() is None
            g.principal = principal("librarian", "lena")
            assert audit.acting() == audit.Actor("lena", "librarian")
            g.principal = principal("service", "notification-service")
            assert audit.acting() == audit.Actor("notification-service", "service")


def test_a_retention_under_the_floor_is_refused_at_start():
    with pytest.raises(RuntimeError, match="AUDIT_RETENTION_DAYS must be at least 30"):
        audit.audit_blueprint({"AUDIT_RETENTION_DAYS": 29})
    assert audit.retention({"AUDIT_RETENTION_DAYS": 30}) == timedelta(days=30)


# ---- on a real database -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(postgres_server_url):
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=recreate_database(
                          postgres_server_url, f"test_audit_log_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"),
                      SERVICE_NAME="test-service", AUDIT_RETENTION_DAYS=730)
    db = SQLAlchemy(app)
    with app.app_context(), db.engine.begin() as connection:
        audit.create_audit_table(Operations(MigrationContext.configure(connection)))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def empty_trail(app):
    yield
    with app.app_context(), transaction() as session:
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        session.execute(sa.text("TRUNCATE audit_log RESTART IDENTITY"))


def record(app, *actions, object_id="7"):
    """Record `actions` in one transaction, as the librarian lena from 203.0.113.5."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.5"}), transaction():
        g.principal, g.request_id = principal("librarian", "lena"), "req-1"
        for action in actions:
            audit.record(action, object_id, summary="Dune", related="book:7" if action.startswith("item") else None)


def page(app, **args):
    with app.app_context():
        loaded = audit.AuditQueryArgs().load({key: str(value) for key, value in args.items()})
        found = audit.find(loaded)
        audit.session().rollback()
        return [dict(entry) for entry in found["items"]], found["has_more"]


def test_an_entry_says_who_what_when_and_from_where(app):
    record(app, "book.updated")
    [entry], has_more = page(app)
    assert not has_more
    assert (entry["actor"], entry["actor_role"], entry["action"], entry["object_type"], entry["object_id"],
            entry["request_id"], entry["client_address"]) == (
        "lena", "librarian", "book.updated", "book", "7", "req-1", "203.0.113.5")


def test_entries_of_one_transaction_are_told_apart_and_paged_without_loss_or_double(app):
    record(app, *[f"book.step_{number}" for number in range(5)])
    record(app, *[f"item.step_{number}" for number in range(4)])
    seen, cursor = [], {}
    while True:
        items, has_more = page(app, limit=2, **cursor)
        seen += items
        if not has_more:
            break
        cursor = {"before": audit.AuditEntrySchema().dump(items[-1])["at"], "before_id": items[-1]["id"]}
    assert [entry["id"] for entry in seen] == list(range(9, 0, -1))
    assert len({entry["at"] for entry in seen}) == 9  # clock_timestamp(): each its own moment


def test_entries_sharing_a_moment_are_paged_by_id(app):
    """Two entries at the very same microsecond: `before` alone would skip the second; `before_id` does not."""
    moment = datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=timezone.utc)
    with app.app_context(), transaction() as session:
        for object_id in ("1", "2", "3"):
            session.execute(audit.audit_log.insert().values(at=moment, actor="lena", actor_role="librarian",
                                                           action="book.updated", object_type="book",
                                                           object_id=object_id))
    first, has_more = page(app, limit=1)
    assert has_more and first[0]["object_id"] == "3"
    assert page(app, before=moment.isoformat())[0] == []
    rest, has_more = page(app, before=moment.isoformat(), before_id=first[0]["id"])
    assert [entry["object_id"] for entry in rest] == ["2", "1"] and not has_more


def test_filters_by_action_prefix_object_and_what_belongs_to_it(app):
    record(app, "book.updated", "item.created")
    record(app, "book.updated", object_id="8")
    assert {e["action"] for e in page(app, action="item.")[0]} == {"item.created"}
    assert len(page(app, action="book.updated")[0]) == 2
    assert len(page(app, action="book.")[0]) == 2
    assert {(e["action"], e["object_id"]) for e in page(app, object="book:7")[0]} == {
        ("book.updated", "7"), ("item.created", "7")}
    assert page(app, actor="someone-else")[0] == []


def test_since_is_inclusive_and_until_exclusive(app):
    record(app, "book.updated")
    [entry], _ = page(app)
    at = entry["at"].isoformat()
    assert len(page(app, since=at)[0]) == 1
    assert page(app, until=at)[0] == []


def test_the_query_is_refused_when_malformed():
    for bad in ({"limit": "501"}, {"before": "yesterday"}, {"before_id": "3"}, {"object": "book"},
                {"action": "Book.Updated"}, {"object_id": "7\x00"}, {"actor": "\ud800"}, {"object": "book:7\x00"},
                {"before": "2026-12-03T12:00:00", "before_id": str(2**63)}):
        with pytest.raises(Exception) as caught:
            audit.AuditQueryArgs().load(bad)
        assert caught.typename == "ValidationError", bad


def test_an_offset_that_lost_its_plus_in_a_query_string_is_read_as_it_was():
    loaded = audit.AuditQueryArgs().load({"before": "2026-12-03T12:00:00.123456 00:00"})
    assert loaded["before"] == datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=timezone.utc)


def raw(app, statement):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        with db.engine.begin() as connection:
            return connection.execute(sa.text(statement)).rowcount


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log",
                                       "TRUNCATE audit_log"])
def test_the_database_refuses_to_change_or_delete_entries(app, statement):
    record(app, "book.updated")
    with pytest.raises(sa.exc.DBAPIError, match="The audit trail cannot be changed"):
        raw(app, statement)
    assert len(page(app)[0]) == 1


def test_entries_older_than_the_floor_may_be_deleted_and_are_pruned_after_retention(app):
    record(app, "book.updated")
    raw(app, "INSERT INTO audit_log (at, actor, actor_role, action, object_type, object_id) VALUES "
             "(clock_timestamp() - interval '800 days', 'lena', 'librarian', 'book.updated', 'book', '1'), "
             "(clock_timestamp() - interval '40 days', 'lena', 'librarian', 'book.updated', 'book', '2')")
    with app.app_context():
        assert audit.prune(datetime.now(timezone.utc)) == 1  # past AUDIT_RETENTION_DAYS (730)
    assert {entry["object_id"] for entry in page(app)[0]} == {"7", "2"}
    assert raw(app, "DELETE FROM audit_log WHERE object_id = '2'") == 1  # older than the floor: allowed
    with pytest.raises(sa.exc.DBAPIError):
        raw(app, "DELETE FROM audit_log WHERE object_id = '7'")


def test_an_entry_is_kept_only_if_its_transaction_commits(app):
    with pytest.raises(RuntimeError), app.test_request_context(), transaction():
        g.principal = principal("librarian", "lena")
        audit.record("book.updated", "7")
        raise RuntimeError("the change failed")
    assert page(app)[0] == []


def test_nothing_is_recorded_for_a_patron(app):
    with app.test_request_context(), transaction():
        g.principal = principal("patron", "alice")
        audit.record("loan.renewed", "1")
    assert page(app)[0] == []


def test_a_moment_with_an_offset_postgresql_refuses_is_read_in_utc(app):
    """Found by the fuzz suite: ISO 8601 allows offsets such as -22:54, PostgreSQL only up to 15:59 (a 500)."""
    record(app, "book.updated")
    loaded = audit.AuditQueryArgs().load({"before": "0274-08-04T09:48:52.478346-22:54", "before_id": "2792"})
    assert loaded["before"].utcoffset() == timedelta(0)
    assert page(app, before="0274-08-04T09:48:52.478346-22:54", before_id="2792")[0] == []
    with pytest.raises(Exception) as caught:
        audit.AuditQueryArgs().load({"since": "0001-01-01T00:00:00+05:00"})
    assert caught.typename == "ValidationError"
