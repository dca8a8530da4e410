"""The running system, shared by tests/integration and e2e: started once per test run, the way
`make run` starts it (scripts/stack.py: migrations, then honcho running gunicorn), on free ports,
a throwaway data directory and databases of its own on the test PostgreSQL server."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from library_common.databases import recreate_database
from library_common.processes import (
    METRICS_PORTS,
    ONE_MACHINE_LIMITS,
    free_stack_ports,
    listening_pids,
    metrics_port_variable,
    wait_until_answering,
)

ROOT = Path(__file__).resolve().parent
LIBRARIAN = ("librarian", "stack-librarian-pass")
# notification-service's name and secret at user-service: tests read the event feeds as it does.
NOTIFIER = ("notification-service", "stack-notifier-secret-for-tests")
# books-service's, for its worker's questions to borrow-service.
BOOKS_SERVICE = ("books-service", "stack-books-service-secret-for-tests")
PORTS = {"BOOKS_PORT": "books", "USER_PORT": "users", "BORROW_PORT": "borrows", "NOTIFICATION_PORT": "notifications",
         "WEB_PORT": "web", "MAILBOX_PORT": "mailbox"}


# Deactivating or deleting a user takes effect within this long (tokens, and answers about them,
# count as fresh for that period); kept short so the tests need not wait half a minute.
ACCOUNT_CHECK_SECONDS = 2
HOLD_PICKUP_SECONDS = 40

# Suites that start the whole system (the `stack` below, or a system of their own) are marked `stack`:
# `pytest -m "not stack"` (make test-quick) runs the service, unit and frontend suites alone in seconds.
SYSTEM_SUITES = [ROOT / folder for folder in ("tests/integration", "tests/security", "tests/faults", "tests/soak",
                                              "tests/fuzz", "e2e")]


def pytest_collection_modifyitems(items):
    for item in items:
        if any(item.path.is_relative_to(suite) for suite in SYSTEM_SUITES):
            item.add_marker(pytest.mark.stack)


class Stack:
    def __init__(self, ports, process, log_path, frontend_secret):
        self.ports = ports
        self.url = {name: f"http://127.0.0.1:{ports[variable]}" for variable, name in PORTS.items()}
        self.books, self.users, self.borrows, self.notifications, self.web, self.mailbox = (
            self.url[n] for n in ("books", "users", "borrows", "notifications", "web", "mailbox"))
        # Where each process of the Procfile serves its /metrics (loopback): {process: port}
        self.metrics_ports = {name: int(ports[metrics_port_variable(name)]) for name in METRICS_PORTS}
        self.process = process
        self.log_path = log_path
        self.frontend_secret = frontend_secret
        self.librarian = LIBRARIAN

    @staticmethod
    def wait_for_account_changes():
        """Until a deactivation or deletion made just now is seen by every service."""
        time.sleep(ACCOUNT_CHECK_SECONDS + 0.5)

    def wait_until_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        probes = [f"{self.users}/ready", f"{self.books}/ready", f"{self.borrows}/ready", f"{self.notifications}/ready",
                  f"{self.web}/health", f"{self.mailbox}/messages"]
        for probe in probes:
            try:
                wait_until_answering(probe, deadline - time.monotonic(), alive=lambda: self.process.poll() is None)
            except (TimeoutError, ChildProcessError) as problem:
                raise RuntimeError(f"{problem}:\n{self.log_path.read_text()[-3000:]}") from None

    def pids(self, name):
        return listening_pids(self.ports[next(variable for variable, service in PORTS.items() if service == name)])

    def service_headers(self, credentials=NOTIFIER):
        """A service's token (notification-service's unless told): what it reads the event feeds, asks for
        contacts and mailed links with (books-service's: what it asks borrow-service with)."""
        service, secret = credentials
        response = requests.post(f"{self.users}/service-tokens", json={"service": service, "secret": secret},
                                 timeout=10)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def login(self, username, password):
        response = requests.post(f"{self.users}/login", json={"username": username, "password": password}, timeout=10)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def approve(self, username):
        """The librarian approves an account registered online, so it may borrow (the stack keeps the default
        SELF_REGISTRATION=verified: a sign-up is provisional until then). Returns the username."""
        requests.post(f"{self.users}/users/{username}/approval", headers=self.login(*self.librarian),
                      timeout=10).raise_for_status()
        return username

    def link_token(self, event_type, username, timeout=10):
        """The token of the link the latest `event_type` event about `username` asked to mail, made as
        notification-service makes it when it sends the mail (POST /mailed-links: the event log holds no link).
        The feed shows an event once no older transaction is still running: it may wait."""
        notifier = self.service_headers()
        deadline = time.monotonic() + timeout
        cursor, found = "", None
        while True:
            page = requests.get(f"{self.users}/events", params={"after": cursor, "limit": 500}, headers=notifier,
                                timeout=10).json()
            found = next((event for event in reversed(page["events"])
                          if event["type"] == event_type and event["subject"] == username), found)
            cursor = page["next"]
            if page["events"]:
                continue
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert found, f"no {event_type} about {username} in the event log"
        link = requests.post(f"{self.users}/mailed-links", json={"event_id": found["id"]}, headers=notifier,
                             timeout=10)
        assert link.status_code == 200, link.text
        return link.json()["token"]

    @contextmanager
    def service_stopped(self, name):
        """Freeze a service's processes (SIGSTOP) and thaw them afterwards: it accepts nothing meanwhile."""
        pids = self.pids(name)
        assert pids, f"nothing listens on {name}'s port"
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)


