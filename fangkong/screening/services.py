"""Domain operations of the screening, shared by the pages, the API, the self-report link and the demo.

Recording a visit is one transaction: every person row is validated first (temperature against the
policy's valid range, symptoms, new occupants with the roster's own validation), and a single bad
row means nothing is saved. The visit's client id makes it idempotent: the second submission
returns the first visit. Flags (fever at or over the policy's threshold, symptoms, travel or
contact history) open a follow-up item with every reason, at most one open item per person.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.areas.models import Area, Household
from fangkong.areas.services import set_vacancy
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.people.models import Resident
from fangkong.people.services import create_resident
from fangkong.people.validation import clean_resident
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy
from fangkong.screening.models import (
    Campaign,
    Flag,
    FollowUp,
    FollowUpStatus,
    HouseholdLink,
    Method,
    Outcome,
    PersonCheck,
    Reason,
    Symptom,
    Visit,
)
from fangkong.screening.readings import TemperatureMethod, clean_how_taken

# A phone that was offline may upload a visit late, but not from long ago, and not from the future.
MAX_BACKDATE = dt.timedelta(days=7)
CLOCK_SKEW = dt.timedelta(minutes=10)
MAX_PERSONS = 30
MAX_CAMPAIGN_DAYS = 92
NOTE_LENGTH = 200
NEW_RESIDENT_FIELDS = ("name", "doc_type", "doc_number", "sex", "birth_date", "phone", "relation", "note")


# ---------------------------------------------------------------- who may do what

def local_today() -> dt.date:
    return timezone.localdate()


# ---------------------------------------------------------------- input

@dataclass
class PersonInput:
    """One person row: a resident of the household (`resident_id`) or someone not yet on the roster
    (`new_resident`: the roster fields, checked like any roster entry)."""

    resident_id: int | None = None
    new_resident: dict[str, Any] | None = None
    present: bool = True
    temperature: Any = None  # °C as text or number; required for someone present (except by neighbours' word)
    temperature_method: str = TemperatureMethod.FOREHEAD  # forehead, ear or armpit
    outdoors: bool = False  # a forehead reading outdoors needs the ambient temperature
    ambient_c: Any = None  # °C, outdoors only
    symptoms: list[str] | tuple[str, ...] = ()
    travel_14d: bool = False
    contact_14d: bool = False


@dataclass
class VisitInput:
    client_id: uuid.UUID | str
    method: str
    outcome: str
    persons: list[PersonInput] = field(default_factory=list)
    note: str = ""
    visited_at: dt.datetime | None = None


@dataclass
class _Row:
    resident_id: int | None
    new_values: dict[str, Any] | None
    present: bool
    temperature: Decimal | None
    symptoms: int
    travel_14d: bool
    contact_14d: bool
    flags: int = 0
    temperature_method: str = ""
    outdoors: bool = False
    ambient_c: Decimal | None = None
    unreliable: bool = False


@dataclass(frozen=True)
class RecordResult:
    visit: Visit
    created: bool  # False when the client id had been recorded before: the first visit is returned


class FollowUpClosed(ValueError):
    """The item was taken up or dismissed already."""


# ---------------------------------------------------------------- validation

def parse_temperature(value: Any) -> Decimal:
    """'37.25', '37,3', '３７.３' or a number → Decimal with one decimal place (half up); ValueError if not a number."""
    text = str(value).strip().replace(",", ".").translate(str.maketrans("０１２３４５６７８９．", "0123456789."))
    text = text.removesuffix("°C").removesuffix("℃").strip()
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not number.is_finite() or abs(number) >= 1000:
        raise ValueError(text)
    return number.quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")


def _symptom_mask(values: Any) -> int:
    if isinstance(values, int) and not isinstance(values, bool):
        if not 0 <= values <= sum(Symptom.LABELS):
            raise ValueError(str(values))
        return values
    mask = 0
    for value in values or ():
        bit = Symptom.CODES.get(str(value).strip().lower())
        if bit is None:
            raise ValueError(str(value))
        mask |= bit
    return mask


def flags_for(row: _Row, policy: Policy) -> int:
    flags = 0
    if row.temperature is not None and row.temperature >= Decimal(str(policy.fever_threshold_c)):
        flags |= Flag.FEVER
    if row.symptoms:
        flags |= Flag.SYMPTOMS
    if row.travel_14d or row.contact_14d:
        flags |= Flag.CONTACT
    return flags


def _clean_person(i: int, person: PersonInput, method: str, roster: set[int], policy: Policy,
                  errors: dict[str, str], allow_new: bool) -> _Row | None:
    key = f"persons.{i}"
    new_values = None
    if person.resident_id is not None and person.new_resident is not None:
        errors[key] = _("Give either a resident of the household or a new occupant, not both.")
        return None
    if person.resident_id is None and person.new_resident is None:
        errors[f"{key}.resident_id"] = _("Choose a resident of this household.")
        return None
    if person.resident_id is not None and person.resident_id not in roster:
        errors[f"{key}.resident_id"] = _("This person is not a resident of this household.")
    if person.new_resident is not None:
        if not allow_new:
            errors[key] = _("New occupants are added by the grid worker.")
        else:
            try:
                new_values = clean_resident(person.new_resident)
            except FieldErrors as exc:
                errors.update({f"{key}.new_resident.{name}": message for name, message in exc.errors.items()})

    temperature = None
    raw_temperature = person.temperature
    if isinstance(raw_temperature, str):
        raw_temperature = raw_temperature.strip() or None
    if raw_temperature is not None and not person.present:
        errors[f"{key}.temperature"] = _("Leave the temperature empty for someone who is away.")
    elif raw_temperature is not None:
        try:
            temperature = parse_temperature(raw_temperature)
        except ValueError:
            errors[f"{key}.temperature"] = _("Not a temperature: write it like 36.5.")
        else:
            low, high = Decimal(str(policy.temperature_min_c)), Decimal(str(policy.temperature_max_c))
            if not low <= temperature <= high:
                errors[f"{key}.temperature"] = _(
                    "%(value)s °C is outside the valid range %(low)s–%(high)s °C: measure again."
                ) % {"value": str(raw_temperature).strip(), "low": low, "high": high}
    elif person.present and method != Method.NEIGHBOUR:
        errors[f"{key}.temperature"] = _("Enter the temperature of everyone present.")

    try:
        symptoms = _symptom_mask(person.symptoms)
    except ValueError as exc:
        errors[f"{key}.symptoms"] = _("Unknown symptom: %(value)s.") % {"value": str(exc)}
        symptoms = 0
    if symptoms and not person.present:
        errors[f"{key}.symptoms"] = _("Symptoms are recorded for people who are present.")
    row = _Row(person.resident_id, new_values, bool(person.present), temperature, symptoms,
               bool(person.travel_14d), bool(person.contact_14d))
    if temperature is not None:
        _clean_method(key, person, row, policy, errors)
    row.flags = flags_for(row, policy)
    return row


def _clean_method(key: str, person: PersonInput, row: _Row, policy: Policy, errors: dict[str, str]) -> None:
    """How the reading was taken; a forehead reading outdoors needs the ambient temperature, and
    outside the device's range it is kept but marked unreliable (a re-take is asked for)."""
    how, problems = clean_how_taken(person.temperature_method, person.outdoors, person.ambient_c, policy)
    errors.update({f"{key}.{name}": message for name, message in problems.items()})
    if how is not None:
        row.temperature_method, row.outdoors, row.ambient_c, row.unreliable = (
            how.method, how.outdoors, how.ambient_c, how.unreliable)


