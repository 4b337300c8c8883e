"""API: residents (search, detail, create, update, reveal), households with residents, roster import.

Lists and details show masked document numbers and phones; full values only through the
audit-logged reveal endpoint. Changes go through fangkong.people.services (scope, permission, audit).
"""


import datetime as dt
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Path, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from fangkong.areas.api import HouseholdOut, households_of
from fangkong.core import permissions
from fangkong.core.api_auth import AREA_CODE_PATTERN, MAX_ID, TEXT_PATTERN, Pagination, acting_user
from fangkong.core.errors import FieldErrors
from fangkong.core.identity import DocType
from fangkong.people import services
from fangkong.people.access import access_household, access_resident
from fangkong.people.importer import import_roster
from fangkong.people.models import Resident, SpecialGroup
from fangkong.people.validation import DOC_TYPE_WORDS

router = Router(tags=["people"])

ResidentId = Path(..., ge=1, le=MAX_ID)
ALL_GROUPS = sum(SpecialGroup.LABELS)
SHOWN_IMPORT_ERRORS = 1000
ROSTER_FILE = File(..., description="XLSX or CSV with the columns of the import template")


Text10 = Annotated[str, Field(max_length=10, pattern=TEXT_PATTERN)]
Text20 = Annotated[str, Field(max_length=20, pattern=TEXT_PATTERN)]
Text30 = Annotated[str, Field(max_length=30, pattern=TEXT_PATTERN)]
Text50 = Annotated[str, Field(max_length=50, pattern=TEXT_PATTERN)]
Text200 = Annotated[str, Field(max_length=200, pattern=TEXT_PATTERN)]


class ResidentOut(Schema):
    """A resident as lists show them: document number and phone masked, age instead of birth date."""

    id: int
    household_id: int
    name: str
    sex: str
    age: int
    birth_year: int
    doc_type: str
    masked_doc_number: str
    masked_phone: str
    relation: str
    special_groups: int
    special_group_labels: list[str]
    is_new_occupant: bool
    area_code: str

    @staticmethod
    def resolve_age(obj: Resident) -> int:
        today, birth = timezone.localdate(), obj.birth_date
        return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))

    @staticmethod
    def resolve_birth_year(obj: Resident) -> int:
        return obj.birth_date.year


class ResidentDetailOut(ResidentOut):
    address: str
    registered_address: str
    note: str

    @staticmethod
    def resolve_address(obj: Resident) -> str:
        return obj.household.address


class HouseholdDetailOut(HouseholdOut):
    residents: list[ResidentOut] = Field(alias="visible_residents")


class RevealOut(Schema):
    doc_number: str
    phone: str
    birth_date: dt.date


SpecialGroups = Annotated[int, Field(ge=0, le=ALL_GROUPS)] | Annotated[list[Text20], Field(max_length=10)]


class ResidentIn(Schema):
    """Sex and birth date may be left out for a resident ID card: they are read from the number."""

    name: Text50
    doc_number: Text30
    doc_type: Text30 | None = Field(None, description="id_card (default), passport, hk_macao_pass, taiwan_pass, foreign_pr")
    sex: Text10 | None = Field(None, description="M or F (男/女)")
    birth_date: Text20 | None = Field(None, description="1985-03-02, 1985/3/2, 19850302 or 1985年3月2日")
    phone: Text20 | None = None
    relation: Text20 | None = Field(None, description="head (default), spouse, child, parent, ...")
    special_groups: SpecialGroups | None = Field(None, description=f"bit mask 0–{ALL_GROUPS} or tag names")
    registered_address: Text200 | None = None
    note: Text200 | None = None
    is_new_occupant: bool = False


class ResidentPatch(Schema):
    """Only the given fields change; null clears an optional field."""

    name: Text50 | None = None
    doc_number: Text30 | None = None
    doc_type: Text30 | None = None
    sex: Text10 | None = None
    birth_date: Text20 | None = None
    phone: Text20 | None = None
    relation: Text20 | None = None
    special_groups: SpecialGroups | None = None
    registered_address: Text200 | None = None
    note: Text200 | None = None


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class ImportOut(Schema):
    batch_id: int | None
    created: int
    updated: int
    unchanged: int
    error_rows: int
    errors: list[RowErrorOut]
    errors_truncated: bool


def _raw(values: dict[str, Any]) -> dict[str, Any]:
    """API values → the loosely typed input of clean_resident."""
    raw = dict(values)
    if isinstance(raw.get("special_groups"), list):
        raw["special_groups"] = "、".join(raw["special_groups"])
    return raw


