"""The demo's medical observation: files and reports written in bulk, alerts raised once."""

import io

import pytest
from django.core.management import call_command
from django.db.models import F

from fangkong.accounts.models import User
from fangkong.demo.accounts import ensure_demo_accounts
from fangkong.demo.cases import build_demo_cases, ensure_demo_facilities
from fangkong.demo.city import build_city
from fangkong.demo.observation import build_demo_observation
from fangkong.observation.alerts import run_alert_job
from fangkong.observation.models import Alert, FileStatus, HealthReport, ObservationFile

pytestmark = pytest.mark.django_db


def test_the_demo_opens_files_with_reports_and_alerts_once(db):
    build_city(2000, 11)
    ensure_demo_facilities(11)
    build_demo_cases(11)
    counts = build_demo_observation(11, 60)
    assert counts["files"] == ObservationFile.objects.count() >= 50
    assert counts["reports"] == HealthReport.objects.count() > 0
    assert not ObservationFile.objects.exclude(area_code=F("resident__area_code")).exists()
    assert not HealthReport.objects.exclude(area_code=F("file__area_code")).exists()
    assert Alert.objects.filter(kind="missed").exists()
    assert ObservationFile.objects.filter(status=FileStatus.OPEN).count() > 40
    assert build_demo_observation(11, 60) == {"files": 0, "reports": 0}  # once
    assert run_alert_job()["missed"] == 0


def test_the_demo_adds_its_files_beside_those_the_demo_tracing_opened(db):
    from fangkong.tracing.demo import build_demo_tracing

    build_city(2000, 11)
    ensure_demo_facilities(11)
    build_demo_cases(11)
    build_demo_tracing(11)
    traced = ObservationFile.objects.count()
    assert traced > 0  # close contacts confirmed by the demo tracing
    counts = build_demo_observation(11, 60)
    assert counts["files"] >= 50 and ObservationFile.objects.count() == traced + counts["files"]
    assert counts["reports"] == HealthReport.objects.count() > 0


def test_the_demo_commands_print_sentences_in_the_deployments_language_zh(db, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    build_city(1500, 7)
    call_command("demo-cases", "--seed", "7", stdout=io.StringIO())
    outputs = []
    for command, *args in (("demo-tracing", "--seed", "7"), ("demo-observation", "--seed", "7", "--files", "40"),
                           ("demo-tracing",), ("demo-observation",)):
        out = io.StringIO()
        call_command(command, *args, stdout=out)
        outputs.append(out.getvalue())
    assert "流调" in outputs[0] and "医学观察" in outputs[1]
    assert all("=" not in text and text.strip() for text in outputs), outputs
    assert "无需新增" in outputs[2] and "无需新增" in outputs[3]  # a second run says so


def test_every_demo_file_has_a_responsible_worker_and_its_kind_and_place_agree(db):
    build_city(2000, 11)
    ensure_demo_facilities(11)
    build_demo_cases(11)
    build_demo_observation(11, 60)
    open_files = ObservationFile.objects.filter(status=FileStatus.OPEN).select_related(
        "resident__household__compound", "resident__household__building", "resident__household__unit", "responsible__area")
    assert open_files and all(f.responsible is not None for f in open_files)
    for f in open_files:
        assert f.responsible.area.code == f.area_code  # the worker of the person's own grid (or community)
        if f.kind == "centralised":
            assert f.place != f.resident.household.address and (f.facility is None or f.facility.kind == "isolation_site")
        else:
            assert f.place == f.resident.household.address
    assert open_files.filter(kind="centralised").exists() and open_files.filter(kind="home").exists()
    ensure_demo_accounts()
    grid = User.objects.get(username="grid")
    mine = ObservationFile.objects.filter(status=FileStatus.OPEN, area_code=grid.area.code)
    assert mine.exists() and set(mine.values_list("responsible", flat=True)) == {grid.pk}
