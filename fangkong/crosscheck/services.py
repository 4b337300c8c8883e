"""Domain operations of the cross-check, shared by the pages, the API, the imports and the scheduler.

- `run_crosscheck`: the four rules over the whole city (or one area), idempotent: a second run
  opens nothing twice. Returnee to-dos whose condition no longer holds close themselves.
- `register_occupant`: a worker adds the people found living there to the roster (new occupants,
  checked by the roster's own validation and audit-logged), before closing as "registered".
- `close_todo`: a worker closes a to-do with an outcome; "vacant" marks the household vacant.
  Every closing is audit-logged.

The to-do comes from `crosscheck.access.access_todo` (the role rule and the scope, checked once
there): registering and closing trust it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.areas.services import set_vacancy
from fangkong.audit.models import Action, AuditLog
from fangkong.audit.services import build_entry, record
from fangkong.core.errors import FieldErrors, clean_text
from fangkong.crosscheck import rules
from fangkong.crosscheck.access import RELATED
from fangkong.crosscheck.models import OUTCOMES, Kind, Outcome, Status, ToDo
from fangkong.people.models import Resident
from fangkong.people.services import create_resident
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy
from fangkong.screening.models import PersonCheck

NOTE_LENGTH = 200


class ToDoClosed(ValueError):
    """The to-do was closed already."""


# ---------------------------------------------------------------- the cross-check

def run_crosscheck(today: dt.date | None = None, *, area_code: str = "", policy: Policy | None = None) -> dict[str, int]:
    """Compare the evidence with the roster and the screening; returns what was opened per kind,
    how many to-dos closed themselves and how many vacancies were cleared."""
    policy = policy or current_policy()
    today = today or timezone.localdate()
    now = timezone.now()
    window_start = today - dt.timedelta(days=policy.crosscheck_window_days - 1)
    arrivals_start = today - dt.timedelta(days=policy.crosscheck_returnee_days)
    with transaction.atomic():
        rules.lock()
        cleared = rules.clear_vacancies(area_code)
        rules.refresh_area_codes()
        closed = _close_resolved(now, today, area_code)
        return {
            Kind.POWERED.value: rules.open_powered(window_start, today, policy.crosscheck_min_kwh_per_day, now, area_code),
            Kind.LIT.value: rules.open_lit(window_start, today, now, area_code),
            Kind.RETURNEE_UNREGISTERED.value: rules.open_returnees_unregistered(arrivals_start, today, now, area_code),
            Kind.RETURNEE_UNSCREENED.value: rules.open_returnees_unscreened(arrivals_start, today, now, area_code),
            "closed": closed,
            "vacancies_cleared": cleared,
        }


def _close_resolved(now: dt.datetime, today: dt.date, prefix: str) -> int:
    """Returnee to-dos that resolved themselves (registered, screened) close, audit-logged."""
    found = rules.resolved_returnees(prefix)
    closed = 0
    for outcome in (Outcome.REGISTERED, Outcome.SCREENED):
        rows = [(pk, code) for pk, code, value in found if value == outcome]
        closed += rules.close([pk for pk, _code in rows], outcome.value, now, today)
        AuditLog.objects.bulk_create([
            build_entry(None, Action.UPDATE, object_type="crosscheck.todo", object_id=str(pk), area_code=code,
                        object_repr=f"#{pk}", changes={"status": [Status.OPEN.value, Status.CLOSED.value],
                                                       "outcome": ["", outcome.value], "_automatic": True})
            for pk, code in rows
        ], batch_size=2000)
    return closed


# ---------------------------------------------------------------- lists

def todos_in(user: User, area_code: str, *, kind: str = "", status: str = Status.OPEN,
             q: str = "") -> QuerySet[ToDo]:
    """The to-dos under an area that the user may see, filtered by kind, status ('all') and text."""
    todos = ToDo.objects.within(user, area_code).select_related(*RELATED)
    if kind in Kind.values:
        todos = todos.filter(kind=kind)
    if status in Status.values:
        todos = todos.filter(status=status)
    q = (q or "").strip()
    if q:
        condition = (Q(returnee__name__contains=q) | Q(household__compound__name__contains=q)
                     | Q(building__compound__name__contains=q) | Q(household__room=q) | Q(building__name=q))
        if q.isdigit() and len(q) >= 4:
            condition |= Q(returnee__doc_number__endswith=q) | Q(returnee__phone__endswith=q)
        todos = todos.filter(condition)
    return todos.order_by("-created_at", "-id")


def kind_counts(user: User, area_code: str, status: str = Status.OPEN) -> dict[str, int]:
    todos = ToDo.objects.within(user, area_code)
    if status in Status.values:
        todos = todos.filter(status=status)
    found = {row["kind"]: row["n"] for row in todos.values("kind").annotate(n=Count("id")).order_by()}
    return {kind: found.get(kind, 0) for kind in Kind.values}


# ---------------------------------------------------------------- registering and closing

def register_occupant(user: User, todo: ToDo, raw: dict[str, Any],
                      household: Household | None = None) -> Resident:
    """Add someone found living there to the roster as a new occupant (validated by
    `clean_resident`, audit-logged). Power: the to-do's household. Lit windows: a household of the
    building (`household`). Returnee not on the roster: the returnee, in the located household,
    with the document and phone from the checkpoint's list."""
    if not ToDo.objects.filter(pk=todo.pk, status=Status.OPEN).exists():
        raise ToDoClosed(_("This to-do was closed already."))
    if todo.kind == Kind.POWERED:
        target = todo.household
        assert target is not None  # a power to-do is about a household (the rules open it so)
    elif todo.kind == Kind.LIT:
        if household is None:
            raise FieldErrors({"household": _("Choose the household they live in.")})
        if household.building_id != todo.building_id:
            raise FieldErrors({"household": _("Choose a household of this building.")})
        target = household
    elif todo.kind == Kind.RETURNEE_UNREGISTERED:
        target = todo.household
        if target is None:
            raise FieldErrors({"household": _("The destination was not located: register the returnee from the household's page.")})
        returnee = todo.returnee
        assert returnee is not None  # a returnee's to-do names the returnee
        raw = {**raw, "name": returnee.name, "doc_type": returnee.doc_type, "doc_number": returnee.doc_number,
               "phone": raw.get("phone") or returnee.phone}
    else:
        raise FieldErrors({"household": _("This person is on the roster already.")})
    return create_resident(user, target, raw, is_new_occupant=True)  # clears a vacancy too


