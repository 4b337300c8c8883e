"""The four categories (四类人员): one record per person in the pipeline, its status history and tests.

`Case` carries the person's current status, severity and placement state, denormalised with the
person's area code so that the category board and the targets are grouped counts over one table
(`area_code LIKE 'prefix%'`), never a walk over the history. Every change goes through
`fangkong.cases.services`, which checks the transition table (`fangkong.cases.transitions`), writes a
`StatusChange` (who, when, why, evidence) and an audit entry in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.cases.providers import FACILITY_CASES
from fangkong.core.scope import NOTHING, Scope, ScopedQuerySet


class Status(models.TextChoices):
    FEVER = "fever", _("Fever patient")  # 发热病人
    TESTED = "tested", _("Fever patient, tested")  # 已采样，待排查
    SUSPECTED = "suspected", _("Suspected case")  # 疑似病例
    CONFIRMED = "confirmed", _("Confirmed case")  # 确诊病例
    CLOSE_CONTACT = "close_contact", _("Close contact")  # 密切接触者
    DISCHARGED = "discharged", _("Discharged (cured)")  # 治愈出院
    RECOVERY = "recovery", _("Recovery observation")  # 康复观察
    EXCLUDED = "excluded", _("Excluded")  # 已排除
    RELEASED = "released", _("Released")  # 解除隔离/观察
    DECEASED = "deceased", _("Deceased")


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")  # 轻型
    MODERATE = "moderate", _("Moderate")  # 普通型
    SEVERE = "severe", _("Severe")  # 重型
    CRITICAL = "critical", _("Critical")  # 危重型


class Source(models.TextChoices):
    SCREENING = "screening", _("Screening follow-up")
    MANUAL = "manual", _("Entered by hand")
    TRACING = "tracing", _("Contact tracing")
    HOSPITAL = "hospital", _("Hospital report")
    OBSERVATION = "observation", _("Medical observation")  # 医学观察


class Placement(models.TextChoices):
    NONE = "none", _("Needs no bed")
    WAITING = "waiting", _("Waiting for a bed")
    BOOKED = "booked", _("Bed booked")
    PLACED = "placed", _("In a fitting bed")
    TO_LEAVE = "to_leave", _("To be discharged")


class Case(models.Model):
    """One person in the four-category pipeline (一人一档): current status and where they are."""

    resident = models.OneToOneField("people.Resident", models.PROTECT, related_name="case", verbose_name=_("person"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)
    # The routing category of the policy ("critical" … "discharged"), "" when the person needs no bed.
    category = models.CharField(_("category"), max_length=16, blank=True)
    status_since = models.DateTimeField(_("since"), default=timezone.now)
    opened_at = models.DateTimeField(_("taken up at"), default=timezone.now)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    # When screening flagged the person (the start of the screening link), and where the flag came from.
    flagged_at = models.DateTimeField(_("flagged at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.MANUAL)
    source_ref = models.CharField(_("source reference"), max_length=64, blank=True)
    # A sample has been taken in the current episode (reset when a closed case opens again).
    tested = models.BooleanField(_("tested"), default=False)
    first_sampled_at = models.DateTimeField(_("first sample at"), null=True, blank=True)
    placement = models.CharField(_("placement"), max_length=10, choices=Placement.choices, default=Placement.NONE)
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    # Discharged as cured: the last day of the post-discharge period (recovery station or home monitoring).
    post_discharge_until = models.DateField(_("post-discharge period until"), null=True, blank=True)
    # Denormalised from the resident: the scoping and grouping key.
    area_code = models.CharField(max_length=15, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-status_since", "-id"]
        indexes = [
            models.Index(fields=["area_code", "status"], opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
                         name="case_area_status_idx"),
            models.Index(fields=["placement", "waiting_since"], name="case_placement_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status="confirmed", severity__gt="") | ~Q(status="confirmed"),
                                   name="case_confirmed_has_severity"),
        ]

    def __str__(self) -> str:
        return str(self.resident) if self.resident_id else f"#{self.pk}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        if scope.facility_id:
            # Facility staff see the people booked into or staying in their facility (facilities says who).
            return FACILITY_CASES(scope.facility_id)
        return NOTHING

    @property
    def status_label(self) -> str:
        if self.status == Status.CONFIRMED and self.severity:
            return f"{self.get_status_display()}（{self.get_severity_display()}）"
        return str(self.get_status_display())


class StatusChange(models.Model):
    """One line of a person's status history: who, when, why and on what evidence."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="history")
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices)
    from_severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    to_severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    evidence = models.CharField(_("evidence"), max_length=200, blank=True)
    test = models.ForeignKey("NucleicAcidTest", models.SET_NULL, null=True, blank=True, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    changed_at = models.DateTimeField(_("time"), default=timezone.now)
    area_code = models.CharField(max_length=15, editable=False)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class Result(models.TextChoices):
    PENDING = "", _("Pending")
    POSITIVE = "positive", _("Positive")
    NEGATIVE = "negative", _("Negative")
    INCONCLUSIVE = "inconclusive", _("Inconclusive")


class NucleicAcidTest(models.Model):
    """核酸检测: ordered, sample taken (where, by whom), result with the lab's time."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="tests")
    sample_number = models.CharField(_("sample number"), max_length=40, unique=True)
    ordered_at = models.DateTimeField(_("ordered at"), default=timezone.now)
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    sampled_at = models.DateTimeField(_("sample taken at"), null=True, blank=True)
    sample_place = models.CharField(_("sample taken where"), max_length=100, blank=True)
    sample_facility = models.ForeignKey("facilities.Facility", models.SET_NULL, null=True, blank=True, related_name="+")
    sampled_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    sample_taker = models.CharField(_("sample taken by"), max_length=50, blank=True)
    result = models.CharField(_("result"), max_length=12, choices=Result.choices, blank=True, default=Result.PENDING)
    result_at = models.DateTimeField(_("result time"), null=True, blank=True)
    lab = models.CharField(_("laboratory"), max_length=100, blank=True)
    result_entered_at = models.DateTimeField(null=True, blank=True)
    result_entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-ordered_at", "-id"]
        indexes = [models.Index(fields=["area_code"], opclasses=["varchar_pattern_ops"], name="test_area_idx")]

    def __str__(self) -> str:
        return self.sample_number

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        if scope.facility_id:
            return Q(sample_facility_id=scope.facility_id) | Q(case__in=Case.objects.filter(Case.scope_q(scope)))
        return NOTHING


class ResultImport(models.Model):
    """One lab-result import run: who, which file, the counts and the per-row error report (XLSX)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    filename = models.CharField(_("file name"), max_length=255)
    updated = models.PositiveIntegerField(_("results entered"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    area_code = models.CharField(max_length=15, blank=True, db_index=True)
    facility_id_scope = models.BigIntegerField(null=True, blank=True)
    report = models.BinaryField(_("error report"), blank=True, default=b"")
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename
