"""A system of its own for breaking things: its own embedded PostgreSQL (in a throwaway DATA_DIR) and
two process groups run by the real runner (scripts/stack.py -> honcho -> gunicorn), so borrow-service
can be killed and restarted without taking the rest down."""

import contextlib
import os
import pwd
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from library_common.processes import ONE_MACHINE_LIMITS, free_stack_ports, listening_pids, wait_until_answering
from library_common.testing import register_patron

ROOT = Path(__file__).resolve().parents[2]
LIBRARIAN = ("librarian", "faults-librarian-pass")
PASSWORD = "fault-tolerant"
GROUPS = {"main": ["books", "users", "web"], "borrows": ["borrows"],
          "notifications": ["notifications", "notifications-worker"], "mail": ["mail"]}


# Short, so a test can hold a token that is no longer its own proof of a live account.
ACCOUNT_CHECK_SECONDS = 3


def descendants(pid):
    """Every process below `pid` (children, their children...), from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


class FaultyStack:
    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.ports = free_stack_ports()
        self.books = f"http://127.0.0.1:{self.ports['BOOKS_PORT']}"
        self.users = f"http://127.0.0.1:{self.ports['USER_PORT']}"
        self.borrows = f"http://127.0.0.1:{self.ports['BORROW_PORT']}"
        self.notifications = f"http://127.0.0.1:{self.ports['NOTIFICATION_PORT']}"
        self.mailbox = f"http://127.0.0.1:{self.ports['MAILBOX_PORT']}"
        self.env = {**os.environ, **self.ports, "DATA_DIR": str(data_dir), "BOOTSTRAP_LIBRARIAN": ":".join(LIBRARIAN),
                    "WEB_CONCURRENCY": "2", "MAX_ACTIVE_LOANS": "50", "HTTP_READ_TIMEOUT": "2",
                    "AVAILABILITY_TIMEOUT": "1", "DB_POOL_TIMEOUT": "2",
                    # notification-service's worker: reads and sends every second; mail a killed worker had
                    # claimed is taken back after 3 s; a failed send is tried again after 1 s, then 2, 4...
                    "POLL_SECONDS": "1", "MAIL_CLAIM_SECONDS": "3", "MAIL_RETRY_SECONDS": "1",
                    "ACCOUNT_CHECK_SECONDS": str(ACCOUNT_CHECK_SECONDS),
                    # the patrons sign up and borrow at once: these tests are about faults, not approvals
                    "SELF_REGISTRATION": "open", **ONE_MACHINE_LIMITS}
        self.groups = {}
        self.postgres_dir = data_dir / "postgres"

    def start(self, group):
        with open(self.data_dir / f"{group}.log", "a") as log:
            self.groups[group] = subprocess.Popen(
                [sys.executable, str(ROOT / "scripts" / "stack.py"), "run", *GROUPS[group]], env=self.env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        urls = {"main": [f"{self.users}/ready", f"{self.books}/ready"], "borrows": [f"{self.borrows}/ready"],
                "notifications": [f"{self.notifications}/ready"], "mail": [f"{self.mailbox}/messages"]}[group]
        for url in urls:
            self.wait_for(url)

    def wait_for(self, url, timeout=60):
        return wait_until_answering(url, timeout)

    def kill_borrow_service(self):
        """kill -9 borrow-service's gunicorn master and workers; honcho then winds its group down."""
        for pid in listening_pids(self.ports["BORROW_PORT"]):
            os.kill(pid, signal.SIGKILL)
        self.groups["borrows"].wait(timeout=30)

    def kill_group(self, group):
        """kill -9 every program of a group (its gunicorn masters and workers, its job workers); honcho then
        winds the group down."""
        runner = self.groups[group].pid
        for pid in descendants(runner):
            if pid != runner and "honcho" not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.groups[group].wait(timeout=30)

    def borrow_workers(self):
        """borrow-service's gunicorn workers: the listeners whose parent is another listener (the master)."""
        pids = listening_pids(self.ports["BORROW_PORT"])
        return [pid for pid in pids if int(Path(f"/proc/{pid}/stat").read_text().split()[3]) in pids]

    def database(self, name):
        url = f"postgresql+psycopg2://postgres@/{name}?host={self.postgres_dir}"
        return sa.create_engine(url, poolclass=sa.NullPool)

    def postgres(self):
        import pgserver

        return pgserver.get_server(self.postgres_dir, cleanup_mode=None)

    def stop_postgres(self):
        server = self.postgres()
        self._pg_ctl_stop()
        return server

    def _pg_ctl_stop(self):
        from pgserver._commands import pg_ctl

        owner = pwd.getpwuid(self.postgres_dir.stat().st_uid).pw_name  # pgserver runs it as its own user
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.postgres_dir,
               user=None if owner == pwd.getpwuid(os.geteuid()).pw_name else owner)

    def login(self, username, password):
        response = requests.post(f"{self.users}/login", json={"username": username, "password": password}, timeout=10)
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def stop(self):
        for group in reversed(list(self.groups)):
            process = self.groups[group]
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        # This test process took a handle on the server too (to stop and start it), so pgserver would
        # leave it running when the groups exit: stop it here.
        if (self.postgres_dir / "postmaster.pid").exists():
            self._pg_ctl_stop()


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    stack = FaultyStack(tmp_path_factory.mktemp("faults"))
    try:
        stack.start("main")  # first: it initialises PostgreSQL; the other groups then share the server
        stack.start("borrows")
        stack.start("mail")
        stack.start("notifications")
        yield stack
    finally:
        stack.stop()


