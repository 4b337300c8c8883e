"""Medical observation services, as sentences with the small city's personas."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from fangkong.cases import samples
from fangkong.cases import services as cases
from fangkong.cases.models import Case, Placement, Source, Status
from fangkong.core.errors import FieldErrors
from fangkong.observation.access import access_resident
from fangkong.observation.alerts import run_alert_job
from fangkong.observation.escalation import record_violation
from fangkong.observation.files import decide, open_file
from fangkong.observation.models import (
    Alert,
    AlertKind,
    DecisionKind,
    FileStatus,
    HealthReport,
    Kind,
    ObservationFile,
)
from fangkong.observation.release import eligible_for_release, release_eligible
from fangkong.observation.reports import HowTakenInput, record_self_report, record_worker_report
from fangkong.observation.windows import window_for

pytestmark = pytest.mark.django_db


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def open_for(city, key="zhangwei", *, days_ago=3, user="grid_a", **extra):
    today = timezone.localdate()
    return open_file(city.users[user], city.residents[key], kind=extra.pop("kind", Kind.HOME),
                     reason="同住家属确诊", last_exposure_on=today - dt.timedelta(days=days_ago), **extra)


def backdate(file: ObservationFile, days: int) -> ObservationFile:
    """Pretend the file was opened `days` ago (tests of windows and release)."""
    file.created_at -= dt.timedelta(days=days)
    file.started_on -= dt.timedelta(days=days)
    ObservationFile.objects.filter(pk=file.pk).update(created_at=file.created_at, started_on=file.started_on)
    return file


def test_the_planned_end_is_the_policy_period_after_the_last_exposure(city):
    file = open_for(city, days_ago=3)
    assert file.planned_end_on == file.last_exposure_on + dt.timedelta(days=14)
    assert file.status == FileStatus.OPEN and file.area_code == city.residents["zhangwei"].area_code
    assert len(file.token) >= 40
    assert file.decisions.get().kind == DecisionKind.OPEN


def test_opening_twice_keeps_one_file_and_a_later_exposure_pushes_the_end_out(city):
    first = open_for(city, days_ago=5)
    again = open_for(city, days_ago=5)
    later = open_for(city, days_ago=1)
    assert first.pk == again.pk == later.pk
    assert ObservationFile.objects.filter(resident=city.residents["zhangwei"]).count() == 1
    later.refresh_from_db()
    assert later.planned_end_on == timezone.localdate() + dt.timedelta(days=13)
    assert later.decisions.filter(kind=DecisionKind.EXPOSURE).count() == 1


def test_a_file_needs_a_valid_kind_and_a_past_exposure_inside_the_period(city):
    with pytest.raises(FieldErrors) as exc:
        open_for(city, kind="hotel")
    assert "kind" in exc.value.errors
    with pytest.raises(FieldErrors) as exc:
        open_for(city, days_ago=-1)
    assert "last_exposure_on" in exc.value.errors
    with pytest.raises(FieldErrors) as exc:
        open_for(city, days_ago=30)
    assert "last_exposure_on" in exc.value.errors


def test_the_neighbouring_grid_worker_cannot_open_a_file_for_grid_a(city):
    resident = city.residents["zhangwei"]
    with pytest.raises(Http404):  # out of scope answers as if absent
        access_resident(city.users["grid_b"], resident.pk)
    with pytest.raises(PermissionDenied):
        access_resident(city.users["volunteer"], resident.pk)


def test_a_report_belongs_to_the_window_containing_it_or_the_next_or_the_last_of_the_day():
    day = dt.date(2026, 11, 29)
    assert window_for(local(day, 7)) == (day, "morning")
    assert window_for(local(day, 5)) == (day, "morning")  # early: the coming window
    assert window_for(local(day, 12)) == (day, "evening")  # between: the next window
    assert window_for(local(day, 18)) == (day, "evening")
    assert window_for(local(day, 23, 30)) == (day, "evening")  # late: the day's last window
    assert window_for(local(day, 10, 0)) == (day, "evening")  # a window ends at its end time


def test_readings_outside_the_valid_range_are_refused_with_a_field_error(city):
    file = open_for(city)
    for value in ("33.9", "43.1", "abc"):
        with pytest.raises(FieldErrors) as exc:
            record_worker_report(city.users["grid_a"], file, temperature=value)
        assert "temperature" in exc.value.errors
    assert not HealthReport.objects.exists()


def test_sending_the_same_report_twice_records_it_once(city):
    file = open_for(city)
    cid = uuid.uuid4()
    first = record_worker_report(city.users["grid_a"], file, temperature="36.6", client_id=cid)
    second = record_worker_report(city.users["grid_a"], file, temperature="36.6", client_id=cid)
    assert first.created and not second.created and first.report.pk == second.report.pk
    assert HealthReport.objects.count() == 1


def test_the_alert_job_finds_missed_windows_and_alerts_once_when_run_twice(city):
    file = backdate(open_for(city, days_ago=3), 2)
    today = timezone.localdate()
    record_worker_report(city.users["grid_a"], file, temperature="36.5", reported_at=local(today - dt.timedelta(days=1), 7))
    now = local(today, 11)
    counts = run_alert_job(now)
    # yesterday morning was reported; yesterday evening and this morning were missed
    assert counts["missed"] == 2
    assert set(Alert.objects.filter(kind=AlertKind.MISSED).values_list("key", flat=True)) == {
        f"{today - dt.timedelta(days=1)}/evening", f"{today}/morning"}
    assert run_alert_job(now) == {"missed": 0, "fever": 0, "symptoms": 0, "escalated": 0}
    assert Alert.objects.count() == 2


def test_no_missed_alert_for_windows_before_the_file_was_opened(city):
    open_for(city)  # opened now
    assert run_alert_job(timezone.now())["missed"] == 0


def test_a_fever_reading_escalates_a_close_contact_into_the_fever_pipeline(city):
    zhang = city.residents["zhangwei"]
    cases.open_case(city.users["community"], zhang, Status.CLOSE_CONTACT, "流调判定")
    file = open_for(city)
    result = record_worker_report(city.users["grid_a"], file, temperature="38.2")
    assert result.escalated and AlertKind.FEVER in result.alerts
    case = Case.objects.get(resident=zhang)
    assert case.status == Status.FEVER and case.category == "fever" and case.placement == Placement.WAITING
    file.refresh_from_db()
    assert file.status == FileStatus.ESCALATED
    assert run_alert_job()["fever"] == 0  # the file is closed and alerted already


def test_the_job_escalates_a_fever_it_finds_and_opens_a_fever_case(city):
    file = open_for(city)
    HealthReport.objects.create(file=file, date=timezone.localdate(), window_name="morning", temperature="37.5",
                                source="worker", reported_at=timezone.now(), area_code=file.area_code)
    counts = run_alert_job()
    assert counts["fever"] == 1 and counts["escalated"] == 1
    case = Case.objects.get(resident=file.resident)
    assert case.status == Status.FEVER and case.source == Source.OBSERVATION
    assert run_alert_job()["escalated"] == 0


def test_new_symptoms_alert_once_and_repeated_ones_do_not(city):
    file = open_for(city)
    first = record_worker_report(city.users["grid_a"], file, temperature="36.8", symptoms=["dry_cough"],
                                 reported_at=timezone.now() - dt.timedelta(hours=13))
    again = record_worker_report(city.users["grid_a"], file, temperature="36.8", symptoms=["dry_cough"])
    assert first.alerts == [AlertKind.SYMPTOMS] and again.alerts == []
    assert run_alert_job()["symptoms"] == 0


def test_leaving_home_isolation_orders_centralised_isolation_through_the_backlog(city):
    file = open_for(city)
    alert = record_violation(city.users["grid_a"], file, "下楼取快递")
    assert alert.kind == AlertKind.VIOLATION
    case = Case.objects.get(resident=file.resident)
    assert case.status == Status.CLOSE_CONTACT and case.category == "close_contact" and case.placement == Placement.WAITING
    file.refresh_from_db()
    assert file.kind == Kind.CENTRALISED and file.decisions.filter(kind=DecisionKind.VIOLATION).exists()


def test_the_period_moves_only_by_a_logged_decision_with_a_reason(city):
    file = open_for(city)
    with pytest.raises(FieldErrors):
        decide(city.users["grid_a"], file, DecisionKind.EXTEND, "", new_end_on=file.planned_end_on + dt.timedelta(days=2))
    new_end = file.planned_end_on + dt.timedelta(days=2)
    decide(city.users["grid_a"], file, DecisionKind.EXTEND, "同住人新确诊", new_end_on=new_end)
    file.refresh_from_db()
    assert file.planned_end_on == new_end
    assert file.decisions.filter(kind=DecisionKind.EXTEND, reason="同住人新确诊").exists()


def _sample_negative(city, resident, when):
    case = Case.objects.filter(resident=resident).first() or cases.open_case(
        city.users["community"], resident, Status.CLOSE_CONTACT, "流调判定")
    test = samples.order_test(city.users["community"], case)
    samples.record_sample(city.users["community"], test, sampled_at=when, place="上门采样")
    samples.record_result(city.users["community"], test, "negative", result_at=when)


def test_release_needs_the_period_over_no_fever_and_a_negative_test(city):
    today = timezone.localdate()
    file = open_for(city, days_ago=14)
    assert not eligible_for_release(ObservationFile.objects.all(), today).exists()  # ends today
    later = today + dt.timedelta(days=1)
    assert not eligible_for_release(ObservationFile.objects.all(), later).exists()  # no negative test yet
    _sample_negative(city, file.resident, timezone.now() - dt.timedelta(hours=1))
    assert eligible_for_release(ObservationFile.objects.all(), later).exists()


def test_bulk_release_closes_the_eligible_files_and_issues_notices(city):
    zhang, li, wang = (open_for(city, key, days_ago=14, user="community") for key in ("zhangwei", "lina", "wangfang"))
    today = timezone.localdate()
    ObservationFile.objects.update(started_on=today - dt.timedelta(days=15), last_exposure_on=today - dt.timedelta(days=15),
                                   planned_end_on=today - dt.timedelta(days=1))
    for f in (zhang, li, wang):
        _sample_negative(city, f.resident, timezone.now() - dt.timedelta(hours=2))
    HealthReport.objects.create(file=li, date=timezone.localdate(), window_name="morning", temperature="37.4",
                                source="worker", reported_at=timezone.now(), area_code=li.area_code)
    released = release_eligible(city.users["community"], city.areas["qinghe"].code)
    assert released == 2  # 李娜 had a fever reading
    zhang.refresh_from_db()
    assert zhang.status == FileStatus.RELEASED and zhang.notice_number.startswith("JC")
    assert Case.objects.get(resident=zhang.resident).status == Status.RELEASED
    assert release_eligible(city.users["community"], city.areas["qinghe"].code) == 0
    with pytest.raises(PermissionDenied):
        release_eligible(city.users["grid_b"], city.areas["grid_a"].code)


def test_a_resident_who_moves_takes_the_file_and_reports_along(city):
    from fangkong.people.models import Resident
    from fangkong.people.moves import residents_moved

    file = open_for(city)
    record_worker_report(city.users["grid_a"], file, temperature="36.5")
    Resident.objects.filter(pk=file.resident_id).update(household=city.households["b201"],
                                                        area_code=city.households["b201"].area_code)
    residents_moved([file.resident_id])
    file.refresh_from_db()
    assert file.area_code == city.households["b201"].area_code
    assert HealthReport.objects.get().area_code == file.area_code


def test_the_alert_command_runs_the_job_as_of_a_given_time(city):
    import io

    from django.core.management import call_command

    backdate(open_for(city, days_ago=3), 2)
    at = local(timezone.localdate(), 11).isoformat()
    out = io.StringIO()
    call_command("observation-alerts", at=at, stdout=out)
    assert "missed=2" in out.getvalue()
    out = io.StringIO()
    call_command("observation-alerts", at=at, stdout=out)
    assert "missed=0" in out.getvalue()


def test_an_isolation_site_admitting_a_close_contact_becomes_the_place_of_their_file(city):
    from fangkong.facilities import beds as facilities

    worker = city.users["community"]
    case = cases.open_case(worker, city.residents["lina"], "close_contact", "流调判定")
    file = open_file(worker, city.residents["lina"], kind="home", reason="密接", place="1栋101",
                     last_exposure_on=timezone.localdate() - dt.timedelta(days=1))
    stay = facilities.place(city.users["district"], case, city.facilities["isolation"], "single_room")
    file.refresh_from_db()
    assert (file.kind, file.facility_id) == ("home", None)  # booked is not yet there
    facilities.admit(city.users["district"], stay)
    file.refresh_from_db()
    assert (file.kind, file.facility_id, file.place) == ("centralised", city.facilities["isolation"].pk, "江岸集中隔离点")


def test_a_report_records_how_the_temperature_was_taken_armpit_by_default(city):
    file = open_for(city)
    plain = record_worker_report(city.users["grid_a"], file, temperature="36.6").report
    assert (plain.temperature_method, plain.outdoors, plain.reading_unreliable) == ("armpit", False, False)
    cold = record_worker_report(city.users["grid_a"], file, temperature="36.1",
                                how=HowTakenInput("forehead", True, "-2")).report
    assert (cold.temperature_method, cold.ambient_c, cold.reading_unreliable) == ("forehead", Decimal("-2.0"), True)
    with pytest.raises(FieldErrors) as exc:
        record_self_report(file, temperature="36.5", how=HowTakenInput("forehead", True, ""))
    assert set(exc.value.errors) == {"ambient_c"}
    with pytest.raises(FieldErrors) as exc:
        record_self_report(file, temperature="36.5", how=HowTakenInput("tongue"))
    assert set(exc.value.errors) == {"temperature_method"}
    assert HealthReport.objects.count() == 2
