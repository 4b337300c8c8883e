"""The batch endpoint (a phone's offline queue): one result per item, the good ones saved whatever the
others hold, sending the queue again records nothing new, scoped exactly as the single endpoints."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from fangkong.areas.models import Household
from fangkong.batch import MAX_ITEMS
from fangkong.core.identity import make_id_number
from fangkong.observation.models import HealthReport
from fangkong.people.models import Resident
from fangkong.screening.models import FollowUp, PersonCheck, Visit

pytestmark = pytest.mark.django_db

PEOPLE = {"a101": ["zhangwei", "lina"], "a102": ["wanglaoshi"], "b201": ["wangfang"]}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def visit(city, household="a101", temperature=36.5, **overrides):
    body = {
        "kind": "visit", "client_id": str(uuid.uuid4()), "household_id": city.households[household].pk,
        "method": "door", "outcome": "reached",
        "persons": [{"resident_id": city.residents[p].pk, "temperature": temperature} for p in PEOPLE[household]],
    }
    body.update(overrides)
    return body


def statuses(response) -> list[str]:
    return [r["status"] for r in response.json()["results"]]


def open_file(api, city) -> int:
    response = api("grid_a").post("/api/observation/files", {
        "resident_id": city.residents["zhangwei"].pk, "kind": "home", "reason": "密接",
        "last_exposure_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat()})
    assert response.status_code == 201
    return response.json()["id"]


def test_a_mixed_queue_saves_the_good_items_and_explains_the_others(city, api):
    earlier = visit(city, "a102")
    assert api("grid_a").post("/api/screening/visits", {k: v for k, v in earlier.items() if k != "kind"}).status_code == 201
    file_id = open_file(api, city)
    good = visit(city)
    hot = visit(city, "a102", temperature=43.5)  # outside the valid range
    elsewhere = visit(city, "b201")  # grid B's household: not the grid worker's
    report = {"kind": "report", "file_id": file_id, "client_id": str(uuid.uuid4()), "temperature": "36.7"}
    nonsense = {"kind": "visit", "client_id": str(uuid.uuid4()), "method": "door"}
    items = [good, earlier, hot, elsewhere, report, nonsense, {"kind": "postcard"}]
    response = api("grid_a").post("/api/batch", {"items": items})
    assert response.status_code == 200
    body = response.json()
    assert statuses(response) == ["created", "duplicate", "error", "error", "created", "error", "error"]
    assert (body["created"], body["duplicate"], body["error"]) == (2, 1, 4)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert results[0]["client_id"] == good["client_id"] and results[0]["kind"] == "visit"
    assert Visit.objects.get(client_id=good["client_id"]).pk == results[0]["id"]
    assert results[1]["id"] == Visit.objects.get(client_id=earlier["client_id"]).pk
    assert [e["loc"] for e in results[2]["errors"]] == [["persons", 0, "temperature"]]
    assert "34.0–43.0" in results[2]["errors"][0]["msg"]
    assert [e["loc"] for e in results[3]["errors"]] == [["household_id"]]
    assert results[4]["kind"] == "report" and HealthReport.objects.get(client_id=report["client_id"]).pk == results[4]["id"]
    assert {tuple(e["loc"]) for e in results[5]["errors"]} == {("household_id",), ("outcome",)}
    assert results[6]["errors"][0]["loc"] == [] or results[6]["errors"][0]["loc"] == ["kind"]
    # Nothing of the bad items was written; the household of grid B got nothing.
    assert Visit.objects.count() == 2 and PersonCheck.objects.count() == 3
    assert not Visit.objects.filter(client_id__in=[hot["client_id"], elsewhere["client_id"]]).exists()
    assert not Visit.objects.filter(household=city.households["b201"]).exists()
    assert "wangfang" not in response.content.decode() and "王芳" not in response.content.decode()


def test_sending_the_same_queue_again_creates_nothing_new(city, api):
    file_id = open_file(api, city)
    items = [visit(city), visit(city, "a102", temperature=38.2),
             {"kind": "report", "file_id": file_id, "client_id": str(uuid.uuid4()), "temperature": "36.6"}]
    first = api("grid_a").post("/api/batch", {"items": items})
    assert statuses(first) == ["created", "created", "created"]
    counts = (Visit.objects.count(), PersonCheck.objects.count(), FollowUp.objects.count(), HealthReport.objects.count())
    again = api("grid_a").post("/api/batch", {"items": items})
    assert statuses(again) == ["duplicate", "duplicate", "duplicate"]
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
    assert (Visit.objects.count(), PersonCheck.objects.count(), FollowUp.objects.count(),
            HealthReport.objects.count()) == counts == (2, 3, 1, 1)


def test_the_batch_records_what_the_single_path_records(city, api):
    """Flags, follow-up items (one per person, the reasons joined across the queue), the visit's summary."""
    fever = visit(city, temperature=38.4)
    later = visit(city, visited_at=timezone.now().isoformat())
    later["persons"][0]["symptoms"] = ["dry_cough"]
    response = api("grid_a").post("/api/batch", {"items": [fever, later]})
    assert statuses(response) == ["created", "created"]
    first = Visit.objects.get(client_id=fever["client_id"])
    assert first.flags == 1 and first.persons_present == 2 and first.area_code == city.households["a101"].area_code
    assert first.recorded_by == city.users["grid_a"] and first.date == timezone.localdate()
    items = FollowUp.objects.order_by("resident_id")
    assert [(i.resident_id, i.reason_codes) for i in items] == [
        (city.residents["zhangwei"].pk, ["fever", "symptoms"]), (city.residents["lina"].pk, ["fever"])]
    assert items[0].visit.client_id == uuid.UUID(later["client_id"])


