"""API: the four categories (cases, status changes, tests, lab import) and the targets of an area.

Same scoping as the UI (out of scope answers 404), the same services (history, audit), masked
identifiers; refused transitions and bad values answer 422 naming the field.
"""

import datetime as dt
from typing import Annotated, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from ninja import Field, File, Path, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from fangkong.areas.models import CODE_LENGTH, Area, Level
from fangkong.cases import samples, services
from fangkong.cases.access import access_case, access_resident, access_test
from fangkong.cases.labimport import import_results
from fangkong.cases.models import Case, Status
from fangkong.cases.targets import area_counts
from fangkong.core import permissions
from fangkong.core.api_auth import AREA_CODE_PATTERN, MAX_ID, TEXT_PATTERN, Pagination, acting_user
from fangkong.core.errors import FieldErrors

router = Router(tags=["cases"])

Id = Path(..., ge=1, le=MAX_ID)
Text200 = Annotated[str, Field(max_length=200, pattern=TEXT_PATTERN)]
Text100 = Annotated[str, Field(max_length=100, pattern=TEXT_PATTERN)]
StatusName = Literal["fever", "tested", "suspected", "confirmed", "close_contact", "discharged", "recovery", "excluded",
                     "released", "deceased"]
SeverityName = Literal["mild", "moderate", "severe", "critical"]
SHOWN_IMPORT_ERRORS = 1000
LAB_FILE = File(..., description="XLSX or CSV: 样本编号, 证件号码, 检测结果, 报告时间")


class CaseOut(Schema):
    id: int
    resident_id: int
    name: str = Field(alias="resident.name")
    masked_doc_number: str = Field(alias="resident.masked_doc_number")
    status: str
    severity: str
    category: str
    placement: str
    status_since: dt.datetime
    waiting_since: dt.datetime | None
    post_discharge_until: dt.date | None
    tested: bool
    area_code: str


class ChangeOut(Schema):
    from_status: str
    to_status: str
    from_severity: str
    to_severity: str
    reason: str
    evidence: str
    changed_at: dt.datetime
    changed_by: str | None

    @staticmethod
    def resolve_changed_by(obj) -> str | None:
        return obj.changed_by.username if obj.changed_by_id else None


class TestOut(Schema):
    id: int
    case_id: int
    sample_number: str
    ordered_at: dt.datetime
    sampled_at: dt.datetime | None
    sample_place: str
    sample_taker: str
    result: str
    result_at: dt.datetime | None
    lab: str


class CaseDetailOut(CaseOut):
    opened_at: dt.datetime
    flagged_at: dt.datetime | None
    source: str
    history: list[ChangeOut]
    tests: list[TestOut]

    @staticmethod
    def resolve_history(obj) -> list:
        return list(obj.history.select_related("changed_by").order_by("changed_at", "id"))

    @staticmethod
    def resolve_tests(obj) -> list:
        return list(obj.tests.order_by("ordered_at", "id"))


class OpenCaseIn(Schema):
    status: Literal["fever", "suspected", "confirmed", "close_contact"]
    severity: SeverityName | None = None
    reason: Text200
    evidence: Text200 = ""
    source: Literal["screening", "manual", "tracing", "hospital"] = "manual"
    source_ref: Annotated[str, Field(max_length=64, pattern=TEXT_PATTERN)] = ""
    flagged_at: dt.datetime | None = Field(None, description="When screening flagged the person")


class TransitionIn(Schema):
    to_status: StatusName
    severity: SeverityName | None = None
    reason: Text200
    evidence: Text200 = ""
    cure_override: Text200 = Field("", description="to discharged: why without the negative tests the policy asks for")


class SeverityIn(Schema):
    severity: SeverityName
    reason: Text200


class OrderTestIn(Schema):
    sample_number: Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9 _-]*$")] = ""


class SampleIn(Schema):
    sampled_at: dt.datetime | None = None
    place: Text100
    taker: Annotated[str, Field(max_length=50, pattern=TEXT_PATTERN)] = ""


class ResultIn(Schema):
    result: Literal["positive", "negative", "inconclusive"]
    result_at: dt.datetime | None = None
    lab: Text100 = ""


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class LabImportOut(Schema):
    batch_id: int | None
    updated: int
    unchanged: int
    error_rows: int
    errors: list[RowErrorOut]
    errors_truncated: bool


class RateOut(Schema):
    key: str
    done: int
    total: int
    percent: float | None


class TargetsOut(Schema):
    area_code: str
    critical_waiting: int
    suspected_waiting: int
    awaiting_test: int
    rates: list[RateOut]
    by_status: dict[str, int]
    children: dict[str, dict[str, int]]


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    from django.utils import timezone

    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


