"""A visit as the phone or the form sends it, and how it is checked before anything is saved.

Every person row is validated (temperature against the policy's valid range, symptoms, new occupants
with the roster's own validation) and every error is collected, keyed by where it lies
(`persons.2.temperature`), so a single bad row means nothing is saved (screening.visits records).
The flags of a row (fever at or over the policy's threshold, symptoms, travel or contact history) are
worked out here too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.areas.models import Household
from fangkong.core.errors import FieldErrors
from fangkong.people.models import Resident
from fangkong.people.validation import clean_resident
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy
from fangkong.screening.models import Flag, Method, Outcome, Symptom
from fangkong.screening.readings import TemperatureMethod, clean_how_taken

# A phone that was offline may upload a visit late, but not from long ago, and not from the future.
MAX_BACKDATE = dt.timedelta(days=7)
CLOCK_SKEW = dt.timedelta(minutes=10)
MAX_PERSONS = 30
NOTE_LENGTH = 200  # a visit's, a follow-up item's and a campaign's note
# The choices' values, once (Django's `Choices.values` builds a new list on every read).
METHODS = frozenset(Method.values)
OUTCOMES = frozenset(Outcome.values)


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
class PersonRow:
    """A person row once checked: the values to store, and the new occupant's roster fields."""

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


def flags_for(row: PersonRow, policy: Policy) -> int:
    flags = 0
    if row.temperature is not None and row.temperature >= Decimal(str(policy.fever_threshold_c)):
        flags |= Flag.FEVER
    if row.symptoms:
        flags |= Flag.SYMPTOMS
    if row.travel_14d or row.contact_14d:
        flags |= Flag.CONTACT
    return flags


def _clean_person(i: int, person: PersonInput, method: str, roster: set[int], policy: Policy,
                  errors: dict[str, str], allow_new: bool) -> PersonRow | None:
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
    row = PersonRow(person.resident_id, new_values, bool(person.present), temperature, symptoms,
               bool(person.travel_14d), bool(person.contact_14d))
    if temperature is not None:
        _clean_method(key, person, row, policy, errors)
    row.flags = flags_for(row, policy)
    return row


def _clean_method(key: str, person: PersonInput, row: PersonRow, policy: Policy, errors: dict[str, str]) -> None:
    """How the reading was taken; a forehead reading outdoors needs the ambient temperature, and
    outside the device's range it is kept but marked unreliable (a re-take is asked for)."""
    how, problems = clean_how_taken(person.temperature_method, person.outdoors, person.ambient_c, policy)
    errors.update({f"{key}.{name}": message for name, message in problems.items()})
    if how is not None:
        row.temperature_method, row.outdoors, row.ambient_c, row.unreliable = (
            how.method, how.outdoors, how.ambient_c, how.unreliable)


def _check_documents(rows: list[PersonRow], errors: dict[str, str]) -> None:
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
                allow_new: bool = True, now: dt.datetime | None = None,
                roster: set[int] | None = None) -> tuple[dt.datetime, list[PersonRow]]:
    """Check a whole visit; raises FieldErrors keyed `method`, `persons.2.temperature`, ... .
    `roster` (the household's resident ids) may be given by a caller that read many households' at once."""
    policy = policy or current_policy()
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if data.method not in METHODS:
        errors["method"] = _("Choose how the household was screened.")
    if data.outcome not in OUTCOMES:
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
    rows: list[PersonRow] = []
    if data.outcome in OUTCOMES and data.outcome != Outcome.REACHED and persons:
        errors["persons"] = _("Only a household that was reached has people to record.")
    elif data.outcome == Outcome.REACHED and not persons:
        errors["persons"] = _("Record at least one person of the household.")
    elif len(persons) > MAX_PERSONS:
        errors["persons"] = _("At most %(n)d people per visit.") % {"n": MAX_PERSONS}
    else:
        if roster is None:
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

