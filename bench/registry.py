"""Benchmark: the resident registry at city scale, on PostgreSQL.

1. Import a roster of N rows (default 1,000,000) through the real command-line path and report
   rows per second;
2. COPY the same CSV into a bare table of 17 text columns (the floor: what PostgreSQL alone does);
3. INSERT the imported residents into an empty copy of the resident table with all its indexes and
   its foreign key (the floor for this table: what PostgreSQL alone needs to index and check them);
4. COPY the imported households and residents into empty clones of their tables with the same indexes
   and foreign keys (the floor of the import: what PostgreSQL alone needs to fill the same indexed tables),
   printed as `ratio_vs_indexed_floor=` before the headline;
5. time the area page's counts (the subtree and each child, with special groups) of the largest
   district (by default the roster is one district, so 1,000,000 residents) and of the whole city.
The headline, printed last, is the import's speed as a fraction of the raw COPY's.

The database comes from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/fangkong_bench);
it is dropped and re-created on each run so the figures do not depend on earlier runs.

    .venv/bin/python bench/registry.py [--rows N] [--districts D] [--seed S] [--keep-csv]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fangkong_bench"
HEADERS = ("姓名", "性别", "证件类型", "证件号码", "出生日期", "联系电话", "区", "街道", "社区", "小区", "楼栋",
           "单元", "房号", "与户主关系", "特殊人群", "户籍地址", "备注")


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    os.environ.setdefault("FANGKONG_DEMO", "1")  # the demo key and localhost: a local benchmark, not a deployment
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_area_tree(rows: int, seed: int, districts: int) -> None:
    """City › districts › streets › communities › grids of the demo city, without buildings or people."""
    from django.db import transaction

    from fangkong.areas.models import Area
    from fangkong.core.bulk import copy_rows, next_ids
    from fangkong.demo.generator import plan_city

    plan = plan_city(rows, seed, districts=districts)
    nodes = [plan.city] + [d.node for d in plan.districts]
    for street in plan.streets():
        nodes.append(street.street)
        nodes.extend(a for a in street.areas if a is not street.street)
    with transaction.atomic():
        for node, pk in zip(nodes, next_ids(Area, len(nodes)), strict=True):
            node.id = pk
        copy_rows(Area, ("id", "code", "name", "level", "parent_id"),
                  ((a.id, a.code, a.name, a.level, a.parent.id if a.parent else None) for a in nodes))
    log(f"area tree: {len(nodes)} areas")


def write_csv(path: Path, rows: int, seed: int, districts: int) -> int:
    from fangkong.demo.generator import roster_rows

    count = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for row in roster_rows(rows, seed, districts=districts):
            writer.writerow([row.get(h, "") for h in HEADERS])
            count += 1
    return count


def time_import(path: Path) -> tuple[float, dict]:
    import json

    from django.core.management import call_command

    out = io.StringIO()
    started = time.perf_counter()
    call_command("import-residents", str(path), "--create-housing", stdout=out)  # the tree has no buildings yet
    seconds = time.perf_counter() - started
    return seconds, json.loads(out.getvalue().strip().splitlines()[-1])


def time_raw_copy(path: Path) -> float:
    from django.db import connection

    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_roster")
        cursor.execute(f"CREATE TABLE bench_raw_roster ({columns})")
        started = time.perf_counter()
        with open(path, "rb") as fh, cursor.cursor.copy("COPY bench_raw_roster FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while block := fh.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_raw_roster")
    return seconds


def time_indexed_floor() -> float:
    """Seconds to INSERT every imported resident into an empty clone of the table with the same
    indexes and foreign key, committed (deferred foreign-key checks run at commit)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_resident_floor")
        cursor.execute("CREATE TABLE bench_resident_floor (LIKE people_resident INCLUDING ALL)")
        cursor.execute("ALTER TABLE bench_resident_floor ADD FOREIGN KEY (household_id) REFERENCES areas_household (id) "
                       "DEFERRABLE INITIALLY DEFERRED")
        started = time.perf_counter()
        with transaction.atomic():
            cursor.execute("INSERT INTO bench_resident_floor SELECT * FROM people_resident")
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_resident_floor")
    return seconds


