"""Benchmark: faults under load, on PostgreSQL, through gunicorn as deployed (issue 17).

Under --users posting grid workers (threads: open a household's visit form, post it; a post that fails
is re-sent with the same client id once a second, as the phone's queue does, for up to --retry-seconds),
one fault at a time:
  worker    kill -9 one gunicorn worker (the master starts another);
  twice     the same submission posted twice at the same moment, --pairs times (no load needed);
  postgres  restart PostgreSQL with --postgres-restart (a shell command, e.g. for a scratch cluster
            `pg_ctlcluster 15 scratch restart`); NOT run unless named in --faults: it disrupts every user
            of that server;
  redis     stop Redis with --redis-stop, start it again after --outage-seconds with --redis-start; NOT
            run unless named (same reason).
Per fault: `<fault>_failed=` (requests that failed), `<fault>_recovered_s=` (from the fault to the last
failure; 0 when nothing failed), `<fault>_lost=` (posts never confirmed, or confirmed with no row),
`<fault>_duplicated=` (rows beyond one per client id); the last line `lost_total=`.

    .venv/bin/python bench/faults.py --reuse-db [--faults worker,twice] [--users 50] [--seconds 20]

The demo city and accounts are bench/load.py's (same database, BENCH_DATABASE_URL, default fk_load_bench).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import (  # noqa: E402
    DEFAULT_REDIS,
    DEFAULT_URL,
    make_city,
    make_plan,
    redis_answers,
    setup_django,
    start_gunicorn,
)
from load_forms import CSRF, VISIT_LINK, find, readings  # noqa: E402
from registry import log  # noqa: E402


@dataclass
class Tally:
    """What the clients saw during one fault."""

    failures: list[float] = field(default_factory=list)  # monotonic times of failed requests
    sent: set[str] = field(default_factory=set)
    confirmed: set[str] = field(default_factory=set)
    given_up: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def failed(self) -> None:
        with self.lock:
            self.failures.append(time.monotonic())


class Browser:
    """One session over http.client: cookies kept, no redirects followed."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, SimpleCookie()

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v.value}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode(data)
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Referer": f"http://127.0.0.1:{self.port}{path}"})
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for value in response.headers.get_all("Set-Cookie") or []:
                self.cookies.load(value)
            return response.status, response.read().decode("utf-8", "replace")
        except OSError:
            return 0, ""
        finally:
            connection.close()

    def log_in(self, username: str, password: str) -> None:
        _status, page = self.request("GET", "/accounts/login/")
        status, _text = self.request("POST", "/accounts/login/", {
            "csrfmiddlewaretoken": find(CSRF, page), "username": username, "password": password})
        if status != 302:
            raise SystemExit(f"log-in of {username} failed: {status}")


def visit_form(browser: Browser, pages: int) -> tuple[str, dict[str, str]] | None:
    """A household's visit form, filled in: (path, data)."""
    status, text = browser.request("GET", f"/screening/?page={random.randint(1, pages)}")
    households = VISIT_LINK.findall(text) if status == 200 else []
    if not households:
        return None
    path = f"/screening/households/{random.choice(households)}/visit/"
    status, form = browser.request("GET", path)
    if status != 200:
        return None
    return path, {**readings(form), "method": "door", "outcome": "reached"}


def post_until_confirmed(browser: Browser, path: str, data: dict[str, str], tally: Tally, retry_s: float) -> None:
    client_id = data["client_id"]
    with tally.lock:
        tally.sent.add(client_id)
    deadline = time.monotonic() + retry_s
    while True:
        status, _text = browser.request("POST", path, data)
        if status == 302:
            with tally.lock:
                tally.confirmed.add(client_id)
            return
        tally.failed()
        if time.monotonic() > deadline:
            with tally.lock:
                tally.given_up.add(client_id)
            return
        time.sleep(1)


def posting_users(port: int, browsers: list[tuple[Browser, int]], tally: Tally, stop: threading.Event,
                  retry_s: float) -> list[threading.Thread]:
    def run(browser: Browser, pages: int) -> None:
        while not stop.is_set():
            form = visit_form(browser, pages)
            if form is None:
                tally.failed()
                time.sleep(1)
                continue
            post_until_confirmed(browser, *form, tally, retry_s)

    threads = [threading.Thread(target=run, args=pair, daemon=True) for pair in browsers]
    for thread in threads:
        thread.start()
    return threads


