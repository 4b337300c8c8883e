"""Reveals, changes, policy and imports through the API: permission, audit log, field-level errors."""

import datetime as dt

import pytest

from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.people.models import Resident
from fangkong.policy.models import PolicyVersion


@pytest.mark.parametrize("persona", ["volunteer", "guard"])
def test_volunteers_and_gate_guards_cannot_reveal(city, api, persona):
    response = api(persona).post(f"/api/residents/{city.residents['zhangwei'].pk}/reveal")
    assert response.status_code == 403
    assert not AuditLog.objects.filter(action=Action.REVEAL).exists()


def test_a_reveal_returns_full_values_and_writes_the_audit_log(city, api):
    zhang = city.residents["zhangwei"]
    response = api("grid_a").post(f"/api/residents/{zhang.pk}/reveal")
    assert response.status_code == 200
    assert response.json() == {"doc_number": zhang.doc_number, "phone": zhang.phone, "birth_date": "1985-03-02"}
    entry = AuditLog.objects.get(action=Action.REVEAL)
    assert (entry.username, entry.object_id, entry.area_code) == ("grid_a", str(zhang.pk), city.areas["grid_a"].code)
    assert entry.changes == {"revealed": ["doc_number", "phone"]}


def test_a_patch_changes_only_the_given_fields_and_audits_before_and_after(city, api):
    zhang = city.residents["zhangwei"]
    response = api("grid_a").patch(f"/api/residents/{zhang.pk}", {"phone": "+86 139-0013-9999", "special_groups": ["慢性病"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["masked_phone"] == "139****9999"
    assert body["special_groups"] == 32
    zhang.refresh_from_db()
    assert (zhang.phone, zhang.name, zhang.special_groups) == ("13900139999", "张伟", 32)
    entry = AuditLog.objects.get(action=Action.UPDATE)
    assert entry.changes == {"phone": ["13800138000", "13900139999"], "special_groups": [0, 32]}
    assert entry.username == "grid_a"


def test_a_patch_that_changes_nothing_writes_no_audit_entry(city, api):
    zhang = city.residents["zhangwei"]
    assert api("grid_a").patch(f"/api/residents/{zhang.pk}", {"name": "张伟"}).status_code == 200
    assert not AuditLog.objects.filter(action=Action.UPDATE).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"phone": "12345"}, "phone"),
    ({"doc_number": "420102198503020112"}, "doc_number"),  # wrong check digit
    ({"birth_date": "1985-02-30"}, "birth_date"),
    ({"birth_date": "1990-01-01"}, "birth_date"),  # disagrees with the ID number
    ({"sex": "F"}, "sex"),  # disagrees with the ID number
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"relation": "boss"}, "relation"),
    ({"special_groups": ["unknown tag"]}, "special_groups"),
    ({"special_groups": 999}, "special_groups"),
    ({"note": "x" * 201}, "note"),
    ({"note": "nul\u0000byte"}, "note"),
    ({"name": 12}, "name"),
])
def test_a_bad_patch_answers_422_naming_the_field_and_changes_nothing(city, api, body, field, error_fields):
    zhang = city.residents["zhangwei"]
    before = Resident.objects.values().get(pk=zhang.pk)
    response = api("grid_a").patch(f"/api/residents/{zhang.pk}", body)
    assert response.status_code == 422, response.content
    assert field in error_fields(response)
    assert all(error["loc"][0] == "body" for error in response.json()["detail"])
    assert Resident.objects.values().get(pk=zhang.pk) == before
    assert not AuditLog.objects.filter(action=Action.UPDATE).exists()


def test_a_patch_to_another_residents_document_number_is_a_field_error(city, api, error_fields):
    response = api("community").patch(f"/api/residents/{city.residents['zhangwei'].pk}",
                                      {"doc_number": city.residents["lina"].doc_number})
    assert response.status_code == 422
    assert "doc_number" in error_fields(response)


def test_a_new_id_number_brings_its_own_sex_and_birth_date(city, api):
    number = make_id_number("420102", dt.date(1986, 4, 5), 12)  # even sequence: a woman
    response = api("community").patch(f"/api/residents/{city.residents['zhangwei'].pk}", {"doc_number": number})
    assert response.status_code == 200, response.content
    assert (response.json()["sex"], response.json()["birth_year"]) == ("F", 1986)


