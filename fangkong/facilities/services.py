"""Facility operations: the registry, beds (booking without over-booking), admissions, discharges,
transfers, and confirming placements. Used by the UI, the API and the placement review alike.

Booking a bed is ONE conditional statement on the facility's bed row:

    UPDATE facilities_bedpool SET booked = booked + 1
     WHERE facility_id = %s AND kind = %s AND capacity > occupied + booked + closed

and the row count says whether a bed was had. Two commanders booking the last bed at the same moment:
PostgreSQL makes the second UPDATE wait for the first's row lock, re-reads the row and finds no free
bed (0 rows): one booking and one clear refusal. The CHECK constraint `bedpool_not_overbooked` is the
last line of defence should anything write around this function.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.models import Case, Placement, Status
from fangkong.core import permissions
from fangkong.core.errors import FieldError, FieldErrors
from fangkong.core.permissions import COMMANDERS, Role
from fangkong.facilities.models import (
    ACTIVE_STAYS,
    TRANSFER_STEPS,
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
from fangkong.policy.services import current_policy


class BedUnavailable(FieldError):
    """No free bed of the kind is left; str() is the user-facing refusal."""

    field = "facility"


# --- Who may do what -----------------------------------------------------------------------------

def can_work_in(user, facility: Facility) -> bool:
    """Keep a facility's occupancy true: its own staff, and the commanders whose scope covers it."""
    if not Facility.objects.restrict(user).filter(pk=facility.pk).exists():
        return False
    return bool(user.is_superuser or user.role == Role.FACILITY_STAFF or user.role in (Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER))


def _require_facility_work(user, facility: Facility) -> None:
    if not can_work_in(user, facility):
        raise PermissionDenied


def _actor(user):
    return user if getattr(user, "pk", None) else None


def bed_label(kind: str) -> str:
    return str(BedKind(kind).label)


# --- The registry --------------------------------------------------------------------------------

def save_facility(user, values: dict[str, Any], facility: Facility | None = None,
                  beds: dict[str, int] | None = None) -> Facility:
    """Create or change a facility and its bed capacities. A capacity can't drop below the beds in use."""
    if not permissions.can_register_facilities(user):
        raise PermissionDenied
    area = values.get("area")
    if area is None or len(area.code) < 6 or not user.scope.covers_area_code(area.code):
        raise FieldErrors({"area": _("Choose a district in your area of responsibility.")})
    if facility is not None and not Facility.objects.restrict(user).filter(pk=facility.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        target = Facility.objects.select_for_update().get(pk=facility.pk) if facility else Facility()
        before = {f: str(getattr(target, f, "")) for f in values} if facility else {}
        for name, value in values.items():
            setattr(target, name, value)
        if Facility.objects.filter(name=target.name).exclude(pk=target.pk).exists():
            raise FieldErrors({"name": _("Another facility has this name.")})
        target.save()
        changes = {f: [before.get(f), str(v)] for f, v in values.items() if before.get(f) != str(v)}
        for kind, capacity in (beds or {}).items():
            pool = BedPool.objects.select_for_update().filter(facility=target, kind=kind).first()
            if pool is None:
                if capacity:
                    BedPool.objects.create(facility=target, kind=kind, capacity=capacity)
                    changes[f"beds_{kind}"] = [0, capacity]
                continue
            in_use = pool.occupied + pool.booked + pool.closed
            if capacity < in_use:
                raise FieldErrors({f"beds_{kind}": _("%(n)d beds of this kind are in use or closed: the capacity cannot be lower.") % {"n": in_use}})
            if capacity != pool.capacity:
                changes[f"beds_{kind}"] = [pool.capacity, capacity]
                pool.capacity = capacity
                pool.save(update_fields=["capacity"])
        record(user, Action.UPDATE if facility else Action.CREATE, target, object_type="facilities.facility",
               object_repr=target.name, changes=changes)
    return target


def change_closed_beds(user, facility: Facility, kind: str, delta: int, *, now: dt.datetime | None = None) -> BedPool:
    """Close `delta` free beds for cleaning (delta > 0) or reopen them (delta < 0)."""
    _require_facility_work(user, facility)
    if delta == 0:
        raise FieldErrors({"count": _("Give a number of beds.")})
    pools = BedPool.objects.filter(facility=facility, kind=kind)
    with transaction.atomic():
        if delta > 0:
            done = pools.filter(capacity__gte=F("occupied") + F("booked") + F("closed") + delta).update(closed=F("closed") + delta)
            message = _("Only free beds can be closed: fewer than %(n)d are free.") % {"n": delta}
        else:
            done = pools.filter(closed__gte=-delta).update(closed=F("closed") + delta)
            message = _("Fewer than %(n)d beds are closed.") % {"n": -delta}
        if not done:
            raise FieldErrors({"count": message})
        record(user, Action.UPDATE, facility, object_type="facilities.facility", object_repr=facility.name,
               changes={f"closed_{kind}": delta})
    return BedPool.objects.get(facility=facility, kind=kind)


# --- Beds ----------------------------------------------------------------------------------------

def book_bed(user, case: Case, facility: Facility, bed_kind: str, *, now: dt.datetime | None = None) -> Stay:
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
                                           booked_by=_actor(user))
        except IntegrityError as exc:
            raise FieldErrors({"case": _("This person has a bed booked already.")}) from exc


