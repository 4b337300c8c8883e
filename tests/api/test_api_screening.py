"""The screening API: the day list, idempotent visits with field-level errors, coverage, follow-ups; scoped."""

import datetime as dt
import uuid

import pytest
from django.core.cache import cache
from django.utils import timezone

from fangkong.core.identity import make_id_number
from fangkong.policy.services import change_policy
from fangkong.screening.models import FollowUp, PersonCheck, Visit


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def visit_body(city, household="a101", **overrides):
    people = {"a101": ["zhangwei", "lina"], "a102": ["wanglaoshi"], "b201": ["wangfang"]}[household]
    body = {
        "client_id": str(uuid.uuid4()), "household_id": city.households[household].pk, "method": "door",
        "outcome": "reached",
        "persons": [{"resident_id": city.residents[p].pk, "temperature": 36.5} for p in people],
    }
    body.update(overrides)
    return body


def test_the_day_list_of_a_grid_worker(city, api):
    listed = api("grid_a").get("/api/screening/day-list").json()
    assert listed["count"] == 2
    assert [(h["room"], h["done"], h["residents"], h["last_visit"]) for h in listed["items"]] == [
        ("101", False, 2, None), ("102", False, 1, None)]
    api("grid_a").post("/api/screening/visits", visit_body(city))
    first = api("grid_a").get("/api/screening/day-list").json()["items"][0]
    assert first["done"] and first["last_visit"]["outcome"] == "reached" and first["last_visit"]["flags"] == []
    todo = api("grid_a").get("/api/screening/day-list", {"todo": "true"}).json()
    assert [h["room"] for h in todo["items"]] == ["102"]
    found = api("grid_a").get("/api/screening/day-list", {"q": "1栋102"}).json()
    assert [h["room"] for h in found["items"]] == ["102"]


def test_a_visit_is_recorded_once_per_client_id(city, api):
    body = visit_body(city)
    first = api("grid_a").post("/api/screening/visits", body)
    assert first.status_code == 201
    second = api("grid_a").post("/api/screening/visits", body)
    assert second.status_code == 200 and second.json() == first.json()
    assert Visit.objects.count() == 1 and PersonCheck.objects.count() == 2
    result = first.json()
    assert result["client_id"] == body["client_id"] and result["area_code"] == "420102001001001"
    assert result["date"] == timezone.localdate().isoformat() and not result["self_report"]


def test_field_errors_name_the_person_row(city, api, error_fields):
    body = visit_body(city)
    body["persons"][1]["temperature"] = 43.5
    response = api("grid_a").post("/api/screening/visits", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "persons", 1, "temperature"]
    assert "34.0–43.0" in response.json()["detail"][0]["msg"]
    assert not Visit.objects.exists()


def test_schema_errors_are_422_too(city, api, error_fields):
    body = visit_body(city, method="carrier pigeon")
    body["persons"][0]["symptoms"] = ["hiccups"]
    response = api("grid_a").post("/api/screening/visits", body)
    assert response.status_code == 422
    assert {tuple(e["loc"][:2]) for e in response.json()["detail"]} == {("body", "method"), ("body", "persons")}


def test_a_new_occupant_through_the_api(city, api):
    doc = make_id_number("420102", dt.date(2001, 1, 1), 307)
    body = visit_body(city, "a102")
    body["persons"].append({"new_resident": {"name": "周新", "doc_number": doc}, "temperature": 36.9})
    response = api("grid_a").post("/api/screening/visits", body)
    assert response.status_code == 201
    bad = visit_body(city, "a102")
    bad["persons"].append({"new_resident": {"name": "周新", "doc_number": doc}, "temperature": 36.9})
    response = api("grid_a").post("/api/screening/visits", bad)
    assert response.json()["detail"][0]["loc"] == ["body", "persons", 1, "new_resident", "doc_number"]


def test_the_fever_threshold_follows_the_policy(city, api):
    body = visit_body(city)
    body["persons"][0]["temperature"] = 37.4
    assert api("grid_a").post("/api/screening/visits", body).json()["flags"] == ["fever"]
    change_policy(city.users["city"], {"fever_threshold_c": 37.5})
    body = visit_body(city)
    body["persons"][0]["temperature"] = 37.4
    assert api("grid_a").post("/api/screening/visits", body).json()["flags"] == []


