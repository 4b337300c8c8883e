import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, F
from stdnum.cn import ric

from fangkong.areas.models import Area, Building, Compound, Household, Level, Unit
from fangkong.core.identity import normalize_id_card
from fangkong.demo.city import build_city
from fangkong.demo.generator import plan_city, roster_rows
from fangkong.people.models import Relation, Resident, SpecialGroup

RESIDENTS = 1500
SEED = 7


@pytest.fixture
def demo(db):
    return build_city(RESIDENTS, SEED)


def age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def test_the_city_has_exactly_the_asked_number_of_residents_and_consistent_counts(demo):
    assert Resident.objects.count() == demo.residents == RESIDENTS
    assert Household.objects.count() == demo.households
    assert Building.objects.count() == demo.buildings
    assert Unit.objects.count() == demo.units
    assert Compound.objects.count() == demo.compounds
    assert Area.objects.count() == demo.areas
    levels = dict(Area.objects.values_list("level").annotate(n=Count("id")))
    assert levels[Level.CITY] == 1 and levels[Level.DISTRICT] >= 2
    assert levels == demo.by_level
    assert not Household.objects.filter(residents__isnull=True).exists()


def test_every_id_number_is_valid_unique_and_agrees_with_birth_date_sex_and_district(demo):
    seen = set()
    for number, birth, sex, area_code in Resident.objects.values_list("doc_number", "birth_date", "sex", "area_code"):
        # stdnum's checksum and birth date; its county-introduction-year rule is not applied by the
        # project (a 1950-born resident of 江岸区, code from 1983, holds a legitimate number).
        assert ric.calc_check_digit(number) == number[-1]
        assert ric.get_birth_date(number) == birth
        assert normalize_id_card(number) == number
        assert ("M" if int(number[16]) % 2 else "F") == sex
        assert number[:6] == area_code[:6]
        seen.add(number)
    assert len(seen) == RESIDENTS


def test_names_are_unique_within_their_parents(demo):
    for model, parent in ((Area, "parent_id"), (Compound, "community_id"), (Building, "compound_id"), (Unit, "building_id")):
        pairs = list(model.objects.values_list(parent, "name"))
        assert len(pairs) == len(set(pairs)), model
    rooms = list(Household.objects.values_list("unit_id", "room"))
    assert len(rooms) == len(set(rooms))


def test_each_household_has_one_to_six_members_and_exactly_one_head(demo):
    sizes = dict(Household.objects.annotate(n=Count("residents")).values_list("id", "n"))
    assert set(sizes.values()) <= {1, 2, 3, 4, 5, 6}
    heads = Counter(Resident.objects.filter(relation=Relation.HEAD).values_list("household_id", flat=True))
    assert set(heads.values()) == {1}
    assert set(heads) == set(sizes)


def test_family_ages_are_consistent_with_relations(demo):
    on = dt.date.today()
    by_household = defaultdict(list)
    for household_id, relation, birth in Resident.objects.values_list("household_id", "relation", "birth_date"):
        by_household[household_id].append((relation, age(birth, on)))
    for members in by_household.values():
        head_age = next(a for r, a in members if r == Relation.HEAD)
        assert head_age >= 18
        for relation, member_age in members:
            if relation == Relation.CHILD:
                assert head_age - member_age >= 18
            elif relation == Relation.PARENT:
                assert member_age - head_age >= 18
            elif relation == Relation.GRANDCHILD:
                assert head_age - member_age >= 36
            elif relation == Relation.SPOUSE:
                assert member_age >= 18


def test_denormalised_codes_follow_the_buildings_grid(demo):
    assert not Building.objects.filter(grid__isnull=True).exists()
    assert not Building.objects.exclude(area_code=F("grid__code")).exists()
    for grid_code, community_code in Building.objects.values_list("grid__code", "compound__area_code"):
        assert grid_code.startswith(community_code)
    assert not Compound.objects.exclude(area_code=F("community__code")).exists()
    assert not Household.objects.exclude(building_id=F("unit__building_id")).exists()
    assert not Household.objects.exclude(compound_id=F("unit__building__compound_id")).exists()
    assert not Household.objects.exclude(area_code=F("unit__building__area_code")).exists()
    assert not Resident.objects.exclude(area_code=F("household__area_code")).exists()


def test_every_community_has_three_to_eight_grids_and_every_compound_is_located_in_wuhan(demo):
    grids = Counter(code[:12] for code in Area.objects.filter(level=Level.GRID).values_list("code", flat=True))
    assert grids and all(3 <= n <= 8 for n in grids.values())
    assert set(grids) == set(Area.objects.filter(level=Level.COMMUNITY).values_list("code", flat=True))
    for lon, lat in Compound.objects.values_list("longitude", "latitude"):
        assert Decimal("113.9") < lon < Decimal("114.9") and Decimal("30.2") < lat < Decimal("31.0")


def test_special_groups_follow_their_definitions(demo):
    on = dt.date.today()
    sizes = dict(Household.objects.annotate(n=Count("residents")).values_list("id", "n"))
    elderly = chronic = 0
    for household_id, sex, birth, groups in Resident.objects.values_list("household_id", "sex", "birth_date", "special_groups"):
        years = age(birth, on)
        if groups & SpecialGroup.LIVING_ALONE:
            assert sizes[household_id] == 1
        if groups & SpecialGroup.LONELY_ELDERLY:
            assert groups & SpecialGroup.LIVING_ALONE
        if groups & SpecialGroup.PREGNANT:
            assert sex == "F" and 18 <= years <= 42
        if groups & SpecialGroup.CHILD_IN_NEED:
            assert years <= 17
        if years >= 61:  # one year of slack: ages are counted from 1 January
            elderly += 1
            chronic += bool(groups & SpecialGroup.CHRONIC_ILLNESS)
    assert 0.08 < chronic / elderly < 0.30


def test_the_same_seed_gives_the_same_people_and_the_roster_matches_the_database(demo):
    numbers = list(Resident.objects.order_by("id").values_list("doc_number", "name"))
    roster = [(row["证件号码"], row["姓名"]) for row in roster_rows(RESIDENTS, SEED)]
    assert numbers == roster
    assert [r["证件号码"] for r in roster_rows(300, 1)] == [r["证件号码"] for r in roster_rows(300, 1)]
    assert [r["证件号码"] for r in roster_rows(300, 1)] != [r["证件号码"] for r in roster_rows(300, 2)]


def test_the_plan_scales_with_the_number_of_residents():
    small, large = plan_city(2_000, 1), plan_city(2_000_000, 1)
    assert len(large.districts) > len(small.districts)
    street = next(large.streets())
    communities = [a for a in street.areas if a.level == Level.COMMUNITY]
    assert len(communities) >= 5
    by_compound = Counter()
    for household in street.households:
        by_compound[id(household.unit.building.compound)] += household.size
    assert all(500 <= n <= 8_000 for n in by_compound.values())
    assert all(6 <= b.floors <= 33 for b in street.buildings)


def test_if_empty_leaves_an_existing_city_alone(db, capsys):
    call_command("demo-city", "--residents", "300", "--seed", "3", "--if-empty")
    assert Resident.objects.count() == 300
    assert "300" in capsys.readouterr().out
    call_command("demo-city", "--residents", "500", "--seed", "4", "--if-empty")
    assert Resident.objects.count() == 300
    assert capsys.readouterr().out.strip()
