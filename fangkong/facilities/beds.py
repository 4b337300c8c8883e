"""Beds: booking one without over-booking, placing a person (the booking and its transfer order),
giving a booking back, admissions and discharges. Used by the UI, the API, the placement review and,
through the cases hooks, by a status change (a death frees the person's beds).

Booking a bed is ONE conditional statement on the facility's bed row:

    UPDATE facilities_bedpool SET booked = booked + 1
     WHERE facility_id = %s AND kind = %s AND capacity > occupied + booked + closed

and the row count says whether a bed was had. Two commanders booking the last bed at the same moment:
PostgreSQL makes the second UPDATE wait for the first's row lock, re-reads the row and finds no free
bed (0 rows): one booking and one clear refusal. The CHECK constraint `bedpool_not_overbooked` is the
last line of defence should anything write around this function.

The caller hands in a case, a facility or a stay it reached through an access function
(cases.access, facilities.access): the services trust it and do not check the user again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.hooks import Beds, StayTimes
from fangkong.cases.models import Case, Placement, Status
from fangkong.cases.placement import refresh_placement
from fangkong.cases.services import transition
from fangkong.core.errors import FieldError, FieldErrors, actor, clean_text
from fangkong.core.hooks import Hook
from fangkong.facilities.models import (
    ACTIVE_STAYS,
    BedKind,
    BedPool,
    EndReason,
    Facility,
    FacilityKind,
    Stay,
    StayStatus,
    Transfer,
    TransferStatus,
    Vehicle,
)
from fangkong.facilities.routing import fits
from fangkong.policy.labels import CATEGORY_LABELS
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy

# Other apps follow admissions without facilities knowing them (observation files take the facility
# as their place): receivers get (user, stay, case, now), inside the admission's transaction.
ADMITTED: Hook[[User | None, Stay, Case, dt.datetime]] = Hook("facilities.admitted")


class BedUnavailable(FieldError):
    """No free bed of the kind is left; str() is the user-facing refusal."""

    field = "facility"


def bed_label(kind: str) -> str:
    return str(BedKind(kind).label)


def category_label(category: str) -> str:
    return str(CATEGORY_LABELS.get(category, category))


def book_bed(user: User | None, case: Case, facility: Facility, bed_kind: str, *, now: dt.datetime | None = None) -> Stay:
    """Book one bed for the person, or refuse with BedUnavailable. Call inside a transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        booked = BedPool.objects.filter(
            facility=facility, kind=bed_kind, capacity__gt=F("occupied") + F("booked") + F("closed"),
        ).update(booked=F("booked") + 1)
        if booked != 1:
            raise BedUnavailable(_("No free %(bed)s is left at %(facility)s.") % {"bed": bed_label(bed_kind), "facility": facility.name})
        try:
            with transaction.atomic():
                return Stay.objects.create(case=case, facility=facility, bed_kind=bed_kind, category=case.category,
                                           area_code=case.area_code, waiting_since=case.waiting_since, booked_at=now,
                                           booked_by=actor(user))
        except IntegrityError as exc:
            raise FieldErrors({"case": _("This person has a bed booked already.")}) from exc


def _free_pool(pool_filter: dict[str, object], field: str) -> None:
    done = BedPool.objects.filter(**pool_filter, **{f"{field}__gte": 1}).update(**{field: F(field) - 1})
    if done != 1:
        raise RuntimeError(f"bed count {field} out of step for {pool_filter}")


def place(user: User, case: Case, facility: Facility, bed_kind: str, *, vehicle: str | None = None,
          distance_km: float | None = None, now: dt.datetime | None = None) -> Stay:
    """Confirm one placement: book the bed (or refuse) and order the transfer (转运)."""
    now = now or timezone.now()
    policy = current_policy()
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("resident__household__unit", "resident__household__building",
                                                                 "resident__household__compound").get(pk=case.pk)
        if locked.placement != Placement.WAITING:
            raise FieldErrors({"case": _("%(name)s is no longer waiting for a bed.") % {"name": locked.resident.name}})
        if not facility.is_active:
            raise BedUnavailable(_("%(facility)s is not taking people.") % {"facility": facility.name})
        if not fits(policy, locked.category, facility.kind, bed_kind):
            raise FieldErrors({"facility": _("The policy does not send a %(category)s person to a %(bed)s of a %(kind)s.") % {
                "category": category_label(locked.category), "bed": bed_label(bed_kind), "kind": FacilityKind(facility.kind).label}})
        stay = book_bed(user, locked, facility, bed_kind, now=now)
        current = Stay.objects.filter(case=locked, status=StayStatus.ADMITTED).select_related("facility").first()
        if vehicle is None:
            vehicle = Vehicle.AMBULANCE if locked.category in policy.ambulance_categories else Vehicle.TRANSFER_VEHICLE
        Transfer.objects.create(
            stay=stay, case=locked, from_facility=current.facility if current else None, to_facility=facility,
            vehicle=vehicle, pickup_address=(current.facility.address or current.facility.name) if current else locked.resident.household.address,
            distance_km=distance_km, requested_at=now, requested_by=actor(user), area_code=locked.area_code)
        record(user, Action.CREATE, stay, object_type="facilities.stay", object_repr=locked.resident.name,
               area_code=locked.area_code, changes={"facility": facility.name, "bed_kind": bed_kind, "category": locked.category})
        refresh_placement(locked, policy=policy, now=now)
    return stay


