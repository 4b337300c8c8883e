"""The whole of issue 5 in one walk, on a phone: a confirmed case → its contacts (a neighbour matched
and confirmed as a close contact) → the contact's centralised observation file, opened by the tracing
→ a missed report alerted by the periodic job on the area's board → a fever reading entered after a
call escalates the close contact into the four-category pipeline (a fever patient waiting for a bed)."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import Page, expect

from fangkong.cases import services as cases
from fangkong.cases.models import Case, Placement, Status
from fangkong.observation.alerts import run_alert_job
from fangkong.observation.models import ObservationFile

from .helpers import log_in


def test_a_case_its_close_contact_the_contacts_observation_a_missed_report_and_the_fever(e2e_city, phone: Page):
    city = e2e_city
    zhang = cases.open_case(city.users["community"], city.residents["zhangwei"], Status.CONFIRMED, "临床诊断", severity="mild")
    two_days_ago = (timezone.localdate() - dt.timedelta(days=2)).isoformat()

    log_in(phone, "community")
    phone.goto(f"/tracing/cases/{zhang.pk}/")
    phone.locator("#add-contact").click()
    form = phone.locator("#contact-form")
    form.locator("input[name=name]").fill("王建国")
    form.locator("select[name=kind]").select_option("neighbour")
    form.locator("input[name=last_exposure_on]").fill(two_days_ago)
    form.locator("input[name=address]").fill("青和居1栋102")
    form.locator("button[type=submit]").click()
    phone.locator(".confirm-match").first.click()
    expect(phone.locator("#is-close")).to_have_text("是")

    # The tracing opened his centralised observation file: 14 days from the last exposure.
    phone.locator("#observation-file").click()
    expect(phone).to_have_url(re.compile(r"/observation/files/\d+/$"))
    file = ObservationFile.objects.get(resident=city.residents["wanglaoshi"])
    assert (file.kind, file.source) == ("centralised", "tracing")
    assert file.planned_end_on == timezone.localdate() + dt.timedelta(days=12)

    # A day passes without a report (the file was opened yesterday); the scheduler runs the alert job.
    ObservationFile.objects.filter(pk=file.pk).update(created_at=file.created_at - dt.timedelta(days=1),
                                                      started_on=file.started_on - dt.timedelta(days=1))
    assert run_alert_job()["missed"] >= 1
    phone.goto("/observation/")
    expect(phone.locator("#missed")).to_contain_text("王建国")  # the worker in his area sees his name and phone
    expect(phone.locator("#missed")).to_contain_text("13700137000")

    # The worker calls him: 38.6 °C, entered on his file — he becomes a fever patient waiting for a bed.
    phone.locator("#missed a", has_text="王建国").first.click()
    phone.locator("#worker-report input[name=temperature]").fill("38.6")
    phone.locator("#worker-report button[type=submit]").click()
    expect(phone.locator("#file-status")).to_have_class(re.compile("status-escalated"))
    expect(phone.locator("#case-link")).to_contain_text("发热病人")
    case = Case.objects.get(resident=city.residents["wanglaoshi"])
    assert (case.status, case.category, case.placement) == (Status.FEVER, "fever", Placement.WAITING)
    assert [h.to_status for h in case.history.all()] == [Status.CLOSE_CONTACT, Status.FEVER]
