"""Benchmark: a city's morning under load, on PostgreSQL, through gunicorn as deployed.

1. A demo city (`fangkong demo-city --residents N`, `fangkong demo-accounts`) in a fresh database
   (--reuse-db keeps the one there), a grid worker's account for every grid, commanders for every street
   and district, self-report links for the households;
2. gunicorn with deploy/gunicorn.conf.py (its workers, timeouts, max-requests; bound to a free local
   port, --workers for this machine) and Redis as the shared cache when it answers;
3. phase 1, capacity: locust headless at saturation (no think time, --users), in turns (--rounds): every
   user opening /bench/hello/ (the smallest logged-in page through the same stack: bench/load_urls.py),
   then the morning's mix (bench/load_locustfile.py: grid workers opening their day list and posting visits,
   residents self-reporting by link, commanders opening coverage and the case board; gate scans are a
   TODO hook there). The headline is the mix's requests/s as a fraction of the hello page's;
4. phase 2, a real pace: --pace-users with 5–15 s of human think time for --pace-seconds, then the
   visits in the database counted against the posts the server confirmed: lost_writes= (confirmed, no
   row) and duplicate_writes= (rows beyond one per posted client id).

Each account logs in once by the form while the users are spawned (the users of an account share its
session); the statistics are reset when every user has started, and the
measured window (the --*-seconds) starts then.

    .venv/bin/python bench/load.py [--reuse-db] [--residents 20000] [--workers 5] [--users 20]
        [--hello-seconds 30] [--mix-seconds 60] [--pace-users 200] [--pace-seconds 60]

The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/fk_load_bench); the shared
cache LOAD_REDIS_URL (default redis://127.0.0.1:6379/9; empty: each worker's own memory).
The machine's load average is printed beside the figures: on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry import log, recreate_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_load_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
MIX_CLASSES = ["GridWorker", "Resident", "Commander"]  # + "GateGuard" when gate scans exist
LINKS = 4000  # households with a self-report link in the plan
PAGE_SIZE = 40  # screening.daylist.PAGE_SIZE


def database_exists(url: str) -> bool:
    import psycopg

    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parts.path.lstrip("/")]).fetchone() is not None


def fangkong(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "FANGKONG_DEMO": "1", "PYTHONPATH": str(ROOT)}
    subprocess.run([str(BIN / "fangkong"), *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def make_city(url: str, residents: int, reuse: bool) -> None:
    if reuse and database_exists(url):
        log("reusing the demo city in the database (--reuse-db)")
        fangkong(url, "migrate", "--noinput", "-v0")
        return
    recreate_database(url)
    start = time.monotonic()
    fangkong(url, "migrate", "--noinput", "-v0")
    fangkong(url, "demo-city", "--residents", str(residents))
    fangkong(url, "demo-accounts")
    log(f"demo city of {residents} residents in {time.monotonic() - start:.0f} s")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    os.environ.setdefault("FANGKONG_DEMO", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def make_plan(path: Path) -> None:
    """Accounts (one password hash for all: hashing is the slow part) and links, written for locust."""
    from django.contrib.auth.hashers import make_password
    from django.db.models import Count

    from fangkong.accounts.models import Role, User
    from fangkong.areas.models import Area, Household, Level
    from fangkong.demo.accounts import DEMO_PASSWORD
    from fangkong.screening.links import new_token
    from fangkong.screening.models import HouseholdLink

    password = make_password(DEMO_PASSWORD)
    sizes = dict(Household.objects.values("area_code").annotate(n=Count("id")).order_by().values_list("area_code", "n"))
    workers, commanders = [], []
    for area in Area.objects.filter(level__in=[Level.GRID, Level.STREET, Level.DISTRICT]).order_by("code"):
        if area.level == Level.GRID:
            if not sizes.get(area.code):
                continue
            username, role = f"load-grid-{area.code}", Role.GRID_WORKER
        else:
            username, role = f"load-{area.level}-{area.code}", (
                Role.STREET_COMMANDER if area.level == Level.STREET else Role.DISTRICT_COMMANDER)
        User.objects.update_or_create(username=username, defaults={
            "role": role, "area": area, "password": password, "must_change_password": False, "is_active": True})
        account = {"username": username, "password": DEMO_PASSWORD, "area": area.code}
        if area.level == Level.GRID:
            workers.append({**account, "pages": max(1, -(-sizes[area.code] // PAGE_SIZE))})
        else:
            commanders.append(account)
    households = list(Household.objects.filter(residents__isnull=False).distinct().order_by("id")
                      .values_list("id", "area_code")[:LINKS])
    linked = set(HouseholdLink.objects.values_list("household_id", flat=True))
    HouseholdLink.objects.bulk_create([HouseholdLink(household_id=pk, area_code=code, token=new_token())
                                       for pk, code in households if pk not in linked])
    tokens = list(HouseholdLink.objects.filter(household_id__in=[pk for pk, _code in households])
                  .order_by("?").values_list("token", flat=True))
    path.write_text(json.dumps({"workers": workers, "commanders": commanders, "tokens": tokens}), encoding="utf-8")
    log(f"plan: {len(workers)} grid workers, {len(commanders)} commanders, {len(tokens)} self-report links")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers(url: str) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_gunicorn(url: str, workers: int, redis_url: str, logdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "FANGKONG_DEMO": "1", "DEBUG": "0", "LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "load_settings", "PYTHONPATH": f"{ROOT}{os.pathsep}{BENCH}",
           "REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "fk-load"}
    log_file = open(logdir / "gunicorn.log", "wb")  # the access log, as the journal would get it
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "fangkong.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
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
    raise SystemExit(f"gunicorn did not start: see {logdir / 'gunicorn.log'}")


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int, with_children: bool = False) -> float:
    """CPU seconds of a process (and of its reaped children), from /proc; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if with_children else 0)
    return ticks / TICKS


