"""A community worker imports his grid workers and volunteers from a CSV, gets the printable password
sheet once, and one of the new grid workers logs in with it, must change it, and lands on her home."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fangkong.accounts.models import User

from .helpers import log_in, shoot

CSV = ("用户名,姓名,手机,角色,区域,小区,机构\n"
       "zhaoli,赵丽,13800138002,网格员,青和居社区 › 第一网格,,\n"
       "qianyi,钱一,,志愿者,青和居社区,,\n"
       "sunsan,孙三,,队长,青和居社区,,\n")


def test_import_accounts_print_the_sheet_and_log_in_as_a_new_user(e2e_city, desktop: Page):
    page = desktop
    log_in(page, "community")
    page.locator("nav.nav").get_by_role("link", name="账号").click()
    page.locator("#import-accounts").click()
    expect(page).to_have_url(re.compile(r"/accounts/manage/import/$"))
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "账号.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
    page.locator("#import-form button[type=submit]").click()

    expect(page.locator("#import-counts")).to_contain_text("2")
    expect(page.locator("#import-errors")).to_contain_text("队长")
    sheet = page.locator("#password-sheet")
    expect(sheet).to_contain_text("zhaoli")
    expect(sheet).to_contain_text("网格员")
    expect(sheet).to_contain_text("第一网格")
    password = sheet.locator("tr", has_text="zhaoli").locator("code.password").inner_text().strip()
    shoot(page, "accounts-import.png")
    assert User.objects.filter(username__in=["zhaoli", "qianyi"]).count() == 2

    # The sheet is not kept: the import page again shows the upload form only.
    page.goto("/accounts/manage/import/")
    expect(page.locator("#password-sheet")).to_have_count(0)

    page.locator("header form button[type=submit]").click()
    page.locator("input[name=username]").fill("zhaoli")
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/$"))
    expect(page.locator("#must-change")).to_be_visible()
    page.locator("input[name=old_password]").fill(password)
    page.locator("input[name=new_password1]").fill("Zhaoli-grid-2020")
    page.locator("input[name=new_password2]").fill("Zhaoli-grid-2020")
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/"))
    expect(page.locator("header")).to_contain_text("赵丽")
    expect(page.locator("main")).to_contain_text("第一网格")
    assert not User.objects.get(username="zhaoli").must_change_password