def _dump(cursor, table: str) -> bytes:
    buffer = io.BytesIO()
    with cursor.cursor.copy(f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT") as copy:
        for block in copy:
            buffer.write(block)
    return buffer.getvalue()


def time_indexed_copy_floor() -> float:
    """Seconds for PostgreSQL alone to fill the tables the import fills per row — households and
    residents — with the same rows by COPY into empty clones with the same indexes and foreign keys
    (the housing above them, which the import creates too, is a few thousand rows and left out),
    committed (deferred foreign-key checks run at commit)."""
    from django.db import connection, transaction

    fk = "DEFERRABLE INITIALLY DEFERRED"
    with connection.cursor() as cursor:
        households, residents = _dump(cursor, "areas_household"), _dump(cursor, "people_resident")
        cursor.execute("DROP TABLE IF EXISTS bench_resident_copy, bench_household_copy")
        cursor.execute("CREATE TABLE bench_household_copy (LIKE areas_household INCLUDING ALL)")
        cursor.execute("CREATE TABLE bench_resident_copy (LIKE people_resident INCLUDING ALL)")
        for column, target in (("unit_id", "areas_unit"), ("building_id", "areas_building"),
                               ("compound_id", "areas_compound")):
            cursor.execute(f"ALTER TABLE bench_household_copy ADD FOREIGN KEY ({column}) REFERENCES {target} (id) {fk}")
        cursor.execute(f"ALTER TABLE bench_resident_copy ADD FOREIGN KEY (household_id) REFERENCES bench_household_copy (id) {fk}")
        started = time.perf_counter()
        with transaction.atomic():
            for table, data in (("bench_household_copy", households), ("bench_resident_copy", residents)):
                with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(data)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_resident_copy, bench_household_copy")
    return seconds


def time_counts(code: str) -> float:
    """Best of 5: the counts the area page shows (the subtree, its children, special groups)."""
    from fangkong.areas.models import CODE_LENGTH, Area, Level
    from fangkong.areas.services import tree_counts

    area = Area.objects.get(code=code)
    width = CODE_LENGTH[Level(area.child_level)] if area.child_level else None
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        tree_counts(area.code, width)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--districts", type=int, default=1, help="districts the roster spreads over (default 1)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--keep-csv", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recreate_database(url)
    setup_django(url)
    build_area_tree(args.rows, args.seed, args.districts)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.csv"
        started = time.perf_counter()
        rows = write_csv(path, args.rows, args.seed, args.districts)
        log(f"roster: {rows} rows, {path.stat().st_size / 1e6:.0f} MB, written in {time.perf_counter() - started:.1f} s")

        seconds, summary = time_import(path)
        log(f"import: {summary} in {seconds:.1f} s")
        import_rate = summary["created"] / seconds
        print(f"import_rows_per_s={import_rate:.0f}", flush=True)

        raw_seconds = time_raw_copy(path)
        raw_rate = rows / raw_seconds
        print(f"raw_copy_rows_per_s={raw_rate:.0f}", flush=True)
        floor_seconds = time_indexed_floor()
        print(f"indexed_table_floor_rows_per_s={summary['created'] / floor_seconds:.0f}", flush=True)
        copy_floor_rate = summary["created"] / time_indexed_copy_floor()
        print(f"indexed_copy_floor_rows_per_s={copy_floor_rate:.0f}", flush=True)
        if args.keep_csv:
            kept = Path.cwd() / "bench-roster.csv"
            path.replace(kept)
            log(f"kept {kept}")

    from django.db import connection
    from django.db.models import Count
    from django.db.models.functions import Substr

    from fangkong.people.models import Resident

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE people_resident")  # what autovacuum does after a bulk load
        cursor.execute("VACUUM ANALYZE areas_household")
    biggest = (Resident.objects.annotate(d=Substr("area_code", 1, 6)).values("d").annotate(n=Count("id")).order_by("-n").first())
    district_ms = time_counts(biggest["d"])
    log(f"largest district {biggest['d']}: {biggest['n']} residents")
    print(f"district_count_ms={district_ms:.0f}", flush=True)
    print(f"city_count_ms={time_counts('4201'):.0f}  # {Resident.objects.count()} residents", flush=True)
    print(f"ratio_vs_indexed_floor={import_rate / copy_floor_rate:.3f}", flush=True)
    print(f"ratio_vs_raw_copy={import_rate / raw_rate:.3f}", flush=True)


if __name__ == "__main__":
    main()
