"""The cross-check as a scheduled background job (fangkong.jobs): every five minutes, the whole city."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.crosscheck.models import Kind
from fangkong.crosscheck.services import run_crosscheck
from fangkong.jobs.models import Job
from fangkong.jobs.progress import Progress
from fangkong.jobs.registry import JobKind, Outcome


def run_scheduled_crosscheck(job: Job, progress: Progress) -> Outcome:
    return Outcome(counts=run_crosscheck(area_code=job.params.get("area_code", "")))


KIND = JobKind("crosscheck", _("Cross-check"), run_scheduled_crosscheck, cron="*/5 * * * *",
               count_labels={**{kind.value: kind.label for kind in Kind}, "closed": _("To-dos closed by themselves"),
                             "vacancies_cleared": _("Vacancies cleared")})
