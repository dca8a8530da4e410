"""The worker runs the service's jobs against its own database, inside the service's app."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from croniter import croniter
from prometheus_client import CollectorRegistry, generate_latest

from borrow_service.models import Hold, db
from library_common.metrics import ScrapeTimeGauges
from library_common.worker import cron_every, gauges_reader, give_back_stalled_jobs, job_app, run_worker

from .conftest import due_in


@pytest.mark.parametrize("seconds, moments", [
    (2, ["12:00:02", "12:00:04", "12:00:06"]),
    (60, ["12:01:00", "12:02:00", "12:03:00"]),
    (300, ["12:05:00", "12:10:00", "12:15:00"]),
])
def test_the_schedule_becomes_cron_lines(seconds, moments):
    """Read the way procrastinate reads them (croniter, the seconds column last)."""
    times = croniter(cron_every(seconds), datetime(2026, 11, 27, 12, 0, 0), second_at_beginning=False)

    assert [times.get_next(datetime).strftime("%H:%M:%S") for _ in moments] == moments


def test_the_worker_expires_an_uncollected_hold(app, client, as_user, borrow, hold, neighbours):
    neighbours.copies[1] = 1
    loan = borrow(1, "alice").json
    placed = hold(1, "bob").json
    client.post("/checkin", json={"barcode": loan["barcode"]}, headers=as_user("boss", "librarian"))
    with app.app_context():
        db.session.execute(sa.update(Hold).where(Hold.id == placed["id"])
                           .values(pickup_by=datetime.now(timezone.utc) - timedelta(minutes=1)))
        db.session.commit()

    async def defer_then_work():
        jobs = job_app(app)
        async with jobs.open_async():
            await jobs.tasks["borrow_service:expire_holds"].defer_async(timestamp=0)
        await run_worker(app, wait=False)

    asyncio.run(defer_then_work())

    assert client.get(f"/holds/{placed['id']}", headers=as_user("bob")).json["status"] == "expired"


def test_an_interval_cron_cannot_say_is_refused_at_start():
    with pytest.raises(RuntimeError, match="divisor"):
        cron_every(7)


@pytest.mark.parametrize("next_run_queued, dead_job_becomes", [(False, "todo"), (True, "failed")],
                         ids=["queued-again", "makes-way-for-the-queued-run"])
def test_a_job_left_running_by_a_dead_worker_frees_its_lock(app, next_run_queued, dead_job_becomes):
    """kill -9 of a worker mid-job leaves the job 'doing' with its lock: no later job with that lock could
    start. Once the dead worker's heartbeat is old, the job is queued again; or, when the schedule had queued
    the task's next run already (its queueing lock lets only one wait), the dead job is closed as failed and
    that run starts and does the work."""
    async def a_worker_dies_mid_job():
        jobs = job_app(app)
        task = jobs.tasks["borrow_service:expire_holds"]
        async with jobs.open_async():
            await task.defer_async(timestamp=0)
            worker_id = await jobs.job_manager.register_worker()
            dead = await jobs.job_manager.fetch_job(queues=None, worker_id=worker_id)  # started, never finished
            runs_next = await task.defer_async(timestamp=1) if next_run_queued else dead.id
            with app.app_context():
                db.session.execute(sa.text("UPDATE procrastinate_workers SET last_heartbeat = now() - "
                                           "interval '1 minute' WHERE id = :id"), {"id": worker_id})
                db.session.commit()
            given_back = await give_back_stalled_jobs(jobs)
            status = await jobs.job_manager.get_job_status_async(dead.id)
        await run_worker(app, wait=False)  # the job that runs next can start now: the lock is free
        async with jobs.open_async():
            return given_back, status, list(await jobs.job_manager.list_jobs_async(id=runs_next))

    given_back, status, after = asyncio.run(a_worker_dies_mid_job())

    assert given_back == 1 and status.value == dead_job_becomes
    assert after == []  # it ran (finished jobs are deleted)



def test_the_worker_s_metrics_read_the_library_s_circulation_from_its_database(app, client, as_user, borrow, hold,
                                                                                neighbours):
    neighbours.copies.update({1: 1, 2: 1, 3: 1})
    returned = borrow(1, "alice").json
    hold(1, "bob")
    client.post("/checkin", json={"barcode": returned["barcode"]}, headers=as_user("boss", "librarian"))  # ready
    borrow(2, "carol")
    hold(2, "dave")  # waiting
    late = borrow(3, "alice").json
    due_in(app, late["id"], -2)
    registry = CollectorRegistry()
    registry.register(ScrapeTimeGauges(app, gauges_reader(app)))

    scraped = generate_latest(registry).decode()

    for line in ("library_loans_active 2.0", "library_loans_overdue 1.0", "library_holds_waiting 1.0",
                 "library_holds_ready 1.0"):
        assert line in scraped.splitlines(), scraped
    assert "library_jobs_waiting " in scraped
