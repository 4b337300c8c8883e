"""Fever-clinic appointments (诊疗预约): clinics open slots with places, a worker books one for a fever
patient, a slot is never over-booked, the case shows its appointment and the clinic lists its people."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from fangkong.cases import services as cases
from fangkong.cases.access import access_case
from fangkong.cases.models import Status
from fangkong.core.errors import FieldErrors
from fangkong.facilities import appointments
from fangkong.facilities.access import access_clinic
from fangkong.facilities.models import Appointment, AppointmentSlot

pytestmark = pytest.mark.django_db


def fever(city, who):
    return cases.open_case(city.users["community"], city.residents[who], Status.FEVER, "体温38.2°C")


def slot(city, places=1, hours=2):
    return appointments.open_slot(city.users["district"], city.facilities["clinic"],
                                  starts_at=timezone.now() + dt.timedelta(hours=hours), minutes=30, capacity=places)


def test_a_worker_books_the_last_place_and_the_next_person_is_refused(city):
    last = slot(city, places=1)
    booked = appointments.book(city.users["grid_a"], fever(city, "zhangwei"), last)
    assert booked.status == "booked" and AppointmentSlot.objects.get(pk=last.pk).booked == 1
    with pytest.raises(FieldErrors, match="This slot is full"):
        appointments.book(city.users["community"], fever(city, "lina"), last)
    assert Appointment.objects.count() == 1 and AppointmentSlot.objects.get(pk=last.pk).booked == 1


def test_the_database_refuses_an_over_booking_written_around_the_service(city):
    full = slot(city, places=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentSlot.objects.filter(pk=full.pk).update(booked=F("capacity") + 1)


def test_one_appointment_per_person_and_cancelling_gives_the_place_back(city):
    first, second = slot(city, places=3), slot(city, places=3, hours=3)
    zhang = fever(city, "zhangwei")
    booked = appointments.book(city.users["grid_a"], zhang, first)
    with pytest.raises(FieldErrors, match="has an appointment already"):
        appointments.book(city.users["grid_a"], zhang, second)
    assert AppointmentSlot.objects.get(pk=second.pk).booked == 0  # the refused booking took no place
    appointments.cancel(city.users["grid_a"], booked)
    assert AppointmentSlot.objects.get(pk=first.pk).booked == 0
    appointments.book(city.users["grid_a"], zhang, second)


def test_only_fever_patients_in_scope_get_an_appointment_and_past_slots_are_refused(city):
    contact = cases.open_case(city.users["community"], city.residents["lina"], Status.CLOSE_CONTACT, "流调")
    with pytest.raises(PermissionDenied):
        appointments.book(city.users["community"], contact, slot(city))
    with pytest.raises((PermissionDenied, Http404)):  # grid A's person
        appointments.book(city.users["grid_b"], access_case(city.users["grid_b"], fever(city, "zhangwei").pk), slot(city, hours=4))
    passed = AppointmentSlot.objects.create(facility=city.facilities["clinic"], starts_at=timezone.now() - dt.timedelta(hours=1),
                                            capacity=5)
    with pytest.raises(FieldErrors, match="passed"):
        appointments.book(city.users["grid_a"], fever(city, "zhangwei"), passed)


def test_only_fever_clinics_open_slots_and_bad_input_is_refused_per_field(city):
    with pytest.raises(PermissionDenied):
        appointments.open_slot(city.users["district"], access_clinic(city.users["district"], city.facilities["hospital"].pk), starts_at=timezone.now() + dt.timedelta(hours=1),
                               minutes=30, capacity=5)
    with pytest.raises(FieldErrors) as refused:
        appointments.open_slot(city.users["district"], city.facilities["clinic"], starts_at=timezone.now() - dt.timedelta(hours=1),
                               minutes=1, capacity=0)
    assert refused.value.errors.keys() == {"starts_at", "minutes", "capacity"}


def test_the_case_page_books_a_slot_and_the_clinic_page_lists_it(city, login):
    open_slot = slot(city, places=4)
    zhang = fever(city, "zhangwei")
    client = login(city.users["grid_a"])
    page = client.get(f"/cases/{zhang.pk}/").content.decode()
    assert 'id="book-appointment"' in page and "江岸发热门诊" in page and "4 places free" in page
    client.post(f"/facilities/appointments/book/{zhang.pk}/", {"slot": open_slot.pk})
    page = client.get(f"/cases/{zhang.pk}/").content.decode()
    assert 'id="book-appointment"' not in page and "Cancel the appointment" in page
    clinic = login(city.users["district"]).get(f"/facilities/{city.facilities['clinic'].pk}/").content.decode()
    assert f'id="slot-{open_slot.pk}"' in clinic and "张伟" in clinic
    added = login(city.users["district"]).post(f"/facilities/{city.facilities['clinic'].pk}/slots/", {
        "starts_at": (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "minutes": 30, "capacity": 6})
    assert added.status_code == 302 and AppointmentSlot.objects.filter(capacity=6).exists()