def test_a_client_id_twice_in_one_queue_is_recorded_once(city, api):
    once = visit(city)
    other = visit(city, "a102", client_id=once["client_id"])
    response = api("grid_a").post("/api/batch", {"items": [once, dict(once), other]})
    assert statuses(response) == ["created", "duplicate", "error"]
    assert response.json()["results"][2]["errors"][0]["loc"] == ["client_id"]
    assert Visit.objects.count() == 1


def test_a_new_occupant_in_the_queue_and_a_household_found_lived_in(city, api):
    Household.objects.filter(pk=city.households["a102"].pk).update(vacant_since=timezone.localdate())
    doc = make_id_number("420102", dt.date(2001, 1, 1), 307)
    newcomer = visit(city, "a102")
    newcomer["persons"].append({"new_resident": {"name": "周新", "doc_number": doc}, "temperature": 36.9})
    twice = visit(city, "a101")
    twice["persons"].append({"new_resident": {"name": "周新", "doc_number": doc}, "temperature": 36.9})
    response = api("grid_a").post("/api/batch", {"items": [newcomer, visit(city), twice]})
    assert statuses(response) == ["created", "created", "error"]
    assert response.json()["results"][2]["errors"][0]["loc"] == ["persons", 2, "new_resident", "doc_number"]
    assert Resident.objects.filter(doc_number=doc).count() == 1
    assert Household.objects.get(pk=city.households["a102"].pk).vacant_since is None


def test_a_vacant_household_reached_in_a_plain_visit_is_no_longer_vacant(city, api):
    Household.objects.filter(pk=city.households["a101"].pk).update(vacant_since=timezone.localdate())
    assert statuses(api("grid_a").post("/api/batch", {"items": [visit(city)]})) == ["created"]
    assert Household.objects.get(pk=city.households["a101"].pk).vacant_since is None


def test_more_than_the_limit_is_refused_with_a_clear_message(city, api):
    response = api("grid_a").post("/api/batch", {"items": [visit(city) for _ in range(MAX_ITEMS + 1)]})
    assert response.status_code == 413
    assert str(MAX_ITEMS) in response.json()["detail"]
    assert not Visit.objects.exists()


def test_the_limit_itself_is_accepted(city, api):
    items = [visit(city, "a101" if n % 2 else "a102") for n in range(MAX_ITEMS)]
    response = api("grid_a").post("/api/batch", {"items": items})
    assert response.json()["created"] == MAX_ITEMS
    assert Visit.objects.count() == MAX_ITEMS and PersonCheck.objects.count() == 3 * MAX_ITEMS // 2


