"""Observation files (一人一档): opening one, the logged decisions that move its end, the follow-up log
and the self-report link. Each operation takes the acting user, runs in a transaction and writes the
audit log; the file (or the person) comes from an access function (observation.access), which has
checked the role and the scope.

For the tracing app: `open_file(user, resident, kind=..., reason=..., last_exposure_on=..., source="tracing",
source_ref=<contact id>)` opens (or, for a person already under observation, extends) a file.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, actor, clean_text
from fangkong.facilities.models import Facility
from fangkong.observation.models import (
    DecisionKind,
    FileDecision,
    FileSource,
    FileStatus,
    FollowUpNote,
    Kind,
    ObservationFile,
)
from fangkong.observation.windows import local_today
from fangkong.people.models import Resident
from fangkong.policy.services import current_policy


def log_decision(user: User | None, file: ObservationFile, kind: str, reason: str, now: dt.datetime,
                 old_end: dt.date | None = None, new_end: dt.date | None = None) -> FileDecision:
    """Every change of a file's end or status is a decision on its record, and an audit entry."""
    decision = FileDecision.objects.create(file=file, kind=kind, old_end_on=old_end, new_end_on=new_end, reason=reason[:200],
                                           decided_by=actor(user), decided_at=now, area_code=file.area_code)
    changes: dict[str, Any] = {"decision": kind, "reason": reason[:200]}
    if old_end != new_end:
        changes["planned_end_on"] = [old_end.isoformat() if old_end else None, new_end.isoformat() if new_end else None]
    record(user, Action.UPDATE if kind != DecisionKind.OPEN else Action.CREATE, file, object_type="observation.file",
           object_repr=file.resident.name, changes=changes)
    return decision


def check_responsible(responsible: User | None, resident: Resident) -> None:
    """A responsible worker (包保责任人) observes, in the person's area."""
    if responsible is not None and not (permissions.can_observe(responsible) and responsible.scope.covers_area_code(resident.area_code)):
        raise FieldErrors({"responsible": _("The responsible worker must work in the person's area.")})


# --- Opening a file --------------------------------------------------------------------------------

def open_file(user: User, resident: Resident, *, kind: str, reason: str, last_exposure_on: dt.date,
              source: str = "manual", source_ref: str = "", place: str = "", facility: Facility | None = None,
              responsible: User | None = None, started_on: dt.date | None = None) -> ObservationFile:
    """Open the person's observation file; idempotent: a person with an open file keeps it (a later last
    exposure pushes the planned end out, logged). planned end = last exposure + policy.observation_days."""
    policy = current_policy()
    now = timezone.now()
    today = local_today(now)
    reason = clean_text(reason, "reason", limit=200, required=True)
    place = clean_text(place, "place", limit=200)
    errors: dict[str, str] = {}
    if kind not in Kind.values:
        errors["kind"] = _("Choose home or centralised isolation.")
    if source not in FileSource.values:
        errors["source"] = _("Unknown source.")
    if last_exposure_on > today:
        errors["last_exposure_on"] = _("This date lies in the future.")
    started_on = started_on or today
    if started_on > today:
        errors["started_on"] = _("This date lies in the future.")
    planned_end = last_exposure_on + dt.timedelta(days=policy.observation_days)
    if "last_exposure_on" not in errors and planned_end < max(started_on, today):
        errors["last_exposure_on"] = _("The observation period after this exposure is over already.")
    if kind == Kind.CENTRALISED and facility is None and not place:
        errors["place"] = _("Say where the person is isolated.")
    elif kind == Kind.CENTRALISED and facility is None and place == resident.household.address:
        # Centralised isolation at the home address contradicts itself (类别 集中隔离, 地点 居家).
        errors["place"] = _("Centralised isolation is at an isolation site: name the site, not the home address.")
    if errors:
        raise FieldErrors(errors)
    check_responsible(responsible, resident)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                existing = (ObservationFile.objects.select_for_update().select_related("resident")
                            .filter(resident=resident, status=FileStatus.OPEN).first())
                if existing is not None:
                    return _later_exposure(user, existing, last_exposure_on, planned_end, now)
                file = ObservationFile.objects.create(
                    resident=resident, kind=kind, reason=reason, source=source, source_ref=(source_ref or "")[:64],
                    started_on=started_on, last_exposure_on=last_exposure_on, planned_end_on=planned_end,
                    place=place, facility=facility, responsible=responsible, token=secrets.token_urlsafe(32),
                    area_code=resident.area_code, created_by=actor(user), created_at=now)
                log_decision(user, file, DecisionKind.OPEN, reason, now, None, planned_end)
                return file
        except IntegrityError:  # another request opened it at the same moment: take that one
            continue
    return ObservationFile.objects.get(resident=resident, status=FileStatus.OPEN)


