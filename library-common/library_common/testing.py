"""pytest fixtures shared by every service's tests (loaded with `-p library_common.testing`).

Tests run against a real PostgreSQL: TEST_DATABASE_URL (set by `make test`, which starts one
embedded server for the whole run) or, when a suite runs alone, an embedded server of its own.
"""

import contextlib
import json
import os
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests
import responses
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from flask_migrate import upgrade

from .auth import TokenVerifier
from .databases import recreate_database

TEST_ISSUER = "library-user-service"
TEST_AUDIENCE = "library"


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()  # now, while pytest's log capture is still open


def _worker_suffix():
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def migrated_app(create_app, server_url, name, **config):
    """A service app on a fresh, fully migrated database of its own."""
    url = recreate_database(server_url, f"test_{name}_{_worker_suffix()}")
    app = create_app({"DATABASE_URL": url, "TESTING": True, **config})
    with app.app_context():
        upgrade()
    return app


def empty_tables(db):
    """Leave every table empty for the next test (the schema stays migrated)."""
    db.session.remove()
    names = [table.name for table in db.metadata.sorted_tables]
    tables = ", ".join(f'"{name}"' for name in names if name != "audit_log")
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    if "audit_log" in names:
        with db.engine.begin() as connection:
            # the audit trail's trigger refuses any TRUNCATE, as it must everywhere else: this connection alone,
            # for this transaction alone, skips triggers (only a superuser may: the tests' server)
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            connection.execute(sa.text("TRUNCATE audit_log RESTART IDENTITY"))


class StaticKeyResolver:
    def __init__(self, keys):
        self._keys = keys

    def __call__(self, token):
        from .errors import Unauthorized

        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self._keys:
            raise Unauthorized("Invalid token")
        return self._keys[kid]


class TokenMaker:
    """Mints tokens the way user-service does, signed by a key only the tests know."""

    kid = "test-key"

    def __init__(self):
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def verifier(self):
        return TokenVerifier(StaticKeyResolver({self.kid: self.private_key.public_key()}), TEST_ISSUER, TEST_AUDIENCE)

    def claims(self, username, role, **overrides):
        now = datetime.now(timezone.utc)
        claims = {
            "sub": username,
            "role": role,
            "first_name": username.title(),
            "last_name": "Tester",
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(minutes=5),
            "iss": TEST_ISSUER,
            "aud": TEST_AUDIENCE,
            "jti": uuid.uuid4().hex,
        }
        return claims | overrides

    def token(self, username="alice", role="patron", *, key=None, kid=None, **overrides):
        return jwt.encode(
            self.claims(username, role, **overrides),
            key or self.private_key,
            algorithm="RS256",
            headers={"kid": kid or self.kid},
        )

    def headers(self, username="alice", role="patron", **overrides):
        return {"Authorization": f"Bearer {self.token(username, role, **overrides)}"}


@pytest.fixture(autouse=True)
def _empty_tables_after_test(request):
    """In a service's suite (one that defines `app`), every test starts with empty tables."""
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        if "migrate" not in app.extensions:  # an app without a database (the web frontend)
            return
        with app.app_context():
            empty_tables(app.extensions["migrate"].db)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def tokens():
    return TokenMaker()


class FakeNeighbour:
    """Another service, faked at the HTTP level (`responses`): each route answers from a Python function.

    `route(method, pattern, answer)`: `pattern` is a regular expression for the path and query after the
    base URL; `answer(request, match)` returns (status, JSON body) or (status, JSON body, headers). While
    `down` is true every call fails to connect, as it would with the service stopped.
    """

    def __init__(self, mock, base_url):
        self._mock = mock
        self.base_url = base_url.rstrip("/")
        self.down = False

    def route(self, method, pattern, answer):
        regex = re.compile(re.escape(self.base_url) + pattern)

        def callback(request):
            if self.down:
                raise requests.ConnectionError(f"{self.base_url} is down")
            status, body, *headers = answer(request, regex.match(request.url))
            return status, {"Content-Type": "application/json", **(headers[0] if headers else {})}, json.dumps(body)

        self._mock.add_callback(method, regex, callback=callback)

    def pass_through(self):
        """Let the calls to this base URL reach a real server (one a test runs itself, on loopback)."""
        self._mock.add_passthru(self.base_url)

    @property
    def calls(self):
        return [call for call in self._mock.calls if call.request.url.startswith(self.base_url)]


