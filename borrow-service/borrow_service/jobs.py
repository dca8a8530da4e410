"""borrow-service's work outside requests, run by its worker (`python -m library_common.worker
borrow_service`): uncollected holds expire (and waiting ones past the day their patron needed them by),
copies added while patrons wait go to them, reminders are due
(loans due soon or overdue, holds about to expire), old reading history is anonymised. Each runs every
SCHEDULE_SECONDS; the audit trail is pruned hourly (AUDIT_RETENTION_DAYS)."""

import procrastinate
import sqlalchemy as sa

from library_common import audit
from library_common.clock import now
from library_common.worker import one_at_a_time

from . import history, holds, reminders
from .deps import deps
from .models import Hold, Loan, db

jobs = procrastinate.Blueprint()
audit.add_pruning(jobs)


@one_at_a_time(jobs, "expire_holds")
def expire_holds(timestamp):
    moment = now()
    return holds.expire_uncollected(deps(), moment) + holds.expire_unneeded(moment, deps().policy)


@one_at_a_time(jobs, "allocate_waiting")
def allocate_waiting(timestamp):
    return holds.allocate_waiting(deps(), now())


@one_at_a_time(jobs, "send_reminders")
def send_reminders(timestamp):
    return reminders.remind(deps().reminder_policy, now())


@one_at_a_time(jobs, "anonymise_history")
def anonymise_history(timestamp):
    return history.anonymise_expired(deps().policy, deps().history_key, now())


def schedule(settings):
    return {**{name: settings["SCHEDULE_SECONDS"]
               for name in ("expire_holds", "allocate_waiting", "send_reminders", "anonymise_history")},
            "prune_audit_log": audit.PRUNE_SECONDS}


def gauges():
    """The library's circulation now, for the worker's /metrics (read at each scrape: two indexed counts)."""
    active, overdue = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(Loan.due_date < now())).where(~Loan.returned)).one()
    holds = dict(db.session.execute(sa.select(Hold.status, sa.func.count())
                                    .where(Hold.status.in_(("waiting", "ready"))).group_by(Hold.status)).all())
    return {"library_loans_active": active, "library_loans_overdue": overdue,
            "library_holds_waiting": holds.get("waiting", 0), "library_holds_ready": holds.get("ready", 0)}
