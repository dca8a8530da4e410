"""Real faults under real load; afterwards the library's records must be whole."""

import os
import signal
import subprocess
import sys
import tarfile
import threading
import time

import pytest
import requests
import sqlalchemy as sa

from library_common.processes import listening_pids

from .conftest import ACCOUNT_CHECK_SECONDS, LIBRARIAN, ROOT, Load, check_invariants, failure_kind

pytestmark = pytest.mark.faults


run_for = time.sleep


def more_loans_within(load, before, seconds=30):
    """Whether the load confirms a loan beyond `before` within `seconds` (within a second or two on an idle
    machine; a busy one, running other suites beside this, may take longer to serve again)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if load.confirmed_loans() > before:
            return True
        run_for(0.5)
    return False


def desk_registrations(faulty, librarian, count, prefix):
    """Patrons registered at the desk with an address: each is an event asking for one welcome mail."""
    addresses = {}
    for number in range(count):
        username = f"{prefix}{number:03d}"
        response = requests.post(f"{faulty.users}/users", headers=librarian, timeout=10, json={
            "username": username, "first_name": "Burst", "last_name": str(number),
            "email": f"{username}@example.org"})
        response.raise_for_status()
        addresses[username] = f"{username}@example.org"
    return addresses


def mail_by_address(faulty, addresses, timeout=120):
    """{address: [Message-IDs]} once every address has mail (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        received = {}
        for message in requests.get(f"{faulty.mailbox}/messages", timeout=10).json():
            received.setdefault(message["to"], []).append(message["message_id"])
        if set(addresses.values()) <= set(received) or time.monotonic() > deadline:
            return received
        time.sleep(1)


def test_notices_survive_kill_9_of_notification_service_and_its_worker_during_a_burst(faulty):
    """200 events: notification-service and its worker are killed twice while they turn them into notices
    and mail them. Every event becomes exactly one notice and every mail arrives; a mail sent just before a
    kill may arrive twice, with the same Message-ID, which mail programs show once."""
    librarian = faulty.login(*LIBRARIAN)
    addresses = {}
    kills = 0
    for third in range(3):
        addresses |= desk_registrations(faulty, librarian, 67 if third < 2 else 66, f"burst{third}-")
        if third < 2:
            run_for(1.5)  # the worker is reading and sending
            faulty.kill_group("notifications")
            kills += 1
            faulty.start("notifications")

    received = mail_by_address(faulty, addresses)
    with faulty.database("notifications").connect() as db:
        notices = db.execute(sa.text(
            "SELECT email_to, email_status FROM notices WHERE kind = 'account_link' AND email_to LIKE 'burst%'")).all()

    assert len(addresses) == 200
    assert sorted(address for address, _status in notices) == sorted(addresses.values())  # one each, none lost
    assert {status for _address, status in notices} == {"sent"}
    assert set(addresses.values()) <= set(received), "some mail never arrived"
    doubled = {address: ids for address, ids in received.items() if address in addresses.values() and len(ids) > 1}
    assert all(len(set(ids)) == 1 for ids in doubled.values()), f"a second mail that is not the same: {doubled}"
    assert len(doubled) <= kills, f"more mails doubled than kills: {doubled}"


def test_mail_waits_while_the_mail_server_is_down_and_goes_when_it_is_back(faulty):
    librarian = faulty.login(*LIBRARIAN)
    with faulty.database("notifications").connect() as db:
        before = db.execute(sa.text("SELECT coalesce(max(id), 0) FROM notices")).scalar()
    faulty.kill_group("mail")
    addresses = desk_registrations(faulty, librarian, 5, "waiting-")
    run_for(4)  # the worker tries, fails, and waits to try again
    with faulty.database("notifications").connect() as db:  # the welcome links: their address is named as sent
        waiting = db.execute(sa.text("SELECT email_status, attempts, last_error FROM notices "
                                     "WHERE id > :before AND kind = 'account_link'"), {"before": before}).all()

    faulty.start("mail")
    received = mail_by_address(faulty, addresses, timeout=60)

    assert len(waiting) == 5 and {status for status, *_ in waiting} <= {"pending", "sending"}
    assert any(status == "pending" and attempts >= 1 and "refused" in error.lower()
               for status, attempts, error in waiting), waiting
    assert set(addresses.values()) <= set(received)


def test_a_borrow_worker_killed_mid_load_loses_nothing(faulty, library):
    books, patrons, _ = library
    with Load(faulty, patrons, list(books)) as load:
        run_for(3)
        victim = faulty.borrow_workers()[0]
        os.kill(victim, signal.SIGKILL)
        went_on = more_loans_within(load, load.confirmed_loans())

    check_invariants(faulty, books, load.ledger)
    assert went_on, "borrowing did not go on after the worker was killed"
    assert victim not in faulty.borrow_workers() and len(faulty.borrow_workers()) == 2  # gunicorn replaced it


def test_borrow_service_killed_and_restarted_mid_load_loses_nothing(faulty, library):
    books, patrons, _ = library
    with Load(faulty, patrons, list(books)) as load:
        run_for(2)
        faulty.kill_borrow_service()
        run_for(1)
        faulty.start("borrows")
        came_back = more_loans_within(load, load.confirmed_loans())

    check_invariants(faulty, books, load.ledger)
    assert came_back, "borrowing did not come back after the restart"
    failed = sum(n for (_action, outcome), n in load.ledger.outcomes.items() if isinstance(outcome, str))
    assert failed > 0, f"the service was never seen down: the fault did not happen ({load.ledger.outcomes})"


def test_a_database_restart_gives_fast_errors_then_recovers_by_itself(faulty, library):
    books, patrons, librarian = library
    book_id = next(iter(books))
    with Load(faulty, patrons, list(books)) as load:
        run_for(2)
        server = faulty.stop_postgres()
        try:
            for base in (faulty.books, faulty.users, faulty.borrows):
                started = time.monotonic()
                ready = requests.get(f"{base}/ready", timeout=10)
                assert ready.status_code == 503 and time.monotonic() - started < 5, base
            started = time.monotonic()
            borrow = requests.post(f"{faulty.borrows}/borrowbook", json={"book_id": book_id}, headers=patrons[0],
                                   timeout=15)
            assert borrow.status_code == 503 and time.monotonic() - started < 6
            assert borrow.json()["message"]
            listing = requests.get(f"{faulty.books}/books", timeout=10)
            assert listing.status_code == 503 and listing.json()["message"]
        finally:
            server.ensure_postgres_running()
        came_back = max(faulty.wait_for(f"{base}/ready", timeout=20) for base in (faulty.books, faulty.users,
                                                                                   faulty.borrows))
        lending_again = more_loans_within(load, load.confirmed_loans())

    check_invariants(faulty, books, load.ledger)
    assert lending_again, f"no loan was confirmed after the database came back (ready at {came_back})"


def test_each_dependency_down_degrades_as_specified_and_recovers(faulty, library):
    books, patrons, librarian = library
    book_id = next(iter(books))
    def frozen(port_variable):
        return listening_pids(faulty.ports[port_variable])

    # borrow-service down: the catalogue answers, with availability unknown, within its timeout.
    pids = frozen("BORROW_PORT")
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        listing = requests.get(f"{faulty.books}/books", timeout=10)
        assert listing.status_code == 200 and time.monotonic() - started < 3
        assert {book["available"] for book in listing.json()} == {None}
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert requests.get(f"{faulty.books}/books/{book_id}", timeout=10).json()["available"] is not None

    # books-service down: a borrow cannot check the book, so it is refused with 503, never guessed.
    pids = frozen("BOOKS_PORT")
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        borrow = requests.post(f"{faulty.borrows}/borrowbook", json={"book_id": book_id}, headers=patrons[1],
                               timeout=15)
        assert borrow.status_code == 503 and time.monotonic() - started < 6
        assert "books-service" in borrow.json()["message"]
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert requests.get(f"{faulty.books}/books/{book_id}", timeout=10).status_code == 200

    # user-service down: a token older than ACCOUNT_CHECK_SECONDS that it has not vouched for since
    # cannot be checked, so 503 (and the JWKS already fetched keeps verifying the ones it has).
    unchecked = faulty.login(*LIBRARIAN)
    time.sleep(ACCOUNT_CHECK_SECONDS + 0.5)
    pids = frozen("USER_PORT")
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        borrow = requests.post(f"{faulty.borrows}/borrowbook", json={"book_id": book_id}, headers=unchecked,
                               timeout=15)
        assert borrow.status_code == 503 and time.monotonic() - started < 6
        assert requests.get(f"{faulty.books}/books", timeout=10).status_code == 200  # reading needs no account
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    recovered = requests.post(f"{faulty.borrows}/borrowbook", json={"book_id": book_id}, headers=unchecked,
                              timeout=15)
    assert recovered.status_code in (201, 409)


def test_backups_round_trip_into_a_new_data_directory(faulty, library, tmp_path):
    books, _, librarian = library
    archive_dir = tmp_path / "backups"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "stack.py"), "backup", str(archive_dir)], env=faulty.env,
                   check=True, cwd=ROOT, capture_output=True)
    (archive,) = archive_dir.glob("library-*.tar")
    with tarfile.open(archive) as contents:
        assert sorted(contents.getnames()) == ["books.dump", "borrows.dump", "notifications.dump", "users.dump"]
    with faulty.database("books").connect() as db:
        titles = sorted(db.scalars(sa.text("SELECT title FROM books")))
    with faulty.database("borrows").connect() as db:
        loans = db.scalar(sa.text("SELECT count(*) FROM loans"))

    new_home = {**faulty.env, "DATA_DIR": str(tmp_path / "elsewhere")}
    subprocess.run([sys.executable, str(ROOT / "scripts" / "stack.py"), "restore", str(archive)], env=new_home,
                   check=True, cwd=ROOT, capture_output=True)

    import pgserver

    restored = pgserver.get_server(tmp_path / "elsewhere" / "postgres", cleanup_mode="stop")
    try:
        engine = sa.create_engine(f"postgresql+psycopg2://postgres@/books?host={tmp_path / 'elsewhere' / 'postgres'}",
                                  poolclass=sa.NullPool)
        with engine.connect() as db:
            assert sorted(db.scalars(sa.text("SELECT title FROM books"))) == titles
        engine = sa.create_engine(f"postgresql+psycopg2://postgres@/borrows?host={tmp_path / 'elsewhere' / 'postgres'}",
                                  poolclass=sa.NullPool)
        with engine.connect() as db:
            assert db.scalar(sa.text("SELECT count(*) FROM loans")) == loans > 0
    finally:
        restored.cleanup()


