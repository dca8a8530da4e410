"""Prometheus metrics (library_common.metrics): requests labelled by route, what the shared clients count, and
gunicorn's processes summed through the multiprocess directory, served on a port of their own."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import requests
import responses
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from library_common import metrics
from library_common.app import create_base_app
from library_common.config import load_settings
from library_common.errors import DependencyUnavailable
from library_common.feeds import FeedClient
from library_common.http import client_from_settings
from library_common.processes import free_ports, listening_pids, wait_until_answering


def counted(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0


def requests_counted(route, method="GET", status="200"):
    return counted("library_http_requests_total", route=route, method=method, status=status)


def make_app(**environ):
    app = create_base_app(__name__, service_name="probe", settings=load_settings({"TESTING": True}, environ=environ))

    @app.get("/shelves/<int:shelf_id>/books")
    def shelf(shelf_id):
        return {"shelf": shelf_id}

    return app


def test_a_request_is_labelled_by_its_route_not_its_path():
    client = make_app().test_client()
    before = requests_counted("/shelves/<int:shelf_id>/books")
    timed_before = counted("library_http_request_duration_seconds_count", route="/shelves/<int:shelf_id>/books",
                           method="GET")

    assert client.get("/shelves/7/books").status_code == 200
    assert client.get("/shelves/8/books").status_code == 200

    assert requests_counted("/shelves/<int:shelf_id>/books") == before + 2
    assert counted("library_http_request_duration_seconds_count", route="/shelves/<int:shelf_id>/books",
                   method="GET") == timed_before + 2


def test_a_path_no_route_matches_is_labelled_unmatched_and_metrics_is_no_route_of_the_app():
    client = make_app().test_client()
    before = requests_counted(metrics.UNMATCHED, status="404")

    assert client.get("/metrics").status_code == 404
    assert client.get("/shelves/7/books/extra-98765").status_code == 404

    assert requests_counted(metrics.UNMATCHED, status="404") == before + 2
    routes = {sample.labels.get("route") for family in REGISTRY.collect() for sample in family.samples}
    assert not [route for route in routes if route and ("98765" in route or "metrics" in route)]


def test_metrics_can_be_switched_off():
    client = make_app(METRICS_ENABLED="false").test_client()
    before = requests_counted("/shelves/<int:shelf_id>/books")

    client.get("/shelves/7/books")

    assert requests_counted("/shelves/<int:shelf_id>/books") == before


NEIGHBOUR = "http://books.test"


@responses.activate
def test_calls_to_a_neighbour_and_their_failures_are_counted_by_the_neighbour_s_setting():
    settings = load_settings({"BOOKS_SERVICE_URL": NEIGHBOUR, "HTTP_RETRIES": 0}, environ={})
    client = client_from_settings(settings, "catalogue service", "BOOKS_SERVICE_URL")
    responses.get(f"{NEIGHBOUR}/fine", json={})
    responses.get(f"{NEIGHBOUR}/broken", status=500)
    responses.get(f"{NEIGHBOUR}/away", body=requests.ConnectionError("refused"))
    calls = counted("library_neighbour_calls_total", neighbour="books-service")
    server_errors = counted("library_neighbour_call_failures_total", neighbour="books-service", reason="server_error")
    unreachable = counted("library_neighbour_call_failures_total", neighbour="books-service", reason="unreachable")

    client.get("/fine")
    for path in ("/broken", "/away"):
        with pytest.raises(DependencyUnavailable):
            client.get(path)

    assert counted("library_neighbour_calls_total", neighbour="books-service") == calls + 3
    assert counted("library_neighbour_call_failures_total", neighbour="books-service",
                   reason="server_error") == server_errors + 1
    assert counted("library_neighbour_call_failures_total", neighbour="books-service",
                   reason="unreachable") == unreachable + 1


class Tokens:
    def token(self):
        return "a-token"

    def forget(self):
        pass


@responses.activate
def test_the_lag_of_each_event_read_from_a_feed_is_observed():
    settings = load_settings({"BORROW_SERVICE_URL": "http://borrows.test"}, environ={})
    feed = FeedClient(client_from_settings(settings, "borrows service", "BORROW_SERVICE_URL"), Tokens())
    ninety_seconds_ago = (datetime.now(timezone.utc) - timedelta(seconds=90)).isoformat()
    responses.get("http://borrows.test/events", json={"next": "1-1", "events": [
        {"id": 1, "cursor": "1-1", "type": "loan.made", "subject": "alice", "payload": {},
         "occurred_at": ninety_seconds_ago}]})
    before = {le: counted("library_event_lag_seconds_bucket", feed="borrow-service", le=le) for le in ("60.0", "120.0")}

    feed.after("")

    assert counted("library_event_lag_seconds_bucket", feed="borrow-service", le="60.0") == before["60.0"]
    assert counted("library_event_lag_seconds_bucket", feed="borrow-service", le="120.0") == before["120.0"] + 1


def test_jobs_run_and_failed_are_counted_by_task():
    context = SimpleNamespace(task=SimpleNamespace(name="probe:tidy"), job=None)
    run, failed = counted("library_jobs_run_total", task="probe:tidy"), counted("library_jobs_failed_total",
                                                                                task="probe:tidy")

    def fail():
        raise RuntimeError("the database went away")

    metrics.count_jobs(lambda: None, context, worker=None)
    with pytest.raises(RuntimeError):
        metrics.count_jobs(fail, context, worker=None)

    assert counted("library_jobs_run_total", task="probe:tidy") == run + 2
    assert counted("library_jobs_failed_total", task="probe:tidy") == failed + 1


# A service as gunicorn runs it, with the library's gunicorn settings: a pool that connects nowhere (its gauges
# need no database) and a route.
PROBE_APP = textwrap.dedent("""
    import sqlalchemy as sa

    from library_common import metrics
    from library_common.app import create_base_app
    from library_common.config import load_settings


    def create_app():
        app = create_base_app(__name__, service_name="probe", settings=load_settings({}))
        metrics.watch_pool(sa.create_engine("postgresql+psycopg2://nobody@/nothing", pool_size=5))

        @app.get("/shelves/<int:shelf_id>")
        def shelf(shelf_id):
            return {"shelf": shelf_id}

        return app
