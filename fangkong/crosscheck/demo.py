"""A little evidence for the demo city, so that `make demo` shows cross-check to-dos in the demo grid
worker's grid: a week of meter readings for two buildings (with two rooms the roster misses, one
of them using power), lit-window counts (one building lit beyond its occupied households), and a
returnee list (one unknown, one resident not screened since arrival, one without a room).

It goes through the real import path (`import_evidence`, command-line rights), so re-running it on
the same day creates nothing twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

from django.utils import timezone

from fangkong.areas.models import Area, Building, Household, Level
from fangkong.core.identity import make_id_number
from fangkong.crosscheck.evidence import LIT_COLUMNS, METER_COLUMNS, RETURNEE_COLUMNS
from fangkong.crosscheck.importer import EvidenceResult, import_evidence
from fangkong.crosscheck.models import EvidenceKind
from fangkong.people.models import Resident

DAYS = 7


def _csv(columns, rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([zh for _key, zh in columns.columns])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _demo_grid() -> Area | None:
    """The grid of the demo grid worker: the first community's first grid with buildings."""
    community = Area.objects.filter(level=Level.COMMUNITY).order_by("code").first()
    if community is None:
        return None
    return (Area.objects.filter(level=Level.GRID, code__startswith=community.code, buildings__isnull=False)
            .order_by("code").distinct().first())


def _path(building: Building) -> list[str]:
    community = building.compound.community
    street = community.parent
    return [street.parent.name, street.name, community.name, building.compound.name, building.name]


def _missing_rooms(building: Building, count: int) -> list[tuple[str, str]]:
    """(unit, room) numbers that fit the building's numbering but have nobody on the roster (the
    same ones on every run: a room an earlier run created has nobody registered either)."""
    rooms = list(Household.objects.filter(building=building, residents__isnull=False).distinct()
                 .values_list("unit__name", "room"))
    taken = set(rooms)
    per_floor = max((int(room[-2:]) for _unit, room in rooms if room[-2:].isdigit()), default=2)
    found = []
    for unit in sorted({unit for unit, _room in rooms}):
        for floor in range(1, building.floors + 1):
            for number in range(1, per_floor + 1):
                room = f"{floor}{number:02d}"
                if (unit, room) not in taken and len(found) < count:
                    found.append((unit, room))
    return found


def seed_demo_evidence(seed: int = 2020) -> list[EvidenceResult]:
    grid = _demo_grid()
    if grid is None:
        return []
    buildings = list(Building.objects.filter(grid=grid).select_related("compound__community__parent__parent")
                     .order_by("id")[:3])
    rng = random.Random(seed)
    today = timezone.localdate()
    days = [today - dt.timedelta(days=n) for n in range(DAYS - 1, -1, -1)]

    meter: list[list] = []
    for building in buildings[:2]:
        path = _path(building)
        registered = Household.objects.filter(building=building, residents__isnull=False).distinct()
        for unit, room in registered.values_list("unit__name", "room").order_by("id"):
            for day in days:
                meter.append([*path, unit, room, day.isoformat(), f"{rng.uniform(2.0, 9.0):.1f}"])
    hidden = _missing_rooms(buildings[0], 2) if buildings else []
    for (unit, room), level in zip(hidden, (4.6, 0.3), strict=False):  # one lived in, one with a fridge on
        for day in days:
            meter.append([*_path(buildings[0]), unit, room, day.isoformat(), f"{level + rng.uniform(-0.2, 0.2):.1f}"])

    lit: list[list] = []
    for i, building in enumerate(buildings):
        occupied = Household.objects.filter(building=building, residents__isnull=False).distinct().count()
        for day in days[-3:]:
            extra = 3 if i == len(buildings) - 1 else -rng.randint(1, 3)
            lit.append([*_path(building), day.isoformat(), max(0, occupied + extra)])

    returnees: list[list] = []
    if buildings:
        path = _path(buildings[0])
        resident = Resident.objects.filter(household__building=buildings[0]).order_by("id").first()
        stranger = make_id_number(grid.code[:6], dt.date(1991, 7, 12), 37)
        first = Household.objects.filter(building=buildings[0]).select_related("unit").order_by("id").first()
        if first is not None:
            returnees.append(["陈思远", "居民身份证", stranger, "13712340001", "湖北省孝感市", days[-2].isoformat(),
                              f"{path[3]}{path[4]}{first.unit.name}{first.room}", *path, first.unit.name, first.room])
        if resident is not None:
            returnees.append([resident.name, "居民身份证", resident.doc_number, resident.phone, "湖北省黄冈市",
                              days[-3].isoformat(), "", "", "", "", "", "", "", ""])
        returnees.append(["周晓岚", "护照", "E51234567", "", "广东省深圳市", days[-1].isoformat(), f"{path[3]}附近",
                          *path[:3], "", "", "", ""])

    results = []
    for kind, columns, rows in ((EvidenceKind.METER, METER_COLUMNS, meter), (EvidenceKind.LIT, LIT_COLUMNS, lit),
                                (EvidenceKind.RETURNEES, RETURNEE_COLUMNS, returnees)):
        if rows:
            results.append(import_evidence(kind, io.BytesIO(_csv(columns, rows)), filename=f"demo-{kind}.csv"))
    return results
