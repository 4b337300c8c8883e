"""Facilities with their beds from an XLSX or CSV file (`fangkong import-facilities FILE`, and the same
import on a screen for a city or district commander).

Columns (Chinese headers, English aliases): 名称 name, 类型 kind (定点医院, 方舱医院, 集中隔离点, 康复驿站,
发热门诊, or the English values), 区 district (its GB/T 2260 code or its name), 地址 address, 经度 longitude,
纬度 latitude (WGS-84), then beds per kind: 重症监护床位 icu, 普通床位 ordinary, 单间 single_room; 电话 phone
is optional. A facility is matched on its name: a new name creates it, a known one is updated where the
file differs, and importing the same file again changes nothing. A bed capacity never drops below the
beds in use. Rows with errors are listed in the XLSX report (row, column, reason) in the style of the
roster import; the others are imported.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from fangkong.accounts.models import User
from fangkong.areas.models import Area, Level
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.core.errors import actor
from fangkong.core.tabular import ColumnSet, ImportFileError, cell_text, iter_file_rows
from fangkong.facilities.models import BedPool, Facility, FacilityImport, FacilityKind
from fangkong.people.importer import RowError
from fangkong.people.importing.report import error_report_bytes

BED_COLUMNS = {"icu": "重症监护床位", "ordinary": "普通床位", "single_room": "单间"}
COLUMNS: list[tuple[str, str]] = [("name", "名称"), ("kind", "类型"), ("district", "区"), ("address", "地址"),
                                  ("longitude", "经度"), ("latitude", "纬度"), *BED_COLUMNS.items(), ("phone", "电话")]
HEADER_LABEL = dict(COLUMNS)
REQUIRED = ("name", "kind", "district", "longitude", "latitude")
FACILITY_COLUMNS = ColumnSet(COLUMNS, REQUIRED, {
    "机构名称": "name", "场所名称": "name", "类别": "kind", "机构类型": "kind", "区县": "district", "县区": "district",
    "区划代码": "district", "区代码": "district", "district_code": "district", "lon": "longitude", "lng": "longitude",
    "lat": "latitude", "ICU床位": "icu", "icu床位": "icu", "ICU": "icu", "普通床": "ordinary", "单人间": "single_room",
    "联系电话": "phone",
})
KIND_WORDS = {
    "定点医院": FacilityKind.DESIGNATED_HOSPITAL, "方舱医院": FacilityKind.SHELTER_HOSPITAL, "方舱": FacilityKind.SHELTER_HOSPITAL,
    "集中隔离点": FacilityKind.ISOLATION_SITE, "隔离点": FacilityKind.ISOLATION_SITE, "康复驿站": FacilityKind.RECOVERY_STATION,
    "发热门诊": FacilityKind.FEVER_CLINIC, **{kind: kind for kind in FacilityKind.values},
}
MAX_BEDS = 100000


@dataclass
class FacilityImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    batch_id: int | None = None

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    def summary(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged, "errors": self.error_rows}


def template_bytes() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "收治隔离场所"
    sheet.append([zh for _key, zh in COLUMNS])
    sheet.append(["金银潭医院", "定点医院", "420102", "江岸区银潭路1号", 114.28, 30.65, 20, 120, 10, "027-85505555"])
    sheet.append(["江岸方舱医院", "方舱医院", "江岸区", "江岸区会展中心", 114.31, 30.62, 0, 800, 0, ""])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index in range(len(COLUMNS)):
        sheet.column_dimensions[chr(ord("A") + index)].width = 16
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _Districts:
    """A district by its code (6 digits, or a longer code of an area inside it) or its name."""

    def __init__(self) -> None:
        self.by_code = {a.code: a for a in Area.objects.filter(level=Level.DISTRICT)}
        self.by_name: dict[str, list[Area]] = {}
        for area in self.by_code.values():
            self.by_name.setdefault(area.name, []).append(area)

    def find(self, text: str) -> Area | str:
        """The district, or the reason it cannot be told."""
        if text.isdigit():
            area = self.by_code.get(text[:6])
            return area if area else _("No district has the code %(code)s.") % {"code": text}
        found = self.by_name.get(text, [])
        if len(found) == 1:
            return found[0]
        if found:
            return _("Several districts are called %(name)s: give the district's code.") % {"name": text}
        return _("No district is called %(name)s.") % {"name": text}


def _number(text: str, low: Decimal, high: Decimal) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value.quantize(Decimal("0.000001")) if low <= value <= high else None


def _parse_row(number: int, values: dict[str, Any], label: dict[str, str], districts: _Districts,
               user) -> tuple[dict[str, Any], dict[str, int], list[RowError]]:
    text = {key: cell_text(values.get(key)) for key in HEADER_LABEL}
    errors: list[RowError] = []

    def error(key: str, message: str) -> None:
        errors.append(RowError(number, label[key], message))

    for key in REQUIRED:
        if not text[key]:
            error(key, _("This column is required."))
    fields: dict[str, Any] = {"name": text["name"][:100], "address": text["address"][:200], "phone": text["phone"][:20]}
    if len(text["name"]) > 100:
        error("name", _("Longer than %(n)d characters.") % {"n": 100})
    if text["kind"]:
        kind = KIND_WORDS.get(text["kind"]) or KIND_WORDS.get(text["kind"].lower())
        if kind is None:
            error("kind", _("Write one of 定点医院, 方舱医院, 集中隔离点, 康复驿站, 发热门诊."))
        fields["kind"] = kind
    if text["district"]:
        area = districts.find(text["district"].replace(" ", ""))
        if isinstance(area, str):
            error("district", area)
        elif user is not None and not user.scope.covers_area_code(area.code):
            error("district", _("This district is not in your area of responsibility."))
        else:
            fields["area"] = area
    for key, limit in (("longitude", Decimal(180)), ("latitude", Decimal(90))):
        if text[key]:
            value = _number(text[key], -limit, limit)
            if value is None:
                error(key, _("A number between -%(n)s and %(n)s (WGS-84 degrees).") % {"n": limit})
            fields[key] = value
    beds: dict[str, int] = {}
    for kind in BED_COLUMNS:
        count = text[kind]
        if not count:
            continue  # an empty cell leaves the beds of that kind as they are
        if not count.isdigit() or int(count) > MAX_BEDS:
            error(kind, _("A whole number of beds, 0 to %(n)d.") % {"n": MAX_BEDS})
        else:
            beds[kind] = int(count)
    return fields, beds, errors


def _apply(user, number: int, fields: dict[str, Any], beds: dict[str, int], label: dict[str, str],
           result: FacilityImportResult) -> None:
    """Create or update one facility and its beds (inside the caller's savepoint)."""
    existing = Facility.objects.select_for_update().filter(name=fields["name"]).first()
    if existing is not None and user is not None and not Facility.objects.restrict(user).filter(pk=existing.pk).exists():
        result.errors.append(RowError(number, label["name"], _("A facility of this name exists outside your area of responsibility.")))
        return
    facility = existing or Facility()
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        before = getattr(facility, name, None) if existing else None
        if before != value:
            changes[name] = [str(before) if before is not None else None, str(value)]
            setattr(facility, name, value)
    if existing is None or changes:
        facility.save()
    pools = {p.kind: p for p in BedPool.objects.select_for_update().filter(facility=facility)}
    for kind, capacity in beds.items():
        pool = pools.get(kind)
        if pool is None:
            if capacity:
                BedPool.objects.create(facility=facility, kind=kind, capacity=capacity)
                changes[f"beds_{kind}"] = [0, capacity]
            continue
        in_use = pool.occupied + pool.booked + pool.closed
        if capacity < in_use:
            raise _RowRefused(RowError(number, label[kind], _(
                "%(n)d beds of this kind are in use or closed: the capacity cannot be lower.") % {"n": in_use}))
        if capacity != pool.capacity:
            changes[f"beds_{kind}"] = [pool.capacity, capacity]
            pool.capacity = capacity
            pool.save(update_fields=["capacity"])
    if existing is None:
        result.created += 1
    elif changes:
        result.updated += 1
    else:
        result.unchanged += 1
        return
    record(user, Action.CREATE if existing is None else Action.UPDATE, facility, object_type="facilities.facility",
           object_repr=facility.name, changes={**changes, "import": True})


class _RowRefused(Exception):
    def __init__(self, error: RowError):
        self.error = error


def import_facilities(source: str | Path | IO[bytes], *, filename: str, user: User | None = None) -> FacilityImportResult:
    """Import the file; `user=None` is the operator's command (full rights), otherwise the user's scope applies."""
    if user is not None and not permissions.can_register_facilities(user):
        raise PermissionDenied
    rows = iter(iter_file_rows(source, filename))
    header = next(rows, None)
    if header is None:
        raise ImportFileError(_("The file is empty."))
    index, labels = FACILITY_COLUMNS.map_header(list(header))
    label = {key: labels.get(key, HEADER_LABEL[key]) for key in HEADER_LABEL}
    width = max(index.values()) + 1
    districts = _Districts()
    result = FacilityImportResult()
    seen: dict[str, int] = {}
    with transaction.atomic():
        for number, cells in enumerate(rows, start=2):
            cells = list(cells) + [None] * (width - len(cells))
            if all(cell_text(c) == "" for c in cells):
                continue
            fields, beds, errors = _parse_row(number, {key: cells[i] for key, i in index.items()}, label, districts, user)
            name = fields["name"]
            if name and name in seen and not errors:
                errors.append(RowError(number, label["name"], _("This name already appears in row %(row)d.") % {"row": seen[name]}))
            if errors:
                result.errors.extend(errors)
                continue
            seen[name] = number
            try:
                with transaction.atomic():
                    _apply(user, number, fields, beds, label, result)
            except _RowRefused as refused:
                result.errors.append(refused.error)
        result.errors.sort(key=lambda e: e.row)
        scope = user.scope if user is not None else None
        batch = FacilityImport.objects.create(
            user=actor(user), filename=filename[:255], created=result.created,
            updated=result.updated, unchanged=result.unchanged, error_rows=result.error_rows,
            area_code=(scope.area_code or "") if scope else "", report=error_report_bytes(result.errors) if result.errors else b"")
        result.batch_id = batch.pk
        record(user, Action.IMPORT, batch, object_type="facilities.facilityimport", object_repr=filename[:200],
               area_code=batch.area_code, changes={"file": filename, **result.summary()})
    return result
