"""The cross-check rules as set-based SQL: one INSERT ... SELECT per rule, grouped subqueries, never
a loop over households. The same SQL runs on PostgreSQL and SQLite.

Each rule inserts a to-do for every object it finds, except objects that have an open to-do of
that kind already (and, for power and lit windows, it only counts evidence dated after the last
time a to-do of that kind was closed on the object: a closed to-do is reopened only by newer
evidence). Returnee to-dos are never opened twice for the same arrival.

`prefix` restricts a run to an area subtree ('' for the whole city).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from fangkong.areas.models import Building, Household
from fangkong.core.bulk import is_postgres
from fangkong.crosscheck.models import Kind, LitCount, MeterReading, Returnee, Status, ToDo
from fangkong.people.models import Resident
from fangkong.screening.models import PersonCheck, Visit

TODO = f'"{ToDo._meta.db_table}"'
METER = f'"{MeterReading._meta.db_table}"'
LIT = f'"{LitCount._meta.db_table}"'
RETURNEE = f'"{Returnee._meta.db_table}"'
HOUSEHOLD = f'"{Household._meta.db_table}"'
BUILDING = f'"{Building._meta.db_table}"'
RESIDENT = f'"{Resident._meta.db_table}"'
CHECK = f'"{PersonCheck._meta.db_table}"'
VISIT = f'"{Visit._meta.db_table}"'
OPEN, CLOSED = Status.OPEN.value, Status.CLOSED.value

INSERT_COLUMNS = ("kind", "status", "outcome", "household_id", "building_id", "returnee_id", "resident_id", "area_code",
                  "value", "reference", "evidence_date", "created_at", "note")
LOCK_KEY = 4201_2020  # PostgreSQL advisory lock: one cross-check at a time


def _like(column: str, prefix: str) -> tuple[str, list[str]]:
    if not prefix:
        return "", []
    return f" AND {column} LIKE %s", [prefix + "%"]


def _insert(select: str, params: list) -> int:
    """INSERT the selected to-dos; a to-do opened concurrently by another run is skipped."""
    columns = ", ".join(f'"{c}"' for c in INSERT_COLUMNS)
    if is_postgres():
        sql = f"INSERT INTO {TODO} ({columns}) {select} ON CONFLICT DO NOTHING"
    else:
        sql = f"INSERT OR IGNORE INTO {TODO} ({columns}) {select}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def lock() -> None:
    """Serialise runs (PostgreSQL; SQLite serialises writing transactions itself). Call inside a transaction."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def open_powered(start: dt.date, end: dt.date, min_kwh: float, now: dt.datetime, prefix: str = "") -> int:
    """a. Households using at least `min_kwh` a day on average over the days with a reading in
    [start, end] (a missing day is unknown, not zero) with nobody registered."""
    kind = Kind.POWERED.value
    where, extra = _like("h.area_code", prefix)
    select = f"""
        SELECT %s, '{OPEN}', '', m.household_id, NULL, NULL, NULL, h.area_code, ROUND(AVG(m.kwh), 2), COUNT(*), MAX(m."date"),
               %s, ''
        FROM {METER} m
        JOIN {HOUSEHOLD} h ON h.id = m.household_id
        LEFT JOIN (SELECT household_id, MAX(closed_on) AS closed_on FROM {TODO}
                   WHERE kind = %s AND status = '{CLOSED}' AND household_id IS NOT NULL GROUP BY household_id) c
               ON c.household_id = m.household_id
        WHERE m."date" >= %s AND m."date" <= %s
          AND (c.closed_on IS NULL OR m."date" > c.closed_on)
          AND NOT EXISTS (SELECT 1 FROM {RESIDENT} r WHERE r.household_id = m.household_id)
          AND NOT EXISTS (SELECT 1 FROM {TODO} t WHERE t.kind = %s AND t.status = '{OPEN}' AND t.household_id = m.household_id)
          {where}
        GROUP BY m.household_id, h.area_code
        HAVING AVG(m.kwh) >= %s"""
    return _insert(select, [kind, now, kind, start, end, kind, *extra, float(min_kwh)])