def _is_id_card(doc_type: Any) -> bool:
    return doc_type in (None, "") or DOC_TYPE_WORDS.get(str(doc_type).strip().lower()) == DocType.ID_CARD


def _current(resident: Resident) -> dict[str, Any]:
    return {
        "name": resident.name, "sex": resident.sex, "birth_date": resident.birth_date, "doc_type": resident.doc_type,
        "doc_number": resident.doc_number, "phone": resident.phone, "relation": resident.relation,
        "special_groups": resident.special_groups, "registered_address": resident.registered_address,
        "note": resident.note,
    }


@router.get("/residents", response=list[ResidentOut], summary="Residents in scope: search by name, phone or document")
@paginate(Pagination)
def resident_list(
    request: HttpRequest,
    q: str | None = Query(None, min_length=1, max_length=50, pattern=TEXT_PATTERN,
                          description="Name (contains), phone or document number (whole, or its last 4+ digits)"),
    area: str | None = Query(None, pattern=AREA_CODE_PATTERN, description="Only under this area code"),
):
    residents = Resident.objects.restrict(acting_user(request))
    if q is not None:
        residents = residents.search(q)
    if area:
        residents = residents.filter(area_code__startswith=area)
    return residents.order_by("household_id", "id")


@router.get("/residents/{id}", response=ResidentDetailOut, summary="One resident (masked)")
def resident_detail(request: HttpRequest, id: int = ResidentId):
    return access_resident(acting_user(request), id)


@router.post("/residents/{id}/reveal", response=RevealOut, summary="Full document number and phone (audit-logged)")
def resident_reveal(request: HttpRequest, id: int = ResidentId):
    user = acting_user(request)
    resident = access_resident(user, id, rule=permissions.can_reveal, related=())  # 403 for roles that may not
    revealed = services.reveal(user, resident)
    return {**revealed, "birth_date": resident.birth_date}


@router.patch("/residents/{id}", response=ResidentDetailOut, summary="Change a resident (audit-logged before/after)")
def resident_update(request: HttpRequest, payload: ResidentPatch, id: int = ResidentId):
    user = acting_user(request)
    resident = access_resident(user, id, rule=permissions.can_edit_residents, related=())
    given = _raw(payload.model_dump(exclude_unset=True))
    raw = {**_current(resident), **given}
    if "doc_number" in given and _is_id_card(raw.get("doc_type")):
        # A new ID number carries its own sex and birth date: read them from it unless given.
        for key in ("sex", "birth_date"):
            if key not in given:
                raw[key] = None
    services.update_resident(user, resident, raw)
    return access_resident(user, id)


@router.get("/households/{id}", response=HouseholdDetailOut, summary="A household with its residents (masked)")
def household_detail(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)):
    user = acting_user(request)
    household = access_household(user, id, queryset=households_of(user))
    household.visible_residents = list(Resident.objects.restrict(user).filter(household=household).order_by("id"))
    return household


@router.post("/households/{id}/residents", response={201: ResidentDetailOut}, summary="Add a resident to a household")
def resident_create(request: HttpRequest, payload: ResidentIn, id: int = Path(..., ge=1, le=MAX_ID)):
    user = acting_user(request)
    household = access_household(user, id, rule=permissions.can_edit_residents)
    values = payload.model_dump()
    is_new_occupant = values.pop("is_new_occupant")
    resident = services.create_resident(user, household, _raw(values), is_new_occupant=is_new_occupant)
    return 201, access_resident(user, resident.pk)


@router.post("/imports/residents", response=ImportOut, summary="Import a roster (XLSX or CSV, as the import template)")
def import_residents(request: HttpRequest, file: UploadedFile = ROSTER_FILE,
                     create_housing: bool = Query(False, description="Create missing compounds, buildings and units "
                                                  "(else each is a row error with the nearest existing name)")):
    user = acting_user(request)
    if not permissions.can_import(user):
        raise PermissionDenied
    if file.size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise FieldErrors({"file": _("The file is larger than %(limit)s.") % {"limit": filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)}})
    result = import_roster(file, filename=file.name or "", user=user, create_housing=create_housing)
    errors = result.errors[:SHOWN_IMPORT_ERRORS]
    return {
        "batch_id": result.batch_id, "created": result.created, "updated": result.updated,
        "unchanged": result.unchanged, "error_rows": result.error_rows,
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in errors],
        "errors_truncated": len(result.errors) > len(errors),
    }