def gunicorn_cpu_s(master: int) -> float:
    """The master, its live workers and the workers it has reaped (max_requests replaces them)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    live = [int(pid) for pid in children.read_text().split()] if children.exists() else []
    return _cpu_s(master, with_children=True) + sum(_cpu_s(pid) for pid in live)


def postgres_cpu_s(url: str) -> dict[int, float]:
    """CPU seconds of each server process connected to the bench's database now."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    return {pid: _cpu_s(pid) for pid in pids}


class CpuMeter:
    """Where a phase's CPU went: gunicorn (Django), PostgreSQL's backends for this database (those alive at
    the end; a backend that closed in between is missed), locust (the load generator, on the same cores)."""

    def __init__(self, master: int, url: str) -> None:
        self.master, self.url = master, url
        self.django, self.postgres = gunicorn_cpu_s(master), postgres_cpu_s(url)
        self.locust = resource.getrusage(resource.RUSAGE_CHILDREN)

    def per_request_ms(self, requests: int) -> dict[str, float]:
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        postgres = sum(cpu - self.postgres.get(pid, 0.0) for pid, cpu in postgres_cpu_s(self.url).items())
        spent = {"django": gunicorn_cpu_s(self.master) - self.django, "postgres": postgres,
                 "locust": (now.ru_utime + now.ru_stime) - (self.locust.ru_utime + self.locust.ru_stime)}
        return {k: round(v * 1000 / max(requests, 1), 1) for k, v in spent.items()}


def run_locust(name: str, port: int, classes: list[str], users: int, spawn_rate: float, seconds: int, think: str,
               plan: Path, workdir: Path, meter: tuple[int, str] | None = None) -> tuple[dict[str, dict[str, str]], dict]:
    """One headless locust run; the rows of its stats CSV by request name, and the client ids it posted."""
    prefix, results = workdir / name, workdir / f"{name}-results.json"
    mark = workdir / f"{name}-window"
    env = {**os.environ, "LOAD_PLAN": str(plan), "LOAD_RESULTS": str(results), "LOAD_THINK": think,
           "LOAD_SECONDS": str(seconds), "LOAD_WINDOW_MARK": str(mark)}
    load = os.getloadavg()[0]
    meters: list[CpuMeter] = []

    def start_meter() -> None:  # when the measured window starts (every user in, log-ins done)
        while not mark.exists() and not done.is_set():
            time.sleep(0.05)
        if meter and mark.exists():
            meters.append(CpuMeter(*meter))

    done = threading.Event()
    watcher = threading.Thread(target=start_meter, daemon=True)
    watcher.start()
    subprocess.run(
        [str(BIN / "locust"), "-f", str(BENCH / "load_locustfile.py"), "--headless", "--host", f"http://127.0.0.1:{port}",
         "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds + 900}s",
         "--csv", str(prefix), "--only-summary", "--stop-timeout", "20", "--loglevel", "WARNING", *classes],
        cwd=ROOT, env=env, stdout=open(workdir / f"{name}.log", "wb"), stderr=subprocess.STDOUT)
    done.set()
    watcher.join()
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    posted = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {"sent": [], "confirmed": []}
    total = rows.get("Aggregated", {})
    log(f"{name}: {users} users {seconds} s, {total.get('Request Count')} requests, "
        f"{float(total.get('Requests/s') or 0):.1f}/s, p50 {total.get('50%')} ms p99 {total.get('99%')} ms, "
        f"{total.get('Failure Count')} failed; load average {load:.1f} → {os.getloadavg()[0]:.1f}")
    if meters:  # measured from the window's start to locust's end (its last requests finishing)
        log(f"    CPU ms per request: {meters[0].per_request_ms(int(total.get('Request Count') or 0))}")
    for request_name, row in rows.items():
        if request_name != "Aggregated":
            log(f"    {request_name:16} {row['Request Count']:>6} req {float(row['Requests/s']):7.1f}/s "
                f"p50 {row['50%']:>5} p95 {row['95%']:>5} p99 {row['99%']:>5} ms, {row['Failure Count']} failed")
    return rows, posted


