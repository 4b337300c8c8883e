"""Finding the hidden (查漏补缺): evidence that people live where the roster has nobody, and the
to-dos the cross-check opens for grid workers.

Evidence comes in three kinds, imported from files: electricity meter readings per household and
day (用电量), lit-window counts per building and night (亮灯数), and returnee lists pushed from
transport checkpoints (返程人员名单). The cross-check (`services.run_crosscheck`) compares them with
the roster and the screening in set-based SQL and opens to-dos (待核查事项), at most one open per
kind and object; a worker closes each with an outcome that updates the roster.

Every table carries `area_code` (the household's or building's grid or community code) for
scoping, prefix counts and, later, distribution by district.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fangkong.areas.models import Building, Household
from fangkong.core.masking import mask_document, mask_phone
from fangkong.core.scope import NOTHING, Scope, ScopedQuerySet
from fangkong.people.models import DocumentType


class EvidenceKind(models.TextChoices):
    METER = "meter", _("Electricity meter readings")  # 电表读数
    LIT = "lit_windows", _("Lit-window counts")  # 亮灯数
    RETURNEES = "returnees", _("Returnee lists")  # 返程人员名单


def _area_code_q(scope: Scope) -> Q:
    if scope.area_code:
        return Q(area_code__startswith=scope.area_code)
    return NOTHING


class MeterReading(models.Model):
    """One household's electricity use on one day (kWh); a re-import updates the value."""

    household = models.ForeignKey(Household, models.PROTECT, related_name="meter_readings", verbose_name=_("household"))
    date = models.DateField(_("date"))
    kwh = models.DecimalField(_("kWh"), max_digits=7, decimal_places=2)
    area_code = models.CharField(max_length=15, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["household_id", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["household", "date"], name="meter_one_reading_per_day"),
            models.CheckConstraint(condition=Q(kwh__gte=0), name="meter_kwh_not_negative"),
        ]
        indexes = [models.Index(fields=["date"], name="meter_date_idx")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.date} {self.kwh}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_code_q(scope)


