"""The four rules of the cross-check on the small city, each with what it must and must not find."""

from __future__ import annotations

import pytest

from fangkong.areas.models import Household
from fangkong.core.identity import make_id_number
from fangkong.crosscheck.models import Kind, ToDo
from fangkong.crosscheck.services import close_todo, run_crosscheck
from fangkong.crosscheck.tests.conftest import day, empty_household, lit, readings, returnee
from fangkong.people.models import Resident
from fangkong.people.services import create_resident
from fangkong.policy.services import change_policy
from fangkong.screening.testing import at, reached
from fangkong.screening.visits import record_visit

pytestmark = pytest.mark.django_db

STRANGER = make_id_number("420111", day(10000), 17)


def opened(kind: str) -> list[ToDo]:
    return list(ToDo.objects.filter(kind=kind, status="open").order_by("id"))


# ---------------------------------------------------------------- a. power used, nobody registered

def test_an_unregistered_household_using_power_is_found(city):
    empty = empty_household(city)
    readings(empty, 5.0, 5.4, 5.2, 4.9, 5.5, 5.1, 5.3)
    counts = run_crosscheck()
    assert counts[Kind.POWERED] == 1
    [todo] = opened(Kind.POWERED)
    assert todo.household == empty and todo.area_code == city.areas["grid_a"].code
    assert float(todo.value) == pytest.approx(5.2) and todo.reference == 7 and todo.evidence_date == day(0)
    assert todo.detail == "7-day average 5.2 kWh a day, nobody registered"


def test_a_registered_household_using_power_is_not_found(city):
    readings(city.households["a101"], 8, 8, 8)
    assert run_crosscheck()[Kind.POWERED] == 0


def test_a_household_below_the_threshold_is_not_found(city):
    readings(empty_household(city), 0.4, 0.5, 0.6, 0.3)  # a fridge left on, at most
    assert run_crosscheck()[Kind.POWERED] == 0


def test_only_readings_within_the_window_count(city):
    empty = empty_household(city)
    readings(empty, 9, 9, 9, last=8)  # 8–10 days ago: outside the default 7 days
    assert run_crosscheck()[Kind.POWERED] == 0
    readings(empty, 0.2, last=0)
    assert run_crosscheck()[Kind.POWERED] == 0


def test_the_threshold_and_the_window_come_from_the_policy(city):
    empty = empty_household(city)
    readings(empty, 0.6, 0.6, last=0)
    readings(empty, 9, last=3)
    assert run_crosscheck()[Kind.POWERED] == 1  # (0.6 + 0.6 + 9) / 3 over the last 7 days
    ToDo.objects.all().delete()
    change_policy(city.users["city"], {"crosscheck_window_days": 2, "crosscheck_min_kwh_per_day": 0.5})
    assert run_crosscheck()[Kind.POWERED] == 1
    ToDo.objects.all().delete()
    change_policy(city.users["city"], {"crosscheck_min_kwh_per_day": 0.7})
    assert run_crosscheck()[Kind.POWERED] == 0


def test_running_twice_opens_once(city):
    readings(empty_household(city), 3, 3, 3)
    readings(empty_household(city, "b2", "202"), 3, 3, 3)
    first, second = run_crosscheck(), run_crosscheck()
    assert (first[Kind.POWERED], second[Kind.POWERED]) == (2, 0)
    assert ToDo.objects.count() == 2


def test_a_closed_to_do_is_reopened_only_by_readings_after_it_was_closed(city):
    empty = empty_household(city)
    readings(empty, 4, 4, 4, last=1)
    run_crosscheck()
    [todo] = opened(Kind.POWERED)
    close_todo(city.users["grid_a"], todo, "false_alarm", note="铺面，夜间冷柜用电")
    assert run_crosscheck()[Kind.POWERED] == 0  # the same readings again: nothing new
    readings(empty, 0.2, last=0)  # today's reading is low: still nothing
    assert run_crosscheck()[Kind.POWERED] == 0
    ToDo.objects.filter(pk=todo.pk).update(closed_on=day(2))  # closed two days ago: yesterday's 4 kWh is newer
    assert run_crosscheck()[Kind.POWERED] == 1


def test_a_run_can_be_limited_to_an_area(city):
    readings(empty_household(city), 3, 3)
    readings(empty_household(city, "z1", "302"), 3, 3)
    assert run_crosscheck(area_code=city.areas["ziyangc"].code)[Kind.POWERED] == 1
    assert ToDo.objects.get().household.building == city.buildings["z1"]


# ---------------------------------------------------------------- b. lit windows

def test_more_lit_windows_than_occupied_households_is_found(city):
    building = city.buildings["a1"]  # 101 and 102 have residents
    empty_household(city)  # 103 does not
    lit(building, 2, days_ago=2)
    lit(building, 3, days_ago=1)
    counts = run_crosscheck()
    assert counts[Kind.LIT] == 1
    [todo] = opened(Kind.LIT)
    assert (todo.building, int(todo.value), todo.reference, todo.evidence_date) == (building, 3, 2, day(1))
    assert todo.area_code == city.areas["grid_a"].code
    assert "3 windows lit" in todo.detail and "2 occupied households" in todo.detail