def _free_pool(pool_filter: dict, field: str) -> None:
    done = BedPool.objects.filter(**pool_filter, **{f"{field}__gte": 1}).update(**{field: F(field) - 1})
    if done != 1:
        raise RuntimeError(f"bed count {field} out of step for {pool_filter}")


def place(user, case: Case, facility: Facility, bed_kind: str, *, vehicle: str | None = None,
          distance_km: float | None = None, now: dt.datetime | None = None, checked: bool = False) -> Stay:
    """Confirm one placement: book the bed (or refuse) and order the transfer (转运)."""
    if not checked and not (permissions.can_place(user) and Case.objects.restrict(user).filter(pk=case.pk).exists()
                            and Facility.objects.restrict(user).filter(pk=facility.pk).exists()):
        raise PermissionDenied
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
            distance_km=distance_km, requested_at=now, requested_by=_actor(user), area_code=locked.area_code)
        record(user, Action.CREATE, stay, object_type="facilities.stay", object_repr=locked.resident.name,
               area_code=locked.area_code, changes={"facility": facility.name, "bed_kind": bed_kind, "category": locked.category})
        from fangkong.cases.services import refresh_placement

        refresh_placement(locked, policy=policy, now=now)
    return stay


def cancel_booking(user, stay: Stay, reason: str, *, now: dt.datetime | None = None, refresh: bool = True) -> Stay:
    """Give a booked bed back (and cancel its transfer); the person waits again if they need a bed."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Stay.objects.select_for_update().get(pk=stay.pk)
        if locked.status != StayStatus.BOOKED:
            raise FieldErrors({"stay": _("Only a booked bed can be given back.")})
        _free_pool({"facility_id": locked.facility_id, "kind": locked.bed_kind}, "booked")
        locked.status, locked.ended_at, locked.ended_by, locked.note = StayStatus.CANCELLED, now, _actor(user), reason[:200]
        locked.save()
        Transfer.objects.filter(stay=locked).exclude(status=TransferStatus.ARRIVED).update(
            status=TransferStatus.CANCELLED, cancelled_at=now)
        record(user, Action.UPDATE, locked, object_type="facilities.stay", object_repr=str(locked.case_id),
               area_code=locked.area_code, changes={"status": ["booked", "cancelled"], "reason": reason})
        if refresh:
            from fangkong.cases.services import refresh_placement

            case = Case.objects.get(pk=locked.case_id)
            if case.placement == Placement.BOOKED:
                case.waiting_since = locked.waiting_since
            refresh_placement(case, now=now)
    return locked


# Other apps follow admissions without facilities knowing them (observation files take the facility
# as their place): `hook(user, stay, case, now)`, called inside the admission's transaction.
_ADMISSION_HOOKS: list = []


def on_admitted(hook) -> None:
    if hook not in _ADMISSION_HOOKS:
        _ADMISSION_HOOKS.append(hook)


def admit(user, stay: Stay, *, now: dt.datetime | None = None) -> Stay:
    """The facility confirms the admission: the booked bed becomes occupied; a bed the person held
    elsewhere is freed (a transfer out there)."""
    _require_facility_work(user, stay.facility)
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
        locked.status, locked.admitted_at, locked.admitted_by = StayStatus.ADMITTED, now, _actor(user)
        locked.save()
        transfer = Transfer.objects.filter(stay=locked).first()
        if transfer is not None and transfer.status != TransferStatus.ARRIVED:
            transfer.status = TransferStatus.ARRIVED
            transfer.arrived_at = transfer.arrived_at or now
            transfer.save(update_fields=["status", "arrived_at"])
        case = Case.objects.select_related("resident").get(pk=locked.case_id)
        record(user, Action.UPDATE, locked, object_type="facilities.stay", object_repr=case.resident.name,
               area_code=locked.area_code, changes={"status": ["booked", "admitted"], "facility": locked.facility.name})
        from fangkong.cases.services import refresh_placement, transition

        if case.status == Status.DISCHARGED and locked.facility.kind == FacilityKind.RECOVERY_STATION:
            case = transition(user, case, Status.RECOVERY, _("Admitted to %(facility)s") % {"facility": locked.facility.name},
                              now=now, checked=True)
        refresh_placement(case, now=now)
        for hook in _ADMISSION_HOOKS:
            hook(user, locked, case, now)
    return locked


def _end(user, stay: Stay, reason: str, now: dt.datetime) -> None:
    _free_pool({"facility_id": stay.facility_id, "kind": stay.bed_kind}, "occupied")
    stay.status, stay.ended_at, stay.ended_by, stay.end_reason = StayStatus.ENDED, now, _actor(user), reason
    stay.save()
    record(user, Action.UPDATE, stay, object_type="facilities.stay", object_repr=str(stay.case_id),
           area_code=stay.area_code, changes={"status": ["admitted", "ended"], "end_reason": reason})


def discharge(user, stay: Stay, outcome: str, *, note: str = "", cure_override: str = "",
              now: dt.datetime | None = None) -> Stay:
    """The person leaves the facility with an explicit outcome: cured, transferred out, died or other.
    A cure is refused unless the person's tests meet the policy (or `cure_override` says why not) and,
    for a confirmed patient, moves them to `discharged`: the post-discharge period starts. A death
    moves the case to `deceased`. Transferred and other need a note (where to, why)."""
    _require_facility_work(user, stay.facility)
    if outcome not in EndReason.values:
        raise FieldErrors({"outcome": _("Choose how the person leaves.")})
    note = " ".join((note or "").split())
    if len(note) > 200:
        raise FieldErrors({"note": _("Longer than %(n)d characters.") % {"n": 200}})
    if outcome in (EndReason.TRANSFERRED, EndReason.OTHER) and not note:
        raise FieldErrors({"note": _("Say where the person goes or why they leave.")})
    now = now or timezone.now()
    from fangkong.cases.services import refresh_placement, transition

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
                              evidence=note, now=now, checked=True, cure_override=cure_override)
        elif outcome == EndReason.DECEASED and case.status != Status.DECEASED:
            case = transition(user, case, Status.DECEASED, _("Died at %(facility)s") % {"facility": locked.facility.name},
                              evidence=note, now=now, checked=True)
        refresh_placement(case, now=now)
    return locked


def end_active_stays(user, case: Case, *, now: dt.datetime | None = None) -> None:
    """On death: every bed the person held or had booked is freed."""
    now = now or timezone.now()
    for stay in Stay.objects.select_for_update().filter(case=case, status__in=ACTIVE_STAYS):
        if stay.status == StayStatus.BOOKED:
            cancel_booking(user, stay, _("Deceased"), now=now, refresh=False)
        else:
            _end(user, stay, EndReason.DECEASED, now)


# --- Transfers -----------------------------------------------------------------------------------

def can_track_transfer(user, transfer: Transfer) -> bool:
    if not Transfer.objects.restrict(user).filter(pk=transfer.pk).exists():
        return False
    return bool(user.is_superuser or user.role in COMMANDERS or user.role in (Role.COMMUNITY_WORKER, Role.FACILITY_STAFF))


def advance_transfer(user, transfer: Transfer, to_status: str, *, vehicle_label: str = "",
                     now: dt.datetime | None = None) -> Transfer:
    """requested → dispatched → picked up → arrived, each step timestamped; nothing else."""
    if not can_track_transfer(user, transfer):
        raise PermissionDenied
    now = now or timezone.now()
    label = " ".join((vehicle_label or "").split())
    if len(label) > 50:
        raise FieldErrors({"vehicle_label": _("Longer than %(n)d characters.") % {"n": 50}})
    with transaction.atomic():
        locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
        step = TRANSFER_STEPS.get(locked.status)
        if step is None or step[0] != to_status:
            allowed = TransferStatus(step[0]).label if step else _("none")
            raise FieldErrors({"status": _("A transfer that is %(current)s cannot become %(target)s. Next: %(next)s.") % {
                "current": TransferStatus(locked.status).label, "target": transfer_label(to_status), "next": allowed}})
        before = locked.status
        locked.status = to_status
        setattr(locked, step[1], now)
        if label:
            locked.vehicle_label = label
        locked.save()
        record(user, Action.UPDATE, locked, object_type="facilities.transfer", object_repr=str(locked.case_id),
               area_code=locked.area_code, changes={"status": [before, to_status]})
    return locked


def cancel_transfer(user, transfer: Transfer, reason: str, *, now: dt.datetime | None = None) -> Transfer:
    if not (can_track_transfer(user, transfer) and permissions.can_place(user)):
        raise PermissionDenied
    text = " ".join((reason or "").split())
    if not text:
        raise FieldErrors({"reason": _("Give a reason.")})
    if transfer.status in (TransferStatus.ARRIVED, TransferStatus.CANCELLED):
        raise FieldErrors({"status": _("This transfer is over.")})
    cancel_booking(user, transfer.stay, text, now=now)
    transfer.refresh_from_db()
    return transfer


def transfer_label(status: str) -> str:
    return str(TransferStatus(status).label) if status in TransferStatus.values else status


def category_label(category: str) -> str:
    from fangkong.policy.forms import CATEGORY_LABELS

    return str(CATEGORY_LABELS.get(category, category))


# --- The backlog and placement runs --------------------------------------------------------------

def backlog(user):
    """Everyone in the user's scope who needs a bed and has none (nor a booking)."""
    return Case.objects.restrict(user).filter(placement=Placement.WAITING)


