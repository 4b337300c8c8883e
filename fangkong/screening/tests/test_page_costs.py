"""What the day list and the visit form do per request (issue 17: measured under load, made cheaper): no
COUNT query where the counts are known, the empty new-occupant rows rendered once, identical pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.areas.models import Household
from fangkong.policy.services import change_policy
from fangkong.screening import daylist
from fangkong.screening.testing import reached
from fangkong.screening.visits import local_today, record_visit

pytestmark = pytest.mark.django_db


def _counts(queries) -> int:
    return sum("COUNT(*)" in q["sql"] for q in queries)  # the pager's or the limit's count (not the residents')


def test_the_day_list_counts_its_pages_from_the_building_counts(city, login):
    record_visit(city.users["grid_a"], city.households["a101"], reached(city.residents["zhangwei"]))
    client = login(city.users["grid_a"])
    for query, shown in (("", 2), ("?todo=1", 1), (f"?building={city.buildings['a1'].pk}&todo=1", 1),
                         (f"?building={city.buildings['a1'].pk}", 2), ("?building=999999", 0)):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("screening:today") + query)
        assert response.context["page"].paginator.count == shown, query
        assert _counts(captured.captured_queries) == 0, query


def test_a_search_still_counts_what_it_found(city, login):
    response = login(city.users["grid_a"]).get(reverse("screening:today") + "?q=101")
    assert response.context["page"].paginator.count == 1


def test_an_area_past_the_limit_is_not_listed(city, monkeypatch):
    monkeypatch.setattr(daylist, "DAY_LIST_LIMIT", 1)
    user = city.users["grid_a"]
    assert daylist.day_list(user, user.area.code, local_today()) is None
    monkeypatch.setattr(daylist, "DAY_LIST_LIMIT", Household.objects.filter(area_code__startswith=user.area.code).count())
    assert daylist.day_list(user, user.area.code, local_today()) is not None


def test_the_empty_new_occupant_rows_follow_the_thermometer_range_and_the_language(city, login, settings):
    settings.LANGUAGE_CODE = "en"
    client = login(city.users["grid_a"])
    path = reverse("screening:visit", args=[city.households["a101"].pk])
    first = client.get(path).content.decode()
    assert 'id="id_n0-ambient_c"' in first and 'data-low="18.0"' in first and "New occupant 2" in first
    change_policy(city.users["city"], {"forehead_ambient_min_c": 15.0})
    assert 'data-low="15.0"' in client.get(path).content.decode()
    settings.LANGUAGE_CODE = "zh-hans"
    chinese = client.get(path).content.decode()
    assert ">姓名</label>" in chinese and "New occupant 2" not in chinese
