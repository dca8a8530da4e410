"""borrow-service's work outside requests, run by its worker (`python -m library_common.worker
borrow_service`): uncollected holds expire (and waiting ones past the day their patron needed them by),
copies added while patrons wait go to them, reminders are due
(loans due soon or overdue, holds about to expire), old reading history is anonymised. Each runs every
SCHEDULE_SECONDS; the audit trail is pruned hourly (AUDIT_RETENTION_DAYS)."""

import procrastinate

from library_common import audit
from library_common.clock import now
from library_common.worker import one_at_a_time

from . import history, holds, reminders
from .deps import deps

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
