"""Benchmark: the periodic alert job of medical observation at city scale, on PostgreSQL.

1. Generate a demo city of N residents (default 200,000; the demo generator's bulk COPY);
2. COPY one open observation file per resident (14 days into the period);
3. write their reports in one INSERT … SELECT: 14 days × 2 windows (morning, evening) up to now, about
   3% of the windows missed, a few fevers and symptoms in the last day (≈ 5.4M rows);
4. VACUUM ANALYZE, then time `run_alert_job(now)` (missed windows, fevers, new symptoms, fever escalation
   into the four categories) and time it again: the second run must create 0 alerts;
5. time a naive per-file Python loop (the ORM, one file at a time: the windows, their reports, the
   alerts) over a subset of files, inside a rolled-back transaction, scaled to all files.

6. then the contact rings: bench/contact_rings.py (its own process and schema) draws a contact graph of
   1,000,000 edges and times the close contacts and second ring of a case (one recursive CTE) against
   loading the edges into Python and walking them breadth-first.

Printed, each on its own line: the sizes, `alert_job_s=`, `alert_job_repeat_s=`, `repeat_new_alerts=`,
`python_loop_s=` (scaled), `ratio_vs_python_loop=` (job time / loop time), the rings' figures
(`rings_ms=`, `python_bfs_ms=`, ring sizes) and last the headline `ratio_vs_python_bfs=`.

    .venv/bin/python bench/observation.py [--people N] [--loop-sample K]

The database comes from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/fangkong_bench);
it is dropped and re-created on each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry import DEFAULT_URL, log, recreate_database, setup_django  # noqa: E402

DAYS = 14


def build_files(people: int, seed: int, now: dt.datetime) -> int:
    from django.db import connection
    from django.utils import timezone

    from fangkong.core.bulk import copy_rows, reset_sequence
    from fangkong.demo.city import build_city
    from fangkong.observation.models import ObservationFile
    from fangkong.people.models import Resident

    started = time.monotonic()
    build_city(people, seed)
    log(f"city: {time.monotonic() - started:.1f} s")
    today = timezone.localdate(now)
    start = today - dt.timedelta(days=DAYS - 1)
    exposure = start - dt.timedelta(days=1)
    end = exposure + dt.timedelta(days=14)
    created = timezone.make_aware(dt.datetime.combine(start, dt.time(7, 0)))
    # Read first: a server-side cursor cannot be fetched from while the same connection runs a COPY.
    residents = list(Resident.objects.order_by("id").values_list("id", "area_code")[:people])
    rows = ((i, rid, "home", "密切接触者", "tracing", "", start, exposure, end, "居家", "open", secrets.token_urlsafe(32),
             code, created, created) for i, (rid, code) in enumerate(residents, start=1))
    started = time.monotonic()
    count = copy_rows(ObservationFile, ("id", "resident", "kind", "reason", "source", "source_ref", "started_on",
                                        "last_exposure_on", "planned_end_on", "place", "status", "token", "area_code",
                                        "created_at", "updated_at"), rows)
    reset_sequence(ObservationFile)
    log(f"files COPY: {count} in {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    with connection.cursor() as cursor:
        # Reports up to `now`: each window reported an hour before its end, 3% missed; fevers and
        # symptoms only in the last day (older ones were judged by earlier runs of the job). Written
        # in arrival order (day, window), as phones send them: a day's reports share heap pages.
        cursor.execute("""
            INSERT INTO observation_healthreport
                (client_id, file_id, date, window_name, temperature, symptoms, source, reported_at, area_code)
            SELECT gen_random_uuid(), f.id, d::date, w.name,
                   CASE WHEN d::date = %(today)s AND random() < 0.0001 THEN 38.2
                        ELSE round((36.2 + random() * 0.8)::numeric, 1) END,
                   CASE WHEN d::date = %(today)s AND random() < 0.0005 THEN 2 ELSE 0 END,
                   'self', ((d::date + w.ends) AT TIME ZONE 'Asia/Shanghai') - interval '1 hour', f.area_code
            FROM observation_observationfile f
            CROSS JOIN generate_series(%(start)s::date, %(today)s::date, interval '1 day') AS d
            CROSS JOIN (VALUES ('morning', time '10:00'), ('evening', time '21:00')) AS w (name, ends)
            WHERE ((d::date + w.ends) AT TIME ZONE 'Asia/Shanghai') <= %(now)s AND random() >= 0.03
            ORDER BY d, w.ends, f.id
        """, {"today": today, "start": start, "now": now})
        reports = cursor.rowcount
        for table in ("people_resident", "observation_observationfile", "observation_healthreport", "observation_alert",
                      "cases_case"):
            # VACUUM as autovacuum would after a bulk load: the visibility map allows index-only scans.
            cursor.execute(f"VACUUM ANALYZE {table}")
    log(f"reports INSERT … SELECT: {reports} in {time.monotonic() - started:.1f} s")
    return reports


def python_loop(sample: int, now: dt.datetime) -> float:
    """The naive way: per file, per window, ask for its report and its alert; per report, a fever check.
    Run in a transaction that is rolled back, so the job's own figures are unaffected."""
    from decimal import Decimal

    from django.db import transaction

    from fangkong.observation.alerts import _slots
    from fangkong.observation.models import Alert, FileStatus, HealthReport, ObservationFile
    from fangkong.policy.services import current_policy

    policy = current_policy()
    threshold = Decimal(str(policy.fever_threshold_c))
    slots = [(dt.date.fromisoformat(str(d)), w, k) for d, w, k, _end in _slots(now, 24, policy)]
    since = min(d for d, _w, _k in slots)
    started = time.monotonic()
    with transaction.atomic():
        for file in ObservationFile.objects.filter(status=FileStatus.OPEN).order_by("id")[:sample]:
            for day, window, key in slots:
                if day < file.started_on or day > file.planned_end_on:
                    continue
                if not HealthReport.objects.filter(file=file, date=day, window_name=window).exists():
                    Alert.objects.get_or_create(file=file, kind="missed", key=key,
                                                defaults={"created_at": now, "area_code": file.area_code})
            for report in HealthReport.objects.filter(file=file, date__gte=since):
                if report.temperature >= threshold:
                    Alert.objects.get_or_create(file=file, kind="fever", key=f"{report.date}/{report.window_name}",
                                                defaults={"created_at": now, "area_code": file.area_code})
        transaction.set_rollback(True)
    return time.monotonic() - started


