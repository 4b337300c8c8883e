"""One fever patient from a screening flag to a bed: a grid worker's visit finds a fever, the community
worker takes the follow-up item up on a phone and records the sample and a positive result; the district commander runs the placement engine, confirms the plan,
tracks the transfer, and the facility confirms the admission. Screenshots for the README."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fangkong.cases import services
from fangkong.cases.models import Case, Status
from fangkong.facilities.models import BedPool, Stay, StayStatus
from fangkong.screening.testing import reached
from fangkong.screening.visits import record_visit

from .helpers import log_in, shoot


def test_a_fever_patient_goes_from_a_flag_to_a_bed(e2e_city, phone: Page, desktop: Page):
    city = e2e_city
    zhang = city.residents["zhangwei"]

    # The grid worker's door knock finds 38.1 °C (the visit form's service), which opens a follow-up item.
    record_visit(city.users["grid_a"], city.households["a101"], reached(zhang, temperature="38.1"))

    # The community worker takes the item up from the follow-up queue, as a fever patient (发热病人).
    log_in(phone, "community")
    phone.goto("/screening/follow-ups/")
    item = phone.locator("tbody tr", has_text="张伟")
    expect(item).to_contain_text("38.1")
    item.locator("select[name=category]").select_option("fever")
    item.get_by_role("button", name="接收").click()
    expect(phone.locator("tbody tr", has_text="张伟")).to_have_count(0)  # no longer open
    case = Case.objects.get(resident=zhang)
    assert case.status == Status.FEVER and case.flagged_at is not None
    phone.goto(f"/cases/{case.pk}/")

    # A sample is taken now at the fever clinic, then the lab's positive result is entered.
    phone.locator("details.action summary").last.click()
    phone.locator("input[name=take_now]").check()
    phone.locator("form[action$='/tests/'] input[name=place]").fill("江岸发热门诊")
    phone.locator("form[action$='/tests/'] button[type=submit]").click()
    expect(phone.locator("#case-status")).to_have_attribute("class", re.compile("status-tested"))
    phone.locator("form[action$='/result/'] select[name=result]").select_option("positive")
    phone.locator("form[action$='/result/'] input[name=lab]").fill("武汉市疾控中心")
    phone.locator("form[action$='/result/'] button[type=submit]").click()
    expect(phone.locator("#case-status")).to_have_attribute("class", re.compile("status-suspected"))
    shoot(phone, "timeline.png")

    # Others in the pipeline: a critical patient, a mild one and a close contact, all waiting for a bed.
    community = city.users["community"]
    services.open_case(community, city.residents["wanglaoshi"], Status.CONFIRMED, "临床诊断", severity="critical")
    services.open_case(community, city.residents["wangfang"], Status.CONFIRMED, "临床诊断", severity="mild")
    services.open_case(community, city.residents["lina"], Status.CLOSE_CONTACT, "同住家属，流调判定")

    # The district commander sees who awaits what on the board, and places everyone waiting.
    log_in(desktop, "district")
    desktop.goto("/cases/areas/420102/")
    expect(desktop.locator("#zero-suspected_waiting b")).to_have_text("1")
    expect(desktop.locator(".targets")).to_contain_text("张伟")
    shoot(desktop, "board.png")
    desktop.goto("/facilities/placement/")
    desktop.locator("#run-engine").click()
    expect(desktop).to_have_url(re.compile(r"/facilities/placement/runs/\d+/$"))
    expect(desktop.locator("#run-placed b")).to_have_text("4 / 4")
    expect(desktop.locator("table.proposals")).to_contain_text("张伟")
    shoot(desktop, "placement.png")
    desktop.locator("#confirm-run").click()
    expect(desktop.locator("#confirm-count")).to_contain_text("4")  # says how many beds it books
    desktop.locator("#confirm-run-final").click()
    expect(desktop.locator("table.proposals tr.state-confirmed")).to_have_count(4)
    stay = Stay.objects.get(case=case)
    assert stay.bed_kind == "single_room" and stay.status == StayStatus.BOOKED

    # The transfer: dispatched with its ambulance, picked up, arrived; each step timestamped.
    desktop.goto("/facilities/transfers/")
    row = desktop.locator(f"#transfer-{stay.transfer.pk}")
    row.locator("input[name=vehicle_label]").fill("鄂A·转运07")
    row.locator("button[type=submit]").click()
    desktop.locator(f"#transfer-{stay.transfer.pk} button[type=submit]").click()
    shoot(desktop, "transfers.png", full_page=False)
    desktop.locator(f"#transfer-{stay.transfer.pk} button[type=submit]").click()
    stay.transfer.refresh_from_db()
    assert stay.transfer.status == "arrived" and stay.transfer.dispatched_at <= stay.transfer.picked_up_at <= stay.transfer.arrived_at

    # The facility confirms the admission: the bed is occupied and the case is placed.
    desktop.goto(f"/facilities/{stay.facility_id}/")
    desktop.locator(f"form[action='/facilities/stays/{stay.pk}/admit/'] button").click()
    expect(desktop.locator("table.present")).to_contain_text("张伟")
    shoot(desktop, "facility.png")
    pool = BedPool.objects.get(facility_id=stay.facility_id, kind="single_room")
    still_booked = Stay.objects.filter(facility_id=stay.facility_id, bed_kind="single_room", status=StayStatus.BOOKED).count()
    assert (pool.occupied, pool.booked) == (1, still_booked)
    assert Stay.objects.get(pk=stay.pk).status == StayStatus.ADMITTED
    case.refresh_from_db()
    assert case.placement == "placed"
    desktop.goto("/cases/areas/420102/")
    expect(desktop.locator("#zero-suspected_waiting b")).to_have_text("0")
