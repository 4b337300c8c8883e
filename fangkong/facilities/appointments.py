"""Fever-clinic appointments (诊疗预约, R21): a fever patient gets a time at a fever clinic rather than
only a bed. Clinics (their staff, and the commanders whose scope covers them) open slots with a number
of places; a worker books a slot for a fever patient from the case page.

Booking a place is ONE conditional statement on the slot row, as for beds:

    UPDATE facilities_appointmentslot SET booked = booked + 1 WHERE id = %s AND booked < capacity

and the row count says whether a place was had; the CHECK `slot_not_overbooked` is the last line of
defence. A person holds at most one booked appointment (a partial unique index).

The clinic, the case, the slot and the appointment come from the access functions (facilities.access,
cases.access): the services trust them.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.models import Case
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, actor
from fangkong.facilities.models import Appointment, AppointmentSlot, AppointmentStatus, Facility, FacilityKind

MAX_PLACES = 500
# Categories a fever-clinic appointment is for: fever patients (tested or not yet).
APPOINTMENT_CATEGORIES = ("fever",)


def can_book_for(user: User, case: Case) -> bool:
    """Book a fever-clinic appointment for this person (a case the user reached): whoever works with
    cases, while it is a fever patient."""
    return permissions.can_manage_cases(user) and case.category in APPOINTMENT_CATEGORIES


def open_slot(user: User, facility: Facility, *, starts_at: dt.datetime | None, minutes: int | None,
              capacity: int | None, now: dt.datetime | None = None) -> AppointmentSlot:
    """Open a slot at a fever clinic (from facilities.access.access_clinic)."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if starts_at is None:
        errors["starts_at"] = _("Give the time the slot starts.")
    elif starts_at < now:
        errors["starts_at"] = _("This time has passed.")
    if minutes is None or not 5 <= minutes <= 480:
        errors["minutes"] = _("Between %(low)d and %(high)d minutes.") % {"low": 5, "high": 480}
    if capacity is None or not 1 <= capacity <= MAX_PLACES:
        errors["capacity"] = _("Between %(low)d and %(high)d places.") % {"low": 1, "high": MAX_PLACES}
    if errors or starts_at is None or minutes is None or capacity is None:  # each None is in `errors`
        raise FieldErrors(errors)
    try:
        with transaction.atomic():
            slot = AppointmentSlot.objects.create(facility=facility, starts_at=starts_at, minutes=minutes, capacity=capacity,
                                                  created_by=actor(user))
            record(user, Action.CREATE, slot, object_type="facilities.appointmentslot", object_repr=facility.name,
                   changes={"starts_at": starts_at.isoformat(), "minutes": minutes, "capacity": capacity})
    except IntegrityError as exc:
        raise FieldErrors({"starts_at": _("This clinic has a slot at this time already.")}) from exc
    return slot


def bookable_slots(user: User, *, now: dt.datetime | None = None) -> QuerySet[AppointmentSlot]:
    """Slots still to come with a free place, at the fever clinics the user sees."""
    now = now or timezone.now()
    return (AppointmentSlot.objects.restrict(user).filter(starts_at__gte=now, booked__lt=F("capacity"), facility__is_active=True,
                                                          facility__kind=FacilityKind.FEVER_CLINIC)
            .select_related("facility").order_by("starts_at", "facility__name"))


def book(user: User, case: Case, slot: AppointmentSlot, *, now: dt.datetime | None = None) -> Appointment:
    """Book one place in the slot for the person, or refuse clearly (full, passed, already booked)."""
    if not can_book_for(user, case):
        raise PermissionDenied
    now = now or timezone.now()
    if slot.starts_at < now:
        raise FieldErrors({"slot": _("This slot has passed.")})
    with transaction.atomic():
        taken = AppointmentSlot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(booked=F("booked") + 1)
        if taken != 1:
            raise FieldErrors({"slot": _("This slot is full: choose another time.")})
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(slot=slot, case=case, booked_at=now, booked_by=actor(user),
                                                         area_code=case.area_code)
        except IntegrityError as exc:
            raise FieldErrors({"slot": _("This person has an appointment already: cancel it first.")}) from exc
        record(user, Action.CREATE, appointment, object_type="facilities.appointment", object_repr=str(case),
               area_code=case.area_code, changes={"facility": slot.facility.name, "starts_at": slot.starts_at.isoformat()})
    return appointment


def cancel(user: User, appointment: Appointment, *, now: dt.datetime | None = None) -> Appointment:
    """Cancel a booked appointment (from facilities.access.access_appointment); its place is free again."""
    case = Case.objects.get(pk=appointment.case_id)
    now = now or timezone.now()
    with transaction.atomic():
        done = Appointment.objects.filter(pk=appointment.pk, status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.CANCELLED, cancelled_at=now)
        if done != 1:
            raise FieldErrors({"appointment": _("This appointment is not booked.")})
        AppointmentSlot.objects.filter(pk=appointment.slot_id, booked__gte=1).update(booked=F("booked") - 1)
        record(user, Action.UPDATE, appointment, object_type="facilities.appointment", object_repr=str(case),
               area_code=appointment.area_code, changes={"status": ["booked", "cancelled"]})
    appointment.refresh_from_db()
    return appointment
