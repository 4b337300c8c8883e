"""Closing to-dos: each outcome updates the roster (or needs it updated first) and is audit-logged."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from fangkong.audit.models import Action, AuditLog
from fangkong.core.errors import FieldErrors
from fangkong.core.identity import make_id_number
from fangkong.crosscheck.access import access_todo
from fangkong.crosscheck.models import Kind, ToDo
from fangkong.crosscheck.services import ToDoClosed, close_todo, register_occupant, run_crosscheck
from fangkong.crosscheck.tests.conftest import day, empty_household, lit, readings, returnee
from fangkong.people.models import Resident
from fangkong.people.services import create_resident
from fangkong.screening.testing import at, reached
from fangkong.screening.visits import record_visit

pytestmark = pytest.mark.django_db

NEWCOMER = {"name": "赵敏", "doc_number": make_id_number("420103", day(11000), 24), "phone": "13912345678",
            "relation": "tenant"}


@pytest.fixture
def powered(city) -> ToDo:
    household = empty_household(city)
    readings(household, 5, 5, 5)
    run_crosscheck()
    return ToDo.objects.get(kind=Kind.POWERED)


def audited(todo: ToDo) -> AuditLog:
    return AuditLog.objects.get(object_type="crosscheck.todo", object_id=str(todo.pk))


def test_registered_needs_the_new_occupants_on_the_roster_first(city, powered):
    grid_a = city.users["grid_a"]
    with pytest.raises(FieldErrors) as error:
        close_todo(grid_a, powered, "registered")
    assert "Register the new occupants first" in error.value.errors["outcome"]
    resident = register_occupant(grid_a, powered, NEWCOMER)
    assert (resident.household, resident.is_new_occupant, resident.relation) == (powered.household, True, "tenant")
    assert AuditLog.objects.filter(action=Action.CREATE, object_type="people.resident", object_id=str(resident.pk)).exists()
    closed = close_todo(grid_a, powered, "registered", note="租户，已登记")
    assert (closed.status, closed.outcome, closed.closed_by, closed.note) == ("closed", "registered", grid_a, "租户，已登记")
    assert closed.closed_at is not None and closed.closed_on == day(0)
    entry = audited(powered)
    assert entry.user == grid_a and entry.changes["outcome"] == ["", "registered"]
    assert run_crosscheck()[Kind.POWERED] == 0  # the household has a resident now


def test_a_new_occupant_is_checked_like_any_roster_entry(city, powered):
    with pytest.raises(FieldErrors) as error:
        register_occupant(city.users["grid_a"], powered, {**NEWCOMER, "doc_number": "123", "phone": "555"})
    assert set(error.value.errors) == {"doc_number", "phone"}
    with pytest.raises(FieldErrors):
        register_occupant(city.users["grid_a"], powered, {**NEWCOMER, "doc_number": city.residents["zhangwei"].doc_number})
    assert not Resident.objects.filter(household=powered.household).exists()


def test_vacant_marks_the_household_and_a_later_registration_clears_it(city, powered):
    grid_a = city.users["grid_a"]
    close_todo(grid_a, powered, "vacant")
    household = powered.household
    household.refresh_from_db()
    assert household.vacant_since == day(0)
    assert AuditLog.objects.filter(object_type="areas.household", object_id=str(household.pk),
                                   changes__vacant_since=[None, day(0).isoformat()]).exists()
    create_resident(grid_a, household, NEWCOMER)
    household.refresh_from_db()
    assert household.vacant_since is None


def test_a_visit_that_finds_people_clears_a_vacant_mark(city):
    household = city.households["a102"]
    household.vacant_since = day(5)
    household.save()
    wang = city.residents["wanglaoshi"]
    record_visit(city.users["grid_a"], household, reached(wang, visited_at=at(0)))
    household.refresh_from_db()
    assert household.vacant_since is None


def test_false_alarm_needs_a_note(city, powered):
    with pytest.raises(FieldErrors) as error:
        close_todo(city.users["grid_a"], powered, "false_alarm", note="  ")
    assert set(error.value.errors) == {"note"}
    closed = close_todo(city.users["grid_a"], powered, "false_alarm", note="商铺冷柜")
    assert closed.outcome == "false_alarm" and audited(powered).changes["_note"] == "商铺冷柜"


def test_an_outcome_not_offered_for_the_kind_is_refused(city, powered):
    for outcome in ("screened", "nonsense", ""):
        with pytest.raises(FieldErrors) as error:
            close_todo(city.users["grid_a"], powered, outcome)
        assert "outcome" in error.value.errors


def test_a_closed_to_do_cannot_be_closed_again(city, powered):
    close_todo(city.users["grid_a"], powered, "vacant")
    with pytest.raises(ToDoClosed):
        close_todo(city.users["community"], powered, "false_alarm", note="x")
    with pytest.raises(ToDoClosed):
        register_occupant(city.users["grid_a"], powered, NEWCOMER)


@pytest.mark.parametrize(("persona", "refusal"), [("grid_b", Http404), ("other_community", Http404),
                                                   ("volunteer", PermissionDenied), ("guard", PermissionDenied),
                                                   ("facility", PermissionDenied)])
def test_only_workers_of_the_area_may_close_or_register(city, powered, persona, refusal):
    # Closing and registering reach the to-do through access_todo, like the pages and the API: a role
    # that does not handle to-dos is refused (403), a worker elsewhere does not see it (404).
    with pytest.raises(refusal):
        access_todo(city.users[persona], powered.pk)
    assert access_todo(city.users["grid_a"], powered.pk) == powered
    assert ToDo.objects.get(pk=powered.pk).status == "open"


def test_lit_windows_are_closed_after_registering_someone_in_the_building(city):
    building = city.buildings["a1"]
    room_103 = empty_household(city)
    lit(building, 3)
    run_crosscheck()
    todo = ToDo.objects.get(kind=Kind.LIT)
    grid_a = city.users["grid_a"]
    with pytest.raises(FieldErrors):
        close_todo(grid_a, todo, "registered")
    with pytest.raises(FieldErrors) as error:
        register_occupant(grid_a, todo, NEWCOMER, household=city.households["b201"])  # another building
    assert set(error.value.errors) == {"household"}
    register_occupant(grid_a, todo, NEWCOMER, household=room_103)
    assert close_todo(grid_a, todo, "registered").outcome == "registered"
    with pytest.raises(FieldErrors):
        close_todo(grid_a, todo, "vacant")  # not offered for a building; and closed anyway


def test_a_located_returnee_is_registered_from_the_list_and_closed(city):
    number = make_id_number("420111", day(9000), 35)
    ret = returnee(number, household=city.households["a102"], name="李明")
    ret.phone = "13812345678"
    ret.save()
    run_crosscheck()
    todo = ToDo.objects.get(kind=Kind.RETURNEE_UNREGISTERED)
    resident = register_occupant(city.users["grid_a"], todo, {"relation": "child"})
    assert (resident.name, resident.doc_number, resident.phone, resident.household, resident.is_new_occupant) == (
        "李明", number, "13812345678", city.households["a102"], True)
    assert close_todo(city.users["grid_a"], todo, "registered").outcome == "registered"


def test_an_unlocated_returnee_is_registered_from_a_household_page(city):
    returnee(make_id_number("420111", day(9000), 35), area_code=city.areas["grid_a"].code)
    run_crosscheck()
    todo = ToDo.objects.get(kind=Kind.RETURNEE_UNREGISTERED)
    with pytest.raises(FieldErrors) as error:
        register_occupant(city.users["grid_a"], todo, {})
    assert "household" in error.value.errors


def test_screened_needs_a_screening_since_arrival(city):
    wang = city.residents["wangfang"]
    returnee(wang.doc_number, days_ago=2)
    run_crosscheck()
    todo = ToDo.objects.get(kind=Kind.RETURNEE_UNSCREENED)
    grid_b = city.users["grid_b"]
    with pytest.raises(FieldErrors) as error:
        close_todo(grid_b, todo, "screened")
    assert "Record the screening first" in error.value.errors["outcome"]
    record_visit(grid_b, wang.household, reached(wang, visited_at=at(0)))
    closed = close_todo(grid_b, todo, "screened")
    assert (closed.outcome, closed.closed_by) == ("screened", grid_b)
    assert audited(todo).user == grid_b
