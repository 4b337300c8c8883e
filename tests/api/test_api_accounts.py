"""Account management through the API: the same reach, rules, field errors and audit log as the screens."""

import pytest

from fangkong.accounts.models import Role, User
from fangkong.audit.models import Action, AuditLog


def new_grid_worker(city, **overrides) -> dict:
    return {"username": "grid_new", "full_name": "王小明", "role": Role.GRID_WORKER, "phone": "13800138001",
            "area_code": city.areas["grid_a"].code, **overrides}


def test_a_street_commander_lists_the_accounts_he_manages_with_phones_masked(city, api):
    User.objects.filter(username="grid_a").update(phone="13800138000")
    response = api("street").get("/api/accounts")
    assert response.status_code == 200
    items = response.json()["items"]
    assert sorted(a["username"] for a in items) == ["community", "grid_a", "grid_b", "guard", "volunteer"]
    grid_a = next(a for a in items if a["username"] == "grid_a")
    assert grid_a["masked_phone"] == "138****8000" and "13800138000" not in response.content.decode()
    filtered = api("street").get("/api/accounts", {"role": Role.GRID_WORKER, "area": city.areas["grid_b"].code}).json()
    assert [a["username"] for a in filtered["items"]] == ["grid_b"]


@pytest.mark.parametrize("persona", ["grid_a", "volunteer", "guard", "facility"])
def test_workers_who_manage_nobody_get_403(city, api, persona):
    assert api(persona).get("/api/accounts").status_code == 403
    assert api(persona).post("/api/accounts", new_grid_worker(city)).status_code == 403
    assert api(persona).post(f"/api/accounts/{city.users['grid_b'].pk}/reset-password").status_code == 403
    assert api(persona).get("/api/me").json()["permissions"]["manage_accounts"] is False


def test_accounts_out_of_reach_answer_404(city, api):
    for outsider in ("other_community", "district", "root", "street"):
        pk = city.users[outsider].pk
        assert api("street").get(f"/api/accounts/{pk}").status_code == 404
        assert api("street").patch(f"/api/accounts/{pk}", {"full_name": "x"}).status_code == 404
        for action in ("deactivate", "reactivate", "reset-password", "unlock"):
            assert api("street").post(f"/api/accounts/{pk}/{action}").status_code == 404


def test_creating_returns_the_generated_password_once_and_audits_without_it(city, api):
    response = api("street").post("/api/accounts", new_grid_worker(city))
    assert response.status_code == 201, response.content
    body = response.json()
    password = body["password"]
    account = User.objects.get(username="grid_new")
    assert body["account"]["id"] == account.pk and body["account"]["masked_phone"] == "138****8001"
    assert account.check_password(password) and account.area == city.areas["grid_a"]
    entry = AuditLog.objects.get(action=Action.CREATE, object_type="accounts.user")
    assert password not in str(entry.changes) and entry.username == "street"
    again = api("street").post("/api/accounts", new_grid_worker(city, username="grid_new2", password="Wuhan-Grid-2020"))
    assert again.status_code == 201 and again.json()["password"] is None


@pytest.mark.parametrize(("overrides", "field"), [
    ({"role": Role.STREET_COMMANDER, "area_code": "420102001"}, "role"),
    ({"role": Role.DISTRICT_COMMANDER, "area_code": "420102"}, "role"),
    ({"role": "superuser"}, "role"),
    ({"area_code": "420106001001"}, "area_code"),  # outside the street (fields named as in the request)
    ({"area_code": "420102001001"}, "area_code"),  # a community for a grid worker
    ({"phone": "12345"}, "phone"),
    ({"username": "grid_a"}, "username"),
    ({"full_name": " "}, "full_name"),
    ({"password": "abc"}, "password"),
])
def test_bad_input_gives_field_errors(city, api, error_fields, overrides, field):
    response = api("street").post("/api/accounts", new_grid_worker(city, **overrides))
    assert response.status_code == 422
    assert field in error_fields(response)
    assert not User.objects.filter(username="grid_new").exists()


def test_a_patch_changes_the_given_fields_and_an_unchanged_scope_stays(city, api):
    grid_a = city.users["grid_a"]
    response = api("street").patch(f"/api/accounts/{grid_a.pk}", {"full_name": "张网格", "phone": "139 0013 9000"})
    assert response.status_code == 200, response.content
    grid_a.refresh_from_db()
    assert (grid_a.first_name, grid_a.phone, grid_a.area) == ("张网格", "13900139000", city.areas["grid_a"])
    moved = api("street").patch(f"/api/accounts/{grid_a.pk}", {"role": Role.GATE_GUARD, "compound_id": city.compounds["qinghe"].pk})
    assert moved.status_code == 200, moved.content
    grid_a.refresh_from_db()
    assert (grid_a.role, grid_a.area, grid_a.compound) == (Role.GATE_GUARD, None, city.compounds["qinghe"])
    refused = api("street").patch(f"/api/accounts/{grid_a.pk}", {"compound_id": city.compounds["ziyang"].pk})
    assert refused.status_code == 422
    assert [e.changes.get("role") for e in AuditLog.objects.filter(action=Action.UPDATE).order_by("id")] == [
        None, [Role.GRID_WORKER, Role.GATE_GUARD]]


def test_deactivate_reset_and_unlock(city, api):
    pk = city.users["grid_a"].pk
    assert api("street").post(f"/api/accounts/{pk}/deactivate").json()["is_active"] is False
    assert api("street").post(f"/api/accounts/{pk}/reactivate").json()["is_active"] is True
    password = api("street").post(f"/api/accounts/{pk}/reset-password").json()["password"]
    assert User.objects.get(pk=pk).check_password(password)
    assert api("street").post(f"/api/accounts/{pk}/unlock").json() == {"cleared": 0}
    assert AuditLog.objects.filter(action=Action.UPDATE, object_id=str(pk)).count() == 3
