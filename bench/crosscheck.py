"""Benchmark: the cross-check (查漏补缺) at city scale, on PostgreSQL.

1. Build a demo city of N residents (default 1,000,000) with the demo generator (COPY);
2. write M meter readings (default 400,000) as an import file: seven days for the first M/7
   households of the city, of which 2% are rooms the roster lacks (a subdivided flat, "101A", next to
   a registered "101"); import it through the real path (`import_evidence`) and compare with a raw
   COPY of the same file into a bare table; import it again (nothing may be created);
3. time `run_crosscheck` over the readings against the whole registry, then a second run (which
   must open nothing).
The headline, printed last, is the evidence import's speed as a fraction of the raw COPY's
(`ratio_vs_raw_copy=`); bench/screening.py also times the cross-check within the screening run.

The database comes from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/fangkong_bench);
it is dropped and re-created on each run.

    .venv/bin/python bench/crosscheck.py [--residents N] [--readings M] [--seed S]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry import DEFAULT_URL, log, recreate_database, setup_django  # noqa: E402

HEADERS = ("区", "街道", "社区", "小区", "楼栋", "单元", "房号", "日期", "用电量(千瓦时)")
DAYS = 7
HIDDEN_SHARE = 0.02


def households(limit: int) -> list[tuple]:
    """(district, street, community, compound, building, unit, room) of the first households."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT d.name, s.name, c.name, k.name, b.name, u.name, h.room
               FROM areas_household h
               JOIN areas_unit u ON u.id = h.unit_id
               JOIN areas_building b ON b.id = h.building_id
               JOIN areas_compound k ON k.id = h.compound_id
               JOIN areas_area c ON c.id = k.community_id
               JOIN areas_area s ON s.id = c.parent_id
               JOIN areas_area d ON d.id = s.parent_id
               ORDER BY h.id LIMIT %s""", [limit])
        return cursor.fetchall()


def write_readings(path: Path, readings: int, seed: int) -> tuple[int, int]:
    from django.utils import timezone

    rng = random.Random(seed)
    count = readings // DAYS
    places = households(count)
    hidden = int(len(places) * HIDDEN_SHARE)
    today = timezone.localdate()
    day_text = [(today - dt.timedelta(days=n)).isoformat() for n in range(DAYS)]
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i, place in enumerate(places):
            if i < hidden:
                place = (*place[:6], place[6] + "A")  # a room the roster does not know
            for day in day_text:
                kwh = rng.uniform(3.0, 7.0) if i < hidden else rng.uniform(0.5, 9.0)
                writer.writerow([*place, day, f"{kwh:.1f}"])
                rows += 1
    return rows, hidden


def time_raw_copy(path: Path) -> float:
    from django.db import connection

    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_readings")
        cursor.execute(f"CREATE TABLE bench_raw_readings ({columns})")
        started = time.perf_counter()
        with open(path, "rb") as fh, cursor.cursor.copy("COPY bench_raw_readings FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while block := fh.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_raw_readings")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--readings", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recreate_database(url)
    setup_django(url)

    from django.db import connection

    from fangkong.crosscheck.importer import import_evidence
    from fangkong.crosscheck.models import Kind, MeterReading
    from fangkong.crosscheck.services import run_crosscheck
    from fangkong.demo.city import build_city
    from fangkong.people.models import Resident

    started = time.perf_counter()
    summary = build_city(args.residents, args.seed)
    log(f"city: {summary.residents} residents, {summary.households} households in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "readings.csv"
        rows, hidden = write_readings(path, args.readings, args.seed)
        log(f"readings file: {rows} rows ({hidden} rooms the roster lacks), {path.stat().st_size / 1e6:.0f} MB")

        started = time.perf_counter()
        result = import_evidence("meter", path, filename=path.name, crosscheck=False, progress=log)
        import_seconds = time.perf_counter() - started
        log(f"import: {result.summary()} in {import_seconds:.1f} s")
        import_rate = result.created / import_seconds
        print(f"meter_import_rows_per_s={import_rate:.0f}", flush=True)
        raw_rate = rows / time_raw_copy(path)
        print(f"raw_copy_rows_per_s={raw_rate:.0f}", flush=True)
        started = time.perf_counter()
        again = import_evidence("meter", path, filename=path.name, crosscheck=False)
        assert again.created == 0 and again.unchanged == rows, again.summary()
        print(f"meter_reimport_s={time.perf_counter() - started:.1f}  # the same file again: nothing created", flush=True)

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
    log(f"registry: {Resident.objects.count()} residents; {MeterReading.objects.count()} meter readings")
    started = time.perf_counter()
    first = run_crosscheck()
    first_seconds = time.perf_counter() - started
    log(f"first run: {first}")
    print(f"crosscheck_first_run_s={first_seconds:.2f}  # opened {first[Kind.POWERED]} to-dos", flush=True)
    started = time.perf_counter()
    second = run_crosscheck()
    second_seconds = time.perf_counter() - started
    assert sum(second[kind] for kind in Kind.values) == 0, second
    print(f"crosscheck_second_run_s={second_seconds:.2f}  # opened nothing", flush=True)
    print(f"ratio_vs_raw_copy={import_rate / raw_rate:.3f}", flush=True)


if __name__ == "__main__":
    main()