@router.get("/cases", response=list[CaseOut], summary="People in the four categories in scope")
@paginate(Pagination)
def case_list(request: HttpRequest, status: StatusName | None = None,
              placement: Literal["none", "waiting", "booked", "placed", "to_leave"] | None = None,
              area: str | None = Query(None, pattern=AREA_CODE_PATTERN)):
    user = acting_user(request)
    if not permissions.can_manage_cases(user):
        raise PermissionDenied
    cases = Case.objects.restrict(user).select_related("resident")
    if status:
        cases = cases.filter(status=status)
    if placement:
        cases = cases.filter(placement=placement)
    if area:
        cases = cases.filter(area_code__startswith=area)
    return cases.order_by("-status_since", "-id")


@router.get("/cases/{id}", response=CaseDetailOut, summary="A person's status timeline with tests")
def case_detail(request: HttpRequest, id: int = Id):
    return access_case(acting_user(request), id)


@router.post("/residents/{id}/case", response={201: CaseDetailOut}, summary="Take a resident into a category")
def case_open(request: HttpRequest, payload: OpenCaseIn, id: int = Id):
    user = acting_user(request)
    resident = access_resident(user, id)
    case = services.open_case(user, resident, payload.status, payload.reason, severity=payload.severity or "",
                              evidence=payload.evidence, source=payload.source, source_ref=payload.source_ref,
                              flagged_at=_aware(payload.flagged_at))
    return 201, access_case(user, case.pk)


@router.post("/cases/{id}/transitions", response=CaseDetailOut, summary="Change the status (the transition table decides)")
def case_transition(request: HttpRequest, payload: TransitionIn, id: int = Id):
    user = acting_user(request)
    case = access_case(user, id)
    services.transition(user, case, payload.to_status, payload.reason, severity=payload.severity or "", evidence=payload.evidence,
                        cure_override=payload.cure_override)
    return access_case(user, id)


@router.post("/cases/{id}/severity", response=CaseDetailOut, summary="Change a confirmed case's severity")
def case_severity(request: HttpRequest, payload: SeverityIn, id: int = Id):
    user = acting_user(request)
    services.change_severity(user, access_case(user, id), payload.severity, payload.reason)
    return access_case(user, id)


@router.post("/cases/{id}/tests", response={201: TestOut}, summary="Order a nucleic acid test")
def test_order(request: HttpRequest, payload: OrderTestIn, id: int = Id):
    user = acting_user(request)
    return 201, samples.order_test(user, access_case(user, id), sample_number=payload.sample_number)


@router.post("/tests/{id}/sample", response=TestOut, summary="The sample was taken (where, by whom)")
def test_sample(request: HttpRequest, payload: SampleIn, id: int = Id):
    user = acting_user(request)
    return samples.record_sample(user, access_test(user, id), sampled_at=_aware(payload.sampled_at), place=payload.place,
                                  taker=payload.taker)


@router.post("/tests/{id}/result", response=TestOut, summary="Enter a result (never overwritten)")
def test_result(request: HttpRequest, payload: ResultIn, id: int = Id):
    user = acting_user(request)
    test = access_test(user, id)
    samples.record_result(user, test, payload.result, result_at=_aware(payload.result_at), lab=payload.lab)
    test.refresh_from_db()
    return test


@router.post("/imports/lab-results", response=LabImportOut, summary="Import a lab's results (XLSX or CSV)")
def lab_results_import(request: HttpRequest, file: UploadedFile = LAB_FILE):
    user = acting_user(request)
    if not permissions.can_manage_cases(user):
        raise PermissionDenied
    if file.size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise FieldErrors({"file": _("The file is larger than %(limit)s.") % {"limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)}})
    result = import_results(file, filename=file.name or "", user=user)
    errors = result.errors[:SHOWN_IMPORT_ERRORS]
    return {"batch_id": result.batch_id, "updated": result.updated, "unchanged": result.unchanged, "error_rows": result.error_rows,
            "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in errors],
            "errors_truncated": len(result.errors) > len(errors)}


@router.get("/targets/{code}", response=TargetsOut, summary="三清零 and the 100% targets of an area, per sub-area")
def targets(request: HttpRequest, code: str = Path(..., pattern=AREA_CODE_PATTERN)):
    user = acting_user(request)
    if not permissions.can_manage_cases(user):
        raise PermissionDenied
    area = Area.objects.get_visible_or_404(user, code=code)
    width = CODE_LENGTH[Level(area.child_level)] if area.child_level else None
    total, children = area_counts(user, area.code, width)
    return {
        "area_code": area.code, "critical_waiting": total.critical_waiting, "suspected_waiting": total.suspected_waiting,
        "awaiting_test": total.awaiting_test,
        "rates": [{"key": key, "done": done, "total": n, "percent": rate} for key, _label, done, n, rate in total.rates],
        "by_status": {s: total.by_status.get(s, 0) for s in Status.values},
        "children": {prefix: {"waiting_for_bed": c.waiting_for_bed, **{s: c.by_status.get(s, 0) for s in Status.values}}
                     for prefix, c in children.items()},
    }


