"""The placement backlog and placement runs: the engine proposes a plan over the whole backlog, a
commander reviews it (moves a proposal, leaves a person out) and confirms it, which books the beds
set-based, or discards it.

A run or a proposal comes from facilities.access (access_run, access_proposal): the services trust it.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action, AuditLog
from fangkong.audit.services import build_entry, record
from fangkong.cases.models import Case, Placement
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, actor
from fangkong.facilities import placement as engine
from fangkong.facilities.beds import bed_label, category_label
from fangkong.facilities.models import (
    BedKind,
    BedPool,
    Facility,
    FacilityKind,
    PlacementRun,
    Proposal,
    ProposalState,
    RunStatus,
    Stay,
    StayStatus,
    Transfer,
    Vehicle,
)
from fangkong.facilities.routing import fits
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy, current_version


def backlog(user: User) -> QuerySet[Case]:
    """Everyone in the user's scope who needs a bed and has none (nor a booking)."""
    return Case.objects.restrict(user).filter(placement=Placement.WAITING)


def run_placement(user: User, *, now: dt.datetime | None = None) -> PlacementRun:
    """Run the engine over the user's whole backlog and the free beds of the facilities they see;
    the plan is stored for review (nothing is booked until it is confirmed)."""
    if not permissions.can_place(user):
        raise PermissionDenied
    now = now or timezone.now()
    policy = current_policy()
    version = current_version()
    rows = list(backlog(user).values_list(
        "pk", "category", "resident__household__compound__longitude", "resident__household__compound__latitude",
        "waiting_since", "resident__special_groups", "resident__birth_date", "area_code"))
    area_of = {row[0]: row[-1] for row in rows}
    today = timezone.localdate(now)
    people = [engine.Person(pk, category, float(lon) if lon is not None else None, float(lat) if lat is not None else None,
                            max(0, int((now - (since or now)).total_seconds() // 60)),
                            engine.is_priority(policy, groups, born, today))
              for pk, category, lon, lat, since, groups, born, _area_code in rows]
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
            created_by=actor(user), area_code=user.scope.area_code or "", people=len(people),
            placed=sum(1 for a in plan if a.facility_id), total_km=round(engine.total_km(plan), 3), seconds=seconds,
            policy_version=version.version if version else 0)
        Proposal.objects.bulk_create([
            Proposal(run=run, case_id=a.case_id, category=by_case[a.case_id].category, facility_id=a.facility_id,
                     bed_kind=a.bed_kind, distance_km=round(a.distance_km, 3) if a.distance_km is not None else None,
                     waited_minutes=by_case[a.case_id].waited_minutes,
                     state=ProposalState.PROPOSED if a.facility_id else ProposalState.SKIPPED,
                     message="" if a.facility_id else _("No free bed that fits."), area_code=area_of[a.case_id])
            for a in plan], batch_size=2000)
        record(user, Action.CREATE, run, object_type="facilities.placementrun", object_repr=f"#{run.pk}",
               area_code=run.area_code, changes={"people": run.people, "placed": run.placed, "total_km": run.total_km})
    return run


def adjust_proposal(user: User, proposal: Proposal, facility: Facility | None, bed_kind: str = "") -> Proposal:
    """A commander moves one proposal to another facility (or leaves the person out of this run)."""
    if proposal.run.status != RunStatus.DRAFT or proposal.state not in (ProposalState.PROPOSED, ProposalState.SKIPPED):
        raise FieldErrors({"proposal": _("This plan has been confirmed or discarded already.")})
    if facility is None:
        proposal.state, proposal.facility, proposal.bed_kind, proposal.distance_km = ProposalState.SKIPPED, None, "", None
        proposal.message = _("Left out by %(user)s") % {"user": user.username}
        proposal.save()
        return proposal
    if not fits(current_policy(), proposal.category, facility.kind, bed_kind):
        raise FieldErrors({"facility": _("The policy does not send a %(category)s person to a %(bed)s of a %(kind)s.") % {
            "category": category_label(proposal.category), "bed": bed_label(bed_kind) if bed_kind in BedKind.values else bed_kind,
            "kind": FacilityKind(facility.kind).label}})
    compound = proposal.case.resident.household.compound
    km = None
    if compound.longitude is not None and compound.latitude is not None:
        km = float(engine.distances_km(np.array([float(compound.longitude)]), np.array([float(compound.latitude)]),
                                       np.array([float(facility.longitude)]), np.array([float(facility.latitude)]))[0, 0])
    proposal.facility, proposal.bed_kind, proposal.distance_km = facility, bed_kind, round(km, 3) if km is not None else None
    proposal.state, proposal.message = ProposalState.PROPOSED, _("Changed by %(user)s") % {"user": user.username}
    proposal.save()
    return proposal



# --- Confirming a plan ---------------------------------------------------------------------------
# confirm_run in named steps: lock, judge, book, insert, mark, audit. One transaction around them all.

PoolKey = tuple[int, str]  # (facility id, bed kind)


def _facility_of(proposal: Proposal) -> Facility:
    """The facility of a proposal being confirmed (_proposals_to_confirm takes only those with one)."""
    assert proposal.facility is not None
    return proposal.facility


@dataclass
class _Judgement:
    """Which proposals get their bed, how many beds each pool grants, and the refusals (in the proposals)."""

    accepted: list[Proposal] = field(default_factory=list)
    granted: dict[PoolKey, int] = field(default_factory=dict)
    refused: int = 0


def confirm_run(user: User, run: PlacementRun, proposal_ids: list[int] | None = None, *,
                now: dt.datetime | None = None) -> dict[str, int]:
    """Book the beds of a reviewed plan, set-based: the bed rows are locked (SELECT ... FOR UPDATE, in
    id order), each pool grants what it still has free, in service order; the rest is refused with a
    clear message. Stays and transfer orders are inserted in bulk. One transaction."""
    now = now or timezone.now()
    policy = current_policy()
    with transaction.atomic():
        run = _lock_draft(run)
        proposals = _proposals_to_confirm(run, proposal_ids)
        cases = _lock_cases(user, proposals)
        pools = _lock_pools(proposals)
        judgement = _judge(proposals, cases, pools, policy)
        _book_beds(pools, judgement.granted)
        stays = _insert_stays_and_transfers(user, judgement.accepted, cases, policy, now)
        counts = {"confirmed": len(judgement.accepted), "refused": judgement.refused}
        _mark_proposals(proposals, judgement.accepted)
        _audit_stays(user, run, judgement.accepted, stays)
        _close_run(user, run, proposal_ids, counts, now)
    return counts


def _lock_draft(run: PlacementRun) -> PlacementRun:
    run = PlacementRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.DRAFT:
        raise FieldErrors({"run": _("This plan has been confirmed or discarded already.")})
    return run


def _proposals_to_confirm(run: PlacementRun, proposal_ids: list[int] | None) -> list[Proposal]:
    """The proposals still proposed with a facility (all, or those chosen), in service order."""
    proposals = Proposal.objects.filter(run=run, state=ProposalState.PROPOSED, facility__isnull=False).select_related("facility")
    if proposal_ids is not None:
        proposals = proposals.filter(pk__in=proposal_ids)
    return list(proposals.order_by("id"))


def _lock_cases(user: User, proposals: list[Proposal]) -> dict[int, Case]:
    """The people of the proposals the user still sees, locked in id order."""
    visible = set(Case.objects.restrict(user).filter(pk__in=[p.case_id for p in proposals]).values_list("pk", flat=True))
    return {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=list(visible)).order_by("pk")}


