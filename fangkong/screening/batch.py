"""A phone's queue of visits, recorded at once when it is back online (the batch endpoint, fangkong.batch).

Each visit is checked exactly as one sent alone (the scope of `access_household`, the client id's
idempotency, screening.validation with the policy), but set-based: the households, their rosters and
the client ids already recorded are read in one query each for the whole queue, the policy once, and
the good visits are written with one INSERT … ON CONFLICT DO NOTHING (the client id's unique key), their
person checks with one COPY and the follow-up items with one or two statements. A visit that fails its checks is an error of
its own and writes nothing; the others are saved all the same. A visit that adds a new occupant to
the roster goes through the single path (screening.visits), in its own transaction.

Should the set-based write fail as a whole (a resident moved out between the check and the write),
every remaining visit is recorded one by one, each in its own transaction, so that the good ones are
never lost with the bad.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.areas.services import set_vacancy
from fangkong.core import permissions
from fangkong.core.bulk import copy_rows, is_postgres
from fangkong.core.errors import FieldErrors
from fangkong.people.models import Resident
from fangkong.policy.services import current_policy
from fangkong.screening.models import PersonCheck, Visit
from fangkong.screening.validation import PersonRow, VisitInput, clean_visit
from fangkong.screening.visits import CHECK_FIELDS, check_values, new_visit, open_follow_ups, record_visit

CREATED, DUPLICATE, ERROR = "created", "duplicate", "error"


@dataclass
class Outcome:
    """What became of one visit of the queue: created, a duplicate of one recorded before (`visit_id`
    is the first one's), or an error with its messages by field (`persons.0.temperature`)."""

    status: str = ""
    visit_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def error(self, errors: dict[str, str]) -> None:
        self.status, self.errors = ERROR, {key: str(message) for key, message in errors.items()}


@dataclass
class _Pending:
    index: int
    household: Household
    data: VisitInput
    client_id: uuid.UUID
    visited_at: dt.datetime | None = None
    rows: list[PersonRow] = field(default_factory=list)


def _client_id(value: uuid.UUID | str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def record_visits(user: User, queue: list[tuple[object, VisitInput]]) -> list[Outcome]:
    """Record a queue of (household id, visit) pairs; one outcome per pair, in order. 403 for a user who
    may not screen at all (as every single visit would be); everything else is the pair's own outcome."""
    if not permissions.can_record(user):
        raise PermissionDenied
    outcomes = [Outcome() for _pair in queue]
    ids: dict[int, int] = {}
    for i, (household_id, _data) in enumerate(queue):
        if isinstance(household_id, int) and not isinstance(household_id, bool) and household_id > 0:
            ids[i] = household_id
    # The scope of access_household, for every household of the queue at once: missing and not yours alike.
    households = {h.pk: h for h in Household.objects.restrict(user).filter(pk__in=set(ids.values()))}
    pending: list[_Pending] = []
    first_of: dict[uuid.UUID, int] = {}  # a client id sent twice in one queue: the second is a duplicate
    again: list[tuple[int, int]] = []
    for i, (_household_id, data) in enumerate(queue):
        household = households.get(ids.get(i, 0))
        if household is None:
            outcomes[i].error({"household_id": _("No such household in your area.")})
            continue
        client_id = _client_id(data.client_id)
        if client_id is None:
            outcomes[i].error({"client_id": _("Not a valid client id (a UUID).")})
            continue
        if client_id in first_of:
            again.append((i, first_of[client_id]))
            continue
        first_of[client_id] = i
        pending.append(_Pending(i, household, data, client_id))
    known = {cid: (pk, household_id) for cid, pk, household_id in Visit.objects.filter(
        client_id__in=[p.client_id for p in pending]).values_list("client_id", "id", "household_id")}
    pending = [p for p in pending if not _replayed(p, known.get(p.client_id), outcomes[p.index])]
    _check(pending, outcomes)
    fast = [p for p in pending if not outcomes[p.index].status and not any(r.new_values for r in p.rows)]
    one_by_one = [p for p in pending if not outcomes[p.index].status and any(r.new_values for r in p.rows)]
    if not connection.features.can_return_rows_from_bulk_insert:  # an SQLite older than 3.35
        one_by_one, fast = sorted(one_by_one + fast, key=lambda p: p.index), []
    try:
        with transaction.atomic():
            _insert(user, fast, outcomes)
    except (IntegrityError, DatabaseError):
        for p in fast:
            outcomes[p.index] = Outcome()
        one_by_one = sorted(one_by_one + fast, key=lambda p: p.index)
    for p in one_by_one:
        _record_one(user, p, outcomes[p.index])
    for i, first in again:
        _repeat(outcomes[first], outcomes[i], same_household=ids.get(i) == ids.get(first))
    return outcomes


def _replayed(p: _Pending, known: tuple[int, int] | None, outcome: Outcome) -> bool:
    """A client id recorded before: the same visit again (a duplicate), or one used for another household."""
    if known is None:
        return False
    pk, household_id = known
    if household_id != p.household.pk:
        outcome.error({"client_id": _("This client id was already used for another household.")})
    else:
        outcome.status, outcome.visit_id = DUPLICATE, pk
    return True


def _repeat(first: Outcome, outcome: Outcome, *, same_household: bool) -> None:
    if first.status in (CREATED, DUPLICATE) and same_household:
        outcome.status, outcome.visit_id = DUPLICATE, first.visit_id
    elif first.status in (CREATED, DUPLICATE):
        outcome.error({"client_id": _("This client id was already used for another household.")})
    else:
        outcome.status, outcome.errors = first.status, dict(first.errors)


def _check(pending: list[_Pending], outcomes: list[Outcome]) -> None:
    """screening.validation for every visit, with the policy read once and the rosters in one query."""
    policy = current_policy()
    now = timezone.now()
    rosters: dict[int, set[int]] = {}
    for household_id, resident_id in Resident.objects.filter(
            household_id__in={p.household.pk for p in pending}).values_list("household_id", "id"):
        rosters.setdefault(household_id, set()).add(resident_id)
    for p in pending:
        try:
            p.visited_at, p.rows = clean_visit(p.household, p.data, policy=policy, now=now,
                                               roster=rosters.get(p.household.pk, set()))
        except FieldErrors as exc:
            outcomes[p.index].error(exc.errors)


def _insert(user: User, fast: list[_Pending], outcomes: list[Outcome]) -> None:
    """The checked visits in one INSERT … ON CONFLICT DO NOTHING RETURNING: a visit that another
    request recorded meanwhile (the same queue sent twice at once) is not inserted, and is a duplicate;
    then the person checks of those inserted (COPY on PostgreSQL), their follow-up items and vacancy marks."""
    if not fast:
        return
    now = timezone.now()
    visits = [new_visit(user, p.household, p.data, p.client_id, p.visited_at or now, p.rows) for p in fast]
    for visit in visits:
        visit.created_at = now
    inserted = _insert_visits(visits)
    saved: list[tuple[_Pending, Visit]] = []
    raced = []
    for p, visit in zip(fast, visits, strict=True):
        pk = inserted.get(p.client_id)
        if pk is None:
            raced.append(p)
            continue
        visit.pk = pk
        visit._state.adding = False
        outcomes[p.index].status, outcomes[p.index].visit_id = CREATED, pk
        saved.append((p, visit))
    copy_rows(PersonCheck, ("visit_id", "area_code", "date", *CHECK_FIELDS), (
        (visit.pk, visit.area_code, visit.date, *check_values(row, row.resident_id))  # type: ignore[arg-type]
        for p, visit in saved for row in p.rows))
    flagged = {visit.pk: visit for _p, visit in saved if visit.flags}
    checks: dict[int, list[PersonCheck]] = {}
    for pk, visit_id, resident_id, flags in PersonCheck.objects.filter(
            visit_id__in=list(flagged), flags__gt=0).values_list("id", "visit_id", "resident_id", "flags"):
        checks.setdefault(visit_id, []).append(
            PersonCheck(pk=pk, visit=flagged[visit_id], resident_id=resident_id, flags=flags))
    open_follow_ups((visit, checks.get(visit.pk, [])) for _p, visit in saved if visit.pk in flagged)
    present = {visit.household_id for _p, visit in saved if visit.persons_present}
    for household in Household.objects.filter(pk__in=present, vacant_since__isnull=False):
        set_vacancy(user, household, None)  # people found living in a household marked vacant
    if raced:
        known = {cid: (pk, household_id) for cid, pk, household_id in Visit.objects.filter(
            client_id__in=[p.client_id for p in raced]).values_list("client_id", "id", "household_id")}
        for p in raced:
            _replayed(p, known.get(p.client_id), outcomes[p.index])


VISIT_COLUMNS = ("client_id", "household_id", "area_code", "date", "visited_at", "method", "outcome", "flags",
                 "persons_present", "note", "recorded_by_id", "created_at")
VISIT_TYPES = ("uuid", "bigint", "text", "date", "timestamptz", "text", "text", "integer", "integer", "text",
               "bigint", "timestamptz")


def _insert_visits(visits: list[Visit]) -> dict[uuid.UUID, int]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, client_id: the ids of the visits inserted, by client
    id (those missing were recorded meanwhile). PostgreSQL takes the rows as one array per column
    (unnest); other databases get Django's own multi-row INSERT (SQLite: INSERT OR IGNORE … RETURNING)."""
    inserted: dict[uuid.UUID, int] = {}
    with connection.cursor() as cursor:
        if is_postgres():
            columns = [list(column) for column in zip(*(
                [getattr(visit, name) for name in VISIT_COLUMNS] for visit in visits), strict=True)]
            arrays = ", ".join(f"%s::{kind}[]" for kind in VISIT_TYPES)
            cursor.execute(f'INSERT INTO "{Visit._meta.db_table}" ({", ".join(VISIT_COLUMNS)}) '
                           f"SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING RETURNING id, client_id", columns)
            return {client_id: pk for pk, client_id in cursor.fetchall()}
        fields = [f for f in Visit._meta.concrete_fields if f is not Visit._meta.pk]
        size = max(1, connection.ops.bulk_batch_size(fields, visits))
        for start in range(0, len(visits), size):
            query = InsertQuery(Visit, on_conflict=OnConflict.IGNORE)
            query.insert_values(fields, list[Model](visits[start:start + size]))
            compiler = query.get_compiler(connection=connection)
            compiler.returning_fields = [Visit._meta.pk, Visit._meta.get_field("client_id")]
            for sql, params in compiler.as_sql():
                cursor.execute(sql, params)
                for pk, client_id in cursor.fetchall():
                    inserted[_client_id(client_id) or client_id] = pk
    return inserted


def _record_one(user: User, p: _Pending, outcome: Outcome) -> None:
    """The single path, in a transaction of its own: new occupants, and the fallback."""
    try:
        with transaction.atomic():
            result = record_visit(user, p.household, p.data)
    except FieldErrors as exc:
        outcome.error(exc.errors)
    except PermissionDenied:
        outcome.error({"persons": _("You may not add people to the roster: ask the community to do it.")})
    except (IntegrityError, DatabaseError):
        outcome.error({"household_id": _("This visit could not be saved: send it again.")})
    else:
        outcome.status, outcome.visit_id = (CREATED if result.created else DUPLICATE), result.visit.pk
