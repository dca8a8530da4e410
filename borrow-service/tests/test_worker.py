"""The worker runs the service's jobs against its own database, inside the service's app."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from croniter import croniter

from borrow_service.models import Hold, db
from library_common.worker import cron_every, job_app, run_worker


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
    client.post(f"/borrows/{loan['id']}/return", headers=as_user("alice"))
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