def run_placement(user, *, now: dt.datetime | None = None):
    """Run the engine over the user's whole backlog and the free beds of the facilities they see;
    the plan is stored for review (nothing is booked until it is confirmed)."""
    import time

    from fangkong.facilities import placement as engine
    from fangkong.facilities.models import PlacementRun, Proposal, ProposalState
    from fangkong.policy.services import current_version

    if not permissions.can_place(user):
        raise PermissionDenied
    now = now or timezone.now()
    policy = current_policy()
    version = current_version()
    rows = list(backlog(user).values_list(
        "pk", "category", "resident__household__compound__longitude", "resident__household__compound__latitude",
        "waiting_since", "resident__special_groups", "resident__birth_date"))
    today = timezone.localdate(now)
    people = [engine.Person(pk, category, float(lon) if lon is not None else None, float(lat) if lat is not None else None,
                            max(0, int((now - (since or now)).total_seconds() // 60)),
                            engine.is_priority(policy, groups, born, today))
              for pk, category, lon, lat, since, groups, born in rows]
    pools = [engine.Pool(fid, kind, bed, float(lon), float(lat), capacity - occupied - booked - closed)
             for fid, kind, bed, lon, lat, capacity, occupied, booked, closed in BedPool.objects.restrict(user).filter(
                 facility__is_active=True).values_list("facility_id", "facility__kind", "kind", "facility__longitude",
                                                       "facility__latitude", "capacity", "occupied", "booked", "closed")]
    started = time.perf_counter()
    plan = engine.place(people, pools, policy)
    seconds = time.perf_counter() - started
    # Proposals in service order (tier and priority, then waiting time), so confirming serves the most urgent first.
    by_case = {p.case_id: p for p in people}
    tier = dict(zip([p.case_id for p in people], engine.ranks(policy, people).tolist(), strict=True))
    plan.sort(key=lambda a: (-tier[a.case_id], -by_case[a.case_id].waited_minutes, a.case_id))
    with transaction.atomic():
        run = PlacementRun.objects.create(
            created_by=_actor(user), area_code=user.scope.area_code or "", people=len(people),
            placed=sum(1 for a in plan if a.facility_id), total_km=round(engine.total_km(plan), 3), seconds=seconds,
            policy_version=version.version if version else 0)
        Proposal.objects.bulk_create([
            Proposal(run=run, case_id=a.case_id, category=by_case[a.case_id].category, facility_id=a.facility_id,
                     bed_kind=a.bed_kind, distance_km=round(a.distance_km, 3) if a.distance_km is not None else None,
                     waited_minutes=by_case[a.case_id].waited_minutes,
                     state=ProposalState.PROPOSED if a.facility_id else ProposalState.SKIPPED,
                     message="" if a.facility_id else _("No free bed that fits."))
            for a in plan], batch_size=2000)
        record(user, Action.CREATE, run, object_type="facilities.placementrun", object_repr=f"#{run.pk}",
               area_code=run.area_code, changes={"people": run.people, "placed": run.placed, "total_km": run.total_km})
    return run


def adjust_proposal(user, proposal, facility: Facility | None, bed_kind: str = ""):
    """A commander moves one proposal to another facility (or leaves the person out of this run)."""
    from fangkong.facilities import placement as engine
    from fangkong.facilities.models import PlacementRun, ProposalState, RunStatus

    if not permissions.can_place(user) or not PlacementRun.objects.restrict(user).filter(pk=proposal.run_id).exists():
        raise PermissionDenied
    if proposal.run.status != RunStatus.DRAFT or proposal.state not in (ProposalState.PROPOSED, ProposalState.SKIPPED):
        raise FieldErrors({"proposal": _("This plan has been confirmed or discarded already.")})
    if facility is None:
        proposal.state, proposal.facility, proposal.bed_kind, proposal.distance_km = ProposalState.SKIPPED, None, "", None
        proposal.message = _("Left out by %(user)s") % {"user": user.username}
        proposal.save()
        return proposal
    if not Facility.objects.restrict(user).filter(pk=facility.pk).exists():
        raise PermissionDenied
    if not fits(current_policy(), proposal.category, facility.kind, bed_kind):
        raise FieldErrors({"facility": _("The policy does not send a %(category)s person to a %(bed)s of a %(kind)s.") % {
            "category": category_label(proposal.category), "bed": bed_label(bed_kind) if bed_kind in BedKind.values else bed_kind,
            "kind": FacilityKind(facility.kind).label}})
    compound = proposal.case.resident.household.compound
    km = None
    if compound.longitude is not None:
        km = float(engine.distances_km(np.array([float(compound.longitude)]), np.array([float(compound.latitude)]),
                                       np.array([float(facility.longitude)]), np.array([float(facility.latitude)]))[0, 0])
    proposal.facility, proposal.bed_kind, proposal.distance_km = facility, bed_kind, round(km, 3) if km is not None else None
    proposal.state, proposal.message = ProposalState.PROPOSED, _("Changed by %(user)s") % {"user": user.username}
    proposal.save()
    return proposal


def confirm_run(user, run, proposal_ids: list[int] | None = None, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Book the beds of a reviewed plan, set-based: the bed rows are locked (SELECT ... FOR UPDATE, in
    id order), each pool grants what it still has free, in service order; the rest is refused with a
    clear message. Stays and transfer orders are inserted in bulk. One transaction."""
    from fangkong.audit.models import AuditLog
    from fangkong.audit.services import build_entry
    from fangkong.facilities.models import PlacementRun, Proposal, ProposalState, RunStatus

    if not permissions.can_place(user) or not PlacementRun.objects.restrict(user).filter(pk=run.pk).exists():
        raise PermissionDenied
    now = now or timezone.now()
    policy = current_policy()
    counts = {"confirmed": 0, "refused": 0}
    with transaction.atomic():
        run = PlacementRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.DRAFT:
            raise FieldErrors({"run": _("This plan has been confirmed or discarded already.")})
        proposals = Proposal.objects.filter(run=run, state=ProposalState.PROPOSED, facility__isnull=False).select_related("facility")
        if proposal_ids is not None:
            proposals = proposals.filter(pk__in=proposal_ids)
        proposals = list(proposals.order_by("id"))
        visible_cases = set(Case.objects.restrict(user).filter(pk__in=[p.case_id for p in proposals]).values_list("pk", flat=True))
        cases = {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=list(visible_cases)).order_by("pk")}
        pools = {(p.facility_id, p.kind): p for p in BedPool.objects.select_for_update().filter(
            facility_id__in={p.facility_id for p in proposals}).order_by("pk")}
        granted: dict[tuple[int, str], int] = {}
        accepted: list = []
        for proposal in proposals:
            case = cases.get(proposal.case_id)
            key = (proposal.facility_id, proposal.bed_kind)
            pool = pools.get(key)
            message = ""
            if case is None or case.placement != Placement.WAITING:
                message = _("No longer waiting for a bed.")
            elif case.category != proposal.category or not fits(policy, case.category, proposal.facility.kind, proposal.bed_kind):
                message = _("The person's category or the policy changed: run the engine again.")
            elif not proposal.facility.is_active or pool is None or pool.free - granted.get(key, 0) <= 0:
                message = _("No free %(bed)s is left at %(facility)s.") % {"bed": bed_label(proposal.bed_kind), "facility": proposal.facility.name}
            if message:
                proposal.state, proposal.message = ProposalState.REFUSED, message
                counts["refused"] += 1
                continue
            granted[key] = granted.get(key, 0) + 1
            accepted.append(proposal)
        for key, n in granted.items():
            done = BedPool.objects.filter(pk=pools[key].pk, capacity__gte=F("occupied") + F("booked") + F("closed") + n).update(
                booked=F("booked") + n)
            if done != 1:
                raise RuntimeError("locked bed row changed under the lock")
        admitted = {s.case_id: s for s in Stay.objects.filter(case_id__in=[p.case_id for p in accepted],
                                                               status=StayStatus.ADMITTED).select_related("facility")}
        places = dict(Case.objects.filter(pk__in=[p.case_id for p in accepted]).values_list("pk", "resident__name"))
        addresses = {pk: f"{c}{b}{u}{r}" for pk, c, b, u, r in Case.objects.filter(pk__in=[p.case_id for p in accepted]).values_list(
            "pk", "resident__household__compound__name", "resident__household__building__name",
            "resident__household__unit__name", "resident__household__room")}
        stays = Stay.objects.bulk_create([
            Stay(case_id=p.case_id, facility_id=p.facility_id, bed_kind=p.bed_kind, category=p.category,
                 area_code=cases[p.case_id].area_code, waiting_since=cases[p.case_id].waiting_since, booked_at=now,
                 booked_by=_actor(user)) for p in accepted], batch_size=2000)
        if stays and stays[0].pk is None:  # databases that do not return ids from bulk inserts
            ids = dict(Stay.objects.filter(case_id__in=[p.case_id for p in accepted], status=StayStatus.BOOKED).values_list("case_id", "pk"))
            for stay in stays:
                stay.pk = stay.id = ids[stay.case_id]
        Transfer.objects.bulk_create([
            Transfer(stay=stay, case_id=p.case_id, from_facility=admitted[p.case_id].facility if p.case_id in admitted else None,
                     to_facility_id=p.facility_id,
                     vehicle=Vehicle.AMBULANCE if p.category in policy.ambulance_categories else Vehicle.TRANSFER_VEHICLE,
                     pickup_address=(admitted[p.case_id].facility.address or admitted[p.case_id].facility.name)
                     if p.case_id in admitted else addresses[p.case_id],
                     distance_km=p.distance_km, requested_at=now, requested_by=_actor(user), area_code=cases[p.case_id].area_code)
            for p, stay in zip(accepted, stays, strict=True)], batch_size=2000)
        Case.objects.filter(pk__in=[p.case_id for p in accepted]).update(placement=Placement.BOOKED)
        counts["confirmed"] = len(accepted)
        # Proposals change state in a few grouped UPDATEs (one per distinct refusal), not row by row.
        Proposal.objects.filter(pk__in=[p.pk for p in accepted]).update(state=ProposalState.CONFIRMED, message="")
        refusals: dict[str, list[int]] = {}
        for proposal in proposals:
            if proposal.state == ProposalState.REFUSED:
                refusals.setdefault(proposal.message, []).append(proposal.pk)
        for message, ids in refusals.items():
            Proposal.objects.filter(pk__in=ids).update(state=ProposalState.REFUSED, message=message)
        AuditLog.objects.bulk_create([
            build_entry(user, Action.CREATE, object_type="facilities.stay", object_id=str(stay.pk),
                        object_repr=places.get(p.case_id, ""), area_code=stay.area_code,
                        changes={"facility": p.facility.name, "bed_kind": p.bed_kind, "run": run.pk})
            for p, stay in zip(accepted, stays, strict=True)], batch_size=2000)
        if proposal_ids is None or not Proposal.objects.filter(run=run, state=ProposalState.PROPOSED).exists():
            run.status, run.confirmed_at = RunStatus.CONFIRMED, now
            run.save(update_fields=["status", "confirmed_at"])
        record(user, Action.UPDATE, run, object_type="facilities.placementrun", object_repr=f"#{run.pk}",
               area_code=run.area_code, changes=counts)
    return counts


def discard_run(user, run) -> None:
    from fangkong.facilities.models import PlacementRun, RunStatus

    if not permissions.can_place(user) or not PlacementRun.objects.restrict(user).filter(pk=run.pk).exists():
        raise PermissionDenied
    PlacementRun.objects.filter(pk=run.pk, status=RunStatus.DRAFT).update(status=RunStatus.DISCARDED)
