"""Leaving a facility: an explicit outcome, a cure only on the policy's negative tests (or an override with
its reason, audit-logged), a death recorded as such, and a confirmation step on the screen."""

import datetime as dt

import pytest
from django.utils import timezone

from fangkong.audit.models import AuditLog
from fangkong.cases import samples
from fangkong.cases import services as cases
from fangkong.cases.models import Placement, Status
from fangkong.core.errors import FieldErrors
from fangkong.facilities import beds
from fangkong.facilities.models import BedPool, Stay, StayStatus
from fangkong.policy.services import change_policy

pytestmark = pytest.mark.django_db


def admitted(city, who="zhangwei", severity="severe", facility="hospital", bed="ordinary"):
    case = cases.open_case(city.users["community"], city.residents[who], Status.CONFIRMED, "确诊", severity=severity)
    stay = beds.place(city.users["district"], case, city.facilities[facility], bed)
    return beds.admit(city.users["district"], stay)


def negative_tests(city, stay, hours_ago=(50, 25)):
    user = city.users["district"]
    now = timezone.now()
    for hours in hours_ago:
        test = samples.order_test(user, stay.case)
        test = samples.record_sample(user, test, sampled_at=now - dt.timedelta(hours=hours), place="金银潭医院")
        samples.record_result(user, test, "negative", result_at=now - dt.timedelta(hours=hours - 2))


def test_a_severe_patient_admitted_this_minute_is_not_discharged_as_cured(city):
    stay = admitted(city)
    with pytest.raises(FieldErrors) as refused:
        beds.discharge(city.users["facility"], stay, "discharged")
    assert refused.value.errors.keys() == {"cure_override"}
    assert "needs 2 negative tests in a row, sampled at least 24 hours apart; 0 found" in refused.value.errors["cure_override"]
    stay.refresh_from_db()
    stay.case.refresh_from_db()
    assert stay.status == StayStatus.ADMITTED and stay.case.status == Status.CONFIRMED
    assert BedPool.objects.get(facility=stay.facility, kind="ordinary").occupied == 1


def test_two_negative_tests_a_day_apart_make_a_cure_and_start_the_post_discharge_period(city):
    stay = admitted(city)
    negative_tests(city, stay)
    beds.discharge(city.users["facility"], stay, "discharged", note="两次核酸阴性")
    case = stay.case
    case.refresh_from_db()
    assert case.status == Status.DISCHARGED and case.placement == Placement.WAITING  # for a recovery station
    assert case.post_discharge_until == timezone.localdate() + dt.timedelta(days=14)
    assert Stay.objects.get(pk=stay.pk).end_reason == "discharged"


def test_tests_too_close_together_do_not_count_and_the_policy_decides_how_many(city):
    stay = admitted(city)
    negative_tests(city, stay, hours_ago=(30, 20))  # 10 hours apart
    with pytest.raises(FieldErrors, match="1 found"):
        beds.discharge(city.users["facility"], stay, "discharged")
    change_policy(city.users["city"], {"discharge_test_interval_hours": 8}, note="试行")
    beds.discharge(city.users["facility"], stay, "discharged")
    assert Stay.objects.get(pk=stay.pk).status == StayStatus.ENDED


def test_a_policy_asking_no_test_lets_a_cure_through(city):
    stay = admitted(city)
    change_policy(city.users["city"], {"discharge_negative_tests": 0}, note="试行")
    beds.discharge(city.users["facility"], stay, "discharged")
    stay.case.refresh_from_db()
    assert stay.case.status == Status.DISCHARGED


def test_an_override_with_a_reason_is_recorded_in_the_audit_log(city):
    stay = admitted(city)
    beds.discharge(city.users["facility"], stay, "discharged", cure_override="外院检测报告两次阴性，已核对")
    stay.case.refresh_from_db()
    assert stay.case.status == Status.DISCHARGED
    entry = AuditLog.objects.filter(object_type="cases.case", object_id=str(stay.case_id), changes__has_key="cure_override").get()
    assert entry.changes["cure_override"] == "外院检测报告两次阴性，已核对" and entry.changes["negative_tests"] == [0, 2]


