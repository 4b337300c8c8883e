"""Bulk writes for city-scale paths: PostgreSQL COPY, or executemany on SQLite.

`copy_rows` streams tuples straight into a table, bypassing the ORM's per-object work. Callers
give values already in database form (dates as date objects, FKs as ids). Use it inside the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
