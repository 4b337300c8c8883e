"""The cross-check as a scheduled background job (fangkong.jobs), every five minutes for the whole city, and
the evidence import (meters, lit windows, returnees) as a job the upload screen submits."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.crosscheck.importer import import_evidence
from fangkong.crosscheck.models import Kind
from fangkong.crosscheck.services import run_crosscheck
from fangkong.jobs.imports import IMPORT_COUNTS, file_import
from fangkong.jobs.models import Job
from fangkong.jobs.progress import Progress
from fangkong.jobs.registry import JobKind, Outcome


def run_scheduled_crosscheck(job: Job, progress: Progress) -> Outcome:
    return Outcome(counts=run_crosscheck(area_code=job.params.get("area_code", "")))


KIND = JobKind("crosscheck", _("Cross-check"), run_scheduled_crosscheck, cron="*/5 * * * *",
               count_labels={**{kind.value: kind.label for kind in Kind}, "closed": _("To-dos closed by themselves"),
                             "vacancies_cleared": _("Vacancies cleared")})


EVIDENCE_IMPORT = "evidence-import"


def _evidence(source, *, filename, user, progress, kind: str, create_housing: bool = False):
    return import_evidence(kind, source, filename=filename, user=user, progress=progress, create_housing=create_housing)


EVIDENCE = file_import(EVIDENCE_IMPORT, _("Evidence import"), _evidence, result_url_name="crosscheck:result",
                       back_url_name="crosscheck:import",
                       count_labels={**IMPORT_COUNTS, "todos_opened": _("To-dos opened")})
KINDS = (KIND, EVIDENCE)
