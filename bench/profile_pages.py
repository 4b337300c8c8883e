"""Per-request cost of the pages of a city's morning, in one process (no HTTP server): the grid worker's
day list, the visit form and its POST, the household self-report page and its POST, and the commander's
coverage page. For each: the median wall time (ms), the median CPU time of this process (ms: Django's
own work, steadier than wall time on a busy machine) and the number of SQL queries, through the whole
middleware stack (Django's test client with a logged-in session). `--profile NAME` prints cProfile's top
functions for one of them (where the time goes: queries, templates, forms, middleware).

    .venv/bin/python bench/profile_pages.py [--repeat 20] [--profile daylist]

Runs on the database of BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/fk_load_bench),
which must hold a demo city (`bench/load.py` makes one). It adds visits and self-reports to it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fk_load_bench"


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    os.environ.setdefault("FANGKONG_DEMO", "1")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()


def visit_post_data(residents: list, self_report: bool = False) -> dict[str, str]:
    """What the visit form (or the self-report page) posts: everyone present at 36.5 °C."""
    data = {"client_id": str(uuid.uuid4())}
    if not self_report:
        data.update(method="door", outcome="reached")
    for resident in residents:
        data.update({f"r{resident.pk}-presence": "present", f"r{resident.pk}-temperature": "36.5",
                     f"r{resident.pk}-temperature_method": "forehead"})
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", choices=["daylist", "daylist_p5", "visit_get", "visit_post", "selfreport_get",
                                              "selfreport_post", "coverage", "hello"])
    args = parser.parse_args()
    setup(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from fangkong.accounts.models import User
    from fangkong.areas.models import Household
    from fangkong.people.models import Resident
    from fangkong.screening.links import link_for

    grid_user = User.objects.get(username="grid")
    commander = User.objects.get(username="street")
    worker, boss, public = Client(), Client(), Client()
    worker.force_login(grid_user)
    boss.force_login(commander)
    households = list(Household.objects.filter(area_code__startswith=grid_user.area.code).order_by("id"))
    print(f"grid {grid_user.area.code}: {len(households)} households", file=sys.stderr)
    residents_of = {}
    for resident in Resident.objects.filter(household__in=households).order_by("id"):
        residents_of.setdefault(resident.household_id, []).append(resident)
    households = [h for h in households if h.pk in residents_of]
    links = [link_for(grid_user, h) for h in households[:200]]
    counter = {"n": 0}

    def next_household():
        counter["n"] += 1
        return households[counter["n"] % len(households)]

    def visit_post() -> int:
        household = next_household()
        return worker.post(reverse("screening:visit", args=[household.pk]),
                           visit_post_data(residents_of[household.pk])).status_code

    def selfreport_post() -> int:
        counter["n"] += 1
        link = links[counter["n"] % len(links)]
        return public.post(reverse("selfreport:report", args=[link.token]),
                           visit_post_data(residents_of[link.household_id], self_report=True),
                           REMOTE_ADDR=f"10.1.{counter['n'] // 250 % 250}.{counter['n'] % 250}").status_code

    def selfreport_get() -> int:
        counter["n"] += 1
        link = links[counter["n"] % len(links)]
        return public.get(reverse("selfreport:report", args=[link.token]),
                          REMOTE_ADDR=f"10.2.{counter['n'] // 250 % 250}.{counter['n'] % 250}").status_code

    cases: dict[str, Callable[[], int]] = {
        "hello": lambda: worker.get(reverse("accounts:password_change")).status_code,
        "daylist": lambda: worker.get(reverse("screening:today")).status_code,
        "daylist_p5": lambda: worker.get(reverse("screening:today") + "?page=5").status_code,
        "visit_get": lambda: worker.get(reverse("screening:visit", args=[next_household().pk])).status_code,
        "visit_post": visit_post,
        "selfreport_get": selfreport_get,
        "selfreport_post": selfreport_post,
        "coverage": lambda: boss.get(reverse("screening:coverage", args=[commander.area.code])).status_code,
    }
    if args.profile:
        run = cases[args.profile]
        run()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            run()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(45)
        print(out.getvalue())
        return
    for name, run in cases.items():
        status = run()  # warm: templates compiled, connections open
        times, cpu, queries = [], [], []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                start, start_cpu = time.perf_counter(), time.process_time()
                status = run()
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            queries.append(len(captured.captured_queries))
        print(f"{name:16} status={status} median_ms={statistics.median(times):7.1f} "
              f"cpu_ms={statistics.median(cpu):6.1f} queries={statistics.median(queries):.0f}")


if __name__ == "__main__":
    main()