def rate(runs: list[dict[str, dict[str, str]]]) -> float:
    """Requests per second over several runs: all their requests over all their measured seconds."""
    requests = sum(int(run["Aggregated"]["Request Count"]) for run in runs)
    seconds = sum(int(run["Aggregated"]["Request Count"]) / float(run["Aggregated"]["Requests/s"])
                  for run in runs if float(run["Aggregated"]["Requests/s"]))
    return requests / seconds if seconds else 0.0


def count_writes(posted: dict, first_id: int) -> tuple[int, int, int]:
    """(lost, duplicated, rows) for the visits and self-reports posted in a phase."""
    from fangkong.screening.models import Visit

    sent = {c for c in posted["sent"] if c}
    confirmed = {c for c in posted["confirmed"] if c}
    new = Visit.objects.filter(id__gt=first_id)
    rows = new.count()
    stored = set(str(c) for c in new.filter(client_id__in=sent).values_list("client_id", flat=True))
    lost = len(confirmed - stored)
    # Each posted client id may make one row (the constraint says so); a row more — a retry that lost its
    # id, a form posted twice that made two — is a duplicate.
    duplicated = rows - len(stored)
    return lost, duplicated, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--reuse-db", action="store_true", help="keep the database's demo city if it exists")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1, help="gunicorn workers")
    parser.add_argument("--users", type=int, default=20, help="concurrent users at saturation (phase 1)")
    parser.add_argument("--hello-seconds", type=int, default=30)
    parser.add_argument("--mix-seconds", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2, help="phase 1 alternates hello and mix this many times")
    parser.add_argument("--pace-users", type=int, default=200)
    parser.add_argument("--pace-seconds", type=int, default=60)
    parser.add_argument("--think", default="5,15", help="human think time between steps in phase 2, seconds")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--skip-pace", action="store_true", help="phase 1 only")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    redis_url = os.environ.get("LOAD_REDIS_URL", DEFAULT_REDIS)
    if redis_url and not redis_answers(redis_url):
        log(f"no Redis at {redis_url}: each gunicorn worker keeps its own cache")
        redis_url = ""
    make_city(url, args.residents, args.reuse_db)
    setup_django(url)
    workdir = Path(tempfile.mkdtemp(prefix="fk-load-"))
    plan = workdir / "plan.json"
    make_plan(plan)
    from django.db import connection

    from fangkong.screening.models import Visit

    connection.close()
    server, port = start_gunicorn(url, args.workers, redis_url, workdir)
    log(f"gunicorn: {args.workers} workers on port {port}; logs and locust CSVs in {workdir}")
    try:
        # Hello and mix in turns (--rounds): on a shared machine the load drifts; the ratio compares like times.
        hello_runs, mix_runs = [], []
        for n in range(1, args.rounds + 1):
            hello_runs.append(run_locust(f"hello{n}", port, ["Hello"], args.users, args.spawn_rate,
                                         max(5, args.hello_seconds // args.rounds), "0,0", plan, workdir,
                                         (server.pid, url))[0])
            mix_runs.append(run_locust(f"mix{n}", port, MIX_CLASSES, args.users, args.spawn_rate,
                                       max(5, args.mix_seconds // args.rounds), "0,0", plan, workdir,
                                       (server.pid, url))[0])
        hello_rps, mix_rps = rate(hello_runs), rate(mix_runs)
        mix = mix_runs[-1]
        if not args.skip_pace:
            first_id = Visit.objects.order_by("-id").values_list("id", flat=True).first() or 0
            connection.close()
            pace, posted = run_locust("pace", port, MIX_CLASSES, args.pace_users, args.spawn_rate, args.pace_seconds,
                                      args.think, plan, workdir)
            time.sleep(1)
            lost, duplicated, rows = count_writes(posted, first_id)
    finally:
        server.terminate()
        server.wait(30)
    print(f"gunicorn_workers={args.workers}")
    print(f"loadavg_1m={os.getloadavg()[0]:.2f}")
    print(f"hello_rps={hello_rps:.1f}")
    print(f"mix_rps={mix_rps:.1f}")
    for name in ("daylist", "visit_form", "visit_post", "selfreport_form", "selfreport_post", "coverage", "case_board"):
        if name in mix:
            print(f"mix_{name}_p50_ms={mix[name]['50%']} mix_{name}_p99_ms={mix[name]['99%']}")  # the last round
    if not args.skip_pace:
        total = pace["Aggregated"]
        print(f"pace_users={args.pace_users} pace_requests={total['Request Count']} "
              f"pace_rps={float(total['Requests/s']):.1f}")
        print(f"posts_confirmed={len(posted['confirmed'])} visit_rows={rows}")
        print(f"p50_ms={total['50%']}")
        print(f"p95_ms={total['95%']}")
        print(f"p99_ms={total['99%']}")
        print(f"errors={total['Failure Count']}")
        print(f"lost_writes={lost}")
        print(f"duplicate_writes={duplicated}")
    print(f"ratio_vs_hello_page={mix_rps / hello_rps if hello_rps else 0:.3f}")


if __name__ == "__main__":
    main()