def cancel_booking(user: User | None, stay: Stay, reason: str, *, now: dt.datetime | None = None, refresh: bool = True) -> Stay:
    """Give a booked bed back (and cancel its transfer); the person waits again if they need a bed."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Stay.objects.select_for_update().get(pk=stay.pk)
        if locked.status != StayStatus.BOOKED:
            raise FieldErrors({"stay": _("Only a booked bed can be given back.")})
        _free_pool({"facility_id": locked.facility_id, "kind": locked.bed_kind}, "booked")
        locked.status, locked.ended_at, locked.ended_by, locked.note = StayStatus.CANCELLED, now, actor(user), reason[:200]
        locked.save()
        Transfer.objects.filter(stay=locked).exclude(status=TransferStatus.ARRIVED).update(
            status=TransferStatus.CANCELLED, cancelled_at=now)
        record(user, Action.UPDATE, locked, object_type="facilities.stay", object_repr=str(locked.case_id),
               area_code=locked.area_code, changes={"status": ["booked", "cancelled"], "reason": reason})
        if refresh:
            case = Case.objects.get(pk=locked.case_id)
            if case.placement == Placement.BOOKED:
                case.waiting_since = locked.waiting_since
            refresh_placement(case, now=now)
    return locked


def admit(user: User, stay: Stay, *, now: dt.datetime | None = None) -> Stay:
    """The facility confirms the admission: the booked bed becomes occupied; a bed the person held
    elsewhere is freed (a transfer out there). Observation and others follow through ADMITTED."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Stay.objects.select_for_update().select_related("facility").get(pk=stay.pk)
        if locked.status != StayStatus.BOOKED:
            raise FieldErrors({"stay": _("Only a person with a booked bed can be admitted.")})
        done = BedPool.objects.filter(facility_id=locked.facility_id, kind=locked.bed_kind, booked__gte=1).update(
            booked=F("booked") - 1, occupied=F("occupied") + 1)
        if done != 1:
            raise RuntimeError("bed counts out of step")
        for old in Stay.objects.select_for_update().filter(case_id=locked.case_id, status=StayStatus.ADMITTED):
            _end(user, old, EndReason.TRANSFERRED, now)
        locked.status, locked.admitted_at, locked.admitted_by = StayStatus.ADMITTED, now, actor(user)
        locked.save()
        transfer = Transfer.objects.filter(stay=locked).first()
        if transfer is not None and transfer.status != TransferStatus.ARRIVED:
            transfer.status = TransferStatus.ARRIVED
            transfer.arrived_at = transfer.arrived_at or now
            transfer.save(update_fields=["status", "arrived_at"])
        case = Case.objects.select_related("resident").get(pk=locked.case_id)
        record(user, Action.UPDATE, locked, object_type="facilities.stay", object_repr=case.resident.name,
               area_code=locked.area_code, changes={"status": ["booked", "admitted"], "facility": locked.facility.name})
        if case.status == Status.DISCHARGED and locked.facility.kind == FacilityKind.RECOVERY_STATION:
            case = transition(user, case, Status.RECOVERY, _("Admitted to %(facility)s") % {"facility": locked.facility.name},
                              now=now)
        refresh_placement(case, now=now)
        ADMITTED.fire(user, locked, case, now)
    return locked


def _end(user: User | None, stay: Stay, reason: str, now: dt.datetime) -> None:
    _free_pool({"facility_id": stay.facility_id, "kind": stay.bed_kind}, "occupied")
    stay.status, stay.ended_at, stay.ended_by, stay.end_reason = StayStatus.ENDED, now, actor(user), reason
    stay.save()
    record(user, Action.UPDATE, stay, object_type="facilities.stay", object_repr=str(stay.case_id),
           area_code=stay.area_code, changes={"status": ["admitted", "ended"], "end_reason": reason})


