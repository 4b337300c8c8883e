"""What facilities shows on the case page (cases, a lower app, names the slot "case"): the person's
fever-clinic appointments with the form to book one, and their beds and transfers. Registered in
FacilitiesConfig.ready(); the rules live in facilities.appointments."""

from __future__ import annotations

from typing import Any

from fangkong.accounts.models import User
from fangkong.cases.models import Case
from fangkong.facilities.appointments import bookable_slots, can_book_for
from fangkong.facilities.models import Appointment, AppointmentStatus, Stay


def case_appointments(user: User, case: Case) -> dict[str, Any]:
    """The case's latest appointments and, for a fever patient, the free slots to book one in."""
    can_book = can_book_for(user, case)
    mine = list(Appointment.objects.filter(case=case).select_related("slot__facility").order_by("-booked_at")[:10])
    return {
        "case": case, "appointments": mine,
        "has_booking": any(a.status == AppointmentStatus.BOOKED for a in mine),
        "can_book": can_book, "slots": list(bookable_slots(user)[:100]) if can_book else [],
    }


def case_stays(user: User, case: Case) -> dict[str, Any]:
    """Every bed the person was booked into or stayed in, with its transfer."""
    return {"stays": list(Stay.objects.filter(case=case).select_related("facility", "transfer").order_by("booked_at", "id"))}
