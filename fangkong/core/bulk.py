"""Bulk writes for city-scale paths: PostgreSQL COPY, or executemany on SQLite.

`copy_rows` streams tuples straight into a table, bypassing the ORM's per-object work;
`upsert_rows` inserts or updates keyed rows through a staging table. Callers
give values already in database form (dates as date objects, FKs as ids). Use it inside the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def column_names(model: type[models.Model], fields: Sequence[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in fields]


def copy_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], batch_size: int = 5000) -> int:
    """Insert rows (tuples in the order of `fields`) into the model's table; returns the count."""
    table = model._meta.db_table
    columns = column_names(model, fields)
    count = 0
    with connection.cursor() as cursor:
        if is_postgres():
            quoted = ", ".join(f'"{c}"' for c in columns)
            with cursor.cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})'
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def reset_sequence(model: type[models.Model]) -> None:
    """After inserting explicit ids, move the id sequence past them (PostgreSQL only)."""
    if not is_postgres():
        return
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk}'), COALESCE((SELECT MAX(\"{pk}\") FROM \"{table}\"), 0) + 1, false)"
        )


def next_ids(model: type[models.Model], count: int) -> range:
    """Reserve `count` consecutive ids for rows inserted with explicit ids.

    On PostgreSQL the sequence is advanced atomically (setval inside the caller's transaction is
    not rolled back, so ids may be skipped but never reused). On SQLite the database is locked by
    the caller's write transaction, so MAX(id) is stable.
    """
    if count <= 0:
        return range(0)
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"LOCK TABLE \"{table}\" IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(f"SELECT COALESCE(MAX(\"{pk}\"), 0) FROM \"{table}\"")
            start = cursor.fetchone()[0] + 1
            cursor.execute(f"SELECT last_value, is_called FROM {_sequence_name(cursor, table, pk)}")
            last_value, is_called = cursor.fetchone()
            start = max(start, last_value + 1 if is_called else last_value)
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk}'), %s, true)", [start + count - 1])
            return range(start, start + count)
        cursor.execute(f'SELECT COALESCE(MAX("{pk}"), 0) FROM "{table}"')
        start = cursor.fetchone()[0] + 1
        return range(start, start + count)


def _sequence_name(cursor, table: str, pk: str) -> str:
    cursor.execute(f"SELECT pg_get_serial_sequence('\"{table}\"', '{pk}')")
    return cursor.fetchone()[0]


@dataclass(frozen=True)
class Upserted:
    created: int
    updated: int
    unchanged: int


def upsert_rows(model: type[models.Model], keys: Sequence[str], values: Sequence[str], rows: Iterable[Sequence[Any]],
                *, touch: Sequence[str] = (), created: Sequence[str] = (), now: Any = None) -> Upserted:
    """Insert or update rows keyed by a unique set of fields, set-based: the rows (tuples of
    `keys` then `values`) go into a temporary staging table (COPY on PostgreSQL), the keys that
    exist are marked there, then one UPDATE writes the changed values and one INSERT adds the new
    keys (it never reads the table it writes, so it stays linear). `touch` fields (timestamps) are
    set to `now` on inserted and on changed rows, `created` fields on inserted rows only. The keys
    must be unique among the rows. Use inside the caller's transaction."""
    table = model._meta.db_table
    key_columns = column_names(model, keys)
    value_columns = column_names(model, values)
    columns = [*key_columns, *value_columns]
    touched = column_names(model, touch)
    stamped = [*touched, *column_names(model, created)]
    stage = f"fk_stage_{table}"[:60]
    quoted = ", ".join(f'"{c}"' for c in columns)
    join = " AND ".join(f't."{c}" = s."{c}"' for c in key_columns)
    distinct = "IS DISTINCT FROM" if is_postgres() else "IS NOT"
    differs = " OR ".join(f't."{c}" {distinct} s."{c}"' for c in value_columns) or "1 = 0"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{stage}"')
        cursor.execute(f'CREATE TEMPORARY TABLE "{stage}" AS SELECT {quoted}, CAST(NULL AS INTEGER) AS fk_found '
                       f'FROM "{table}" WHERE 1 = 0')
        if is_postgres():
            with cursor.cursor.copy(f'COPY "{stage}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f'ANALYZE "{stage}"')
        else:
            sql = f'INSERT INTO "{stage}" ({quoted}) VALUES ({", ".join(["%s"] * len(columns))})'
            batch: list[Sequence[Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 5000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
        # NULL = a new key, 1 = the key exists, 2 = it exists with other values.
        cursor.execute(f'UPDATE "{stage}" AS s SET fk_found = 1 WHERE EXISTS (SELECT 1 FROM "{table}" t WHERE {join})')
        cursor.execute(f'UPDATE "{stage}" AS s SET fk_found = 2 WHERE fk_found = 1 '
                       f'AND EXISTS (SELECT 1 FROM "{table}" t WHERE {join} AND ({differs}))')
        cursor.execute(f'SELECT COUNT(*), COALESCE(SUM(CASE WHEN fk_found > 0 THEN 1 ELSE 0 END), 0), '
                       f'COALESCE(SUM(CASE WHEN fk_found = 2 THEN 1 ELSE 0 END), 0) FROM "{stage}"')
        total, existing, changed = cursor.fetchone()
        if changed:
            assignments = ", ".join([*(f'"{c}" = s."{c}"' for c in value_columns), *(f'"{c}" = %s' for c in touched)])
            cursor.execute(f'UPDATE "{table}" AS t SET {assignments} FROM "{stage}" s WHERE s.fk_found = 2 AND {join}',
                           [now] * len(touched))
        if total > existing:
            all_columns = ", ".join([quoted, *(f'"{c}"' for c in stamped)])
            selected = ", ".join([*(f's."{c}"' for c in columns), *(["%s"] * len(stamped))])
            cursor.execute(f'INSERT INTO "{table}" ({all_columns}) SELECT {selected} FROM "{stage}" s WHERE s.fk_found IS NULL',
                           [now] * len(stamped))
        cursor.execute(f'DROP TABLE "{stage}"')
    return Upserted(created=int(total) - int(existing), updated=int(changed), unchanged=int(existing) - int(changed))
