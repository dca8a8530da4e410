"""books-service's work outside requests, run by its worker (`python -m library_common.worker books_service`):
imports are staged, committed and reverted here, never in a request, and cover images are fetched. A request
that starts either wakes the worker at once; the schedule (every IMPORT_POLL_SECONDS, COVER_POLL_SECONDS) also
takes up an import whose worker died and covers whose wait before another try is over."""

import contextlib

import procrastinate
import sqlalchemy as sa
from flask import current_app
from procrastinate.exceptions import AlreadyEnqueued

from library_common import audit
from library_common.clock import now
from library_common.worker import defer, one_at_a_time

from . import covers, imports
from .deps import deps
from .models import Import, db

jobs = procrastinate.Blueprint()
audit.add_pruning(jobs)


@jobs.task(name="work_on_imports", queueing_lock="work_on_imports")
def work_on_imports(timestamp):
    worked = imports.work(deps().circulation, deps().service_tokens)
    if worked:  # a committed import's books may have covers to fetch
        fetch_covers_soon()
    return worked


@one_at_a_time(jobs, "fetch_covers")
def fetch_covers(timestamp):
    if covers.fetch_due(deps().cover_fetcher, now()):
        fetch_covers_soon()  # the next few, after any other job waiting


def schedule(settings):
    every = {"work_on_imports": settings["IMPORT_POLL_SECONDS"], "prune_audit_log": audit.PRUNE_SECONDS}
    if settings["COVERS_FETCH"]:
        every["fetch_covers"] = settings["COVER_POLL_SECONDS"]
    return every


def _soon(task_name):
    with contextlib.suppress(AlreadyEnqueued):  # a turn is already waiting: it will see this work
        defer(task_name, timestamp=0)


def start_soon():
    """Have the worker look at the imports now rather than at its next scheduled turn."""
    _soon("work_on_imports")


def fetch_covers_soon():
    """Have the worker fetch the covers that are due now (a book given a cover_url), unless COVERS_FETCH is off."""
    if current_app.config["COVERS_FETCH"]:
        _soon("fetch_covers")


def gauges():
    """For the worker's /metrics (read at each scrape)."""
    running = db.session.scalar(sa.select(sa.func.count()).where(Import.status.in_(imports.RUNNING)))
    return {"library_imports_running": running}
