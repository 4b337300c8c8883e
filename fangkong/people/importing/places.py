"""Resolving the place columns of an import file (区/街道/社区 › 小区 › 楼栋 › 单元 › 房号) in bulk.

Areas are looked up by name along the path under the single city (and created with the next free
hierarchical code when allowed). Compounds, buildings, units and households are loaded for the
involved parents in a few queries and the missing ones inserted with explicit ids (COPY on
PostgreSQL): never one query per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from fangkong.areas.models import CODE_LENGTH, Area, Building, Compound, Household, Level, Unit
from fangkong.core.bulk import copy_rows, next_ids
from fangkong.people.importing.reading import ImportFileError

CHUNK = 900  # parameters per IN (...) list: below SQLite's historical 999 limit
AREA_LEVELS = (Level.DISTRICT, Level.STREET, Level.COMMUNITY)
AREA_FIELDS = ("district", "street", "community")


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True)
class AreaMiss:
    field: str  # "district" | "street" | "community"
    message: str


class AreaResolver:
    """Name paths (district, street, community) → (community id, community code)."""

    def __init__(self, create: bool) -> None:
        self.create = create
        city = Area.objects.filter(level=Level.CITY).order_by("code").first()
        if city is None:
            raise ImportFileError(_("No city has been set up yet: create the area tree first."))
        self.city = city
        # (parent code, name) → (id, code), and the highest child number used under each parent.
        self.children: dict[tuple[str, str], tuple[int, str]] = {}
        self.last_child: dict[str, int] = {}
        rows = Area.objects.filter(code__startswith=city.code, level__in=AREA_LEVELS).values_list("id", "code", "name", "level")
        for pk, code, name, level in rows:
            parent_code = code[:_parent_length(level)]
            self.children[(parent_code, name)] = (pk, code)
            self._note_child(parent_code, code)

    def _note_child(self, parent_code: str, code: str) -> None:
        suffix = code[len(parent_code):]
        if suffix.isdigit():
            self.last_child[parent_code] = max(self.last_child.get(parent_code, 0), int(suffix))

    def resolve(self, path: tuple[str, str, str]) -> tuple[int, str] | AreaMiss:
        parent: tuple[int, str] = (self.city.pk, self.city.code)
        for level, field, name in zip(AREA_LEVELS, AREA_FIELDS, path, strict=True):
            found = self.children.get((parent[1], name))
            if found is None:
                if not self.create:
                    return AreaMiss(field, _MISSING[field]() % {"name": name})
                found = self._create(level, parent, name)
                if found is None:
                    return AreaMiss(field, _("No free area code is left under %(name)s.") % {"name": self._name_of(parent)})
            parent = found
        return parent

    def _name_of(self, parent: tuple[int, str]) -> str:
        return Area.objects.filter(pk=parent[0]).values_list("name", flat=True).first() or parent[1]

    def _create(self, level: str, parent: tuple[int, str], name: str) -> tuple[int, str] | None:
        width = CODE_LENGTH[level] - len(parent[1])
        number = self.last_child.get(parent[1], 0) + 1
        if number >= 10 ** width:
            return None
        code = f"{parent[1]}{number:0{width}d}"
        area = Area.objects.create(code=code, name=name, level=level, parent_id=parent[0])
        self.children[(parent[1], name)] = (area.pk, code)
        self.last_child[parent[1]] = number
        return area.pk, code


def _parent_length(level: str) -> int:
    index = [Level.CITY, *AREA_LEVELS].index(level)
    return CODE_LENGTH[[Level.CITY, *AREA_LEVELS][index - 1]]


_MISSING = {
    "district": lambda: _("District %(name)s does not exist."),
    "street": lambda: _("Street %(name)s does not exist in this district."),
    "community": lambda: _("Community %(name)s does not exist in this street."),
}


def _load(queryset, parent_field: str, parent_ids: Iterable[int], fields: Sequence[str]) -> list[tuple]:
    ids = sorted(set(parent_ids))
    rows: list[tuple] = []
    for part in chunks(ids):
        rows.extend(queryset.filter(**{f"{parent_field}__in": part}).values_list(*fields))
    return rows


def resolve_buildings(places: list[tuple[int, str, str, str]]) -> list[tuple[int, int, str]]:
    """For each (community id, community code, compound, building): (building id, compound id,
    building area code), creating missing compounds and buildings. Call inside the import's transaction."""
    community_code = {cid: code for cid, code, *_rest in places}

    compounds = {(c, n): pk for pk, c, n in _load(Compound.objects, "community_id", community_code, ("id", "community_id", "name"))}
    new = sorted({(p[0], p[2]) for p in places} - compounds.keys())
    for pk, key in zip(next_ids(Compound, len(new)), new, strict=True):
        compounds[key] = pk
    copy_rows(Compound, ("id", "community_id", "name", "address", "area_code"),
              ((compounds[key], key[0], key[1], "", community_code[key[0]]) for key in new))
    compound_community = {pk: c for (c, _n), pk in compounds.items()}

    compound_of = [compounds[(p[0], p[2])] for p in places]
    buildings: dict[tuple[int, str], tuple[int, str]] = {
        (c, n): (pk, code)
        for pk, c, n, code in _load(Building.objects, "compound_id", set(compound_of), ("id", "compound_id", "name", "area_code"))
    }
    new = sorted({(compound_of[i], p[3]) for i, p in enumerate(places)} - buildings.keys())
    for pk, key in zip(next_ids(Building, len(new)), new, strict=True):
        buildings[key] = (pk, community_code[compound_community[key[0]]])  # no grid yet: the community's code
    copy_rows(Building, ("id", "compound_id", "name", "floors", "area_code"),
              ((buildings[key][0], key[0], key[1], 1, buildings[key][1]) for key in new))
    return [(*buildings[(compound_of[i], p[3])], compound_of[i]) for i, p in enumerate(places)]


def resolve_households(places: list[tuple[int, str, str, str, str, str]]) -> list[tuple[int, str]]:
    """For each (community id, community code, compound, building, unit, room): (household id,
    household area code), creating what is missing. Call inside the import's transaction."""
    located = resolve_buildings([p[:4] for p in places])
    building_info = {pk: (compound, code) for pk, code, compound in located}

    building_of = [b[0] for b in located]
    units = {(b, n): pk for pk, b, n in _load(Unit.objects, "building_id", set(building_of), ("id", "building_id", "name"))}
    new = sorted({(building_of[i], p[4]) for i, p in enumerate(places)} - units.keys())
    for pk, key in zip(next_ids(Unit, len(new)), new, strict=True):
        units[key] = pk
    copy_rows(Unit, ("id", "building_id", "name"), ((units[key], key[0], key[1]) for key in new))
    unit_building = {pk: b for (b, _n), pk in units.items()}

    unit_of = [units[(building_of[i], p[4])] for i, p in enumerate(places)]
    households = {
        (u, room): (pk, code)
        for pk, u, room, code in _load(Household.objects, "unit_id", set(unit_of), ("id", "unit_id", "room", "area_code"))
    }
    new = sorted({(unit_of[i], p[5]) for i, p in enumerate(places)} - households.keys())
    for pk, key in zip(next_ids(Household, len(new)), new, strict=True):
        households[key] = (pk, building_info[unit_building[key[0]]][1])
    copy_rows(
        Household, ("id", "unit_id", "room", "building_id", "compound_id", "area_code"),
        ((households[key][0], key[0], key[1], unit_building[key[0]], building_info[unit_building[key[0]]][0], households[key][1])
         for key in new),
    )
    return [households[(unit_of[i], p[5])] for i, p in enumerate(places)]
