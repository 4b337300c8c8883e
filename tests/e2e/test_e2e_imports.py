"""A city commander sets up the area tree from the official code list (统计用区划代码) in the browser."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from fangkong.areas.models import Area, Level
from tests.e2e.helpers import log_in

AREAS_CSV = "\n".join([
    "统计用区划代码,名称",
    "420000000000,湖北省",
    "420100000000,武汉市",
    "420102000000,江岸区",
    "420102001000,大智街道",
    "420102001001,青和居社区",
    "420102002000,新村街道",
    "420102002001,新村社区",
    "420102002002,",
]).encode("utf-8-sig")


def test_a_city_commander_imports_the_area_tree_and_reads_the_report(e2e_city, desktop: Page):
    page = desktop
    log_in(page, "city")
    page.get_by_role("link", name="导入", exact=True).click()
    page.locator("#link-import-areas").click()
    expect(page.locator("h1")).to_have_text("导入区划")
    page.locator("input[type=file]").set_input_files(files=[{"name": "区划代码.csv", "mimeType": "text/csv", "buffer": AREAS_CSV}])
    page.locator("#import-areas").click()
    expect(page).to_have_url(re.compile(r"/import/areas/\d+/$"))
    expect(page.locator("#count-created b")).to_have_text("2")
    expect(page.locator("#count-unchanged b")).to_have_text("4")
    expect(page.locator("#count-errors b")).to_have_text("1")
    expect(page.locator("table.errors tbody tr")).to_contain_text("名称")
    with page.expect_download() as info:
        page.locator("#download-report").click()
    workbook = load_workbook(io.BytesIO(info.value.path().read_bytes()))
    assert list(workbook["错误明细"].iter_rows(min_row=2, values_only=True))[0][:2] == (9, "名称")
    assert list(workbook.active.iter_rows(min_row=2, values_only=True))[0][:3] == ("420102002002", None, 9)
    assert Area.objects.filter(code__startswith="420102002001", level=Level.GRID).count() == 1
    page.locator("#link-area-tree").click()
    expect(page.locator("main")).to_contain_text("江岸区")