def open_lit(start: dt.date, end: dt.date, now: dt.datetime, prefix: str = "") -> int:
    """b. Buildings with more lit windows on a night in [start, end] than households with a registered resident."""
    kind = Kind.LIT.value
    where, extra = _like("b.area_code", prefix)
    select = f"""
        SELECT %s, '{OPEN}', '', NULL, l.building_id, NULL, NULL, b.area_code, MAX(l.lit), COALESCE(o.n, 0), MAX(l."date"), %s, ''
        FROM {LIT} l
        JOIN {BUILDING} b ON b.id = l.building_id
        LEFT JOIN (SELECT h.building_id, COUNT(*) AS n FROM {HOUSEHOLD} h
                   WHERE h.building_id IN (SELECT building_id FROM {LIT} WHERE "date" >= %s AND "date" <= %s)
                     AND EXISTS (SELECT 1 FROM {RESIDENT} r WHERE r.household_id = h.id)
                   GROUP BY h.building_id) o ON o.building_id = l.building_id
        LEFT JOIN (SELECT building_id, MAX(closed_on) AS closed_on FROM {TODO}
                   WHERE kind = %s AND status = '{CLOSED}' AND building_id IS NOT NULL GROUP BY building_id) c
               ON c.building_id = l.building_id
        WHERE l."date" >= %s AND l."date" <= %s
          AND (c.closed_on IS NULL OR l."date" > c.closed_on)
          AND l.lit > COALESCE(o.n, 0)
          AND NOT EXISTS (SELECT 1 FROM {TODO} t WHERE t.kind = %s AND t.status = '{OPEN}' AND t.building_id = l.building_id)
          {where}
        GROUP BY l.building_id, b.area_code, o.n"""
    return _insert(select, [kind, now, start, end, kind, start, end, kind, *extra])


def open_returnees_unregistered(start: dt.date, end: dt.date, now: dt.datetime, prefix: str = "") -> int:
    """c. Returnees who arrived in [start, end] with no resident holding their document."""
    kind = Kind.RETURNEE_UNREGISTERED.value
    where, extra = _like("ret.area_code", prefix)
    select = f"""
        SELECT %s, '{OPEN}', '', ret.household_id, NULL, ret.id, NULL, ret.area_code, NULL, NULL, ret.arrival_date, %s, ''
        FROM {RETURNEE} ret
        WHERE ret.arrival_date >= %s AND ret.arrival_date <= %s
          AND NOT EXISTS (SELECT 1 FROM {RESIDENT} r WHERE r.doc_type = ret.doc_type AND r.doc_number = ret.doc_number)
          AND NOT EXISTS (SELECT 1 FROM {TODO} t WHERE t.kind = %s AND t.returnee_id = ret.id)
          {where}"""
    return _insert(select, [kind, now, start, end, kind, *extra])


def open_returnees_unscreened(start: dt.date, end: dt.date, now: dt.datetime, prefix: str = "") -> int:
    """d. Returnees on the roster who arrived in [start, end] and were not found present by a
    screening on or after the arrival day. Filed under the resident's own area (their grid)."""
    kind = Kind.RETURNEE_UNSCREENED.value
    where = " AND (ret.area_code LIKE %s OR r.area_code LIKE %s)" if prefix else ""
    extra = [prefix + "%", prefix + "%"] if prefix else []
    select = f"""
        SELECT %s, '{OPEN}', '', r.household_id, NULL, ret.id, r.id, r.area_code, NULL, NULL, ret.arrival_date, %s, ''
        FROM {RETURNEE} ret
        JOIN {RESIDENT} r ON r.doc_type = ret.doc_type AND r.doc_number = ret.doc_number
        WHERE ret.arrival_date >= %s AND ret.arrival_date <= %s
          AND NOT EXISTS (SELECT 1 FROM {CHECK} pc
                          WHERE pc.resident_id = r.id AND pc.present = %s AND pc."date" >= ret.arrival_date)
          AND NOT EXISTS (SELECT 1 FROM {TODO} t WHERE t.kind = %s AND t.returnee_id = ret.id)
          {where}"""
    return _insert(select, [kind, now, start, end, True, kind, *extra])


