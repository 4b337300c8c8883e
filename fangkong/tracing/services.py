"""Domain operations of contact tracing (流调). Each takes the acting user, checks permission and
scope, runs in a transaction and writes the audit log; views and the API only call these.

The flow: a case becomes suspected or confirmed → an investigation opens with the home's terminal
disinfection task (a status hook, see cases.services.on_status_changed) → the investigator records
onset/sampling dates, public places (each a disinfection task) and contacts → each contact is
classified close or not by the policy and matched to the registry (matching.py) → a matched close
contact is taken into the close-contact category (placement backlog → isolation site) and its
centralised observation starts, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.areas.models import Household
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases import services as cases
from fangkong.cases.models import Case, Source, Status
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.core.identity import IdentityError, normalize_document, normalize_phone
from fangkong.people.models import DocumentType, Resident
from fangkong.people.moves import id_chunks
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy
from fangkong.tracing import matching
from fangkong.tracing.links import start_observation
from fangkong.tracing.models import (
    MATCHED_STATES,
    Contact,
    ContactEdge,
    ContactKind,
    DisinfectionTask,
    InfectionLink,
    Investigation,
    MatchState,
    Protection,
    TaskKind,
    TaskStatus,
)

# Statuses whose case is investigated (流调): an investigation opens when a case enters one of them.
INVESTIGATED = (Status.CONFIRMED, Status.SUSPECTED)
# Cases that can be the infectee of an infection link (they had the disease).
INFECTED = (Status.SUSPECTED, Status.CONFIRMED, Status.DISCHARGED, Status.RECOVERY, Status.DECEASED)
MAX_PLACES = 30
# Dates before this are typing errors (and would overflow the look-back arithmetic at date.min).
EARLIEST = dt.date(2000, 1, 1)


def _require(user, model, pk: int) -> None:
    if not permissions.can_trace(user) or not model.objects.restrict(user).filter(pk=pk).exists():
        raise PermissionDenied


def _text(value: Any, field: str, limit: int, errors: dict[str, str], *, required: bool = False) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > limit:
        errors[field] = _("Longer than %(n)d characters.") % {"n": limit}
    return text


def _user(user):
    return user if getattr(user, "pk", None) else None


# --- The policy rule ----------------------------------------------------------------------------

def is_close(policy: Policy, protection: str, last_exposure_on: dt.date, reference_on: dt.date | None) -> bool:
    """A close contact (密切接触者): unprotected contact (protection "none", or one the policy lists as
    not protecting) whose last exposure is on or after the case's onset — or sampling date, without
    an onset — minus the policy's look-back (2 days in 2020). With neither date known yet, every
    unprotected contact counts: better isolated today than found late."""
    if protection not in policy.close_contact_unprotected:
        return False
    if reference_on is None:
        return True
    return last_exposure_on >= reference_on - dt.timedelta(days=policy.close_contact_lookback_days)


# --- Investigations and disinfection tasks ------------------------------------------------------

def _home_task(user, investigation: Investigation, case: Case, now: dt.datetime) -> None:
    household = Household.objects.select_related("compound", "building", "unit").get(pk=case.resident.household_id)
    _task(user, investigation, TaskKind.HOME, household.address, now)


def _task(user, investigation: Investigation, kind: str, place: str, now: dt.datetime) -> DisinfectionTask:
    task, created = DisinfectionTask.objects.get_or_create(
        investigation=investigation, kind=kind, place=place[:200],
        defaults={"area_code": investigation.area_code, "created_at": now})
    if created:
        record(user, Action.CREATE, task, object_type="tracing.disinfectiontask", object_repr=task.place,
               changes={"kind": kind, "investigation": investigation.pk})
    return task


def ensure_investigation(user, case: Case, *, now: dt.datetime | None = None) -> Investigation:
    """The investigation of the case's current episode, opened with its home disinfection task when
    missing (idempotent). The caller has checked the user's rights (the status hook, open_investigation)."""
    now = now or timezone.now()
    with transaction.atomic():
        investigation, created = Investigation.objects.get_or_create(
            case=case, episode_opened_at=case.opened_at,
            defaults={"area_code": case.area_code, "investigator": _user(user), "created_at": now})
        if created:
            record(user, Action.CREATE, investigation, object_type="tracing.investigation",
                   object_repr=case.resident.name, changes={"case": case.pk})
            _home_task(user, investigation, case, now)
    return investigation


def open_investigation(user, case: Case) -> Investigation:
    _require(user, Case, case.pk)
    return ensure_investigation(user, case)