def _later_exposure(user: User, file: ObservationFile, last_exposure_on: dt.date, planned_end: dt.date,
                    now: dt.datetime) -> ObservationFile:
    if last_exposure_on <= file.last_exposure_on:
        return file
    old_end = file.planned_end_on
    file.last_exposure_on = last_exposure_on
    file.planned_end_on = max(old_end, planned_end)
    file.save(update_fields=["last_exposure_on", "planned_end_on", "updated_at"])
    log_decision(user, file, DecisionKind.EXPOSURE,
                 _("Later exposure on %(date)s") % {"date": last_exposure_on.isoformat()}, now, old_end, file.planned_end_on)
    return file


def reissue_token(user: User, file: ObservationFile) -> ObservationFile:
    """A new self-report link: the old link and its printed QR code stop working."""
    with transaction.atomic():
        file.token = secrets.token_urlsafe(32)
        file.save(update_fields=["token", "updated_at"])
        record(user, Action.UPDATE, file, object_type="observation.file", object_repr=file.resident.name,
               changes={"token": ["…", "…"]})
    return file


def file_by_token(token: str) -> ObservationFile | None:
    if not token or len(token) > 64:
        return None
    return ObservationFile.objects.select_related("resident").filter(token=token, status=FileStatus.OPEN).first()


# --- Decisions and the follow-up log ---------------------------------------------------------------

def decide(user: User, file: ObservationFile, kind: str, reason: str, *,
           new_end_on: dt.date | None = None) -> ObservationFile:
    """Extend or shorten the period, or end the file early: only by an explicit, logged decision."""
    reason = clean_text(reason, "reason", limit=200, required=True)
    now = timezone.now()
    with transaction.atomic():
        locked = ObservationFile.objects.select_for_update().select_related("resident").get(pk=file.pk)
        if locked.status != FileStatus.OPEN:
            raise FieldErrors({"kind": _("This file is closed.")})
        old_end = locked.planned_end_on
        if kind == DecisionKind.END:
            locked.status, locked.ended_at, locked.ended_by = FileStatus.ENDED, now, actor(user)
            locked.save(update_fields=["status", "ended_at", "ended_by", "updated_at"])
            log_decision(user, locked, kind, reason, now, old_end, old_end)
            return locked
        if kind not in (DecisionKind.EXTEND, DecisionKind.SHORTEN):
            raise FieldErrors({"kind": _("Choose extend, shorten or end.")})
        if new_end_on is None:
            raise FieldErrors({"new_end_on": _("Give the new end date.")})
        if kind == DecisionKind.EXTEND and new_end_on <= old_end:
            raise FieldErrors({"new_end_on": _("An extension ends after the planned end (%(date)s).") % {"date": old_end}})
        if kind == DecisionKind.SHORTEN and not (locked.started_on <= new_end_on < old_end):
            raise FieldErrors({"new_end_on": _("A shortened period ends between the start and the planned end.")})
        locked.planned_end_on = new_end_on
        locked.save(update_fields=["planned_end_on", "updated_at"])
        log_decision(user, locked, kind, reason, now, old_end, new_end_on)
    return locked


def add_note(user: User, file: ObservationFile, note: str) -> FollowUpNote:
    text = clean_text(note, "note", limit=500, required=True)
    with transaction.atomic():
        entry = FollowUpNote.objects.create(file=file, note=text, written_by=actor(user), written_at=timezone.now(),
                                            area_code=file.area_code)
        record(user, Action.UPDATE, file, object_type="observation.file", object_repr=file.resident.name,
               changes={"follow_up": text})
    return entry
