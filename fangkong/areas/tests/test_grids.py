"""Grid management: create, rename, assign and move buildings, name workers, merge and remove grids.

Personas: the 青和居 community worker manages its two grids; the street commander above may too; the
紫阳 community worker (another district) must get 404; grid workers and volunteers may not manage.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from fangkong.areas import grids
from fangkong.areas.models import Area, Building, Household, Level
from fangkong.areas.services import child_counts
from fangkong.audit.models import Action, AuditLog
from fangkong.cases.models import Case
from fangkong.people.models import Resident
from fangkong.screening.daylist import day_list
from fangkong.screening.models import Campaign

pytestmark = pytest.mark.django_db


def _household_codes(building: Building) -> set[str]:
    return set(Household.objects.filter(building=building).values_list("area_code", flat=True))


def _day_list_buildings(user, code: str) -> set[str]:
    return {group.building.name for group in day_list(user, code, dt.date(2020, 2, 1)).groups}


# --- Creating and naming ---------------------------------------------------------------------------

def test_a_community_worker_creates_a_grid_with_the_next_free_code(city, login):
    client = login(city.users["community"])
    response = client.post(reverse("areas:grid_create", args=["420102001001"]), {"name": " 第三网格 "})
    grid = Area.objects.get(name="第三网格")
    assert response.status_code == 302 and response["Location"] == reverse("areas:grid_manage", args=[grid.code])
    assert (grid.code, grid.level, grid.parent_id) == ("420102001001003", Level.GRID, city.areas["qinghe"].pk)
    entry = AuditLog.objects.get(action=Action.CREATE, object_type="areas.area", object_id=str(grid.pk))
    assert entry.username == "community" and entry.area_code == grid.code


def test_a_removed_grid_code_is_never_handed_out_again(city):
    user = city.users["community"]
    third = grids.create_grid(user, city.areas["qinghe"], "第三网格")
    grids.delete_grid(user, third)
    assert grids.create_grid(user, city.areas["qinghe"], "第四网格").code == "420102001001004"


def test_past_the_last_number_the_first_gap_is_taken(city):
    qinghe = city.areas["qinghe"]
    Area.objects.create(code="420102001001999", name="末号网格", level=Level.GRID, parent=qinghe)
    assert grids.next_grid_code(qinghe) == "420102001001003"


def test_a_duplicate_or_empty_name_is_a_field_error_and_nothing_is_created(city, login):
    client = login(city.users["community"])
    before = Area.objects.count()
    response = client.post(reverse("areas:grid_create", args=["420102001001"]), {"name": "第一网格"})
    assert response.status_code == 400
    assert "already has an area named 第一网格" in response.context["errors"]["name"]
    response = client.post(reverse("areas:grid_create", args=["420102001001"]), {"name": "   "})
    assert response.status_code == 400 and "name" in response.context["errors"]
    assert Area.objects.count() == before


def test_renaming_a_grid_is_audit_logged(city, login):
    client = login(city.users["community"])
    response = client.post(reverse("areas:grid_rename", args=["420102001001001"]), {"name": "东区网格"})
    assert response.status_code == 302
    grid = Area.objects.get(code="420102001001001")
    assert grid.name == "东区网格"
    entry = AuditLog.objects.get(action=Action.UPDATE, object_type="areas.area", object_id=str(grid.pk))
    assert entry.changes == {"name": ["第一网格", "东区网格"]}
    assert client.post(reverse("areas:grid_rename", args=["420102001001001"]), {"name": "第二网格"}).status_code == 400


# --- Buildings ---------------------------------------------------------------------------------------

def test_ticking_an_unassigned_building_puts_it_in_the_counts_and_day_list_at_once(city, login):
    qinghe, grid_a = city.areas["qinghe"], city.areas["grid_a"]
    loose = Building(compound=city.compounds["qinghe"], name="3栋", floors=6)
    loose.save()
    unit = loose.units.create(name="1单元")
    household = Household(unit=unit, room="301")
    household.save()
    Resident.objects.filter(pk=city.residents["wangfang"].pk).update(household=household, area_code=household.area_code)
    assert household.area_code == qinghe.code  # in nobody's grid

    response = login(city.users["community"]).post(reverse("areas:grid_buildings", args=[grid_a.code]),
                                                  {"buildings": [loose.pk]})
    assert response.status_code == 302
    loose.refresh_from_db()
    assert (loose.grid_id, loose.area_code) == (grid_a.pk, grid_a.code)
    assert _household_codes(loose) == {grid_a.code}
    assert Resident.objects.get(pk=city.residents["wangfang"].pk).area_code == grid_a.code
    counts = child_counts(qinghe)
    assert counts[grid_a.code].households == 3 and qinghe.code not in counts
    assert "3栋" in _day_list_buildings(city.users["grid_a"], grid_a.code)
    entry = AuditLog.objects.get(action=Action.UPDATE, object_type="areas.building", object_id=str(loose.pk))
    assert entry.changes == {"grid": [None, "第一网格"]} and entry.area_code == qinghe.code


def test_moving_a_building_to_another_grid_moves_its_people_and_their_cases(city, login):
    grid_a, grid_b, a1 = city.areas["grid_a"], city.areas["grid_b"], city.buildings["a1"]
    case = Case.objects.create(resident=city.residents["zhangwei"], status="fever", area_code=grid_a.code)
    assert case.area_code == grid_a.code
    response = login(city.users["community"]).post(reverse("areas:grid_buildings", args=[grid_a.code]),
                                                  {"buildings": [a1.pk], "target": grid_b.code})
    assert response.status_code == 302
    assert _household_codes(a1) == {grid_b.code}
    assert set(Resident.objects.filter(household__building=a1).values_list("area_code", flat=True)) == {grid_b.code}
    case.refresh_from_db()
    assert case.area_code == grid_b.code
    assert _day_list_buildings(city.users["grid_b"], grid_b.code) == {"1栋", "2栋"}
    assert day_list(city.users["grid_a"], grid_a.code, dt.date(2020, 2, 1)).total == 0
    entry = AuditLog.objects.get(object_type="areas.building", object_id=str(a1.pk))
    assert entry.changes == {"grid": ["第一网格", "第二网格"]}


def test_a_building_of_another_community_cannot_be_ticked_in(city, login):
    z1 = city.buildings["z1"]
    response = login(city.users["community"]).post(reverse("areas:grid_buildings", args=["420102001001001"]),
                                                  {"buildings": [z1.pk]})
    assert response.status_code == 400 and "buildings" in response.context["errors"]
    z1.refresh_from_db()
    assert z1.grid_id is None and z1.area_code == "420106001001"
    response = login(city.users["community"]).post(reverse("areas:grid_buildings", args=["420102001001001"]),
                                                  {"buildings": ["x"]})
    assert response.status_code == 400


# --- Workers -----------------------------------------------------------------------------------------

def test_naming_a_grid_worker_moves_the_account_and_the_grid_page_names_them(city, login):
    user = city.users["community"]
    third = grids.create_grid(user, city.areas["qinghe"], "第三网格")
    client = login(user)
    assert [a.username for a in client.get(reverse("areas:grid_manage", args=[third.code])).context["candidates"]] == [
        "grid_a", "grid_b"]
    worker = city.users["grid_b"]
    response = client.post(reverse("areas:grid_worker", args=[third.code]), {"account": worker.pk})
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.area_id == third.pk
    entry = AuditLog.objects.get(object_type="accounts.user", object_id=str(worker.pk))
    assert entry.changes["area"] == ["第二网格 (420102001001002)", "第三网格 (420102001001003)"]
    page = client.get(reverse("areas:detail", args=[third.code])).content.decode()
    assert 'id="grid-workers"' in page and "grid_b" in page
    # The volunteer is not a grid worker; someone of another community is out of reach.
    for account in (city.users["volunteer"], city.users["other_community"]):
        assert client.post(reverse("areas:grid_worker", args=[third.code]), {"account": account.pk}).status_code == 400


# --- Merging and removing ----------------------------------------------------------------------------

def test_merging_moves_buildings_and_workers_then_removes_the_emptied_grid(city, login):
    grid_a, grid_b = city.areas["grid_a"], city.areas["grid_b"]
    response = login(city.users["community"]).post(reverse("areas:grid_merge", args=[grid_b.code]),
                                                  {"target": grid_a.code})
    assert response.status_code == 302 and response["Location"] == reverse("areas:grid_manage", args=[grid_a.code])
    assert not Area.objects.filter(pk=grid_b.pk).exists()
    b2 = Building.objects.get(pk=city.buildings["b2"].pk)
    assert (b2.grid_id, b2.area_code) == (grid_a.pk, grid_a.code)
    assert Resident.objects.get(pk=city.residents["wangfang"].pk).area_code == grid_a.code
    worker = city.users["grid_b"]
    worker.refresh_from_db()
    assert worker.area_id == grid_a.pk
    assert AuditLog.objects.filter(action=Action.DELETE, object_type="areas.area", area_code=grid_b.code).exists()
    assert AuditLog.objects.filter(object_type="accounts.user", object_id=str(worker.pk)).exists()
    assert child_counts(city.areas["qinghe"])[grid_a.code].households == 3
    # Its code is retired.
    assert grids.next_grid_code(city.areas["qinghe"]) == "420102001001003"


def test_a_merge_that_cannot_remove_the_grid_changes_nothing(city, login):
    grid_a, grid_b = city.areas["grid_a"], city.areas["grid_b"]
    Campaign.objects.create(name="拉网", area=grid_b, start_date=dt.date(2020, 2, 1), end_date=dt.date(2020, 2, 3))
    response = login(city.users["community"]).post(reverse("areas:grid_merge", args=[grid_b.code]),
                                                  {"target": grid_a.code})
    assert response.status_code == 400 and "grid" in response.context["errors"]
    assert Building.objects.get(pk=city.buildings["b2"].pk).grid_id == grid_b.pk
    assert Household.objects.get(pk=city.households["b201"].pk).area_code == grid_b.code
    assert _area_of(city.users["grid_b"]) == grid_b.pk


def _area_of(user) -> int:
    user.refresh_from_db()
    return user.area_id


def test_merging_into_itself_or_another_community_is_refused(city):
    user = city.users["community"]
    for target in ("420102001001001", "420106001001", "nonsense"):
        with pytest.raises(ValidationError):
            grids.merge_grids(user, city.areas["grid_a"], target)


def test_a_grid_with_buildings_or_workers_cannot_be_removed(city, login):
    client = login(city.users["community"])
    response = client.post(reverse("areas:grid_delete", args=["420102001001001"]))
    assert response.status_code == 400 and "move them" in response.context["errors"]["grid"]
    grids.move_buildings(city.users["community"], city.areas["grid_b"], [city.buildings["a1"].pk])
    response = client.post(reverse("areas:grid_delete", args=["420102001001001"]))
    assert response.status_code == 400 and "accounts work in this grid" in response.context["errors"]["grid"]
    grids.name_worker(city.users["community"], city.areas["grid_b"], city.users["grid_a"].pk)
    response = client.post(reverse("areas:grid_delete", args=["420102001001001"]))
    assert response.status_code == 302 and response["Location"] == reverse("areas:grids", args=["420102001001"])
    assert not Area.objects.filter(code="420102001001001").exists()


# --- Who may -----------------------------------------------------------------------------------------

GRID_URLS = [("areas:grids", "420102001001", "get"), ("areas:grid_create", "420102001001", "post"),
             ("areas:grid_manage", "420102001001001", "get"), ("areas:grid_rename", "420102001001001", "post"),
             ("areas:grid_buildings", "420102001001001", "post"), ("areas:grid_worker", "420102001001001", "post"),
             ("areas:grid_merge", "420102001001001", "post"), ("areas:grid_delete", "420102001001001", "post")]


@pytest.mark.parametrize("name,code,method", GRID_URLS)
def test_a_worker_of_another_community_gets_404_and_nothing_changes(city, login, name, code, method):
    client = login(city.users["other_community"])
    data = {"name": "抢注网格", "target": "420102001001002", "buildings": [city.buildings["a1"].pk],
            "account": city.users["grid_a"].pk}
    response = getattr(client, method)(reverse(name, args=[code]), data)
    assert response.status_code == 404
    assert Area.objects.filter(code__startswith="420102001001").count() == 3
    assert Building.objects.get(pk=city.buildings["a1"].pk).grid_id == city.areas["grid_a"].pk


@pytest.mark.parametrize("persona,status", [("grid_a", 403), ("volunteer", 403), ("guard", 404), ("facility", 404)])
def test_roles_that_manage_no_grids_may_not_open_the_grid_screens(city, login, persona, status):
    response = login(city.users[persona]).get(reverse("areas:grid_manage", args=["420102001001001"]))
    assert response.status_code == status
    assert not grids.can_manage_grids(city.users[persona], city.areas["grid_a"])


def test_a_grid_worker_of_the_community_cannot_see_the_community_page(city, login):
    assert login(city.users["grid_a"]).get(reverse("areas:grids", args=["420102001001"])).status_code == 404


@pytest.mark.parametrize("persona", ["community", "street", "district", "city", "root"])
def test_community_workers_and_commanders_above_manage_grids(city, login, persona):
    client = login(city.users[persona])
    page = client.get(reverse("areas:detail", args=["420102001001"])).content.decode()
    assert reverse("areas:grids", args=["420102001001"]) in page
    response = client.get(reverse("areas:grids", args=["420102001001"]))
    assert response.status_code == 200
    assert [row.grid.name for row in response.context["rows"]] == ["第一网格", "第二网格"]
    assert client.get(reverse("areas:grid_manage", args=["420102001001001"])).status_code == 200


def test_the_volunteer_sees_no_grid_management_link(city, login):
    page = login(city.users["volunteer"]).get(reverse("areas:detail", args=["420102001001"])).content.decode()
    assert reverse("areas:grids", args=["420102001001"]) not in page


def test_services_refuse_a_user_without_the_right(city):
    with pytest.raises(PermissionDenied):
        grids.create_grid(city.users["grid_a"], city.areas["qinghe"], "第三网格")
    with pytest.raises(PermissionDenied):
        grids.move_buildings(city.users["other_community"], city.areas["grid_a"], [city.buildings["b2"].pk])


def test_a_code_taken_at_the_same_moment_is_retried_with_the_next_one(city, monkeypatch):
    # Another worker's grid took the number between our reading it and our insert (a stale read): the
    # unique constraint refuses ours, nothing half-written stays, and the allocation runs again.
    real = grids.next_grid_code
    calls = []

    def stale_then_real(community):
        calls.append(1)
        return "420102001001002" if len(calls) == 1 else real(community)

    monkeypatch.setattr(grids, "next_grid_code", stale_then_real)
    grid = grids.create_grid(city.users["community"], city.areas["qinghe"], "第三网格")
    assert grid.code == "420102001001003" and len(calls) == 2
    assert AuditLog.objects.filter(action=Action.CREATE, object_type="areas.area").count() == 1


def test_the_building_page_links_to_where_its_grid_is_changed(city, login):
    a1, z1 = city.buildings["a1"], city.buildings["z1"]
    page = login(city.users["community"]).get(reverse("areas:building", args=[a1.pk])).content.decode()
    assert reverse("areas:grid_manage", args=["420102001001001"]) in page
    page = login(city.users["other_community"]).get(reverse("areas:building", args=[z1.pk])).content.decode()
    assert reverse("areas:grids", args=["420106001001"]) in page  # no grid yet: the community's grids
    page = login(city.users["grid_a"]).get(reverse("areas:building", args=[a1.pk])).content.decode()
    assert 'id="change-grid"' not in page
