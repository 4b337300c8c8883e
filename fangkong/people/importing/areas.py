"""Area tree import (统计用区划代码): the official code list of a city in, its districts, streets and
communities created or renamed, a per-row report out.

The official layout (国家统计局 统计用区划和城乡划分代码) has a 12-digit code and a name per row:
2 digits province, 2 city, 2 district, 3 street, 3 community; a higher level's code is padded with
zeros (420100000000 the city, 420102000000 a district, 420102001000 a street, 420102001001 a
community). Fangkong's codes are the unpadded prefixes (4201 › 420102 › 420102001 › 420102001001),
so a code's level is read from its trailing zeros, and codes already unpadded (4, 6, 9 or 12 digits)
are accepted too. Province rows and the statistical placeholder 市辖区 are skipped: they are no area
anyone works in. The city is created from the codes' prefix (its row gives its name).

Idempotent: a code already set up with the same name is unchanged, with another name it is renamed
(updated). Every new community gets its default grid, so its buildings always have one. The area
import lives here, beside the other imports, because it shares their reading, report and batches.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.housing import create_default_grid
from fangkong.areas.models import CODE_LENGTH, Area, Level
from fangkong.areas.notation import place_text
from fangkong.audit.models import Action, AuditLog
from fangkong.audit.services import build_entry
from fangkong.core import permissions
from fangkong.core.errors import actor
from fangkong.core.tabular import (
    ColumnSet,
    ImportFileError,
    cell_text,
    iter_file_rows,
    read_source,
)
from fangkong.people.importer import ImportResult, RowError
from fangkong.people.importing.report import ReportSource, error_report_bytes
from fangkong.people.models import ImportBatch

AREAS = "areas"  # ImportBatch.kind of an area import
AREA_COLUMNS = ColumnSet(
    [("code", "统计用区划代码"), ("name", "名称")], required=("code", "name"),
    aliases={"区划代码": "code", "代码": "code", "编码": "code", "行政区划代码": "code", "区划名称": "name",
             "单位名称": "name", "名字": "name"},
)
PLACEHOLDER_NAMES = {"市辖区"}  # a statistical grouping of a city's districts, not an area
LEVELS = (Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY)
PARENT_LENGTH = {Level.DISTRICT: 4, Level.STREET: 6, Level.COMMUNITY: 9}
NAME_MAX = 100


def can_import_areas(user: User | None) -> bool:
    """The area tree is a city's: the command line (no user), an administrator, or a city's commander."""
    if user is None:
        return True
    if user.is_superuser:
        return True
    return permissions.is_commander(user) and len(user.scope.area_code or "") == CODE_LENGTH[Level.CITY]


def parse_code(value: Any) -> tuple[str, str] | None:
    """(Fangkong code, level) of an official code, or None if it is no area code; ('', 'province')
    for a province row."""
    text = cell_text(value).replace(" ", "")
    if not text.isdigit():
        return None
    if len(text) == 12:
        if text[2:] == "0" * 10:
            return "", "province"
        if text[4:] == "0" * 8:
            return text[:4], Level.CITY
        if text[6:] == "0" * 6:
            return text[:6], Level.DISTRICT
        if text[9:] == "000":
            return text[:9], Level.STREET
        return text, Level.COMMUNITY
    by_length = {CODE_LENGTH[level]: level for level in LEVELS}
    if len(text) == 2:
        return "", "province"
    level = by_length.get(len(text))
    if level is None:
        return None
    # Each segment below the province is non-zero ("00" is no city, "000" no street).
    widths = [2, *[CODE_LENGTH[lv] - CODE_LENGTH[prev] for prev, lv in zip(LEVELS, LEVELS[1:], strict=False)]]
    position = 2
    for width in widths[: LEVELS.index(level) + 1]:
        if int(text[position:position + width] or "0") == 0:
            return None
        position += width
    return text, level


@dataclass
class _Row:
    number: int
    code: str
    level: str
    name: str


def import_areas(source: str | Path | IO[bytes], *, filename: str, user: User | None = None) -> ImportResult:
    """Import an area code list. `user=None` is the command line (full rights); a web user must be a
    city's commander (`can_import_areas`) and only touches areas of their city."""
    if not can_import_areas(user):
        raise PermissionDenied
    with translation.override("zh-hans"):
        return _import(source, filename=filename, user=user)