def test_volunteers_cannot_edit_residents(city, api):
    response = api("volunteer").patch(f"/api/residents/{city.residents['zhangwei'].pk}", {"note": "x"})
    assert response.status_code == 403


def test_creating_a_resident_in_a_household_reads_sex_and_birth_from_the_id(city, api):
    number = make_id_number("420102", dt.date(2001, 5, 6), 77)
    response = api("grid_a").post(f"/api/households/{city.households['a102'].pk}/residents",
                                  {"name": "王小明", "doc_number": number, "relation": "孙子", "is_new_occupant": True})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["sex"], body["birth_year"], body["relation"]) == ("M", 2001, "grandchild")
    assert body["masked_doc_number"].endswith(number[-4:]) and number not in str(body)
    created = Resident.objects.get(pk=body["id"])
    assert created.is_new_occupant and created.household_id == city.households["a102"].pk
    assert AuditLog.objects.filter(action=Action.CREATE, object_id=str(created.pk)).exists()


def test_creating_a_resident_with_bad_fields_lists_every_field(city, api, error_fields):
    response = api("grid_a").post(f"/api/households/{city.households['a102'].pk}/residents",
                                  {"name": "王小明", "doc_number": "123", "phone": "555"})
    assert response.status_code == 422
    assert {"doc_number", "phone"} <= error_fields(response)
    assert not Resident.objects.filter(name="王小明").exists()


def test_creating_a_resident_with_a_missing_required_field_is_a_field_error(city, api):
    response = api("grid_a").post(f"/api/households/{city.households['a102'].pk}/residents", {"name": "王小明"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "doc_number"]


def test_creating_in_another_grid_household_is_404(city, api):
    number = make_id_number("420102", dt.date(2001, 5, 6), 77)
    response = api("grid_b").post(f"/api/households/{city.households['a102'].pk}/residents",
                                  {"name": "王小明", "doc_number": number})
    assert response.status_code == 404


def test_everyone_reads_the_policy_in_force(city, api):
    response = api("guard").get("/api/policy")
    assert response.status_code == 200
    assert response.json()["version"] == 0
    assert response.json()["policy"]["fever_threshold_c"] == 37.3


@pytest.mark.parametrize("persona", ["district", "street", "community", "grid_a", "volunteer", "guard"])
def test_only_city_commanders_change_the_policy(city, api, persona):
    response = api(persona).put("/api/policy", {"observation_days": 7})
    assert response.status_code == 403
    assert not PolicyVersion.objects.exists()


def test_a_city_commander_changes_the_policy_keeping_other_values(city, api):
    first = api("city").put("/api/policy", {"observation_days": 7, "note": "2022 edition"})
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 1
    second = api("city").put("/api/policy", {"post_discharge_days": 7})
    assert second.json()["version"] == 2
    assert second.json()["policy"]["observation_days"] == 7
    assert second.json()["policy"]["post_discharge_days"] == 7
    assert PolicyVersion.objects.count() == 2
    assert api("grid_a").get("/api/policy").json()["version"] == 2
    assert AuditLog.objects.filter(action=Action.POLICY).count() == 2


@pytest.mark.parametrize(("body", "loc"), [
    ({"observation_days": 0}, ["body", "observation_days"]),
    ({"fever_threshold_c": "hot"}, ["body", "fever_threshold_c"]),
    ({"no_such_rule": 1}, ["body", "no_such_rule"]),
    ({"observation_days": None}, ["body", "observation_days"]),
    ({"fever_threshold_c": 39.5, "temperature_max_c": 39.0}, ["body"]),  # inconsistent as a whole
    ({"routing": {"mild": ["spaceship"]}}, ["body"]),
])
def test_a_bad_policy_change_answers_422_with_its_location(city, api, body, loc):
    response = api("city").put("/api/policy", body)
    assert response.status_code == 422, response.content
    assert loc in [error["loc"] for error in response.json()["detail"]]
    assert not PolicyVersion.objects.exists()
