"""Coverage numbers on the small city, whose every household and person is known.

Day D (today), D-1, D-2:
- a101 (grid A, 2 people): door knock on D-2, D-1 and D, both present.
- a102 (grid A, 1 person): door knock on D-2, nothing on D-1, by phone only on D.
- b201 (grid B, 1 person): door knock on D-2, vacant on D-1, nobody home on D.
- z301 (紫阳社区, not in a grid, 1 person): never.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.screening.coverage import campaign_progress, coverage, missing_households, trend
from fangkong.screening.testing import at, not_reached, reached
from fangkong.screening.visits import record_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def screened(city):
    r, h = city.residents, city.households

    def visit(persona, household, data):
        record_visit(city.users[persona], h[household], data)

    visit("grid_a", "a101", reached(r["zhangwei"], r["lina"], visited_at=at(2)))
    visit("grid_a", "a102", reached(r["wanglaoshi"], visited_at=at(2)))
    visit("grid_b", "b201", reached(r["wangfang"], visited_at=at(2)))
    visit("grid_a", "a101", reached(r["zhangwei"], r["lina"], visited_at=at(1)))
    visit("grid_b", "b201", not_reached("vacant", visited_at=at(1)))
    visit("grid_a", "a101", reached(r["zhangwei"], r["lina"], visited_at=at(0, 8)))
    visit("grid_a", "a102", not_reached("nobody_home", visited_at=at(0, 8)))
    visit("grid_a", "a102", reached(r["wanglaoshi"], method="phone", visited_at=at(0, 9)))
    visit("grid_b", "b201", not_reached("nobody_home", visited_at=at(0, 8)))
    return city


def figures(row):
    return {"households": row.households, "screened": row.screened, "not_reached": row.not_reached,
            "phone_only": row.phone_only, "persons": row.persons, "reached": row.reached, "missed": row.missed}


def test_a_community_by_grid(screened):
    table = coverage(screened.areas["qinghe"], timezone.localdate(), days=3)
    assert table.by == "area"
    rows = {row.label: figures(row) for row in table.rows}
    assert rows == {
        "第一网格": {"households": 2, "screened": 2, "not_reached": 0, "phone_only": 1, "persons": 3, "reached": 3, "missed": 1},
        "第二网格": {"households": 1, "screened": 0, "not_reached": 1, "phone_only": 0, "persons": 1, "reached": 0, "missed": 1},
    }
    assert figures(table.total) == {"households": 3, "screened": 2, "not_reached": 1, "phone_only": 1, "persons": 4,
                                    "reached": 3, "missed": 2}
    assert table.total.rate == pytest.approx(2 / 3)


def test_the_city_by_district_and_a_day_in_the_past(screened):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    table = coverage(screened.areas["wuhan"], yesterday, days=2)
    rows = {row.label: figures(row) for row in table.rows}
    # Yesterday a101 was reached and b201 found vacant: both count as screened. Over D-2..D-1 only a102 missed a day.
    assert rows["江岸区"] == {"households": 3, "screened": 2, "not_reached": 1, "phone_only": 0, "persons": 4,
                            "reached": 2, "missed": 1}
    assert rows["武昌区"] == {"households": 1, "screened": 0, "not_reached": 1, "phone_only": 0, "persons": 1,
                            "reached": 0, "missed": 1}


def test_a_grid_by_building_and_its_households_to_chase(screened):
    today = timezone.localdate()
    table = coverage(screened.areas["grid_a"], today, days=3)
    assert table.by == "building"
    assert [(row.label, row.building) for row in table.rows] == [("青和居小区 1栋", screened.buildings["a1"])]
    assert figures(table.rows[0])["missed"] == 1
    chase = missing_households(screened.users["grid_a"], "420102001001001", today, 3)
    assert [(h, h.screened_days, h.screened_today) for h in chase] == [(screened.households["a102"], 2, 1)]
    assert missing_households(screened.users["grid_b"], "420102001001001", today, 3) == []


def test_households_not_in_a_grid_get_their_own_row(screened):
    table = coverage(screened.areas["ziyangc"], timezone.localdate(), days=1)
    assert [(row.label, row.households, row.missed) for row in table.rows] == [("Not yet assigned to a grid", 1, 1)]


def test_the_trend_counts_each_day(screened):
    today = timezone.localdate()
    points = trend("420102001001", today - dt.timedelta(days=3), today)
    assert [(p.screened, p.reached, p.households, p.persons) for p in points] == [
        (0, 0, 3, 4), (3, 4, 3, 4), (2, 2, 3, 4), (2, 3, 3, 4)]
    assert coverage(screened.areas["qinghe"], today, days=3).trend == points[1:]


def test_a_campaign_counts_households_screened_at_least_once(screened):
    today = timezone.localdate()
    total, rows = campaign_progress(screened.areas["qinghe"], today - dt.timedelta(days=1), today)
    assert (total.households, total.reached) == (3, 3)  # b201 was found vacant on D-1
    assert [(r.label, r.households, r.reached) for r in rows] == [("第一网格", 2, 2), ("第二网格", 1, 1)]
    total, _rows = campaign_progress(screened.areas["wuhan"], today, today)
    assert (total.households, total.reached) == (4, 2)


def test_the_counts_are_a_fixed_number_of_grouped_queries(screened, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        coverage(screened.areas["wuhan"], timezone.localdate(), days=7)