@pytest.mark.parametrize("persona", ["volunteer", "guard", "facility", "grid_b"])
def test_other_roles_and_areas_write_nothing(city, api, persona):
    file_id = open_file(api, city)
    items = [visit(city), {"kind": "report", "file_id": file_id, "client_id": str(uuid.uuid4()), "temperature": "36.6"}]
    response = api(persona).post("/api/batch", {"items": items})
    assert response.status_code == 200 and statuses(response) == ["error", "error"]
    assert not Visit.objects.exists() and not HealthReport.objects.exists()
    assert "张伟" not in response.content.decode()


def test_messages_are_in_the_users_language_zh(city, api):
    response = api("grid_a").post("/api/batch", {"items": [{"kind": "visit"}, visit(city, "b201")]})
    messages = [e["msg"] for r in response.json()["results"] for e in r["errors"]]
    assert messages and all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in messages), messages


def test_a_visit_recorded_meanwhile_by_another_request_is_a_duplicate(city, api, monkeypatch):
    """The same queue sent twice at once: the second request's check of the client ids saw nothing,
    its INSERT … ON CONFLICT DO NOTHING skips the visit the first one wrote, and it answers duplicate."""
    from fangkong.screening import batch as screening_batch

    racing = visit(city)
    real_check = screening_batch._check

    def check_then_lose_the_race(pending, outcomes):
        real_check(pending, outcomes)
        assert api("grid_a").post("/api/screening/visits", {k: v for k, v in racing.items() if k != "kind"}).status_code == 201

    monkeypatch.setattr(screening_batch, "_check", check_then_lose_the_race)
    response = api("grid_a").post("/api/batch", {"items": [racing, visit(city, "a102")]})
    assert statuses(response) == ["duplicate", "created"]
    assert response.json()["results"][0]["id"] == Visit.objects.get(client_id=racing["client_id"]).pk
    assert Visit.objects.count() == 2 and PersonCheck.objects.count() == 3


def test_a_failing_set_based_write_falls_back_to_one_visit_at_a_time(city, api, monkeypatch):
    from django.db import IntegrityError

    from fangkong.screening import batch as screening_batch

    def broken(*args, **kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(screening_batch, "_insert_visits", broken)
    response = api("grid_a").post("/api/batch", {"items": [visit(city), visit(city, "a102", temperature=50), visit(city, "a102")]})
    assert statuses(response) == ["created", "error", "created"]
    assert Visit.objects.count() == 2 and PersonCheck.objects.count() == 3


def test_a_batched_visit_is_stored_exactly_as_a_single_one(city, api):
    body = visit(city, temperature=38.4)
    body["persons"][0].update({"symptoms": ["dry_cough"], "temperature_method": "forehead", "outdoors": True,
                               "ambient_c": 5, "travel_14d": True})
    body["persons"][1].update({"temperature_method": "ear", "contact_14d": True})
    single = {k: v for k, v in body.items() if k != "kind"}
    assert api("grid_a").post("/api/screening/visits", single).status_code == 201
    batched = {**body, "client_id": str(uuid.uuid4()), "note": "复查"}
    single_visit = Visit.objects.get(client_id=single["client_id"])
    assert statuses(api("grid_a").post("/api/batch", {"items": [batched]})) == ["created"]
    batch_visit = Visit.objects.get(client_id=batched["client_id"])

    def visit_fields(v):
        return (v.household_id, v.area_code, v.date, v.method, v.outcome, v.flags, v.persons_present, v.recorded_by_id)

    def check_fields(v):
        return [(c.resident_id, c.area_code, c.date, c.present, c.temperature, c.temperature_method, c.outdoors,
                 c.ambient_c, c.reading_unreliable, c.symptoms, c.travel_14d, c.contact_14d, c.flags)
                for c in PersonCheck.objects.filter(visit=v).order_by("resident_id")]

    assert visit_fields(batch_visit) == visit_fields(single_visit) and batch_visit.note == "复查"
    assert check_fields(batch_visit) == check_fields(single_visit)
    assert check_fields(batch_visit)[0][4] == Decimal("38.4") or check_fields(batch_visit)[1][4] == Decimal("38.4")
    # The same reasons again: the items opened by the first visit stay as they are, one per person.
    assert sorted(FollowUp.objects.values_list("visit_id", flat=True)) == [single_visit.pk, single_visit.pk]