def discharge(user: User, stay: Stay, outcome: str, *, note: str = "", cure_override: str = "",
              now: dt.datetime | None = None) -> Stay:
    """The person leaves the facility with an explicit outcome: cured, transferred out, died or other.
    A cure is refused unless the person's tests meet the policy (or `cure_override` says why not) and,
    for a confirmed patient, moves them to `discharged`: the post-discharge period starts. A death
    moves the case to `deceased`. Transferred and other need a note (where to, why)."""
    if outcome not in EndReason.values:
        raise FieldErrors({"outcome": _("Choose how the person leaves.")})
    note = clean_text(note, "note", limit=200)
    if outcome in (EndReason.TRANSFERRED, EndReason.OTHER) and not note:
        raise FieldErrors({"note": _("Say where the person goes or why they leave.")})
    now = now or timezone.now()
    with transaction.atomic():
        locked = Stay.objects.select_for_update().select_related("facility").get(pk=stay.pk)
        if locked.status != StayStatus.ADMITTED:
            raise FieldErrors({"stay": _("Only an admitted person can leave.")})
        case = Case.objects.select_related("resident").get(pk=locked.case_id)
        if outcome == EndReason.DISCHARGED and case.status != Status.CONFIRMED:
            raise FieldErrors({"outcome": _("Only a confirmed patient is discharged as cured; %(status)s leaves with another outcome.")
                               % {"status": case.status_label}})
        locked.note = note
        _end(user, locked, outcome, now)
        if outcome == EndReason.DISCHARGED:
            case = transition(user, case, Status.DISCHARGED, _("Discharged, cured, from %(facility)s") % {"facility": locked.facility.name},
                              evidence=note, now=now, cure_override=cure_override)
        elif outcome == EndReason.DECEASED and case.status != Status.DECEASED:
            case = transition(user, case, Status.DECEASED, _("Died at %(facility)s") % {"facility": locked.facility.name},
                              evidence=note, now=now)
        refresh_placement(case, now=now)
    return locked


def end_active_stays(user: User | None, case: Case, now: dt.datetime) -> None:
    """On death (the cases hook DECEASED): every bed the person held or had booked is freed."""
    for stay in Stay.objects.select_for_update().filter(case=case, status__in=ACTIVE_STAYS):
        if stay.status == StayStatus.BOOKED:
            cancel_booking(user, stay, _("Deceased"), now=now, refresh=False)
        else:
            _end(user, stay, EndReason.DECEASED, now)


# --- What cases asks of the beds (cases.hooks, cases.providers; registered in FacilitiesConfig.ready) --

def case_beds(case: Case, policy: Policy, now: dt.datetime) -> Beds:
    """The beds the person holds, for their placement state; a booking that no longer fits their
    category is given back first (the bed freed)."""
    stays = list(Stay.objects.filter(case=case, status__in=ACTIVE_STAYS).select_related("facility"))
    admitted = next((s for s in stays if s.status == StayStatus.ADMITTED), None)
    booked = next((s for s in stays if s.status == StayStatus.BOOKED), None)
    category = case.category
    given_back, waiting_since = False, None
    if booked is not None and not (category and fits(policy, category, booked.facility.kind, booked.bed_kind)):
        cancel_booking(None, booked, _("The person's category changed."), now=now, refresh=False)
        given_back, waiting_since = True, booked.waiting_since
        booked = None
    return Beds(admitted=admitted is not None,
                admitted_fits=bool(admitted is not None and category
                                   and fits(policy, category, admitted.facility.kind, admitted.bed_kind)),
                booked=booked is not None, given_back=given_back, given_back_waiting_since=waiting_since)


def case_stay_times(case: Case) -> list[StayTimes]:
    """Every stay of one person (booked, cancelled, ended), with its transfer's times."""
    times = []
    for stay in Stay.objects.filter(case=case).select_related("transfer").order_by("booked_at", "id"):
        transfer = stay.transfer if hasattr(stay, "transfer") else None
        times.append(StayTimes(case.pk, stay.area_code, stay.waiting_since, stay.booked_at, stay.admitted_at,
                               transfer.requested_at if transfer else None, transfer.arrived_at if transfer else None))
    return times


def area_stay_times(user: User, code: str) -> Iterator[StayTimes]:
    """The stays under an area code the user sees, as plain values (streamed: an area may hold many)."""
    for row in Stay.objects.restrict(user).filter(area_code__startswith=code).values_list(
            "case_id", "area_code", "waiting_since", "booked_at", "admitted_at", "transfer__requested_at",
            "transfer__arrived_at").iterator(chunk_size=5000):
        yield StayTimes(*row)


def facility_cases(facility_id: int) -> Q:
    """The cases a facility's staff see: the people booked into or staying in it."""
    return Q(pk__in=Stay.objects.filter(facility_id=facility_id, status__in=ACTIVE_STAYS).values("case_id"))
