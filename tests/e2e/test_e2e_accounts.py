"""A street commander creates an account for a grid worker of his street on a phone; the new grid worker
then logs in with the password shown once. Screenshots for the README on the way."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fangkong.accounts.models import Role, User
from fangkong.audit.models import Action, AuditLog

from .helpers import log_in, shoot


def test_a_street_commander_creates_a_grid_worker_who_then_logs_in(e2e_city, phone: Page):
    page = phone
    grid = e2e_city.areas["grid_a"]
    log_in(page, "street")

    page.locator("nav.nav").get_by_role("link", name="账号").click()
    expect(page).to_have_url(re.compile(r"/accounts/manage/$"))
    expect(page.locator("table.accounts")).to_contain_text("grid_a")
    expect(page.locator("table.accounts")).not_to_contain_text("other_community")  # 武昌区, not his street

    page.locator("#new-account").click()
    page.locator("input[name=username]").fill("wangxm")
    page.locator("input[name=full_name]").fill("王小明")
    page.locator("input[name=phone]").fill("138 0013 8001")
    page.locator("select[name=role]").select_option(Role.GRID_WORKER.value)
    # A community is offered (for community workers and volunteers) but is refused for a grid worker.
    page.locator("select[name=area]").select_option(e2e_city.areas["qinghe"].code)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".field.has-error select[name=area]")).to_be_visible()
    expect(page.locator(".field.has-error")).to_contain_text("网格")
    page.locator("select[name=area]").select_option(grid.code)
    page.locator("main form button[type=submit]").click()

    password_shown = page.locator("#new-password code.password")
    expect(password_shown).to_be_visible()
    password = password_shown.inner_text().strip()
    expect(page.locator("main")).to_contain_text("138****8001")
    shoot(page, "account-new.png")
    account = User.objects.get(username="wangxm")
    assert (account.role, account.area_id, account.phone) == (Role.GRID_WORKER, grid.pk, "13800138001")
    assert AuditLog.objects.filter(action=Action.CREATE, object_id=str(account.pk), username="street").exists()

    page.locator("ol.crumbs").get_by_role("link", name="账号").click()
    expect(page.locator("table.accounts")).to_contain_text("王小明")
    page.locator("input[name=q]").fill("王小明")
    page.locator("form.filters button[type=submit]").click()
    expect(page.locator("table.accounts tbody tr")).to_have_count(1)
    expect(page.locator("table.accounts")).to_contain_text("138****8001")
    shoot(page, "accounts.png")

    # The new grid worker logs in with the password he was handed and lands on his grid's day list.
    page.locator("header form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.locator("input[name=username]").fill("wangxm")
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/screening/$"))
    expect(page.locator("h1")).to_contain_text(grid.name)
    expect(page.locator("header")).to_contain_text("王小明")
    expect(page.locator("nav.nav")).not_to_contain_text("账号")

    # ... and replaces the handed-out password with his own.
    page.locator("header").get_by_role("link", name="修改密码").click()
    page.locator("input[name=old_password]").fill(password)
    page.locator("input[name=new_password1]").fill("Wangxm-grid-2020")
    page.locator("input[name=new_password2]").fill("Wangxm-grid-2020")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("密码已修改")
    account.refresh_from_db()
    assert account.check_password("Wangxm-grid-2020")
