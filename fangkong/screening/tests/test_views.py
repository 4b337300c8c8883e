"""The screening pages as each persona sees them: their own households, 404 beyond, field errors in place."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from fangkong.areas.models import Building, Household, Unit
from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.people.models import Resident
from fangkong.policy.forms import PolicyForm
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy
from fangkong.screening.links import link_for
from fangkong.screening.models import Campaign, FollowUp, Visit
from fangkong.screening.testing import at, not_reached, reached
from fangkong.screening.visits import record_visit
from fangkong.testing import run_export

pytestmark = pytest.mark.django_db


def visit_post(city, household="a101", **overrides) -> dict:
    """The visit form as a browser posts it: everyone of the household present at 36.5 °C."""
    data = {"client_id": str(uuid.uuid4()), "method": "door", "outcome": "reached", "note": ""}
    for resident in Resident.objects.filter(household=city.households[household]):
        data.update({f"r{resident.pk}-presence": "present", f"r{resident.pk}-temperature": "36.5"})
    for i in range(2):
        data.update({f"n{i}-doc_type": "id_card", f"n{i}-relation": "tenant", f"n{i}-presence": "present"})
    data.update(overrides)
    return data


def test_the_day_list_shows_my_grids_households_by_building(city, login):
    response = login(city.users["grid_a"]).get(reverse("screening:today"))
    assert response.status_code == 200
    groups = response.context["groups"]
    assert [g.building for g in groups] == [city.buildings["a1"]]
    assert [e.household for e in groups[0].entries] == [city.households["a101"], city.households["a102"]]
    assert (response.context["done"], response.context["total"]) == (0, 2)
    html = response.content.decode()
    assert "青和居小区 1栋" in html and "2栋" not in html


def test_screened_households_are_shown_done_with_their_last_result(city, login):
    record_visit(city.users["grid_a"], city.households["a101"], reached(city.residents["zhangwei"], temperature="38.0"))
    response = login(city.users["grid_a"]).get(reverse("screening:today"))
    entries = {e.household.room: e for e in response.context["groups"][0].entries}
    assert entries["101"].done and not entries["102"].done
    assert entries["101"].last_visit.flags and entries["101"].residents == 2
    assert response.context["done"] == 1
    assert "Fever" in response.content.decode()


def test_a_community_worker_picks_an_area(city, login):
    client = login(city.users["community"])
    response = client.get(reverse("screening:today"))
    assert response.context["total"] == 3
    response = client.get(reverse("screening:today"), {"area": city.areas["grid_b"].code})
    assert response.context["total"] == 1


def test_recording_a_visit_through_the_form(city, login):
    client = login(city.users["grid_a"])
    url = reverse("screening:visit", args=[city.households["a101"].pk])
    page = client.get(url)
    assert page.status_code == 200 and "张伟" in page.content.decode()
    data = visit_post(city, next=reverse("screening:today"))
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].endswith(f"#h{city.households['a101'].pk}")
    visit = Visit.objects.get()
    assert visit.checks.count() == 2 and visit.recorded_by == city.users["grid_a"]
    again = client.post(url, data, follow=True)  # the same page sent twice
    assert Visit.objects.count() == 1
    assert "Already recorded" in again.content.decode()


def test_a_bad_temperature_is_shown_at_its_field_and_nothing_is_saved(city, login):
    zhang = city.residents["zhangwei"]
    response = login(city.users["grid_a"]).post(reverse("screening:visit", args=[city.households["a101"].pk]),
                                                visit_post(city, **{f"r{zhang.pk}-temperature": "45.2"}))
    assert response.status_code == 400
    assert response.context["forms"].people[0].errors["temperature"] == [
        "45.2 °C is outside the valid range 34.0–43.0 °C: measure again."]
    assert "Nothing has been saved" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_new_occupant_through_the_form(city, login):
    doc = make_id_number("420102", dt.date(1999, 9, 9), 305)
    response = login(city.users["grid_a"]).post(
        reverse("screening:visit", args=[city.households["a102"].pk]),
        visit_post(city, "a102", **{"n0-name": "孙新", "n0-doc_number": doc, "n0-temperature": "36.4"}))
    assert response.status_code == 302
    newcomer = Resident.objects.get(doc_number=doc)
    assert newcomer.is_new_occupant and Visit.objects.get().checks.count() == 2


def test_a_new_occupant_with_errors_keeps_the_form_open_with_field_errors(city, login):
    response = login(city.users["grid_a"]).post(
        reverse("screening:visit", args=[city.households["a102"].pk]),
        visit_post(city, "a102", **{"n0-name": "孙新", "n0-doc_number": "12345", "n0-temperature": "36.4"}))
    assert response.status_code == 400
    assert "doc_number" in response.context["forms"].new[0].errors
    assert not Visit.objects.exists() and not Resident.objects.filter(name="孙新").exists()


def test_nobody_home_ignores_the_people_on_the_form(city, login):
    response = login(city.users["grid_a"]).post(reverse("screening:visit", args=[city.households["a101"].pk]),
                                                visit_post(city, outcome="nobody_home"))
    assert response.status_code == 302
    assert Visit.objects.get().outcome == "nobody_home" and not Visit.objects.get().checks.exists()


def test_grid_b_reaches_nothing_of_grid_a(city, login):
    item_visit = record_visit(city.users["grid_a"], city.households["a101"],
                                       reached(city.residents["zhangwei"], temperature="38.0")).visit
    item = FollowUp.objects.get(visit=item_visit)
    client = login(city.users["grid_b"])
    a101 = city.households["a101"].pk
    assert client.get(reverse("screening:visit", args=[a101])).status_code == 404
    assert client.post(reverse("screening:visit", args=[a101]), visit_post(city)).status_code == 404
    assert client.get(reverse("screening:qr", args=[a101])).status_code == 404
    assert client.get(reverse("screening:qr_png", args=[a101])).status_code == 404
    assert client.get(reverse("screening:coverage", args=["420102001001001"])).status_code == 404
    assert client.get(reverse("screening:coverage_export", args=["420102001001001"])).status_code == 404
    assert client.post(reverse("screening:coverage_export", args=["420102001001001"])).status_code == 404
    assert client.get(reverse("screening:today"), {"area": "420102001001001"}).status_code == 404
    listed = client.get(reverse("screening:today")).context["groups"]
    assert [e.household for g in listed for e in g.entries] == [city.households["b201"]]
    assert list(client.get(reverse("screening:follow_ups")).context["page"].object_list) == []
    assert client.post(reverse("screening:follow_up_dismiss", args=[item.pk]), {"note": "x"}).status_code == 404
    assert Visit.objects.count() == 1 and FollowUp.objects.get().status == "open"


@pytest.mark.parametrize("persona", ["volunteer", "guard", "facility"])
def test_other_roles_have_no_screening_pages(city, login, persona):
    client = login(city.users[persona])
    assert client.get(reverse("screening:today")).status_code == 403
    assert client.get(reverse("screening:visit", args=[city.households["a101"].pk])).status_code in (403, 404)


def test_the_qr_page_shows_the_link_as_svg_and_png(city, login):
    client = login(city.users["grid_a"])
    html = client.get(reverse("screening:qr", args=[city.households["a101"].pk])).content.decode()
    link = link_for(city.users["grid_a"], city.households["a101"])
    assert "<svg" in html and f"/r/{link.token}/" in html
    png = client.get(reverse("screening:qr_png", args=[city.households["a101"].pk]))
    assert png["Content-Type"] == "image/png" and b"".join(png.streaming_content).startswith(b"\x89PNG")
    client.post(reverse("screening:qr", args=[city.households["a101"].pk]))
    link.refresh_from_db()
    assert f"/r/{link.token}/" in client.get(reverse("screening:qr", args=[city.households["a101"].pk])).content.decode()


def test_the_coverage_page_and_its_export(city, login):
    record_visit(city.users["grid_a"], city.households["a101"], reached(city.residents["zhangwei"]))
    client = login(city.users["community"])
    response = client.get(reverse("screening:coverage", args=["420102001001"]), {"days": 3})
    assert response.status_code == 200
    assert response.context["cov"].total.screened == 1 and response.context["cov"].total.households == 3
    assert "第一网格" in response.content.decode()
    export = run_export(client, reverse("screening:coverage_export", args=["420102001001"]), {"days": 3})
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    sheet = book.worksheets[0]
    assert "青和居社区" in sheet.cell(1, 1).value
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    assert rows[0][1:4] == ["第一网格", 2, 1] and rows[-1][1:4] == ["Total", 3, 1]
    assert len(book.worksheets) == 2
    assert AuditLog.objects.filter(action=Action.EXPORT, username="community").exists()


def test_a_grids_coverage_lists_the_households_to_reach(city, login):
    response = login(city.users["grid_a"]).get(reverse("screening:coverage", args=["420102001001001"]))
    assert [h.room for h in response.context["missing"]] == ["101", "102"]
    export = run_export(login(city.users["grid_a"]), reverse("screening:coverage_export", args=["420102001001001"]))
    book = load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    assert len(book.worksheets) == 3 and book.worksheets[2].max_row == 6


def test_the_area_page_links_to_coverage(city, login):
    html = login(city.users["community"]).get(reverse("areas:detail", args=["420102001001"])).content.decode()
    assert reverse("screening:coverage", args=["420102001001"]) in html


def test_the_follow_up_queue_and_its_actions(city, login):
    record_visit(city.users["grid_a"], city.households["a101"],
                          reached(city.residents["zhangwei"], temperature="38.2", symptoms=["dry_cough"]))
    client = login(city.users["community"])
    page = client.get(reverse("screening:follow_ups"))
    items = list(page.context["page"].object_list)
    assert [i.reason_codes for i in items] == [["fever", "symptoms"]]  # one item with both reasons
    html = page.content.decode()
    assert "38.2 °C" in html and "Dry cough" in html and "138****8000" in html and "13800138000" not in html
    fever = items[0]
    assert client.post(reverse("screening:follow_up_dismiss", args=[fever.pk]), {"note": ""}).status_code == 302
    assert FollowUp.objects.get(pk=fever.pk).status == "open"
    client.post(reverse("screening:follow_up_dismiss", args=[fever.pk]), {"note": "re-measured 36.7"})
    assert FollowUp.objects.get(pk=fever.pk).status == "dismissed"
    assert AuditLog.objects.filter(object_type="screening.followup", object_id=str(fever.pk)).exists()
    grid_page = login(city.users["grid_a"]).get(reverse("screening:follow_ups"), {"status": "all"})
    assert len(grid_page.context["page"].object_list) == 1 and not grid_page.context["can_handle"]


def test_campaigns_are_created_by_commanders_and_seen_inside_them(city, login):
    today = timezone.localdate()
    client = login(city.users["street"])
    form = client.get(reverse("screening:campaign_create"))
    assert [code for code, _label in form.context["form"].fields["area"].choices][:2] == ["420102001", "420102001001"]
    response = client.post(reverse("screening:campaign_create"), {
        "name": "大智街道三天拉网排查", "area": "420102001", "start_date": today.isoformat(),
        "end_date": (today + dt.timedelta(days=2)).isoformat(), "note": ""})
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("screening:campaign", args=[campaign.pk])
    bad = client.post(reverse("screening:campaign_create"), {
        "name": "x", "area": "420106001", "start_date": today.isoformat(), "end_date": today.isoformat()})
    assert bad.status_code == 400 and Campaign.objects.count() == 1
    assert login(city.users["community"]).get(reverse("screening:campaign_create")).status_code == 403

    record_visit(city.users["grid_a"], city.households["a101"], reached(city.residents["zhangwei"]))
    grid_view = login(city.users["grid_a"]).get(reverse("screening:campaign", args=[campaign.pk]))
    assert grid_view.context["area"] == city.areas["grid_a"]  # a grid worker sees their part of it
    assert (grid_view.context["total"].households, grid_view.context["total"].reached) == (2, 1)
    listed = login(city.users["grid_b"]).get(reverse("screening:campaigns"))
    assert [c for c, _total in listed.context["rows"]] == [campaign]
    assert login(city.users["other_community"]).get(reverse("screening:campaign", args=[campaign.pk])).status_code == 404


def test_the_navigation_links_to_the_screening(city, login):
    html = login(city.users["grid_a"]).get(reverse("screening:today")).content.decode()
    assert f'href="{reverse("screening:today")}"' in html


# ---------------------------------------------------------------- the grid worker's day (issue 16, defect 9)

def _big_grid(city, buildings: int = 3, rooms: int = 30) -> None:
    """More households in grid_a: buildings 3栋, 4栋, ... with rooms 101, 102, ..."""
    for b in range(buildings):
        building = Building(compound=city.compounds["qinghe"], name=f"{b + 3}栋", floors=6, grid=city.areas["grid_a"])
        building.save()
        unit = Unit.objects.create(building=building, name="1单元")
        Household.objects.bulk_create([Household(unit=unit, room=str(101 + r), building=building,
                                                 compound=building.compound, area_code=city.areas["grid_a"].code)
                                       for r in range(rooms)])


def test_log_in_lands_a_grid_worker_on_todays_list_and_others_keep_theirs(client, city, password):
    response = client.post(reverse("accounts:login"), {"username": "grid_a", "password": password}, follow=True)
    assert response.templates[0].name == "screening/today.html"
    assert response.context["area"] == city.areas["grid_a"]
    html = response.content.decode()
    assert f'href="{reverse("areas:detail", args=[city.areas["grid_a"].code])}"' in html  # the grid's page stays a click away
    client.logout()
    response = client.post(reverse("accounts:login"), {"username": "community", "password": password}, follow=True)
    assert response.templates[0].name == "areas/area_detail.html"
    client.logout()
    response = client.post(reverse("accounts:login"), {"username": "guard", "password": password})
    assert client.get(response["Location"])["Location"] == reverse("areas:compound", args=[city.compounds["qinghe"].pk])


def test_the_day_list_filters_not_yet_screened_households(city, login):
    record_visit(city.users["grid_a"], city.households["a101"], reached(city.residents["zhangwei"]))
    response = login(city.users["grid_a"]).get(reverse("screening:today"), {"todo": "1"})
    assert [e.household for g in response.context["groups"] for e in g.entries] == [city.households["a102"]]
    assert (response.context["done"], response.context["total"]) == (1, 2)  # the counts stay the whole list's
    assert 'name="todo" value="1" checked' in response.content.decode()


def test_the_day_list_searches_building_and_room(city, login):
    _big_grid(city)
    client = login(city.users["grid_a"])
    found = client.get(reverse("screening:today"), {"q": "4栋 105"}).context["groups"]
    assert [(g.building.name, [e.household.room for e in g.entries]) for g in found] == [("4栋", ["105"])]
    found = client.get(reverse("screening:today"), {"q": "４栋105"}).context["groups"]  # full-width, no space
    assert [e.household.room for g in found for e in g.entries] == ["105"]
    nothing = client.get(reverse("screening:today"), {"q": "9栋"})
    assert nothing.context["groups"] == [] and "No household matches." in nothing.content.decode()


def test_a_large_grid_is_paged_and_narrowed_by_building(city, login):
    _big_grid(city)  # 92 households in 4 buildings
    client = login(city.users["grid_a"])
    first = client.get(reverse("screening:today"))
    assert first.context["total"] == 92 and first.context["page"].paginator.num_pages == 3
    assert sum(len(g.entries) for g in first.context["groups"]) == 40
    html = first.content.decode()
    assert "Page 1 of 3" in html and html.count('class="hh ') == 40
    building = Building.objects.get(name="4栋")
    assert f"building={building.pk}" in html and "0/30" in html
    only = client.get(reverse("screening:today"), {"building": building.pk})
    assert [g.building for g in only.context["groups"]] == [building] and only.context["total"] == 92
    last = client.get(reverse("screening:today"), {"page": "3"})
    assert sum(len(g.entries) for g in last.context["groups"]) == 12


def test_the_temperature_field_shows_no_sample_value(city, login):
    html = login(city.users["grid_a"]).get(reverse("screening:visit", args=[city.households["a101"].pk])).content.decode()
    assert 'placeholder="36.5"' not in html and 'inputmode="decimal"' in html


def test_a_form_error_far_down_the_form_is_announced_at_the_top(city, login):
    zhang = city.residents["zhangwei"]
    response = login(city.users["grid_a"]).post(reverse("screening:visit", args=[city.households["a101"].pk]),
                                                visit_post(city, **{f"r{zhang.pk}-temperature": "45.2"}))
    html = response.content.decode()
    banner = html.index('id="form-errors"')
    assert banner < html.index('id="visit-form"') and banner < html.index("outside the valid range")
    assert "Go to the first error" in html
    clean = login(city.users["grid_a"]).get(reverse("screening:visit", args=[city.households["a101"].pk]))
    assert 'id="form-errors"' not in clean.content.decode()


def test_the_household_page_shows_its_visit_history_to_those_who_screen(city, login):
    record_visit(city.users["grid_a"], city.households["a101"],
                          reached(city.residents["zhangwei"], temperature="38.1", visited_at=at(1)))
    record_visit(city.users["grid_a"], city.households["a101"], not_reached())
    url = reverse("people:household", args=[city.households["a101"].pk])
    response = login(city.users["grid_a"]).get(url)
    html = response.content.decode()
    history = html[html.index('id="visit-history"'):]
    assert "Screening visits" in history and history.count("<tr>") == 3  # a header and two visits
    assert "Nobody home" in history and "Fever" in history
    assert reverse("screening:visit", args=[city.households["a101"].pk]) in history
    other = login(city.users["grid_a"]).get(reverse("people:household", args=[city.households["a102"].pk]))
    assert "Never screened" in other.content.decode()


def test_the_new_campaign_form_keeps_its_default_dates_in_chinese_zh(city, login, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = login(city.users["street"]).get(reverse("screening:campaign_create"))
    html = response.content.decode()
    today = timezone.localdate()
    assert 'lang="zh-hans"' in html and "开始日期" in html
    assert f'value="{today.isoformat()}"' in html and f'value="{(today + dt.timedelta(days=2)).isoformat()}"' in html
    assert today.strftime("%Y/%m/%d") not in html


def test_a_new_occupant_is_asked_for_a_persons_full_name_zh(city, login, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = login(city.users["grid_a"]).get(reverse("screening:visit", args=[city.households["a101"].pk])).content.decode()
    assert '>姓名</label>' in html and '>名称</label>' not in html


def test_a_cold_forehead_reading_outdoors_is_kept_and_a_retake_is_asked_for(city, login):
    zhang = city.residents["zhangwei"]
    client = login(city.users["grid_a"])
    url = reverse("screening:visit", args=[city.households["a101"].pk])
    page = client.get(url).content.decode()
    assert f'name="r{zhang.pk}-temperature_method" value="forehead"' in page and 'data-low="18.0"' in page
    data = visit_post(city, next=reverse("screening:today"), **{f"r{zhang.pk}-temperature_method": "forehead",
                                                                 f"r{zhang.pk}-outdoors": "on", f"r{zhang.pk}-ambient_c": "3"})
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].startswith(url)  # back to the form for a re-take
    check = Visit.objects.get().checks.get(resident=zhang)
    assert check.reading_unreliable and check.temperature is not None
    html = client.get(response["Location"]).content.decode()
    assert "marked unreliable: 张伟" in html and "ear or armpit" in html
    ok = client.post(url, visit_post(city, **{f"r{zhang.pk}-temperature_method": "ear"}))
    assert ok["Location"].endswith(f"#h{city.households['a101'].pk}")
    history = client.get(reverse("people:household", args=[city.households["a101"].pk])).content.decode()
    assert history.count("Unreliable reading") == 1  # the first visit's reading, not the re-take


def _policy_post(**changes) -> dict:
    """The policy edit page as posted untouched, with `changes`."""
    data = {}
    for name, value in PolicyForm(policy=Policy()).initial.items():
        if value is True:
            data[name] = "on"
        elif isinstance(value, list):
            data[name] = value
        elif value not in (False, None):
            data[name] = str(value)
    return {**data, "note": "another thermometer", **changes}


def test_the_forehead_thermometers_ambient_range_is_set_on_the_policy_page(city, login):
    client = login(city.users["city"])
    page = client.get("/policy/edit/").content.decode()
    assert 'name="forehead_ambient_min_c"' in page and 'name="forehead_ambient_max_c"' in page
    refused = client.post("/policy/edit/", _policy_post(forehead_ambient_min_c="30"))
    assert "forehead_ambient_min_c" in refused.context["form"].errors
    assert client.post("/policy/edit/", _policy_post(forehead_ambient_min_c="10")).status_code == 302
    assert current_policy().forehead_ambient_min_c == 10.0
    assert "10.0" in client.get("/policy/").content.decode()


def test_a_presence_error_is_shown_beside_the_presence_choice(city, login):
    zhang = city.residents["zhangwei"]
    response = login(city.users["grid_a"]).post(reverse("screening:visit", args=[city.households["a101"].pk]),
                                                visit_post(city, **{f"r{zhang.pk}-presence": "somewhere"}))
    html = response.content.decode()
    assert response.status_code == 400 and not Visit.objects.exists()
    fieldset = html[html.index('<fieldset class="group presence has-error">'):]
    fieldset = fieldset[:fieldset.index("</fieldset>")]
    assert 'class="field-error"' in fieldset and "somewhere" in fieldset  # Django's "not one of the choices"
