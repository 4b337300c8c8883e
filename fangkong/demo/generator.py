"""The demo city generator: a deterministic, realistic Wuhan-like city planned street by street.

The plan (`plan_city`) is pure Python and DB-free: areas › compounds › buildings › units ›
households with their sizes, produced one street at a time so memory stays bounded at any city
size. People are made per household by `PeopleFactory` (family relations with consistent ages,
valid ID numbers unique in the city, phones, special groups). The database writer
(`fangkong.demo.city`) and `roster_rows` (the roster-file rows for the import screen and its
benchmark) share both, so the same seed gives the same people either way.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from fangkong.core.identity import make_id_number
from fangkong.demo import names
from fangkong.people.models import Relation, SpecialGroup
from fangkong.people.validation import RELATION_LABEL, SPECIAL_GROUP_LABEL

# Typical sizes (residents) that set how many children each level gets: Wuhan had ~10M people in
# ~200 streets, ~3,000 communities and ~7,000 compounds.
STREET_SIZE = 50_000
COMMUNITY_SIZE = 3_300
COMPOUND_SIZE = 1_500
COMPOUND_MIN, COMPOUND_MAX = 500, 8_000
HOUSEHOLDS_PER_GRID = 300
GRIDS_MIN, GRIDS_MAX = 3, 8

# China 2020 census: household sizes 1..6 (mean ≈ 2.6).
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
HOUSEHOLD_SIZE_CUM = (25, 55, 76, 89, 96, 100)

# Building styles: (weight, floors range, units range, rooms per floor per unit, occupancy range).
BUILDING_STYLES = (
    (35, (6, 7), (2, 4), 2, (0.85, 0.97)),  # 1980s–90s walk-ups
    (35, (11, 18), (2, 3), 3, (0.80, 0.95)),  # mid-rise
    (30, (24, 33), (1, 2), 4, (0.75, 0.95)),  # towers
)

ROSTER_HEADERS = ("姓名", "性别", "证件类型", "证件号码", "出生日期", "联系电话", "区", "街道", "社区", "小区", "楼栋",
                  "单元", "房号", "与户主关系", "特殊人群", "户籍地址", "备注")


def default_reference_date() -> dt.date:
    """Ages are counted back from 1 January of the current year (stable for a whole year)."""
    return dt.date(dt.date.today().year, 1, 1)


# ---------------------------------------------------------------- the plan (structure)

@dataclass(slots=True, eq=False)
class AreaNode:
    code: str
    name: str
    level: str
    parent: AreaNode | None
    id: int | None = None


@dataclass(slots=True, eq=False)
class CompoundNode:
    name: str
    community: AreaNode
    address: str
    longitude: str
    latitude: str
    id: int | None = None


@dataclass(slots=True, eq=False)
class BuildingNode:
    name: str
    compound: CompoundNode
    floors: int
    grid: AreaNode | None = None
    id: int | None = None


@dataclass(slots=True, eq=False)
class UnitNode:
    name: str
    building: BuildingNode
    id: int | None = None


@dataclass(slots=True, eq=False)
class HouseholdNode:
    room: str
    unit: UnitNode
    size: int
    id: int | None = None


@dataclass(slots=True, eq=False)
class District:
    node: AreaNode
    latitude: float
    longitude: float
    street_names: tuple[str, ...]
    residents: int


@dataclass(slots=True, eq=False)
class StreetPlan:
    """One street with everything beneath it; areas are listed parents first."""

    district: District
    street: AreaNode
    index: int  # the street's position in the whole city (for per-street random streams)
    areas: list[AreaNode] = field(default_factory=list)
    compounds: list[CompoundNode] = field(default_factory=list)
    buildings: list[BuildingNode] = field(default_factory=list)
    units: list[UnitNode] = field(default_factory=list)
    households: list[HouseholdNode] = field(default_factory=list)

    @property
    def residents(self) -> int:
        return sum(h.size for h in self.households)


@dataclass(slots=True, eq=False)
class CityPlan:
    city: AreaNode
    districts: list[District]
    residents: int
    seed: int

    def streets(self) -> Iterator[StreetPlan]:
        """Street plans in order, district by district, each built only when asked for."""
        index = 0
        for number, district in enumerate(self.districts):
            rng = random.Random(f"{self.seed}:district:{number}")
            budgets = split(district.residents, max(1, round(district.residents / STREET_SIZE)), rng)
            street_names = _unique_names(rng, len(budgets), district.street_names, names.STREET_SUFFIXES)
            street_centres = [_jitter(rng, district.latitude, district.longitude, 0.02) for _ in budgets]
            for i, (budget, name, centre) in enumerate(zip(budgets, street_names, street_centres, strict=True)):
                code = f"{district.node.code}{i + 1:03d}"
                street = AreaNode(code, name, "street", district.node)
                yield _plan_street(district, street, index, budget, centre, random.Random(f"{self.seed}:street:{code}"))
                index += 1


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`parts` positive integers of uneven size (±40%) summing to `total`."""
    parts = max(1, min(parts, total))
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    diff, i = total - sum(sizes), 0
    while diff:
        j = i % parts
        if diff > 0:
            sizes[j] += 1
            diff -= 1
        elif sizes[j] > 1:
            sizes[j] -= 1
            diff += 1
        i += 1
    return sizes


