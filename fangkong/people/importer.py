"""Roster import (居民名单导入): XLSX or CSV in, residents created or updated, an error report out.

The pipeline, built for a city at a time, all in ONE transaction (a crash leaves nothing behind):
1. a worker thread reads and validates the rows (`clean_resident`) in chunks of 50,000, collecting
   row errors, while
2. this thread writes the previous chunk: resolve areas by name (optionally creating them), check
   the user's scope, look up existing residents by document in bulk, create missing compounds ›
   buildings › units › households in bulk, COPY new residents in and apply changes with one
   set-based UPDATE. Most of a chunk's write is PostgreSQL's work (indexes, foreign keys), during
   which this thread waits without the GIL, so the validation of the next chunk runs meanwhile;
3. audit: one entry per updated resident (before/after) and one IMPORT entry for the run.
Rows with errors are left out and reported.
"""

from __future__ import annotations

import datetime as dt
import io
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.notation import normalise_place, place_text
from fangkong.audit.models import Action, AuditLog
from fangkong.audit.services import build_entry
from fangkong.core import permissions
from fangkong.core.bulk import is_postgres
from fangkong.core.errors import FieldErrors, actor
from fangkong.core.tabular import (
    HEADER_LABEL,
    ImportFileError,
    iter_file_rows,
    map_header,
    read_source,
)
from fangkong.core.tabular import cell_text as _cell_text
from fangkong.people.importing.places import AreaMiss, AreaResolver, GridResolver, resolve_households
from fangkong.people.importing.report import (
    ReportSource,
    error_report_bytes,
    roster_template,
    write_error_report,
)
from fangkong.people.importing.residents import VALUE_FIELDS, insert_new, load_existing, update_changed
from fangkong.people.models import ImportBatch
from fangkong.people.moves import residents_moved
from fangkong.people.validation import clean_resident

__all__ = ["ImportFileError", "ImportResult", "RowError", "import_roster", "roster_template", "write_error_report"]

PERSON_KEYS = ("name", "sex", "doc_type", "doc_number", "birth_date", "phone", "relation", "special_groups",
               "registered_address", "note")
PLACE_KEYS = ("district", "street", "community", "compound", "building", "unit", "room")
PLACE_MAX = {"district": 100, "street": 100, "community": 100, "compound": 100, "building": 50, "unit": 50, "room": 20}
# Fields that only change when their column is in the file (a missing column keeps what is stored).
OPTIONAL_COLUMNS = {"phone": "phone", "relation": "relation", "registered_address": "registered_address",
                    "special_groups": "special_groups", "note": "note"}
AUDIT_BATCH = 2000
CHUNK_ROWS = 50_000  # rows validated and written at a time: bounded memory, parsing overlaps writing


@dataclass
class RowError:
    row: int  # as in the file: the header is row 1
    column: str  # the column header as written in the file
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    batch_id: int | None = None
    report: bytes = b""  # the error report (XLSX), empty when every row was imported

    @property
    def error_rows(self) -> int:
        return len({error.row for error in self.errors})

    def summary(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged, "errors": self.error_rows}


@dataclass
class _Parsed:
    """Valid rows, column-wise (memory matters at a million rows)."""

    rows: list[int] = field(default_factory=list)
    people: list[tuple] = field(default_factory=list)  # (doc_type, doc_number, *VALUE_FIELDS[:8])
    places: list[tuple[str, ...]] = field(default_factory=list)  # PLACE_KEYS
    grids: list[str] = field(default_factory=list)  # the 网格 cell, "" when none


# The notation of each place column (areas and compounds: spaces and full-width forms only).
PLACE_KINDS = {"district": "area", "street": "area", "community": "area", "compound": "compound",
               "building": "building", "unit": "unit", "room": "room"}


def _remember(memo: dict[Any, str], value: Any, kind: str) -> str:
    text = normalise_place(kind, _cell_text(value))
    if len(memo) < 200_000:
        memo[value] = text
    return text