def test_sigterm_lets_requests_in_flight_finish(faulty, library):
    """Borrows held up inside borrow-service (books-service frozen) when it is told to stop still get answers."""
    books, patrons, _ = library
    book_id = next(iter(books))
    books_pids = listening_pids(faulty.ports["BOOKS_PORT"])
    answers = []

    def borrow_and_return(headers):
        try:
            answer = requests.post(f"{faulty.borrows}/borrowbook", json={"book_id": book_id}, headers=headers,
                                   timeout=15)
            answers.append(answer.status_code)
        except requests.RequestException as error:
            answers.append(failure_kind(error))

    for pid in books_pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        clients = [threading.Thread(target=borrow_and_return, args=(headers,)) for headers in patrons[:6]]
        for client in clients:
            client.start()
        time.sleep(0.5)  # every request is now inside borrow-service, waiting for books-service
        os.kill(min(listening_pids(faulty.ports["BORROW_PORT"])), signal.SIGTERM)  # the gunicorn master
        time.sleep(0.3)
    finally:
        for pid in books_pids:
            os.kill(pid, signal.SIGCONT)
    for client in clients:
        client.join(timeout=30)
    faulty.groups["borrows"].wait(timeout=40)
    with pytest.raises(requests.ConnectionError, match="refused"):  # once stopped: refused, never hung
        requests.post(f"{faulty.borrows}/borrowbook", json={"book_id": book_id}, headers=patrons[0], timeout=5)
    faulty.start("borrows")

    assert len(answers) == 6 and set(answers) <= {201, 409}, answers
    with faulty.database("borrows").connect() as db:
        active = db.scalar(sa.text("SELECT count(*) FROM loans WHERE book_id = :b AND NOT returned"), {"b": book_id})
    assert active <= books[book_id]
