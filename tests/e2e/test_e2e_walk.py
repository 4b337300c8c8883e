"""A community worker's day on a phone: log in, walk down to a building, find a person, reveal,
import a roster with errors and read the error report. Screenshots for the README on the way."""

from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import Workbook, load_workbook
from playwright.sync_api import Page, expect

from fangkong.audit.models import Action, AuditLog
from fangkong.core.identity import make_id_number
from fangkong.core.tabular import COLUMNS
from fangkong.people.models import Resident

from .helpers import log_in, shoot

QINGHE = {"区": "江岸区", "街道": "大智街道", "社区": "青和居社区", "小区": "青和居小区", "楼栋": "1栋", "单元": "1单元", "房号": "103"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def roster(path, rows: list[dict]):
    headers = [zh for _key, zh in COLUMNS]
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    workbook.save(path)
    return path


def person(seq: int, **overrides) -> dict:
    birth = dt.date(1980 + seq, 2, 10)
    return {"姓名": f"新居民{seq}", "证件号码": make_id_number("420102", birth, 300 + seq), "联系电话": f"1370000{seq:04d}",
            **QINGHE, **overrides}


def test_a_community_worker_walks_down_finds_reveals_and_imports(e2e_city, phone: Page, tmp_path):
    page = phone
    log_in(page, "community", screenshot="login.png")

    # Home is the worker's community; walk down through the compound to a building.
    expect(page).to_have_url(re.compile(r"/areas/420102001001/$"))
    expect(page.locator("h1")).to_contain_text("青和居社区")
    shoot(page, "area.png")
    page.get_by_role("link", name="青和居小区").first.click()
    page.get_by_role("link", name="1栋", exact=True).click()
    expect(page).to_have_url(re.compile(r"/buildings/\d+/$"))
    expect(page.locator("h1")).to_contain_text("青和居小区 1栋")
    shoot(page, "building.png")

    # Find a person and open the record: identifiers masked until revealed (and audit-logged).
    page.goto("/search/?q=张伟")
    expect(page.get_by_role("link", name="张伟")).to_be_visible()
    shoot(page, "search.png")
    page.get_by_role("link", name="张伟").click()
    zhangwei = e2e_city.residents["zhangwei"]
    expect(page.locator("main")).to_contain_text(zhangwei.masked_doc_number)
    expect(page.locator("main")).not_to_contain_text(zhangwei.doc_number)
    shoot(page, "resident.png")
    page.locator("form[action$='/reveal/'] button").click()
    expect(page.locator("main")).to_contain_text(zhangwei.doc_number)
    assert AuditLog.objects.filter(action=Action.REVEAL, object_id=str(zhangwei.pk), username="community").exists()

    # Import a roster: two good rows; one for a community outside his scope, one bad sex, one bad check digit.
    bad_id = make_id_number("420102", dt.date(1990, 1, 1), 399)
    bad_id = bad_id[:-1] + ("0" if bad_id[-1] != "0" else "1")
    path = roster(tmp_path / "居民名单.xlsx", [
        person(1), person(2),
        person(3, 区="武昌区", 街道="紫阳街道", 社区="紫阳社区", 小区="紫阳小区"),
        person(4, 性别="未知"),
        person(5, 证件号码=bad_id),
    ])
    page.goto("/import/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/import/\d+/$"))
    expect(page.locator("#count-created b")).to_have_text("2")
    expect(page.locator("#count-errors b")).to_have_text("3")
    expect(page.locator("table.errors tbody tr")).to_have_count(3)
    shoot(page, "import-result.png")
    assert Resident.objects.filter(name__in=["新居民1", "新居民2"]).count() == 2

    with page.expect_download() as info:
        page.locator("#download-report").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(download.path().read_bytes()))
    rows = list(workbook["错误明细"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[1]) for row in rows] == [(4, "社区"), (5, "性别"), (6, "证件号码")]
    assert any(CJK.search(str(row[2])) for row in rows)  # the reasons are written in Chinese
    # The first sheet holds the rows as uploaded (the uploader's own file), ready to correct and import.
    assert [row[-2] for row in workbook.active.iter_rows(min_row=2, values_only=True)] == [4, 5, 6]
    expect(page.locator("table.errors")).to_contain_text(bad_id[:4] + "**********" + bad_id[-4:])
    expect(page.locator("table.errors")).not_to_contain_text(bad_id)

    # Everyone reads the policy in force.
    page.goto("/policy/")
    expect(page.locator("main")).to_contain_text("37.3")


def test_the_language_switches_to_english_and_back(e2e_city, phone: Page):
    page = phone
    log_in(page, "grid_a")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
