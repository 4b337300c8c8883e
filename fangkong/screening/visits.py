"""Recording a visit, shared by the pages, the API, the self-report link and the demo.

Recording is one transaction: the visit is checked whole first (screening.validation), and a single
bad row means nothing is saved. The visit's client id makes it idempotent: the second submission
returns the first visit. Flags open a follow-up item with every reason, at most one open item per
person (screening.followups handles them).

The household comes from `screening.access.access_household` (the role rule and the scope, checked
once): recording trusts it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.areas.services import set_vacancy
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, actor
from fangkong.people.services import create_resident
from fangkong.screening.models import (
    Flag,
    FollowUp,
    FollowUpStatus,
    HouseholdLink,
    Method,
    Outcome,
    PersonCheck,
    Visit,
)
from fangkong.screening.validation import PersonRow, VisitInput, clean_visit


def local_today() -> dt.date:
    """Today in Shanghai: the day a visit counts for."""
    return timezone.localdate()


@dataclass(frozen=True)
class RecordResult:
    visit: Visit
    created: bool  # False when the client id had been recorded before: the first visit is returned


def _replay(existing: Visit, household: Household) -> RecordResult:
    if existing.household_id != household.pk:
        raise FieldErrors({"client_id": _("This client id was already used for another household.")})
    return RecordResult(existing, created=False)


def open_follow_ups(saved: Iterable[tuple[Visit, list[PersonCheck]]]) -> int:
    """One open item per flagged person with every reason of the check; a person with an open item
    already has the new reasons added to it (a fever yesterday and a cough today: one item). Takes the
    visits just saved in the order they were recorded (one, or a phone's whole queue): two queries
    and two writes whatever their number."""
    flagged = [(visit, check) for visit, checks in saved for check in checks if check.flags]
    if not flagged:
        return 0
    open_items = {item.resident_id: item for item in FollowUp.objects.filter(
        resident_id__in={check.resident_id for _visit, check in flagged}, status=FollowUpStatus.OPEN)}
    new: dict[int, FollowUp] = {}
    grown: dict[int, FollowUp] = {}
    for visit, check in flagged:
        item = open_items.get(check.resident_id) or new.get(check.resident_id)
        if item is None:
            new[check.resident_id] = FollowUp(
                resident_id=check.resident_id, visit=visit, person_check=check, reason=Flag.primary(check.flags),
                reasons=check.flags, area_code=visit.area_code, created_at=visit.visited_at)
            continue
        # An item that gains a reason points at the check that raised it (the latest readings are the
        # evidence when it is taken up); it keeps the time it was first flagged.
        mask = item.reasons | check.flags
        if mask != item.reasons:
            item.reasons, item.reason, item.visit, item.person_check = mask, Flag.primary(mask), visit, check
            if check.resident_id in open_items:
                grown[check.resident_id] = item
    # A concurrent visit may open the same item first: the partial unique constraint keeps one.
    FollowUp.objects.bulk_create(new.values(), ignore_conflicts=True)
    if grown:
        FollowUp.objects.bulk_update(grown.values(), ["reasons", "reason", "visit", "person_check"])
    return len(new)


def new_visit(user: User | None, household: Household, data: VisitInput, client_id: uuid.UUID,
              visited_at: dt.datetime, rows: list[PersonRow]) -> Visit:
    """The visit row of a checked visit, not yet saved (one at a time here, many at once by screening.batch)."""
    return Visit(
        client_id=client_id, household=household, area_code=household.area_code,
        date=timezone.localdate(visited_at), visited_at=visited_at, method=data.method, outcome=data.outcome,
        flags=_union(row.flags for row in rows), persons_present=sum(1 for row in rows if row.present),
        note=(data.note or "").strip(), recorded_by=actor(user),
    )


# A person check's own values, in this order (its visit, area code and date are the visit's).
CHECK_FIELDS = ("resident_id", "present", "temperature", "temperature_method", "outdoors", "ambient_c",
                "reading_unreliable", "symptoms", "travel_14d", "contact_14d", "flags")


def check_values(row: PersonRow, resident_id: int) -> tuple:
    """The values of CHECK_FIELDS for a checked person row (screening.batch writes them as they are)."""
    return (resident_id, row.present, row.temperature, row.temperature_method, row.outdoors, row.ambient_c,
            row.unreliable, row.symptoms, row.travel_14d, row.contact_14d, row.flags)


def new_checks(visit: Visit, rows: list[PersonRow], resident_ids: list[int]) -> list[PersonCheck]:
    """The person checks of a saved visit, not yet saved."""
    return [PersonCheck(visit=visit, area_code=visit.area_code, date=visit.date,
                        **dict(zip(CHECK_FIELDS, check_values(row, resident_id), strict=True)))
            for row, resident_id in zip(rows, resident_ids, strict=True)]


def _save(user: User | None, household: Household, data: VisitInput, client_id: uuid.UUID,
          visited_at: dt.datetime, rows: list[PersonRow]) -> Visit:
    resident_ids: list[int] = []
    for i, row in enumerate(rows):
        if row.new_values is not None:
            try:
                resident = create_resident(user, household, row.new_values, is_new_occupant=True)  # audit-logged
            except FieldErrors as exc:
                raise FieldErrors({f"persons.{i}.new_resident.{k}": v for k, v in exc.errors.items()}) from exc
            row.resident_id = resident.pk
        assert row.resident_id is not None  # clean_visit: every row is a resident or a new occupant
        resident_ids.append(row.resident_id)
    visit = new_visit(user, household, data, client_id, visited_at, rows)
    visit.save(force_insert=True)
    checks = PersonCheck.objects.bulk_create(new_checks(visit, rows, resident_ids))
    if not all(c.pk for c in checks):  # backends that do not return ids from bulk inserts
        checks = list(visit.checks.all())
    open_follow_ups([(visit, checks)])
    visit.saved_checks = checks  # what the answer shows: no need to read them back
    # People found living in a household marked vacant. The mark as read with the household (by
    # access_household, in this request): no second read of it for the many households not marked.
    if visit.persons_present and household.vacant_since is not None:
        set_vacancy(user, household, None)
    return visit


def _union(values: Iterable[int]) -> int:
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


def _record(user: User | None, household: Household, data: VisitInput, *, allow_new: bool) -> RecordResult:
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


def record_visit(user: User, household: Household, data: VisitInput) -> RecordResult:
    """A worker's visit to a household, as handed over by `access_household` (who may screen it was
    checked there: an out-of-scope household answered 404 before it got here)."""
    return _record(user, household, data, allow_new=True)


def record_self_report(link: HouseholdLink, data: VisitInput) -> RecordResult:
    """The household reports for itself through its link: an online screening, reached."""
    data.method, data.outcome, data.visited_at = Method.ONLINE, Outcome.REACHED, None
    return _record(None, link.household, data, allow_new=False)


def unreliable_checks(visit: Visit) -> list[PersonCheck]:
    """The visit's forehead readings taken outdoors outside the device's ambient range: kept, to be taken again."""
    return list(visit.checks.filter(reading_unreliable=True).select_related("resident").order_by("id"))

