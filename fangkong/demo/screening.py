"""A few days of screening history for the demo city's first street, written in bulk (COPY on PostgreSQL).

Most households are reached every day (by door, phone, WeChat, now and then on a neighbour's
word), a few are vacant, some were nobody-home or missed on a day, and today is about half done,
so the demo grid worker has a day list to work through. Fevers, symptoms and travel histories
are rare and each opens a follow-up item (older ones already taken up or dismissed). One campaign,
a three-day dragnet over the first district, ends today.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fangkong.areas.models import Area, Household, Level
from fangkong.core.bulk import copy_rows, is_postgres, next_ids, reset_sequence
from fangkong.people.models import Resident
from fangkong.policy.services import current_policy
from fangkong.screening.models import Campaign, Flag, FollowUp, PersonCheck, Symptom, Visit
from fangkong.screening.readings import ambient_range

VISIT_FIELDS = ("id", "client_id", "household_id", "area_code", "date", "visited_at", "method", "outcome", "flags",
                "persons_present", "note", "recorded_by_id", "created_at")
CHECK_FIELDS = ("id", "visit_id", "resident_id", "area_code", "date", "present", "temperature", "symptoms",
                "travel_14d", "contact_14d", "flags", "temperature_method", "outdoors", "ambient_c", "reading_unreliable")
FOLLOW_UP_FIELDS = ("resident_id", "visit_id", "person_check_id", "reason", "reasons", "area_code", "status", "created_at",
                    "handled_by_id", "handled_at", "note")
METHODS = (("door", 55), ("phone", 25), ("online", 15), ("neighbour", 5))
TODAY_DONE = 0.45
DAILY_MISSED = 0.06
NOBODY_HOME = 0.05
VACANT = 0.02
AWAY = 0.06
OUTDOOR_EVERY = 97


@dataclass
class HistorySummary:
    street: str = ""
    days: int = 0
    visits: int = 0
    checks: int = 0
    follow_ups: int = 0


def _db_time(moment: dt.datetime):
    """COPY takes aware times; SQLite stores naive UTC, as Django writes it."""
    return moment if is_postgres() else timezone.make_naive(moment, dt.UTC)


def _db_uuid(value: uuid.UUID):
    return value if is_postgres() else value.hex


def _moment(rng: random.Random, day: dt.date, now: dt.datetime) -> dt.datetime | None:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(8, 0)))
    end = min(timezone.make_aware(dt.datetime.combine(day, dt.time(18, 0))), now)
    if end <= start:
        return None
    return start + dt.timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _reading(rng: random.Random, present: bool, threshold: Decimal) -> tuple[Decimal | None, int, bool, bool]:
    if not present:
        return None, 0, rng.random() < 0.01, False
    fever = rng.random() < 0.0015
    if fever:
        temperature = threshold + Decimal(rng.randint(1, 13)) / 10
    else:
        temperature = Decimal(str(round(min(37.1, max(35.8, rng.gauss(36.5, 0.25))), 1)))
    symptoms = 0
    if rng.random() < (0.5 if fever else 0.003):
        symptoms = rng.choice((Symptom.DRY_COUGH, Symptom.FATIGUE, Symptom.SORE_THROAT, Symptom.DRY_COUGH | Symptom.FEVER))
    return temperature, symptoms, rng.random() < 0.001, rng.random() < 0.0005


def build_screening_history(days: int = 7, seed: int = 2020, now: dt.datetime | None = None) -> HistorySummary:
    """Screening of the city's first street over the `days` days ending today."""
    summary = HistorySummary(days=days)
    street = Area.objects.filter(level=Level.STREET).order_by("code").first()
    if street is None or days < 1:
        return summary
    summary.street = street.name
    now = now or timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(f"{seed}:screening")
    policy = current_policy()
    threshold = Decimal(str(policy.fever_threshold_c))
    households = list(Household.objects.filter(area_code__startswith=street.code).order_by("id")
                      .values_list("id", "area_code"))
    people: dict[int, list[int]] = defaultdict(list)
    for pk, household_id in Resident.objects.filter(area_code__startswith=street.code).order_by("id").values_list(
            "id", "household_id"):
        people[household_id].append(pk)
    vacant = {pk for pk, _code in households if rng.random() < VACANT}

    with transaction.atomic():  # ids are reserved under a table lock, inside the writing transaction
        visit_ids = iter(next_ids(Visit, len(households) * days * 2))
        check_ids = iter(next_ids(PersonCheck, sum(len(v) for v in people.values()) * days))
        limits = (threshold, *ambient_range(policy))
        visits, checks, flagged = _plan(rng, households, people, vacant, days, today, now, limits, visit_ids, check_ids)
        summary.visits = copy_rows(Visit, VISIT_FIELDS, visits)
        summary.checks = copy_rows(PersonCheck, CHECK_FIELDS, checks)
        summary.follow_ups = copy_rows(FollowUp, FOLLOW_UP_FIELDS, _follow_ups(rng, flagged, now))
        for model in (Visit, PersonCheck, FollowUp):
            reset_sequence(model)
        _campaign(today)
    return summary