def case_status_changed(user, case: Case, before_status: str, now: dt.datetime) -> None:
    """Status hook: a case becoming suspected or confirmed is investigated and its home disinfected."""
    if case.status in INVESTIGATED:
        ensure_investigation(user, case, now=now)  # idempotent: suspected → confirmed keeps the episode's one


def current_investigation(case: Case) -> Investigation | None:
    return Investigation.objects.filter(case=case).order_by("-episode_opened_at", "-id").first()


def update_investigation(user, investigation: Investigation, *, onset_on: dt.date | None, sampled_on: dt.date | None,
                         notes: str = "", places: Sequence[str] = (), today: dt.date | None = None) -> Investigation:
    """Dates, notes and public places. Each new place gets a disinfection task; the contacts are
    classified again (the dates move the look-back), and newly close, matched ones are queued."""
    _require(user, Investigation, investigation.pk)
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    for field, value in (("onset_on", onset_on), ("sampled_on", sampled_on)):
        if value and value > today:
            errors[field] = _("This date lies in the future.")
        elif value and value < EARLIEST:
            errors[field] = _("This date lies too far in the past.")
    notes = str(notes or "").strip()
    if len(notes) > 2000:
        errors["notes"] = _("Longer than %(n)d characters.") % {"n": 2000}
    cleaned: list[str] = []
    for place in places:
        text = " ".join(str(place or "").split())
        if len(text) > 200:
            errors["places"] = _("Longer than %(n)d characters.") % {"n": 200}
        elif text and text not in cleaned:
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


def _reclassify(user, investigation: Investigation, now: dt.datetime) -> None:
    policy = current_policy()
    for contact in investigation.contacts.all():  # one investigation: tens of contacts
        close = is_close(policy, contact.protection, contact.last_exposure_on, investigation.reference_date)
        if close != contact.is_close:
            contact.is_close = close
            contact.save(update_fields=["is_close"])
            ContactEdge.objects.filter(contact=contact).update(is_close=close)
            _queue(user, contact, now)


def mark_task_done(user, task: DisinfectionTask, note: str = "") -> DisinfectionTask:
    _require(user, DisinfectionTask, task.pk)
    errors: dict[str, str] = {}
    note = _text(note, "note", 200, errors)
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        locked = DisinfectionTask.objects.select_for_update().get(pk=task.pk)
        if locked.status == TaskStatus.DONE:
            return locked
        locked.status, locked.done_by, locked.done_at, locked.note = TaskStatus.DONE, _user(user), timezone.now(), note
        locked.save()
        record(user, Action.UPDATE, locked, object_type="tracing.disinfectiontask", object_repr=locked.place,
               changes={"status": [TaskStatus.OPEN, TaskStatus.DONE], "note": note})
    return locked


# --- Contacts -------------------------------------------------------------------------------------