def run_observation(url: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    from django.utils import timezone

    from fangkong.observation.alerts import run_alert_job
    from fangkong.observation.models import Alert, ObservationFile

    # Judge at 10:30 local today (the morning window has just ended), or now if that is later.
    today = timezone.localdate()
    now = max(timezone.make_aware(dt.datetime.combine(today, dt.time(10, 30))), timezone.now())
    reports = build_files(args.people, args.seed, now)
    files = ObservationFile.objects.count()
    figures = [("files", str(files)), ("reports", str(reports))]
    loop_seconds = python_loop(args.loop_sample, now) * files / max(args.loop_sample, 1)
    started = time.monotonic()
    counts = run_alert_job(now)
    job_seconds = time.monotonic() - started
    alerts = Alert.objects.count()
    started = time.monotonic()
    repeat = run_alert_job(now)
    repeat_seconds = time.monotonic() - started
    figures += [
        ("alerts_missed", str(counts["missed"])), ("alerts_fever", str(counts["fever"])),
        ("alerts_symptoms", str(counts["symptoms"])), ("escalated", str(counts["escalated"])),
        ("alert_job_s", f"{job_seconds:.3f}"), ("alert_job_repeat_s", f"{repeat_seconds:.3f}"),
        ("repeat_new_alerts", str(Alert.objects.count() - alerts)),
        ("repeat_counts", ",".join(f"{k}:{v}" for k, v in repeat.items())),
        ("python_loop_sample_files", str(args.loop_sample)),
        ("python_loop_s", f"{loop_seconds:.3f}"),
        ("ratio_vs_python_loop", f"{job_seconds / loop_seconds:.4f}"),
    ]
    return figures


def run_contact_rings(url: str, _args: argparse.Namespace) -> list[tuple[str, str]]:
    """The contact-rings bench (bench/contact_rings.py), in its own process: it configures Django for its
    own schema, which this process cannot do once Django is set up. Its figures, ratio last."""
    script = Path(__file__).resolve().parent / "contact_rings.py"
    done = subprocess.run([sys.executable, str(script)], env={**os.environ, "BENCH_DATABASE_URL": url},
                          stdout=subprocess.PIPE, text=True, check=True)
    return [tuple(line.split("=", 1)) for line in done.stdout.splitlines() if "=" in line and not line.startswith("#")]


SECTIONS = [run_observation]
if (Path(__file__).resolve().parent / "contact_rings.py").exists():
    SECTIONS.append(run_contact_rings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--loop-sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recreate_database(url)
    setup_django(url)
    # Each section prints its figures; the headline (the last figure of the last section) comes last.
    for section in SECTIONS:
        for key, value in section(url, args):
            print(f"{key}={value}", flush=True)


if __name__ == "__main__":
    main()
