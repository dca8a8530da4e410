"""Prometheus metrics of every app and worker: what each process counts, and how it is served.

Every metric is defined here, once, so the names an operator sees (README, "Metrics"; monitoring/rules) are
all in one place. Under gunicorn the processes share their counts through files (prometheus_client's
multiprocess mode, PROMETHEUS_MULTIPROC_DIR, named by library_common.gunicorn_conf before this module is
first imported) and the master serves them; a worker (library_common.worker) is one process and serves its own.

`/metrics` is never one of an app's routes: it is served on METRICS_PORT, bound to METRICS_HOST (loopback
unless told), which nothing public forwards to.
"""

import logging
import os
import time

from flask import g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# Around the alert's target (p95 under 1 s, as the AWS stack's alarm): fine below it, coarse above.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A request's path matched no route (404, and 405): labelled as such, never by the path anyone can invent.
UNMATCHED = "(unmatched)"

HTTP_REQUESTS = Counter("library_http_requests", "Requests answered, by route (the URL rule), method and status",
                        ["route", "method", "status"])
HTTP_LATENCY = Histogram("library_http_request_duration_seconds", "Time to answer a request, by route and method",
                         ["route", "method"], buckets=LATENCY_BUCKETS)
# Each process's own pool, summed over the live processes of a service.
DB_POOL_CHECKED_OUT = Gauge("library_db_pool_checked_out", "Database connections in use (SQLAlchemy's pool)",
                            multiprocess_mode="livesum")
DB_POOL_SIZE = Gauge("library_db_pool_size", "Connections the pools keep (beyond them, each is opened per use)",
                     multiprocess_mode="livesum")
NEIGHBOUR_CALLS = Counter("library_neighbour_calls", "Calls made to another service, by neighbour", ["neighbour"])
NEIGHBOUR_FAILURES = Counter("library_neighbour_call_failures",
                             "Calls to another service that got no usable answer, by neighbour and why "
                             "(timeout, unreachable, server_error)", ["neighbour", "reason"])
RATE_LIMIT_REFUSALS = Counter("library_rate_limit_refusals", "Requests refused by a per-client limit, by limit",
                              ["limit"])
JOBS_RUN = Counter("library_jobs_run", "Background jobs run, by task", ["task"])
JOBS_FAILED = Counter("library_jobs_failed", "Background jobs that raised, by task", ["task"])
JOB_DURATION = Histogram("library_job_duration_seconds", "Time a background job took, by task", ["task"],
                         buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0))
EVENT_LAG = Histogram("library_event_lag_seconds",
                      "Seconds from an event's commit to its reading by another service, by feed", ["feed"],
                      buckets=(0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0))
MAIL_SENT = Counter("library_mail_sent", "Mails sent (notification-service)")
MAIL_FAILURES = Counter("library_mail_send_failures",
                        "Mail send attempts that failed (notification-service); gave_up: no more tries", ["gave_up"])

# The gauges a service reads from its own database as Prometheus scrapes its worker (its jobs.py's `gauges()`).
LIBRARY_GAUGES = {
    "library_loans_active": "Loans not yet returned (borrow-service)",
    "library_loans_overdue": "Loans not yet returned, past their due date (borrow-service)",
    "library_holds_waiting": "Holds waiting for a copy (borrow-service)",
    "library_holds_ready": "Holds with a copy on the hold shelf (borrow-service)",
    "library_imports_running": "Imports being staged, committed or reverted (books-service)",
    "library_jobs_waiting": "Background jobs due and not yet started (the service's procrastinate queue)",
}


def instrument_requests(app):
    """Count and time each request of `app` by its route. Register before other request hooks: a hook that
    answers first (a refusal) still has the request counted."""

    @app.before_request
    def start_timing():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count(response):
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            HTTP_LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
        return response


def watch_pool(engine):
    """Keep the pool gauges of `engine` current: at each checkout and checkin, what its pool says."""
    from sqlalchemy import event

    pool = engine.pool
    DB_POOL_SIZE.inc(pool.size())

    def update(*_):
        DB_POOL_CHECKED_OUT.set(pool.checkedout())

    event.listen(pool, "checkout", update)
    event.listen(pool, "checkin", update)


class ScrapeTimeGauges(Collector):
    """Gauges read when Prometheus scrapes: `read()` (run in `flask_app`'s context) returns {name: value}, each
    name one of LIBRARY_GAUGES. A database that cannot answer now gives no gauges this time, not a failed scrape."""

    def __init__(self, flask_app, read):
        self.flask_app, self.read = flask_app, read

    def collect(self):
        with self.flask_app.app_context():
            try:
                values = self.read()
            except Exception:
                log.exception("could not read the gauges")
                return
            finally:
                self.flask_app.extensions["sqlalchemy"].session.remove()
        for name, value in values.items():
            yield GaugeMetricFamily(name, LIBRARY_GAUGES[name], value=value)


def count_jobs(call_next, context, worker):
    """A procrastinate task middleware: each job counted and timed by task, its failures too."""
    task = context.task.name if context.task else context.job.task_name
    JOBS_RUN.labels(task).inc()
    started = time.perf_counter()
    try:
        return call_next()
    except BaseException:
        JOBS_FAILED.labels(task).inc()
        raise
    finally:
        JOB_DURATION.labels(task).observe(time.perf_counter() - started)


def serve(settings, registry=None, collectors=()):
    """Serve /metrics on METRICS_HOST:METRICS_PORT from a thread of this process, with `collectors` added to
    `registry` (default: this process's own); the server, or None when METRICS_ENABLED is off or no port is set.
    Under gunicorn the master serves what every worker wrote (multiprocess_registry())."""
    if not (settings["METRICS_ENABLED"] and settings["METRICS_PORT"]):
        return None
    registry = registry or REGISTRY
    for collector in collectors:
        registry.register(collector)
    address = f"{settings['METRICS_HOST']}:{settings['METRICS_PORT']}"
    try:
        server, _thread = start_http_server(settings["METRICS_PORT"], addr=settings["METRICS_HOST"],
                                            registry=registry)
    except OSError as error:  # the port taken (another exporter): the service runs on, its metrics target is down
        log.error("cannot serve metrics on %s: %s", address, error)
        return None
    log.info("metrics on http://%s/metrics", address)
    return server


def multiprocess_registry():
    """What gunicorn's master serves: the sum of its workers' files in PROMETHEUS_MULTIPROC_DIR."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def empty_multiprocess_directory(directory):
    """Leave `directory` holding nothing: files a previous run left would be counted again (a counter restarting
    from a dead run's total, gauges of processes long gone)."""
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def process_exited(pid):
    """A gunicorn worker has gone: its live gauges no longer count (its counters' totals stay)."""
    multiprocess.mark_process_dead(pid)
