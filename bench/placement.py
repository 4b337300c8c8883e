"""Benchmark: the placement engine over 20,000 waiting people and 100 facilities, on PostgreSQL.

1. Build a demo city (the demo-city generator) and 100 facilities spread over it: designated hospitals
   (ICU, ordinary and single-room beds), shelter hospitals, isolation sites, recovery stations and
   fever clinics, with about 10% more beds of each kind than people need them, placed so that the
   nearest facilities fill up and load must spread;
2. take 20,000 residents into the four categories, all waiting for a bed (mixed category and
   severity, waiting up to three days);
3. time the engine on its own, and the whole run as a commander starts it (read the backlog and the
   free beds from the database, solve, store the plan for review), then confirming the plan (set-based
   booking of every bed, transfer orders);
4. run the nearest-free-bed greedy baseline (in the same priority order) on the same input.
Each figure on its own line; last, `ratio_vs_greedy=` = engine total distance / greedy total distance
(lower is better).

The database comes from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/fangkong_bench);
it is dropped and re-created on each run.

    .venv/bin/python bench/placement.py [--people N] [--facilities F] [--seed S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry import DEFAULT_URL, log, recreate_database, setup_django  # noqa: E402

# Share of the backlog per (status, severity); categories follow from them.
MIX = ((("confirmed", "critical"), 0.04), (("confirmed", "severe"), 0.12), (("confirmed", "moderate"), 0.16),
       (("confirmed", "mild"), 0.28), (("suspected", ""), 0.12), (("close_contact", ""), 0.20), (("fever", ""), 0.05),
       (("discharged", ""), 0.03))
# Facility kinds: (kind, share of the facilities, bed kinds it has).
KINDS = (("designated_hospital", 0.22, ("icu", "ordinary", "single_room")), ("shelter_hospital", 0.20, ("ordinary",)),
         ("isolation_site", 0.33, ("single_room",)), ("recovery_station", 0.10, ("ordinary", "single_room")),
         ("fever_clinic", 0.15, ("single_room", "ordinary")))
HEADROOM = 1.10


def build(people: int, facilities: int, seed: int):
    from django.db import transaction
    from django.utils import timezone

    from fangkong.accounts.models import Role, User
    from fangkong.areas.models import Area, Compound, Level
    from fangkong.cases.models import Case, Placement
    from fangkong.cases.transitions import routing_category
    from fangkong.demo.city import build_city
    from fangkong.facilities.models import BedPool, Facility
    from fangkong.facilities.routing import options
    from fangkong.people.models import Resident
    from fangkong.policy.services import current_policy

    rng = random.Random(seed)
    started = time.perf_counter()
    build_city(int(people * 1.05), seed)
    log(f"demo city: {Resident.objects.count()} residents in {time.perf_counter() - started:.1f} s")
    policy = current_policy()
    # Demand per (facility kind, bed kind) under the policy, spread over the preferred option.
    statuses = [key for key, share in MIX for _ in range(round(people * share))][:people]
    statuses += [MIX[-1][0]] * (people - len(statuses))
    rng.shuffle(statuses)
    demand: dict[tuple[str, str], int] = {}
    for status, severity in statuses:
        best = min(options(policy, routing_category(status, severity)), key=lambda o: o.rank)
        demand[(best.facility_kind, best.bed_kind)] = demand.get((best.facility_kind, best.bed_kind), 0) + 1
    points = list(Compound.objects.exclude(longitude=None).values_list("longitude", "latitude"))
    districts = list(Area.objects.filter(level=Level.DISTRICT).order_by("code"))
    with transaction.atomic():
        made = []
        for kind, share, _beds in KINDS:
            count = max(1, round(facilities * share))
            for i in range(count):
                lon, lat = rng.choice(points)
                made.append(Facility(name=f"{kind}-{i + 1}", kind=kind, area=rng.choice(districts),
                                     longitude=round(float(lon) + rng.uniform(-0.01, 0.01), 6),
                                     latitude=round(float(lat) + rng.uniform(-0.01, 0.01), 6)))
        made = made[:facilities]
        for facility in made:
            facility.area_code = facility.area.code
        Facility.objects.bulk_create(made)
        pools = []
        for kind, _share, beds in KINDS:
            own = [f for f in made if f.kind == kind]
            for bed in beds:
                need = demand.get((kind, bed), 0)
                total = max(len(own) * 5, int(need * HEADROOM))
                weights = [rng.uniform(0.3, 1.7) for _ in own]  # uneven sizes: some facilities fill first
                for facility, weight in zip(own, weights, strict=True):
                    pools.append(BedPool(facility=facility, kind=bed, capacity=max(1, int(total * weight / sum(weights)))))
        BedPool.objects.bulk_create(pools)
        now = timezone.now()
        residents = rng.sample(list(Resident.objects.order_by("id").values_list("id", "area_code")), people)
        Case.objects.bulk_create([
            Case(resident_id=rid, status=status, severity=severity, category=routing_category(status, severity),
                 area_code=code, placement=Placement.WAITING, waiting_since=now - dt.timedelta(minutes=rng.randint(0, 72 * 60)))
            for (rid, code), (status, severity) in zip(residents, statuses, strict=True)], batch_size=5000)
    city = Area.objects.get(level=Level.CITY)
    commander = User.objects.create_user("bench-commander", role=Role.CITY_COMMANDER, area=city)
    log(f"{len(made)} facilities with {sum(p.capacity for p in pools)} beds; {people} people waiting")
    return commander


def engine_input(user):
    from django.utils import timezone

    from fangkong.facilities import placement
    from fangkong.facilities.models import BedPool
    from fangkong.facilities.runs import backlog

    now = timezone.now()
    people = [placement.Person(pk, category, float(lon), float(lat), int((now - since).total_seconds() // 60))
              for pk, category, lon, lat, since in backlog(user).values_list(
                  "pk", "category", "resident__household__compound__longitude", "resident__household__compound__latitude",
                  "waiting_since")]
    pools = [placement.Pool(fid, kind, bed, float(lon), float(lat), cap - occ - bk - cl)
             for fid, kind, bed, lon, lat, cap, occ, bk, cl in BedPool.objects.values_list(
                 "facility_id", "facility__kind", "kind", "facility__longitude", "facility__latitude", "capacity", "occupied",
                 "booked", "closed")]
    return people, pools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--facilities", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recreate_database(url)
    setup_django(url)
    commander = build(args.people, args.facilities, args.seed)

    from fangkong.facilities import placement, runs
    from fangkong.policy.services import current_policy

    policy = current_policy()
    people, pools = engine_input(commander)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        plan = placement.place(people, pools, policy)
        best = min(best, time.perf_counter() - started)
    started = time.perf_counter()
    baseline = placement.greedy(people, pools, policy)
    greedy_seconds = time.perf_counter() - started
    engine_km, greedy_km = placement.total_km(plan), placement.total_km(baseline)

    started = time.perf_counter()
    run = runs.run_placement(commander)
    run_seconds = time.perf_counter() - started
    started = time.perf_counter()
    counts = runs.confirm_run(commander, run)
    confirm_seconds = time.perf_counter() - started

    print(f"people_waiting={len(people)}", flush=True)
    print(f"facilities={len({p.facility_id for p in pools})}", flush=True)
    print(f"beds_free={sum(p.free for p in pools)}", flush=True)
    print(f"engine_placed={sum(1 for a in plan if a.facility_id)}", flush=True)
    print(f"greedy_placed={sum(1 for a in baseline if a.facility_id)}", flush=True)
    print(f"engine_seconds={best:.2f}", flush=True)
    print(f"run_with_database_seconds={run_seconds:.2f}", flush=True)
    print(f"confirm_seconds={confirm_seconds:.2f}  # {counts['confirmed']} beds booked, {counts['refused']} refused", flush=True)
    print(f"greedy_seconds={greedy_seconds:.2f}", flush=True)
    print(f"engine_total_km={engine_km:.1f}", flush=True)
    print(f"greedy_total_km={greedy_km:.1f}", flush=True)
    print(f"ratio_vs_greedy={engine_km / greedy_km:.3f}", flush=True)


if __name__ == "__main__":
    main()
