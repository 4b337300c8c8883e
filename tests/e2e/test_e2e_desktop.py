"""Command-centre screens on a desktop: the policy and the audit log (README screenshots)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fangkong.people.services import reveal, update_resident
from fangkong.policy.services import current_policy

from .helpers import log_in, shoot


def test_a_commander_reads_the_policy_and_the_audit_log(e2e_city, desktop: Page):
    city = e2e_city
    for who, resident in (("community", "zhangwei"), ("grid_a", "lina"), ("community", "wanglaoshi")):
        reveal(city.users[who], city.residents[resident])
    zhangwei = city.residents["zhangwei"]
    fields = ("name", "sex", "birth_date", "doc_type", "doc_number", "relation", "registered_address", "special_groups")
    update_resident(city.users["grid_a"], zhangwei, {**{f: getattr(zhangwei, f) for f in fields}, "phone": "13912345678",
                                                     "note": "已返汉，居家观察"})

    page = desktop
    log_in(page, "city")
    # Change the policy through the form: a bad threshold is refused at its field, then a valid change is saved.
    page.goto("/policy/edit/")
    page.locator("input[name=fever_threshold_c]").fill("41")
    page.locator("input[name=note]").fill("2020年第五版诊疗方案")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".field.has-error input[name=fever_threshold_c]")).to_be_visible()
    page.locator("input[name=fever_threshold_c]").fill("37.3")
    page.locator("input[name=observation_days]").fill("14")
    page.locator("input[name=route_suspected_isolation_site]").check()
    page.locator("input[name=close_contact_unprotected][value=mask]").check()  # a mask alone no longer protects
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/policy/$"))
    assert current_policy().routing["suspected"][-1] == "isolation_site"
    assert current_policy().close_contact_unprotected == ["none", "mask"]

    expect(page.locator("main")).to_contain_text("37.3")
    expect(page.locator("main")).to_contain_text("2020年第五版诊疗方案")
    expect(page.locator("a[href='/policy/edit/']")).to_be_visible()
    shoot(page, "policy.png")

    page.goto("/audit/")
    expect(page.locator("table.audit tbody tr")).not_to_have_count(0)
    expect(page.locator("table.audit")).to_contain_text("王建国")
    expect(page.locator("table.audit")).to_contain_text("138****8000 → 139****5678")
    shoot(page, "audit.png", full_page=False)


def test_a_grid_worker_has_no_audit_log(e2e_city, desktop: Page):
    log_in(desktop, "grid_a")
    response = desktop.goto("/audit/")
    assert response is not None and response.status == 403