def _check_documents(rows: list[_Row], errors: dict[str, str]) -> None:
    """New occupants' documents: unique among the rows and not on the roster already."""
    seen: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows):
        if row.new_values is None:
            continue
        key = (row.new_values["doc_type"], row.new_values["doc_number"])
        if key in seen or Resident.objects.filter(doc_type=key[0], doc_number=key[1]).exists():
            errors[f"persons.{i}.new_resident.doc_number"] = _("Another resident already has this document number.")
        seen[key] = i


def clean_visit(household: Household, data: VisitInput, *, policy: Policy | None = None,
                allow_new: bool = True, now: dt.datetime | None = None) -> tuple[dt.datetime, list[_Row]]:
    """Check a whole visit; raises FieldErrors keyed `method`, `persons.2.temperature`, ... ."""
    policy = policy or current_policy()
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if data.method not in Method.values:
        errors["method"] = _("Choose how the household was screened.")
    if data.outcome not in Outcome.values:
        errors["outcome"] = _("Choose the outcome of the visit.")
    if len(data.note or "") > NOTE_LENGTH:
        errors["note"] = _("Longer than %(n)d characters.") % {"n": NOTE_LENGTH}
    visited_at = data.visited_at or now
    if timezone.is_naive(visited_at):
        visited_at = timezone.make_aware(visited_at)
    if visited_at > now + CLOCK_SKEW:
        errors["visited_at"] = _("The visit time is in the future.")
    elif visited_at < now - MAX_BACKDATE:
        errors["visited_at"] = _("Visits older than %(days)d days cannot be recorded.") % {"days": MAX_BACKDATE.days}

    persons = list(data.persons or [])
    rows: list[_Row] = []
    if data.outcome in Outcome.values and data.outcome != Outcome.REACHED and persons:
        errors["persons"] = _("Only a household that was reached has people to record.")
    elif data.outcome == Outcome.REACHED and not persons:
        errors["persons"] = _("Record at least one person of the household.")
    elif len(persons) > MAX_PERSONS:
        errors["persons"] = _("At most %(n)d people per visit.") % {"n": MAX_PERSONS}
    else:
        roster = set(Resident.objects.filter(household=household).values_list("id", flat=True))
        seen: set[int] = set()
        for i, person in enumerate(persons):
            row = _clean_person(i, person, data.method, roster, policy, errors, allow_new)
            if row is None:
                continue
            if row.resident_id is not None:
                if row.resident_id in seen:
                    errors[f"persons.{i}.resident_id"] = _("This person is recorded twice.")
                seen.add(row.resident_id)
            rows.append(row)
        if len(rows) == len(persons):
            _check_documents(rows, errors)
    if errors:
        raise FieldErrors(errors)
    return visited_at, rows


