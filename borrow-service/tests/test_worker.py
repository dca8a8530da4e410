"""The worker runs the service's jobs against its own database, inside the service's app."""

import asyncio
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from borrow_service.models import Hold, db
from library_common.worker import cron_every, job_app, run_worker


def test_the_schedule_becomes_cron_lines():
    assert cron_every(5) == "*/5 * * * * *"
    assert cron_every(60) == "0 */1 * * * *"
    assert cron_every(300) == "0 */5 * * * *"


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
    import pytest

    with pytest.raises(RuntimeError, match="divisor"):
        cron_every(7)