def test_as_many_lit_windows_as_occupied_households_is_not_found(city):
    lit(city.buildings["a1"], 2)
    lit(city.buildings["b2"], 1)
    assert run_crosscheck()[Kind.LIT] == 0


def test_each_night_counts_against_the_occupied_households(city):
    lit(city.buildings["z1"], 1)  # 301 has 刘洋: one occupied household
    assert run_crosscheck()[Kind.LIT] == 0
    lit(city.buildings["z1"], 2, days_ago=1)
    assert run_crosscheck()[Kind.LIT] == 1
    assert run_crosscheck()[Kind.LIT] == 0


# ---------------------------------------------------------------- c, d. returnees

def test_a_returnee_not_on_the_roster_is_found(city):
    ret = returnee(STRANGER, household=city.households["a102"])
    counts = run_crosscheck()
    assert counts[Kind.RETURNEE_UNREGISTERED] == 1 and counts[Kind.RETURNEE_UNSCREENED] == 0
    [todo] = opened(Kind.RETURNEE_UNREGISTERED)
    assert (todo.returnee, todo.household, todo.area_code) == (ret, city.households["a102"], city.areas["grid_a"].code)
    assert todo.detail.startswith(f"Arrived {day(1):%m-%d} from 湖北省孝感市")
    assert run_crosscheck()[Kind.RETURNEE_UNREGISTERED] == 0


def test_a_registered_returnee_not_screened_since_arrival_is_found(city):
    wang = city.residents["wangfang"]  # lives in grid B
    ret = returnee(wang.doc_number, days_ago=2, area_code=city.areas["qinghe"].code)
    # Screened present before the arrival: does not count.
    record_visit(city.users["grid_b"], wang.household, reached(wang, visited_at=at(3)))
    counts = run_crosscheck()
    assert (counts[Kind.RETURNEE_UNREGISTERED], counts[Kind.RETURNEE_UNSCREENED]) == (0, 1)
    [todo] = opened(Kind.RETURNEE_UNSCREENED)
    assert (todo.returnee, todo.resident, todo.household) == (ret, wang, wang.household)
    assert todo.area_code == city.areas["grid_b"].code  # filed under the resident's grid


def test_a_returnee_screened_since_arrival_is_not_found_and_an_open_to_do_closes_itself(city):
    wang = city.residents["wangfang"]
    returnee(wang.doc_number, days_ago=2)
    run_crosscheck()
    [todo] = opened(Kind.RETURNEE_UNSCREENED)
    record_visit(city.users["grid_b"], wang.household, reached(wang, visited_at=at(0)))
    counts = run_crosscheck()
    assert counts["closed"] == 1 and counts[Kind.RETURNEE_UNSCREENED] == 0
    todo.refresh_from_db()
    assert (todo.status, todo.outcome, todo.closed_by) == ("closed", "screened", None)
    assert run_crosscheck()[Kind.RETURNEE_UNSCREENED] == 0  # closed for good


def test_a_returnee_screened_away_does_not_count(city):
    wang = city.residents["wangfang"]
    returnee(wang.doc_number, days_ago=2)
    visit = record_visit(city.users["grid_b"], wang.household, reached(wang, visited_at=at(0))).visit
    visit.checks.update(present=False, temperature=None)
    assert run_crosscheck()[Kind.RETURNEE_UNSCREENED] == 1


def test_a_returnee_registered_later_closes_itself_and_then_needs_screening(city):
    ret = returnee(STRANGER, household=city.households["a102"])
    run_crosscheck()
    create_resident(city.users["grid_a"], city.households["a102"], {"name": "李明", "doc_number": STRANGER})
    counts = run_crosscheck()
    assert counts["closed"] == 1 and counts[Kind.RETURNEE_UNSCREENED] == 1
    assert ToDo.objects.get(kind=Kind.RETURNEE_UNREGISTERED).outcome == "registered"
    assert ToDo.objects.get(kind=Kind.RETURNEE_UNSCREENED, status="open").returnee == ret


def test_returnees_who_arrived_long_ago_are_left_alone(city):
    returnee(STRANGER, days_ago=15)
    assert run_crosscheck()[Kind.RETURNEE_UNREGISTERED] == 0
    change_policy(city.users["city"], {"crosscheck_returnee_days": 20})
    assert run_crosscheck()[Kind.RETURNEE_UNREGISTERED] == 1


def test_a_vacant_mark_is_cleared_once_someone_is_registered(city):
    empty = empty_household(city)
    Household.objects.filter(pk=empty.pk).update(vacant_since=day(3))
    Resident(household=empty, name="赵六", sex="M", birth_date=day(12000), doc_number=STRANGER).save()  # e.g. a roster import
    assert run_crosscheck()["vacancies_cleared"] == 1
    empty.refresh_from_db()
    assert empty.vacant_since is None
