"""The placement engine: the whole backlog at once, as two min-cost-flow problems.

Why OR-Tools (`ortools.graph.python.min_cost_flow.SimpleMinCostFlow`): placing people into beds is a
transportation problem (people → facility bed pools with capacities). OR-Tools' network-simplex/cost-
scaling solver is C++ behind numpy arrays, solves 20,000 people × 100 facilities (~10^6 arcs) in about
a second, and is integral by construction. scipy's `linear_sum_assignment` needs one column per bed
(tens of thousands) and networkx's pure-Python network simplex is orders of magnitude slower at this
size; an LP through scipy's HiGHS would work but gives no integrality guarantee by contract.

Two stages, so the rules are met exactly in their order of importance:

1. **Who** gets a bed. People → (facility kind, bed kind) nodes, each with the total free beds of that
   kind. Each person earns `rank × (R + 1) + wait rank` for being placed (rank: twice the tier of the
   policy's `placement_first` order, critical then severe, plus one for priority inside the tier:
   pregnant women and infants as the policy says; wait rank: longer waiting ranks higher, R ranks in
   all). Exchanging one person for another is the only way to change the set, so the optimum serves
   higher tiers first, then priority, then longer waits; and since every placement earns a positive reward, nobody
   is left waiting while a bed that fits them is free.
2. **Where** they go. Exactly the people chosen in stage 1, to single facility pools, at the cost of
   the great-circle distance from their compound to the facility plus `placement_preference_km` per
   step down the category's routing preference; inside one facility, the policy's `bed_kinds` order
   decides (a severe patient takes an ordinary bed before an ICU bed of the same hospital). Capacities
   make the solver spread load when the nearest facility is full: total transfer distance is minimal
   for the chosen people.

The engine is a pure function over plain tuples; `services.run_placement` feeds it from the database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from fangkong.facilities.routing import options
from fangkong.people.models import SpecialGroup
from fangkong.policy.schema import Policy

EARTH_RADIUS_KM = 6371.0088
COST_UNITS_PER_KM = 10  # costs are integers: 100 m steps
BED_RANK_STEPS = 4  # more than the bed kinds a category can list (policy.schema.BED_KINDS)


@dataclass(frozen=True)
class Person:
    case_id: int
    category: str
    longitude: float | None
    latitude: float | None
    waited_minutes: int
    priority: bool = False  # pregnant or postpartum, or an infant, as the policy says (see is_priority)


@dataclass(frozen=True)
class Pool:
    facility_id: int
    facility_kind: str
    bed_kind: str
    longitude: float
    latitude: float
    free: int


@dataclass(frozen=True)
class Assignment:
    case_id: int
    facility_id: int | None  # None: no bed that fits is free
    bed_kind: str
    distance_km: float | None


class SolverError(RuntimeError):
    pass


def distances_km(lon: np.ndarray, lat: np.ndarray, pool_lon: np.ndarray, pool_lat: np.ndarray) -> np.ndarray:
    """Great-circle (haversine) distances, people × pools, in km."""
    lat1, lon1 = np.radians(lat)[:, None], np.radians(lon)[:, None]
    lat2, lon2 = np.radians(pool_lat)[None, :], np.radians(pool_lon)[None, :]
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def tiers(policy: Policy, categories: Sequence[str]) -> np.ndarray:
    first = policy.placement_first
    return np.array([len(first) - first.index(c) if c in first else 0 for c in categories], dtype=np.int64)


def ranks(policy: Policy, people: Sequence[Person]) -> np.ndarray:
    """Service order before waiting time: the category's tier, then priority (孕产妇, infants) within it."""
    return tiers(policy, [p.category for p in people]) * 2 + np.array([p.priority for p in people], dtype=np.int64)


def is_priority(policy: Policy, special_groups: int, birth_date: dt.date | None, today: dt.date) -> bool:
    """Pregnant or postpartum (the 孕产妇 tag), or younger than `placement_infant_max_years` whole years,
    each as far as the policy switches it on."""
    if policy.placement_pregnant_first and special_groups & SpecialGroup.PREGNANT:
        return True
    if policy.placement_infant_first and birth_date is not None:
        years = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
        return years < policy.placement_infant_max_years
    return False


def wait_ranks(waited: np.ndarray) -> np.ndarray:
    """Dense ranks of waiting times: the shortest wait is 0."""
    _values, inverse = np.unique(waited, return_inverse=True)
    return inverse.astype(np.int64)


def _solve(flow: min_cost_flow.SimpleMinCostFlow) -> None:
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status}")


