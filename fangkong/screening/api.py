"""API: the day list, recording a visit (idempotent by the phone's client id), coverage of an area
on a day, and the follow-up queue. Same scoping as the pages: out of scope is 404. Validation errors
are 422 with the field's location, e.g. ["body", "persons", 0, "temperature"]. Objects are reached
through screening.access, like the pages."""

import datetime as dt
import uuid
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import paginate

from fangkong.areas.models import Area
from fangkong.core import permissions
from fangkong.core.api_auth import AREA_CODE_PATTERN, MAX_ID, TEXT_PATTERN, Pagination, acting_user
from fangkong.core.errors import FieldErrors
from fangkong.people.api import Text10, Text20, Text30, Text50, Text200
from fangkong.screening import coverage as cov
from fangkong.screening import visits
from fangkong.screening.access import access_area, access_follow_up, access_household
from fangkong.screening.daylist import DAY_LIST_LIMIT, QUERY_LENGTH, entries, households_for_day, search_q
from fangkong.screening.followups import FollowUpClosed, dismiss_follow_up, take_follow_up
from fangkong.screening.models import Flag, FollowUp, FollowUpStatus, Method, Outcome, Symptom, Visit
from fangkong.screening.readings import TemperatureMethod
from fangkong.screening.validation import MAX_PERSONS, PersonInput, VisitInput

router = Router(tags=["screening"])

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 1, 1)
Day = Annotated[dt.date, Field(ge=EARLIEST, le=LATEST)]
DAY_QUERY = Query(None, description="Default today (Asia/Shanghai)")
SymptomCode = Literal[tuple(Symptom.CODES)]  # type: ignore[valid-type]


def _screener(request: HttpRequest):
    user = acting_user(request)
    if not permissions.can_record(user):
        raise PermissionDenied
    return user


def _field_errors(exc: FieldErrors) -> NinjaValidationError:
    """Service errors keyed `persons.0.temperature` → ninja's 422 with loc ["body", "persons", 0, "temperature"]."""
    detail = []
    for key, message in exc.errors.items():
        loc: list[str | int] = ["body"] + [int(p) if p.isdigit() else p for p in key.split(".")]
        detail.append({"loc": loc, "msg": str(message), "type": "value_error"})
    return NinjaValidationError(detail)


# ---------------------------------------------------------------- schemas

class LastVisitOut(Schema):
    id: int
    date: dt.date
    visited_at: dt.datetime
    method: str
    outcome: str
    flags: list[str] = Field(alias="flag_reasons")
    persons_present: int


class DayListItemOut(Schema):
    id: int
    address: str
    building_id: int
    building: str
    unit: str
    room: str
    area_code: str
    residents: int
    done: bool
    last_visit: LastVisitOut | None


class NewOccupantIn(Schema):
    """Someone living here but not on the roster (the roster's own validation applies)."""

    name: Text50
    doc_number: Text30
    doc_type: Text30 | None = None
    sex: Text10 | None = None
    birth_date: Text20 | None = None
    phone: Text20 | None = None
    relation: Text20 | None = None
    note: Text200 | None = None


class PersonIn(Schema):
    resident_id: int | None = Field(None, ge=1, le=MAX_ID, description="A resident of the household")
    new_resident: NewOccupantIn | None = Field(None, description="Or someone not yet on the roster")
    present: bool = True
    temperature: float | None = Field(None, allow_inf_nan=False,
                                      description="°C; outside the policy's valid range (2020: 34.0–43.0) is an error")
    temperature_method: Literal[tuple(TemperatureMethod.values)] = Field(  # type: ignore[valid-type]
        TemperatureMethod.FOREHEAD.value, description="How the temperature was taken (default forehead)")
    outdoors: bool = Field(False, description="A forehead reading taken outdoors (then ambient_c is required)")
    ambient_c: float | None = Field(None, allow_inf_nan=False, ge=-40, le=50,
                                    description="Outdoor temperature °C; outside the policy's forehead range the "
                                                "reading is kept but marked unreliable")
    symptoms: list[SymptomCode] = Field(default_factory=list, max_length=len(Symptom.CODES))
    travel_14d: bool = Field(False, description="Travel or stay in key areas in the last 14 days")
    contact_14d: bool = Field(False, description="Contact with confirmed or suspected cases in the last 14 days")


