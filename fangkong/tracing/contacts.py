"""Contacts of an investigation: recording a reported contact (classified close or not by the policy's
rule, matched to the registry: matching.py), the human steps of the match queue, and queueing a matched
close contact: the close-contact category (placement backlog → isolation site) and observation, once.

The investigation or contact comes from an access function (tracing.access), which has checked the
role and the scope; the operations here trust it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.cases import services as cases
from fangkong.cases.models import Source, Status
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, actor, clean_text
from fangkong.core.identity import IdentityError, normalize_document, normalize_phone
from fangkong.core.scope import scope_of
from fangkong.people.models import DocumentType, Resident
from fangkong.people.services import create_resident
from fangkong.policy.services import current_policy
from fangkong.tracing import matching
from fangkong.tracing.links import start_observation
from fangkong.tracing.models import (
    Contact,
    ContactEdge,
    ContactKind,
    Investigation,
    MatchState,
    Protection,
)
from fangkong.tracing.rule import EARLIEST, is_close


def clean_contact(raw: dict[str, Any], *, today: dt.date) -> dict[str, Any]:
    """Normalise a reported contact; errors per field in the user's language."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    out["kind"] = raw.get("kind") or ""
    if out["kind"] not in ContactKind.values:
        errors["kind"] = _("Choose the kind of contact.")
    out["name"] = clean_text(raw.get("name"), "name", limit=50, required=True, errors=errors)
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
    out["address"] = clean_text(raw.get("address"), "address", limit=200, errors=errors)
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


def record_contact(user: User, investigation: Investigation, raw: dict[str, Any], *, client_id: str | None = None,
                   today: dt.date | None = None) -> tuple[Contact, bool]:
    """Record a reported contact, classify it and match it. Submitting the same `client_id` again
    (a phone retrying) returns the first contact unchanged; returns (contact, created)."""
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
                investigation=investigation, client_id=client_id, recorded_by=actor(user), recorded_at=now,
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


def _auto_match(user: User, contact: Contact, now: dt.datetime) -> None:
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


def _matched(user: User, contact: Contact, resident: Resident, state: str, now: dt.datetime) -> None:
    contact.resident, contact.match_state = resident, state
    contact.save(update_fields=["resident", "match_state"])
    investigation = contact.investigation
    ContactEdge.objects.update_or_create(contact=contact, defaults={
        "source_resident_id": investigation.case.resident_id, "target_resident": resident, "investigation": investigation,
        "last_exposure_on": contact.last_exposure_on, "is_close": contact.is_close, "area_code": contact.area_code})
    record(user, Action.UPDATE, contact, object_type="tracing.contact", object_repr=contact.name,
           changes={"match_state": state, "resident": resident.pk})
    queue_contact(user, contact, now)


def queue_contact(user: User, contact: Contact, now: dt.datetime) -> None:
    """Take a matched close contact into the close-contact category (the placement backlog routes
    them to an isolation site) and start centralised observation: once (queued_at). A person who is
    already suspected or confirmed is not made a close contact (the state machine refuses it; the
    reason is kept on the contact). Rights are the acting user's: a person outside their scope (matched
    by someone else, reclassified by this user's dates) is left to the commander above, with a note."""
    if not contact.is_close or contact.queued_at is not None:
        return
    resident = contact.resident
    if resident is None:  # not matched yet
        return
    if not (permissions.can_open_cases(user) and scope_of(user).covers_area_code(resident.area_code)):
        contact.queue_note = _("Outside your area: the commander takes this person up.")
        contact.save(update_fields=["queue_note"])
        return
    reason = _("Close contact of %(name)s (contact tracing)") % {"name": contact.investigation.case.resident.name}
    ref = f"contact:{contact.pk}"
    try:
        case = cases.open_case(user, resident, Status.CLOSE_CONTACT, reason, source=Source.TRACING, source_ref=ref, now=now)
    except cases.TransitionRefused as exc:
        contact.queue_note = str(exc)[:200]
        case = None
    if case is not None and case.status == Status.CLOSE_CONTACT:
        try:
            with transaction.atomic():
                start_observation(user, resident, last_exposure_on=contact.last_exposure_on, reason=reason,
                                  source_ref=ref)
        except FieldErrors as exc:  # e.g. the observation period after this exposure is over already
            contact.queue_note = "; ".join(str(m) for m in exc.errors.values())[:200]
    contact.queued_at = now
    contact.save(update_fields=["queued_at", "queue_note"])


def _locked(contact: Contact) -> Contact:
    return Contact.objects.select_for_update().select_related("investigation__case__resident").get(pk=contact.pk)


def confirm_match(user: User, contact: Contact, resident: Resident) -> Contact:
    """A human confirms that the contact is this resident (a candidate of the fuzzy match, or anyone
    in scope they found: the caller reached the resident in the user's scope). Confirming the same
    resident again changes nothing."""
    with transaction.atomic():
        locked = _locked(contact)
        if locked.resident_id == resident.pk:
            return locked
        if locked.is_matched:
            raise FieldErrors({"resident": _("This contact is matched already.")})
        _matched(user, locked, resident, MatchState.CONFIRMED, timezone.now())
    return locked


def reject_candidates(user: User, contact: Contact) -> Contact:
    """None of the candidates is this contact: they are registered, or recorded as outside the registry."""
    with transaction.atomic():
        locked = _locked(contact)
        if locked.is_matched or locked.match_state == MatchState.REJECTED:
            return locked
        locked.match_state = MatchState.REJECTED
        locked.save(update_fields=["match_state"])
        record(user, Action.UPDATE, locked, object_type="tracing.contact", object_repr=locked.name,
               changes={"match_state": MatchState.REJECTED})
    return locked


def rematch(user: User, contact: Contact) -> Contact:
    """Match again with the acting user's scope: how a commander matches a contact living outside the
    area of the worker who recorded it."""
    with transaction.atomic():
        locked = _locked(contact)
        if not locked.is_matched:
            _auto_match(user, locked, timezone.now())
    return locked


def register_contact(user: User, contact: Contact, household: Household, *, sex: str = "", birth_date: dt.date | None = None) -> Contact:
    """Add an unmatched contact to the registry in a household the worker chooses (in their scope),
    then treat them as matched. A registry entry needs a document number: a contact reported without
    one is recorded as outside the registry instead (mark_outside_registry)."""
    if not contact.doc_number:
        raise FieldErrors({"household": _("A document number is needed to add the person to the registry.")})
    with transaction.atomic():
        locked = _locked(contact)
        if locked.is_matched:
            return locked
        resident = create_resident(user, household, {
            "name": locked.name, "doc_type": locked.doc_type, "doc_number": locked.doc_number, "phone": locked.phone,
            "relation": "other", "sex": sex, "birth_date": birth_date, "note": _("Added by contact tracing")},
            is_new_occupant=True)
        _matched(user, locked, resident, MatchState.CREATED, timezone.now())
    return locked


def mark_outside_registry(user: User, contact: Contact) -> Contact:
    """The contact lives outside the registry (another city, no fixed home): kept with the reported
    address and flagged, so the command centre passes them on to where they live."""
    with transaction.atomic():
        locked = _locked(contact)
        if locked.is_matched or locked.outside_registry:
            return locked
        locked.outside_registry = True
        locked.save(update_fields=["outside_registry"])
        record(user, Action.UPDATE, locked, object_type="tracing.contact", object_repr=locked.name,
               changes={"outside_registry": True})
    return locked
