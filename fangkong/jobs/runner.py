"""Running one job: the same code whatever carries it (the procrastinate worker on PostgreSQL, the request
or the demo's scheduler thread on SQLite).

Two transactions: the first marks the job running (so its page says so at once), the second locks the
job's row, does the work and marks it done, together. A worker killed in the second leaves the job
"running" with nothing of its work committed; the queue retries it and it runs again from the start. Two
workers can never both run it: the second waits on the row lock and then finds it done.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.metrics import observe_job
from fangkong.jobs import progress as live_progress
from fangkong.jobs import registry
from fangkong.jobs.models import FINISHED, Job, JobStatus
from fangkong.jobs.progress import Progress
from fangkong.jobs.registry import JobError

logger = logging.getLogger(__name__)

# The database went away or the connection broke: worth another attempt (the queue retries).
TRANSIENT = (OperationalError, InterfaceError)


AUDIT = "audit"  # the result's key for what the file's download writes to the audit log (Outcome.audit)


class RetryLater(Exception):
    """Raised to the queue: the job met a transient error and is queued for another attempt."""


def run_job(job_id: int) -> str:
    """Run the job if it is not finished; returns its final (or, on a transient error, queued) status."""
    started = time.monotonic()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in FINISHED:
            return job.status if job else "missing"  # already done by an earlier attempt: nothing twice
        if job.attempts >= settings.JOBS_MAX_ATTEMPTS:
            return _finish_failed(job, _("The job was stopped after %(n)d attempts.") % {"n": job.attempts})
        job.status, job.attempts, job.started_at = JobStatus.RUNNING, job.attempts + 1, timezone.now()
        job.save(update_fields=["status", "attempts", "started_at"])
    kind = registry.get(job.kind)
    tracker = Progress(job.pk)
    try:
        # A kind that only reads (an export) works before the job's transaction: its reads may then go to the
        # read replica (core.dbrouter), which a transaction on the primary would forbid.
        early = kind.run(job, tracker) if kind.reads_only else None
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_id)
            if job.status in FINISHED:
                return job.status
            outcome = early if early is not None else kind.run(job, tracker)
            job.status, job.finished_at = JobStatus.DONE, timezone.now()
            job.result = {**outcome.counts, AUDIT: outcome.audit} if outcome.audit else outcome.counts
            job.result_url = outcome.url
            job.result_name, job.result_type, job.result_data = outcome.file_name, outcome.file_type, outcome.file_data
            job.done_count, job.total_count = tracker.done, tracker.total
            job.message = outcome.message or tracker.message
            job.input_data = b""  # the uploaded file is not kept past its use
            job.save()
    except JobError as exc:
        observe_job(job.kind, time.monotonic() - started, ok=False)
        return _finish_failed(job, str(exc))
    except TRANSIENT:
        observe_job(job.kind, time.monotonic() - started, ok=False)
        logger.warning("job %s (%s) met a transient database error; it will be retried", job_id, job.kind)
        _requeue(job_id)
        raise
    except Exception:
        observe_job(job.kind, time.monotonic() - started, ok=False)
        logger.exception("job %s (%s) failed", job_id, job.kind)
        return _finish_failed(job, _("The job failed because of an error in Fangkong; the operators can see it in the log."))
    finally:
        live_progress.forget(job_id)
    observe_job(job.kind, time.monotonic() - started, ok=True)  # /metrics: fangkong_job_duration_seconds, jobs_total
    logger.info("job %s (%s) done in %.2f s", job_id, job.kind, time.monotonic() - started)
    return JobStatus.DONE


def run_system_job(kind_name: str) -> Job:
    """A scheduled run: a job row without a user (so the run shows on the system jobs page), run here."""
    registry.get(kind_name)
    job = Job.objects.create(kind=kind_name)
    run_job(job.pk)
    job.refresh_from_db()
    return job


def _finish_failed(job: Job, message: str) -> str:
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, message=message[:300], finished_at=timezone.now(),
                                         input_data=b"")
    return JobStatus.FAILED


def _requeue(job_id: int) -> None:
    try:
        Job.objects.filter(pk=job_id).update(status=JobStatus.QUEUED, message=_("Waiting to try again."))
    except DatabaseError:
        pass  # the database is still away: the row says "running" until the retry runs it
