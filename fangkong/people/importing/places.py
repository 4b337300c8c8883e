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

from fangkong.areas.housing import default_grids
from fangkong.areas.models import CODE_LENGTH, Area, Building, Compound, Household, Level, Unit
from fangkong.areas.notation import building_name, nearest, normalise_place, room_name, unit_name
from fangkong.core.bulk import copy_rows, next_ids
from fangkong.core.tabular import ImportFileError
from fangkong.people.models import Resident
from fangkong.people.moves import residents_moved

CHUNK = 900  # parameters per IN (...) list: below SQLite's historical 999 limit
AREA_LEVELS = (Level.DISTRICT, Level.STREET, Level.COMMUNITY)
AREA_FIELDS = ("district", "street", "community")


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True)
class AreaMiss:
    """A place named in a row that does not exist (and may not be created): the column and why."""

    field: str  # "district" | "street" | "community" | "compound" | "building" | "unit" | "grid"
    message: str


class AreaResolver:
    """Name paths (district, street, community) → (community id, community code)."""

    def __init__(self, create: bool) -> None:
        self.create = create
        city = Area.objects.filter(level=Level.CITY).order_by("code").first()
        if city is None:
            raise ImportFileError(_("No city has been set up yet: import the area tree first (fangkong import-areas, or 导入 › 导入区划)."))
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
                    return AreaMiss(field, self._missing(field, parent[1], name))
                found = self._create(level, parent, name)
                if found is None:
                    return AreaMiss(field, _("No free area code is left under %(name)s.") % {"name": self._name_of(parent)})
            parent = found
        return parent

    def _missing(self, field: str, parent_code: str, name: str) -> str:
        text = _MISSING[field]() % {"name": name}
        names = [n for (code, n) in self.children if code == parent_code]
        suggestion = nearest(name, names)
        if suggestion is None:
            return text
        return _("%(text)s %(more)s") % {"text": text, "more": _("Did you mean %(name)s?") % {"name": suggestion}}

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


def _missing_message(field: str, name: str, candidates: list[str]) -> str:
    """'Building 99栋 does not exist in this compound. Did you mean 9栋? …' in the import's language."""
    text = _MISSING_HOUSING[field]() % {"name": name}
    suggestion = nearest(name, candidates)
    if suggestion is not None:
        text = _("%(text)s %(more)s") % {"text": text, "more": _("Did you mean %(name)s?") % {"name": suggestion}}
    return _("%(text)s %(more)s") % {"text": text, "more": _("To add it, allow new compounds, buildings and units for the import.")}


_MISSING_HOUSING = {
    "compound": lambda: _("Compound %(name)s does not exist in this community."),
    "building": lambda: _("Building %(name)s does not exist in this compound."),
    "unit": lambda: _("Unit %(name)s does not exist in this building."),
}


class _Misses:
    """One message per missing (parent, name), with its suggestion computed once."""

    def __init__(self, field: str, names_under: dict[int, list[str]]) -> None:
        self.field, self.names_under = field, names_under
        self.memo: dict[tuple[int, str], AreaMiss] = {}

    def __call__(self, parent: int, name: str) -> AreaMiss:
        miss = self.memo.get((parent, name))
        if miss is None:
            miss = self.memo[(parent, name)] = AreaMiss(self.field, _missing_message(self.field, name, self.names_under.get(parent, [])))
        return miss


class GridResolver:
    """A 网格 cell (a grid's name or its code) → (grid id, grid code) among the grids of the row's
    community, or the miss with the nearest grid name."""

    def __init__(self) -> None:
        self.grids: dict[int, dict[str, tuple[int, str]]] = {}  # community id → name or code → grid
        self.names: dict[int, list[str]] = {}

    def resolve(self, community: tuple[int, str], text: str) -> tuple[int, str] | AreaMiss:
        if community[0] not in self.grids:
            found: dict[str, tuple[int, str]] = {}
            for pk, code, name in Area.objects.filter(parent_id=community[0], level=Level.GRID).values_list("id", "code", "name"):
                found[normalise_place("area", name)] = found[code] = found[code[len(community[1]):]] = (pk, code)
                self.names.setdefault(community[0], []).append(name)
            self.grids[community[0]] = found
        grid = self.grids[community[0]].get(text)
        if grid is not None:
            return grid
        text_miss = _("Grid %(name)s does not exist in this community.") % {"name": text}
        suggestion = nearest(text, self.names.get(community[0], []))
        if suggestion is not None:
            text_miss = _("%(text)s %(more)s") % {"text": text_miss, "more": _("Did you mean %(name)s?") % {"name": suggestion}}
        return AreaMiss("grid", text_miss)


