"""The event log's feed never skips an event, however transactions interleave (the outbox trap: ids from a
sequence commit out of order)."""

import random
import threading
import time

import pytest
import sqlalchemy as sa

from library_common.testing import event_log_app
from library_common import events
from library_common.transactions import transaction


@pytest.fixture(scope="module")
def app(postgres_server_url):
    with event_log_app(postgres_server_url, "test_event_log", {"pool_size": 20}) as app:
        yield app


@pytest.fixture(autouse=True)
def empty_log(app):
    with app.app_context(), transaction() as session:
        session.execute(sa.text("TRUNCATE events RESTART IDENTITY"))


def read_all(app, cursor):
    with app.app_context():
        found, cursor = events.read_feed(cursor, 1000)
        events.session().rollback()
    return [event["id"] for event in found], cursor


def read_until(app, cursor, wanted, seconds=10):
    """Read on until `wanted` events have come: the feed also waits for transactions of other databases on the
    server (the other test processes'), so what is committed appears soon, not always at once."""
    found, deadline = [], time.monotonic() + seconds
    while True:
        more, cursor = read_all(app, cursor)
        found += more
        if len(found) >= wanted or time.monotonic() > deadline:
            return found, cursor
        time.sleep(0.05)


def test_an_event_committed_after_a_later_one_is_not_skipped(app):
    """Transaction A takes id 1 and is slow; B takes id 2 and commits first. A reader that took 2 and
    remembered "after 2" would never see 1: the feed holds 2 back until A has ended."""
    a_has_written, b_has_committed = threading.Event(), threading.Event()

    def slow_a():
        with app.app_context(), transaction():
            events.record("test.a")
            a_has_written.set()
            b_has_committed.wait(timeout=5)
            time.sleep(0.2)

    writer = threading.Thread(target=slow_a)
    writer.start()
    a_has_written.wait(timeout=5)
    with app.app_context(), transaction():
        events.record("test.b")
    b_has_committed.set()

    while_a_runs, cursor = read_all(app, "")
    writer.join()
    after_a, cursor = read_until(app, cursor, 2)

    assert while_a_runs == []  # not 2: A, older, might still add something before it
    assert after_a == [1, 2]
    assert read_all(app, cursor)[0] == []


def test_concurrent_producers_and_a_polling_reader_miss_nothing_and_repeat_nothing(app):
    committed, lock, stop = [], threading.Lock(), threading.Event()

    def producer(seed):
        rng = random.Random(seed)
        for _ in range(25):
            with app.app_context(), transaction() as session:
                event_id = session.execute(sa.text(
                    "INSERT INTO events (type, payload) VALUES ('test.burst', '{}') RETURNING id")).scalar()
                time.sleep(rng.uniform(0, 0.01))  # commit order differs from id order
                rolled_back = rng.random() < 0.1
                if rolled_back:
                    session.rollback()
            if not rolled_back:
                with lock:
                    committed.append(event_id)

    seen, cursor = [], ""

    def reader():
        nonlocal cursor
        while not stop.is_set():
            found, cursor = read_all(app, cursor)
            seen.extend(found)

    polling = threading.Thread(target=reader)
    polling.start()
    producers = [threading.Thread(target=producer, args=(seed,)) for seed in range(8)]
    for thread in producers:
        thread.start()
    for thread in producers:
        thread.join()
    stop.set()
    polling.join()
    seen.extend(read_until(app, cursor, len(committed) - len(seen))[0])

    assert len(committed) > 150
    assert sorted(seen) == sorted(committed)  # every committed event once, none skipped, none twice
