"""Facilities (收治/隔离场所), their beds by kind, the stays of people in them, transfers (转运) and
placement plans.

Beds are counted, not numbered: one `BedPool` row per facility and bed kind holds the capacity and how
many beds are occupied, booked (a person is on the way) or closed for cleaning. Booking is one
conditional UPDATE on that row (see services.book_bed) and a CHECK constraint keeps
occupied + booked + closed <= capacity as the last line of defence: a bed can never be over-booked.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.areas.models import CODE_LENGTH, Area, Level
from fangkong.core.scope import NOTHING, Scope, ScopedQuerySet

DISTRICT_CODE_LENGTH = CODE_LENGTH[Level.DISTRICT]


class FacilityKind(models.TextChoices):
    DESIGNATED_HOSPITAL = "designated_hospital", _("Designated hospital")  # 定点医院
    SHELTER_HOSPITAL = "shelter_hospital", _("Shelter hospital")  # 方舱医院
    ISOLATION_SITE = "isolation_site", _("Isolation site")  # 集中隔离点
    RECOVERY_STATION = "recovery_station", _("Recovery station")  # 康复驿站
    FEVER_CLINIC = "fever_clinic", _("Fever clinic")  # 发热门诊


class BedKind(models.TextChoices):
    ICU = "icu", _("ICU bed")
    ORDINARY = "ordinary", _("Ordinary bed")
    SINGLE_ROOM = "single_room", _("Single room")


class Facility(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=FacilityKind.choices)
    area = models.ForeignKey(Area, models.PROTECT, related_name="facilities", verbose_name=_("district"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    longitude = models.DecimalField(_("longitude (WGS-84)"), max_digits=9, decimal_places=6)
    latitude = models.DecimalField(_("latitude (WGS-84)"), max_digits=9, decimal_places=6)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("taking people"), default=True)
    # The area's code: facilities are seen by everyone of their district (and the city above it).
    area_code = models.CharField(max_length=15, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        constraints = [
            models.CheckConstraint(condition=Q(longitude__gte=-180, longitude__lte=180), name="facility_longitude_range"),
            models.CheckConstraint(condition=Q(latitude__gte=-90, latitude__lte=90), name="facility_latitude_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.area_code = self.area.code
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.area_id and len(self.area.code) < DISTRICT_CODE_LENGTH:
            raise ValidationError({"area": _("A facility belongs to a district or an area within one.")})

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.facility_id:
            return Q(pk=scope.facility_id)
        if scope.area_code:
            # Everybody of a district sees the district's facilities; a city commander sees the city's.
            return Q(area_code__startswith=scope.area_code[:DISTRICT_CODE_LENGTH])
        return NOTHING


class BedPool(models.Model):
    """The beds of one kind in one facility, counted."""

    facility = models.ForeignKey(Facility, models.CASCADE, related_name="beds")
    kind = models.CharField(_("bed kind"), max_length=16, choices=BedKind.choices)
    capacity = models.PositiveIntegerField(_("beds"))
    occupied = models.PositiveIntegerField(_("occupied"), default=0)
    booked = models.PositiveIntegerField(_("booked"), default=0)
    closed = models.PositiveIntegerField(_("closed for cleaning"), default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["facility_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "kind"], name="bedpool_unique_kind"),
            models.CheckConstraint(condition=Q(capacity__gte=F("occupied") + F("booked") + F("closed")),
                                   name="bedpool_not_overbooked"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.kind}"

    @property
    def free(self) -> int:
        return self.capacity - self.occupied - self.booked - self.closed

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.facility_id:
            return Q(facility_id=scope.facility_id)
        if scope.area_code:
            return Q(facility__area_code__startswith=scope.area_code[:DISTRICT_CODE_LENGTH])
        return NOTHING


class StayStatus(models.TextChoices):
    BOOKED = "booked", _("Bed booked")
    ADMITTED = "admitted", _("Admitted")
    ENDED = "ended", _("Left")
    CANCELLED = "cancelled", _("Booking cancelled")


class EndReason(models.TextChoices):
    """How a stay ends: the outcome a facility states explicitly when a person leaves."""

    DISCHARGED = "discharged", _("Discharged as cured")  # 治愈出院
    TRANSFERRED = "transferred", _("Transferred out")  # 转出
    DECEASED = "deceased", _("Died")  # 死亡
    OTHER = "other", _("Other (give the reason)")  # e.g. excluded, released from observation


ACTIVE_STAYS = (StayStatus.BOOKED, StayStatus.ADMITTED)


class Stay(models.Model):
    """One person's bed in one facility: booked, then admitted, then left (or the booking cancelled)."""

    case = models.ForeignKey("cases.Case", models.PROTECT, related_name="stays")
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="stays")
    bed_kind = models.CharField(_("bed kind"), max_length=16, choices=BedKind.choices)
    category = models.CharField(_("category"), max_length=16)
    status = models.CharField(_("status"), max_length=12, choices=StayStatus.choices, default=StayStatus.BOOKED)
    # The person's area (for area scoping) and how long they had waited for this bed.
    area_code = models.CharField(max_length=15, editable=False)
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    admitted_at = models.DateTimeField(_("admitted at"), null=True, blank=True)
    admitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    ended_at = models.DateTimeField(_("left at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    end_reason = models.CharField(_("reason"), max_length=16, choices=EndReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-booked_at", "-id"]
        constraints = [
            # At most one pending booking and one bed occupied per person at a time.
            models.UniqueConstraint(fields=["case"], condition=Q(status="booked"), name="stay_one_booking_per_case"),
            models.UniqueConstraint(fields=["case"], condition=Q(status="admitted"), name="stay_one_bed_per_case"),
        ]
        indexes = [models.Index(fields=["facility", "status"], name="stay_facility_status_idx"),
                   models.Index(fields=["area_code"], opclasses=["varchar_pattern_ops"], name="stay_area_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} @ {self.facility_id}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.facility_id:
            return Q(facility_id=scope.facility_id)
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        return NOTHING


class Vehicle(models.TextChoices):
    AMBULANCE = "ambulance_120", _("120 ambulance")
    TRANSFER_VEHICLE = "vehicle", _("Transfer vehicle")


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    DISPATCHED = "dispatched", _("Dispatched")
    PICKED_UP = "picked_up", _("Picked up")
    ARRIVED = "arrived", _("Arrived")
    CANCELLED = "cancelled", _("Cancelled")


# The transfer's own state machine: each step's timestamp field.
TRANSFER_STEPS: dict[str, tuple[str, str]] = {
    TransferStatus.REQUESTED: (TransferStatus.DISPATCHED, "dispatched_at"),
    TransferStatus.DISPATCHED: (TransferStatus.PICKED_UP, "picked_up_at"),
    TransferStatus.PICKED_UP: (TransferStatus.ARRIVED, "arrived_at"),
}


class Transfer(models.Model):
    """转运: one trip from a pick-up address (or a facility) to the booked bed."""

    stay = models.OneToOneField(Stay, models.CASCADE, related_name="transfer")
    case = models.ForeignKey("cases.Case", models.PROTECT, related_name="transfers")
    from_facility = models.ForeignKey(Facility, models.SET_NULL, null=True, blank=True, related_name="transfers_out",
                                      verbose_name=_("from facility"))
    to_facility = models.ForeignKey(Facility, models.PROTECT, related_name="transfers_in", verbose_name=_("to facility"))
    vehicle = models.CharField(_("vehicle"), max_length=16, choices=Vehicle.choices)
    vehicle_label = models.CharField(_("vehicle or crew"), max_length=50, blank=True)
    pickup_address = models.CharField(_("pick-up address"), max_length=200)
    distance_km = models.FloatField(_("distance (km)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=TransferStatus.choices, default=TransferStatus.REQUESTED)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    area_code = models.CharField(max_length=15, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"], name="transfer_status_idx"),
                   models.Index(fields=["area_code"], opclasses=["varchar_pattern_ops"], name="transfer_area_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.to_facility_id}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.facility_id:
            return Q(to_facility_id=scope.facility_id) | Q(from_facility_id=scope.facility_id)
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        return NOTHING


class RunStatus(models.TextChoices):
    DRAFT = "draft", _("To review")
    CONFIRMED = "confirmed", _("Confirmed")
    DISCARDED = "discarded", _("Discarded")


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")
    SKIPPED = "skipped", _("Left out")


class PlacementRun(models.Model):
    """One run of the placement engine over a commander's whole backlog, to review and confirm."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    area_code = models.CharField(max_length=15, blank=True, db_index=True)  # the commander's scope
    status = models.CharField(_("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.DRAFT)
    people = models.PositiveIntegerField(_("people waiting"), default=0)
    placed = models.PositiveIntegerField(_("placed"), default=0)
    total_km = models.FloatField(_("total distance (km)"), default=0.0)
    seconds = models.FloatField(default=0.0)
    policy_version = models.PositiveIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        return NOTHING


class Proposal(models.Model):
    run = models.ForeignKey(PlacementRun, models.CASCADE, related_name="proposals")
    case = models.ForeignKey("cases.Case", models.CASCADE, related_name="+")
    category = models.CharField(_("category"), max_length=16)
    facility = models.ForeignKey(Facility, models.CASCADE, null=True, blank=True, related_name="+")
    bed_kind = models.CharField(_("bed kind"), max_length=16, choices=BedKind.choices, blank=True)
    distance_km = models.FloatField(_("distance (km)"), null=True, blank=True)
    waited_minutes = models.PositiveIntegerField(default=0)
    state = models.CharField(_("state"), max_length=12, choices=ProposalState.choices, default=ProposalState.PROPOSED)
    message = models.CharField(max_length=200, blank=True)
    # The case's area code, copied in as Stay and Transfer do: the key a distributed database shards on
    # (every run is kept, so proposals grow with the backlog).
    area_code = models.CharField(max_length=15, editable=False, default="")

    class Meta:
        ordering = ["run_id", "id"]
        indexes = [models.Index(fields=["area_code"], opclasses=["varchar_pattern_ops"], name="proposal_area_idx")]


class AppointmentSlot(models.Model):
    """诊疗预约: a time at a fever clinic with a number of places. Booking is one conditional UPDATE of
    `booked` (like the bed rows), and a CHECK keeps booked <= capacity: a slot is never over-booked."""

    facility = models.ForeignKey(Facility, models.CASCADE, related_name="slots", verbose_name=_("fever clinic"))
    starts_at = models.DateTimeField(_("starts at"))
    minutes = models.PositiveSmallIntegerField(_("minutes"), default=30)
    capacity = models.PositiveIntegerField(_("places"))
    booked = models.PositiveIntegerField(_("booked"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "starts_at"], name="slot_unique_time"),
            models.CheckConstraint(condition=Q(capacity__gte=F("booked")), name="slot_not_overbooked"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def free(self) -> int:
        return self.capacity - self.booked

    @property
    def ends_at(self):
        return self.starts_at + dt.timedelta(minutes=self.minutes)

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.facility_id:
            return Q(facility_id=scope.facility_id)
        if scope.area_code:
            return Q(facility__area_code__startswith=scope.area_code[:DISTRICT_CODE_LENGTH])
        return NOTHING


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")


class Appointment(models.Model):
    """One fever patient's place in a slot."""

    slot = models.ForeignKey(AppointmentSlot, models.PROTECT, related_name="appointments")
    case = models.ForeignKey("cases.Case", models.PROTECT, related_name="appointments")
    status = models.CharField(_("status"), max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    area_code = models.CharField(max_length=15, editable=False)  # the person's area

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["slot__starts_at", "id"]
        constraints = [
            # One pending appointment per person at a time.
            models.UniqueConstraint(fields=["case"], condition=Q(status="booked"), name="appointment_one_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} @ {self.slot_id}"

    @staticmethod
    def scope_q(scope: Scope) -> Q:
        if scope.facility_id:
            return Q(slot__facility_id=scope.facility_id)
        if scope.area_code:
            return Q(area_code__startswith=scope.area_code)
        return NOTHING


class FacilityImport(models.Model):
    """One import of facilities and their beds: who, which file, the counts and the per-row error report (XLSX)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    filename = models.CharField(_("file name"), max_length=255)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    area_code = models.CharField(max_length=15, blank=True, db_index=True)  # the importer's scope
    report = models.BinaryField(_("error report"), blank=True, default=b"")
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename
