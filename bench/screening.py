"""Benchmark: dragnet screening at city scale, on PostgreSQL.

1. Generate a demo city of N residents (default 1,000,000; bulk COPY);
2. ingest V visits (default 100,000) through the HTTP API (`POST /api/screening/visits`, the path a
   grid worker's phone uses) from C concurrent clients on loopback against gunicorn: each visit is
   a door knock at a household of the client's grid workers' grids with a temperature for every
   resident (a few fevers, which open follow-up items), each worker authenticated by an API token;
3. insert the same visits and person checks straight into empty copies of the two tables (same
   indexes) with batched INSERTs in one transaction: what the database alone needs;
4. ingest V more visits as the phones' offline queues through the batch endpoint (`POST /api/batch`,
   B visits per request, default 500, each queue one grid worker's), printed as
   `batch_ratio_vs_raw_insert=` against the same straight inserts;
5. time the city-wide coverage of the day (the coverage page: every district, 7-day window and
   trend) and one grid's day list (households not yet screened, the grid worker's phone screen);
6. import R meter readings (default 400,000; seven days per household, 2% of them rooms the roster
   lacks) and time the cross-check of finding the hidden (查漏补缺) against the whole registry.
The headline, printed last, is the API's ingest rate as a fraction of the straight inserts.

    .venv/bin/python bench/screening.py [--residents N] [--visits V] [--clients C] [--workers W] [--batch-size B]

The database comes from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/fangkong_bench);
it is dropped and re-created on each run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry import DEFAULT_URL, log, recreate_database, setup_django  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GRIDS_PER_CLIENT = 20


@dataclass
class Client:
    """One concurrent client: a phone app shared by a team of grid workers, each with a token."""

    tokens: list[str]
    visits: list[bytes] = field(default_factory=list)  # (token index, JSON body) pre-built
    token_of: list[int] = field(default_factory=list)
    created: int = 0
    failed: list[str] = field(default_factory=list)


def prepare_clients(clients: int, visits: int, seed: int, grids_per_client: int = GRIDS_PER_CLIENT) -> list[Client]:
    """Grid workers with tokens for the largest grids, and the visits their phones will send."""
    from fangkong.accounts.models import ApiToken, Role, User
    from fangkong.areas.models import Area, Household, Level
    from fangkong.people.models import Resident

    rng = random.Random(seed)
    grids = list(Area.objects.filter(level=Level.GRID).order_by("code").values_list("id", "code")[: clients * grids_per_client])
    if len(grids) < clients:
        raise SystemExit(f"only {len(grids)} grids for {clients} clients: generate a larger city")
    codes = [code for _pk, code in grids]
    people: dict[int, list[int]] = {}
    for household_id, resident_id in (Resident.objects.filter(household__area_code__in=codes)
                                      .values_list("household_id", "id").order_by("household_id", "id")):
        people.setdefault(household_id, []).append(resident_id)
    by_grid: dict[str, list[int]] = {}
    for household_id, code in Household.objects.filter(area_code__in=codes).values_list("id", "area_code"):
        if household_id in people:
            by_grid.setdefault(code, []).append(household_id)

    result = [Client(tokens=[]) for _ in range(clients)]
    for i, (pk, code) in enumerate(grids):
        user = (User.objects.filter(username=f"bench-grid-{code}").first()  # a second set of visits: the same workers
                or User.objects.create_user(username=f"bench-grid-{code}", role=Role.GRID_WORKER, area_id=pk))
        _token, key = ApiToken.issue(user, "bench")
        result[i % clients].tokens.append(key)
    grid_of_token = {}
    for i, (_pk, code) in enumerate(grids):
        grid_of_token[(i % clients, i // clients)] = code
    for n in range(visits):
        c = n % clients
        client = result[c]
        t = (n // clients) % len(client.tokens)
        households = by_grid[grid_of_token[(c, t)]]
        household = households[(n // (clients * len(client.tokens))) % len(households)]
        persons = [{"resident_id": r, "present": True,
                    "temperature": round(37.6 if rng.random() < 0.002 else rng.gauss(36.5, 0.2), 1)}
                   for r in people[household]]
        body = {"client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "household_id": household,
                "method": "door", "outcome": "reached", "persons": persons}
        client.visits.append(json.dumps(body).encode())
        client.token_of.append(t)
    return result


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "fangkong.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "--backlog", "256"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/accounts/login/")
            if connection.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


def send(client: Client, port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = [{"Content-Type": "application/json", "Authorization": f"Bearer {token}"} for token in client.tokens]
    for body, t in zip(client.visits, client.token_of, strict=True):
        connection.request("POST", "/api/screening/visits", body=body, headers=headers[t])
        response = connection.getresponse()
        payload = response.read()
        if response.status == 201:
            client.created += 1
        elif len(client.failed) < 5:
            client.failed.append(f"{response.status} {payload[:200]!r}")


def as_batches(client: Client, size: int) -> None:
    """The client's visits as its phones' offline queues: per grid worker, `size` visits per request."""
    queues: dict[int, list[dict]] = {}
    for body, t in zip(client.visits, client.token_of, strict=True):
        queues.setdefault(t, []).append({"kind": "visit", **json.loads(body)})
    client.visits, client.token_of = [], []
    for t, items in queues.items():
        for start in range(0, len(items), size):
            client.visits.append(json.dumps({"items": items[start:start + size]}).encode())
            client.token_of.append(t)


def send_batches(client: Client, port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = [{"Content-Type": "application/json", "Authorization": f"Bearer {token}"} for token in client.tokens]
    for body, t in zip(client.visits, client.token_of, strict=True):
        connection.request("POST", "/api/batch", body=body, headers=headers[t])
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            client.failed.append(f"{response.status} {payload[:200]!r}")
            continue
        answer = json.loads(payload)
        client.created += answer["created"]
        client.failed.extend(f"{r['status']} {r['errors']}" for r in answer["results"] if r["status"] != "created")


def time_api_ingest(clients: list[Client], port: int, target=send) -> float:
    threads = [threading.Thread(target=target, args=(client, port)) for client in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def time_straight_inserts() -> tuple[float, int]:
    """The visits and checks the API wrote, inserted again into empty copies of their tables."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        for table in ("screening_visit", "screening_personcheck"):
            cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")
            cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
        cursor.execute("SELECT * FROM screening_visit ORDER BY id")
        visits = cursor.fetchall()
        cursor.execute("SELECT * FROM screening_personcheck ORDER BY id")
        checks = cursor.fetchall()
        started = time.perf_counter()
        with transaction.atomic():
            for table, rows in (("screening_visit", visits), ("screening_personcheck", checks)):
                marks = ", ".join(["%s"] * len(rows[0]))
                cursor.executemany(f"INSERT INTO bench_{table} VALUES ({marks})", rows)
        seconds = time.perf_counter() - started
        for table in ("screening_visit", "screening_personcheck"):
            cursor.execute(f"DROP TABLE bench_{table}")
    return seconds, len(visits)


