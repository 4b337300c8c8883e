"""Starting jobs. `submit()` writes the job row and hands its id to the queue:

- JOBS_BACKEND=procrastinate (the default on PostgreSQL): deferred to procrastinate in the same
  transaction, run by `fangkong jobs-worker` processes (deploy/fangkong-worker.service), which also run
  the scheduled kinds on their cron schedule;
- JOBS_BACKEND=inline (the default on SQLite, and the tests): run at once in this process by the same
  `run_job`; the scheduled kinds are run by fangkong.jobs.scheduler (`fangkong jobs-worker`, or the
  demo server's thread). The job page then shows the job finished.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.db import transaction
from procrastinate.contrib.django import app

from fangkong.core.scope import ScopedUser, scope_of
from fangkong.jobs import registry
from fangkong.jobs.models import Job
from fangkong.jobs.runner import run_job

QUEUE = "fangkong"
RUN_JOB = "fangkong.run_job"  # the task (fangkong.jobs.tasks) that runs a job by its id
PROCRASTINATE = "procrastinate"
INLINE = "inline"


def uses_procrastinate() -> bool:
    return settings.JOBS_BACKEND == PROCRASTINATE


def submit(kind: str, *, user: ScopedUser | None = None, params: dict[str, Any] | None = None,
           input_name: str = "", input_data: bytes = b"") -> Job:
    """A new job of `kind` for `user` (None: the system). Returns the job row (finished when inline)."""
    registry.get(kind)  # an unknown kind fails here, not in the worker
    account = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        job = Job.objects.create(kind=kind, user=cast(Any, account),
                                 area_code=(scope_of(account).area_code or "") if account else "",
                                 params=params or {}, input_name=input_name[:255], input_data=input_data)
        if uses_procrastinate():
            app.configure_task(RUN_JOB).defer(job_id=job.pk)
    if not uses_procrastinate():
        run_job(job.pk)
        job.refresh_from_db()
    return job
