"""Background and scheduled work: procrastinate jobs kept in each service's own database.

A service with work to do outside requests has a `jobs.py` holding a procrastinate Blueprint named
`jobs` (its tasks are plain functions that call the service's rules) and a `schedule(settings)`
returning `{task name: seconds}` for the tasks that run by themselves. Its worker process is

    python -m library_common.worker borrow_service

which builds the service's Flask app (settings, database, deps), runs every job inside that app's
context, and defers each scheduled task on its interval. Procrastinate's tables live in the service's
database (created by one of its migrations: `schema_sql()`), so no worker reads another service's
tables; the schedule survives restarts and runs once however many workers there are.
"""

import asyncio
import importlib
import logging
import sys
import threading

import procrastinate
import sqlalchemy as sa
from procrastinate.schema import SchemaManager
from flask import current_app
from sqlalchemy.engine import make_url

from . import metrics, tracing

log = logging.getLogger(__name__)


def schema_sql():
    """procrastinate's schema, for the migration that gives a service its job tables."""
    return SchemaManager.get_schema()


def drop_schema_sql():
    """The reverse of schema_sql(), for that migration's downgrade: procrastinate's tables, functions and types."""
    return """
    DO $$ DECLARE found record; BEGIN
      FOR found IN SELECT tablename FROM pg_tables
                   WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%' LOOP
        EXECUTE format('DROP TABLE %I CASCADE', found.tablename);
      END LOOP;
      FOR found IN SELECT p.oid::regprocedure AS function FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%' LOOP
        EXECUTE format('DROP FUNCTION %s CASCADE', found.function);
      END LOOP;
      FOR found IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%' AND t.typtype IN ('e', 'c')
                   AND t.typarray <> 0 LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', found.typname);
      END LOOP;
    END $$
    """


def conninfo(sqlalchemy_url):
    """libpq connection string for psycopg 3 from the service's SQLAlchemy URL (socket paths included)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def one_at_a_time(jobs, name):
    """A scheduled task of the procrastinate blueprint `jobs` that runs on one worker at a time, with at most one
    more run waiting (procrastinate's lock and queueing lock, both named after the task)."""
    return jobs.task(name=name, lock=name, queueing_lock=name)


def cron_every(seconds):
    """A cron line firing every `seconds` (procrastinate's optional sixth column, after the weekday, is the
    seconds); cron can only say intervals that divide a minute or an hour evenly, so others are refused at
    start-up."""
    if seconds < 60 and 60 % seconds == 0:
        return f"* * * * * */{seconds}"
    if seconds % 60 == 0 and 3600 % seconds == 0:
        return f"*/{seconds // 60} * * * *"
    raise RuntimeError(f"An interval of {seconds} s cannot be scheduled: use a divisor of 60 s or of 3600 s")


def job_app(flask_app):
    """The procrastinate App of a service (one per process: a Blueprint's tasks bind to one App), with its
    tasks and schedule; its connector reaches the service's database with psycopg 3, as the worker needs."""
    jobs = flask_app.extensions.get("jobs")
    if jobs is None:
        package = importlib.import_module(f"{flask_app.import_name}.jobs")
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(flask_app.config["SQLALCHEMY_DATABASE_URI"]),
                                                   min_size=1)
        jobs = flask_app.extensions["jobs"] = procrastinate.App(connector=connector)
        jobs.add_tasks_from(package.jobs, namespace=flask_app.import_name)
        for name, seconds in package.schedule(flask_app.config).items():
            task = jobs.tasks[f"{flask_app.import_name}:{name}"]
            jobs.periodic(cron=cron_every(seconds), periodic_id=name)(task)
    return jobs


def in_app_context(flask_app):
    """A procrastinate task middleware: the job runs with the service's app context, its session removed after."""

    def middleware(call_next, context, worker):
        with flask_app.app_context():
            try:
                return call_next()
            finally:
                flask_app.extensions["sqlalchemy"].session.remove()

    return middleware


_opening = threading.Lock()


