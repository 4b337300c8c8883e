"""A facility discharges a patient: the outcome is chosen (none is preset), a confirmation step names it,
and a cure without the policy's negative tests is refused until a reason is given."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from fangkong.cases import services as cases
from fangkong.cases.models import Case, Status
from fangkong.facilities import beds
from fangkong.facilities.models import Stay, StayStatus

from .helpers import log_in


def test_a_discharge_names_its_outcome_and_a_cure_needs_tests_or_a_reason(e2e_city, desktop: Page):
    city = e2e_city
    case = cases.open_case(city.users["community"], city.residents["zhangwei"], Status.CONFIRMED, "确诊", severity="severe")
    stay = beds.admit(city.users["district"], beds.place(city.users["district"], case, city.facilities["hospital"], "ordinary"))

    log_in(desktop, "facility")
    desktop.goto(f"/facilities/{stay.facility_id}/")
    desktop.locator("table.present a", has_text="离开").click()
    expect(desktop.locator("#cure-tests")).to_contain_text("需要连续 2 次核酸检测阴性")
    expect(desktop.locator("input[name=outcome]:checked")).to_have_count(0)  # nothing preset
    desktop.locator("#discharge-next").click()
    expect(desktop.locator(".field-error").first).to_be_visible()  # an outcome is required

    desktop.get_by_role("radio", name="治愈出院").check()
    desktop.locator("#discharge-next").click()
    expect(desktop.locator("#discharge-confirm")).to_contain_text("张伟 离开金银潭医院：治愈出院")
    desktop.locator("#discharge-confirm-button").click()
    expect(desktop.locator(".field-error")).to_contain_text("目前符合 0 次")
    assert Stay.objects.get(pk=stay.pk).status == StayStatus.ADMITTED

    desktop.get_by_role("radio", name="治愈出院").check()
    desktop.locator("input[name=cure_override]").fill("外院两次核酸阴性报告已核对")
    desktop.locator("#discharge-next").click()
    desktop.locator("#discharge-confirm-button").click()
    expect(desktop.locator(".msg-success")).to_contain_text("张伟 已离开金银潭医院：治愈出院")
    assert Case.objects.get(pk=case.pk).status == Status.DISCHARGED