# ---------------------------------------------------------------- recording

def _replay(existing: Visit, household: Household) -> RecordResult:
    if existing.household_id != household.pk:
        raise FieldErrors({"client_id": _("This client id was already used for another household.")})
    return RecordResult(existing, created=False)


def _open_follow_ups(visit: Visit, checks: list[PersonCheck]) -> int:
    """One open item per flagged person with every reason of the check; a person with an open item
    already has the new reasons added to it (a fever yesterday and a cough today: one item)."""
    flagged = {c.resident_id: c for c in checks if c.flags}
    if not flagged:
        return 0
    open_items = {item.resident_id: item for item in FollowUp.objects.filter(resident_id__in=list(flagged),
                                                                            status=FollowUpStatus.OPEN)}
    items = [
        FollowUp(resident_id=c.resident_id, visit=visit, person_check=c, reason=Flag.primary(c.flags), reasons=c.flags,
                 area_code=visit.area_code, created_at=visit.visited_at)
        for resident_id, c in flagged.items() if resident_id not in open_items
    ]
    # A concurrent visit may open the same item first: the partial unique constraint keeps one.
    FollowUp.objects.bulk_create(items, ignore_conflicts=True)
    # An item that gains a reason points at the check that raised it (the latest readings are the
    # evidence when it is taken up); it keeps the time it was first flagged.
    grown = []
    for resident_id, item in open_items.items():
        check = flagged[resident_id]
        mask = item.reasons | check.flags
        if mask != item.reasons:
            item.reasons, item.reason, item.visit, item.person_check = mask, Flag.primary(mask), visit, check
            grown.append(item)
    FollowUp.objects.bulk_update(grown, ["reasons", "reason", "visit", "person_check"])
    return len(items)