def clean_contact(raw: dict[str, Any], *, today: dt.date) -> dict[str, Any]:
    """Normalise a reported contact; errors per field in the user's language."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["kind"] = raw.get("kind") or ""
    if out["kind"] not in ContactKind.values:
        errors["kind"] = _("Choose the kind of contact.")
    out["name"] = _text(raw.get("name"), "name", 50, errors, required=True)
    out["doc_type"] = raw.get("doc_type") or DocumentType.ID_CARD
    if out["doc_type"] not in DocumentType.values:
        errors["doc_type"] = _("Unknown document type: %(value)s.") % {"value": out["doc_type"]}
    doc = "".join(str(raw.get("doc_number") or "").split())
    out["doc_number"] = ""
    if doc and "doc_type" not in errors:
        try:
            out["doc_number"] = normalize_document(out["doc_type"], doc)
        except IdentityError as exc:
            errors["doc_number"] = str(exc)
    phone = "".join(str(raw.get("phone") or "").split())
    out["phone"] = ""
    if phone:
        try:
            out["phone"] = normalize_phone(phone)
        except IdentityError as exc:
            errors["phone"] = str(exc)
    out["address"] = _text(raw.get("address"), "address", 200, errors)
    out["protection"] = raw.get("protection") or Protection.NONE
    if out["protection"] not in Protection.values:
        errors["protection"] = _("Choose the protection used.")
    last, first = raw.get("last_exposure_on"), raw.get("first_exposure_on")
    if not isinstance(last, dt.date):
        errors["last_exposure_on"] = _("Give the date of the last exposure.")
    elif last > today:
        errors["last_exposure_on"] = _("This date lies in the future.")
    elif last < EARLIEST:
        errors["last_exposure_on"] = _("This date lies too far in the past.")
    if first is not None and not isinstance(first, dt.date):
        errors["first_exposure_on"] = _("Enter a valid date.")
    elif first and isinstance(last, dt.date) and first > last:
        errors["first_exposure_on"] = _("The first exposure cannot come after the last.")
    out["last_exposure_on"], out["first_exposure_on"] = last, first or None
    if errors:
        raise FieldErrors(errors)
    return out


def record_contact(user, investigation: Investigation, raw: dict[str, Any], *, client_id: str | None = None,
                   today: dt.date | None = None) -> tuple[Contact, bool]:
    """Record a reported contact, classify it and match it. Submitting the same `client_id` again
    (a phone retrying) returns the first contact unchanged; returns (contact, created)."""
    _require(user, Investigation, investigation.pk)
    client_id = (client_id or "").strip() or None
    if client_id and len(client_id) > 64:
        raise FieldErrors({"client_id": _("Longer than %(n)d characters.") % {"n": 64}})
    if client_id:
        existing = Contact.objects.filter(client_id=client_id).first()
        if existing is not None:
            return _same_submission(existing, investigation), False
    values = clean_contact(raw, today=today or timezone.localdate())
    policy = current_policy()
    now = timezone.now()
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                investigation=investigation, client_id=client_id, recorded_by=_user(user), recorded_at=now,
                area_code=investigation.area_code,
                is_close=is_close(policy, values["protection"], values["last_exposure_on"], investigation.reference_date),
                **values)
            record(user, Action.CREATE, contact, object_type="tracing.contact", object_repr=contact.name,
                   changes={"investigation": investigation.pk, "kind": contact.kind, "is_close": contact.is_close,
                            "protection": contact.protection, "last_exposure_on": str(contact.last_exposure_on)})
            _auto_match(user, contact, now)
    except IntegrityError:
        existing = Contact.objects.filter(client_id=client_id).first() if client_id else None
        if existing is None:
            raise
        return _same_submission(existing, investigation), False
    return contact, True


def _same_submission(existing: Contact, investigation: Investigation) -> Contact:
    if existing.investigation_id != investigation.pk:
        raise FieldErrors({"client_id": _("This client id was used for another submission.")})
    return existing


def _auto_match(user, contact: Contact, now: dt.datetime) -> None:
    resident = matching.by_document(user, contact.doc_type, contact.doc_number)
    state = MatchState.AUTO_DOCUMENT if resident else MatchState.UNMATCHED
    if resident is None:
        same_phone = matching.by_phone(user, contact.phone)
        if len(same_phone) == 1:
            resident, state = same_phone[0], MatchState.AUTO_PHONE
    if resident is None and matching.candidates(user, contact.name, contact.address, contact.phone):
        state = MatchState.CANDIDATES
    if resident is not None:
        _matched(user, contact, resident, state, now)
    elif state != contact.match_state:
        contact.match_state = state
        contact.save(update_fields=["match_state"])


def _matched(user, contact: Contact, resident: Resident, state: str, now: dt.datetime) -> None:
    contact.resident, contact.match_state = resident, state
    contact.save(update_fields=["resident", "match_state"])
    investigation = contact.investigation
    ContactEdge.objects.update_or_create(contact=contact, defaults={
        "source_resident_id": investigation.case.resident_id, "target_resident": resident, "investigation": investigation,
        "last_exposure_on": contact.last_exposure_on, "is_close": contact.is_close, "area_code": contact.area_code})
    record(user, Action.UPDATE, contact, object_type="tracing.contact", object_repr=contact.name,
           changes={"match_state": state, "resident": resident.pk})
    _queue(user, contact, now)


def _queue(user, contact: Contact, now: dt.datetime) -> None:
    """Take a matched close contact into the close-contact category (the placement backlog routes
    them to an isolation site) and start centralised observation: once (queued_at). A person who is
    already suspected or confirmed is not made a close contact (the state machine refuses it; the
    reason is kept on the contact). Rights are the acting user's: the matched person is in their scope."""
    if not contact.is_close or contact.resident_id is None or contact.queued_at is not None:
        return
    resident = contact.resident
    reason = _("Close contact of %(name)s (contact tracing)") % {"name": contact.investigation.case.resident.name}
    ref = f"contact:{contact.pk}"
    try:
        case = cases.open_case(user, resident, Status.CLOSE_CONTACT, reason, source=Source.TRACING, source_ref=ref, now=now)
    except cases.TransitionRefused as exc:
        contact.queue_note = str(exc)[:200]
        case = None
    except PermissionDenied:
        # Only reachable when the person was matched by someone else: a commander above queues them.
        contact.queue_note = _("Outside your area: the commander takes this person up.")
        contact.save(update_fields=["queue_note"])
        return
    if case is not None and case.status == Status.CLOSE_CONTACT:
        try:
            with transaction.atomic():
                start_observation(user, resident, last_exposure_on=contact.last_exposure_on, reason=reason,
                                  source_ref=ref)
        except FieldErrors as exc:  # e.g. the observation period after this exposure is over already
            contact.queue_note = "; ".join(str(m) for m in exc.errors.values())[:200]
    contact.queued_at = now
    contact.save(update_fields=["queued_at", "queue_note"])


