"""Traces (library_common.tracing): spans into the SDK's in-memory exporter, or a test OTLP receiver; and nothing
at all when OTEL_EXPORTER_OTLP_ENDPOINT is not set."""

import json
import time
import logging
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import g
from opentelemetry.trace import SpanKind

from library_common import events, feeds, tracing
from library_common.app import create_base_app
from library_common.config import load_settings
from library_common.http import ServiceClient
from library_common.observability import configure_logging
from library_common.testing import OtlpReceiver, event_log_app
from library_common.transactions import transaction

# A trace someone else began (a check-in at the desk, say): its traceparent as an event or a job keeps it.
CHECK_IN_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CHECK_IN = f"00-{CHECK_IN_TRACE}-00f067aa0ba902b7-01"
NEIGHBOUR = "http://books.test"


@pytest.fixture
def spans(traced_spans):
    return traced_spans


def base_app():
    app = create_base_app(__name__, service_name="books-service", settings=load_settings({}, {"TESTING": True}))
    neighbour = ServiceClient("books service", NEIGHBOUR, connect_timeout=1, read_timeout=1, retries=0)

    @app.get("/hello")
    def hello():
        return {"trace_id": tracing.current_trace_id()}

    @app.get("/ask")
    def ask():
        return neighbour.get("/books/1").json()

    return app


def trace_id_of(span):
    return format(span.context.trace_id, "032x")


def test_a_request_makes_a_server_span_with_its_request_id(spans):
    answer = base_app().test_client().get("/hello", headers={"X-Request-ID": "desk-42"})

    [server] = spans.get_finished_spans()
    assert server.kind == SpanKind.SERVER and server.name == "GET /hello"
    assert server.attributes[tracing.REQUEST_ID_ATTRIBUTE] == "desk-42"
    assert answer.json["trace_id"] == trace_id_of(server)


def test_a_service_call_carries_the_request_s_trace(spans, fake_neighbour):
    books = fake_neighbour(NEIGHBOUR)
    books.route("GET", r"/books/1$", lambda request, match: (200, {"traceparent": request.headers["traceparent"]}))

    sent = base_app().test_client().get("/ask").json["traceparent"]

    server = next(span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER)
    client = next(span for span in spans.get_finished_spans() if span.kind == SpanKind.CLIENT)
    assert sent.startswith(f"00-{trace_id_of(server)}-{format(client.context.span_id, '016x')}-")
    assert client.parent.span_id == server.context.span_id


def test_routine_requests_make_no_spans(spans):
    app = base_app()
    app.add_url_rule("/events", "events", lambda: {"events": []})
    app.test_client().get("/events?after=")
    assert spans.get_finished_spans() == ()


@pytest.fixture
def event_log(postgres_server_url):
    with event_log_app(postgres_server_url, "test_tracing_events") as app:
        yield app


def feed_once_readable(count, seconds=10):
    """The first `count` events of the log: the feed holds events back while an older transaction runs anywhere on
    the server (other tests' databases on it), so they appear soon rather than at once."""
    deadline = time.monotonic() + seconds
    while len(found := events.read_feed("", 10)[0]) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_an_event_keeps_the_trace_that_recorded_it_and_its_reader_continues_it(spans, event_log):
    with event_log.app_context():
        with tracing.continued(CHECK_IN, "check in"), transaction():
            events.record("hold.ready", "rosa", hold_id=7)
        with transaction():
            events.record("hold.ready", "ravi", hold_id=8)  # outside any trace: none kept, none continued
        traced, untraced = feed_once_readable(2)

    assert traced["payload"]["hold_id"] == 7 and traced["payload"]["traceparent"].startswith(f"00-{CHECK_IN_TRACE}-")
    assert "traceparent" not in untraced["payload"]
    with feeds.continuing("borrows", traced):
        continued_trace = tracing.current_trace_id()
    with feeds.continuing("borrows", untraced):
        assert tracing.current_trace_id() == ""
    assert continued_trace == CHECK_IN_TRACE
    check_in = next(span for span in spans.get_finished_spans() if span.name == "check in")
    read = next(span for span in spans.get_finished_spans() if span.name == "read borrows event hold.ready")
    assert read.parent.span_id == check_in.context.span_id and read.attributes["library.event_id"] == traced["id"]
    insert = next(span for span in spans.get_finished_spans() if span.name.startswith("INSERT"))
    assert insert.kind == SpanKind.CLIENT and insert.parent.span_id == check_in.context.span_id


def test_sql_and_calls_outside_any_request_begin_no_trace(spans, event_log, fake_neighbour):
    """A probe's /ready, a feed read, an app's start: their SQL and calls are nobody's story."""
    fake_neighbour(NEIGHBOUR).route("GET", r"/books/1$", lambda request, match: (200, {}))
    with event_log.app_context():
        events.read_feed("", 10)
        events.session().rollback()
    ServiceClient("books service", NEIGHBOUR, connect_timeout=1, read_timeout=1, retries=0).get("/books/1")
    assert spans.get_finished_spans() == ()


