"""Investigations (流调) and their disinfection tasks. A case becoming suspected or confirmed is
investigated, once per episode, with its home's terminal disinfection task (a status hook of the cases
app); the investigator records the onset and sampling dates, the public places (each a disinfection
task) and the contacts (tracing.contacts), which are classified again whenever the dates move.

The investigation or task comes from an access function (tracing.access), which has checked the role
and the scope; the operations here trust it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases.models import Case, Status
from fangkong.core.errors import FieldErrors, actor, clean_text
from fangkong.policy.services import current_policy
from fangkong.tracing.contacts import queue_contact
from fangkong.tracing.models import ContactEdge, DisinfectionTask, Investigation, TaskKind, TaskStatus
from fangkong.tracing.rule import EARLIEST, is_close

# Statuses whose case is investigated (流调): an investigation opens when a case enters one of them.
INVESTIGATED = (Status.CONFIRMED, Status.SUSPECTED)
MAX_PLACES = 30


def _home_task(user: User | None, investigation: Investigation, case: Case, now: dt.datetime) -> None:
    household = Household.objects.select_related("compound", "building", "unit").get(pk=case.resident.household_id)
    _task(user, investigation, TaskKind.HOME, household.address, now)


def _task(user: User | None, investigation: Investigation, kind: str, place: str, now: dt.datetime) -> DisinfectionTask:
    task, created = DisinfectionTask.objects.get_or_create(
        investigation=investigation, kind=kind, place=place[:200],
        defaults={"area_code": investigation.area_code, "created_at": now})
    if created:
        record(user, Action.CREATE, task, object_type="tracing.disinfectiontask", object_repr=task.place,
               changes={"kind": kind, "investigation": investigation.pk})
    return task


def ensure_investigation(user: User | None, case: Case, *, now: dt.datetime | None = None) -> Investigation:
    """The investigation of the case's current episode, opened with its home disinfection task when
    missing (idempotent). The caller has checked the user's rights (the status hook, open_investigation)."""
    now = now or timezone.now()
    with transaction.atomic():
        investigation, created = Investigation.objects.get_or_create(
            case=case, episode_opened_at=case.opened_at,
            defaults={"area_code": case.area_code, "investigator": actor(user), "created_at": now})
        if created:
            record(user, Action.CREATE, investigation, object_type="tracing.investigation",
                   object_repr=case.resident.name, changes={"case": case.pk})
            _home_task(user, investigation, case, now)
    return investigation


def open_investigation(user: User, case: Case) -> Investigation:
    """The case comes from `tracing.access.access_case`."""
    return ensure_investigation(user, case)


def case_status_changed(user: User | None, case: Case, before_status: str, now: dt.datetime) -> None:
    """Status hook: a case becoming suspected or confirmed is investigated and its home disinfected."""
    if case.status in INVESTIGATED:
        ensure_investigation(user, case, now=now)  # idempotent: suspected → confirmed keeps the episode's one


def current_investigation(case: Case) -> Investigation | None:
    return Investigation.objects.filter(case=case).order_by("-episode_opened_at", "-id").first()


def update_investigation(user: User, investigation: Investigation, *, onset_on: dt.date | None, sampled_on: dt.date | None,
                         notes: str = "", places: Sequence[str] = (), today: dt.date | None = None) -> Investigation:
    """Dates, notes and public places. Each new place gets a disinfection task; the contacts are
    classified again (the dates move the look-back), and newly close, matched ones are queued."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    for field, value in (("onset_on", onset_on), ("sampled_on", sampled_on)):
        if value and value > today:
            errors[field] = _("This date lies in the future.")
        elif value and value < EARLIEST:
            errors[field] = _("This date lies too far in the past.")
    notes = clean_text(notes, "notes", limit=2000, collapse=False, errors=errors)
    cleaned: list[str] = []
    for place in places:
        place_errors: dict[str, str] = {}
        text = clean_text(place, "places", limit=200, errors=place_errors)
        errors.update(place_errors)
        if text and not place_errors and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_PLACES:
        errors["places"] = _("At most %(n)d places.") % {"n": MAX_PLACES}
    if errors:
        raise FieldErrors(errors)
    now = timezone.now()
    with transaction.atomic():
        locked = Investigation.objects.select_for_update().get(pk=investigation.pk)
        before = {"onset_on": str(locked.onset_on or ""), "sampled_on": str(locked.sampled_on or ""), "places": locked.places}
        locked.onset_on, locked.sampled_on, locked.notes = onset_on, sampled_on, notes
        locked.places = [*locked.places, *[p for p in cleaned if p not in locked.places]]  # tasks are never taken back
        locked.save()
        for place in cleaned:
            _task(user, locked, TaskKind.PUBLIC, place, now)
        record(user, Action.UPDATE, locked, object_type="tracing.investigation", object_repr=f"#{locked.pk}",
               changes={"before": before, "onset_on": str(onset_on or ""), "sampled_on": str(sampled_on or ""), "places": cleaned})
        _reclassify(user, locked, now)
    return locked


def _reclassify(user: User, investigation: Investigation, now: dt.datetime) -> None:
    policy = current_policy()
    for contact in investigation.contacts.all():  # one investigation: tens of contacts
        close = is_close(policy, contact.protection, contact.last_exposure_on, investigation.reference_date)
        if close != contact.is_close:
            contact.is_close = close
            contact.save(update_fields=["is_close"])
            ContactEdge.objects.filter(contact=contact).update(is_close=close)
            queue_contact(user, contact, now)


def mark_task_done(user: User, task: DisinfectionTask, note: str = "") -> DisinfectionTask:
    note = clean_text(note, "note", limit=200)
    with transaction.atomic():
        locked = DisinfectionTask.objects.select_for_update().get(pk=task.pk)
        if locked.status == TaskStatus.DONE:
            return locked
        locked.status, locked.done_by, locked.done_at, locked.note = TaskStatus.DONE, actor(user), timezone.now(), note
        locked.save()
        record(user, Action.UPDATE, locked, object_type="tracing.disinfectiontask", object_repr=locked.place,
               changes={"status": [TaskStatus.OPEN, TaskStatus.DONE], "note": note})
    return locked