@pytest.fixture
def fake_neighbour():
    """`fake_neighbour(base_url)` -> a FakeNeighbour; unrouted calls to any service fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield lambda base_url: FakeNeighbour(mock, base_url)


def analysed(app, table, *statements):
    """Run `statements` (filling `table` with test rows), then ANALYZE it so the planner knows its size."""
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        # a test's bulk fill is not a request: the services' statement timeout would only measure how busy the
        # machine is (20,000 books with their triggers take seconds on two cores shared with other suites)
        db.session.execute(sa.text("SET LOCAL statement_timeout = 0"))
        for statement in statements:
            db.session.execute(sa.text(statement))
        db.session.commit()
        db.session.execute(sa.text(f"ANALYZE {table}"))


def query_plans(app, make_requests, table):
    """EXPLAIN (with sequential scans discouraged) every SELECT, UPDATE and DELETE on `table` that
    `make_requests()` sends (EXPLAIN alone runs nothing).

    With enable_seqscan off, a Seq Scan in a plan means no index fits the query as the code writes it;
    on test-sized tables the planner may otherwise rightly prefer a scan.
    """
    db = app.extensions["sqlalchemy"]
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")) and table in statement:
            statements.append((statement, parameters))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        try:
            make_requests()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", capture)
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SET enable_seqscan = off")
            plans = []
            for statement, parameters in statements:
                cursor.execute("EXPLAIN " + statement, parameters)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
            return plans
        finally:
            connection.close()


def register_patron(users_url, prefix, password, with_email=False):
    """A new patron at the running user-service `users_url`, named `prefix` and a random tail (a run of the tests
    on a system that is kept always finds new names); with an address `<username>@example.org` if asked.
    Returns the username."""
    username = f"{prefix}-{uuid.uuid4().hex[:6]}"
    fields = {"username": username, "password": password, "first_name": "Test", "last_name": prefix.title()}
    if with_email:
        fields["email"] = f"{username}@example.org"
    requests.post(f"{users_url}/register", json=fields, timeout=10).raise_for_status()
    return username


@contextlib.contextmanager
def event_log_app(server_url, database, engine_options=None):
    """A bare Flask app over a database of its own holding an event log (library_common.events), for the tests of
    the log itself and of what travels with its events."""
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    from . import events

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = recreate_database(server_url, database)
    if engine_options:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    db = SQLAlchemy(app)
    events.event_model(db)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def audit_migration_goes_back_and_forth(create_app, server_url, name, revision_before, **config):
    """A service's migration of its audit trail (library_common.audit) goes down to `revision_before` and up again
    on a database that holds an entry, and the trail refuses changes after it as before."""
    from flask_migrate import downgrade

    url = recreate_database(server_url, f"test_{name}_audit_migration_{_worker_suffix()}")
    app = create_app({"DATABASE_URL": url, "TESTING": True, **config})
    insert = ("INSERT INTO audit_log (actor, actor_role, action, object_type, object_id) "
              "VALUES ('boss', 'librarian', 'book.updated', 'book', '1')")
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        upgrade()
        with engine.begin() as connection:
            connection.execute(sa.text(insert))
        downgrade(revision=revision_before)
        assert "audit_log" not in sa.inspect(engine).get_table_names()
        upgrade()
        with engine.begin() as connection:
            connection.execute(sa.text(insert))
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("UPDATE audit_log SET actor = 'mallory'"))
        except sa.exc.DBAPIError as error:
            assert "The audit trail cannot be changed" in str(error)
        else:
            raise AssertionError("UPDATE audit_log was allowed after the migration")
        engine.dispose()


@pytest.fixture
def traced_spans(monkeypatch):
    """Tracing on (library_common.tracing) for one test, every span kept in memory: the SDK's InMemorySpanExporter
    (`get_finished_spans()`, `clear()`)."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from . import tracing

    monkeypatch.setenv(tracing.ENDPOINT, "http://127.0.0.1:9")  # never reached: the spans stay in memory
    exporter = InMemorySpanExporter()
    tracing.start(SimpleSpanProcessor(exporter))
    yield exporter
    tracing.stop()


class OtlpReceiver:
    """A trace collector for tests: OTLP over HTTP/protobuf on a loopback port (`url`, what
    OTEL_EXPORTER_OTLP_ENDPOINT names), keeping every span it is sent as a dict: service, name, kind, trace_id,
    span_id, parent_id (hex; '' for a root), attributes."""

    def __init__(self):
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest, ExportTraceServiceResponse)

        receiver = self
        self.spans = []
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver._keep(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _keep(self, request):
        found = []
        for resource_spans in request.resource_spans:
            resource = {item.key: _otlp_value(item.value) for item in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append({
                        "service": resource.get("service.name"), "name": span.name, "kind": span.kind,
                        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                        "parent_id": span.parent_span_id.hex(),
                        "attributes": {item.key: _otlp_value(item.value) for item in span.attributes}})
        with self._lock:
            self.spans.extend(found)

    def trace(self, trace_id):
        with self._lock:
            return [span for span in self.spans if span["trace_id"] == trace_id]

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def _otlp_value(value):
    return getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None
