"""Finding the hidden on a phone: a community worker imports meter readings with one bad row and
downloads the error report; the cross-check lists a powered household nobody is registered in; the
grid worker opens the to-do, registers the new occupant and closes it. README screenshots on the way."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from fangkong.core.identity import make_id_number
from fangkong.crosscheck.models import ToDo
from fangkong.people.models import Resident

from .helpers import log_in, shoot

PLACE = ["江岸区", "大智街道", "青和居社区", "青和居小区", "1栋", "1单元"]


def meter_csv() -> bytes:
    today = timezone.localdate()
    rows = [[*PLACE, "103", (today - dt.timedelta(days=n)).isoformat(), kwh] for n, kwh in ((2, "5.4"), (1, "5.1"), (0, "4.9"))]
    rows.insert(2, [*PLACE, "101", today.isoformat(), "一度"])  # row 4: not a number
    rows.append([*PLACE, "101", today.isoformat(), "6.3"])  # registered household: no to-do
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["区", "街道", "社区", "小区", "楼栋", "单元", "房号", "日期", "用电量(千瓦时)"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def test_meter_readings_find_an_unregistered_household_and_the_grid_worker_registers_it(e2e_city, phone: Page):
    page = phone
    log_in(page, "community")

    # The community worker imports the meter readings (from the area page): one bad row, reported
    # with its row and column.
    page.locator("#crosscheck-link").click()
    expect(page.locator("h1")).to_contain_text("查漏补缺")
    page.get_by_role("link", name="导入核查数据").click()
    page.locator("label.chip", has_text="电表读数").click()
    page.locator("input[type=file]").set_input_files(files=[{"name": "电表读数.csv", "mimeType": "text/csv", "buffer": meter_csv()}])
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page).to_have_url(re.compile(r"/crosscheck/import/\d+/$"))
    expect(page.locator("#count-created b")).to_have_text("4")
    expect(page.locator("#count-errors b")).to_have_text("1")
    expect(page.locator("table.errors tbody tr")).to_have_count(1)
    expect(page.locator("table.errors tbody tr")).to_contain_text("用电量(千瓦时)")
    with page.expect_download() as info:
        page.locator("#download-report").click()
    rows = list(load_workbook(io.BytesIO(info.value.path().read_bytes()))["错误明细"].iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "原因") and rows[1][:2] == (4, "用电量(千瓦时)")

    # The cross-check ran after the import: one powered household with nobody registered.
    expect(page.locator("#crosscheck-summary")).to_contain_text("1")
    page.locator("#crosscheck-summary a").click()
    expect(page.locator("#todos tbody tr")).to_have_count(1)
    expect(page.locator("#todos")).to_contain_text("青和居小区1栋1单元103")
    expect(page.locator("#todos")).to_contain_text("3 天平均 5.1 千瓦时/天，无登记居民")
    page.locator("header form button").click()  # log out

    # The grid worker sees it in the grid's list, opens it, registers the occupant and closes it.
    log_in(page, "grid_a")
    page.get_by_role("navigation").get_by_role("link", name="查漏补缺").click()
    expect(page.locator("#kind-powered_unregistered .n")).to_have_text("1")
    expect(page.locator("#todos tbody tr")).to_have_count(1)
    shoot(page, "crosscheck-todos.png")
    page.get_by_role("link", name="青和居小区1栋1单元103").click()
    expect(page.locator("#readings tbody tr")).to_have_count(3)
    expect(page.locator("#residents")).to_contain_text("该户没有登记居民")

    # Closing as registered before anyone is registered is refused at the outcome.
    page.locator("#close label.chip", has_text="已登记新入住人员").click()
    page.get_by_role("button", name="办结事项", exact=True).click()
    expect(page.locator("#close .field-error")).to_contain_text("请先登记新入住人员")

    page.locator("#register summary").click()
    number = make_id_number("420103", dt.date(1992, 4, 18), 26)
    page.locator("#register input[name=name]").fill("赵敏")
    page.locator("#register input[name=doc_number]").fill(number)
    page.locator("#register input[name=phone]").fill("13912345678")
    page.locator("#register button[type=submit]").click()
    expect(page.locator(".msg-success")).to_contain_text("赵敏")
    expect(page.locator("#residents")).to_contain_text("赵敏")
    expect(page.locator("#residents")).to_contain_text("新入住")
    expect(page.locator("#residents")).not_to_contain_text(number)  # masked
    shoot(page, "crosscheck-todo.png")

    page.locator("#close label.chip", has_text="已登记新入住人员").click()
    page.locator("#close textarea, #close input[name='close-note']").first.fill("租户，已登记")
    page.get_by_role("button", name="办结事项", exact=True).click()
    expect(page.locator(".msg-success")).to_contain_text("已办结")
    expect(page.locator("#no-todos")).to_be_visible()

    todo = ToDo.objects.get()
    assert (todo.status, todo.outcome, todo.closed_by.username, todo.note) == ("closed", "registered", "grid_a", "租户，已登记")
    resident = Resident.objects.get(name="赵敏")
    assert resident.is_new_occupant and resident.household == todo.household
