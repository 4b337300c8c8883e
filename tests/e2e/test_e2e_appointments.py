"""诊疗预约: the fever clinic opens a slot on its page, a community worker books it for a fever patient from
the case page on a phone, and the clinic's page lists the appointment."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import Page, expect

from fangkong.cases import services
from fangkong.cases.models import Status
from fangkong.facilities.models import Appointment, AppointmentSlot

from .helpers import log_in


def test_a_fever_patient_gets_a_fever_clinic_appointment(e2e_city, desktop: Page, phone: Page):
    city = e2e_city
    clinic = city.facilities["clinic"]
    case = services.open_case(city.users["community"], city.residents["zhangwei"], Status.FEVER, "体温38.2°C")

    # The district commander opens a slot of two places at the clinic, tomorrow at 09:00.
    log_in(desktop, "district")
    desktop.goto(f"/facilities/{clinic.pk}/")
    desktop.locator("#slot-form summary").click()
    tomorrow = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=9, minute=0)
    desktop.locator("input[name=starts_at]").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    desktop.locator("input[name=capacity]").fill("2")
    desktop.locator("#slot-form button[type=submit]").click()
    expect(desktop.locator(".msg-success")).to_contain_text("已开放预约时段")
    slot = AppointmentSlot.objects.get(facility=clinic)

    # The community worker books it from the fever patient's case page.
    log_in(phone, "community")
    phone.goto(f"/cases/{case.pk}/")
    form = phone.locator("#book-appointment")
    expect(form.locator("select[name=slot]")).to_contain_text("江岸发热门诊")
    expect(form.locator("select[name=slot]")).to_contain_text("剩余 2 个名额")
    form.locator("button[type=submit]").click()
    expect(phone.locator(".msg-success")).to_contain_text("已预约江岸发热门诊")
    expect(phone.locator("table.appointments")).to_contain_text("江岸发热门诊")
    expect(phone.locator("#book-appointment")).to_have_count(0)  # one appointment at a time
    assert Appointment.objects.get(case=case).slot == slot

    desktop.goto(f"/facilities/{clinic.pk}/")
    expect(desktop.locator(f"#slot-{slot.pk}")).to_contain_text("张伟")
