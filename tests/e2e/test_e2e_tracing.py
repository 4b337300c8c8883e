"""Contact tracing in the browser: the community worker opens a confirmed case's tracing page on a
phone and adds three contacts — one matched by document number, one needing a fuzzy match that they
confirm, one protected (not a close contact); the matched close contacts appear in the rings and in
the close-contact backlog. A contact who falls ill is linked to the case from the suggestion, and the
chain graph and the cluster list render. Screenshots: tracing-case, tracing-chain, tracing-clusters."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Page, expect

from fangkong.cases import services as cases
from fangkong.cases.models import Case, Placement, Status
from fangkong.tracing.infections import record_infection_link

from .helpers import log_in, shoot


def add_contact(page: Page, investigation_url: str, **fields: str) -> None:
    page.goto(investigation_url)
    form = page.locator("#contact-form")
    form.locator("input[name=name]").fill(fields.pop("name"))
    for name in ("kind", "protection"):
        if name in fields:
            form.locator(f"select[name={name}]").select_option(fields.pop(name))
    for name, value in fields.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("button[type=submit]").click()


def test_a_case_its_contacts_a_confirmed_match_the_backlog_the_chain_and_the_clusters(e2e_city, phone: Page, desktop: Page):
    city = e2e_city
    zhang = cases.open_case(city.users["community"], city.residents["zhangwei"], Status.CONFIRMED, "临床诊断", severity="mild")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()

    log_in(phone, "community")
    phone.goto(f"/cases/{zhang.pk}/")
    phone.locator("#tracing-link").click()
    expect(phone).to_have_url(re.compile(rf"/tracing/cases/{zhang.pk}/$"))
    new_contact_url = phone.locator("#add-contact").get_attribute("href")

    # 1. His wife, by her ID number: matched at once, a close contact, queued.
    add_contact(phone, new_contact_url, name="李娜", kind="household", last_exposure_on=yesterday,
                doc_number=city.residents["lina"].doc_number)
    expect(phone.locator("#contacts tr", has_text="李娜").locator(".match")).to_contain_text("按证件号匹配")
    # 2. A neighbour known by name and "青和居1栋102": a candidate the worker confirms.
    add_contact(phone, new_contact_url, name="王建国", kind="neighbour", last_exposure_on=yesterday, address="青和居1栋102")
    expect(phone).to_have_url(re.compile(r"/tracing/contacts/\d+/$"))
    expect(phone.locator("#candidates")).to_contain_text("青和居小区1栋1单元102")
    phone.locator(".confirm-match").first.click()
    expect(phone.locator("#match-state")).to_have_text("已确认匹配")
    expect(phone.locator("#is-close")).to_have_text("是")
    # 3. A colleague who wore full protection: recorded, not a close contact.
    add_contact(phone, new_contact_url, name="王芳", kind="colleague", protection="full_ppe", last_exposure_on=yesterday,
                phone=city.residents["wangfang"].phone)
    row = phone.locator("#contacts tr", has_text="王芳")
    expect(row.locator(".close-flag")).to_have_text("否")

    phone.goto(f"/tracing/cases/{zhang.pk}/")
    expect(phone.locator("#ring-1")).to_contain_text("李娜")
    expect(phone.locator("#ring-1")).to_contain_text("王建国")
    expect(phone.locator("#ring-1")).not_to_contain_text("王芳")
    shoot(phone, "tracing-case.png")

    # The confirmed neighbour is now a close contact waiting for a bed in an isolation site.
    wang = Case.objects.get(resident=city.residents["wanglaoshi"])
    assert (wang.status, wang.placement) == (Status.CLOSE_CONTACT, Placement.WAITING)
    phone.goto("/cases/areas/420102001001/people/?status=close_contact&placement=waiting")
    expect(phone.locator("table.people")).to_contain_text("王建国")
    expect(phone.locator("table.people")).to_contain_text("李娜")

    # 李娜 tests positive: her page offers "infected by 张伟", and the worker records it.
    lina = cases.transition(city.users["community"], Case.objects.get(resident=city.residents["lina"]), Status.SUSPECTED, "核酸阳性")
    phone.goto(f"/tracing/cases/{lina.pk}/")
    phone.locator("form.suggestion button[type=submit]").click()
    expect(phone.locator("#infected-by")).to_contain_text("张伟")

    log_in(desktop, "community")
    desktop.goto(f"/tracing/cases/{zhang.pk}/chain/")
    expect(desktop.locator("#chain-graph g.node")).to_have_count(2)
    expect(desktop.locator("#chain-graph")).to_contain_text("张伟")  # in the worker's area: named
    shoot(desktop, "tracing-chain.png")
    desktop.goto("/tracing/areas/420102001001/clusters/")
    expect(desktop.locator("#clusters .cluster")).to_have_count(1)
    expect(desktop.locator("#clusters")).to_contain_text("青和居小区1栋1单元101")
    shoot(desktop, "tracing-clusters.png")


def test_the_worker_finds_the_infector_by_name_and_the_chain_names_only_people_in_their_area(e2e_city, desktop: Page):
    city = e2e_city
    zhang = cases.open_case(city.users["community"], city.residents["zhangwei"], Status.CONFIRMED, "临床诊断", severity="mild")
    wang = cases.open_case(city.users["community"], city.residents["wangfang"], Status.CONFIRMED, "临床诊断", severity="mild")
    liu = cases.open_case(city.users["city"], city.residents["liuyang"], Status.CONFIRMED, "临床诊断", severity="mild")
    record_infection_link(city.users["city"], liu, zhang, "同乘一辆公交")  # 刘洋 lives outside 青和居

    page = desktop
    log_in(page, "community")
    page.goto(f"/tracing/cases/{wang.pk}/")
    page.locator("#record-link summary").click()
    page.locator("#infector-q").fill("张")
    page.locator("#infector-search button").click()
    candidates = page.locator("#infector-candidates")
    expect(candidates).to_contain_text("张伟")
    expect(candidates).to_contain_text(city.residents["zhangwei"].masked_doc_number)
    # By the last digits of the ID number too.
    page.locator("#infector-q").fill(city.residents["zhangwei"].doc_number[-4:])
    page.locator("#infector-search button").click()
    expect(page.locator("#infector-candidates li")).to_have_count(1)
    page.locator("#infector-candidates input[type=radio]").check()
    page.locator("#link-form input[name=evidence]").fill("同一楼道")
    shoot(page, "tracing-link-picker.png")
    page.locator("#link-form button[type=submit]").click()
    expect(page.locator("#infected-by")).to_contain_text("张伟")

    page.goto(f"/tracing/cases/{wang.pk}/chain/")
    graph = page.locator("#chain-graph")
    expect(graph.locator("g.node")).to_have_count(3)
    expect(graph).to_contain_text("张伟")
    expect(graph).to_contain_text("王芳")
    expect(graph).not_to_contain_text("刘洋")  # outside the worker's area: a node without a name