def count_rows(tally: Tally) -> tuple[int, int]:
    """(lost, duplicated) of the client ids posted."""
    from django.db import connection
    from django.db.models import Count

    from fangkong.screening.models import Visit

    connection.close()
    ids = [uuid.UUID(c) for c in tally.sent if c]
    rows = dict(Visit.objects.filter(client_id__in=ids).values("client_id").annotate(n=Count("id")).order_by()
                .values_list("client_id", "n"))
    stored = {str(c) for c in rows}
    lost = len(tally.given_up - stored) + len(tally.confirmed - stored)
    duplicated = sum(n - 1 for n in rows.values())
    return lost, duplicated


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def under_load(name: str, port: int, browsers: list[tuple[Browser, int]], args: argparse.Namespace,
               fault) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Posting users for --seconds, the fault a third of the way in, then the tally."""
    tally, stop = Tally(), threading.Event()
    threads = posting_users(port, browsers, tally, stop, args.retry_seconds)
    time.sleep(args.seconds / 3)
    at = time.monotonic()
    fault()
    time.sleep(args.seconds * 2 / 3)
    stop.set()
    for thread in threads:
        thread.join(args.retry_seconds + 60)
    lost, duplicated = count_rows(tally)
    after = [t for t in tally.failures if t >= at]
    return {"failed": len(tally.failures), "recovered_s": round(max(after) - at, 1) if after else 0.0,
            "lost": lost, "duplicated": duplicated, "confirmed": len(tally.confirmed)}


def same_submission_twice(browsers: list[tuple[Browser, int]], pairs: int) -> dict[str, float]:
    """One form posted twice at the same moment (a double tap, a phone's retry racing the first try)."""
    tally = Tally()
    for n in range(pairs):
        browser, pages = browsers[n % len(browsers)]
        form = visit_form(browser, pages)
        if form is None:
            tally.failed()
            continue
        path, data = form
        barrier = threading.Barrier(2)

        def post(path: str = path, data: dict[str, str] = data, barrier: threading.Barrier = barrier,
                 browser: Browser = browser) -> None:
            barrier.wait()
            status, _text = browser.request("POST", path, data)
            with tally.lock:
                tally.sent.add(data["client_id"])
                if status == 302:
                    tally.confirmed.add(data["client_id"])
            if status != 302:
                tally.failed()

        twins = [threading.Thread(target=post) for _ in range(2)]
        for thread in twins:
            thread.start()
        for thread in twins:
            thread.join()
    lost, duplicated = count_rows(tally)
    return {"failed": len(tally.failures), "recovered_s": 0.0, "lost": lost, "duplicated": duplicated,
            "confirmed": len(tally.confirmed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument("--faults", default="worker,twice", help="comma-separated: worker,twice,postgres,redis")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30, help="load per fault (the fault a third of the way in)")
    parser.add_argument("--retry-seconds", type=float, default=60, help="how long a client re-sends a failed post")
    parser.add_argument("--pairs", type=int, default=50, help="double submissions of the `twice` fault")
    parser.add_argument("--postgres-restart", default="", help="shell command restarting PostgreSQL")
    parser.add_argument("--redis-stop", default="", help="shell command stopping Redis")
    parser.add_argument("--redis-start", default="", help="shell command starting Redis again")
    parser.add_argument("--outage-seconds", type=float, default=10)
    args = parser.parse_args()
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = set(faults) - {"worker", "twice", "postgres", "redis"}
    if unknown:
        raise SystemExit(f"unknown faults: {', '.join(sorted(unknown))}")
    if "postgres" in faults and not args.postgres_restart:
        raise SystemExit("--faults postgres needs --postgres-restart (it disrupts every user of that server)")
    if "redis" in faults and not (args.redis_stop and args.redis_start):
        raise SystemExit("--faults redis needs --redis-stop and --redis-start")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    redis_url = os.environ.get("LOAD_REDIS_URL", DEFAULT_REDIS)
    if redis_url and not redis_answers(redis_url):
        redis_url = ""
    make_city(url, args.residents, args.reuse_db)
    setup_django(url)
    workdir = Path(tempfile.mkdtemp(prefix="fk-faults-"))
    make_plan(workdir / "plan.json")
    plan = json.loads((workdir / "plan.json").read_text(encoding="utf-8"))
    server, port = start_gunicorn(url, args.workers, redis_url, workdir)
    log(f"gunicorn: {args.workers} workers on port {port}; log in {workdir}")
    results: dict[str, dict[str, float]] = {}
    try:
        sessions = []
        for account in plan["workers"][: min(args.users, len(plan["workers"]))]:
            browser = Browser(port)
            browser.log_in(account["username"], account["password"])
            sessions.append((browser, account["pages"]))
        # Several users share an account's session (a team's phones): log-ins are not what is measured.
        browsers = [sessions[n % len(sessions)] for n in range(args.users)]

        def kill_worker() -> None:
            pids = worker_pids(server.pid)
            if pids:
                os.kill(random.choice(pids), signal.SIGKILL)

        def outage(stop: str, start: str) -> None:
            def run() -> None:
                subprocess.run(stop, shell=True, check=False)
                if start:
                    threading.Timer(args.outage_seconds, subprocess.run, args=(start,),
                                    kwargs={"shell": True, "check": False}).start()
            return run  # type: ignore[return-value]

        for name in faults:
            log(f"fault: {name}")
            if name == "twice":
                results[name] = same_submission_twice(browsers, args.pairs)
            elif name == "worker":
                results[name] = under_load(name, port, browsers, args, kill_worker)
            elif name == "postgres":
                results[name] = under_load(name, port, browsers, args, outage(args.postgres_restart, ""))
            else:
                results[name] = under_load(name, port, browsers, args, outage(args.redis_stop, args.redis_start))
            log(f"    {results[name]}")
    finally:
        server.terminate()
        server.wait(30)
    print(f"loadavg_1m={os.getloadavg()[0]:.2f}")
    for name, result in results.items():
        print(f"{name}_confirmed={result['confirmed']}")
        print(f"{name}_failed={result['failed']}")
        print(f"{name}_recovered_s={result['recovered_s']}")
        print(f"{name}_lost={result['lost']}")
        print(f"{name}_duplicated={result['duplicated']}")
    print(f"lost_total={sum(int(r['lost']) for r in results.values())}")


if __name__ == "__main__":
    main()
