"""The XLSX exports in the browser (fangkong.jobs.exports): a community worker presses the export buttons of the
area page, the category board and the to-do list; each leads to its job page, which offers the file; the
file is the area's, and its download is in the audit log."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from fangkong.audit.models import Action, AuditLog
from tests.e2e.helpers import log_in, shoot


def _download(page: Page, title: str) -> bytes:
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#job-status")).to_have_text("已完成")
    with page.expect_download() as info:
        page.locator("#job-download").click()
    return info.value.path().read_bytes()


def test_the_export_buttons_start_jobs_whose_page_offers_the_file(e2e_city, desktop: Page):
    page = desktop
    qinghe = e2e_city.areas["qinghe"].code
    log_in(page, "community")

    page.goto(f"/areas/{qinghe}/")
    page.locator("#residents-export button").click()
    content = _download(page, "居民导出")
    shoot(page, "export-job.png")
    names = {row[0] for row in load_workbook(io.BytesIO(content)).active.iter_rows(min_row=2, values_only=True)}
    assert "张伟" in names and "刘洋" not in names  # 刘洋 lives in 武昌区

    page.goto(f"/cases/areas/{qinghe}/")
    page.locator("#targets-export button").click()
    assert load_workbook(io.BytesIO(_download(page, "目标导出"))).sheetnames[0] == "目标"
    page.get_by_role("link", name="返回").click()
    expect(page).to_have_url(re.compile(rf"/cases/areas/{qinghe}/$"))

    page.goto(f"/crosscheck/?area={qinghe}&status=all")
    page.locator("#todos-export button").click()
    _download(page, "待核查事项导出")

    logged = AuditLog.objects.filter(action=Action.EXPORT, username="community", area_code=qinghe)
    assert sorted(entry.changes["file"] for entry in logged) == sorted(
        [f"residents-{qinghe}.xlsx", f"targets-{qinghe}.xlsx", f"crosscheck-{qinghe}.xlsx"])
