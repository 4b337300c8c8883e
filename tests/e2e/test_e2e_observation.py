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
from fangkong.observation.alerts import run_alert_job
from fangkong.observation.files import open_file
from fangkong.observation.models import FileStatus, HealthReport, ObservationFile

from .helpers import log_in, shoot


def _open(city, key: str, days_back: int = 0) -> ObservationFile:
    file = open_file(city.users["grid_a"], city.residents[key], kind="home", reason="同住家属确诊",
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
    counts = run_alert_job()
    assert counts["missed"] >= 1
    assert run_alert_job()["missed"] == 0  # run twice, alert once

    log_in(phone, "grid_a")
    phone.goto("/observation/")
    expect(phone.locator("h1")).to_contain_text("医学观察")
    expect(phone.locator("#count-missed b")).to_have_text(str(counts["missed"]))
    expect(phone.locator("#missed")).to_contain_text("张伟")  # his responsible worker sees his name and phone
    expect(phone.locator("#missed")).to_contain_text("13800138000")
    shoot(phone, "observation-board.png")

    # The worker calls him: 38.6 °C. Entered on the file page after the call.
    phone.locator("#missed a", has_text="张伟").first.click()
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


def test_the_community_worker_assigns_responsible_workers_who_then_see_their_people(e2e_city, desktop: Page):
    city = e2e_city
    files = {key: open_file(city.users["community"], city.residents[key], kind="home", reason="密接",
                            last_exposure_on=timezone.localdate() - dt.timedelta(days=1))
             for key in ("zhangwei", "lina", "wangfang")}  # grid A, grid A, grid B; nobody responsible yet
    page = desktop
    log_in(page, "community")
    page.goto(f"/observation/areas/{city.areas['qinghe'].code}/")
    page.locator("#assign-responsible").click()
    expect(page.locator("h1")).to_contain_text("指派包保责任人")
    # Grid A's worker takes 张伟, ticked on the list.
    page.locator("select[name=responsible]").select_option(label="grid_a · 第一网格")
    page.locator(f"#file-{files['zhangwei'].pk}").check()
    page.locator("#assign-ticked").click()
    expect(page.locator(".msg-success")).to_contain_text("已为 1 人指派包保责任人")
    # Grid B's worker takes everybody left without one; 李娜 lives in grid A and stays as she was.
    page.locator("select[name=responsible]").select_option(label="grid_b · 第二网格")
    shoot(page, "observation-responsible.png")
    page.locator("#assign-unassigned").click()
    expect(page.locator(".msg-warning")).to_contain_text("1 人不在")
    # 李娜's file: assigned on her own page.
    page.goto(f"/observation/files/{files['lina'].pk}/")
    page.locator("#responsible-form select").select_option(label="grid_a · 第一网格")
    page.locator("#responsible-form button").click()
    expect(page.locator("#file-responsible")).to_contain_text("grid_a")
    assert [ObservationFile.objects.get(pk=files[k].pk).responsible.username for k in ("zhangwei", "lina", "wangfang")] == [
        "grid_a", "grid_a", "grid_b"]

    page.context.clear_cookies()  # log out: grid A's worker now
    log_in(page, "grid_a")
    page.goto("/observation/")
    expect(page.locator("#due")).to_contain_text("张伟")
    expect(page.locator("#due a[href='tel:13800138000']")).to_be_visible()
    expect(page.locator("#due")).to_contain_text("李娜")
