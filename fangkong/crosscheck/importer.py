"""Evidence import (电表读数、亮灯数、返程人员名单): a file in, evidence stored, an error report out.

The roster import's pipeline, for three other column sets:
1. read and check every row in Python (`evidence.SPECS[kind].clean`), collecting row errors;
   a row repeating an earlier row's key (household and day, building and night, document and
   arrival) is an error too;
2. in ONE transaction: resolve the area path by name (it must exist), check the user's scope,
   find the compound › building › unit like the roster import does (in canonical notation; a
   missing one is a row error with the nearest name unless new housing is allowed), create a
   missing household (that dwelling is exactly what the roster misses), then write through a staging table (COPY on
   PostgreSQL): new keys inserted, changed values updated, the same file twice creates nothing;
3. one ImportBatch with the error report, one IMPORT audit entry;
then the cross-check runs over the importer's area, so the to-dos are there when the page loads.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.notation import normalise_place
from fangkong.audit.models import Action
from fangkong.audit.services import build_entry
from fangkong.core import permissions
from fangkong.core.bulk import upsert_rows
from fangkong.core.errors import FieldErrors
from fangkong.core.tabular import ImportFileError, cell_text, iter_file_rows, read_source
from fangkong.crosscheck.evidence import AREA_KEYS, DWELLING_KEYS, PLACE_MAX, SPECS, Spec
from fangkong.crosscheck.models import EvidenceKind, LitCount, MeterReading, Returnee
from fangkong.crosscheck.services import run_crosscheck
from fangkong.people.importer import PLACE_KINDS, ImportResult, RowError, report_source
from fangkong.people.importing.places import AreaMiss, AreaResolver, resolve_buildings, resolve_households
from fangkong.people.importing.report import error_report_bytes
from fangkong.people.models import ImportBatch

__all__ = ["EvidenceResult", "ImportFileError", "import_evidence"]


@dataclass
class EvidenceResult(ImportResult):
    kind: str = ""
    todos: dict[str, int] = field(default_factory=dict)  # what the cross-check run after the import found

    def summary(self) -> dict[str, int]:
        return {**super().summary(), "todos_opened": sum(self.todos.get(kind, 0) for kind in _TODO_KINDS)}


_TODO_KINDS = ("powered_unregistered", "lit_windows", "returnee_unregistered", "returnee_unscreened")


@dataclass
class _Parsed:
    rows: list[int] = field(default_factory=list)
    values: list[tuple] = field(default_factory=list)
    places: list[tuple[str, ...]] = field(default_factory=list)  # empty tuple: no place given (returnees)


def import_evidence(kind: str, source: str | Path | IO[bytes], *, filename: str, user: User | None = None,
                    progress=None, crosscheck: bool = True, create_housing: bool = False) -> EvidenceResult:
    """Import one file of evidence. `user=None` is the command line (full rights); a web or API user
    needs `can_import` and may only import into communities in their scope. A compound, building or
    unit that does not exist is a row error with the nearest existing name, unless `create_housing`;
    a missing room of an existing unit is created (the dwelling the roster lacks)."""
    if kind not in SPECS:
        raise ValueError(f"unknown evidence kind {kind!r}")
    if user is not None and not permissions.can_import(user):
        raise PermissionDenied
    with translation.override("zh-hans"):
        result = _import(SPECS[kind], source, filename=filename, user=user, progress=progress,
                         create_housing=create_housing)
    if crosscheck:
        scope_code = (user.scope.area_code or "") if user is not None else ""
        result.todos = run_crosscheck(area_code=scope_code)
    return result


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _parse(spec: Spec, rows, index: dict[str, int], label: dict[str, str], errors: list[RowError], progress) -> _Parsed:
    today = timezone.localdate()
    value_columns = [(key, index[key]) for key in spec.value_keys if key in index]
    place_columns = [(index.get(key), PLACE_KINDS[key]) for key in spec.place_keys]
    width = max(index.values()) + 1
    required = _("This column is required.")
    parsed = _Parsed()
    memos: dict[str, dict[Any, str]] = {}  # place cells repeat a lot: one memo per notation
    seen: dict[tuple, int] = {}
    for number, cells in enumerate(rows, start=2):
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        if all(_blank(cell) for cell in cells):
            continue
        if progress and number % 100000 == 0:
            progress(_("%(n)d rows read") % {"n": number - 1})
        row_errors: list[RowError] = []
        try:
            values = spec.clean({key: cells[i] for key, i in value_columns}, today)
        except FieldErrors as exc:
            values = None
            row_errors.extend(RowError(number, label[key], message) for key, message in exc.errors.items())
        place = []
        for i, notation in place_columns:
            cell = cells[i] if i is not None else None
            memo = memos.setdefault(notation, {})
            text = memo.get(cell)
            if text is None:
                text = normalise_place(notation, cell_text(cell))
                if len(memo) < 200_000:
                    memo[cell] = text
            place.append(text)
        row_errors.extend(RowError(number, label[key], message) for key, message in _place_errors(spec, place, required))
        if not any(place):
            place = []
        if values is not None and not row_errors:
            key = _row_key(spec, values, place)
            first = seen.get(key)
            if first is not None:
                row_errors.append(RowError(number, label[_key_column(spec)],
                                           _("This row repeats row %(row)d.") % {"row": first}))
            else:
                seen[key] = number
        if row_errors:
            errors.extend(row_errors)
            continue
        parsed.rows.append(number)
        parsed.values.append(values)
        parsed.places.append(tuple(place))
    return parsed


def _place_errors(spec: Spec, place: list[str], required: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    given = dict(zip(spec.place_keys, place, strict=True))
    if not spec.place_required:
        if not any(place):
            return found  # a returnee without a located destination
        missing = [key for key in AREA_KEYS if not given[key]]
        found.extend((key, _("Give 区, 街道 and 社区 to locate the destination.")) for key in missing)
        if any(given[key] for key in DWELLING_KEYS) and not all(given[key] for key in DWELLING_KEYS):
            found.extend((key, _("Give 小区, 楼栋, 单元 and 房号 together, or none of them."))
                         for key in DWELLING_KEYS if not given[key])
    for key, value in given.items():
        if not value:
            if spec.place_required:
                found.append((key, required))
        elif len(value) > PLACE_MAX[key]:
            found.append((key, _("Longer than %(n)d characters.") % {"n": PLACE_MAX[key]}))
    return found


def _row_key(spec: Spec, values: tuple, place: list[str]) -> tuple:
    if spec.kind == EvidenceKind.RETURNEES:
        return values[:3]  # document type, number and arrival date
    return (*place, values[0])  # the dwelling or building, and the day


def _key_column(spec: Spec) -> str:
    return {EvidenceKind.METER: "date", EvidenceKind.LIT: "date", EvidenceKind.RETURNEES: "doc_number"}[spec.kind]


def _import(spec: Spec, source, *, filename: str, user: User | None, progress,
            create_housing: bool) -> EvidenceResult:
    data = read_source(source)
    rows = iter(iter_file_rows(io.BytesIO(data), filename))
    header = next(rows, None)
    if header is None:
        raise ImportFileError(_("The file is empty."))
    index, labels = spec.columns.map_header(list(header))
    label = {key: labels.get(key, spec.columns.label[key]) for key in spec.columns.label}
    result = EvidenceResult(kind=spec.kind)
    parsed = _parse(spec, rows, index, label, result.errors, progress)
    if progress:
        progress(_("%(valid)d valid rows, %(invalid)d rows with errors") % {"valid": len(parsed.rows), "invalid": result.error_rows})
    scope = user.scope if user is not None else None

    with transaction.atomic():
        now = timezone.now()
        resolver = AreaResolver(create=False)
        # Where a returnee without a located destination is filed: the importer's area, or the city.
        fallback = scope.area_code if scope is not None and scope.area_code else resolver.city.code
        outside = _("This community is outside your area of responsibility.")
        paths: dict[tuple[str, ...], tuple[int, str] | AreaMiss] = {}
        keep: list[int] = []
        communities: list[tuple[int, str] | None] = []
        for i, place in enumerate(parsed.places):
            if not place:
                keep.append(i)
                communities.append(None)
                continue
            found = paths.get(place[:3])
            if found is None:
                found = paths[place[:3]] = resolver.resolve(place[:3])
            if isinstance(found, AreaMiss):
                result.errors.append(RowError(parsed.rows[i], label[found.field], found.message))
            elif scope is not None and not scope.covers_area_code(found[1]):
                result.errors.append(RowError(parsed.rows[i], label["community"], outside))
            else:
                keep.append(i)
                communities.append(found)
        if progress:
            progress(_("areas resolved"))

        located = _locate(spec, parsed, keep, communities, create_housing)
        if progress:
            progress(_("places resolved"))
        records = []
        for i, found in zip(keep, located, strict=True):
            if isinstance(found, AreaMiss):
                result.errors.append(RowError(parsed.rows[i], label[found.field], found.message))
            else:
                records.append(_record(spec, parsed.values[i], found[0], found[1] or fallback))
        model, keys, values = _TARGET[spec.kind]
        written = upsert_rows(model, keys, values, records, touch=("updated_at",), created=("created_at",), now=now)
        result.created, result.updated, result.unchanged = written.created, written.updated, written.unchanged
        if progress:
            progress(_("evidence written"))

        if result.errors:
            result.report = error_report_bytes(result.errors, report_source(data, filename, index))
        batch = ImportBatch.objects.create(
            user=user if getattr(user, "pk", None) else None, filename=filename[:255], kind=spec.kind,
            created=result.created, updated=result.updated, unchanged=result.unchanged, error_rows=result.error_rows,
            area_code=(scope.area_code or "") if scope is not None else "",
            report=result.report,
        )
        result.batch_id = batch.pk
        result.errors.sort(key=lambda e: e.row)
        build_entry(user, Action.IMPORT, batch, area_code=batch.area_code, object_repr=filename[:200],
                    changes={"file": filename, "kind": spec.kind, **ImportResult.summary(result)}).save()
    return result


def _locate(spec: Spec, parsed: _Parsed, keep: list[int], communities: list,
            create_housing: bool) -> list[tuple[int | None, str] | AreaMiss]:
    """(household or building id, its area code) per kept row; (None, community code or '') when
    the row names no dwelling; the miss when its compound, building or unit does not exist."""
    out: list[tuple[int | None, str] | AreaMiss] = [(None, c[1] if c else "") for c in communities]
    wanted = [(n, i, c) for n, (i, c) in enumerate(zip(keep, communities, strict=True))
              if c is not None and all(parsed.places[i][3:len(spec.place_keys)])]
    if not wanted:
        return out
    if spec.kind == EvidenceKind.LIT:
        buildings = resolve_buildings([(c[0], c[1], *parsed.places[i][3:5]) for _n, i, c in wanted], create=create_housing)
        for (n, _i, _c), building in zip(wanted, buildings, strict=True):
            out[n] = building if isinstance(building, AreaMiss) else building[:2]
    else:
        households = resolve_households([(c[0], c[1], *parsed.places[i][3:7]) for _n, i, c in wanted], create=create_housing)
        for (n, _i, _c), household in zip(wanted, households, strict=True):
            out[n] = household
    return out


# model, key fields, value fields (in the order of the records below)
_TARGET = {
    EvidenceKind.METER: (MeterReading, ("household", "date"), ("kwh", "area_code")),
    EvidenceKind.LIT: (LitCount, ("building", "date"), ("lit", "area_code")),
    EvidenceKind.RETURNEES: (Returnee, ("doc_type", "doc_number", "arrival_date"),
                             ("name", "phone", "origin", "address", "household", "area_code")),
}


def _record(spec: Spec, values: tuple, place_id: int | None, area_code: str) -> tuple:
    if spec.kind == EvidenceKind.RETURNEES:
        doc_type, doc_number, arrival, name, phone, origin, address = values
        return (doc_type, doc_number, arrival, name, phone, origin, address, place_id, area_code)
    day, amount = values
    return (place_id, day, amount, area_code)


def parse_kind(text: str) -> str | None:
    """'meter', 'lit_windows' (or 'lit'), 'returnees': the evidence kind named on a command line or URL."""
    text = (text or "").strip().lower().replace("-", "_")
    aliases = {"lit": EvidenceKind.LIT, "returnee": EvidenceKind.RETURNEES, "electricity": EvidenceKind.METER}
    kind = aliases.get(text, text)
    return str(kind) if kind in SPECS else None
