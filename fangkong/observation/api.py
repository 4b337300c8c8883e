"""API: medical observation files, worker reports (idempotent by client id) and alerts. Same scoping
as the UI (out of scope answers 404), the same services, masked identifiers in lists."""

import datetime as dt
import uuid
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import paginate

from fangkong.core import permissions
from fangkong.core.api_auth import MAX_ID, TEXT_PATTERN, Pagination, acting_user
from fangkong.core.masking import mask_name
from fangkong.observation.access import access_alert, access_file, access_resident
from fangkong.observation.alerts import handle_alert as handle_alert_service
from fangkong.observation.files import open_file as open_file_service
from fangkong.observation.models import Alert, ObservationFile
from fangkong.observation.reports import DEFAULT_METHOD, HowTakenInput, record_worker_report
from fangkong.screening.readings import TemperatureMethod

router = Router(tags=["observation"])

Id = Path(..., ge=1, le=MAX_ID)
Text200 = Annotated[str, Field(max_length=200, pattern=TEXT_PATTERN)]
SymptomCode = Literal["fever", "dry_cough", "fatigue", "short_breath", "sore_throat", "diarrhoea", "taste_smell", "other"]


class FileOut(Schema):
    id: int
    resident_id: int
    masked_name: str
    kind: str
    status: str
    reason: str
    source: str
    source_ref: str
    started_on: dt.date
    last_exposure_on: dt.date
    planned_end_on: dt.date
    place: str
    responsible_id: int | None
    notice_number: str | None
    area_code: str

    @staticmethod
    def resolve_masked_name(obj: ObservationFile) -> str:
        return mask_name(obj.resident.name)


class OpenFileIn(Schema):
    resident_id: int = Field(..., ge=1, le=MAX_ID)
    kind: Literal["home", "centralised"]
    reason: Text200
    last_exposure_on: dt.date
    place: Text200 = ""
    source: Literal["manual", "tracing", "screening"] = "manual"
    source_ref: Annotated[str, Field(max_length=64, pattern=TEXT_PATTERN)] = ""


class ReportIn(Schema):
    client_id: uuid.UUID
    temperature: Annotated[str, Field(max_length=10, pattern=TEXT_PATTERN)]
    temperature_method: Literal[tuple(TemperatureMethod.values)] = Field(  # type: ignore[valid-type]
        DEFAULT_METHOD.value, description="How the temperature was taken (default armpit)")
    outdoors: bool = Field(False, description="A forehead reading taken outdoors (then ambient_c is required)")
    ambient_c: float | None = Field(None, allow_inf_nan=False, ge=-40, le=50,
                                    description="Outdoor temperature °C; outside the policy's forehead range the "
                                                "reading is kept but marked unreliable")
    symptoms: list[SymptomCode] = Field(default_factory=list, max_length=8)
    reported_at: dt.datetime | None = None


class ReportOut(Schema):
    id: int
    client_id: uuid.UUID
    file_id: int
    date: dt.date
    window_name: str
    temperature: str
    symptoms: int
    source: str
    temperature_method: str
    outdoors: bool
    ambient_c: float | None
    reading_unreliable: bool
    reported_at: dt.datetime
    created: bool = False
    escalated: bool = False

    @staticmethod
    def resolve_temperature(obj) -> str:
        return str(obj.temperature)


class AlertOut(Schema):
    id: int
    file_id: int
    kind: str
    key: str
    detail: str
    status: str
    created_at: dt.datetime
    handled_at: dt.datetime | None
    note: str
    area_code: str


class HandleIn(Schema):
    note: Text200 = ""


def _observer(request: HttpRequest):
    """The acting user, for the lists (an object is reached through observation.access instead)."""
    user = acting_user(request)
    if not permissions.can_observe(user):
        raise PermissionDenied
    return user


@router.get("/observation/files", response=list[FileOut], summary="Observation files in scope")
@paginate(Pagination)
def list_files(request: HttpRequest, status: Literal["open", "released", "ended", "escalated"] | None = None,
               area: str | None = Query(None, max_length=15, pattern=r"^\d{2,15}$")):
    user = _observer(request)
    files = ObservationFile.objects.restrict(user).select_related("resident")
    if status:
        files = files.filter(status=status)
    if area:
        files = files.filter(area_code__startswith=area)
    return files.order_by("-created_at", "-id")


@router.post("/observation/files", response={201: FileOut}, summary="Open (or extend) a person's observation file")
def open_file(request: HttpRequest, payload: OpenFileIn):
    user = acting_user(request)
    resident = access_resident(user, payload.resident_id)
    file = open_file_service(user, resident, kind=payload.kind, reason=payload.reason,
                             last_exposure_on=payload.last_exposure_on, place=payload.place, source=payload.source,
                             source_ref=payload.source_ref)
    return 201, file


@router.get("/observation/files/{file_id}", response=FileOut, summary="One observation file")
def get_file(request: HttpRequest, file_id: int = Id):
    return access_file(acting_user(request), file_id)


@router.post("/observation/files/{file_id}/reports", response={200: ReportOut, 201: ReportOut},
             summary="A worker's report after a call (sending the same client_id twice records it once)")
def post_report(request: HttpRequest, payload: ReportIn, file_id: int = Id):
    user = acting_user(request)
    file = access_file(user, file_id)
    result = record_worker_report(user, file, temperature=payload.temperature, symptoms=payload.symptoms,
                                  client_id=payload.client_id, reported_at=payload.reported_at,
                                  how=HowTakenInput(payload.temperature_method, payload.outdoors, payload.ambient_c))
    report = result.report
    report.created, report.escalated = result.created, result.escalated
    return (201 if result.created else 200), report


@router.get("/observation/alerts", response=list[AlertOut], summary="Alerts in scope, newest first")
@paginate(Pagination)
def list_alerts(request: HttpRequest, status: Literal["open", "handled"] | None = "open",
                kind: Literal["missed", "fever", "symptoms", "violation"] | None = None):
    user = _observer(request)
    alerts = Alert.objects.restrict(user)
    if status:
        alerts = alerts.filter(status=status)
    if kind:
        alerts = alerts.filter(kind=kind)
    return alerts.order_by("-created_at", "-id")


@router.post("/observation/alerts/{alert_id}/handle", response=AlertOut, summary="Mark an alert handled")
def handle_alert(request: HttpRequest, payload: HandleIn, alert_id: int = Id):
    user = acting_user(request)
    return handle_alert_service(user, access_alert(user, alert_id), payload.note)