def _registered(todo: ToDo) -> bool:
    # Each kind names its object (the rules open them so; the model allows the others empty).
    if todo.kind == Kind.POWERED:
        assert todo.household_id is not None
        return Resident.objects.filter(household_id=todo.household_id).exists()
    if todo.kind == Kind.LIT:
        assert todo.building_id is not None
        return Resident.objects.filter(household__building_id=todo.building_id, created_at__gte=todo.created_at).exists()
    returnee = todo.returnee
    assert returnee is not None
    return Resident.objects.filter(doc_type=returnee.doc_type, doc_number=returnee.doc_number).exists()


def _screened(todo: ToDo) -> bool:
    # Only a returnee on the roster is to be screened: the to-do names both.
    assert todo.resident_id is not None and todo.returnee is not None
    return PersonCheck.objects.filter(resident_id=todo.resident_id, present=True,
                                      date__gte=todo.returnee.arrival_date).exists()


UNMET = {
    Kind.POWERED: lambda: _("Register the new occupants first: nobody is registered in this household."),
    Kind.LIT: lambda: _("Register the new occupants first: nobody has been registered in this building since the to-do was opened."),
    Kind.RETURNEE_UNREGISTERED: lambda: _("Register the returnee first: nobody with this document is on the roster."),
    Kind.RETURNEE_UNSCREENED: lambda: _("Record the screening first: this person has not been found present since arrival."),
}


def close_todo(user: User, todo: ToDo, outcome: str, note: str = "") -> ToDo:
    """Close with an outcome offered for the kind. "Registered" and "screened" need the roster or
    the screening to show it; "vacant" marks the household vacant; "false alarm" needs a note."""
    errors: dict[str, str] = {}
    if outcome not in OUTCOMES[Kind(todo.kind)]:
        errors["outcome"] = _("Choose one of the outcomes offered for this to-do.")
    note = clean_text(note, "note", limit=NOTE_LENGTH, collapse=False, errors=errors)
    if "note" not in errors and outcome == Outcome.FALSE_ALARM and not note:
        errors["note"] = _("Say why this is a false alarm.")
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        locked = ToDo.objects.select_for_update().get(pk=todo.pk)
        if locked.status != Status.OPEN:
            raise ToDoClosed(_("This to-do was closed already."))
        if outcome == Outcome.REGISTERED and not _registered(locked):
            raise FieldErrors({"outcome": UNMET[Kind(locked.kind)]()})
        if outcome == Outcome.SCREENED and not _screened(locked):
            raise FieldErrors({"outcome": UNMET[Kind(locked.kind)]()})
        today = timezone.localdate()
        if outcome == Outcome.VACANT:  # offered for power to-dos, which are about a household
            assert locked.household is not None
            set_vacancy(user, locked.household, today)
        locked.status, locked.outcome, locked.note = Status.CLOSED, outcome, note
        locked.closed_by, locked.closed_at, locked.closed_on = user, timezone.now(), today
        locked.save(update_fields=["status", "outcome", "note", "closed_by", "closed_at", "closed_on"])
        record(user, Action.UPDATE, locked, object_repr=f"{locked.get_kind_display()}: {locked.subject}"[:200],
               changes={"status": [Status.OPEN.value, Status.CLOSED.value], "outcome": ["", outcome], "_note": note})
    return ToDo.objects.select_related(*RELATED).get(pk=locked.pk)