def test_grid_b_cannot_see_or_record_grid_a(city, api):
    grid_b = api("grid_b")
    assert grid_b.post("/api/screening/visits", visit_body(city)).status_code == 404
    assert grid_b.get("/api/screening/day-list", {"area": "420102001001001"}).status_code == 404
    assert [h["room"] for h in grid_b.get("/api/screening/day-list").json()["items"]] == ["201"]
    assert grid_b.get("/api/screening/coverage/420102001001001").status_code == 404
    assert grid_b.get("/api/screening/coverage/420102001001").status_code == 404
    body = visit_body(city)
    body["persons"][0]["temperature"] = 38.8
    api("grid_a").post("/api/screening/visits", body)
    item = FollowUp.objects.get()
    assert grid_b.get("/api/screening/follow-ups").json()["count"] == 0
    assert grid_b.post(f"/api/screening/follow-ups/{item.pk}/dismiss", {"note": "x"}).status_code == 404
    assert not Visit.objects.filter(recorded_by=city.users["grid_b"]).exists()


def test_a_client_id_replayed_by_another_scope_reveals_nothing(city, api):
    body = visit_body(city)
    api("grid_a").post("/api/screening/visits", body)
    replay = visit_body(city, "b201", client_id=body["client_id"])
    response = api("grid_b").post("/api/screening/visits", replay)
    assert response.status_code == 422 and "zhangwei" not in response.content.decode()


@pytest.mark.parametrize("persona", ["volunteer", "guard", "facility"])
def test_other_roles_are_refused(city, api, persona):
    assert api(persona).get("/api/screening/day-list").status_code == 403
    assert api(persona).post("/api/screening/visits", visit_body(city)).status_code in (403, 404)


def test_coverage_of_an_area_on_a_day(city, api):
    api("grid_a").post("/api/screening/visits", visit_body(city))
    api("grid_a").post("/api/screening/visits", visit_body(city, "a102", method="phone"))
    cov = api("community").get("/api/screening/coverage/420102001001", {"days": 2}).json()
    assert cov["by"] == "area" and cov["days"] == 2
    assert {k: cov["total"][k] for k in ("households", "screened", "not_reached", "phone_only", "persons",
                                         "persons_reached", "missed")} == {
        "households": 3, "screened": 2, "not_reached": 1, "phone_only": 1, "persons": 4, "persons_reached": 3, "missed": 3}
    assert [r["label"] for r in cov["rows"]] == ["第一网格", "第二网格"]
    assert [p["screened"] for p in cov["trend"]] == [0, 2]
    by_building = api("grid_a").get("/api/screening/coverage/420102001001001").json()
    assert by_building["by"] == "building" and by_building["rows"][0]["building_id"] == city.buildings["a1"].pk


def test_the_follow_up_queue_take_and_dismiss(city, api, error_fields):
    body = visit_body(city)
    body["persons"][0].update({"temperature": 38.1, "symptoms": ["fatigue"]})
    api("grid_a").post("/api/screening/visits", body)
    items = api("community").get("/api/screening/follow-ups", {"status": "open"}).json()
    assert [(i["reason"], i["reasons"], i["temperature"]) for i in items["items"]] == [
        ("fever", ["fever", "symptoms"], 38.1)]  # one item for the person, with both reasons
    fever = items["items"][0]
    assert api("grid_a").post(f"/api/screening/follow-ups/{fever['id']}/take", {}).status_code == 403
    missing_note = api("community").post(f"/api/screening/follow-ups/{fever['id']}/dismiss", {"note": ""})
    assert missing_note.status_code == 422 and error_fields(missing_note) == {"note"}
    taken = api("community").post(f"/api/screening/follow-ups/{fever['id']}/take", {"note": "sent to fever clinic"})
    assert taken.status_code == 200 and taken.json()["status"] == "taken"
    again = api("street").post(f"/api/screening/follow-ups/{fever['id']}/dismiss", {"note": "x"})
    assert again.status_code == 409


def test_a_visit_records_how_each_temperature_was_taken(city, api, error_fields):
    body = visit_body(city)
    body["persons"][1].update({"outdoors": True, "ambient_c": 2.5})
    body["persons"][0].update({"temperature_method": "ear"})
    response = api("grid_a").post("/api/screening/visits", body)
    assert response.status_code in (200, 201), response.content
    persons = {p["resident_id"]: p for p in response.json()["persons"]}
    zhang, li = persons[city.residents["zhangwei"].pk], persons[city.residents["lina"].pk]
    assert (zhang["temperature_method"], zhang["reading_unreliable"]) == ("ear", False)
    assert (li["temperature_method"], li["outdoors"], li["ambient_c"], li["reading_unreliable"]) == (
        "forehead", True, 2.5, True)  # forehead is the default
    missing = visit_body(city)
    missing["persons"][0].update({"outdoors": True})
    refused = api("grid_a").post("/api/screening/visits", missing)
    assert refused.status_code == 422 and "ambient_c" in refused.content.decode()
    bad = visit_body(city)
    bad["persons"][0].update({"temperature_method": "mouth"})
    assert api("grid_a").post("/api/screening/visits", bad).status_code == 422