def _parse_chunks(rows, index: dict[str, int], labels: dict[str, str], progress) -> Iterator[tuple[_Parsed, list[RowError]]]:
    """Valid rows and row errors, CHUNK_ROWS rows at a time. A document repeated anywhere in the
    file is an error on its later rows."""
    today = dt.date.today()
    person_columns = [(key, index[key]) for key in PERSON_KEYS if key in index]
    place_columns = [index[key] for key in PLACE_KEYS]
    grid_column = index.get("grid")
    required_labels = {key: labels.get(key, HEADER_LABEL[key]) for key in PLACE_KEYS}
    label = {key: labels.get(key, HEADER_LABEL[key]) for key in HEADER_LABEL}
    width = max(index.values()) + 1
    messages: dict[str, str] = {}  # gettext once, not per row
    # Place cells repeat (names of areas, compounds, buildings, rooms): one memo per column.
    memos: list[tuple[dict[Any, str], str]] = [({}, PLACE_KINDS[key]) for key in PLACE_KEYS]
    seen: dict[tuple[str, str], int] = {}
    parsed, errors, read = _Parsed(), [], 0
    for number, cells in enumerate(rows, start=2):
        if read == CHUNK_ROWS:
            yield parsed, errors
            parsed, errors, read = _Parsed(), [], 0
        read += 1
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells):
            continue
        if progress and number % 100000 == 0:
            progress(_("%(n)d rows read") % {"n": number - 1})
        row_errors: list[RowError] = []
        try:
            person = clean_resident({key: cells[i] for key, i in person_columns}, today=today)
        except FieldErrors as exc:
            person = None
            row_errors.extend(RowError(number, label[key], message) for key, message in exc.errors.items())
        place = tuple(memo[v] if (v := cells[i]) in memo else _remember(memo, v, kind)
                      for i, (memo, kind) in zip(place_columns, memos, strict=True))
        for key, value in zip(PLACE_KEYS, place, strict=True):
            if not value:
                if "required" not in messages:
                    messages["required"] = _("This column is required.")
                row_errors.append(RowError(number, required_labels[key], messages["required"]))
            elif len(value) > PLACE_MAX[key]:
                row_errors.append(RowError(number, required_labels[key], _("Longer than %(n)d characters.") % {"n": PLACE_MAX[key]}))
        if person is not None and not row_errors:
            key = (person["doc_type"], person["doc_number"])
            first = seen.get(key)
            if first is not None:
                row_errors.append(RowError(number, label["doc_number"],
                                           _("This document number already appears in row %(row)d.") % {"row": first}))
            else:
                seen[key] = number
        if row_errors:
            errors.extend(row_errors)
            continue
        parsed.rows.append(number)
        parsed.people.append((person["doc_type"], person["doc_number"], person["name"], person["sex"], person["birth_date"],
                              person["phone"], person["relation"], person["registered_address"], person["special_groups"],
                              person["note"]))
        parsed.places.append(place)
        parsed.grids.append(place_text(cells[grid_column]) if grid_column is not None else "")
    yield parsed, errors


