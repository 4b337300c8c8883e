"""A community worker splits 青和居 into one more grid on a desktop: creates it, ticks a building into it,
names its grid worker, sees the grid page name the worker, then merges the new grid back."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fangkong.accounts.models import User
from fangkong.areas.models import Area, Building, Household
from fangkong.audit.models import Action, AuditLog

from .helpers import log_in, shoot


def test_a_community_worker_creates_fills_and_merges_a_grid(e2e_city, desktop: Page):
    page = desktop
    community = e2e_city.areas["qinghe"]
    log_in(page, "community")
    page.goto(f"/areas/{community.code}/")
    page.locator("#grids-link").click()
    expect(page).to_have_url(re.compile(rf"/areas/{community.code}/grids/$"))
    expect(page.locator("table.grids")).to_contain_text("第一网格")
    expect(page.locator("table.grids")).to_contain_text("第二网格")

    # A name already taken is refused on the page; a new one creates the grid with the next code.
    page.locator("#grid-name").fill("第一网格")
    page.locator("#new-grid button[type=submit]").click()
    expect(page.locator("#new-grid .field.has-error")).to_contain_text("第一网格")
    page.locator("#grid-name").fill("第三网格")
    page.locator("#new-grid button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/areas/420102001001003/grid/$"))
    expect(page.locator(".messages")).to_contain_text("第三网格")

    # Tick 2栋 (now in 第二网格) into the new grid.
    b2 = e2e_city.buildings["b2"]
    page.locator(f"#assign-buildings input[value='{b2.pk}']").check()
    page.locator("#assign-buildings button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("1")
    expect(page.locator("#move-buildings")).to_contain_text("2栋")
    grid = Area.objects.get(code="420102001001003")
    assert set(Household.objects.filter(building=b2).values_list("area_code", flat=True)) == {grid.code}

    # Name grid_b's worker for it; the grid's own page names the worker.
    worker = e2e_city.users["grid_b"]
    page.locator("#worker-account").select_option(str(worker.pk))
    page.locator("#name-worker button[type=submit]").click()
    expect(page.locator("#workers")).to_contain_text("grid_b")
    shoot(page, "grid-manage.png")
    page.goto(f"/areas/{grid.code}/")
    expect(page.locator("#grid-workers")).to_contain_text("grid_b")
    expect(page.locator("main")).to_contain_text("2栋")

    # Merge it into 第一网格: buildings and the worker follow, the grid is gone.
    page.locator("#grid-manage-link").click()
    page.locator("#merge-target").select_option("420102001001001")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#merge-grid button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/areas/420102001001001/grid/$"))
    expect(page.locator("#move-buildings")).to_contain_text("2栋")
    expect(page.locator("#workers")).to_contain_text("grid_b")
    assert not Area.objects.filter(code="420102001001003").exists()
    assert Building.objects.get(pk=b2.pk).grid.code == "420102001001001"
    assert User.objects.get(pk=worker.pk).area.code == "420102001001001"
    assert AuditLog.objects.filter(action=Action.DELETE, object_type="areas.area", area_code=grid.code).exists()