@contextmanager
def running_stack(postgres_server_url, data_dir, name="stack", **settings):
    """The whole system as `make run` starts it, on free ports, its data in `data_dir` and databases named after
    `name` on the test PostgreSQL server; `settings` are added to its environment (a suite that needs the system
    run otherwise, tests/integration/test_tracing.py, starts one of its own)."""
    ports = free_stack_ports()
    frontend_secret = "stack-frontend-secret-for-tests"
    env = {
        **os.environ,
        **ports,
        **{f"{database}_DATABASE_URL": recreate_database(postgres_server_url, f"{name}_{database.lower()}")
           for database in ("BOOKS", "USERS", "BORROWS")},
        "DATA_DIR": str(data_dir),
        "FRONTEND_SECRET_KEY": frontend_secret,
        "BOOTSTRAP_LIBRARIAN": ":".join(LIBRARIAN),
        "NOTIFIER_SECRET": NOTIFIER[1],
        "BOOKS_SECRET": BOOKS_SERVICE[1],
        "WEB_CONCURRENCY": "2",
        "MAX_ACTIVE_LOANS": "40", "MAX_HOLDS": "20",  # the authorization matrix gives one patron many per role
        "ACCOUNT_CHECK_SECONDS": str(ACCOUNT_CHECK_SECONDS),
        # The worker runs its schedule every 2 s and a copy waits on the hold shelf for 40 s: the browser
        # tests see an uncollected hold expire by itself.
        "SCHEDULE_SECONDS": "2",
        "HOLD_PICKUP_DAYS": str(HOLD_PICKUP_SECONDS / 86400),
        **ONE_MACHINE_LIMITS,
        "SPELLING_REFRESH_SECONDS": "0",  # a book added by a test brings its words to "Did you mean" at once
        **settings,
    }
    log_path = data_dir / "stack.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "stack.py"), "run"], env=env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    running = Stack(ports, process, log_path, frontend_secret)
    try:
        running.wait_until_ready()
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def start_stack(postgres_server_url):
    """`with start_stack(data_dir, name, **settings) as system:` a system of the suite's own (running_stack)."""
    return lambda data_dir, name, **settings: running_stack(postgres_server_url, data_dir, name, **settings)


@pytest.fixture(scope="session")
def stack(postgres_server_url, tmp_path_factory):
    with running_stack(postgres_server_url, tmp_path_factory.mktemp("stack-data")) as running:
        yield running
