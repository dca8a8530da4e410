"""A real Prometheus (Debian's package, as `make monitor` runs it) scraping the running system: every app and worker
answers on its metrics port, requests are counted by route, the library's gauges agree with the services' own
answers, and the alert rules are loaded. The apps' public ports never serve /metrics."""

import subprocess
import time
from pathlib import Path

import pytest
import requests

from library_common.monitoring import PROMETHEUS, prometheus_command, write_prometheus_config
from library_common.processes import METRICS_PORTS, free_ports, wait_until_answering
from library_common.testing import register_patron

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ALERTS = {"ServiceDown", "ErrorRate", "Latency", "MailFailures", "EventLag", "JobFailures", "DatabasePoolSaturated"}


@pytest.fixture(scope="module")
def prometheus(stack, tmp_path_factory):
    assert Path(PROMETHEUS).exists(), f"{PROMETHEUS} is missing: `make prometheus` installs it"
    directory = tmp_path_factory.mktemp("prometheus")
    config = write_prometheus_config(ROOT / "monitoring" / "prometheus.yml", stack.metrics_ports, directory,
                                     scrape_interval="1s")
    url = f"http://127.0.0.1:{free_ports(1)[0]}"
    with open(directory / "prometheus.log", "w") as log:
        process = subprocess.Popen(prometheus_command(config, directory / "data", url.removeprefix("http://")),
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(f"{url}/-/ready", 30, alive=lambda: process.poll() is None)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def query(prometheus, expression):
    """{the series' labels (job, route, ...) as a sorted tuple: its value} for an instant query."""
    answer = requests.get(f"{prometheus}/api/v1/query", params={"query": expression}, timeout=10).json()
    assert answer["status"] == "success", answer
    return {tuple(sorted(series["metric"].items())): float(series["value"][1]) for series in answer["data"]["result"]}


def eventually(prometheus, expression, expected, timeout=30):
    """The query's answer once it is `expected(answer)` (scrapes come every second); fails with the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = query(prometheus, expression)
        if expected(answer) or time.monotonic() > deadline:
            assert expected(answer), f"{expression}: {answer}"
            return answer
        time.sleep(0.5)


def total(answer):
    return sum(answer.values())


def test_every_app_and_worker_is_scraped(prometheus):
    up = eventually(prometheus, "up", lambda answer: len(answer) == len(METRICS_PORTS) and all(answer.values()))
    assert {dict(labels)["job"] for labels in up} == set(METRICS_PORTS)


def test_requests_are_counted_by_route_never_by_path(stack, prometheus):
    librarian = stack.login(*stack.librarian)
    book = requests.post(f"{stack.books}/books", headers=librarian, timeout=10,
                         json={"title": "Counted Book", "author": "A. Metric", "genre": "Fiction"}).json()
    for _ in range(3):
        assert requests.get(f"{stack.books}/books/{book['id']}", timeout=10).status_code == 200
    assert requests.get(f"{stack.books}/no-such-page-4242", timeout=10).status_code == 404

    eventually(prometheus, 'library_http_requests_total{job="books", route="/books/<id:book_id>", method="GET", '
                           'status="200"}', lambda answer: total(answer) >= 3)
    eventually(prometheus, 'library_http_requests_total{job="books", route="(unmatched)", status="404"}',
               lambda answer: total(answer) >= 1)
    assert query(prometheus, '{route=~".*4242.*"}') == {}
    assert query(prometheus, 'library_http_request_duration_seconds_count{job="books", '
                             'route="/books/<id:book_id>", method="GET"}')
    # The web frontend's calls to its neighbours, counted by neighbour
    requests.get(f"{stack.web}/books/{book['id']}", timeout=10).raise_for_status()
    eventually(prometheus, 'library_neighbour_calls_total{job="web", neighbour="books-service"}',
               lambda answer: total(answer) >= 1)


def test_the_library_s_gauges_agree_with_borrow_service_and_the_workers_report(stack, prometheus):
    librarian = stack.login(*stack.librarian)
    book = requests.post(f"{stack.books}/books", headers=librarian, timeout=10,
                         json={"title": "Gauged Book", "author": "A. Metric", "genre": "Fiction"}).json()
    patron = stack.login(stack.approve(register_patron(stack.users, "gauged", "gauged-password")), "gauged-password")
    requests.post(f"{stack.borrows}/borrowbook", json={"book_id": book["id"]}, headers=patron,
                  timeout=10).raise_for_status()
    active = int(requests.get(f"{stack.borrows}/borrows", params={"active": "true"}, headers=librarian,
                              timeout=10).headers["X-Total-Count"])
    assert active >= 1

    eventually(prometheus, 'library_loans_active{job="borrows-worker"}', lambda answer: total(answer) == active)
    overdue = int(requests.get(f"{stack.borrows}/borrows", params={"overdue": "true"}, headers=librarian,
                               timeout=10).headers["X-Total-Count"])
    assert total(query(prometheus, 'library_loans_overdue{job="borrows-worker"}')) == overdue
    for job in ("books-worker", "borrows-worker", "notifications-worker"):
        eventually(prometheus, f'library_jobs_run_total{{job="{job}"}}', lambda answer: total(answer) >= 1)
        assert query(prometheus, f'library_jobs_waiting{{job="{job}"}}')
    assert query(prometheus, 'library_imports_running{job="books-worker"}')
    # notification-service's worker reads the loan's event from borrow-service's feed
    eventually(prometheus, 'library_event_lag_seconds_count{job="notifications-worker", feed="borrow-service"}',
               lambda answer: total(answer) >= 1)
    assert total(query(prometheus, 'library_db_pool_size{job="borrows"}')) > 0


def test_prometheus_has_the_alert_rules(prometheus):
    groups = requests.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    alerts = {rule["name"] for group in groups for rule in group["rules"] if rule["type"] == "alerting"}
    assert alerts == ALERTS


def test_metrics_are_served_on_their_own_loopback_port_never_on_the_public_one(stack):
    for name in ("books", "users", "borrows", "notifications", "web"):
        assert requests.get(f"{stack.url[name]}/metrics", timeout=10).status_code == 404, name
        served = requests.get(f"http://127.0.0.1:{stack.metrics_ports[name]}/metrics", timeout=10)
        assert served.status_code == 200 and "library_http_requests_total" in served.text, name
        listening = subprocess.run(["ss", "-Hltn", f"sport = :{stack.metrics_ports[name]}"], capture_output=True,
                                   text=True, check=True).stdout.split()
        assert listening[3] == f"127.0.0.1:{stack.metrics_ports[name]}", listening
