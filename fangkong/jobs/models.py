"""A background job: what a user (or the schedule) asked for, how far it got, and what it produced.

The queue (procrastinate on PostgreSQL, in-process on SQLite: fangkong.jobs.queue) only carries the job's
id; everything a person sees lives here, so the job page reads one row whatever runs the job.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.scope import NOTHING, Scope, ScopedQuerySet


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


FINISHED = (JobStatus.DONE, JobStatus.FAILED)


class Job(models.Model):
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    # Who started it (None: the schedule) and their scope code: who may see it besides them.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                             related_name="jobs", verbose_name=_("user"))
    area_code = models.CharField(max_length=15, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    # The uploaded file, kept until the job has finished (a retried job reads it again), then wiped.
    input_name = models.CharField(_("file name"), max_length=255, blank=True)
    input_data = models.BinaryField(blank=True, default=b"")
    # The last progress the job wrote (live progress goes through the cache: fangkong.jobs.progress).
    done_count = models.PositiveIntegerField(default=0)
    total_count = models.PositiveIntegerField(null=True, blank=True)
    message = models.CharField(_("message"), max_length=300, blank=True)
    # What it produced: counts, a page with the per-row report, a file to download.
    result = models.JSONField(default=dict, blank=True)
    result_url = models.CharField(max_length=200, blank=True)
    result_name = models.CharField(max_length=255, blank=True)
    result_type = models.CharField(max_length=100, blank=True)
    result_data = models.BinaryField(blank=True, default=b"")
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("background job")
        indexes = [models.Index(fields=["user", "-created_at"], name="jobs_job_user_recent")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        # Only the area's own jobs; system jobs (area '') are for the whole city's scope (everything).
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code) & ~Q(area_code="")
        return NOTHING

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def percent(self) -> int | None:
        if self.status == JobStatus.DONE:
            return 100
        if not self.total_count:
            return None
        return min(100, int(100 * self.done_count / self.total_count))
