"""Day partitions for the big daily tables on PostgreSQL (declarative partitioning, PARTITION BY RANGE).

A city of ten million writes about ten million visits, person checks and health reports a day. On
PostgreSQL each such table is partitioned by its local calendar day: one partition per day
(`<table>_pYYYYMMDD`) plus a default partition (`<table>_default`) that catches rows of a day with no
partition yet. Today's lists and counts filter on the day, so the planner reads one partition; the
retention purge drops a whole day with `DROP TABLE` instead of deleting ten million rows.

The apps that own such tables register them in `AppConfig.ready()` (`register`): the table, its day
column, the policy field that says how long its rows are kept, and optional hooks the purge runs
first (keep aggregates, clean up rows that point at the day). A new daily table (the gate events of a
later issue) converts itself in a migration with `convert_to_partitioned` and registers the same way.

Rules PostgreSQL imposes, and how Fangkong meets them (docs/partitions.md):
- the primary key and every unique constraint include the day column: the primary key becomes
  (id, day) in the database (Django still treats `id` as the key: the sequence keeps it unique), and
  a client-id constraint becomes (client_id, day);
- a foreign key into a partitioned table needs the day in the referenced key: Fangkong keeps no
  database foreign key into these tables (the Django field stays, with `db_constraint=False`).

SQLite (the embedded default) keeps plain tables: every function here is a no-op there but for the
row deletes of `purge_table`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

# How far back `convert_to_partitioned` gives existing rows a day partition each; older rows go to the
# default partition (the purge removes them from there).
CONVERT_DAYS_BACK = 400
_DAY_SUFFIX = re.compile(r"_p(\d{8})$")

# A purge hook: (cutoff day, dry run) -> counts to report. It runs before the table's days are removed.
PurgeHook = Callable[[dt.date, bool], dict[str, int]]


class PurgeRefused(Exception):
    """A purge hook found rows that must not go yet (the message says which and what to do)."""


@dataclass(frozen=True)
class PartitionedTable:
    table: str  # the database table
    day_column: str  # a DateField: the local calendar day of the row
    retention: str  # the policy field giving the days the rows are kept
    before_purge: PurgeHook | None = None


# In registration order; the purge removes tables in this order, so an app registers a table that
# points at another (person checks at visits) before the table it points at.
REGISTRY: dict[str, PartitionedTable] = {}


def register(entry: PartitionedTable) -> None:
    REGISTRY[entry.table] = entry


def partition_name(table: str, day: dt.date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _qn(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def is_partitioned(connection: BaseDatabaseWrapper, table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def day_partitions(connection: BaseDatabaseWrapper, table: str) -> dict[dt.date, str]:
    """The day partitions of `table` that exist, by day (the default partition is not among them)."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = to_regclass(%s)", [table])
        names = [row[0] for row in cursor.fetchall()]
    days = {}
    for name in names:
        match = _DAY_SUFFIX.search(name)
        if match:
            days[dt.datetime.strptime(match.group(1), "%Y%m%d").date()] = name
    return days


def _check_deferred_now(cursor) -> None:
    """Run the deferred foreign key checks of the transaction now: PostgreSQL refuses to drop or attach
    a table with pending trigger events (rows written earlier in the same transaction, as in tests).
    Django declares every foreign key DEFERRABLE INITIALLY DEFERRED, so deferring them again after the
    DDL restores the transaction's state."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _create_day(connection: BaseDatabaseWrapper, table: str, day_column: str, day: dt.date) -> str:
    """Create the partition of `day`; rows of that day already caught by the default partition move into it."""
    name, default = partition_name(table, day), default_name(table)
    q = lambda n: _qn(connection, n)  # noqa: E731
    bounds = [day, day + dt.timedelta(days=1)]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _check_deferred_now(cursor)
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {q(default)} WHERE {q(day_column)} >= %s AND {q(day_column)} < %s)",
                       bounds)
        (caught,) = cursor.fetchone()
        if not caught:
            cursor.execute(f"CREATE TABLE {q(name)} PARTITION OF {q(table)} FOR VALUES FROM (%s) TO (%s)", bounds)
            return name
        cursor.execute(f"CREATE TABLE {q(name)} (LIKE {q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(f"WITH moved AS (DELETE FROM {q(default)} WHERE {q(day_column)} >= %s AND {q(day_column)} < %s "
                       f"RETURNING *) INSERT INTO {q(name)} SELECT * FROM moved", bounds)
        cursor.execute(f"ALTER TABLE {q(table)} ATTACH PARTITION {q(name)} FOR VALUES FROM (%s) TO (%s)", bounds)
    return name


def ensure_table_partitions(connection: BaseDatabaseWrapper, table: str, day_column: str,
                            days: list[dt.date]) -> list[str]:
    """Create the missing partitions among `days` (idempotent); the names created."""
    if not is_partitioned(connection, table):
        return []
    existing = day_partitions(connection, table)
    created = []
    for day in sorted(set(days) - set(existing)):
        try:
            created.append(_create_day(connection, table, day_column, day))
        except DatabaseError:  # made at the same moment by another run (the job and a migration, say)
            if day not in day_partitions(connection, table):
                raise
    return created


def ensure_partitions(days_ahead: int = 7, today: dt.date | None = None, using: str = "default") -> list[str]:
    """Partitions for today and the next `days_ahead` days of every registered table (idempotent: run it
    daily; a day missed lands in the default partition and moves out when its partition is made)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    start = today or timezone.localdate()
    days = [start + dt.timedelta(days=n) for n in range(days_ahead + 1)]
    created: list[str] = []
    for entry in REGISTRY.values():
        created += ensure_table_partitions(connection, entry.table, entry.day_column, days)
    return created


