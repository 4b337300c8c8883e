"""The household's self-report link: no log-in, unguessable token, rate-limited, masked names."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from fangkong.screening import selfreport
from fangkong.screening.links import link_for, renew_link
from fangkong.screening.models import FollowUp, Visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(city):
    return link_for(city.users["grid_a"], city.households["a101"])


def report_post(city, **overrides) -> dict:
    data = {"client_id": str(uuid.uuid4())}
    for key in ("zhangwei", "lina"):
        pk = city.residents[key].pk
        data.update({f"r{pk}-presence": "present", f"r{pk}-temperature": "36.4"})
    data.update(overrides)
    return data


def test_the_link_works_without_log_in_and_shows_names_masked(client, city, link):
    response = client.get(reverse("selfreport:report", args=[link.token]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "青和居小区1栋1单元101" in html and "张*" in html and "李*" in html
    assert "张伟" not in html and "李娜" not in html
    assert city.residents["zhangwei"].phone not in html and city.residents["zhangwei"].masked_doc_number not in html


def test_a_self_report_counts_as_todays_online_screening(client, city, link):
    response = client.post(reverse("selfreport:report", args=[link.token]), report_post(city))
    assert response.status_code == 200 and "today's report is in" in response.content.decode()
    visit = Visit.objects.get()
    assert (visit.method, visit.outcome, visit.recorded_by_id, visit.household) == ("online", "reached", None,
                                                                                      city.households["a101"])
    assert visit.checks.count() == 2
    again = client.get(reverse("selfreport:report", args=[link.token]))
    assert "Already reported today" in again.content.decode()


def test_a_fever_in_a_self_report_reaches_the_follow_up_queue(client, city, link):
    zhang = city.residents["zhangwei"]
    response = client.post(reverse("selfreport:report", args=[link.token]),
                           report_post(city, **{f"r{zhang.pk}-temperature": "38.6", f"r{zhang.pk}-symptoms": "dry_cough"}))
    assert "Fever" in response.content.decode()
    assert FollowUp.objects.get(resident=zhang).reason_codes == ["fever", "symptoms"]


def test_errors_are_shown_at_the_field_and_nothing_is_saved(client, city, link):
    li = city.residents["lina"]
    response = client.post(reverse("selfreport:report", args=[link.token]),
                           report_post(city, **{f"r{li.pk}-temperature": "3.65"}))
    assert response.status_code == 400
    assert "outside the valid range" in response.content.decode()
    assert not Visit.objects.exists()


def test_the_same_submission_twice_is_one_report(client, city, link):
    data = report_post(city)
    client.post(reverse("selfreport:report", args=[link.token]), data)
    client.post(reverse("selfreport:report", args=[link.token]), data)
    assert Visit.objects.count() == 1


@pytest.mark.parametrize("token", ["wrong", "x" * 64, "x" * 200])
def test_a_wrong_token_is_404(client, city, link, token):
    assert client.get(reverse("selfreport:report", args=[token])).status_code == 404
    assert client.post(reverse("selfreport:report", args=[token]), report_post(city)).status_code == 404
    assert not Visit.objects.exists()


def test_a_renewed_link_retires_the_old_token(client, city, link):
    old = link.token
    renew_link(city.users["grid_a"], city.households["a101"])
    assert client.get(reverse("selfreport:report", args=[old])).status_code == 404


def test_requests_from_one_address_are_rate_limited(client, city, link, settings):
    settings.SELF_REPORT_RATE_LIMITS = {"address": (3, 600)}
    statuses = [client.get(reverse("selfreport:report", args=["guess" + str(i)])).status_code for i in range(3)]
    assert statuses == [404, 404, 404]
    limited = client.get(reverse("selfreport:report", args=[link.token]))
    assert limited.status_code == 429 and limited["Retry-After"]


def test_submissions_per_link_are_rate_limited(client, city, link, settings):
    settings.SELF_REPORT_RATE_LIMITS = {"link": (2, 3600)}
    statuses = [client.post(reverse("selfreport:report", args=[link.token]), report_post(city)).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert Visit.objects.count() == 2


def test_the_page_is_csrf_protected_and_not_cached(city, link):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("selfreport:report", args=[link.token]), report_post(city)).status_code == 403
    page = strict.get(reverse("selfreport:report", args=[link.token]))
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]


def _redis_or_skip() -> str:
    import os
    import socket

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is unreachable on 127.0.0.1:6379: in CI this is a failure, not a skip.")
        pytest.skip("Redis is not running here")
    return url


def test_with_redis_every_worker_process_counts_against_the_same_limit(city, settings, monkeypatch):
    from django.core.cache.backends.redis import RedisCache  # needs the redis client, only here

    url = _redis_or_skip()
    prefix = f"fk-test-{uuid.uuid4().hex}"
    workers = [RedisCache(url, {"KEY_PREFIX": prefix}) for _ in range(2)]  # two processes' own clients
    settings.SELF_REPORT_RATE_LIMITS = {"link": (3, 3600)}
    answers = []
    for i in range(5):
        monkeypatch.setattr(selfreport, "cache", workers[i % 2])
        answers.append(selfreport.allow("link", "token-x"))
    assert answers == [True, True, True, False, False]
    workers[0].clear()


def test_with_redis_away_the_residents_still_report_and_a_warning_is_logged(city, settings, monkeypatch, caplog):
    from django.core.cache.backends.redis import RedisCache  # needs the redis client, only here

    closed = _closed_port()
    monkeypatch.setattr(selfreport, "cache", RedisCache(f"redis://127.0.0.1:{closed}/0", {}))
    settings.SELF_REPORT_RATE_LIMITS = {"link": (1, 3600)}
    assert selfreport.allow("link", "token-y") and selfreport.allow("link", "token-y")  # not counted: allowed
    assert "the cache is unavailable" in caplog.text


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
