"""The cross-check through the API: listing and closing to-dos with the pages' scoping, field-level
422s and a 409 for a to-do closed already; importing evidence with per-row errors."""

import pytest

from fangkong.audit.models import AuditLog
from fangkong.core.identity import make_id_number
from fangkong.crosscheck.models import Kind, ToDo
from fangkong.crosscheck.services import run_crosscheck
from fangkong.crosscheck.tests.conftest import csv_bytes, day, empty_household, lit, readings, returnee
from fangkong.crosscheck.tests.test_importer import METER_HEADER, meter_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def todos(city) -> dict[str, ToDo]:
    readings(empty_household(city), 5, 5, 5)
    lit(city.buildings["b2"], 4)
    ret = returnee(make_id_number("420111", day(9000), 35), household=city.households["a102"])
    ret.phone = "13812345678"
    ret.save()
    run_crosscheck()
    return {t.kind: t for t in ToDo.objects.all()}


def test_a_grid_worker_lists_the_grids_to_dos_masked(city, api, todos):
    response = api("grid_a").get("/api/crosscheck/todos")
    assert response.status_code == 200, response.content
    items = {item["kind"]: item for item in response.json()["items"]}
    assert set(items) == {Kind.POWERED, Kind.RETURNEE_UNREGISTERED}
    assert items[Kind.POWERED]["detail"] == "3-day average 5.0 kWh a day, nobody registered"
    assert (items[Kind.POWERED]["value"], items[Kind.POWERED]["reference"]) == (5.0, 3)
    person = items[Kind.RETURNEE_UNREGISTERED]["returnee"]
    assert person["masked_phone"] == "138****5678" and "*" in person["masked_doc_number"]
    assert "13812345678" not in response.content.decode()
    assert api("grid_a").get("/api/crosscheck/todos", {"kind": "lit_windows"}).json()["items"] == []


def test_grid_worker_b_sees_nothing_of_grid_a(city, api, todos):
    caller = api("grid_b")
    assert [item["kind"] for item in caller.get("/api/crosscheck/todos", {"status": "all"}).json()["items"]] == [Kind.LIT]
    assert caller.get("/api/crosscheck/todos", {"q": "李明"}).json()["items"] == []
    assert caller.get("/api/crosscheck/todos", {"area": city.areas["grid_a"].code}).status_code == 404
    for todo in (todos[Kind.POWERED], todos[Kind.RETURNEE_UNREGISTERED]):
        assert caller.get(f"/api/crosscheck/todos/{todo.pk}").status_code == 404
        assert caller.post(f"/api/crosscheck/todos/{todo.pk}/close", {"outcome": "vacant"}).status_code == 404
    assert ToDo.objects.filter(status="open").count() == 3


def test_closing_gives_field_errors_then_closes_and_then_409(city, api, todos, error_fields):
    todo = todos[Kind.POWERED]
    caller = api("grid_a")
    response = caller.post(f"/api/crosscheck/todos/{todo.pk}/close", {"outcome": "false_alarm"})
    assert response.status_code == 422 and error_fields(response) == {"note"}
    response = caller.post(f"/api/crosscheck/todos/{todo.pk}/close", {"outcome": "screened"})
    assert response.status_code == 422 and error_fields(response) == {"outcome"}
    response = caller.post(f"/api/crosscheck/todos/{todo.pk}/close", {"outcome": "registered"})
    assert response.status_code == 422 and "Register the new occupants first" in response.json()["detail"][0]["msg"]
    assert caller.post(f"/api/crosscheck/todos/{todo.pk}/close", {"outcome": "maybe"}).status_code == 422
    response = caller.post(f"/api/crosscheck/todos/{todo.pk}/close", {"outcome": "vacant", "note": "门锁多日"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["outcome"], body["closed_by"], body["note"]) == ("closed", "vacant", "grid_a", "门锁多日")
    assert AuditLog.objects.filter(object_type="crosscheck.todo", object_id=str(todo.pk)).exists()
    again = caller.post(f"/api/crosscheck/todos/{todo.pk}/close", {"outcome": "vacant"})
    assert again.status_code == 409


@pytest.mark.parametrize("persona", ["volunteer", "guard"])
def test_roles_that_do_not_handle_personal_data_get_403(city, api, todos, persona):
    assert api(persona).get("/api/crosscheck/todos").status_code == 403


def test_a_community_worker_imports_evidence_and_gets_counts_row_errors_and_to_dos(city, api):
    content = csv_bytes(METER_HEADER, meter_row("103", 1, "5.2"), meter_row("103", 0, "x"))
    response = api("community").upload("/api/crosscheck/imports/meter", "meter.csv", content)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["error_rows"], body["todos"][Kind.POWERED]) == (1, 1, 1)
    assert body["errors"][0]["row"] == 3 and body["errors"][0]["column"] == "用电量(千瓦时)"
    assert api("community").upload("/api/crosscheck/imports/gas", "meter.csv", content).status_code == 422
    assert api("community").upload("/api/crosscheck/imports/meter", "meter.txt", b"x").status_code == 422
    assert api("grid_a").upload("/api/crosscheck/imports/meter", "meter.csv", content).status_code == 403