def count_before(connection: BaseDatabaseWrapper, table: str, day_column: str, cutoff: dt.date) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {_qn(connection, table)} WHERE {_qn(connection, day_column)} < %s",
                       [cutoff])
        return int(cursor.fetchone()[0])


def purge_table(connection: BaseDatabaseWrapper, table: str, day_column: str, cutoff: dt.date,
                dry_run: bool = False) -> dict[str, int]:
    """Remove every row of a day before `cutoff`: whole day partitions are dropped (PostgreSQL), the rest
    (the default partition, or the plain table on SQLite) deleted. Returns rows and partitions removed
    (or that would be, with `dry_run`)."""
    rows = count_before(connection, table, day_column, cutoff)
    old = sorted((day, name) for day, name in day_partitions(connection, table).items() if day < cutoff)
    if not dry_run:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                _check_deferred_now(cursor)
            for _day, name in old:
                cursor.execute(f"DROP TABLE {_qn(connection, name)}")
            cursor.execute(f"DELETE FROM {_qn(connection, table)} WHERE {_qn(connection, day_column)} < %s", [cutoff])
    return {"rows": rows, "partitions": len(old)}


def _index_and_constraint_sql(cursor, table: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """The CREATE INDEX statements of the plain indexes of `table`, and its key and foreign key
    constraints as (name, type, definition)."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = to_regclass(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [table])
    indexes = [row[0] for row in cursor.fetchall()]
    cursor.execute("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u', 'f') ORDER BY contype, conname", [table])
    return indexes, list(cursor.fetchall())


def convert_to_partitioned(schema_editor, table: str, day_column: str, *, days_ahead: int = 7) -> None:
    """Turn the plain table `table` into one partitioned by day on `day_column`, keeping its rows, columns,
    defaults, checks, indexes (by their names) and foreign keys out of it. For migrations
    (`migrations.RunPython`); nothing happens on another database or on a table already partitioned.

    The primary key becomes (pk, day); every unique constraint must already include the day column and
    no foreign key may point at the table (drop them first: `db_constraint=False`)."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or is_partitioned(connection, table):
        return
    q = lambda n: _qn(connection, n)  # noqa: E731
    old = f"{table}__unpartitioned"
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint "
                       "WHERE confrelid = to_regclass(%s) AND contype = 'f'", [table])
        incoming = cursor.fetchall()
        if incoming:
            raise RuntimeError(f"{table}: drop the foreign keys pointing at it first: {incoming}")
        indexes, constraints = _index_and_constraint_sql(cursor, table)
        for name, kind, definition in constraints:
            if kind == "u" and day_column not in definition:
                raise RuntimeError(f"{table}: unique constraint {name} must include {day_column}")
        cursor.execute("SELECT a.attname, pg_get_serial_sequence(%s, a.attname) FROM pg_attribute a "
                       "WHERE a.attrelid = to_regclass(%s) AND a.attidentity <> ''", [table, table])
        identity = cursor.fetchall()
        cursor.execute(f"ALTER TABLE {q(table)} RENAME TO {q(old)}")
        # Free the names: indexes and the indexes of key constraints live in the schema's name space.
        for name, _kind, _definition in constraints:
            cursor.execute(f"ALTER TABLE {q(old)} DROP CONSTRAINT {q(name)}")
        cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = to_regclass(%s)", [old])
        for (index,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {index}")
        cursor.execute(f"CREATE TABLE {q(table)} (LIKE {q(old)} INCLUDING DEFAULTS INCLUDING IDENTITY "
                       f"INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE) PARTITION BY RANGE ({q(day_column)})")
        cursor.execute(f"CREATE TABLE {q(default_name(table))} PARTITION OF {q(table)} DEFAULT")
        cursor.execute(f"SELECT DISTINCT {q(day_column)} FROM {q(old)} WHERE {q(day_column)} >= %s",
                       [timezone.localdate() - dt.timedelta(days=CONVERT_DAYS_BACK)])
        days = [row[0] for row in cursor.fetchall()]
        today = timezone.localdate()
        days += [today + dt.timedelta(days=n) for n in range(days_ahead + 1)]
        for day in sorted(set(days)):
            cursor.execute(f"CREATE TABLE {q(partition_name(table, day))} PARTITION OF {q(table)} "
                           f"FOR VALUES FROM (%s) TO (%s)", [day, day + dt.timedelta(days=1)])
        cursor.execute(f"INSERT INTO {q(table)} SELECT * FROM {q(old)}")
        for column, _sequence in identity:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({q(column)}), 0) + 1, false) "
                           f"FROM {q(table)}", [table, column])
        cursor.execute(f"DROP TABLE {q(old)}")
        for column, sequence in identity:  # the new identity's sequence takes the old one's name back
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            (current,) = cursor.fetchone()
            if sequence and current != sequence:
                cursor.execute(f"ALTER SEQUENCE {current} RENAME TO {q(sequence.split('.')[-1].strip(chr(34)))}")
        for name, kind, definition in constraints:
            if kind == "p":
                columns = definition[definition.index("(") + 1:definition.index(")")]
                definition = f"PRIMARY KEY ({columns}, {q(day_column)})"
            cursor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}")
        for statement in indexes:  # read before the rename, so they name `table`; built after the load
            cursor.execute(statement)