def _contact_for_change(user, contact: Contact) -> Contact:
    _require(user, Contact, contact.pk)
    return Contact.objects.select_for_update().select_related("investigation__case__resident").get(pk=contact.pk)


def confirm_match(user, contact: Contact, resident: Resident) -> Contact:
    """A human confirms that the contact is this resident (a candidate of the fuzzy match, or anyone
    in scope they found). Confirming the same resident again changes nothing."""
    if not Resident.objects.restrict(user).filter(pk=resident.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        locked = _contact_for_change(user, contact)
        if locked.resident_id == resident.pk:
            return locked
        if locked.is_matched:
            raise FieldErrors({"resident": _("This contact is matched already.")})
        _matched(user, locked, resident, MatchState.CONFIRMED, timezone.now())
    return locked


def reject_candidates(user, contact: Contact) -> Contact:
    """None of the candidates is this contact: they are registered, or recorded as outside the registry."""
    with transaction.atomic():
        locked = _contact_for_change(user, contact)
        if locked.is_matched or locked.match_state == MatchState.REJECTED:
            return locked
        locked.match_state = MatchState.REJECTED
        locked.save(update_fields=["match_state"])
        record(user, Action.UPDATE, locked, object_type="tracing.contact", object_repr=locked.name,
               changes={"match_state": MatchState.REJECTED})
    return locked


def rematch(user, contact: Contact) -> Contact:
    """Match again with the acting user's scope: how a commander matches a contact living outside the
    area of the worker who recorded it."""
    with transaction.atomic():
        locked = _contact_for_change(user, contact)
        if not locked.is_matched:
            _auto_match(user, locked, timezone.now())
    return locked


def register_contact(user, contact: Contact, household: Household, *, sex: str = "", birth_date: dt.date | None = None) -> Contact:
    """Add an unmatched contact to the registry in a household the worker chooses (in their scope),
    then treat them as matched. A registry entry needs a document number: a contact reported without
    one is recorded as outside the registry instead (mark_outside_registry)."""
    from fangkong.people.services import create_resident

    if not contact.doc_number:
        raise FieldErrors({"household": _("A document number is needed to add the person to the registry.")})
    with transaction.atomic():
        locked = _contact_for_change(user, contact)
        if locked.is_matched:
            return locked
        resident = create_resident(user, household, {
            "name": locked.name, "doc_type": locked.doc_type, "doc_number": locked.doc_number, "phone": locked.phone,
            "relation": "other", "sex": sex, "birth_date": birth_date, "note": _("Added by contact tracing")},
            is_new_occupant=True)
        _matched(user, locked, resident, MatchState.CREATED, timezone.now())
    return locked


def mark_outside_registry(user, contact: Contact) -> Contact:
    """The contact lives outside the registry (another city, no fixed home): kept with the reported
    address and flagged, so the command centre passes them on to where they live."""
    with transaction.atomic():
        locked = _contact_for_change(user, contact)
        if locked.is_matched or locked.outside_registry:
            return locked
        locked.outside_registry = True
        locked.save(update_fields=["outside_registry"])
        record(user, Action.UPDATE, locked, object_type="tracing.contact", object_repr=locked.name,
               changes={"outside_registry": True})
    return locked


# --- Infection links ------------------------------------------------------------------------------

def _is_ancestor(candidate_id: int, case_id: int) -> bool:
    """Is `candidate_id` among the infectors (direct or not) of `case_id`?"""
    sql = ("WITH RECURSIVE up(id) AS (SELECT infector_id FROM tracing_infectionlink WHERE infectee_id = %s "
           "UNION SELECT l.infector_id FROM tracing_infectionlink l JOIN up ON l.infectee_id = up.id) "
           "SELECT 1 FROM up WHERE id = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [case_id, candidate_id])
        return cursor.fetchone() is not None


def record_infection_link(user, infector: Case, infectee: Case, evidence: str = "") -> tuple[InfectionLink, bool]:
    """Who infected whom; both cases must be visible to the user. Idempotent; cycles are refused."""
    _require(user, Case, infector.pk)
    _require(user, Case, infectee.pk)
    errors: dict[str, str] = {}
    evidence = _text(evidence, "evidence", 200, errors)
    if infector.pk == infectee.pk:
        errors["infector"] = _("A case cannot infect itself.")
    elif infectee.status not in INFECTED:
        errors["infectee"] = _("Only a suspected or confirmed case can have been infected.")
    elif _is_ancestor(infectee.pk, infector.pk):
        errors["infector"] = _("This would make a circle: the infectee is already among the infector's sources.")
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        link, created = InfectionLink.objects.get_or_create(
            infector=infector, infectee=infectee,
            defaults={"evidence": evidence, "recorded_by": _user(user), "area_code": infectee.area_code})
        if created:
            record(user, Action.CREATE, link, object_type="tracing.infectionlink", object_repr=f"{infector.pk}→{infectee.pk}",
                   changes={"infector": infector.pk, "infectee": infectee.pk, "evidence": evidence})
    return link, created


PICKER_LIMIT = 20


def infector_candidates(user, infectee: Case, query: str) -> list[Case]:
    """Cases the user may link as the infector of `infectee`, found by name or the tail of the ID number
    (at least four characters): in the user's scope, ill (INFECTED), not the infectee nor already linked."""
    text = " ".join(str(query or "").split())[:50]
    if not text:
        return []
    match = Q(resident__name__contains=text)
    tail = text.upper()
    if len(tail) >= 4 and tail.isalnum() and any(ch.isdigit() for ch in tail):
        match |= Q(resident__doc_number__endswith=tail)
    linked = InfectionLink.objects.filter(infectee=infectee).values("infector_id")
    return list(Case.objects.restrict(user).filter(match, status__in=INFECTED).exclude(pk=infectee.pk)
                .exclude(pk__in=linked).select_related("resident__household__compound", "resident__household__building",
                                                       "resident__household__unit")
                .order_by("resident__name", "id")[:PICKER_LIMIT])


def suggested_links(user, case: Case) -> list[Contact]:
    """Close contacts of visible cases who are this person: offered as "infected by" once the person is
    suspected or confirmed (a human records the link)."""
    if case.status not in INFECTED:
        return []
    linked = InfectionLink.objects.filter(infectee=case).values("infector_id")
    visible = Case.objects.restrict(user).values("pk")
    return list(Contact.objects.filter(resident_id=case.resident_id, is_close=True, match_state__in=MATCHED_STATES)
                .exclude(investigation__case=case).exclude(investigation__case__in=linked)
                .filter(investigation__case__in=visible).select_related("investigation__case__resident")[:10])


# --- Rows follow a person who moves -------------------------------------------------------------

def follow_moved_residents(resident_ids: Sequence[int]) -> None:
    """The index case's person moved: the tracing rows of their investigations take the new area code
    (set-based; runs after the cases app's hook has moved the case)."""
    with connection.cursor() as cursor:
        for part, marks in id_chunks(resident_ids):
            cursor.execute(
                "UPDATE tracing_investigation AS t SET area_code = r.area_code FROM cases_case AS c, people_resident AS r "
                f"WHERE c.id = t.case_id AND r.id = c.resident_id AND t.area_code <> r.area_code AND r.id IN ({marks})", part)
            for table in ("tracing_contact", "tracing_disinfectiontask"):
                cursor.execute(
                    f"UPDATE {table} AS t SET area_code = i.area_code FROM tracing_investigation AS i, cases_case AS c "
                    f"WHERE i.id = t.investigation_id AND c.id = i.case_id AND t.area_code <> i.area_code "
                    f"AND c.resident_id IN ({marks})", part)
            cursor.execute(
                "UPDATE tracing_contactedge AS t SET area_code = r.area_code FROM people_resident AS r "
                f"WHERE r.id = t.source_resident_id AND t.area_code <> r.area_code AND r.id IN ({marks})", part)
            cursor.execute(
                "UPDATE tracing_infectionlink AS t SET area_code = r.area_code FROM cases_case AS c, people_resident AS r "
                f"WHERE c.id = t.infectee_id AND r.id = c.resident_id AND t.area_code <> r.area_code AND r.id IN ({marks})", part)