""")


SHELF_REQUESTS = ("library_http_requests_total", (("method", "GET"), ("route", "/shelves/<int:shelf_id>"),
                                                  ("status", "200")))
POOL_SIZE = ("library_db_pool_size", ())


def scrape(port):
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def eventually(check, timeout=20):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within time"
        time.sleep(0.2)


def test_gunicorn_s_master_serves_the_sum_of_its_workers_from_a_directory_emptied_at_start(tmp_path):
    (tmp_path / "probe_app.py").write_text(PROBE_APP)
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_99999.db").write_bytes(b"left by an earlier run")
    port, metrics_port = free_ports(2)
    environ = {**os.environ, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "METRICS_PORT": str(metrics_port),
               "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(tmp_path)}
    gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:library_common.gunicorn_conf",
                                 "probe_app:create_app()"], env=environ, cwd=tmp_path)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/shelves/1", 30, alive=lambda: gunicorn.poll() is None)
        eventually(lambda: scrape(metrics_port)[POOL_SIZE] == 10)  # both workers' apps made: 5 in each one's pool
        assert not (directory / "counter_99999.db").exists()
        before = scrape(metrics_port)
        for shelf in range(20):
            requests.get(f"http://127.0.0.1:{port}/shelves/{shelf}", headers={"Connection": "close"}, timeout=5)

        served = scrape(metrics_port)  # the master serves no request: what it shows, its workers counted
        assert served[SHELF_REQUESTS] == before[SHELF_REQUESTS] + 20

        worker = next(pid for pid in listening_pids(port) if pid != gunicorn.pid)
        os.kill(worker, signal.SIGKILL)  # gunicorn starts another; the dead one's pool no longer counts
        eventually(lambda: not (directory / f"gauge_livesum_{worker}.db").exists())
        eventually(lambda: scrape(metrics_port)[POOL_SIZE] == 10)
        assert scrape(metrics_port)[SHELF_REQUESTS] == served[SHELF_REQUESTS]  # a dead worker's counts stay
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