def move_buildings(moves: dict[int, tuple[int, str]]) -> list[int]:
    """Put buildings into grids ({building id: (grid id, grid code)}): the buildings', households'
    and residents' scoping codes follow set-based, and the rows other apps keep under a resident's
    code follow through the residents-moved hooks. Returns the ids of the residents who moved."""
    by_grid: dict[tuple[int, str], list[int]] = {}
    for building_id, grid in moves.items():
        by_grid.setdefault(grid, []).append(building_id)
    moved: list[int] = []
    for (grid_id, code), ids in by_grid.items():
        for part in chunks(sorted(ids)):
            Building.objects.filter(pk__in=part).update(grid_id=grid_id, area_code=code)
            Household.objects.filter(building_id__in=part).update(area_code=code)
            residents = Resident.objects.filter(household__building_id__in=part).exclude(area_code=code)
            found = list(residents.values_list("id", flat=True))
            Resident.objects.filter(pk__in=found).update(area_code=code)
            moved.extend(found)
    residents_moved(moved)
    return moved


def resolve_buildings(places: list[tuple[int, str, str, str]], *, create: bool = False,
                      grids: Sequence[tuple[int, str] | None] | None = None,
                      moved: list[tuple[int, str, str]] | None = None) -> list[tuple[int, str, int] | AreaMiss]:
    """For each (community id, community code, compound, building), names in canonical notation:
    (building id, building area code, compound id), or the miss of a compound or building that does
    not exist. Stored names are compared in canonical notation too. With `create`, missing compounds
    and buildings are created, each new building in the row's grid (`grids`, aligned with `places`)
    or its community's default grid. An existing building given another grid moves to it; each move
    is appended to `moved` as (building id, old code, new code). Call inside the import's transaction."""
    community_code = {cid: code for cid, code, *_rest in places}

    compounds: dict[tuple[int, str], int] = {}
    compound_names: dict[int, list[str]] = {}
    for pk, c, n in _load(Compound.objects, "community_id", community_code, ("id", "community_id", "name")):
        compounds.setdefault((c, normalise_place("compound", n)), pk)
        compound_names.setdefault(c, []).append(n)
    new = sorted({(p[0], p[2]) for p in places} - compounds.keys()) if create else []
    for pk, key in zip(next_ids(Compound, len(new)), new, strict=True):
        compounds[key] = pk
    copy_rows(Compound, ("id", "community_id", "name", "address", "area_code"),
              ((compounds[key], key[0], key[1], "", community_code[key[0]]) for key in new))
    compound_community = {pk: c for (c, _n), pk in compounds.items()}

    compound_of = [compounds.get((p[0], p[2])) for p in places]
    buildings: dict[tuple[int, str], tuple[int, str]] = {}
    building_names: dict[int, list[str]] = {}
    for pk, c, n, code in _load(Building.objects, "compound_id", {c for c in compound_of if c is not None},
                                ("id", "compound_id", "name", "area_code")):
        buildings.setdefault((c, building_name(n)), (pk, code))
        building_names.setdefault(c, []).append(n)
    # The grid each building is given in the file (its first row that names one wins).
    given: dict[tuple[int, str], tuple[int, str]] = {}
    for compound, place, grid in zip(compound_of, places, grids or [None] * len(places), strict=True):
        if compound is not None and grid is not None:
            given.setdefault((compound, place[3]), grid)
    new = sorted({(c, p[3]) for c, p in zip(compound_of, places, strict=True) if c is not None} - buildings.keys()) if create else []
    defaults = default_grids({compound_community[c] for c, _n in new if (c, _n) not in given}) if new else {}
    chosen = {key: given.get(key) or defaults[compound_community[key[0]]] for key in new}
    for pk, key in zip(next_ids(Building, len(new)), new, strict=True):
        buildings[key] = (pk, chosen[key][1])
    copy_rows(Building, ("id", "compound_id", "name", "floors", "grid_id", "area_code"),
              ((buildings[key][0], key[0], key[1], 1, chosen[key][0], buildings[key][1]) for key in new))
    moves = {buildings[key][0]: grid for key, grid in given.items()
             if key in buildings and key not in chosen and buildings[key][1] != grid[1]}
    if moves:
        for key, grid in given.items():
            if key in buildings and buildings[key][0] in moves:
                if moved is not None:
                    moved.append((buildings[key][0], buildings[key][1], grid[1]))
                buildings[key] = (buildings[key][0], grid[1])
        move_buildings(moves)

    missing_compound = _Misses("compound", compound_names)
    missing_building = _Misses("building", building_names)
    out: list[tuple[int, str, int] | AreaMiss] = []
    for compound, place in zip(compound_of, places, strict=True):
        if compound is None:
            out.append(missing_compound(place[0], place[2]))
        elif (found := buildings.get((compound, place[3]))) is None:
            out.append(missing_building(compound, place[3]))
        else:
            out.append((*found, compound))
    return out