def resolved_returnees(prefix: str = "") -> list[tuple[int, str, str]]:
    """(to-do id, area code, outcome) of open returnee to-dos whose condition no longer holds: the
    returnee is on the roster now (registered), or was screened present since arrival (screened)."""
    where, extra = _like("t.area_code", prefix)
    sql = f"""
        SELECT t.id, t.area_code, 'registered' FROM {TODO} t JOIN {RETURNEE} ret ON ret.id = t.returnee_id
        WHERE t.kind = %s AND t.status = '{OPEN}'
          AND EXISTS (SELECT 1 FROM {RESIDENT} r WHERE r.doc_type = ret.doc_type AND r.doc_number = ret.doc_number)
          {where}
        UNION ALL
        SELECT t.id, t.area_code, 'screened' FROM {TODO} t JOIN {RETURNEE} ret ON ret.id = t.returnee_id
        WHERE t.kind = %s AND t.status = '{OPEN}'
          AND EXISTS (SELECT 1 FROM {CHECK} pc
                      WHERE pc.resident_id = t.resident_id AND pc.present = %s AND pc."date" >= ret.arrival_date)
          {where}"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [Kind.RETURNEE_UNREGISTERED.value, *extra, Kind.RETURNEE_UNSCREENED.value, True, *extra])
        return [(row[0], row[1], row[2]) for row in cursor.fetchall()]


def close(ids: list[int], outcome: str, now: dt.datetime, today: dt.date) -> int:
    if not ids:
        return 0
    closed = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 900):
            part = ids[start:start + 900]
            cursor.execute(
                f"UPDATE {TODO} SET status = '{CLOSED}', outcome = %s, closed_at = %s, closed_on = %s "
                f"WHERE status = '{OPEN}' AND id IN ({', '.join(['%s'] * len(part))})",
                [outcome, now, today, *part],
            )
            closed += max(cursor.rowcount, 0)
    return closed


def clear_vacancies(prefix: str = "") -> int:
    """Households marked vacant where someone has been registered since, or a visit reached people."""
    where, extra = _like("area_code", prefix)
    sql = f"""
        UPDATE {HOUSEHOLD} SET vacant_since = NULL
        WHERE vacant_since IS NOT NULL {where}
          AND (EXISTS (SELECT 1 FROM {RESIDENT} r WHERE r.household_id = {HOUSEHOLD}.id)
               OR EXISTS (SELECT 1 FROM {VISIT} v WHERE v.household_id = {HOUSEHOLD}.id AND v.outcome = 'reached'
                          AND v.persons_present > 0 AND v."date" >= {HOUSEHOLD}.vacant_since))"""
    with connection.cursor() as cursor:
        cursor.execute(sql, extra)
        return max(cursor.rowcount, 0)


def refresh_area_codes() -> int:
    """Open to-dos follow their object when it moves (e.g. a new building is assigned to a grid)."""
    updated = 0
    statements = [
        (f"(SELECT h.area_code FROM {HOUSEHOLD} h WHERE h.id = {TODO}.household_id)",
         f"kind IN ('{Kind.POWERED.value}', '{Kind.RETURNEE_UNREGISTERED.value}') AND household_id IS NOT NULL"),
        (f"(SELECT b.area_code FROM {BUILDING} b WHERE b.id = {TODO}.building_id)",
         f"kind = '{Kind.LIT.value}' AND building_id IS NOT NULL"),
        (f"(SELECT r.area_code FROM {RESIDENT} r WHERE r.id = {TODO}.resident_id)",
         f"kind = '{Kind.RETURNEE_UNSCREENED.value}' AND resident_id IS NOT NULL"),
    ]
    with connection.cursor() as cursor:
        for current, condition in statements:
            cursor.execute(f"UPDATE {TODO} SET area_code = {current} "
                           f"WHERE status = '{OPEN}' AND {condition} AND area_code <> {current}")
            updated += max(cursor.rowcount, 0)
    return updated
