"""The dragnet on a phone: a grid worker walks the day list to full coverage of the grid, a resident
reports for the household through its link, and a community worker reads coverage and the
follow-up queue on a desktop. Screenshots for the README on the way."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fangkong.screening.links import link_for
from fangkong.screening.models import FollowUp, Visit
from fangkong.screening.testing import at, not_reached, reached
from fangkong.screening.visits import local_today, record_visit

from .helpers import log_in, shoot


def test_a_grid_worker_walks_the_day_list_to_full_coverage(e2e_city, phone: Page):
    city = e2e_city
    a101, a102 = city.households["a101"], city.households["a102"]
    zhang, li, wang = city.residents["zhangwei"], city.residents["lina"], city.residents["wanglaoshi"]
    page = phone
    log_in(page, "grid_a")
    page.get_by_role("link", name="排查", exact=True).click()
    expect(page.locator("h1")).to_contain_text("今日排查")
    expect(page.locator(".hh")).to_have_count(2)
    expect(page.locator("#summary")).to_contain_text("0 / 2")

    # 101: door knock, both at home; a mistyped temperature is refused at its field, nothing saved.
    page.locator(f"#h{a101.pk} a").click()
    expect(page.locator("h1")).to_contain_text("青和居小区1栋1单元101")
    page.locator(f"input[name='r{zhang.pk}-temperature']").fill("36.6")
    page.locator(f"input[name='r{li.pk}-temperature']").fill("3.67")
    page.get_by_role("button", name="保存排查记录").click()
    expect(page.locator(f"#p{li.pk} .field-error")).to_contain_text("超出有效范围")
    assert not Visit.objects.exists()
    page.locator(f"#p{li.pk} label.chip", has_text="乏力").click()
    shoot(page, "visit.png")
    page.locator(f"input[name='r{li.pk}-temperature']").fill("36.7")
    page.get_by_role("button", name="保存排查记录").click()
    expect(page.locator(".msg-success")).to_contain_text("已记录")
    expect(page.locator(f"#h{a101.pk}")).to_have_class(re.compile(r"\bdone\b"))
    expect(page.locator(f"#h{a101.pk}")).to_contain_text("症状")
    expect(page.locator("#summary")).to_contain_text("1 / 2")
    shoot(page, "daylist.png")

    # 102: nobody home at the door (the people fold away) ...
    page.locator(f"#h{a102.pk} a").click()
    page.locator("label.chip", has_text="无人").click()
    expect(page.locator("#people")).to_be_hidden()
    page.get_by_role("button", name="保存排查记录").click()
    expect(page.locator(f"#h{a102.pk}")).to_have_class(re.compile(r"\btodo\b"))
    expect(page.locator(f"#h{a102.pk}")).to_contain_text("无人")
    # ... so the worker phones: he has a fever. The household's QR code is there to print for next time.
    page.locator(f"#h{a102.pk} a").click()
    page.get_by_role("link", name="自报二维码").click()
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.locator("#self-report-url")).to_contain_text("/r/")
    page.go_back()
    page.locator("label.chip", has_text="电话").click()
    page.locator("label.chip", has_text="已见到").click()
    page.locator(f"input[name='r{wang.pk}-temperature']").fill("38.1")
    page.get_by_role("button", name="保存排查记录").click()

    expect(page.locator("#summary")).to_contain_text("2 / 2")
    expect(page.locator("#all-done")).to_be_visible()
    assert Visit.objects.filter(outcome="reached").count() == 2
    assert {(f.resident_id, f.reason) for f in FollowUp.objects.all()} == {(li.pk, "symptoms"), (wang.pk, "fever")}

    page.goto(f"/screening/areas/{city.areas['grid_a'].code}/coverage/")
    expect(page.locator("#totals")).to_contain_text("2 / 2")
    expect(page.locator("#totals")).to_contain_text("3 / 3")


def test_a_resident_reports_for_the_household_through_its_link(e2e_city, phone: Page):
    city = e2e_city
    link = link_for(city.users["grid_a"], city.households["a101"])
    zhang, li = city.residents["zhangwei"], city.residents["lina"]
    page = phone
    page.goto(f"/r/{link.token}/")
    expect(page.locator("h1")).to_contain_text("住户健康自报")
    expect(page.locator("main")).to_contain_text("青和居小区1栋1单元101")
    expect(page.locator("main")).to_contain_text("张*")
    expect(page.locator("main")).not_to_contain_text("张伟")
    page.locator("input[name$='-temperature']").first.fill("36.4")
    page.locator("#p2 label.chip", has_text="外出").click()
    expect(page.locator("#p2 input[name$='-temperature']")).to_be_hidden()
    page.locator("#p2 .history label").first.click()  # away, and was in a key area in the last 14 days
    shoot(page, "selfreport.png")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#self-report-done")).to_contain_text("今日填报已提交")
    expect(page.locator("#self-report-done")).to_contain_text("疑似密切接触")
    visit = Visit.objects.get()
    assert (visit.method, visit.recorded_by_id) == ("online", None)
    assert {(c.resident_id, c.present) for c in visit.checks.all()} == {(zhang.pk, True), (li.pk, False)}
    assert page.goto("/r/not-the-token/").status == 404


def test_a_community_worker_reads_coverage_and_the_follow_up_queue(e2e_city, desktop: Page):
    city = e2e_city
    r, h, users = city.residents, city.households, city.users
    for days_ago in (3, 2, 1, 0):
        record_visit(users["grid_a"], h["a101"], reached(r["zhangwei"], r["lina"], visited_at=at(days_ago)))
        if days_ago != 1:
            record_visit(users["grid_a"], h["a102"],
                                  reached(r["wanglaoshi"], method="phone", visited_at=at(days_ago)))
        if days_ago >= 2:
            record_visit(users["grid_b"], h["b201"], reached(r["wangfang"], visited_at=at(days_ago)))
    record_visit(users["grid_b"], h["b201"], not_reached(visited_at=at(0)))
    record_visit(users["grid_a"], h["a102"], reached(r["wanglaoshi"], temperature="37.9", visited_at=at(0, 15)))

    page = desktop
    log_in(page, "community")
    page.get_by_role("link", name="排查覆盖").click()
    expect(page.locator("h1")).to_contain_text("排查覆盖 · 青和居社区")
    expect(page.locator("#totals")).to_contain_text("2 / 3")
    expect(page.locator("#coverage-table")).to_contain_text("第一网格")
    shoot(page, "coverage.png")
    # The export runs as a background job: its page offers the file once it is written.
    page.locator("#export").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.locator("h1")).to_have_text("排查覆盖导出")
    with page.expect_download() as info:
        page.locator("#job-download").click()
    assert info.value.suggested_filename == f"screening-{city.areas['qinghe'].code}-{local_today().isoformat()}.xlsx"

    page.goto("/screening/follow-ups/")
    expect(page.locator("#follow-ups")).to_contain_text("王建国")
    expect(page.locator("#follow-ups")).to_contain_text("37.9 °C")
    item = FollowUp.objects.get()
    row = page.locator(f"#f{item.pk}")
    row.locator("input[name=note]").fill("复测 36.8 °C")
    row.get_by_role("button", name="排除").click()
    expect(page.locator(".msg-success")).to_contain_text("已排除")
    item.refresh_from_db()
    assert item.status == "dismissed"


def test_a_grid_worker_starts_the_day_on_the_list_and_narrows_it(e2e_city, phone: Page):
    city = e2e_city
    a101, a102 = city.households["a101"], city.households["a102"]
    zhang = city.residents["zhangwei"]
    page = phone
    log_in(page, "grid_a")
    expect(page.locator("h1")).to_contain_text("今日排查")  # no click needed: the day list is the start
    page.locator("#day-q").fill("102")
    page.get_by_role("button", name="查看", exact=True).click()
    expect(page.locator(".hh")).to_have_count(1)
    expect(page.locator(f"#h{a102.pk}")).to_be_visible()
    page.locator("#day-clear").click()
    expect(page.locator(".hh")).to_have_count(2)

    # A bad reading: the banner at the top says so and leads to the field.
    page.locator(f"#h{a101.pk} a").click()
    expect(page.locator(f"input[name='r{zhang.pk}-temperature']")).to_have_attribute("placeholder", "°C")
    page.locator(f"input[name='r{zhang.pk}-temperature']").fill("45.1")
    page.get_by_role("button", name="保存排查记录").click()
    expect(page.locator("#form-errors")).to_contain_text("请")
    page.locator("#form-errors [data-first-error]").click()
    expect(page.locator(f"input[name='r{zhang.pk}-temperature']")).to_be_focused()
    for resident in (zhang, city.residents["lina"]):
        page.locator(f"input[name='r{resident.pk}-temperature']").fill("36.6")
    page.get_by_role("button", name="保存排查记录").click()
    expect(page.locator(f"#h{a101.pk}")).to_have_class(re.compile(r"\bdone\b"))

    page.locator("label.check", has_text="只看未排查").click()
    page.get_by_role("button", name="查看", exact=True).click()
    expect(page.locator(".hh")).to_have_count(1)
    expect(page.locator(f"#h{a102.pk}")).to_be_visible()
    expect(page.locator("#summary")).to_contain_text("1 / 2")

    page.goto(f"/households/{a101.pk}/")
    expect(page.locator("#visit-history")).to_contain_text("排查记录")
    expect(page.locator("#visit-history tbody tr")).to_have_count(1)
    expect(page.locator("#visit-history")).to_contain_text("已见到")


def test_a_cold_forehead_reading_outdoors_is_flagged_and_taken_again(e2e_city, phone: Page):
    city = e2e_city
    a101 = city.households["a101"]
    zhang, li = city.residents["zhangwei"], city.residents["lina"]
    page = phone
    log_in(page, "grid_a")
    page.locator(f"#h{a101.pk} a").click()
    card = page.locator(f"#p{zhang.pk}")
    expect(card.locator("input[name$='-ambient_c']")).to_be_hidden()  # indoors by default
    card.locator("label.check", has_text="在室外测量").click()
    card.locator("input[name$='-ambient_c']").fill("5")
    expect(card.locator(".ambient-warning")).to_be_visible()
    expect(card.locator(".ambient-warning")).to_contain_text("18.0–28.0")
    card.locator("label.chip", has_text="耳温").click()  # an ear reading is fine outdoors
    expect(card.locator(".ambient-warning")).to_be_hidden()
    card.locator("label.chip", has_text="额温").click()
    for resident in (zhang, li):
        page.locator(f"input[name='r{resident.pk}-temperature']").fill("36.2")
    page.get_by_role("button", name="保存排查记录").click()
    expect(page.locator(".messages .msg-warning")).to_contain_text("不可靠：张伟")
    expect(page.locator("h1")).to_contain_text("青和居小区1栋1单元101")  # back on the form for the re-take
    check = Visit.objects.get().checks.get(resident=zhang)
    assert check.reading_unreliable and str(check.ambient_c) == "5.0"
