"""The jobs' own upkeep, a scheduled kind: result files (exports hold personal data) are wiped after
JOBS_RESULT_HOURS, and job rows are deleted after JOBS_KEEP_DAYS."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.jobs.models import Job
from fangkong.jobs.progress import Progress
from fangkong.jobs.registry import JobKind, Outcome, register


def expire_jobs(job: Job, progress: Progress) -> Outcome:
    now = timezone.now()
    wiped = (Job.objects.filter(finished_at__lt=now - dt.timedelta(hours=settings.JOBS_RESULT_HOURS))
             .exclude(result_data=b"").update(result_data=b"", input_data=b""))
    deleted, _kinds = Job.objects.filter(created_at__lt=now - dt.timedelta(days=settings.JOBS_KEEP_DAYS)).delete()
    return Outcome(counts={"files_wiped": wiped, "jobs_deleted": deleted})


EXPIRE = JobKind("expire-jobs", _("Expire old job results"), expire_jobs, cron="23 * * * *")


def register_housekeeping() -> None:
    register(EXPIRE)
