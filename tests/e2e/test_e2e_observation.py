"""Medical observation in the browser, on a phone: a resident reports through the personal link; a grid
worker sees a missed-report alert on the board after the alert job ran, enters a fever reading after
a call, and the person is escalated (a fever patient waiting in the placement backlog).
Screenshots: observation-selfreport.png, observation-board.png, observation-file.png."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import Page, expect

from fangkong.cases.models import Case, Placement, Status
from fangkong.observation import services
from fangkong.observation.models import FileStatus, HealthReport, ObservationFile

from .helpers import log_in, shoot


def _open(city, key: str, days_back: int = 0) -> ObservationFile:
    file = services.open_file(city.users["grid_a"], city.residents[key], kind="home", reason="同住家属确诊",
                              last_exposure_on=timezone.localdate() - dt.timedelta(days=max(days_back, 1)), place="1栋101",
                              responsible=city.users["grid_a"])
    if days_back:  # opened some days ago
        ObservationFile.objects.filter(pk=file.pk).update(
            created_at=file.created_at - dt.timedelta(days=days_back),
            started_on=file.started_on - dt.timedelta(days=days_back))
        file.refresh_from_db()
    return file


def test_a_resident_reports_temperature_through_the_personal_link(e2e_city, phone: Page):
    file = _open(e2e_city, "lina")
    phone.goto(f"/o/{file.token}/")
    expect(phone.locator("#masked-name")).to_have_text("李*")
    expect(phone.locator("body")).not_to_contain_text("李娜")
    phone.locator("input[name=temperature]").fill("44")
    phone.get_by_role("button", name="提交").click()
    expect(phone.locator(".field-error")).to_contain_text("34.0")
    assert not HealthReport.objects.exists()
    phone.goto(f"/o/{file.token}/")
    phone.locator("input[name=temperature]").fill("36.4")
    shoot(phone, "observation-selfreport.png")
    phone.get_by_role("button", name="提交").click()
    expect(phone.locator("#report-done")).to_contain_text("36.4")
    report = HealthReport.objects.get()
    assert report.source == "self" and report.file_id == file.pk


def test_a_missed_report_is_alerted_and_a_fever_escalates_into_the_pipeline(e2e_city, phone: Page):
    city = e2e_city
    file = _open(city, "zhangwei", days_back=2)
    for days_ago, window, value in ((2, "morning", "36.5"), (2, "evening", "36.7"), (1, "morning", "36.9")):
        day = timezone.localdate() - dt.timedelta(days=days_ago)
        HealthReport.objects.create(file=file, date=day, window_name=window, temperature=value, source="self",
                                    reported_at=timezone.now() - dt.timedelta(days=days_ago), area_code=file.area_code)
    counts = services.run_alert_job()
    assert counts["missed"] >= 1
    assert services.run_alert_job()["missed"] == 0  # run twice, alert once

    log_in(phone, "grid_a")
    phone.goto("/observation/")
    expect(phone.locator("h1")).to_contain_text("医学观察")
    expect(phone.locator("#count-missed b")).to_have_text(str(counts["missed"]))
    expect(phone.locator("#missed")).to_contain_text("张*")
    shoot(phone, "observation-board.png")

    # The worker calls him: 38.6 °C. Entered on the file page after the call.
    phone.locator("#missed a", has_text="张*").first.click()
    expect(phone.locator("#curve svg")).to_be_visible()
    phone.locator("#worker-report input[name=temperature]").fill("38.6")
    phone.locator("#worker-report label", has_text="干咳").click()
    shoot(phone, "observation-file.png")
    phone.locator("#worker-report button[type=submit]").click()
    expect(phone.locator("#file-status")).to_have_class(re.compile("status-escalated"))
    expect(phone.locator("#case-link")).to_contain_text("发热病人")
    case = Case.objects.get(resident=city.residents["zhangwei"])
    assert case.status == Status.FEVER and case.category == "fever" and case.placement == Placement.WAITING
    file.refresh_from_db()
    assert file.status == FileStatus.ESCALATED