def _lock_pools(proposals: list[Proposal]) -> dict[PoolKey, BedPool]:
    """The bed rows of the proposed facilities, locked in id order."""
    return {(p.facility_id, p.kind): p for p in BedPool.objects.select_for_update().filter(
        facility_id__in={p.facility_id for p in proposals}).order_by("pk")}


def _judge(proposals: list[Proposal], cases: dict[int, Case], pools: dict[PoolKey, BedPool],
           policy: Policy) -> _Judgement:
    """Each proposal in turn: still waiting, still fitting, a bed still free in its pool — or refused
    with the reason (set on the proposal, written by _mark_proposals)."""
    judgement = _Judgement()
    for proposal in proposals:
        case = cases.get(proposal.case_id)
        facility = _facility_of(proposal)
        key = (facility.pk, proposal.bed_kind)
        pool = pools.get(key)
        message = ""
        if case is None or case.placement != Placement.WAITING:
            message = _("No longer waiting for a bed.")
        elif case.category != proposal.category or not fits(policy, case.category, facility.kind, proposal.bed_kind):
            message = _("The person's category or the policy changed: run the engine again.")
        elif not facility.is_active or pool is None or pool.free - judgement.granted.get(key, 0) <= 0:
            message = _("No free %(bed)s is left at %(facility)s.") % {"bed": bed_label(proposal.bed_kind), "facility": facility.name}
        if message:
            proposal.state, proposal.message = ProposalState.REFUSED, message
            judgement.refused += 1
            continue
        judgement.granted[key] = judgement.granted.get(key, 0) + 1
        judgement.accepted.append(proposal)
    return judgement