def _unique_names(rng: random.Random, count: int, real: tuple[str, ...], suffixes: tuple[str, ...]) -> list[str]:
    chosen = list(real[:count])
    used = set(chosen)
    while len(chosen) < count:
        name = rng.choice(names.PLACE_WORDS) + rng.choice(suffixes)
        if name in used:
            name = f"{rng.choice(names.PLACE_WORDS)}{rng.choice(names.PLACE_WORDS)}{rng.choice(suffixes)}"
        if name not in used:
            used.add(name)
            chosen.append(name)
    return chosen


def _jitter(rng: random.Random, lat: float, lon: float, sigma: float) -> tuple[float, float]:
    dlat = max(-3 * sigma, min(3 * sigma, rng.gauss(0, sigma)))
    dlon = max(-3 * sigma, min(3 * sigma, rng.gauss(0, sigma * 1.2)))
    return lat + dlat, lon + dlon


def draw_household_size(rng: random.Random) -> int:
    return rng.choices(HOUSEHOLD_SIZES, cum_weights=HOUSEHOLD_SIZE_CUM)[0]


def _compound_count(budget: int) -> int:
    wanted = round(budget / COMPOUND_SIZE)
    return max(1, min(max(wanted, math.ceil(budget / COMPOUND_MAX)), budget // COMPOUND_MIN))


def _plan_street(district: District, street: AreaNode, index: int, budget: int, centre: tuple[float, float],
                 rng: random.Random) -> StreetPlan:
    plan = StreetPlan(district=district, street=street, index=index, areas=[street])
    community_budgets = split(budget, max(1, round(budget / COMMUNITY_SIZE)), rng)
    community_names = _unique_names(rng, len(community_budgets), (), names.COMMUNITY_SUFFIXES)
    for j, (c_budget, c_name) in enumerate(zip(community_budgets, community_names, strict=True)):
        community = AreaNode(f"{street.code}{j + 1:03d}", c_name, "community", street)
        plan.areas.append(community)
        c_lat, c_lon = _jitter(rng, *centre, 0.008)
        first_building = len(plan.buildings)
        households_before = len(plan.households)
        compound_budgets = split(c_budget, _compound_count(c_budget), rng)
        compound_names = _unique_names(rng, len(compound_budgets), (), names.COMPOUND_SUFFIXES)
        for k_budget, k_name in zip(compound_budgets, compound_names, strict=True):
            lat, lon = _jitter(rng, c_lat, c_lon, 0.003)
            address = f"{rng.choice(names.ROADS)}{rng.randint(1, 999)}号" if rng.random() < 0.25 else ""
            compound = CompoundNode(k_name, community, address, f"{lon:.6f}", f"{lat:.6f}")
            plan.compounds.append(compound)
            _plan_buildings(plan, compound, k_budget, rng)
        _plan_grids(plan, community, plan.buildings[first_building:], len(plan.households) - households_before)
    return plan


def _plan_buildings(plan: StreetPlan, compound: CompoundNode, budget: int, rng: random.Random) -> None:
    """Fill buildings of one style, room by room, with households until the budget is used up."""
    _, floors_range, units_range, per_floor, occupancy_range = rng.choices(
        BUILDING_STYLES, weights=[s[0] for s in BUILDING_STYLES])[0]
    remaining, number = budget, 0
    while remaining > 0:
        number += 1
        building = BuildingNode(f"{number}栋", compound, rng.randint(*floors_range))
        plan.buildings.append(building)
        occupancy = rng.uniform(*occupancy_range)
        for u in range(1, rng.randint(*units_range) + 1):
            unit = UnitNode(f"{u}单元", building)
            plan.units.append(unit)
            for floor in range(1, building.floors + 1):
                for room in range(1, per_floor + 1):
                    if remaining <= 0:
                        break
                    if rng.random() < occupancy:
                        size = min(draw_household_size(rng), remaining)
                        plan.households.append(HouseholdNode(f"{floor}{room:02d}", unit, size))
                        remaining -= size
            if remaining <= 0:
                break


def _plan_grids(plan: StreetPlan, community: AreaNode, buildings: list[BuildingNode], households: int) -> None:
    """3–8 grids of about 300 households; each covers a run of neighbouring buildings."""
    count = max(GRIDS_MIN, min(GRIDS_MAX, round(households / HOUSEHOLDS_PER_GRID)))
    grids = [AreaNode(f"{community.code}{g + 1:03d}", f"第{names.CHINESE_NUMBERS[g]}网格", "grid", community)
             for g in range(count)]
    plan.areas.extend(grids)
    sizes: dict[int, int] = {}
    for h in plan.households[-households:] if households else ():
        key = id(h.unit.building)
        sizes[key] = sizes.get(key, 0) + 1
    # With fewer buildings than grids, spread buildings one per grid; otherwise cut by households.
    share = max(1, households) / min(count, max(1, len(buildings)))
    covered, g = 0, 0
    for building in buildings:
        building.grid = grids[g]
        covered += sizes.get(id(building), 0)
        if covered >= share * (g + 1) and g < count - 1:
            g += 1
        elif len(buildings) <= count and g < count - 1:
            g += 1


def plan_city(residents: int, seed: int, city_name: str = "武汉市", city_code: str = "4201",
              districts: int | None = None) -> CityPlan:
    """The city and its districts (`districts` of them, or a number that grows with the city);
    `CityPlan.streets()` then yields the streets one at a time."""
    if residents < 1:
        raise ValueError("residents must be positive")
    rng = random.Random(f"{seed}:city")
    city = AreaNode(city_code, city_name, "city", None)
    count = districts or max(2, round(math.sqrt(residents) / 40))
    count = max(1, min(count, len(names.DISTRICTS), residents))
    budgets = split(residents, count, rng)
    districts = [
        District(AreaNode(f"{city_code}{suffix}", name, "district", city), lat, lon, streets, budget)
        for (suffix, name, lat, lon, streets), budget in zip(names.DISTRICTS[:count], budgets, strict=True)
    ]
    return CityPlan(city, districts, residents, seed)


# ---------------------------------------------------------------- people

@dataclass(slots=True)
class Person:
    name: str
    sex: str  # "M" | "F"
    birth_date: dt.date
    relation: str  # a Relation value
    doc_number: str
    phone: str
    special_groups: int
    registered_address: str


H, S, C, P, G, L = (Relation.HEAD.value, Relation.SPOUSE.value, Relation.CHILD.value, Relation.PARENT.value,
                    Relation.GRANDCHILD.value, Relation.CHILD_IN_LAW.value)
M, F = "M", "F"
PHONE_MULTIPLIER = 73_939_133  # coprime with 10^8: counter → suffix is a bijection, so phones are unique


class PeopleFactory:
    """Makes the members of one household at a time. Document sequence numbers are counted per
    (birth date, sex) within the current district, so ID numbers are unique across the city."""

    def __init__(self, seed: int, city_name: str, reference: dt.date | None = None) -> None:
        self.reference = reference or default_reference_date()
        self.city_name = city_name
        self.phone_counter = random.Random(f"{seed}:phones").randrange(10**8)
        self._sequences: dict[tuple[int, str], int] = {}
        self._district: AreaNode | None = None

    def start_district(self, district: AreaNode) -> None:
        if self._district is not district:
            self._district = district
            self._sequences.clear()  # the district code differs, so numbers cannot collide

    # -- one household

    def household(self, rng: random.Random, size: int) -> list[Person]:
        members = _family(rng, size)
        address = self._registered_address(rng)
        alone = size == 1
        single_parent = size == 2 and members[1][0] == C and members[0][0] == H
        people = []
        surnames: dict[str, str] = {}
        for relation, sex, age, line in members:
            surname = surnames.get(line) or surnames.setdefault(line, _surname(rng))
            birth = self._birth_date(rng, age)
            birth, doc_number = self._document(birth, sex)
            people.append(Person(
                name=surname + _given_name(rng, sex), sex=sex, birth_date=birth, relation=relation,
                doc_number=doc_number, phone=self._phone(rng, age),
                special_groups=_special_groups(rng, age, sex, relation, alone, single_parent, size),
                registered_address=address,
            ))
        return people

    def _birth_date(self, rng: random.Random, age: int) -> dt.date:
        days = max(1, int((age + rng.random()) * 365.2425))
        return self.reference - dt.timedelta(days=days)

    def _document(self, birth: dt.date, sex: str) -> tuple[dt.date, str]:
        assert self._district is not None, "start_district() first"
        while True:
            key = (birth.toordinal(), sex)
            k = self._sequences.get(key, 0)
            if k < 499:  # 3-digit sequence: odd for men, even for women
                self._sequences[key] = k + 1
                return birth, make_id_number(self._district.code, birth, 2 * k + 1 if sex == M else 2 * k + 2)
            birth -= dt.timedelta(days=1)

    def _phone(self, rng: random.Random, age: int) -> str:
        if age < 12 or (age >= 80 and rng.random() < 0.5):
            return ""
        self.phone_counter += 1
        suffix = (self.phone_counter * PHONE_MULTIPLIER) % 10**8
        return f"{rng.choice(names.PHONE_PREFIXES)}{suffix:08d}"

    def _registered_address(self, rng: random.Random) -> str:
        if rng.random() < 0.72:
            district = self._district.name if self._district else ""
            return f"湖北省{self.city_name}{district}{rng.choice(names.ROADS)}{rng.randint(1, 999)}号"
        return f"{rng.choice(names.HOME_PLACES)}{rng.choice(names.VILLAGE_WORDS)}{rng.randint(1, 99)}号"


def _surname(rng: random.Random) -> str:
    return rng.choices(names.SURNAMES, cum_weights=names.SURNAME_CUM_WEIGHTS)[0]


def _given_name(rng: random.Random, sex: str) -> str:
    pool = names.MALE_CHARS if sex == M else names.FEMALE_CHARS
    if rng.random() < 0.25:
        return rng.choice(pool)
    return rng.choice(pool) + rng.choice(pool)


def _elderly_age(rng: random.Random, low: int = 60) -> int:
    return min(100, low + int(rng.expovariate(1 / 9)))


def _couple(rng: random.Random, head_age: int) -> list[tuple[str, str, int, str]]:
    """Head and spouse; men head ~75% of couples. Lines: 'm' is the husband's family name."""
    husband_age = head_age
    wife_age = max(20, head_age - rng.randint(-2, 5))
    if rng.random() < 0.75:
        return [(H, M, husband_age, "m"), (S, F, wife_age, "w")]
    return [(H, F, wife_age, "w"), (S, M, husband_age, "m")]


def _mother_age(members: list[tuple[str, str, int, str]]) -> int:
    return next(age for _, sex, age, _ in members if sex == F)


def _child_age(rng: random.Random, mother_age: int, low_gap: int = 22) -> int:
    return rng.randint(max(0, mother_age - 38), max(0, mother_age - low_gap))


def _children(rng: random.Random, mother_age: int, count: int, line: str = "m") -> list[tuple[str, str, int, str]]:
    first = _child_age(rng, mother_age)
    ages = [first] + [max(0, first - rng.randint(1, 8)) for _ in range(count - 1)]
    return [(C, rng.choice((M, F)), age, line) for age in ages]


def _head_parents(rng: random.Random, head_age: int, head_line: str) -> list[tuple[str, str, int, str]]:
    father = min(100, head_age + rng.randint(24, 34))
    mother = min(100, father - rng.randint(0, 4))
    return [(P, M, father, head_line), (P, F, mother, head_line + "-mother")]


def _three_generations(rng: random.Random, grandchildren: int) -> list[tuple[str, str, int, str]]:
    """Elderly couple, their grown child with partner, and grandchildren."""
    members = _couple(rng, rng.randint(52, 78))
    child_age = rng.randint(max(24, _mother_age(members) - 36), max(24, _mother_age(members) - 22))
    son = rng.random() < 0.6
    members.append((C, M if son else F, child_age, "m"))
    in_law_age = max(20, child_age + rng.randint(-4, 4))
    members.append((L, F if son else M, in_law_age, "inlaw"))
    young_mother = in_law_age if son else child_age
    line = "m" if son else "inlaw"
    first = rng.randint(max(0, young_mother - 36), max(0, young_mother - 22))
    for i in range(grandchildren):
        members.append((G, rng.choice((M, F)), max(0, first - i * rng.randint(1, 6)), line))
    return members


def _family(rng: random.Random, size: int) -> list[tuple[str, str, int, str]]:
    """(relation, sex, age, surname line) for each member, head first."""
    r = rng.random()
    if size == 1:
        if r < 0.45:
            return [(H, F if rng.random() < 0.6 else M, _elderly_age(rng), "m")]
        return [(H, rng.choice((M, F)), rng.randint(20, 59), "m")]
    if size == 2:
        if r < 0.38:
            return _couple(rng, _elderly_age(rng))
        if r < 0.68:
            return _couple(rng, rng.randint(23, 38))
        if r < 0.85:
            head_sex = rng.choice((M, F))
            head_age = rng.randint(30, 55)
            return [(H, head_sex, head_age, "m"), (C, rng.choice((M, F)), _child_age(rng, head_age), "m")]
        return _couple(rng, rng.randint(45, 59))
    if size == 3:
        if r < 0.85:
            members = _couple(rng, rng.randint(28, 62))
            return members + _children(rng, _mother_age(members), 1)
        members = _couple(rng, rng.randint(30, 55))
        return members + _head_parents(rng, members[0][2], members[0][3])[:1]
    if size == 4:
        members = _couple(rng, rng.randint(32, 56))
        if r < 0.6:
            return members + _children(rng, _mother_age(members), 2)
        return members + _children(rng, _mother_age(members), 1) + _head_parents(rng, members[0][2], members[0][3])[:1]
    if size == 5:
        if r < 0.5:
            members = _couple(rng, rng.randint(30, 48))
            return members + _children(rng, _mother_age(members), 1) + _head_parents(rng, members[0][2], members[0][3])
        return _three_generations(rng, 1)
    if r < 0.5:
        members = _couple(rng, rng.randint(32, 48))
        return members + _children(rng, _mother_age(members), 2) + _head_parents(rng, members[0][2], members[0][3])
    return _three_generations(rng, 2)


def _special_groups(rng: random.Random, age: int, sex: str, relation: str, alone: bool, single_parent: bool,
                    size: int) -> int:
    groups = 0
    r = rng.random
    if age >= 60:
        if r() < 0.18:
            groups |= SpecialGroup.CHRONIC_ILLNESS
        if r() < 0.12:
            groups |= SpecialGroup.DISABLED
        if alone:
            groups |= SpecialGroup.LIVING_ALONE
            if r() < 0.35:
                groups |= SpecialGroup.LONELY_ELDERLY
            if r() < 0.08:
                groups |= SpecialGroup.EXTREME_POVERTY
        elif r() < 0.002:
            groups |= SpecialGroup.EXTREME_POVERTY
        return groups
    if r() < 0.047:
        groups |= SpecialGroup.DISABLED
    if age >= 40 and r() < 0.04:
        groups |= SpecialGroup.CHRONIC_ILLNESS
    if age < 16:
        if r() < (0.06 if single_parent else 0.012):
            groups |= SpecialGroup.CHILD_IN_NEED
    elif r() < 0.003:
        groups |= SpecialGroup.EXTREME_POVERTY
    if sex == F and 20 <= age <= 40 and relation in (H, S, L) and size >= 2 and r() < 0.06:
        groups |= SpecialGroup.PREGNANT
    return groups


# ---------------------------------------------------------------- roster rows

def _relation_label(person: Person) -> str:
    if person.relation == L:
        return "女婿" if person.sex == M else "儿媳"
    return RELATION_LABEL[person.relation]


def _groups_label(mask: int) -> str:
    return "、".join(label for bit, label in SPECIAL_GROUP_LABEL.items() if mask & bit)


def roster_rows(residents: int, seed: int, *, city_name: str = "武汉市", city_code: str = "4201",
                reference: dt.date | None = None, districts: int | None = None) -> Iterator[dict[str, str]]:
    """The people of `demo-city --residents N --seed S` as roster rows keyed by the Chinese headers.

    Same plan and people as the database path (same doc numbers), streamed: memory stays bounded.
    """
    plan = plan_city(residents, seed, city_name, city_code, districts)
    factory = PeopleFactory(seed, city_name, reference)
    for street in plan.streets():
        factory.start_district(street.district.node)
        rng = people_rng(seed, street)
        for household in street.households:
            unit = household.unit
            building = unit.building
            compound = building.compound
            community = compound.community
            place = {"区": street.district.node.name, "街道": street.street.name, "社区": community.name,
                     "小区": compound.name, "楼栋": building.name, "单元": unit.name, "房号": household.room}
            for person in factory.household(rng, household.size):
                yield {
                    "姓名": person.name, "性别": "男" if person.sex == M else "女", "证件类型": "居民身份证",
                    "证件号码": person.doc_number, "出生日期": person.birth_date.isoformat(), "联系电话": person.phone,
                    **place,
                    "与户主关系": _relation_label(person), "特殊人群": _groups_label(person.special_groups),
                    "户籍地址": person.registered_address, "备注": "",
                }


def people_rng(seed: int, street: StreetPlan) -> random.Random:
    """The people of a street have their own random stream: the plan and the people stay independent."""
    return random.Random(f"{seed}:people:{street.street.code}")