class VisitIn(Schema):
    client_id: uuid.UUID = Field(..., description="Made by the phone; sending the same visit again records it once")
    household_id: int = Field(..., ge=1, le=MAX_ID)
    method: Literal[tuple(Method.values)]  # type: ignore[valid-type]
    outcome: Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
    visited_at: dt.datetime | None = Field(None, description="Default now; at most 7 days back")
    note: str = Field("", max_length=200, pattern=TEXT_PATTERN)
    persons: list[PersonIn] = Field(default_factory=list, max_length=MAX_PERSONS)


class CheckOut(Schema):
    resident_id: int
    present: bool
    temperature: float | None
    temperature_method: str
    outdoors: bool
    ambient_c: float | None
    reading_unreliable: bool = Field(description="A forehead reading outdoors outside the device's range: take it again")
    symptoms: list[str]
    travel_14d: bool
    contact_14d: bool
    flags: list[str]

    @staticmethod
    def resolve_symptoms(obj) -> list[str]:
        return Symptom.codes(obj.symptoms)

    @staticmethod
    def resolve_flags(obj) -> list[str]:
        return Flag.reasons(obj.flags)


class VisitOut(Schema):
    id: int
    client_id: uuid.UUID
    household_id: int
    area_code: str
    date: dt.date
    visited_at: dt.datetime
    method: str
    outcome: str
    note: str
    flags: list[str] = Field(alias="flag_reasons")
    persons: list[CheckOut]
    self_report: bool = Field(alias="is_self_report")

    @staticmethod
    def resolve_persons(obj: Visit) -> list:
        saved = getattr(obj, "saved_checks", None)  # a visit just recorded carries its checks
        return sorted(saved, key=lambda c: c.pk) if saved is not None else list(obj.checks.order_by("id"))


class CoverageRowOut(Schema):
    key: str
    label: str
    area_code: str | None
    building_id: int | None
    households: int
    screened: int
    not_reached: int
    phone_only: int
    persons: int
    persons_reached: int
    missed: int


class TrendOut(Schema):
    date: dt.date
    households: int
    screened: int
    persons: int
    persons_reached: int


class CoverageOut(Schema):
    area_code: str
    area_name: str
    date: dt.date
    days: int
    by: str
    total: CoverageRowOut
    rows: list[CoverageRowOut]
    trend: list[TrendOut]


class FollowUpOut(Schema):
    id: int
    resident_id: int
    name: str
    reason: str = Field(description="The most pressing of the reasons (fever, symptoms, possible_contact)")
    reasons: list[str] = Field(description="Every reason of the item: one item per flagged person")
    status: str
    visit_id: int
    area_code: str
    created_at: dt.datetime
    temperature: float | None
    symptoms: list[str]
    handled_at: dt.datetime | None
    note: str

    @staticmethod
    def resolve_name(obj: FollowUp) -> str:
        return obj.resident.name

    @staticmethod
    def resolve_reasons(obj: FollowUp) -> list[str]:
        return obj.reason_codes

    @staticmethod
    def resolve_temperature(obj: FollowUp) -> float | None:
        t = obj.person_check.temperature
        return float(t) if t is not None else None

    @staticmethod
    def resolve_symptoms(obj: FollowUp) -> list[str]:
        return Symptom.codes(obj.person_check.symptoms)


class HandleIn(Schema):
    note: str = Field("", max_length=200, pattern=TEXT_PATTERN)
    category: Literal["", "fever", "suspected", "close_contact"] = Field(
        "", description="Taking up: the category to open the case in (default by the item's reason)")


# ---------------------------------------------------------------- endpoints

@router.get("/screening/day-list", response=list[DayListItemOut],
            summary="Households of an area (default: the caller's) with today's state and their last result")
@paginate(Pagination)
def day_list(request: HttpRequest,
             area: str | None = Query(None, pattern=AREA_CODE_PATTERN),
             date: Day | None = DAY_QUERY,
             todo: bool = Query(False, description="Only households not yet screened that day"),
             q: str = Query("", max_length=QUERY_LENGTH, pattern=TEXT_PATTERN,
                            description="Building / room search, e.g. '3栋 201'"),
             building_id: int | None = Query(None, ge=1, le=MAX_ID)):
    user = acting_user(request)
    code = access_area(user, area or "").code
    day = date or visits.local_today()
    households = households_for_day(user, code, day)
    if todo:
        households = households.filter(done=False)
    if q:
        households = households.filter(search_q(q))
    if building_id is not None:
        households = households.filter(building_id=building_id)
    households = list(households[:DAY_LIST_LIMIT])
    return [{
        "id": e.household.pk, "address": e.household.address, "building_id": e.household.building_id,
        "building": f"{e.household.compound.name} {e.household.building.name}", "unit": e.household.unit.name,
        "room": e.household.room, "area_code": e.household.area_code, "residents": e.residents, "done": e.done,
        "last_visit": e.last_visit,
    } for e in entries(user, households, day)]


