"""books-service's work outside requests, run by its worker (`python -m library_common.worker books_service`):
imports are staged, committed and reverted here, never in a request. A request that starts one wakes the
worker at once; the schedule (every IMPORT_POLL_SECONDS) also takes up an import whose worker died."""

import contextlib

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from library_common.worker import defer

from . import imports
from .deps import deps

jobs = procrastinate.Blueprint()


@jobs.task(name="work_on_imports", queueing_lock="work_on_imports")
def work_on_imports(timestamp):
    return imports.work(deps().circulation, deps().service_tokens)


def schedule(settings):
    return {"work_on_imports": settings["IMPORT_POLL_SECONDS"]}


def start_soon():
    """Have the worker look at the imports now rather than at its next scheduled turn."""
    with contextlib.suppress(AlreadyEnqueued):  # a turn is already waiting: it will see this import
        defer("work_on_imports", timestamp=0)
