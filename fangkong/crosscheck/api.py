"""API: the cross-check's to-dos (list, one, close) and the evidence import. Same scoping as the
pages (out of scope is 404); returnees' document numbers and phones masked; bad input is a 422 with
the field's location, a to-do closed already a 409. To-dos are reached through crosscheck.access,
like the pages."""

import datetime as dt
from typing import Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from ninja import Field, File, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.pagination import paginate

from fangkong.core import permissions
from fangkong.core.api_auth import AREA_CODE_PATTERN, MAX_ID, TEXT_PATTERN, Pagination, acting_user
from fangkong.core.errors import FieldErrors
from fangkong.crosscheck import services
from fangkong.crosscheck.access import access_area, access_todo
from fangkong.crosscheck.importer import import_evidence
from fangkong.crosscheck.models import EvidenceKind, Kind, Outcome, Status, ToDo
from fangkong.people.api import SHOWN_IMPORT_ERRORS, RowErrorOut

router = Router(tags=["crosscheck"])

KindName = Literal[tuple(Kind.values)]  # type: ignore[valid-type]
StatusName = Literal[(*Status.values, "all")]  # type: ignore[valid-type]
OutcomeName = Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
EvidenceName = Literal[tuple(EvidenceKind.values)]  # type: ignore[valid-type]
KIND_QUERY = Query(None)
STATUS_QUERY = Query(Status.OPEN.value)
EVIDENCE_PATH = Path(...)
EVIDENCE_FILE = File(..., description="XLSX or CSV with the columns of the kind's template")


class ReturneeOut(Schema):
    id: int
    name: str
    doc_type: str
    masked_doc_number: str
    masked_phone: str
    origin: str
    arrival_date: dt.date
    address: str
    household_id: int | None


class ToDoOut(Schema):
    id: int
    kind: str
    status: str
    outcome: str
    area_code: str
    subject: str = Field(description="An address, a building or a returnee's name")
    detail: str = Field(description="The evidence in one line, in the request's language")
    household_id: int | None
    building_id: int | None
    resident_id: int | None
    returnee: ReturneeOut | None
    value: float | None = Field(description="Power: average kWh a day; lit windows: the most lit on a night")
    reference: int | None = Field(description="Power: days with a reading averaged over; lit windows: occupied households")
    evidence_date: dt.date | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    closed_by: str | None
    note: str

    @staticmethod
    def resolve_value(obj: ToDo) -> float | None:
        return float(obj.value) if obj.value is not None else None

    @staticmethod
    def resolve_closed_by(obj: ToDo) -> str | None:
        return obj.closed_by.username if obj.closed_by_id else None


class CloseIn(Schema):
    outcome: OutcomeName = Field(..., description="registered, vacant (power only), false_alarm (needs a note), screened (returnees)")
    note: str = Field("", max_length=200, pattern=TEXT_PATTERN)


class EvidenceImportOut(Schema):
    batch_id: int | None
    kind: str
    created: int
    updated: int
    unchanged: int
    error_rows: int
    errors: list[RowErrorOut]
    errors_truncated: bool
    todos: dict[str, int] = Field(description="What the cross-check run after the import opened and closed")


@router.get("/crosscheck/todos", response=list[ToDoOut], summary="To-dos of an area (default: the caller's)")
@paginate(Pagination)
def todo_list(request: HttpRequest,
              area: str | None = Query(None, pattern=AREA_CODE_PATTERN),
              kind: KindName | None = KIND_QUERY,
              status: StatusName = STATUS_QUERY,
              q: str | None = Query(None, min_length=1, max_length=50, pattern=TEXT_PATTERN,
                                    description="Compound, room, returnee's name, or the last 4+ digits of a document or phone")):
    user = acting_user(request)
    code = access_area(user, area or "").code
    return services.todos_in(user, code, kind=kind or "", status=status, q=q or "")


@router.get("/crosscheck/todos/{id}", response=ToDoOut, summary="One to-do")
def todo_detail(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)):
    return access_todo(acting_user(request), id)


@router.post("/crosscheck/todos/{id}/close", response=ToDoOut,
             summary="Close a to-do with an outcome (audit-logged; 409 if closed already)")
def todo_close(request: HttpRequest, payload: CloseIn, id: int = Path(..., ge=1, le=MAX_ID)):
    user = acting_user(request)
    todo = access_todo(user, id)
    try:
        return services.close_todo(user, todo, payload.outcome, payload.note)
    except services.ToDoClosed as exc:
        raise HttpError(409, str(exc)) from exc


@router.post("/crosscheck/imports/{kind}", response=EvidenceImportOut,
             summary="Import evidence (XLSX or CSV, as the templates); the cross-check runs afterwards")
def evidence_import(request: HttpRequest, kind: EvidenceName = EVIDENCE_PATH, file: UploadedFile = EVIDENCE_FILE):
    user = acting_user(request)
    if not permissions.can_import(user):
        raise PermissionDenied
    if file.size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise FieldErrors({"file": _("The file is larger than %(limit)s.") % {"limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)}})
    result = import_evidence(kind, file, filename=file.name or "", user=user)
    errors = result.errors[:SHOWN_IMPORT_ERRORS]
    return {
        "batch_id": result.batch_id, "kind": kind, "created": result.created, "updated": result.updated,
        "unchanged": result.unchanged, "error_rows": result.error_rows,
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in errors],
        "errors_truncated": len(result.errors) > len(errors), "todos": result.todos,
    }
