"""The area pages, as each persona sees them: their own subtree, and 404 beyond it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.accounts.models import User
from fangkong.areas.models import Household, Unit

pytestmark = pytest.mark.django_db


def test_home_sends_each_user_to_their_own_area(city, login):
    for persona, code in (("city", "4201"), ("community", "420102001001"), ("root", "4201")):
        response = login(city.users[persona]).get("/")
        assert response.status_code == 302
        assert response["Location"] == reverse("areas:detail", args=[code])


def test_home_sends_a_role_to_the_start_a_higher_app_registered(city, login):
    # The screening registers the day list as a grid worker's start (fangkong.core.landing).
    assert login(city.users["grid_a"]).get("/")["Location"] == reverse("screening:today")


def test_home_sends_a_gate_guard_to_the_compound(city, login):
    response = login(city.users["guard"]).get("/")
    assert response["Location"] == reverse("areas:compound", args=[city.compounds["qinghe"].pk])


def test_home_sends_facility_staff_to_their_facility_and_the_registry_stays_out_of_their_scope(city, login):
    client = login(city.users["facility"])
    response = client.get("/")
    assert response["Location"] == reverse("facilities:detail", args=[city.facilities["hospital"].pk])
    assert client.get(reverse("areas:detail", args=["4201"])).status_code == 404


def test_an_account_without_a_scope_is_told_so(city, login):
    nobody = User.objects.create_user(username="nobody", password="x-Long-enough-2020")
    response = login(nobody).get("/")
    assert response.status_code == 200
    assert b"not in your scope" in response.content


def test_anonymous_visitors_are_sent_to_log_in(client, city):
    response = client.get(reverse("areas:detail", args=["4201"]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("persona,code", [
    ("city", "4201"), ("district", "420102"), ("street", "420102001"), ("community", "420102001001"),
    ("grid_a", "420102001001001"), ("volunteer", "420102001001"), ("other_community", "420106001001"),
])
def test_every_persona_sees_their_home_area(city, login, persona, code):
    response = login(city.users[persona]).get(reverse("areas:detail", args=[code]))
    assert response.status_code == 200
    assert city.users[persona].area.name in response.content.decode()


def test_community_page_shows_counts_grids_and_compounds(city, login):
    html = login(city.users["community"]).get(reverse("areas:detail", args=["420102001001"])).content.decode()
    assert "第一网格" in html and "第二网格" in html
    assert "青和居小区" in html and "114.301234" in html
    counts = login(city.users["community"]).get(reverse("areas:detail", args=["420102001001"])).context["counts"]
    assert (counts.households, counts.residents, counts.special) == (3, 4, 1)


def test_breadcrumbs_link_only_within_scope(city, login):
    html = login(city.users["grid_a"]).get(reverse("areas:detail", args=["420102001001001"])).content.decode()
    assert "青和居社区" in html and "武汉市" in html
    assert reverse("areas:detail", args=["420102001001"]) not in html
    assert reverse("areas:detail", args=["4201"]) not in html
    html = login(city.users["district"]).get(reverse("areas:detail", args=["420102001001001"])).content.decode()
    assert reverse("areas:detail", args=["420102001001"]) in html
    assert reverse("areas:detail", args=["4201"]) not in html


def test_grid_page_lists_its_buildings_only(city, login):
    response = login(city.users["grid_a"]).get(reverse("areas:detail", args=["420102001001001"]))
    buildings = [row["building"] for row in response.context["buildings"]]
    assert buildings == [city.buildings["a1"]]
    assert response.context["buildings"][0]["households"] == 2


def test_households_not_yet_in_a_grid_get_their_own_row(city, login):
    response = login(city.users["other_community"]).get(reverse("areas:detail", args=["420106001001"]))
    assert response.context["unassigned"].households == 1
    assert "Not yet assigned to a grid" in response.content.decode()


def test_out_of_scope_areas_answer_404(city, login):
    other = login(city.users["other_community"])
    for code in ("420102001001", "420102001001001", "420102", "4201", "999999"):
        assert other.get(reverse("areas:detail", args=[code])).status_code == 404
    assert other.get(reverse("areas:compound", args=[city.compounds["qinghe"].pk])).status_code == 404
    assert other.get(reverse("areas:building", args=[city.buildings["a1"].pk])).status_code == 404
    grid_b = login(city.users["grid_b"])
    assert grid_b.get(reverse("areas:detail", args=["420102001001001"])).status_code == 404
    assert grid_b.get(reverse("areas:building", args=[city.buildings["a1"].pk])).status_code == 404


def test_compound_and_building_pages_render(city, login):
    client = login(city.users["community"])
    html = client.get(reverse("areas:compound", args=[city.compounds["qinghe"].pk])).content.decode()
    assert "1栋" in html and "2栋" in html
    html = client.get(reverse("areas:building", args=[city.buildings["a1"].pk])).content.decode()
    assert "101" in html and "102" in html and "1单元" in html


def test_a_grid_worker_sees_only_their_buildings_in_a_shared_compound(city, login):
    response = login(city.users["grid_a"]).get(reverse("areas:compound", args=[city.compounds["qinghe"].pk]))
    assert [row["building"] for row in response.context["buildings"]] == [city.buildings["a1"]]


def test_a_gate_guard_sees_the_compound_and_its_buildings(city, login):
    client = login(city.users["guard"])
    assert client.get(reverse("areas:compound", args=[city.compounds["qinghe"].pk])).status_code == 200
    assert client.get(reverse("areas:building", args=[city.buildings["b2"].pk])).status_code == 200
    assert client.get(reverse("areas:compound", args=[city.compounds["ziyang"].pk])).status_code == 404


def test_a_big_building_is_paginated_in_natural_room_order_with_few_queries(city, login):
    building = city.buildings["a1"]
    unit = Unit.objects.create(building=building, name="2单元")
    for room in ("1001", "201", "99", "1002", *(str(300 + i) for i in range(150))):
        Household(unit=unit, room=room).save()
    client = login(city.users["grid_a"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("areas:building", args=[building.pk]))
    assert response.status_code == 200
    assert len(queries) < 15
    rooms = [h.room for h in response.context["page"].object_list if h.unit_id == unit.pk]
    assert rooms[:3] == ["99", "201", "300"]
    assert response.context["page"].paginator.num_pages == 2
    page2 = client.get(reverse("areas:building", args=[building.pk]) + "?page=2").context["page"]
    assert [h.room for h in page2.object_list][-2:] == ["1001", "1002"]


def test_area_page_query_count_does_not_grow_with_children(city, login):
    client = login(city.users["city"])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("areas:detail", args=["420102001001"])).status_code == 200
    assert len(queries) < 20