class LitCount(models.Model):
    """The number of lit windows of a building on one night; a re-import updates the count."""

    building = models.ForeignKey(Building, models.PROTECT, related_name="lit_counts", verbose_name=_("building"))
    date = models.DateField(_("night of"))
    lit = models.PositiveIntegerField(_("lit windows"))
    area_code = models.CharField(max_length=15, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["building_id", "-date"]
        constraints = [models.UniqueConstraint(fields=["building", "date"], name="lit_one_count_per_night")]
        indexes = [models.Index(fields=["date"], name="lit_date_idx")]

    def __str__(self) -> str:
        return f"{self.building_id} {self.date} {self.lit}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_code_q(scope)


class Returnee(models.Model):
    """One arrival pushed from a transport checkpoint (返程人员): who, from where, when, to where.

    The destination is free text; when the list also names the room, `household` locates it.
    `area_code` is the household's code, else the community's, else the importer's scope.
    """

    name = models.CharField(_("full name"), max_length=50)
    doc_type = models.CharField(_("document type"), max_length=16, choices=DocumentType.choices, default=DocumentType.ID_CARD)
    doc_number = models.CharField(_("document number"), max_length=20)
    phone = models.CharField(_("phone"), max_length=11, blank=True)
    origin = models.CharField(_("coming from"), max_length=100, blank=True)
    arrival_date = models.DateField(_("arrival date"))
    address = models.CharField(_("destination address"), max_length=200, blank=True)
    household = models.ForeignKey(Household, models.PROTECT, null=True, blank=True, related_name="returnees",
                                  verbose_name=_("household"))
    area_code = models.CharField(max_length=15, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-arrival_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["doc_type", "doc_number", "arrival_date"], name="returnee_one_arrival_per_day"),
        ]
        indexes = [models.Index(fields=["arrival_date"], name="returnee_arrival_idx")]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_code_q(scope)

    @property
    def masked_doc_number(self) -> str:
        return mask_document(self.doc_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Kind(models.TextChoices):
    POWERED = "powered_unregistered", _("Power used, nobody registered")  # 有用电无登记
    LIT = "lit_windows", _("More lit windows than occupied households")  # 亮灯多于有人户
    RETURNEE_UNREGISTERED = "returnee_unregistered", _("Returnee not on the roster")  # 返程未登记
    RETURNEE_UNSCREENED = "returnee_unscreened", _("Returnee not screened since arrival")  # 返程未排查


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    REGISTERED = "registered", _("Registered on the roster")
    VACANT = "vacant", _("Vacant")
    FALSE_ALARM = "false_alarm", _("False alarm")
    SCREENED = "screened", _("Screened")


# The outcomes a worker may close each kind of to-do with.
OUTCOMES = {
    Kind.POWERED: (Outcome.REGISTERED, Outcome.VACANT, Outcome.FALSE_ALARM),
    Kind.LIT: (Outcome.REGISTERED, Outcome.FALSE_ALARM),
    Kind.RETURNEE_UNREGISTERED: (Outcome.REGISTERED, Outcome.FALSE_ALARM),
    Kind.RETURNEE_UNSCREENED: (Outcome.SCREENED, Outcome.FALSE_ALARM),
}


class ToDo(models.Model):
    """A finding of the cross-check for a grid worker to look into (待核查事项).

    The object is a household (power used), a building (lit windows) or a returnee (with the
    registered resident, once on the roster). `value`, `reference` and `evidence_date` hold the
    evidence the to-do was opened on; `detail` words it in the reader's language.
    """

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    household = models.ForeignKey(Household, models.PROTECT, null=True, blank=True, related_name="crosscheck_todos",
                                  verbose_name=_("household"))
    building = models.ForeignKey(Building, models.PROTECT, null=True, blank=True, related_name="crosscheck_todos",
                                 verbose_name=_("building"))
    returnee = models.ForeignKey(Returnee, models.PROTECT, null=True, blank=True, related_name="todos",
                                 verbose_name=_("returnee"))
    resident = models.ForeignKey("people.Resident", models.PROTECT, null=True, blank=True, related_name="crosscheck_todos",
                                 verbose_name=_("resident"))
    area_code = models.CharField(max_length=15, editable=False)
    # Power: average kWh a day over `reference` days with a reading. Lit windows: the most lit on a night, against
    # `reference` occupied households. Returnees: none (the evidence date is the arrival).
    value = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    reference = models.IntegerField(null=True, blank=True)
    evidence_date = models.DateField(_("evidence of"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("closed by"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The local calendar day of the closing: only evidence of later days opens the object again.
    closed_on = models.DateField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one open to-do per kind and object (the cross-check inserts skip existing ones).
            models.UniqueConstraint(fields=["kind", "household"], condition=Q(status="open", returnee__isnull=True),
                                    name="todo_one_open_per_household"),
            models.UniqueConstraint(fields=["kind", "building"], condition=Q(status="open", building__isnull=False),
                                    name="todo_one_open_per_building"),
            models.UniqueConstraint(fields=["kind", "returnee"], condition=Q(status="open"),
                                    name="todo_one_open_per_returnee"),
            models.CheckConstraint(condition=(Q(status="open", outcome="") | (Q(status="closed") & ~Q(outcome=""))),
                                   name="todo_closed_has_outcome"),
        ]
        indexes = [
            models.Index(fields=["status", "area_code"], name="todo_status_area_idx",
                         opclasses=["text_ops", "varchar_pattern_ops"]),
            models.Index(fields=["kind", "household"], name="todo_kind_household_idx"),
            models.Index(fields=["kind", "building"], name="todo_kind_building_idx"),
            models.Index(fields=["kind", "returnee"], name="todo_kind_returnee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        return _area_code_q(scope)

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    @property
    def outcomes(self) -> tuple[str, ...]:
        return OUTCOMES[Kind(self.kind)]

    @property
    def subject(self) -> str:
        """What the to-do is about, for lists: an address, a building, or a returnee's name."""
        if self.returnee_id is not None:
            return self.returnee.name
        if self.household_id is not None:
            return self.household.address
        if self.building_id is not None:
            return str(self.building)
        return ""

    @property
    def detail(self) -> str:
        """The evidence in one short line, in the reader's language."""
        if self.kind == Kind.POWERED:
            return gettext("%(days)d-day average %(kwh)s kWh a day, nobody registered") % {
                "days": self.reference or 0, "kwh": f"{self.value or 0:.1f}"}
        if self.kind == Kind.LIT:
            return gettext("%(lit)d windows lit (night of %(date)s), %(occupied)d occupied households") % {
                "lit": int(self.value or 0), "date": _short_date(self.evidence_date), "occupied": self.reference or 0}
        origin = self.returnee.origin if self.returnee_id is not None else ""
        values = {"date": _short_date(self.evidence_date), "origin": origin or "—"}
        if self.kind == Kind.RETURNEE_UNREGISTERED:
            return gettext("Arrived %(date)s from %(origin)s, not on the roster") % values
        return gettext("Arrived %(date)s from %(origin)s, not screened since") % values


def _short_date(value) -> str:
    return value.strftime("%m-%d") if value else "—"
