"""The observation alerts as a scheduled background job (fangkong.jobs): every five minutes."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.jobs.models import Job
from fangkong.jobs.progress import Progress
from fangkong.jobs.registry import JobKind, Outcome
from fangkong.observation.alerts import run_alert_job


def run_scheduled_alerts(job: Job, progress: Progress) -> Outcome:
    return Outcome(counts=run_alert_job(timezone.now()))


KIND = JobKind("observation-alerts", _("Observation alerts"), run_scheduled_alerts, cron="*/5 * * * *",
               count_labels={"missed": _("Missed reports"), "fever": _("Fevers"), "symptoms": _("New symptoms"),
                             "escalated": _("Escalated")})