def convert_to_plain(schema_editor, table: str, day_column: str) -> None:
    """The reverse of `convert_to_partitioned` (for a migration run backwards): one plain table again,
    with the rows, and the primary key without the day column."""
    connection = schema_editor.connection
    if not is_partitioned(connection, table):
        return
    q = lambda n: _qn(connection, n)  # noqa: E731
    old = f"{table}__partitioned"
    with connection.cursor() as cursor:
        indexes, constraints = _index_and_constraint_sql(cursor, table)
        cursor.execute("SELECT a.attname, pg_get_serial_sequence(%s, a.attname) FROM pg_attribute a "
                       "WHERE a.attrelid = to_regclass(%s) AND a.attidentity <> ''", [table, table])
        identity = cursor.fetchall()
        cursor.execute(f"ALTER TABLE {q(table)} RENAME TO {q(old)}")
        for name, _kind, _definition in constraints:
            cursor.execute(f"ALTER TABLE {q(old)} DROP CONSTRAINT {q(name)}")
        cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = to_regclass(%s)", [old])
        for (index,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {index}")
        cursor.execute(f"CREATE TABLE {q(table)} (LIKE {q(old)} INCLUDING DEFAULTS INCLUDING IDENTITY "
                       f"INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE)")
        cursor.execute(f"INSERT INTO {q(table)} SELECT * FROM {q(old)}")
        for column, _sequence in identity:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({q(column)}), 0) + 1, false) "
                           f"FROM {q(table)}", [table, column])
        cursor.execute(f"DROP TABLE {q(old)} CASCADE")
        for column, sequence in identity:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            (current,) = cursor.fetchone()
            if sequence and current != sequence:
                cursor.execute(f"ALTER SEQUENCE {current} RENAME TO {q(sequence.split('.')[-1].strip(chr(34)))}")
        for name, kind, definition in constraints:
            if kind == "p":
                definition = definition.replace(f", {day_column})", ")").replace(f", {q(day_column)})", ")")
            cursor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}")
        for statement in indexes:
            cursor.execute(statement.replace(f" ON ONLY {table} ", f" ON {table} ")
                           .replace(f" ON ONLY public.{table} ", f" ON public.{table} "))