def _in_background(items: Iterator, depth: int = 2) -> Iterator:
    """Run a generator on a worker thread, up to `depth` items ahead of the consumer, in the
    consumer's language. Its exceptions reach the consumer; if the consumer stops early, it stops."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()
    language = translation.get_language()

    def put(item) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            with translation.override(language):
                for item in items:
                    put(item)
                    if stop.is_set():
                        return
            put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    worker = threading.Thread(target=work, name="roster-parse", daemon=True)
    worker.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def import_roster(source: str | Path | IO[bytes], *, filename: str, user: User | None = None, create_areas: bool = False,
                  create_housing: bool = False, progress=None, rows_done=None) -> ImportResult:
    """Import a roster file. `user=None` is the command line (full rights); a web or API user needs
    `can_import`, may only touch communities and residents in their scope and never creates areas.
    A compound, building or unit the file names that does not exist is a row error (with the nearest
    existing name) unless `create_housing` (implied by `create_areas`); a new room of an existing
    unit is always created. `progress`, if given, receives short status lines; `rows_done`, the number
    of data rows handled so far (a job's progress bar)."""
    if user is not None:
        if not permissions.can_import(user):
            raise PermissionDenied
        create_areas = False
    with translation.override("zh-hans"):
        return _import(source, filename=filename, user=user, create_areas=create_areas,
                       create_housing=create_housing or create_areas, progress=progress, rows_done=rows_done)


def _import(source, *, filename: str, user, create_areas: bool, create_housing: bool, progress, rows_done) -> ImportResult:
    data = read_source(source)
    rows = iter(iter_file_rows(io.BytesIO(data), filename))
    header = next(rows, None)
    if header is None:
        raise ImportFileError(_("The file is empty."))
    index, labels = map_header(list(header))
    writer = _ChunkWriter(user=user, create_areas=create_areas, create_housing=create_housing, labels=labels,
                          present={key for key in OPTIONAL_COLUMNS if key in index})
    result = writer.result
    with transaction.atomic():
        if is_postgres():
            # Foreign keys checked as each chunk is written (overlapping the next chunk's validation)
            # instead of a million deferred checks queued up for the commit.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for parsed, row_errors in _in_background(_parse_chunks(rows, index, labels, progress)):
            result.errors.extend(row_errors)
            writer.write(parsed)
            valid = result.created + result.updated + result.unchanged
            if progress:
                progress(_("%(valid)d rows written, %(invalid)d rows with errors")
                         % {"valid": valid, "invalid": result.error_rows})
            if rows_done:
                rows_done(valid + result.error_rows)
        result.errors.sort(key=lambda e: e.row)
        scope = writer.scope
        if result.errors:
            result.report = error_report_bytes(result.errors, report_source(data, filename, index))
        batch = ImportBatch.objects.create(
            user=actor(user), filename=filename[:255], created=result.created,
            updated=result.updated, unchanged=result.unchanged, error_rows=result.error_rows,
            area_code=(scope.area_code or "") if scope is not None else "",
            report=result.report,
        )
        result.batch_id = batch.pk
        build_entry(user, Action.IMPORT, batch, area_code=batch.area_code, object_repr=filename[:200],
                    changes={"file": filename, **result.summary()}).save()
    return result


def report_source(data: bytes, filename: str, index: dict[str, int]) -> ReportSource:
    """The file as the error report copies its rows: document and phone columns marked for masking."""
    return ReportSource(data, filename, documents=tuple(index[k] for k in ("doc_number",) if k in index),
                        phones=tuple(index[k] for k in ("phone",) if k in index))


class _ChunkWriter:
    """Writes validated chunks of a roster inside the import's transaction, adding to one result."""

    def __init__(self, *, user, create_areas: bool, create_housing: bool, labels: dict[str, str], present: set[str]) -> None:
        self.user = user
        self.create_housing = create_housing
        self.scope = user.scope if user is not None else None
        self.present = present
        self.label = {key: labels.get(key, HEADER_LABEL[key]) for key in HEADER_LABEL}
        self.resolver = AreaResolver(create=create_areas)
        self.paths: dict[tuple[str, str, str], tuple[int, str] | AreaMiss] = {}
        self.grid_resolver = GridResolver()
        self.grid_of_building: dict[tuple[int, str, str], tuple[tuple[int, str], int]] = {}  # → (grid, first row)
        self.now = timezone.now()
        self.result = ImportResult()

    def write(self, parsed: _Parsed) -> None:
        result, label, scope = self.result, self.label, self.scope
        # 1. Areas, and the user's scope over them.
        keep: list[int] = []
        communities: list[tuple[int, str]] = []
        outside = _("This community is outside your area of responsibility.")
        for i, place in enumerate(parsed.places):
            path = place[:3]
            found = self.paths.get(path)
            if found is None:
                found = self.paths[path] = self.resolver.resolve(path)
            if isinstance(found, AreaMiss):
                result.errors.append(RowError(parsed.rows[i], label[found.field], found.message))
            elif scope is not None and not scope.covers_area_code(found[1]):
                result.errors.append(RowError(parsed.rows[i], label["community"], outside))
            else:
                keep.append(i)
                communities.append(found)

        # 2. Existing residents; a user may not take over someone registered outside their scope.
        existing = load_existing([parsed.people[i][:2] for i in keep])
        if scope is not None:
            elsewhere = _("A resident with this document number is registered outside your area of responsibility.")
            kept, kept_communities = [], []
            for i, community in zip(keep, communities, strict=True):
                old = existing.get(parsed.people[i][:2])
                if old is not None and not scope.covers_area_code(old[-1]):
                    result.errors.append(RowError(parsed.rows[i], label["doc_number"], elsewhere))
                else:
                    kept.append(i)
                    kept_communities.append(community)
            keep, communities = kept, kept_communities

        # 3. The 网格 column: a grid of the row's community, the same for every row of a building.
        grids: list[tuple[int, str] | None] = []
        kept, kept_communities = [], []
        for i, community in zip(keep, communities, strict=True):
            grid = self._grid(parsed, i, community)
            if isinstance(grid, RowError):
                result.errors.append(grid)
                continue
            kept.append(i)
            kept_communities.append(community)
            grids.append(grid)
        keep, communities = kept, kept_communities

        # 4. Compounds › buildings › units › households.
        moved_buildings: list[tuple[int, str, str]] = []
        located = resolve_households([(c[0], c[1], *parsed.places[i][3:]) for i, c in zip(keep, communities, strict=True)],
                                     create=self.create_housing, grids=grids, moved=moved_buildings)
        households: list[tuple[int, str]] = []
        kept = []
        for i, found in zip(keep, located, strict=True):
            if isinstance(found, AreaMiss):
                result.errors.append(RowError(parsed.rows[i], label[found.field], found.message))
            else:
                kept.append(i)
                households.append(found)
        keep = kept

        # 5. Residents: create, update (audited before/after) or leave alone.
        new_rows: list[tuple] = []
        changed_rows: list[tuple] = []
        moved: list[int] = []  # residents now under another area code
        audit: list[AuditLog] = [
            build_entry(self.user, Action.UPDATE, changes={"grid": [old, new]}, area_code=new, object_type="areas.building",
                        object_id=str(building_id))
            for building_id, old, new in moved_buildings]
        for i, (household_id, area_code) in zip(keep, households, strict=True):
            person = parsed.people[i]
            values = (*person[2:], household_id, False)
            old = existing.get(person[:2])
            if old is None:
                new_rows.append((*person[:2], *values, area_code))
                continue
            values = _keep_absent_columns(values, old, self.present)
            before = old[1:1 + len(VALUE_FIELDS)]
            if values == before and old[-1] == area_code:
                result.unchanged += 1
                continue
            changed_rows.append((old[0], *values, area_code))
            if old[-1] != area_code:
                moved.append(old[0])
            changes = {name: [_json(a), _json(b)] for name, a, b in zip(VALUE_FIELDS, before, values, strict=True) if a != b}
            audit.append(build_entry(self.user, Action.UPDATE, changes=changes, area_code=area_code,
                                     object_type="people.resident", object_id=str(old[0]), object_repr=values[0]))
        result.created += insert_new(new_rows, self.now)
        update_changed(changed_rows, self.now)
        result.updated += len(changed_rows)
        residents_moved(moved)  # their cases and other area-keyed rows follow them
        AuditLog.objects.bulk_create(audit, batch_size=AUDIT_BATCH)


    def _grid(self, parsed: _Parsed, i: int, community: tuple[int, str]) -> tuple[int, str] | None | RowError:
        """The grid the row gives its building (None if its 网格 cell is empty), or the row's error."""
        text = parsed.grids[i]
        if not text:
            return None
        grid = self.grid_resolver.resolve(community, text)
        if isinstance(grid, AreaMiss):
            return RowError(parsed.rows[i], self.label["grid"], grid.message)
        key = (community[0], *parsed.places[i][3:5])
        first = self.grid_of_building.setdefault(key, (grid, parsed.rows[i]))
        if first[0] != grid:
            return RowError(parsed.rows[i], self.label["grid"],
                            _("Row %(row)d puts this building in another grid.") % {"row": first[1]})
        return grid


def _keep_absent_columns(values: tuple, old: tuple, present: set[str]) -> tuple:
    """A column missing from the file keeps the stored value instead of blanking it."""
    if len(present) == len(OPTIONAL_COLUMNS):
        return values
    out = list(values)
    for position, name in enumerate(VALUE_FIELDS):
        if name in OPTIONAL_COLUMNS and name not in present:
            out[position] = old[1 + position]
    return tuple(out)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
