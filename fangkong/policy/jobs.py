"""The daily upkeep of the daily tables as scheduled background jobs (fangkong.jobs): the day partitions
ahead (PostgreSQL; fangkong.core.partitions) and the retention purge (fangkong.policy.retention)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.core.partitions import ensure_partitions
from fangkong.jobs.models import Job
from fangkong.jobs.progress import Progress
from fangkong.jobs.registry import JobError, JobKind, Outcome
from fangkong.policy.retention import RetentionError, purge


def run_partitions(job: Job, progress: Progress) -> Outcome:
    return Outcome(counts={"created": len(ensure_partitions(days_ahead=int(job.params.get("ahead", 7))))})


def run_purge(job: Job, progress: Progress) -> Outcome:
    try:
        return Outcome(counts=purge(dry_run=bool(job.params.get("dry_run", False))))
    except RetentionError as exc:
        raise JobError(str(exc)) from exc


PARTITIONS = JobKind("partitions", _("Day partitions ahead"), run_partitions, cron="5 0 * * *",
                     count_labels={"created": _("Partitions created")})
PURGE = JobKind("retention-purge", _("Retention purge"), run_purge, cron="30 3 * * *",
                count_labels={"screening_visit_rows": _("Visits removed"),
                              "screening_personcheck_rows": _("Person checks removed"),
                              "observation_healthreport_rows": _("Health reports removed"),
                              "screening_follow_ups": _("Follow-up items removed"),
                              "screening_day_summaries": _("Daily screening summaries kept"),
                              "observation_report_day_summaries": _("Daily report summaries kept")})
KINDS = (PARTITIONS, PURGE)