def _save(user, household: Household, data: VisitInput, client_id: uuid.UUID, visited_at: dt.datetime,
          rows: list[_Row]) -> Visit:
    for i, row in enumerate(rows):
        if row.new_values is None:
            continue
        try:
            resident = create_resident(user, household, row.new_values, is_new_occupant=True)  # audit-logged
        except FieldErrors as exc:
            raise FieldErrors({f"persons.{i}.new_resident.{k}": v for k, v in exc.errors.items()}) from exc
        row.resident_id = resident.pk
    visit = Visit.objects.create(
        client_id=client_id, household=household, area_code=household.area_code,
        date=timezone.localdate(visited_at), visited_at=visited_at, method=data.method, outcome=data.outcome,
        flags=_union(row.flags for row in rows), persons_present=sum(1 for row in rows if row.present),
        note=(data.note or "").strip(), recorded_by=user if getattr(user, "pk", None) else None,
    )
    checks = PersonCheck.objects.bulk_create([
        PersonCheck(visit=visit, resident_id=row.resident_id, area_code=visit.area_code, date=visit.date,
                    present=row.present, temperature=row.temperature, temperature_method=row.temperature_method,
                    outdoors=row.outdoors, ambient_c=row.ambient_c, reading_unreliable=row.unreliable,
                    symptoms=row.symptoms, travel_14d=row.travel_14d, contact_14d=row.contact_14d, flags=row.flags)
        for row in rows
    ])
    if not all(c.pk for c in checks):  # backends that do not return ids from bulk inserts
        checks = list(visit.checks.all())
    _open_follow_ups(visit, checks)
    if visit.persons_present:
        set_vacancy(user, household, None)  # people found living in a household marked vacant
    return visit


def _union(values) -> int:
    mask = 0
    for value in values:
        mask |= value
    return mask


