"""Starts the three services for real, the way `make run` does (scripts/stack.py, honcho, gunicorn)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from library_common.databases import recreate_database

ROOT = Path(__file__).resolve().parents[2]
LIBRARIAN = ("librarian", "integration-librarian-pass")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    def __init__(self, ports, process, log_path):
        self.books = f"http://127.0.0.1:{ports['BOOKS_PORT']}"
        self.users = f"http://127.0.0.1:{ports['USER_PORT']}"
        self.borrows = f"http://127.0.0.1:{ports['BORROW_PORT']}"
        self.process = process
        self.log_path = log_path

    def wait_until_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        for base in (self.users, self.books, self.borrows):
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the stack exited early:\n{self.log_path.read_text()[-3000:]}")
                try:
                    if requests.get(f"{base}/ready", timeout=1).status_code == 200:
                        break
                except requests.RequestException:  # not listening yet, or workers still booting
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base} not ready:\n{self.log_path.read_text()[-3000:]}")
                time.sleep(0.2)

    def login(self, username, password):
        response = requests.post(f"{self.users}/login", json={"username": username, "password": password}, timeout=10)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture(scope="session")
def stack(postgres_server_url, tmp_path_factory):
    ports = {name: str(free_port()) for name in ("BOOKS_PORT", "USER_PORT", "BORROW_PORT")}
    env = {
        **os.environ,
        **ports,
        **{f"{name}_DATABASE_URL": recreate_database(postgres_server_url, f"integration_{name.lower()}")
           for name in ("BOOKS", "USERS", "BORROWS")},
        "BOOTSTRAP_LIBRARIAN": ":".join(LIBRARIAN),
        "WEB_CONCURRENCY": "2",
    }
    log_path = tmp_path_factory.mktemp("stack") / "stack.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "stack.py"), "run"], env=env, cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    running = Stack(ports, process, log_path)
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
