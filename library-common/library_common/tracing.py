"""Traces across every hop (OpenTelemetry): on when OTEL_EXPORTER_OTLP_ENDPOINT is set, off otherwise.

On, each process names itself after its app (books-service, ..., web-frontend; a job worker
`<service>-worker`) and its requests (Flask), calls to other services (requests: each carries the W3C
`traceparent` header) and SQL (SQLAlchemy, over psycopg2) become spans, batched and sent by OTLP over
HTTP/protobuf to the endpoint. The SDK's own settings apply (OTEL_TRACES_SAMPLER, OTEL_BSP_SCHEDULE_DELAY...).
A trace crosses the asynchronous hops too: an event recorded (library_common.events) and a job deferred
(library_common.worker) carry the `traceparent` of the span that made them, and whoever reads the event or runs
the job continues that trace (`continued`). Work nobody asked for (a scheduled job's routine turn) starts no
trace: it runs `untraced`, so polling every second fills no trace store.

Off, nothing here imports OpenTelemetry and every helper answers at once with nothing: tracing costs nothing.

The batch span processor's thread and queue do not survive a fork: a gunicorn master (library_common.gunicorn_conf)
says `wait_for_fork`, and exporting starts in each of its workers once forked (`forked`, from `post_fork`).
"""

import os
from contextlib import contextmanager, nullcontext

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACEPARENT = "traceparent"
REQUEST_ID_ATTRIBUTE = "library.request_id"


class _Process:
    """What this process has said and started: its name, its apps, its tracer provider."""

    def __init__(self):
        self.service_name = None  # the first app's, `<service>-worker` in a job worker
        self.runs_jobs = False
        self.waiting_for_fork = False
        self.apps = []  # instrumented as soon as spans can start
        self.provider = None


_process = _Process()


def enabled():
    return bool(os.environ.get(ENDPOINT))


def started():
    return _process.provider is not None


def runs_jobs():
    """This process is a service's job worker (library_common.worker): its spans are `<service>-worker`'s."""
    _process.runs_jobs = True


def wait_for_fork():
    """This process forks its servers (a gunicorn master): spans start in each of them, once forked."""
    _process.waiting_for_fork = True


def forked():
    """In a server just forked: spans may start now (at once when its app was loaded before the fork)."""
    _process.waiting_for_fork = False
    if _process.apps and enabled():
        start()


def instrument_app(app):
    """Trace this Flask app's requests (called by library_common.app for every app, once its request ids are
    assigned: the server span carries the request's id). Nothing at all unless OTEL_EXPORTER_OTLP_ENDPOINT is set."""
    if not enabled():
        return
    if _process.service_name is None:
        _process.service_name = app.config["SERVICE_NAME"] + ("-worker" if _process.runs_jobs else "")
    _process.apps.append(app)
    if started():
        _instrument_flask(app)
    elif not _process.waiting_for_fork:
        start()


def start(span_processor=None):
    """Start making spans (once per process): into `span_processor` when given (tests), else batched to the
    OTLP/HTTP endpoint the OTEL_EXPORTER_OTLP_* settings name."""
    if started():
        return
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    if span_processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        span_processor = BatchSpanProcessor(OTLPSpanExporter())
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: _process.service_name or "library"}))
    # before any tracer is made from it: traces begin with requests (OTEL_TRACES_SAMPLER then decides)
    provider.sampler = _begun_by_requests(provider.sampler)
    provider.add_span_processor(span_processor)
    _process.provider = provider
    RequestsInstrumentor().instrument(tracer_provider=provider)
    # engines made from now on (each app's, as it is built) trace their statements. The instrumentation declares
    # SQLAlchemy below 2.1; it uses only the engine events 2.1 keeps (library-common/tests/test_tracing.py checks
    # its spans).
    SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    for app in _process.apps:
        _instrument_flask(app)