def _client_id(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise FieldErrors({"client_id": _("Not a valid client id (a UUID).")}) from exc


def _record(user, household: Household, data: VisitInput, *, allow_new: bool) -> RecordResult:
    client_id = _client_id(data.client_id)
    existing = Visit.objects.filter(client_id=client_id).first()
    if existing is not None:
        return _replay(existing, household)
    visited_at, rows = clean_visit(household, data, allow_new=allow_new)
    if any(row.new_values is not None for row in rows) and not permissions.can_edit_residents(user):
        raise PermissionDenied
    try:
        with transaction.atomic():
            visit = _save(user, household, data, client_id, visited_at, rows)
    except IntegrityError:
        existing = Visit.objects.filter(client_id=client_id).first()
        if existing is None:
            raise
        return _replay(existing, household)  # the same visit, sent twice at the same moment
    return RecordResult(visit, created=True)


def record_visit(user, household: Household, data: VisitInput) -> RecordResult:
    """A worker's visit to a household in their scope (callers look the household up with
    `get_visible_or_404`, so out-of-scope households answer 404 before they get here)."""
    if not permissions.can_record(user) or not Household.objects.restrict(user).filter(pk=household.pk).exists():
        raise PermissionDenied
    return _record(user, household, data, allow_new=True)


def record_self_report(link: HouseholdLink, data: VisitInput) -> RecordResult:
    """The household reports for itself through its link: an online screening, reached."""
    data.method, data.outcome, data.visited_at = Method.ONLINE, Outcome.REACHED, None
    return _record(None, link.household, data, allow_new=False)


def unreliable_checks(visit: Visit) -> list[PersonCheck]:
    """The visit's forehead readings taken outdoors outside the device's ambient range: kept, to be taken again."""
    return list(visit.checks.filter(reading_unreliable=True).select_related("resident").order_by("id"))


# ---------------------------------------------------------------- the follow-up queue

def _handle(user, item: FollowUp, status: str, note: str) -> FollowUp:
    if not permissions.can_handle_follow_ups(user) or not FollowUp.objects.restrict(user).filter(pk=item.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=item.pk)
        if locked.status != FollowUpStatus.OPEN:
            raise FollowUpClosed(_("This item was handled already."))
        before = locked.status
        locked.status, locked.handled_by, locked.handled_at = status, user, timezone.now()
        locked.note = (note or "").strip()[:NOTE_LENGTH]
        locked.save(update_fields=["status", "handled_by", "handled_at", "note"])
        if status == FollowUpStatus.DISMISSED:
            record(user, Action.UPDATE, locked, object_repr=f"{'、'.join(locked.reason_labels)}: {locked.resident.name}",
                   changes={"status": [before, status], "_note": locked.note})
    return locked


# The categories (四类人员) an item may be taken up into, by its reason; the first is the default.
TAKE_UP_CATEGORIES = {
    Reason.FEVER.value: ("fever", "suspected"),
    Reason.SYMPTOMS.value: ("fever", "suspected"),
    Reason.CONTACT.value: ("close_contact", "suspected"),
}


def take_up_categories(item: FollowUp) -> list[str]:
    """The categories of all the item's reasons, those of its most pressing reason first."""
    categories: list[str] = []
    for reason in item.reason_codes:
        categories += [c for c in TAKE_UP_CATEGORIES[reason] if c not in categories]
    return categories


def take_follow_up(user, item: FollowUp, note: str = "", category: str = "") -> FollowUp:
    """Take an item up into a category of the four-categories pipeline: the person's case is opened
    (or moved along its state machine) in the same transaction as the item is closed, so neither
    happens without the other. An illegal move (a confirmed patient back to fever) is refused."""
    from fangkong.cases.services import open_case_from_flag

    allowed = take_up_categories(item)
    category = category or allowed[0]
    if category not in allowed:
        raise FieldErrors({"category": _("This item cannot be taken up into that category.")})
    with transaction.atomic():
        taken = _handle(user, item, FollowUpStatus.TAKEN, note)
        check = item.person_check
        evidence = f"{check.temperature} °C" if check.temperature is not None else ""
        reason = f"{'、'.join(item.reason_labels)}（{item.visit.date:%Y-%m-%d}）" + (f" {taken.note}" if taken.note else "")
        open_case_from_flag(user, item.resident, reason[:200], status=category, flagged_at=item.created_at,
                            source_ref=f"screening-follow-up:{item.pk}", evidence=evidence)
    return taken


def dismiss_follow_up(user, item: FollowUp, note: str) -> FollowUp:
    """Dismiss an item with a reason (e.g. a misreading, measured again at 36.6 °C); audit-logged."""
    if not (note or "").strip():
        raise FieldErrors({"note": _("Give the reason for dismissing this item.")})
    return _handle(user, item, FollowUpStatus.DISMISSED, note)


# ---------------------------------------------------------------- self-report links

def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def link_for(user, household: Household) -> HouseholdLink:
    """The household's self-report link, made on first use."""
    if not permissions.can_record(user) or not Household.objects.restrict(user).filter(pk=household.pk).exists():
        raise PermissionDenied
    link = HouseholdLink.objects.filter(household=household).first()
    if link is None:
        try:
            with transaction.atomic():
                link = HouseholdLink.objects.create(household=household, token=new_token(), area_code=household.area_code)
        except IntegrityError:
            link = HouseholdLink.objects.get(household=household)
    return link


def renew_link(user, household: Household) -> HouseholdLink:
    """A new token (the old link and its printed QR code stop working), e.g. after a household moves out."""
    link = link_for(user, household)
    link.token = new_token()
    link.save(update_fields=["token"])
    record(user, Action.UPDATE, household, object_type="screening.householdlink", object_id=str(link.pk),
           object_repr=household.address, changes={"token": ["…", "…"]})
    return link


def link_by_token(token: str) -> HouseholdLink | None:
    if not token or len(token) > 64:
        return None
    return HouseholdLink.objects.select_related("household__unit", "household__building", "household__compound").filter(
        token=token).first()


# ---------------------------------------------------------------- campaigns

def create_campaign(user, area: Area, name: str, start_date: dt.date, end_date: dt.date, note: str = "") -> Campaign:
    if not permissions.can_manage_campaigns(user) or not Area.objects.restrict(user).filter(pk=area.pk).exists():
        raise PermissionDenied
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("The name is required.")
    elif len(name) > 100:
        errors["name"] = _("Longer than %(n)d characters.") % {"n": 100}
    if end_date < start_date:
        errors["end_date"] = _("The last day is before the first day.")
    elif (end_date - start_date).days + 1 > MAX_CAMPAIGN_DAYS:
        errors["end_date"] = _("A campaign lasts at most %(n)d days.") % {"n": MAX_CAMPAIGN_DAYS}
    if len(note or "") > NOTE_LENGTH:
        errors["note"] = _("Longer than %(n)d characters.") % {"n": NOTE_LENGTH}
    if errors:
        raise FieldErrors(errors)
    campaign = Campaign(name=name, area=area, start_date=start_date, end_date=end_date, note=(note or "").strip(),
                        created_by=user)
    campaign.save()
    return campaign