def _plan(rng, households, people, vacant, days, today, now, limits, visit_ids, check_ids):
    """The rows of every visit and person check, and the flags that open follow-up items."""
    threshold, ambient_low, ambient_high = limits  # the policy's fever threshold and forehead ambient range
    methods, weights = zip(*METHODS, strict=True)
    visits: list[tuple] = []
    checks: list[tuple] = []
    flagged: list[tuple] = []  # (resident, visit id, check id, flags, area code, time, days ago)
    created = _db_time(now)
    for back in range(days - 1, -1, -1):
        day = today - dt.timedelta(days=back)
        for household_id, code in households:
            if rng.random() < (1 - TODAY_DONE if back == 0 else DAILY_MISSED):
                continue
            moment = _moment(rng, day, now)
            outcome = "vacant" if household_id in vacant else "reached"
            method = "door" if outcome == "vacant" else rng.choices(methods, weights)[0]
            if moment is None:  # before the workers' day: only the households' own reports so far
                if outcome == "vacant" or rng.random() < 0.7:
                    continue
                midnight = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
                moment = midnight + (now - midnight) * rng.random()
                method = "online"
            if outcome == "reached" and rng.random() < NOBODY_HOME:
                visits.append((next(visit_ids), _db_uuid(uuid.UUID(int=rng.getrandbits(128), version=4)), household_id,
                               code, day, _db_time(moment), "door", "nobody_home", 0, 0, "", None, created))
                later = moment + dt.timedelta(hours=1)
                if later > now:
                    continue
                moment, method = later, "phone"
            visit_id = next(visit_ids)
            flags, present_count = 0, 0
            for resident_id in people.get(household_id, []) if outcome == "reached" else []:
                present = rng.random() >= AWAY
                temperature, symptoms, travel, contact = _reading(rng, present, threshold)
                if method == "neighbour":
                    temperature = None
                check_flags = ((Flag.FEVER if temperature is not None and temperature >= threshold else 0)
                               | (Flag.SYMPTOMS if symptoms else 0) | (Flag.CONTACT if travel or contact else 0))
                check_id = next(check_ids)
                # At the door a forehead thermometer; by phone or online the household's own (armpit) one.
                reading = "" if temperature is None else ("forehead" if method == "door" else "armpit")
                # Now and then a door-step reading outdoors in the winter cold: kept, marked unreliable. (From the
                # check id, not the generator, so the rest of the demo stays as it was.)
                outdoors = reading == "forehead" and check_id % OUTDOOR_EVERY == 0
                ambient = Decimal(2 + check_id % 9) if outdoors else None
                unreliable = outdoors and not ambient_low <= ambient <= ambient_high
                checks.append((check_id, visit_id, resident_id, code, day, present, temperature, symptoms, travel, contact,
                               check_flags, reading, outdoors, ambient, unreliable))
                if check_flags:
                    flagged.append((resident_id, visit_id, check_id, check_flags, code, moment, back))
                flags |= check_flags
                present_count += present
            visits.append((visit_id, _db_uuid(uuid.UUID(int=rng.getrandbits(128), version=4)), household_id, code, day,
                           _db_time(moment), method, outcome, flags, present_count, "", None, created))
    return visits, checks, flagged


def _follow_ups(rng: random.Random, flagged: list[tuple], now: dt.datetime) -> list[tuple]:
    """One item per flagged person with all reasons, one open at a time (later flags join it);
    items older than a day were mostly handled."""
    rows: list[list] = []
    open_now: dict[int, list] = {}
    for resident_id, visit_id, check_id, flags, code, moment, back in flagged:
        row = open_now.get(resident_id)
        if row is not None:  # as the service does: a new reason joins the open item, which points at its check
            if flags & ~row[4]:
                row[1], row[2], row[4] = visit_id, check_id, row[4] | flags
                row[3] = Flag.primary(row[4])
            continue
        status = "open" if back <= 1 or rng.random() < 0.2 else rng.choice(("taken", "taken", "dismissed"))
        handled = _db_time(min(moment + dt.timedelta(hours=3), now)) if status != "open" else None
        note = "复测体温正常" if status == "dismissed" else ""
        row = [resident_id, visit_id, check_id, Flag.primary(flags), flags, code, status, _db_time(moment), None,
               handled, note]
        if status == "open":
            open_now[resident_id] = row
        rows.append(row)
    return [tuple(row) for row in rows]


def _campaign(today: dt.date) -> None:
    district = Area.objects.filter(level=Level.DISTRICT).order_by("code").first()
    if district is None or Campaign.objects.filter(area=district).exists():
        return
    Campaign(name=f"{district.name}三天拉网式排查", area=district, start_date=today - dt.timedelta(days=2),
             end_date=today, note="不落一户、不漏一人").save()
