"""notification-service's work outside requests, run by its worker (`python -m library_common.worker
notification_service`): read the event logs into notices, and mail the notices that are due. Both every
POLL_SECONDS; both safe to run twice or to interrupt anywhere."""

import procrastinate

from library_common.clock import now
from library_common.worker import one_at_a_time

from . import delivery, reading
from .deps import deps

jobs = procrastinate.Blueprint()


@one_at_a_time(jobs, "read_events")
def read_events(timestamp):
    return reading.read_feeds(deps().feeds, deps().accounts, now())


@one_at_a_time(jobs, "send_mail")
def send_mail(timestamp):
    return delivery.deliver_due(deps().transport, deps().mail, now(), deps().accounts)


def schedule(settings):
    return {"read_events": settings["POLL_SECONDS"], "send_mail": settings["POLL_SECONDS"]}