def test_a_job_continues_the_trace_that_deferred_it_and_its_task_never_sees_the_traceparent(spans, fake_neighbour):
    fake_neighbour(NEIGHBOUR).route("GET", r"/books/1$", lambda request, match: (
        200, {"traceparent": request.headers.get("traceparent")}))
    neighbour = ServiceClient("books service", NEIGHBOUR, connect_timeout=1, read_timeout=1, retries=0)
    with tracing.continued(CHECK_IN, "import books"):
        deferred_with = {"timestamp": 0, **tracing.carrier()}

    def run(task_kwargs):
        job = SimpleNamespace(id=5, task_name="books_service:work_on_imports", task_kwargs=task_kwargs)
        return tracing.job_middleware(lambda: (dict(job.task_kwargs), tracing.current_trace_id(),
                                               neighbour.get("/books/1").json()["traceparent"]),
                                      SimpleNamespace(job=job), worker=None)

    assert run(deferred_with)[:2] == ({"timestamp": 0}, CHECK_IN_TRACE)
    spans.clear()
    # a scheduled turn (no traceparent) is routine: untraced, and its calls carry no trace on
    assert run({"timestamp": 0}) == ({"timestamp": 0}, "", None)
    assert spans.get_finished_spans() == ()


def test_a_log_line_carries_the_current_trace_id(spans, capsys):
    root = logging.getLogger()
    kept = root.handlers[:], root.level
    configure_logging("books-service", "INFO")
    try:
        with tracing.continued(CHECK_IN, "check in"):
            logging.getLogger("desk").info("checked in")
        logging.getLogger("desk").info("nothing traced")
    finally:
        root.handlers, root.level = kept
    traced, untraced = capsys.readouterr().err.splitlines()
    assert f" rid=- trace_id={CHECK_IN_TRACE} desk: checked in" in traced
    assert " rid=- trace_id= desk: nothing traced" in untraced


def test_a_gunicorn_worker_starts_after_the_fork_and_exports_by_otlp_as_its_service(monkeypatch):
    receiver = OtlpReceiver()
    monkeypatch.setenv(tracing.ENDPOINT, receiver.url)
    try:
        tracing.wait_for_fork()  # library_common.gunicorn_conf, in the master
        app = base_app()  # as --preload would
        assert not tracing.started()
        tracing.forked()  # post_fork
        app.test_client().get("/hello")
    finally:
        tracing.stop()  # sends what the batch holds
        receiver.close()
    [server] = receiver.spans
    assert server["service"] == "books-service" and server["name"] == "GET /hello"
    assert re.fullmatch(r"[0-9a-f]{32}", server["trace_id"]) and server["parent_id"] == ""


def test_a_job_worker_names_itself_after_its_service():
    tracing.runs_jobs()  # library_common.worker.main, before it builds the app
    try:
        tracing.wait_for_fork()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(tracing.ENDPOINT, "http://127.0.0.1:9")
            base_app()
        assert tracing._process.service_name == "books-service-worker"
    finally:
        tracing.stop()


PROBE = """
import json, logging, sys
from library_common.app import create_base_app
from library_common.config import load_settings
from library_common import tracing
app = create_base_app("probe", service_name="books-service", settings=load_settings({}, {"TESTING": True}))
app.add_url_rule("/hello", "hello", lambda: "hello")
app.test_client().get("/hello")
print(json.dumps({"imported": sorted({name.split(".")[1] for name in sys.modules if name.startswith("opentelemetry.")}),
                  "instrumented": getattr(app, "_is_instrumented_by_opentelemetry", False),
                  "started": tracing.started()}))
"""


@pytest.mark.parametrize("endpoint", ["", "http://127.0.0.1:9"])
def test_without_an_endpoint_nothing_is_set_up_and_opentelemetry_is_not_even_imported(endpoint):
    env = {"PATH": "/usr/bin:/bin", tracing.ENDPOINT: endpoint}
    probe = json.loads(subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                                      check=True, timeout=60).stdout)
    if endpoint:
        assert probe["started"] and probe["instrumented"] and "instrumentation" in probe["imported"]
    else:
        assert probe == {"imported": [], "instrumented": False, "started": False}


def test_a_request_s_id_is_no_trace_id_when_tracing_is_off():
    """The request id comes from library_common.observability either way; only a trace adds its id."""
    app = base_app()
    with app.test_request_context("/hello"):
        app.preprocess_request()
        assert g.request_id and tracing.current_trace_id() == "" and tracing.carrier() == {}


def test_nothing_is_kept_in_an_event_when_tracing_is_off(event_log):
    with event_log.app_context():
        with transaction():
            events.record("hold.ready", "rosa", hold_id=7)
        [event] = events.read_feed("", 10)[0]
        events.session().execute(sa.text("TRUNCATE events"))
        events.session().commit()
    assert event["payload"] == {"hold_id": 7}
