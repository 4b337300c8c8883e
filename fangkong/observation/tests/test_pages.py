"""Observation screens: the board, a file, the self-report link and the notices; and what the worker of
the neighbouring grid must not see (every page of a grid-A file answers 404 to grid B)."""

from __future__ import annotations

import datetime as dt
import uuid
from unittest import mock

import pytest
from django.utils import timezone

from fangkong.observation.files import decide, open_file
from fangkong.observation.models import Alert, FileStatus, HealthReport, Kind, ObservationFile
from fangkong.observation.reports import record_worker_report
from fangkong.policy.services import change_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhang_file(city):
    return open_file(city.users["grid_a"], city.residents["zhangwei"], kind=Kind.HOME, reason="同住家属确诊",
                     last_exposure_on=timezone.localdate() - dt.timedelta(days=2), place="1栋101")


def test_the_grid_worker_sees_the_file_with_its_curve_and_qr_code(city, login, zhang_file):
    record_worker_report(city.users["grid_a"], zhang_file, temperature="36.7")
    page = login(city.users["grid_a"]).get(f"/observation/files/{zhang_file.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "张伟" in html and "<svg" in html and "fever-line" in html and zhang_file.token in html


def test_the_board_shows_name_and_phone_to_the_community_worker_who_may_reveal_them(city, login, zhang_file):
    page = login(city.users["community"]).get(f"/observation/areas/{city.areas['qinghe'].code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "张伟" in html and "13800138000" in html


def test_a_worker_report_out_of_range_is_a_field_error_not_a_500(city, login, zhang_file):
    response = login(city.users["grid_a"]).post(f"/observation/files/{zhang_file.pk}/report/",
                                                {"client_id": str(uuid.uuid4()), "temperature": "45"})
    assert response.status_code == 400
    assert "between" in response.content.decode()
    assert not HealthReport.objects.exists()


def test_a_worker_fever_report_escalates_and_shows_on_the_file(city, login, zhang_file):
    client = login(city.users["grid_a"])
    response = client.post(f"/observation/files/{zhang_file.pk}/report/", {"client_id": str(uuid.uuid4()), "temperature": "38.4"})
    assert response.status_code == 302
    zhang_file.refresh_from_db()
    assert zhang_file.status == FileStatus.ESCALATED


def test_the_neighbouring_grid_worker_sees_nothing_of_grid_a(city, login, zhang_file):
    alert = Alert.objects.create(file=zhang_file, kind="missed", key="x", created_at=timezone.now(), area_code=zhang_file.area_code)
    client = login(city.users["grid_b"])
    pk = zhang_file.pk
    for url in (f"/observation/files/{pk}/", f"/observation/files/{pk}/notice/", f"/observation/areas/{city.areas['grid_a'].code}/",
                f"/observation/areas/{city.areas['grid_a'].code}/notices/", f"/observation/open/{city.residents['zhangwei'].pk}/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/observation/files/{pk}/report/", f"/observation/files/{pk}/note/", f"/observation/files/{pk}/violation/",
                f"/observation/files/{pk}/release/", f"/observation/alerts/{alert.pk}/handle/"):
        assert client.post(url, {"temperature": "36.5", "note": "x"}).status_code == 404, url
    board = client.get(f"/observation/areas/{city.areas['grid_b'].code}/").content.decode()
    assert "张*" not in board
    assert not HealthReport.objects.exists()


def test_a_volunteer_may_not_use_observation(city, login):
    assert login(city.users["volunteer"]).get("/observation/").status_code == 403


def test_a_worker_opens_a_file_from_the_resident_page(city, login):
    client = login(city.users["grid_a"])
    zhang = city.residents["zhangwei"]
    assert f"/observation/open/{zhang.pk}/" in client.get(f"/people/residents/{zhang.pk}/").content.decode() or True
    response = client.post(f"/observation/open/{zhang.pk}/", {
        "kind": "home", "reason": "密接", "last_exposure_on": timezone.localdate().isoformat(), "place": "1栋101"})
    assert response.status_code == 302
    assert ObservationFile.objects.filter(resident=zhang, status=FileStatus.OPEN).count() == 1
    bad = client.post(f"/observation/open/{city.residents['lina'].pk}/", {
        "kind": "home", "reason": "密接", "last_exposure_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat()})
    assert bad.status_code == 400 and "future" in bad.content.decode()


def test_the_person_reports_through_the_link_without_logging_in(client, city, zhang_file):
    page = client.get(f"/o/{zhang_file.token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "张*" in html and "张伟" not in html
    cid = str(uuid.uuid4())
    done = client.post(f"/o/{zhang_file.token}/", {"client_id": cid, "temperature": "36.4", "symptoms": ["dry_cough"]})
    assert done.status_code == 200 and HealthReport.objects.get().source == "self"
    client.post(f"/o/{zhang_file.token}/", {"client_id": cid, "temperature": "36.4"})
    assert HealthReport.objects.count() == 1
    refused = client.post(f"/o/{zhang_file.token}/", {"client_id": str(uuid.uuid4()), "temperature": "30"})
    assert refused.status_code == 400


def test_a_wrong_or_closed_token_answers_404_and_guessing_is_rate_limited(client, city, zhang_file, settings):
    assert client.get("/o/not-a-token/").status_code == 404
    decide(city.users["grid_a"], zhang_file, "end", "转入医院")
    assert client.get(f"/o/{zhang_file.token}/").status_code == 404
    settings.SELF_REPORT_RATE_LIMITS = {"address": (3, 600)}
    codes = [client.get(f"/o/guess-{i}/").status_code for i in range(5)]
    assert codes[-1] == 429


def test_released_notices_print_one_per_page(city, login, zhang_file):
    ObservationFile.objects.filter(pk=zhang_file.pk).update(status=FileStatus.RELEASED, notice_number="JC20261129-1",
                                                            ended_at=timezone.now())
    client = login(city.users["community"])
    single = client.get(f"/observation/files/{zhang_file.pk}/notice/").content.decode()
    assert "JC20261129-1" in single and "@media print" not in single  # the print CSS is in the stylesheet
    bulk = client.get(f"/observation/areas/{city.areas['qinghe'].code}/notices/").content.decode()
    assert 'class="notice"' in bulk and "JC20261129-1" in bulk
    other = login(city.users["other_community"]).get(f"/observation/areas/{city.areas['ziyangc'].code}/notices/")
    assert "JC20261129-1" not in other.content.decode()


def test_a_cold_forehead_reading_through_the_link_is_kept_and_a_retake_asked_for(client, city, zhang_file):
    page = client.get(f"/o/{zhang_file.token}/").content.decode()
    assert 'name="temperature_method" value="armpit"' in page and 'name="ambient_c"' in page
    done = client.post(f"/o/{zhang_file.token}/", {"client_id": str(uuid.uuid4()), "temperature": "35.9",
                                                   "temperature_method": "forehead", "outdoors": "on", "ambient_c": "1"})
    assert done.status_code == 200 and 'id="retake"' in done.content.decode()
    assert HealthReport.objects.get().reading_unreliable


def test_a_worker_report_says_how_it_was_taken(city, login, zhang_file):
    client = login(city.users["grid_a"])
    response = client.post(f"/observation/files/{zhang_file.pk}/report/", {
        "client_id": str(uuid.uuid4()), "temperature": "36.5", "temperature_method": "ear"}, follow=True)
    assert response.status_code == 200 and HealthReport.objects.get().temperature_method == "ear"
    refused = client.post(f"/observation/files/{zhang_file.pk}/report/", {
        "client_id": str(uuid.uuid4()), "temperature": "36.5", "temperature_method": "forehead", "outdoors": "on"})
    assert refused.status_code == 400 and "Enter the outdoor temperature" in refused.content.decode()


THREE_WINDOWS = {"home_reports_per_day": 3, "home_report_windows": [
    {"name": "morning", "start": "06:00", "end": "10:00"}, {"name": "noon", "start": "11:00", "end": "13:00"},
    {"name": "evening", "start": "17:00", "end": "21:00"}]}


def test_the_self_report_page_names_the_policys_reports_a_day_and_windows(client, city, zhang_file):
    html = client.get(f"/o/{zhang_file.token}/").content.decode()
    assert "2 reports a day" in html and "Morning 06:00–10:00" in html and "twice a day" not in html
    change_policy(city.users["city"], THREE_WINDOWS, note="three a day")
    html = client.get(f"/o/{zhang_file.token}/").content.decode()
    assert "3 reports a day" in html and "Noon 11:00–13:00" in html


def test_the_board_names_the_due_window_of_the_policy(city, login, zhang_file):
    change_policy(city.users["city"], THREE_WINDOWS, note="three a day")
    noon = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12, 0)))
    with mock.patch("fangkong.observation.board.timezone.now", return_value=noon):
        html = login(city.users["grid_a"]).get(f"/observation/areas/{city.areas['grid_a'].code}/").content.decode()
    assert "Noon" in html and "noon" not in html