def _import(source, *, filename: str, user) -> ImportResult:
    data = read_source(source)
    rows = iter(iter_file_rows(io.BytesIO(data), filename))
    header = next(rows, None)
    if header is None:
        raise ImportFileError(_("The file is empty."))
    index, labels = AREA_COLUMNS.map_header(list(header))
    label = {key: labels.get(key, AREA_COLUMNS.label[key]) for key in AREA_COLUMNS.label}
    result = ImportResult()
    parsed = _parse(rows, index, label, result)
    scope = user.scope if user is not None else None
    with transaction.atomic():
        audit = _write(parsed, label, scope, user, result)
        AuditLog.objects.bulk_create(audit, batch_size=2000)
        result.errors.sort(key=lambda e: e.row)
        if result.errors:
            result.report = error_report_bytes(result.errors, ReportSource(data, filename))
        batch = ImportBatch.objects.create(
            user=actor(user), filename=filename[:255], kind=AREAS,
            created=result.created, updated=result.updated, unchanged=result.unchanged, error_rows=result.error_rows,
            area_code=(scope.area_code or "") if scope is not None else "",
            report=result.report,
        )
        result.batch_id = batch.pk
        build_entry(user, Action.IMPORT, batch, area_code=batch.area_code, object_repr=filename[:200],
                    changes={"file": filename, "kind": AREAS, **result.summary()}).save()
    return result


def _parse(rows, index: dict[str, int], label: dict[str, str], result: ImportResult) -> list[_Row]:
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    width = max(index.values()) + 1
    for number, cells in enumerate(rows, start=2):
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        raw_code, name = cells[index["code"]], place_text(cells[index["name"]])
        if _blank(raw_code) and not name:
            continue
        errors: list[RowError] = []
        found = None
        if _blank(raw_code):
            errors.append(RowError(number, label["code"], _("This column is required.")))
        else:
            found = parse_code(raw_code)
            if found is None:
                errors.append(RowError(number, label["code"], _(
                    "Not an area code: give the 12-digit 统计用区划代码 (e.g. 420102001001) or its 4, 6 or 9 digit prefix.")))
        if not name:
            errors.append(RowError(number, label["name"], _("This column is required.")))
        elif len(name) > NAME_MAX:
            errors.append(RowError(number, label["name"], _("Longer than %(n)d characters.") % {"n": NAME_MAX}))
        if errors:
            result.errors.extend(errors)
            continue
        code, level = found
        if level == "province" or (level == Level.DISTRICT and name in PLACEHOLDER_NAMES):
            continue
        first = seen.get(code)
        if first is not None:
            result.errors.append(RowError(number, label["code"], _("This code already appears in row %(row)d.") % {"row": first}))
            continue
        seen[code] = number
        parsed.append(_Row(number, code, level, name))
    return parsed


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _write(parsed: list[_Row], label: dict[str, str], scope, user, result: ImportResult) -> list[AuditLog]:
    """Create or rename the areas, parents first. Returns the audit entries to write."""
    existing: dict[str, Area] = {area.code: area for area in Area.objects.filter(level__in=LEVELS)}
    sibling: dict[tuple[int | None, str], str] = {(area.parent_id, area.name): area.code for area in existing.values()}
    failed: set[str] = set()
    audit: list[AuditLog] = []
    outside = _("This area is outside your area of responsibility.")
    for row in sorted(parsed, key=lambda r: (len(r.code), r.number)):
        parent = None
        if row.level != Level.CITY:
            parent_code = row.code[:PARENT_LENGTH[row.level]]
            parent = existing.get(parent_code)
            if parent is None:
                message = (_("Its parent area (code %(code)s) has an error in this file.") if parent_code in failed
                           else _("Its parent area (code %(code)s) is neither in this file nor set up yet."))
                result.errors.append(RowError(row.number, label["code"], message % {"code": parent_code}))
                failed.add(row.code)
                continue
        if scope is not None and not scope.everything and not row.code.startswith(scope.area_code or "\0"):
            result.errors.append(RowError(row.number, label["code"], outside))
            failed.add(row.code)
            continue
        parent_id = parent.pk if parent is not None else None
        holder = sibling.get((parent_id, row.name))
        if holder is not None and holder != row.code:
            result.errors.append(RowError(row.number, label["name"], _(
                "The name %(name)s is already used by area %(code)s under the same parent.") % {"name": row.name, "code": holder}))
            failed.add(row.code)
            continue
        area = existing.get(row.code)
        if area is None:
            area = Area.objects.create(code=row.code, name=row.name, level=row.level, parent=parent)
            existing[row.code] = area
            sibling[(parent_id, row.name)] = row.code
            if row.level == Level.COMMUNITY:
                grid = create_default_grid(area)
                audit.append(build_entry(user, Action.CREATE, grid, area_code=grid.code))
            audit.append(build_entry(user, Action.CREATE, area, area_code=area.code))
            result.created += 1
        elif area.name == row.name:
            result.unchanged += 1
        else:
            before = area.name
            Area.objects.filter(pk=area.pk).update(name=row.name)
            sibling.pop((parent_id, before), None)
            sibling[(parent_id, row.name)] = row.code
            area.name = row.name
            audit.append(build_entry(user, Action.UPDATE, area, area_code=area.code, changes={"name": [before, row.name]}))
            result.updated += 1
    return audit
