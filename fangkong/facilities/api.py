"""API: facilities and beds, admissions and discharges, the backlog, placement runs, transfers.

Same scoping and services as the UI. A refused booking (no free bed left) answers 422 on `facility`.
"""

import datetime as dt
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Path, Router, Schema
from ninja.pagination import paginate

from fangkong.cases.access import access_case
from fangkong.core import permissions
from fangkong.core.api_auth import MAX_ID, TEXT_PATTERN, Pagination, acting_user
from fangkong.facilities import beds, registry, runs, transfers
from fangkong.facilities.access import (
    access_facility,
    access_facility_work,
    access_run,
    access_stay,
    access_transfer,
)
from fangkong.facilities.models import Facility, Proposal, Stay, Transfer

router = Router(tags=["facilities"])

Id = Path(..., ge=1, le=MAX_ID)
BedKindName = Literal["icu", "ordinary", "single_room"]


class BedsOut(Schema):
    kind: str
    capacity: int
    occupied: int
    booked: int
    closed: int
    free: int


class FacilityOut(Schema):
    id: int
    name: str
    kind: str
    area_code: str
    address: str
    longitude: float
    latitude: float
    is_active: bool
    beds: list[BedsOut]

    @staticmethod
    def resolve_beds(obj) -> list:
        return list(obj.beds.order_by("kind"))


class BacklogOut(Schema):
    case_id: int = Field(alias="pk")
    name: str = Field(alias="resident.name")
    category: str
    status: str
    severity: str
    waiting_since: dt.datetime | None
    area_code: str


class StayOut(Schema):
    id: int
    case_id: int
    facility_id: int
    bed_kind: str
    category: str
    status: str
    booked_at: dt.datetime
    admitted_at: dt.datetime | None
    ended_at: dt.datetime | None
    end_reason: str


class ProposalOut(Schema):
    id: int
    case_id: int
    category: str
    facility_id: int | None
    bed_kind: str
    distance_km: float | None
    waited_minutes: int
    state: str
    message: str


class RunOut(Schema):
    id: int
    status: str
    people: int
    placed: int
    total_km: float
    seconds: float
    policy_version: int
    created_at: dt.datetime


class RunDetailOut(RunOut):
    proposals: list[ProposalOut]

    @staticmethod
    def resolve_proposals(obj) -> list:
        return list(Proposal.objects.filter(run=obj).order_by("id")[:5000])


class TransferOut(Schema):
    id: int
    case_id: int
    stay_id: int
    from_facility_id: int | None
    to_facility_id: int
    vehicle: str
    vehicle_label: str
    pickup_address: str
    distance_km: float | None
    status: str
    requested_at: dt.datetime
    dispatched_at: dt.datetime | None
    picked_up_at: dt.datetime | None
    arrived_at: dt.datetime | None


class ClosedBedsIn(Schema):
    kind: BedKindName
    delta: int = Field(..., ge=-10000, le=10000, description="beds to close (> 0) or reopen (< 0)")


class DischargeIn(Schema):
    outcome: Literal["discharged", "transferred", "deceased", "other"] = Field(
        ..., description="discharged = cured (needs the policy's negative tests or cure_override); transferred and other need a note")
    note: Annotated[str, Field(max_length=200, pattern=TEXT_PATTERN)] = ""
    cure_override: Annotated[str, Field(max_length=200, pattern=TEXT_PATTERN)] = Field(
        "", description="why a cure is recorded without the tests the policy asks for (audit-logged)")


class PlaceIn(Schema):
    case_id: int = Field(..., ge=1, le=MAX_ID)
    facility_id: int = Field(..., ge=1, le=MAX_ID)
    bed_kind: BedKindName


class ConfirmIn(Schema):
    proposal_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(None, max_length=50000)


class ConfirmOut(Schema):
    confirmed: int
    refused: int


class TransferStepIn(Schema):
    status: Literal["dispatched", "picked_up", "arrived"]
    vehicle_label: Annotated[str, Field(max_length=50, pattern=TEXT_PATTERN)] = ""


def _viewer(request: HttpRequest):
    user = acting_user(request)
    if not permissions.can_manage_cases(user):
        raise PermissionDenied
    return user


