"""The procrastinate side of the queue (PostgreSQL).

procrastinate keeps its queue in PostgreSQL (no new server), defers in the caller's transaction (a job row
and its queue entry commit together or not at all), retries on transient errors, and knows a worker died
by its missing heartbeats: `retry_stalled_jobs` puts such a worker's jobs back in the queue, and
`run_job` runs them again from the start (fangkong.jobs.runner).

`on_app_ready` (settings.PROCRASTINATE_ON_APP_READY) registers the tasks when procrastinate's Django app
starts, listed after Fangkong's apps so every scheduled kind is known by then.
"""

from __future__ import annotations

import logging

import procrastinate
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import close_old_connections
from procrastinate import builtin_tasks

from fangkong.jobs import registry
from fangkong.jobs.queue import QUEUE, RUN_JOB, submit
from fangkong.jobs.runner import TRANSIENT, run_job

logger = logging.getLogger(__name__)


def run_job_task(job_id: int) -> None:
    close_old_connections()  # a worker's thread may hold a connection the database closed meanwhile
    try:
        run_job(job_id)
    finally:
        close_old_connections()


def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> int:
    """The jobs of workers silent for JOBS_STALLED_SECONDS (killed, machine lost) go back to the queue."""
    assert context.app is not None
    manager = context.app.job_manager
    stalled = list(async_to_sync(manager.get_stalled_jobs)(seconds_since_heartbeat=settings.JOBS_STALLED_SECONDS))
    for job in stalled:
        logger.warning("retrying job %s (%s): its worker stopped sending heartbeats", job.id, job.task_name)
        async_to_sync(manager.retry_job)(job)
    close_old_connections()
    return len(stalled)


async def remove_old_queue_rows(context: procrastinate.JobContext, timestamp: int) -> None:
    """procrastinate's own finished rows after a week (the job rows in fangkong.jobs keep the history)."""
    await builtin_tasks.remove_old_jobs(context, max_hours=7 * 24, remove_failed=True, remove_cancelled=True,
                                        remove_aborted=True)


def _scheduled(kind: registry.JobKind):
    def submit_scheduled(timestamp: int) -> None:
        # procrastinate defers each tick once however many workers run; the work itself is a job like any.
        submit(kind.name)

    return submit_scheduled


def on_app_ready(app: procrastinate.App) -> None:
    app.task(name=RUN_JOB, queue=QUEUE, pass_context=False,
             retry=procrastinate.RetryStrategy(max_attempts=5, wait=5, exponential_wait=2,
                                               retry_exceptions=set(TRANSIENT)))(run_job_task)
    retry = app.task(name="fangkong.retry_stalled_jobs", queue=QUEUE, pass_context=True)(retry_stalled_jobs)
    app.periodic(cron="* * * * *", periodic_id="retry-stalled")(retry)
    remove = app.task(name="fangkong.remove_old_queue_rows", queue=QUEUE, pass_context=True)(remove_old_queue_rows)
    app.periodic(cron="17 3 * * *", periodic_id="remove-old-queue-rows")(remove)
    for kind in registry.periodic():
        task = app.task(name=f"fangkong.scheduled.{kind.name}", queue=QUEUE, pass_context=False)(_scheduled(kind))
        app.periodic(cron=kind.cron, periodic_id=kind.name)(task)