@dataclass
class Ledger:
    """What clients were told: loans confirmed with 201, returns confirmed with 200, everything else."""

    loans: dict = field(default_factory=dict)  # loan id -> (username, book_id)
    returns: set = field(default_factory=set)
    outcomes: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def failure_kind(error):
    """'refused' (nobody listening: fine while a service is down) or 'cut off' (a request dropped midway)."""
    text = repr(error)
    if "refused" in text.lower():
        return "refused"
    if isinstance(error, requests.Timeout):
        return "timeout"
    return "cut off"


class Load:
    """N patrons borrowing and returning across a few books until stopped."""

    def __init__(self, stack, patrons, book_ids):
        self.stack, self.patrons, self.book_ids = stack, patrons, book_ids
        self.ledger = Ledger()
        self.running = threading.Event()
        self.threads = []

    def _client(self, headers):
        """Borrow a book, return it; a return that got no answer is retried before borrowing again."""
        session = requests.Session()
        unreturned = None
        while self.running.is_set():
            try:
                if unreturned is None:
                    book_id = random.choice(self.book_ids)
                    response = session.post(f"{self.stack.borrows}/borrowbook", json={"book_id": book_id},
                                            headers=headers, timeout=10)
                    self._note("borrow", response.status_code)
                    if response.status_code != 201:
                        continue
                    loan = response.json()
                    with self.ledger.lock:
                        self.ledger.loans[loan["id"]] = (loan["username"], loan["book_id"])
                    unreturned = book_id
                returned = session.post(f"{self.stack.borrows}/return", json={"book_id": unreturned},
                                        headers=headers, timeout=10)
                self._note("return", returned.status_code)
                if returned.status_code == 200:
                    with self.ledger.lock:
                        self.ledger.returns.add(returned.json()["id"])
                if returned.status_code in (200, 404):  # 404: the unanswered return had gone through
                    unreturned = None
            except requests.RequestException as error:
                self._note("request", failure_kind(error))
                time.sleep(0.05)

    def _note(self, action, outcome):
        with self.ledger.lock:
            self.ledger.outcomes[(action, outcome)] += 1

    def __enter__(self):
        self.running.set()
        self.threads = [threading.Thread(target=self._client, args=(headers,), daemon=True) for headers in self.patrons]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.running.clear()
        for thread in self.threads:
            thread.join(timeout=30)

    def confirmed_loans(self):
        with self.ledger.lock:
            return len(self.ledger.loans)


@pytest.fixture(scope="module")
def library(faulty):
    """20 patrons and 2 books with 2 copies each."""
    librarian = faulty.login(*LIBRARIAN)
    books = {}
    for title in ("Contested A", "Contested B"):
        response = requests.post(f"{faulty.books}/books", headers=librarian, timeout=10,
                                 json={"title": title, "author": "F. Ault", "genre": "Chaos", "copies": 2})
        response.raise_for_status()
        books[response.json()["id"]] = 2
    patrons = []
    for number in range(20):
        patrons.append(faulty.login(register_patron(faulty.users, f"loader{number:02d}", PASSWORD), PASSWORD))
    return books, patrons, librarian


def check_invariants(stack, books, ledger):
    with stack.database("borrows").connect() as db:
        for book_id, copies in books.items():
            active = db.scalar(sa.text("SELECT count(*) FROM loans WHERE book_id = :b AND NOT returned"),
                               {"b": book_id})
            assert active <= copies, f"book {book_id}: {active} active loans for {copies} copies"
        rows = {row.id: row for row in db.execute(sa.text("SELECT id, username, book_id, returned FROM loans"))}
        duplicates = db.execute(sa.text(
            "SELECT username, book_id FROM loans WHERE NOT returned GROUP BY 1, 2 HAVING count(*) > 1")).all()
    for loan_id, (username, book_id) in ledger.loans.items():
        assert loan_id in rows, f"confirmed loan {loan_id} is gone"
        assert (rows[loan_id].username, rows[loan_id].book_id) == (username, book_id)
    for loan_id in ledger.returns:
        assert rows[loan_id].returned, f"confirmed return of loan {loan_id} is gone"
    assert duplicates == []
