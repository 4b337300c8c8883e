"""Benchmark: the rings of a case (close contacts and their close contacts) over a contact graph of
1,000,000 edges, on PostgreSQL.

1. In the schema `contact_rings` of the bench database (created if missing; the schema is dropped and
   re-made on each run, so other benches in the same database are left alone), migrate, and build
   residents with the demo-city generator;
2. draw a realistic graph: households of 1–6 fully connected (always close), workplaces of 10–40
   where each person names ~20 colleagues (70% unprotected), and ~10 fellow passengers (40%
   unprotected) — a case has tens of close contacts and hundreds in the second ring — and COPY its
   1,000,000 edges into the real edge table (tracing_contactedge), then VACUUM ANALYZE (the visibility
   map lets the ring query read the index alone);
3. time the ring query the app runs (one recursive CTE, depth ≤ 2) for a few index cases, median of
   several runs each; and the baseline: load every close edge into Python and walk it breadth-first
   to depth 2 (the same answer, checked).
Each figure on its own line; last, `ratio_vs_python_bfs=` = database time / Python time (lower is
better).

    .venv/bin/python bench/contact_rings.py [--edges N] [--residents R] [--seed S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import statistics
import sys
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fangkong_bench"
SCHEMA = "contact_rings"
INDEX_CASES = 5
RUNS = 7


def log(line: str) -> None:
    print(f"# {line}", file=sys.stderr, flush=True)


def ensure_database_and_schema(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    os.environ.setdefault("FANGKONG_DEMO", "1")  # the demo key and localhost: a local benchmark, not a deployment
    import django
    from django.conf import settings

    settings.DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c search_path={SCHEMA}"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def draw_graph(people: list[tuple[int, int]], edges: int, seed: int) -> list[tuple[int, int, bool]]:
    """(source, target, is_close) rows: households first, then colleagues and passengers until `edges`."""
    rng = random.Random(seed)
    by_household: dict[int, list[int]] = {}
    for resident, household in people:
        by_household.setdefault(household, []).append(resident)
    rows: list[tuple[int, int, bool]] = []
    for members in by_household.values():
        rows.extend((a, b, True) for a in members for b in members if a != b)
    ids = [resident for resident, _h in people]
    rng.shuffle(ids)
    workplaces, start = [], 0
    while start < len(ids):
        size = rng.randint(10, 40)
        workplaces.append(ids[start:start + size])
        start += size
    while len(rows) < edges:
        for place in workplaces:
            for person in place:
                for colleague in rng.sample(place, min(len(place), 3)):
                    if colleague != person:
                        rows.append((person, colleague, rng.random() < 0.7))
                passenger = rng.choice(ids)
                if passenger != person:
                    rows.append((person, passenger, rng.random() < 0.4))
            if len(rows) >= edges:
                break
    return rows[:edges]


def copy_edges(rows: list[tuple[int, int, bool]], area_of: dict[int, str], on: dt.date) -> None:
    from django.db import connection

    buffer = io.StringIO()
    for source, target, close in rows:
        buffer.write(f"{source}\t{target}\t{on.isoformat()}\t{'t' if close else 'f'}\t{area_of[source]}\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3
        with raw.copy("COPY tracing_contactedge (source_resident_id, target_resident_id, last_exposure_on, is_close, area_code) "
                      "FROM STDIN") as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
    with connection.cursor() as cursor:  # VACUUM cannot run inside COPY's transaction; what autovacuum does next
        cursor.execute("VACUUM ANALYZE tracing_contactedge")
        cursor.execute("VACUUM ANALYZE people_resident")


def python_rings(index: int) -> tuple[dict[int, int], float]:
    """The baseline: load the close edges, walk them to depth 2. Returns the rings and seconds."""
    from django.db import connection

    started = time.perf_counter()
    adjacency: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT source_resident_id, target_resident_id FROM tracing_contactedge WHERE is_close")
        for source, target in cursor.fetchall():
            adjacency.setdefault(source, []).append(target)
    depth = {index: 0}
    queue = deque([index])
    while queue:
        node = queue.popleft()
        if depth[node] < 2:
            for nxt in adjacency.get(node, ()):
                if nxt not in depth:
                    depth[nxt] = depth[node] + 1
                    queue.append(nxt)
    rings = {node: d for node, d in depth.items() if d}
    return rings, time.perf_counter() - started


def run(database_url: str, edges: int = 1_000_000, residents: int = 20_000, seed: int = 2020) -> dict:
    ensure_database_and_schema(database_url)
    setup_django(database_url)
    from django.utils import timezone

    from fangkong.demo.city import build_city
    from fangkong.people.models import Resident
    from fangkong.tracing.rings import ring_ids

    started = time.perf_counter()
    summary = build_city(residents, seed)
    log(f"demo city: {summary.residents} residents in {time.perf_counter() - started:.1f} s")
    people = list(Resident.objects.values_list("id", "household_id"))
    area_of = dict(Resident.objects.values_list("id", "area_code"))
    started = time.perf_counter()
    rows = draw_graph(people, edges, seed)
    log(f"graph drawn: {len(rows)} edges in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    copy_edges(rows, area_of, timezone.localdate())
    log(f"COPY + VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")
    del rows

    rng = random.Random(seed)
    index_cases = rng.sample([resident for resident, _h in people], INDEX_CASES)
    db_ms, py_ms, first, second = [], [], [], []
    for index in index_cases:
        timings = []
        for _run in range(RUNS):
            begun = time.perf_counter()
            found = ring_ids(index)
            timings.append((time.perf_counter() - begun) * 1000)
        db_ms.append(statistics.median(timings))
        baseline, seconds = python_rings(index)
        py_ms.append(seconds * 1000)
        if baseline != found:
            raise SystemExit(f"rings differ for resident {index}: database {len(found)}, python {len(baseline)}")
        first.append(sum(1 for d in found.values() if d == 1))
        second.append(sum(1 for d in found.values() if d == 2))
        log(f"index {index}: first ring {first[-1]}, second ring {second[-1]}, db {db_ms[-1]:.1f} ms, python {py_ms[-1]:.0f} ms")
    rings_ms, python_ms = statistics.median(db_ms), statistics.median(py_ms)
    return {"edges": edges, "residents": summary.residents, "rings_ms": rings_ms, "rings_ms_max": max(db_ms),
            "python_bfs_ms": python_ms, "first_ring_median": statistics.median(first),
            "second_ring_median": statistics.median(second), "ratio_vs_python_bfs": rings_ms / python_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    result = run(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL), args.edges, args.residents, args.seed)
    print(f"edges={result['edges']}", flush=True)
    print(f"residents={result['residents']}", flush=True)
    print(f"first_ring_median={result['first_ring_median']:.0f}", flush=True)
    print(f"second_ring_median={result['second_ring_median']:.0f}", flush=True)
    print(f"rings_ms={result['rings_ms']:.1f}", flush=True)
    print(f"rings_ms_max={result['rings_ms_max']:.1f}", flush=True)
    print(f"python_bfs_ms={result['python_bfs_ms']:.0f}", flush=True)
    print(f"ratio_vs_python_bfs={result['ratio_vs_python_bfs']:.4f}", flush=True)


if __name__ == "__main__":
    main()
