"""Reaching a facility, a stay, a transfer, a placement run or an appointment: the role rule and the
scope, checked once, for views and the API. A service handed an object by these functions trusts it.

The answers stay what each page and endpoint answered before: a missing or out-of-scope object is 404;
a role that may not do the thing is 403. Where the object decides who may work on it (a stay: the
staff of its facility and the commanders over it), the object is fetched first and the rule read after.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from fangkong.accounts.models import User
from fangkong.cases.models import Case
from fangkong.core import permissions
from fangkong.core.scope import fetch_for, fetch_visible
from fangkong.facilities.models import (
    Appointment,
    AppointmentSlot,
    Facility,
    FacilityImport,
    FacilityKind,
    PlacementRun,
    Proposal,
    Stay,
    Transfer,
)

Rule = Callable[[permissions.Account | None], bool]


def can_work_in(user: User, facility: Facility) -> bool:
    """Keep a facility's occupancy true: its own staff, and the commanders whose scope covers it."""
    return permissions.can_work_in_facilities(user) and Facility.objects.restrict(user).filter(pk=facility.pk).exists()


def can_open_slots(user: User, facility: Facility) -> bool:
    return facility.kind == FacilityKind.FEVER_CLINIC and can_work_in(user, facility)


def access_facility(user: User, pk: int | str, *, rule: Rule = permissions.can_manage_cases, lock: bool = False) -> Facility:
    """A facility in scope for a user the role `rule` allows (viewing by default)."""
    return fetch_for(user, Facility.objects.select_related("area"), pk, allowed=rule(user), lock=lock)


def access_facility_work(user: User, pk: int | str, *, rule: Rule | None = None) -> Facility:
    """A facility the user keeps (beds closed for cleaning): the role `rule` if given (403), in scope
    (404), then the facility workers' role (403)."""
    if rule is not None and not rule(user):
        raise PermissionDenied
    facility = fetch_for(user, Facility.objects.all(), pk, allowed=True)
    if not permissions.can_work_in_facilities(user):
        raise PermissionDenied
    return facility


def access_clinic(user: User, pk: int | str) -> Facility:
    """A fever clinic the user opens appointment slots at: in scope (else 404), then the rule (else 403)."""
    facility = fetch_for(user, Facility.objects.all(), pk, allowed=True)
    if not can_open_slots(user, facility):
        raise PermissionDenied
    return facility


def access_stay(user: User, pk: int | str, *, rule: Rule | None = None) -> Stay:
    """A stay to admit or discharge: in scope (404), then the role `rule` if given (403), then the
    facility's: its staff and the commanders over it (403)."""
    if rule is not None and not rule(user):
        raise PermissionDenied
    stay = fetch_for(user, Stay.objects.select_related("facility"), pk, allowed=True)
    if not can_work_in(user, stay.facility):
        raise PermissionDenied
    return stay


def access_transfer(user: User, pk: int | str, *, rule: Rule | None = None) -> Transfer:
    """A transfer to move along: the role `rule` if given (403), in scope (404), then who moves transfers (403)."""
    if rule is not None and not rule(user):
        raise PermissionDenied
    transfer = fetch_for(user, Transfer.objects.all(), pk, allowed=True)
    if not permissions.can_track_transfers(user):
        raise PermissionDenied
    return transfer


def access_run(user: User, pk: int | str, *, lock: bool = False) -> PlacementRun:
    """A placement run: for those who place (403), in scope (404)."""
    return fetch_for(user, PlacementRun.objects.all(), pk, allowed=permissions.can_place(user), lock=lock)


def access_proposal(user: User, run_pk: int | str, pk: int | str) -> Proposal:
    """One proposal of a run the user may review; a proposal of another run is refused (403)."""
    run = access_run(user, run_pk)
    proposal = (Proposal.objects.select_related("run", "case__resident__household__compound")
                .filter(run=run, pk=pk).first())
    if proposal is None:
        raise PermissionDenied
    return proposal


def access_slot(user: User, pk: int | str) -> AppointmentSlot | None:
    """The slot chosen for an appointment: None when there is none, 403 when the user does not see it."""
    slot = AppointmentSlot.objects.select_related("facility").filter(pk=pk or 0).first()
    if slot is not None and not AppointmentSlot.objects.restrict(user).filter(pk=slot.pk).exists():
        raise PermissionDenied
    return slot


def access_appointment(user: User, pk: int | str) -> Appointment:
    """An appointment to cancel: in scope (404); then whoever works with the person's case, or the
    clinic's own staff and commanders (403)."""
    appointment = fetch_for(user, Appointment.objects.select_related("slot__facility"), pk, allowed=True)
    if not (permissions.can_manage_cases(user) and Case.objects.restrict(user).filter(pk=appointment.case_id).exists()) \
            and not can_work_in(user, appointment.slot.facility):
        raise PermissionDenied
    return appointment


def visible_imports(user: User) -> QuerySet[FacilityImport]:
    """Facility imports the user may look at again: their own, and those of their area."""
    if user.scope.everything:
        return FacilityImport.objects.all()
    condition = Q(user=user)
    if user.scope.area_code:
        condition |= Q(area_code__startswith=user.scope.area_code)
    return FacilityImport.objects.filter(condition)


def access_import(user: User, pk: int | str) -> FacilityImport:
    """One facility import with its error report: 403 for those who do not register facilities, 404
    when not the user's to see."""
    return fetch_visible(visible_imports(user), pk, allowed=permissions.can_register_facilities(user))
