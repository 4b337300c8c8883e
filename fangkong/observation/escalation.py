"""When observation hands a person on: a fever escalates them into the four categories (fever patient,
placement backlog → fever clinic), leaving home isolation turns the file into an order for centralised
isolation, and an isolation site's admission makes the file centralised observation there (a hook of
the facilities app).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases import services as cases
from fangkong.cases.models import Case, Source, Status
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, actor, clean_text
from fangkong.facilities.models import FacilityKind, Stay
from fangkong.observation.files import log_decision
from fangkong.observation.models import (
    Alert,
    AlertKind,
    DecisionKind,
    FileStatus,
    Kind,
    ObservationFile,
)

SYSTEM_USERNAME = "fangkong-system"


def system_user() -> User:
    """The acting user of the periodic job and of self-reports (nobody is logged in): an account that
    cannot log in (unusable password) and whose actions the audit log shows as the system's. The
    pipeline's services need a user with the whole city in scope; this is it."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        user = User(username=SYSTEM_USERNAME, is_superuser=True, is_active=True, first_name=_("system"))
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            user = User.objects.get(username=SYSTEM_USERNAME)
    return user


def escalate(user: User | None, file: ObservationFile, reason: str, *, now: dt.datetime | None = None) -> bool:
    """Fever: take the person into the four categories as a fever patient (a close contact moves from
    close contact to fever patient), which puts them in the placement backlog with category fever →
    fever clinic (policy routing; a 120 ambulance for categories the policy names). The file is
    closed as escalated. Idempotent: False when the file was not open any more."""
    now = now or timezone.now()
    acting = user if user is not None and permissions.can_observe(user) else system_user()
    with transaction.atomic():
        locked = ObservationFile.objects.select_for_update().select_related("resident").get(pk=file.pk)
        if locked.status != FileStatus.OPEN:
            return False
        try:
            cases.open_case(acting, locked.resident, Status.FEVER, reason, source=Source.OBSERVATION,
                            source_ref=f"observation:{locked.pk}", flagged_at=now, now=now)
        except FieldErrors:
            # Already further along (tested, suspected, confirmed): the pipeline has the person already.
            pass
        locked.status, locked.ended_at, locked.ended_by = FileStatus.ESCALATED, now, actor(acting)
        locked.save(update_fields=["status", "ended_at", "ended_by", "updated_at"])
        log_decision(acting, locked, DecisionKind.ESCALATE, reason, now, locked.planned_end_on, locked.planned_end_on)
    return True


def follow_admission(user: User | None, stay: Stay, case: Case, now: dt.datetime) -> None:
    """An isolation site admitted the person: their open file is now centralised observation there
    (a close contact queued by tracing, or a home isolation turned into an order after a violation)."""
    if stay.facility.kind != FacilityKind.ISOLATION_SITE:
        return
    file = ObservationFile.objects.select_for_update().filter(resident_id=case.resident_id, status=FileStatus.OPEN).first()
    if file is None or file.facility_id == stay.facility_id:
        return
    before = {"kind": file.kind, "place": file.place}
    file.kind, file.facility, file.place = Kind.CENTRALISED, stay.facility, stay.facility.name[:200]
    file.save(update_fields=["kind", "facility", "place", "updated_at"])
    record(user, Action.UPDATE, file, object_type="observation.file", object_repr=case.resident.name,
           area_code=file.area_code, changes={"kind": [before["kind"], file.kind], "place": [before["place"], file.place]})


def record_violation(user: User, file: ObservationFile, note: str) -> Alert:
    """The person left home isolation: a violation alert, and the file becomes an order for centralised
    isolation. Placement works on cases (category from routing_category): a close contact with an
    open case waits for an isolation-site bed already; anybody else is taken up as a close contact
    (source observation, the reason naming the violation) so that they join the backlog. A person
    further along the pipeline (fever, suspected, …) is placed by that category instead."""
    note = clean_text(note, "note", limit=200, required=True)
    now = timezone.now()
    with transaction.atomic():
        locked = ObservationFile.objects.select_for_update().select_related("resident").get(pk=file.pk)
        if locked.status != FileStatus.OPEN:
            raise FieldErrors({"note": _("This observation file is closed.")})
        key = timezone.localtime(now).strftime("%Y-%m-%dT%H:%M:%S")
        alert, _made = Alert.objects.get_or_create(file=locked, kind=AlertKind.VIOLATION, key=key, defaults={
            "detail": note[:100], "created_at": now, "area_code": locked.area_code})
        reason = _("Left home isolation: centralised isolation ordered (%(note)s)") % {"note": note}
        case = Case.objects.filter(resident=locked.resident).first()
        if case is None or case.status != Status.CLOSE_CONTACT:
            try:
                cases.open_case(user, locked.resident, Status.CLOSE_CONTACT, reason[:200], source=Source.OBSERVATION,
                                source_ref=f"observation:{locked.pk}", now=now)
            except FieldErrors:
                pass  # in another category: placed by that one
        if locked.kind != Kind.CENTRALISED:
            locked.kind, locked.place = Kind.CENTRALISED, ""
            locked.save(update_fields=["kind", "place", "updated_at"])
        log_decision(user, locked, DecisionKind.VIOLATION, reason, now, locked.planned_end_on, locked.planned_end_on)
    return alert