def _commander(request: HttpRequest):
    user = acting_user(request)
    if not permissions.can_place(user):
        raise PermissionDenied
    return user


@router.get("/facilities", response=list[FacilityOut], summary="Facilities in scope with their beds")
def facility_list(request: HttpRequest):
    return list(Facility.objects.restrict(_viewer(request)).prefetch_related("beds"))


@router.get("/facilities/{id}", response=FacilityOut, summary="One facility with its beds")
def facility_detail(request: HttpRequest, id: int = Id):
    return access_facility(acting_user(request), id)


@router.post("/facilities/{id}/closed-beds", response=BedsOut, summary="Close beds for cleaning or reopen them")
def facility_closed_beds(request: HttpRequest, payload: ClosedBedsIn, id: int = Id):
    user = acting_user(request)
    facility = access_facility_work(user, id, rule=permissions.can_manage_cases)
    return registry.change_closed_beds(user, facility, payload.kind, payload.delta)


@router.get("/facilities/{id}/stays", response=list[StayOut], summary="People booked into or staying in a facility")
def facility_stays(request: HttpRequest, id: int = Id):
    user = acting_user(request)
    facility = access_facility(user, id)
    return list(Stay.objects.restrict(user).filter(facility=facility, status__in=("booked", "admitted")).order_by("booked_at"))


@router.post("/stays/{id}/admit", response=StayOut, summary="The facility confirms the admission")
def stay_admit(request: HttpRequest, id: int = Id):
    user = acting_user(request)
    return beds.admit(user, access_stay(user, id, rule=permissions.can_manage_cases))


@router.post("/stays/{id}/discharge", response=StayOut, summary="The person leaves the facility")
def stay_discharge(request: HttpRequest, payload: DischargeIn, id: int = Id):
    user = acting_user(request)
    return beds.discharge(user, access_stay(user, id, rule=permissions.can_manage_cases), payload.outcome, note=payload.note, cure_override=payload.cure_override)


@router.get("/placement/backlog", response=list[BacklogOut], summary="Everyone in scope who needs a bed and has none")
@paginate(Pagination)
def placement_backlog(request: HttpRequest):
    return runs.backlog(_commander(request)).select_related("resident").order_by("waiting_since", "id")


@router.post("/placement/runs", response={201: RunOut}, summary="Run the placement engine over the whole backlog")
def placement_run(request: HttpRequest):
    return 201, runs.run_placement(_commander(request))


@router.get("/placement/runs/{id}", response=RunDetailOut, summary="A plan with its proposals")
def placement_run_detail(request: HttpRequest, id: int = Id):
    return access_run(acting_user(request), id)


@router.post("/placement/runs/{id}/confirm", response=ConfirmOut, summary="Book the beds of a plan (all or some proposals)")
def placement_confirm(request: HttpRequest, payload: ConfirmIn, id: int = Id):
    user = acting_user(request)
    return runs.confirm_run(user, access_run(user, id), payload.proposal_ids)


@router.post("/placement/place", response={201: StayOut}, summary="Place one person in one facility (books the bed or refuses)")
def placement_place(request: HttpRequest, payload: PlaceIn):
    user = acting_user(request)
    case = access_case(user, payload.case_id, rule=permissions.can_place, related=())
    facility = access_facility(user, payload.facility_id, rule=permissions.can_place)
    return 201, beds.place(user, case, facility, payload.bed_kind)


@router.get("/transfers", response=list[TransferOut], summary="Transfers in scope")
@paginate(Pagination)
def transfer_list(request: HttpRequest, status: Literal["requested", "dispatched", "picked_up", "arrived", "cancelled"] | None = None):
    transfers = Transfer.objects.restrict(_viewer(request))
    if status:
        transfers = transfers.filter(status=status)
    return transfers.order_by("requested_at", "id")


@router.post("/transfers/{id}/status", response=TransferOut, summary="Next step of a transfer (timestamped)")
def transfer_step(request: HttpRequest, payload: TransferStepIn, id: int = Id):
    user = acting_user(request)
    transfer = access_transfer(user, id, rule=permissions.can_manage_cases)
    return transfers.advance_transfer(user, transfer, payload.status, vehicle_label=payload.vehicle_label)


