"""Writing the planned demo city to the database with bulk COPY (executemany on SQLite).

Street by street: the street's structure is planned in memory (a few ten thousand small objects at
most), ids are reserved with `next_ids` per table, then every table is streamed with `copy_rows`;
residents are generated on the fly while COPY consumes them. One transaction per district, so a
10-million-resident city commits in ~13 steps and never holds more than one street in memory.
The models' save() denormalisations (area_code, household.building/compound) are filled here.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.areas.models import Area, Building, Compound, Household, Unit
from fangkong.core.bulk import copy_rows, next_ids, reset_sequence
from fangkong.demo.generator import AreaNode, CityPlan, PeopleFactory, StreetPlan, people_rng, plan_city
from fangkong.people.models import Resident

AREA_FIELDS = ("id", "code", "name", "level", "parent_id")
COMPOUND_FIELDS = ("id", "community_id", "name", "address", "longitude", "latitude", "area_code")
BUILDING_FIELDS = ("id", "compound_id", "name", "floors", "grid_id", "area_code")
UNIT_FIELDS = ("id", "building_id", "name")
HOUSEHOLD_FIELDS = ("id", "unit_id", "room", "building_id", "compound_id", "area_code")
RESIDENT_FIELDS = ("id", "household_id", "name", "sex", "birth_date", "doc_type", "doc_number", "phone", "relation",
                   "registered_address", "special_groups", "note", "is_new_occupant", "area_code", "created_at",
                   "updated_at")
MODELS = (Area, Compound, Building, Unit, Household, Resident)


@dataclass
class Summary:
    areas: int = 0
    compounds: int = 0
    buildings: int = 0
    units: int = 0
    households: int = 0
    residents: int = 0
    seconds: float = 0.0
    by_level: dict[str, int] = field(default_factory=dict)


def _assign_ids(model, nodes: list) -> None:
    for node, pk in zip(nodes, next_ids(model, len(nodes)), strict=True):
        node.id = pk


def _write_areas(nodes: list[AreaNode], summary: Summary) -> None:
    _assign_ids(Area, nodes)
    copy_rows(Area, AREA_FIELDS, ((a.id, a.code, a.name, a.level, a.parent.id if a.parent else None) for a in nodes))
    summary.areas += len(nodes)
    for a in nodes:
        summary.by_level[a.level] = summary.by_level.get(a.level, 0) + 1


def _write_street(street: StreetPlan, factory: PeopleFactory, seed: int, now: dt.datetime, summary: Summary) -> None:
    _write_areas(street.areas, summary)

    _assign_ids(Compound, street.compounds)
    copy_rows(Compound, COMPOUND_FIELDS, (
        (c.id, c.community.id, c.name, c.address, c.longitude, c.latitude, c.community.code) for c in street.compounds))

    _assign_ids(Building, street.buildings)
    copy_rows(Building, BUILDING_FIELDS, (
        (b.id, b.compound.id, b.name, b.floors, b.grid.id if b.grid else None,
         b.grid.code if b.grid else b.compound.community.code) for b in street.buildings))

    _assign_ids(Unit, street.units)
    copy_rows(Unit, UNIT_FIELDS, ((u.id, u.building.id, u.name) for u in street.units))

    _assign_ids(Household, street.households)
    copy_rows(Household, HOUSEHOLD_FIELDS, (
        (h.id, h.unit.id, h.room, h.unit.building.id, h.unit.building.compound.id, _building_code(h.unit.building))
        for h in street.households))

    count = street.residents
    ids = iter(next_ids(Resident, count))
    factory.start_district(street.district.node)
    rng = people_rng(seed, street)

    def rows() -> Iterator[tuple]:
        for h in street.households:
            code = _building_code(h.unit.building)
            for p in factory.household(rng, h.size):
                yield (next(ids), h.id, p.name, p.sex, p.birth_date, "id_card", p.doc_number, p.phone, p.relation,
                       p.registered_address, p.special_groups, "", False, code, now, now)

    copy_rows(Resident, RESIDENT_FIELDS, rows())
    summary.compounds += len(street.compounds)
    summary.buildings += len(street.buildings)
    summary.units += len(street.units)
    summary.households += len(street.households)
    summary.residents += count


def _building_code(building) -> str:
    return building.grid.code if building.grid else building.compound.community.code


def build_city(residents: int, seed: int, city_name: str = "武汉市", city_code: str = "4201",
               reference: dt.date | None = None, progress: Callable[[str], None] | None = None) -> Summary:
    """Plan and write the whole city; returns the counts and the time taken."""
    started = time.monotonic()
    plan: CityPlan = plan_city(residents, seed, city_name, city_code)
    factory = PeopleFactory(seed, city_name, reference)
    summary = Summary()
    now = timezone.now()
    with transaction.atomic():
        _write_areas([plan.city] + [d.node for d in plan.districts], summary)
    for district, streets in groupby(plan.streets(), key=lambda street: street.district):
        with transaction.atomic():
            for street in streets:
                _write_street(street, factory, seed, now, summary)
        _report(progress, district.node, summary, started)
    for model in MODELS:
        reset_sequence(model)
    summary.seconds = time.monotonic() - started
    return summary


def _report(progress: Callable[[str], None] | None, district: AreaNode | None, summary: Summary, started: float) -> None:
    if progress and district is not None:
        progress(_("%(district)s done: %(residents)d residents so far, %(seconds).1f s")
                 % {"district": district.name, "residents": summary.residents, "seconds": time.monotonic() - started})