@router.post("/screening/visits", response={200: VisitOut, 201: VisitOut},
             summary="Record a visit (201); the same client_id again returns the first visit (200)")
def record_visit(request: HttpRequest, payload: VisitIn):
    user = acting_user(request)
    household = access_household(user, payload.household_id)
    data = VisitInput(
        client_id=payload.client_id, method=payload.method, outcome=payload.outcome, note=payload.note,
        visited_at=payload.visited_at,
        persons=[PersonInput(
            resident_id=p.resident_id, new_resident=p.new_resident.model_dump() if p.new_resident else None,
            present=p.present, temperature=p.temperature, temperature_method=p.temperature_method, outdoors=p.outdoors,
            ambient_c=p.ambient_c, symptoms=list(p.symptoms), travel_14d=p.travel_14d,
            contact_14d=p.contact_14d) for p in payload.persons],
    )
    try:
        result = visits.record_visit(user, household, data)
    except FieldErrors as exc:
        raise _field_errors(exc) from exc
    return (201 if result.created else 200), result.visit


def _row(row: cov.Row) -> dict:
    return {"key": row.key, "label": row.label, "area_code": row.area.code if row.area else None,
            "building_id": row.building.pk if row.building else None, "households": row.households,
            "screened": row.screened, "not_reached": row.not_reached, "phone_only": row.phone_only,
            "persons": row.persons, "persons_reached": row.reached, "missed": row.missed}


@router.get("/screening/coverage/{code}", response=CoverageOut,
            summary="Coverage of an area on a day, per sub-area (per building for a grid), with the trend")
def coverage(request: HttpRequest, code: str = Path(..., pattern=AREA_CODE_PATTERN),
             date: Day | None = DAY_QUERY,
             days: int = Query(7, ge=1, le=cov.MAX_DAYS, description="Window for 'missed on any of the last N days'")):
    area = access_area(acting_user(request), code)
    table = cov.coverage(area, date or visits.local_today(), days)
    return {
        "area_code": area.code, "area_name": area.name, "date": table.day, "days": table.days, "by": table.by,
        "total": _row(table.total), "rows": [_row(r) for r in table.rows],
        "trend": [{"date": p.date, "households": p.households, "screened": p.screened, "persons": p.persons,
                   "persons_reached": p.reached} for p in table.trend],
    }


@router.get("/screening/follow-ups", response=list[FollowUpOut], summary="The follow-up queue of an area")
@paginate(Pagination)
def follow_up_list(request: HttpRequest,
                   area: str | None = Query(None, pattern=AREA_CODE_PATTERN),
                   status: Literal[tuple(FollowUpStatus.values)] | None = Query(None)):  # type: ignore[valid-type]
    user = _screener(request)
    items = FollowUp.objects.restrict(user).select_related("resident", "person_check")
    if area:
        items = items.filter(area_code__startswith=Area.objects.get_visible_or_404(user, code=area).code)
    if status:
        items = items.filter(status=status)
    return items.order_by("-created_at", "-id")


def _handle(request: HttpRequest, id: int, action: str, note: str, category: str = ""):
    user = acting_user(request)
    item = access_follow_up(user, id)
    try:
        if action == "dismiss":
            return dismiss_follow_up(user, item, note)
        return take_follow_up(user, item, note, category)
    except FieldErrors as exc:
        raise _field_errors(exc) from exc
    except FollowUpClosed as exc:
        raise HttpError(409, str(exc)) from exc


@router.post("/screening/follow-ups/{id}/take", response=FollowUpOut, summary="Take an item up (409 if handled)")
def follow_up_take(request: HttpRequest, payload: HandleIn, id: int = Path(..., ge=1, le=MAX_ID)):
    return _handle(request, id, "take", payload.note, payload.category)


@router.post("/screening/follow-ups/{id}/dismiss", response=FollowUpOut,
             summary="Dismiss an item with a reason (audit-logged; 409 if handled)")
def follow_up_dismiss(request: HttpRequest, payload: HandleIn, id: int = Path(..., ge=1, le=MAX_ID)):
    return _handle(request, id, "dismiss", payload.note)
