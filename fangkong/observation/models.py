"""Medical observation (居家隔离医学观察 / 集中隔离医学观察): one file per person (一人一档).

An `ObservationFile` holds the period (start, last exposure, planned end from the policy), the place,
the responsible worker (包保责任人) and a self-report token. Around it: the logged decisions that move
its end (`FileDecision`), the daily follow-up log (`FollowUpNote`), the twice-daily health reports
(`HealthReport`) and the alerts of the periodic job (`Alert`).

Every table carries the person's `area_code` (denormalised, as cases do): scoping is one indexed
prefix, and the big time-series table (`HealthReport`) carries its local `date` so that it can be
partitioned by day on PostgreSQL. `Alert` is unique per (file, kind, key): the alert job inserts
with ON CONFLICT DO NOTHING, so running it twice alerts once.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.scope import NOTHING, Scope, ScopedQuerySet
from fangkong.policy.labels import WINDOW_NAME_LABELS
from fangkong.screening.models import Symptom
from fangkong.screening.readings import TemperatureMethod


def _area_q(scope: Scope) -> Q:
    if scope.area_code:
        return Q(area_code__startswith=scope.area_code)
    return NOTHING


def _area_index(name: str, *fields: str) -> models.Index:
    return models.Index(fields=["area_code", *fields], name=name,
                        opclasses=["varchar_pattern_ops", *(["text_ops"] * len(fields))])


class Kind(models.TextChoices):
    HOME = "home", _("Home isolation")  # 居家隔离医学观察
    CENTRALISED = "centralised", _("Centralised isolation")  # 集中隔离医学观察


class FileStatus(models.TextChoices):
    OPEN = "open", _("Under observation")
    RELEASED = "released", _("Released")  # 解除隔离
    ENDED = "ended", _("Ended by decision")
    ESCALATED = "escalated", _("Escalated (fever)")  # 转发热门诊


class FileSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    TRACING = "tracing", _("Contact tracing")
    SCREENING = "screening", _("Screening follow-up")


class ObservationFile(models.Model):
    resident = models.ForeignKey("people.Resident", models.PROTECT, related_name="observation_files",
                                 verbose_name=_("person"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.HOME)
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(_("source"), max_length=12, choices=FileSource.choices, default=FileSource.MANUAL)
    source_ref = models.CharField(_("source reference"), max_length=64, blank=True)
    started_on = models.DateField(_("started on"))
    last_exposure_on = models.DateField(_("last exposure"))
    planned_end_on = models.DateField(_("planned end"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    facility = models.ForeignKey("facilities.Facility", models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("isolation site"))
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("responsible worker"))  # 包保责任人
    status = models.CharField(_("status"), max_length=10, choices=FileStatus.choices, default=FileStatus.OPEN)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    # The release notice (解除隔离告知书) number, set when the file is released.
    notice_number = models.CharField(_("notice number"), max_length=24, null=True, blank=True, unique=True)
    # The personal self-report link: 192 random bits (secrets.token_urlsafe), re-issued on demand.
    token = models.CharField(max_length=64, unique=True)
    area_code = models.CharField(max_length=15, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("opened at"))
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["resident"], condition=Q(status="open"), name="obsfile_one_open_per_person"),
            models.CheckConstraint(condition=Q(planned_end_on__gte=models.F("started_on")), name="obsfile_end_after_start"),
        ]
        indexes = [
            _area_index("obsfile_area_status_idx", "status"),
            models.Index(fields=["status", "planned_end_on"], name="obsfile_status_end_idx"),
        ]

    def __str__(self) -> str:
        return str(self.resident) if self.resident_id else f"#{self.pk}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_q(scope)

    @property
    def is_open(self) -> bool:
        return self.status == FileStatus.OPEN


class DecisionKind(models.TextChoices):
    OPEN = "open", _("File opened")
    EXPOSURE = "exposure", _("Later exposure")
    EXTEND = "extend", _("Extended")
    SHORTEN = "shorten", _("Shortened")
    END = "end", _("Ended")
    VIOLATION = "violation", _("Left home isolation")
    ESCALATE = "escalate", _("Escalated")
    RELEASE = "release", _("Released")


class FileDecision(models.Model):
    """A logged decision on a file: who changed its end or status, when and why."""

    file = models.ForeignKey(ObservationFile, models.CASCADE, related_name="decisions")
    kind = models.CharField(_("decision"), max_length=10, choices=DecisionKind.choices)
    old_end_on = models.DateField(_("old end"), null=True, blank=True)
    new_end_on = models.DateField(_("new end"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("time"))
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_id}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_q(scope)


class FollowUpNote(models.Model):
    """The daily follow-up log (每日随访): what the responsible worker found."""

    file = models.ForeignKey(ObservationFile, models.CASCADE, related_name="notes")
    note = models.CharField(_("note"), max_length=500)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    written_at = models.DateTimeField(_("time"))
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["written_at", "id"]

    def __str__(self) -> str:
        return self.note[:40]

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_q(scope)


class ReportSource(models.TextChoices):
    SELF = "self", _("Self-report")
    WORKER = "worker", _("Worker, after a call")


class HealthReport(models.Model):
    """One temperature and symptom report for one reporting window of one local day."""

    # Unique with the day (the table is partitioned by day on PostgreSQL); reports.py looks it up first.
    client_id = models.UUIDField(_("client id"), default=uuid.uuid4)
    # No single-column index: (file, date, window_name) below serves every lookup by file.
    file = models.ForeignKey(ObservationFile, models.CASCADE, related_name="reports", db_index=False)
    date = models.DateField(_("date"))  # local (Asia/Shanghai) calendar day of the window
    window_name = models.CharField(_("window"), max_length=16)
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    # How it was taken (R7); a forehead reading outdoors outside the device's ambient range is kept but
    # marked unreliable (fangkong.screening.readings). Reports before this field have the method empty.
    temperature_method = models.CharField(_("measured at"), max_length=8, choices=TemperatureMethod.choices, blank=True,
                                          default="", db_default="")
    outdoors = models.BooleanField(_("measured outdoors"), default=False, db_default=False)
    ambient_c = models.DecimalField(_("ambient temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True)
    reading_unreliable = models.BooleanField(_("unreliable reading"), default=False, db_default=False)
    # Bits of screening's Symptom set (fangkong.screening.models.Symptom).
    symptoms = models.PositiveSmallIntegerField(_("symptoms"), default=0)
    source = models.CharField(_("source"), max_length=8, choices=ReportSource.choices)
    reported_at = models.DateTimeField(_("time"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["reported_at", "id"]
        constraints = [models.UniqueConstraint(fields=["client_id", "date"], name="report_client_id_date_uniq")]
        indexes = [
            models.Index(fields=["file", "date", "window_name"], name="report_file_slot_idx"),
            # The alert job's anti-join "no report of this window" reads only this index (index-only scan).
            models.Index(fields=["date", "window_name", "file"], name="report_slot_file_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date}/{self.window_name} {self.temperature}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_q(scope)

    @property
    def window_label(self) -> str:
        return str(WINDOW_NAME_LABELS.get(self.window_name, self.window_name))

    @property
    def symptom_labels(self) -> list[str]:
        return Symptom.labels(self.symptoms)


class AlertKind(models.TextChoices):
    MISSED = "missed", _("Missed report")
    FEVER = "fever", _("Fever")
    SYMPTOMS = "symptoms", _("New symptoms")
    VIOLATION = "violation", _("Left home isolation")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    HANDLED = "handled", _("Handled")


class Alert(models.Model):
    """An alert to the responsible worker and the area's list; `key` names the window ("2026-11-29/morning")."""

    file = models.ForeignKey(ObservationFile, models.CASCADE, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=10, choices=AlertKind.choices)
    key = models.CharField(max_length=40)
    detail = models.CharField(_("detail"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    created_at = models.DateTimeField(_("time"))
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["file", "kind", "key"], name="alert_once_per_file_kind_key")]
        indexes = [_area_index("alert_area_status_idx", "status", "kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    @property
    def window_label(self) -> str:
        """The key as people read it: "2026-11-28/evening" → "11-28 晚上"; other keys as they are."""
        day, _sep, name = self.key.partition("/")
        if not name or len(day) != 10:
            return self.key
        return f"{day[5:]} {WINDOW_NAME_LABELS.get(name, name)}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_q(scope)


class ReportDaySummary(models.Model):
    """Health reports of one day for one area code: the aggregate the retention purge keeps when it
    removes the day's reports (no personal data in it)."""

    date = models.DateField(_("date"))
    area_code = models.CharField(max_length=15)
    reports = models.PositiveIntegerField(_("reports"), default=0)
    files = models.PositiveIntegerField(_("people reporting"), default=0)
    with_symptoms = models.PositiveIntegerField(_("reports with symptoms"), default=0)
    made_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["date", "area_code"]
        verbose_name = _("daily health report summary")
        verbose_name_plural = _("daily health report summaries")
        constraints = [models.UniqueConstraint(fields=["date", "area_code"], name="reportsummary_one_per_area_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.area_code}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_q(scope)