def defer(task_name, **arguments):
    """Queue a job from a request (after its change has committed: the job must find it). The process's job
    App is opened for it on first use, in the process that serves (after any fork), with a small pool of its
    own. The job carries the request's trace (a `traceparent` argument, when tracing is on), which it continues
    (tracing.job_middleware). Raises procrastinate's AlreadyEnqueued when the task's queueing lock has a job
    waiting."""
    flask_app = current_app._get_current_object()
    jobs = job_app(flask_app)
    with _opening:
        if not flask_app.extensions.get("jobs_open_for_requests"):
            jobs.open()
            flask_app.extensions["jobs_open_for_requests"] = True
    return jobs.configure_task(f"{flask_app.import_name}:{task_name}").defer(**arguments, **tracing.carrier())


# How often a worker looks for jobs that a dead worker was running (procrastinate counts a worker dead 30 s
# after its last heartbeat; the look itself is one small query).
STALLED_CHECK_SECONDS = 15


async def give_back_stalled_jobs(jobs):
    """Jobs a worker was running when it died (kill -9, a lost machine) stay 'doing' for ever, and so does their
    `lock`: every later job with that lock would wait behind them. Put them back in the queue (each job here is
    safe to run twice). When the task's next run is queued already (its queueing lock lets one wait), the dead
    job cannot join it: it is closed as failed instead, which frees the lock, and that run does the work.
    Returns how many."""
    stalled = await jobs.job_manager.get_stalled_jobs()
    for job in stalled:
        try:
            await jobs.job_manager.retry_job(job)
        except procrastinate.exceptions.UniqueViolation:
            await jobs.job_manager.finish_job(job, status=procrastinate.jobs.Status.FAILED, delete_job=False)
            log.warning("job %s (%s) was left running by a worker that stopped: closed, its next run is queued",
                        job.id, job.task_name)
        else:
            log.warning("job %s (%s) was left running by a worker that stopped: queued again", job.id, job.task_name)
    return len(stalled)


async def _keep_giving_back_stalled_jobs(jobs):
    while True:
        try:
            await give_back_stalled_jobs(jobs)
        except Exception:  # the database briefly away, another worker retrying the same job: next time
            log.exception("could not look for stalled jobs")
        await asyncio.sleep(STALLED_CHECK_SECONDS)


async def run_worker(flask_app, *, wait=True):
    jobs = job_app(flask_app)
    async with jobs.open_async():
        watchdog = asyncio.create_task(_keep_giving_back_stalled_jobs(jobs)) if wait else None
        try:
            await jobs.run_worker_async(
                name=f"{flask_app.config['SERVICE_NAME']}-worker",
                wait=wait,
                task_middleware=[metrics.count_jobs, in_app_context(flask_app), tracing.job_middleware],
                delete_jobs="successful",  # finished jobs are history nobody reads; failures stay to be seen
            )
        finally:
            if watchdog:
                watchdog.cancel()


_JOBS_WAITING = sa.text(
    "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())")


def gauges_reader(flask_app):
    """What the worker's /metrics reads from the service's database at each scrape: its queue's depth, and the
    gauges its jobs.py's `gauges()` (if any) returns ({name in metrics.LIBRARY_GAUGES: value}). The worker serves
    them, not the app: one worker per service, where every app replica would report the same library-wide count."""
    service_gauges = getattr(importlib.import_module(f"{flask_app.import_name}.jobs"), "gauges", dict)

    def read():
        waiting = flask_app.extensions["sqlalchemy"].session.scalar(_JOBS_WAITING)
        return {"library_jobs_waiting": waiting, **service_gauges()}

    return read


def main(package):
    tracing.runs_jobs()
    flask_app = importlib.import_module(package).create_app()
    # A job every few seconds is the worker's ordinary life: its start and end are not worth a line each.
    logging.getLogger("procrastinate").setLevel(max(logging.WARNING, logging.getLogger().level))
    log.info("%s worker starting", flask_app.config["SERVICE_NAME"])
    metrics.serve(flask_app.config, collectors=[metrics.ScrapeTimeGauges(flask_app, gauges_reader(flask_app))])
    try:
        asyncio.run(run_worker(flask_app))
    finally:
        tracing.stop()  # the last jobs' spans are sent before the worker goes


if __name__ == "__main__":
    # Through the module's own name, so procrastinate's App is made in library_common.worker, not __main__.
    importlib.import_module("library_common.worker").main(sys.argv[1])
