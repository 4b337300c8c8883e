"""Facility screens: confirming a placement plan says how many beds it books, and asks before it does."""

import pytest

from fangkong.cases import services as cases
from fangkong.cases.models import Status
from fangkong.facilities import beds, runs
from fangkong.facilities.models import BedPool, Stay
from fangkong.people.models import Resident

pytestmark = pytest.mark.django_db


def plan_for_many(city, n=54):
    BedPool.objects.filter(facility=city.facilities["shelter"]).update(capacity=n)
    community = city.users["community"]
    household = city.households["a102"]
    for i in range(n - 2):
        Resident.objects.create(household=household, name=f"轻症{i:02d}", sex="M", birth_date="1980-01-01",
                                doc_type="passport", doc_number=f"E{i:07d}")
    for resident in Resident.objects.filter(area_code__startswith="420102")[:n]:
        cases.open_case(community, resident, Status.CONFIRMED, "确诊", severity="mild")
    return runs.run_placement(city.users["district"])


def test_confirming_54_bookings_asks_first_and_says_how_many(city, login):
    run = plan_for_many(city)
    assert run.placed == 54
    client = login(city.users["district"])
    page = client.get(f"/facilities/placement/runs/{run.pk}/").content.decode()
    assert "Confirm the plan: book 54 beds and order the transfers…" in page and 'href="?confirm=1"' in page
    asked = client.get(f"/facilities/placement/runs/{run.pk}/?confirm=1").content.decode()
    assert "54 beds will be booked and 54 transfers ordered." in asked and 'name="expected" value="54"' in asked
    # A post without the count seen (an old form, a double click on another plan) books nothing and asks again.
    again = client.post(f"/facilities/placement/runs/{run.pk}/confirm/")
    assert again.status_code == 302 and again.url.endswith("?confirm=1") and Stay.objects.count() == 0
    done = client.post(f"/facilities/placement/runs/{run.pk}/confirm/", {"expected": "54"})
    assert done.status_code == 302 and Stay.objects.count() == 54


def test_zh_transfer_and_person_columns_say_what_they_hold(city, login):
    """The transfers' pick-up column was headed 开始日期 (a date) and person columns 名称 (a thing's name)."""
    case = cases.open_case(city.users["community"], city.residents["zhangwei"], Status.CONFIRMED, "确诊", severity="mild")
    stay = beds.place(city.users["district"], case, city.facilities["shelter"], "ordinary")
    client = login(city.users["district"])
    transfers = client.get("/facilities/transfers/").content.decode()
    assert "开始日期" not in transfers and "<th>出发地点</th>" in transfers and "<th>姓名</th>" in transfers
    for url in (f"/facilities/{stay.facility_id}/", "/facilities/placement/", "/cases/areas/420102/people/", "/cases/tests/?q=S"):
        page = client.get(url).content.decode()
        assert "<th>名称</th>" not in page and "<th>姓名</th>" in page, url
