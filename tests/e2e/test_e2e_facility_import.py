"""A district commander imports facilities with their beds from a file on the facility board's import screen."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from fangkong.facilities.models import BedPool, Facility

from .helpers import log_in

CSV = ("名称,类型,区,地址,经度,纬度,重症监护床位,普通床位,单间,电话\n"
       "江岸二号方舱,方舱医院,江岸区,江岸区体育馆,114.32,30.63,,600,,\n"
       "武昌某隔离点,集中隔离点,武昌区,,114.31,30.54,,,80,\n").encode()


def test_a_district_commander_imports_facilities_from_a_file(e2e_city, desktop: Page):
    log_in(desktop, "district")
    desktop.goto("/facilities/")
    desktop.locator("#import-facilities").click()
    desktop.locator("input[type=file]").set_input_files(files=[{"name": "场所.csv", "mimeType": "text/csv", "buffer": CSV}])
    desktop.locator("#import-submit").click()
    expect(desktop.locator("#count-created b")).to_have_text("1")
    expect(desktop.locator("#count-errors b")).to_have_text("1")
    expect(desktop.locator("table.errors")).to_contain_text("该区不在您的责任范围内")
    assert BedPool.objects.get(facility__name="江岸二号方舱").capacity == 600
    assert not Facility.objects.filter(name="武昌某隔离点").exists()