def stop():
    """Send what is left and stop making spans (a worker stopping; tests): the process is as if just started."""
    if started():
        from opentelemetry.instrumentation.requests import RequestsInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        RequestsInstrumentor().uninstrument()
        SQLAlchemyInstrumentor().uninstrument()
        _process.provider.shutdown()
    _process.__init__()


def _instrument_flask(app):
    from flask import g
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    from .observability import ROUTINE_PATHS

    def tag_with_request_id(span, _environ):
        # library_common.observability assigned it in a before_request that runs before this one
        if span.is_recording() and "request_id" in g:
            span.set_attribute(REQUEST_ID_ATTRIBUTE, g.request_id)

    FlaskInstrumentor.instrument_app(
        app, tracer_provider=_process.provider, request_hook=tag_with_request_id, enable_commenter=False,
        # what machines ask every few seconds (an event feed read, probes) is no one's story
        excluded_urls=",".join(f"^[^?]*://[^/]+{path}(\\?|$)" for path in ROUTINE_PATHS))


def _current_context():
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return context if context.is_valid else None


def current_trace_id():
    """The current span's trace id (32 hex digits), '' when there is none: for the log lines."""
    if not started():
        return ""
    context = _current_context()
    return format(context.trace_id, "032x") if context else ""


def carrier():
    """{'traceparent': ...} of the current span, to keep with what will be done later (an event, a job), so
    that whoever does it continues this trace; {} when there is no span."""
    if not started() or _current_context() is None:
        return {}
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    kept = {}
    TraceContextTextMapPropagator().inject(kept)
    return {TRACEPARENT: kept[TRACEPARENT]} if TRACEPARENT in kept else {}


def continued(traceparent, name, **attributes):
    """A span `name` continuing the trace `traceparent` names (kept by `carrier`), current inside the `with`;
    nothing without a traceparent (what nobody traced stays untraced) or with tracing off."""
    if not started() or not traceparent:
        return nullcontext()
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    # from an empty context: an `untraced` job's suppression must not reach the work a trace asked for
    parent = TraceContextTextMapPropagator().extract({TRACEPARENT: traceparent}, context=Context())
    return _tracer().start_as_current_span(name, context=parent, kind=trace.SpanKind.CONSUMER,
                                           attributes=attributes)


def span(name, **attributes):
    """A span `name`, child of the current one, inside the `with`; nothing outside a trace or with tracing off."""
    if not started() or _current_context() is None:
        return nullcontext()
    return _tracer().start_as_current_span(name, attributes=attributes)


@contextmanager
def untraced():
    """Nothing inside makes spans (except under `continued`): a scheduled job's routine turn."""
    if not started():
        yield
        return
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        yield


def job_middleware(call_next, context, worker):
    """procrastinate task middleware: a job deferred with a `traceparent` among its arguments (library_common.worker
    puts it there) runs in a span continuing that trace, the task never seeing the argument; any other job
    (a scheduled turn) runs untraced."""
    traceparent = context.job.task_kwargs.pop(TRACEPARENT, None)
    if traceparent and started():
        with continued(traceparent, f"job {context.job.task_name}", **{"library.job_id": context.job.id}):
            return call_next()
    with untraced():
        return call_next()


def _begun_by_requests(configured):
    """A sampler that lets only a request's server span begin a trace, and asks `configured` (the
    OTEL_TRACES_SAMPLER one) about everything else: SQL or a call with no request around it (a probe's `/ready`,
    a feed read, an app's start, `make run`'s migrations) is nobody's story, and would otherwise be a trace
    of its own each time."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    class BegunByRequests(Sampler):
        def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None,
                          trace_state=None):
            if kind != trace.SpanKind.SERVER and not trace.get_current_span(parent_context).get_span_context().is_valid:
                return SamplingResult(Decision.DROP)
            return configured.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

        def get_description(self):
            return f"BegunByRequests{{{configured.get_description()}}}"

    return BegunByRequests()


def _tracer():
    return _process.provider.get_tracer("library_common.tracing")