def test_a_death_is_recorded_as_such(city):
    stay = admitted(city, severity="critical", bed="icu")
    beds.discharge(city.users["facility"], stay, "deceased", note="呼吸衰竭")
    stay.case.refresh_from_db()
    assert stay.case.status == Status.DECEASED and stay.case.history.last().reason == "Died at 金银潭医院"
    assert Stay.objects.get(pk=stay.pk).end_reason == "deceased"
    assert BedPool.objects.get(facility=stay.facility, kind="icu").occupied == 0


def test_transferred_and_other_need_a_note_and_an_outcome_is_required(city):
    stay = admitted(city)
    for outcome in ("transferred", "other"):
        with pytest.raises(FieldErrors) as refused:
            beds.discharge(city.users["facility"], stay, outcome)
        assert refused.value.errors.keys() == {"note"}
    with pytest.raises(FieldErrors) as refused:
        beds.discharge(city.users["facility"], stay, "")
    assert refused.value.errors.keys() == {"outcome"}
    beds.discharge(city.users["facility"], stay, "transferred", note="转至协和医院")
    stay.case.refresh_from_db()
    assert stay.case.status == Status.CONFIRMED and stay.case.placement == Placement.WAITING


def test_only_a_confirmed_patient_is_discharged_as_cured(city):
    case = cases.open_case(city.users["community"], city.residents["lina"], Status.CLOSE_CONTACT, "流调")
    stay = beds.admit(city.users["district"], beds.place(city.users["district"], case, city.facilities["isolation"], "single_room"))
    with pytest.raises(FieldErrors) as refused:
        beds.discharge(city.users["district"], stay, "discharged")
    assert refused.value.errors.keys() == {"outcome"}


def test_the_screen_asks_for_an_outcome_then_a_confirmation(city, login):
    stay = admitted(city)
    client = login(city.users["facility"])
    page = client.get(f"/facilities/{stay.facility_id}/")
    assert f"/facilities/stays/{stay.pk}/discharge/" in page.content.decode()
    form = client.get(f"/facilities/stays/{stay.pk}/discharge/")
    body = form.content.decode()
    assert form.status_code == 200 and 'name="outcome"' in body and "checked" not in body  # nothing preselected
    assert "2 negative tests in a row, at least 24 hours apart, are needed; 0 found." in body
    missing = client.post(f"/facilities/stays/{stay.pk}/discharge/", {"note": ""})
    assert missing.status_code == 400 and Stay.objects.get(pk=stay.pk).status == StayStatus.ADMITTED
    confirm = client.post(f"/facilities/stays/{stay.pk}/discharge/", {"outcome": "deceased", "note": "呼吸衰竭"})
    assert confirm.status_code == 200 and "leaves 金银潭医院: Died. This cannot be undone." in confirm.content.decode()
    assert Stay.objects.get(pk=stay.pk).status == StayStatus.ADMITTED  # not yet
    done = client.post(f"/facilities/stays/{stay.pk}/discharge/", {"outcome": "deceased", "note": "呼吸衰竭", "confirmed": "1"})
    assert done.status_code == 302 and Stay.objects.get(pk=stay.pk).end_reason == "deceased"


def test_a_refused_cure_on_the_screen_shows_the_reason_at_the_override_field(city, login):
    stay = admitted(city)
    client = login(city.users["facility"])
    refused = client.post(f"/facilities/stays/{stay.pk}/discharge/", {"outcome": "discharged", "confirmed": "1"})
    assert refused.status_code == 400 and "0 found" in refused.content.decode()
    assert Stay.objects.get(pk=stay.pk).status == StayStatus.ADMITTED