def resolve_households(places: list[tuple[int, str, str, str, str, str]], *, create: bool = False,
                       grids: Sequence[tuple[int, str] | None] | None = None,
                       moved: list[tuple[int, str, str]] | None = None) -> list[tuple[int, str] | AreaMiss]:
    """For each (community id, community code, compound, building, unit, room), names in canonical
    notation: (household id, household area code), or the miss of a compound, building or unit.
    Households (rooms) of an existing unit are always created when missing: the roster and the
    evidence lists are how households become known. With `create`, missing compounds, buildings and
    units are created too. Call inside the import's transaction."""
    located = resolve_buildings([p[:4] for p in places], create=create, grids=grids, moved=moved)
    building_info = {b[0]: (b[2], b[1]) for b in located if not isinstance(b, AreaMiss)}  # id → (compound, area code)

    building_of = [None if isinstance(b, AreaMiss) else b[0] for b in located]
    units: dict[tuple[int, str], int] = {}
    unit_names: dict[int, list[str]] = {}
    for pk, b, n in _load(Unit.objects, "building_id", set(building_info), ("id", "building_id", "name")):
        units.setdefault((b, unit_name(n)), pk)
        unit_names.setdefault(b, []).append(n)
    new = sorted({(b, p[4]) for b, p in zip(building_of, places, strict=True) if b is not None} - units.keys()) if create else []
    for pk, key in zip(next_ids(Unit, len(new)), new, strict=True):
        units[key] = pk
    copy_rows(Unit, ("id", "building_id", "name"), ((units[key], key[0], key[1]) for key in new))
    unit_building = {pk: b for (b, _n), pk in units.items()}

    unit_of = [units.get((b, p[4])) if b is not None else None for b, p in zip(building_of, places, strict=True)]
    households: dict[tuple[int, str], tuple[int, str]] = {}
    for pk, u, room, code in _load(Household.objects, "unit_id", {u for u in unit_of if u is not None},
                                   ("id", "unit_id", "room", "area_code")):
        households.setdefault((u, room_name(room)), (pk, code))
    new = sorted({(u, p[5]) for u, p in zip(unit_of, places, strict=True) if u is not None} - households.keys())
    for pk, key in zip(next_ids(Household, len(new)), new, strict=True):
        households[key] = (pk, building_info[unit_building[key[0]]][1])
    copy_rows(
        Household, ("id", "unit_id", "room", "building_id", "compound_id", "area_code"),
        ((households[key][0], key[0], key[1], unit_building[key[0]], building_info[unit_building[key[0]]][0], households[key][1])
         for key in new),
    )
    missing_unit = _Misses("unit", unit_names)
    out: list[tuple[int, str] | AreaMiss] = []
    for building, unit, located_row, place in zip(building_of, unit_of, located, places, strict=True):
        if building is None:
            out.append(located_row)
        elif unit is None:
            out.append(missing_unit(building, place[4]))
        else:
            out.append(households[(unit, place[5])])
    return out
