"""`{% case_appointments case %}` on the case page: the person's fever-clinic appointments and, for a
fever patient, the form to book one. The case page (cases, a lower app) loads this tag instead of
importing facilities; the rules live in facilities.appointments."""

from django import template

from fangkong.facilities.appointments import bookable_slots, can_book_for
from fangkong.facilities.models import Appointment, AppointmentStatus

register = template.Library()


@register.inclusion_tag("facilities/_case_appointments.html", takes_context=True)
def case_appointments(context, case) -> dict:
    user = context["request"].user
    can_book = can_book_for(user, case)
    mine = list(Appointment.objects.filter(case=case).select_related("slot__facility").order_by("-booked_at")[:10])
    return {
        "case": case, "appointments": mine, "request": context["request"], "csrf_token": context.get("csrf_token"),
        "has_booking": any(a.status == AppointmentStatus.BOOKED for a in mine),
        "can_book": can_book, "slots": list(bookable_slots(user)[:100]) if can_book else [],
    }