def _book_beds(pools: dict[PoolKey, BedPool], granted: dict[PoolKey, int]) -> None:
    """One conditional UPDATE per pool for all the beds it grants (the rows are locked: it cannot fail)."""
    for key, n in granted.items():
        done = BedPool.objects.filter(pk=pools[key].pk, capacity__gte=F("occupied") + F("booked") + F("closed") + n).update(
            booked=F("booked") + n)
        if done != 1:
            raise RuntimeError("locked bed row changed under the lock")


def _insert_stays_and_transfers(user: User, accepted: list[Proposal], cases: dict[int, Case], policy: Policy,
                                now: dt.datetime) -> list[Stay]:
    """The bookings and their transfer orders, in bulk; the people are booked."""
    ids = [p.case_id for p in accepted]
    admitted = {s.case_id: s for s in Stay.objects.filter(case_id__in=ids, status=StayStatus.ADMITTED).select_related("facility")}
    addresses = {pk: f"{c}{b}{u}{r}" for pk, c, b, u, r in Case.objects.filter(pk__in=ids).values_list(
        "pk", "resident__household__compound__name", "resident__household__building__name",
        "resident__household__unit__name", "resident__household__room")}
    stays = Stay.objects.bulk_create([
        Stay(case_id=p.case_id, facility=_facility_of(p), bed_kind=p.bed_kind, category=p.category,
             area_code=cases[p.case_id].area_code, waiting_since=cases[p.case_id].waiting_since, booked_at=now,
             booked_by=actor(user)) for p in accepted], batch_size=2000)
    if stays and stays[0].pk is None:  # databases that do not return ids from bulk inserts
        pks = dict(Stay.objects.filter(case_id__in=ids, status=StayStatus.BOOKED).values_list("case_id", "pk"))
        for stay in stays:
            stay.pk = stay.id = pks[stay.case_id]
    Transfer.objects.bulk_create([
        Transfer(stay=stay, case_id=p.case_id, from_facility=admitted[p.case_id].facility if p.case_id in admitted else None,
                 to_facility=_facility_of(p),
                 vehicle=Vehicle.AMBULANCE if p.category in policy.ambulance_categories else Vehicle.TRANSFER_VEHICLE,
                 pickup_address=(admitted[p.case_id].facility.address or admitted[p.case_id].facility.name)
                 if p.case_id in admitted else addresses[p.case_id],
                 distance_km=p.distance_km, requested_at=now, requested_by=actor(user), area_code=cases[p.case_id].area_code)
        for p, stay in zip(accepted, stays, strict=True)], batch_size=2000)
    Case.objects.filter(pk__in=ids).update(placement=Placement.BOOKED)
    return stays


def _mark_proposals(proposals: list[Proposal], accepted: list[Proposal]) -> None:
    """Proposals change state in a few grouped UPDATEs (one per distinct refusal), not row by row."""
    Proposal.objects.filter(pk__in=[p.pk for p in accepted]).update(state=ProposalState.CONFIRMED, message="")
    refusals: dict[str, list[int]] = {}
    for proposal in proposals:
        if proposal.state == ProposalState.REFUSED:
            refusals.setdefault(proposal.message, []).append(proposal.pk)
    for message, ids in refusals.items():
        Proposal.objects.filter(pk__in=ids).update(state=ProposalState.REFUSED, message=message)


def _audit_stays(user: User, run: PlacementRun, accepted: list[Proposal], stays: list[Stay]) -> None:
    """One audit entry per booking, in bulk."""
    names = dict(Case.objects.filter(pk__in=[p.case_id for p in accepted]).values_list("pk", "resident__name"))
    AuditLog.objects.bulk_create([
        build_entry(user, Action.CREATE, object_type="facilities.stay", object_id=str(stay.pk),
                    object_repr=names.get(p.case_id, ""), area_code=stay.area_code,
                    changes={"facility": _facility_of(p).name, "bed_kind": p.bed_kind, "run": run.pk})
        for p, stay in zip(accepted, stays, strict=True)], batch_size=2000)


def _close_run(user: User, run: PlacementRun, proposal_ids: list[int] | None, counts: dict[str, int],
               now: dt.datetime) -> None:
    """The run is confirmed once nothing of it is left proposed; the counts go to the audit log."""
    if proposal_ids is None or not Proposal.objects.filter(run=run, state=ProposalState.PROPOSED).exists():
        run.status, run.confirmed_at = RunStatus.CONFIRMED, now
        run.save(update_fields=["status", "confirmed_at"])
    record(user, Action.UPDATE, run, object_type="facilities.placementrun", object_repr=f"#{run.pk}",
           area_code=run.area_code, changes=counts)


def discard_run(user: User, run: PlacementRun) -> None:
    PlacementRun.objects.filter(pk=run.pk, status=RunStatus.DRAFT).update(status=RunStatus.DISCARDED)