def time_crosscheck(readings: int, seed: int) -> float:
    """Seconds of the cross-check over `readings` imported meter readings against the whole registry."""
    import tempfile

    from crosscheck import write_readings

    from fangkong.crosscheck.importer import import_evidence
    from fangkong.crosscheck.services import run_crosscheck

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "readings.csv"
        rows, hidden = write_readings(path, readings, seed)
        result = import_evidence("meter", path, filename=path.name, crosscheck=False)
        log(f"meter readings: {result.summary()} ({hidden} households the roster lacks)")
    started = time.perf_counter()
    opened = run_crosscheck()
    seconds = time.perf_counter() - started
    log(f"cross-check over {rows} readings: {opened}")
    return seconds


def best_ms(function, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--readings", type=int, default=400_000, help="meter readings for the cross-check")
    parser.add_argument("--batch-size", type=int, default=500, help="visits per request of the batch endpoint")
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recreate_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("demo-city", residents=args.residents, seed=args.seed, screening_days=0, verbosity=0)
    log(f"demo city of {args.residents} residents in {time.perf_counter() - started:.1f} s")
    clients = prepare_clients(args.clients, args.visits, args.seed)
    log(f"{args.visits} visits prepared for {args.clients} clients "
        f"({sum(len(c.tokens) for c in clients)} grid workers)")

    server, port = start_server(url, args.workers)
    try:
        seconds = time_api_ingest(clients, port)
    finally:
        server.terminate()
        server.wait(timeout=30)
    created = sum(c.created for c in clients)
    failures = [f for c in clients for f in c.failed]
    log(f"API: {created} visits created in {seconds:.1f} s; failures: {failures[:3]}")
    if created != args.visits:
        raise SystemExit(f"only {created} of {args.visits} visits were recorded")
    api_rate = created / seconds
    print(f"api_visits_per_s={api_rate:.0f}", flush=True)

    raw_seconds, raw_visits = time_straight_inserts()
    raw_rate = raw_visits / raw_seconds
    print(f"raw_insert_visits_per_s={raw_rate:.0f}", flush=True)

    # The same number of visits again (new client ids), as offline queues through the batch endpoint.
    # Fewer grid workers, so that each one's queue fills requests of --batch-size visits.
    queued = prepare_clients(args.clients, args.visits, args.seed + 1,
                             grids_per_client=max(1, -(-args.visits // (args.clients * args.batch_size))))
    for client in queued:
        as_batches(client, args.batch_size)
    server, port = start_server(url, args.workers)
    try:
        batch_seconds = time_api_ingest(queued, port, target=send_batches)
    finally:
        server.terminate()
        server.wait(timeout=30)
    batch_created = sum(c.created for c in queued)
    failures = [f for c in queued for f in c.failed]
    log(f"batch API: {batch_created} visits created in {batch_seconds:.1f} s "
        f"({sum(len(c.visits) for c in queued)} requests); failures: {failures[:3]}")
    if batch_created != args.visits:
        raise SystemExit(f"only {batch_created} of {args.visits} batched visits were recorded")
    batch_rate = batch_created / batch_seconds
    print(f"batch_visits_per_s={batch_rate:.0f}", flush=True)

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum does after bulk loads and a burst of writes
    from fangkong.accounts.models import User
    from fangkong.areas.models import Area, Level
    from fangkong.screening.coverage import coverage
    from fangkong.screening.daylist import day_list
    from fangkong.screening.visits import local_today

    today = local_today()
    city = Area.objects.get(level=Level.CITY)
    table = coverage(city, today)
    log(f"coverage {today}: {table.total.screened} of {table.total.households} households screened, "
        f"{table.total.reached} of {table.total.persons} persons reached")
    print(f"city_coverage_ms={best_ms(lambda: coverage(city, today), repeat=3):.0f}", flush=True)
    worker = User.objects.filter(username__startswith="bench-grid-").select_related("area").order_by("id").first()
    listed = day_list(worker, worker.area.code, today)
    assert listed is not None  # a grid is never too large for one list
    log(f"day list of grid {worker.area.code}: {listed.total} households, {listed.total - listed.done} not yet screened")
    print(f"grid_day_list_ms={best_ms(lambda: day_list(worker, worker.area.code, today)):.1f}", flush=True)
    print(f"crosscheck_s={time_crosscheck(args.readings, args.seed):.2f}", flush=True)
    print(f"batch_ratio_vs_raw_insert={batch_rate / raw_rate:.3f}", flush=True)
    print(f"ratio_vs_raw_insert={api_rate / raw_rate:.3f}", flush=True)


if __name__ == "__main__":
    main()