def _locations(people: Sequence[Person], pools: Sequence[Pool]) -> tuple[np.ndarray, np.ndarray]:
    """People's coordinates; an unknown location counts as the centre of the facilities."""
    lon = np.array([p.longitude if p.longitude is not None else math.nan for p in people], dtype=float)
    lat = np.array([p.latitude if p.latitude is not None else math.nan for p in people], dtype=float)
    if pools:
        lon[np.isnan(lon)] = float(np.mean([q.longitude for q in pools]))
        lat[np.isnan(lat)] = float(np.mean([q.latitude for q in pools]))
    return lon, lat


def choose(people: Sequence[Person], pools: Sequence[Pool], policy: Policy) -> np.ndarray:
    """Stage 1: a boolean mask of the people who get a bed."""
    n = len(people)
    chosen = np.zeros(n, dtype=bool)
    if n == 0 or not pools:
        return chosen
    kinds = sorted({(q.facility_kind, q.bed_kind) for q in pools if q.free > 0})
    kind_index = {k: i for i, k in enumerate(kinds)}
    free = np.zeros(len(kinds), dtype=np.int64)
    for q in pools:
        if q.free > 0:
            free[kind_index[(q.facility_kind, q.bed_kind)]] += q.free
    categories = [p.category for p in people]
    reward = ranks(policy, people) * (n + 1) + wait_ranks(np.array([p.waited_minutes for p in people])) + 1
    # Nodes: 0 = source, 1..n people, then kinds, then the sink.
    sink = n + len(kinds) + 1
    tails, heads, costs = [], [], []
    by_category: dict[str, list[int]] = {}
    for i, category in enumerate(categories):
        by_category.setdefault(category, []).append(i)
    for category, members in by_category.items():
        targets = sorted({kind_index[(o.facility_kind, o.bed_kind)] for o in options(policy, category)
                          if (o.facility_kind, o.bed_kind) in kind_index})
        idx = np.array(members, dtype=np.int64)
        for k in targets:
            tails.append(idx + 1)
            heads.append(np.full(len(idx), n + 1 + k, dtype=np.int64))
            costs.append(-reward[idx])
    if not tails:
        return chosen
    flow = min_cost_flow.SimpleMinCostFlow()
    person_nodes = np.arange(1, n + 1, dtype=np.int64)
    # Each person: from the source, then to a kind (placed) or straight to the sink (waits on).
    flow.add_arcs_with_capacity_and_unit_cost(np.zeros(n, dtype=np.int64), person_nodes, np.ones(n, dtype=np.int64),
                                              np.zeros(n, dtype=np.int64))
    t, h, c = np.concatenate(tails), np.concatenate(heads), np.concatenate(costs)
    placed_arcs_start = flow.num_arcs()
    flow.add_arcs_with_capacity_and_unit_cost(t, h, np.ones(len(t), dtype=np.int64), c)
    flow.add_arcs_with_capacity_and_unit_cost(person_nodes, np.full(n, sink, dtype=np.int64), np.ones(n, dtype=np.int64),
                                              np.zeros(n, dtype=np.int64))
    kind_nodes = np.arange(n + 1, n + 1 + len(kinds), dtype=np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(kind_nodes, np.full(len(kinds), sink, dtype=np.int64), free,
                                              np.zeros(len(kinds), dtype=np.int64))
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[0], supplies[sink] = n, -n
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    _solve(flow)
    arcs = np.arange(placed_arcs_start, placed_arcs_start + len(t))
    used = flow.flows(arcs) > 0
    chosen[t[used] - 1] = True
    return chosen


def place(people: Sequence[Person], pools: Sequence[Pool], policy: Policy) -> list[Assignment]:
    """Plan the whole backlog: one Assignment per person, in the order given."""
    n = len(people)
    if n == 0:
        return []
    chosen = choose(people, pools, policy)
    result: list[Assignment | None] = [None] * n
    for i in np.flatnonzero(~chosen):
        result[i] = Assignment(people[i].case_id, None, "", None)
    picked = np.flatnonzero(chosen)
    if len(picked):
        open_pools = [q for q in pools if q.free > 0]
        lon, lat = _locations(people, open_pools)
        pool_lon = np.array([q.longitude for q in open_pools], dtype=float)
        pool_lat = np.array([q.latitude for q in open_pools], dtype=float)
        m = len(open_pools)
        # Nodes: 0..k-1 chosen people, k..k+m-1 pools, sink k+m.
        k = len(picked)
        sink = k + m
        tails, heads, costs, kms = [], [], [], []
        by_category: dict[str, list[int]] = {}
        for j, i in enumerate(picked):
            by_category.setdefault(people[i].category, []).append(j)
        for category, members in by_category.items():
            ranked = {(o.facility_kind, o.bed_kind): o for o in options(policy, category)}
            columns = [c for c, q in enumerate(open_pools) if (q.facility_kind, q.bed_kind) in ranked]
            if not columns:
                continue
            cols = np.array(columns, dtype=np.int64)
            rows = np.array(members, dtype=np.int64)
            km = distances_km(lon[picked[rows]], lat[picked[rows]], pool_lon[cols], pool_lat[cols])
            chosen_options = [ranked[(open_pools[c].facility_kind, open_pools[c].bed_kind)] for c in columns]
            penalty = np.array([o.rank for o in chosen_options], dtype=float)
            bed_rank = np.array([o.bed_rank for o in chosen_options], dtype=np.int64)
            # The bed kind's order is the last digit of the cost: it decides between the pools of one facility
            # (equal distance) and never outweighs 100 m of distance or the facility preference.
            cost = np.rint((km + penalty[None, :] * policy.placement_preference_km) * COST_UNITS_PER_KM).astype(np.int64)
            cost = cost * BED_RANK_STEPS + bed_rank[None, :]
            tails.append(np.repeat(rows, len(cols)))
            heads.append(np.tile(cols + k, len(rows)))
            costs.append(cost.ravel())
            kms.append(km.ravel())
        t, h, c, d = np.concatenate(tails), np.concatenate(heads), np.concatenate(costs), np.concatenate(kms)
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(t, h, np.ones(len(t), dtype=np.int64), c)
        free = np.array([q.free for q in open_pools], dtype=np.int64)
        flow.add_arcs_with_capacity_and_unit_cost(np.arange(k, k + m, dtype=np.int64), np.full(m, sink, dtype=np.int64),
                                                  free, np.zeros(m, dtype=np.int64))
        supplies = np.zeros(sink + 1, dtype=np.int64)
        supplies[:k], supplies[sink] = 1, -k
        flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
        _solve(flow)
        used = np.flatnonzero(flow.flows(np.arange(len(t))) > 0)
        for arc in used:
            i = picked[t[arc]]
            pool = open_pools[h[arc] - k]
            result[i] = Assignment(people[i].case_id, pool.facility_id, pool.bed_kind, float(d[arc]))
    return [a for a in result if a is not None]


def greedy(people: Sequence[Person], pools: Sequence[Pool], policy: Policy) -> list[Assignment]:
    """The baseline: in priority order (tier, then waiting time), each person takes the nearest
    facility with a free bed that fits (same preference penalty as the engine). For comparison only."""
    n = len(people)
    if n == 0:
        return []
    open_pools = list(pools)
    free = np.array([q.free for q in open_pools], dtype=np.int64)
    lon, lat = _locations(people, open_pools)
    pool_lon = np.array([q.longitude for q in open_pools], dtype=float)
    pool_lat = np.array([q.latitude for q in open_pools], dtype=float)
    order = np.lexsort((-np.array([p.waited_minutes for p in people]), -ranks(policy, people)))
    masks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    out: list[Assignment] = []
    for i in order:
        person = people[i]
        if person.category not in masks:
            ranked = {(o.facility_kind, o.bed_kind): o for o in options(policy, person.category)}
            allowed = np.array([(q.facility_kind, q.bed_kind) in ranked for q in open_pools], dtype=bool)
            found = [ranked.get((q.facility_kind, q.bed_kind)) for q in open_pools]
            penalty = np.array([o.rank if o else 0 for o in found], dtype=float)
            bed_rank = np.array([o.bed_rank if o else 0 for o in found], dtype=float)
            # Same tie-break as the engine: the bed kind's order inside a facility, below 100 m of distance.
            masks[person.category] = (allowed, penalty * policy.placement_preference_km + bed_rank * 0.1 / BED_RANK_STEPS)
        allowed, penalty = masks[person.category]
        candidates = np.flatnonzero(allowed & (free > 0))
        if not len(candidates):
            out.append(Assignment(person.case_id, None, "", None))
            continue
        km = distances_km(lon[i:i + 1], lat[i:i + 1], pool_lon[candidates], pool_lat[candidates])[0]
        best = int(np.argmin(km + penalty[candidates]))
        chosen = candidates[best]
        free[chosen] -= 1
        out.append(Assignment(person.case_id, open_pools[chosen].facility_id, open_pools[chosen].bed_kind, float(km[best])))
    return out


def total_km(assignments: Sequence[Assignment]) -> float:
    return float(sum(a.distance_km for a in assignments if a.distance_km is not None))
