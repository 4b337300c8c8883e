"""The placement engine: rules, priority, waiting time, distance and capacity, on small exact cases."""

import datetime as dt

import pytest

from fangkong.facilities.placement import Person, Pool, greedy, is_priority, place, total_km
from fangkong.facilities.routing import fits
from fangkong.policy.schema import Policy

POLICY = Policy()
# Two shelter hospitals 10 km apart on the equator-ish line (0.09° of longitude ≈ 10 km at 30.6°N).
WEST = Pool(1, "shelter_hospital", "ordinary", 114.20, 30.60, 1)
EAST = Pool(2, "shelter_hospital", "ordinary", 114.40, 30.60, 1)


def person(pk, category, lon=114.30, lat=30.60, waited=60):
    return Person(pk, category, lon, lat, waited)


def by_case(plan):
    return {a.case_id: a for a in plan}


def test_each_person_goes_to_the_nearest_fitting_bed_when_there_is_room():
    plan = by_case(place([person(1, "mild", lon=114.21), person(2, "moderate", lon=114.39)], [WEST, EAST], POLICY))
    assert plan[1].facility_id == 1 and plan[2].facility_id == 2
    assert plan[1].distance_km == pytest.approx(0.96, abs=0.05)


def test_load_spreads_to_the_next_facility_when_the_nearest_is_full_at_the_least_total_distance():
    # Both live near WEST, which has one bed: whoever is nearer to EAST is the one sent there.
    people = [person(1, "mild", lon=114.20), person(2, "mild", lon=114.25)]
    plan = by_case(place(people, [WEST, EAST], POLICY))
    assert {plan[1].facility_id, plan[2].facility_id} == {1, 2}
    assert plan[2].facility_id == 2  # moving the one 5 km nearer to EAST costs less in total


def test_the_whole_backlog_beats_a_nearest_free_bed_greedy_on_total_distance():
    # Greedy serves the longest wait first, who takes the nearest bed that the other needed more.
    near = Pool(1, "shelter_hospital", "ordinary", 114.30, 30.60, 1)
    far = Pool(2, "shelter_hospital", "ordinary", 114.50, 30.60, 1)
    people = [person(1, "mild", lon=114.32, waited=500), person(2, "mild", lon=114.20, waited=100)]
    engine, baseline = place(people, [near, far], POLICY), greedy(people, [near, far], POLICY)
    assert total_km(engine) < total_km(baseline)


def test_critical_before_severe_before_waiting_time_when_beds_are_short():
    icu = Pool(1, "designated_hospital", "icu", 114.30, 30.60, 1)
    people = [person(1, "severe", waited=900), person(2, "critical", waited=5)]
    plan = by_case(place(people, [icu], POLICY))
    assert plan[2].facility_id == 1 and plan[1].facility_id is None


def test_the_longest_wait_is_served_first_within_a_tier_even_if_farther():
    plan = by_case(place([person(1, "mild", lon=114.21, waited=10), person(2, "mild", lon=114.45, waited=300)], [WEST], POLICY))
    assert plan[2].facility_id == 1 and plan[1].facility_id is None


def test_suspected_cases_only_ever_get_single_rooms_and_close_contacts_wait_rather_than_share():
    pools = [Pool(1, "designated_hospital", "ordinary", 114.30, 30.60, 5), Pool(2, "shelter_hospital", "ordinary", 114.30, 30.60, 5),
             Pool(3, "isolation_site", "single_room", 114.60, 30.60, 1)]
    plan = by_case(place([person(1, "suspected", waited=50), person(2, "close_contact", waited=40)], pools, POLICY))
    assert (plan[1].facility_id, plan[1].bed_kind) == (3, "single_room")
    assert plan[2].facility_id is None  # the only single room is taken; shared wards are not allowed


def test_nobody_waits_while_a_fitting_bed_is_free_and_no_pool_is_overbooked():
    import random

    rng = random.Random(4)
    categories = ["critical", "severe", "moderate", "mild", "suspected", "close_contact", "fever", "discharged"]
    kinds = [("designated_hospital", "icu"), ("designated_hospital", "ordinary"), ("designated_hospital", "single_room"),
             ("shelter_hospital", "ordinary"), ("isolation_site", "single_room"), ("recovery_station", "ordinary"),
             ("fever_clinic", "single_room")]
    pools = [Pool(i, *rng.choice(kinds), 114 + rng.random(), 30 + rng.random(), rng.randint(0, 6)) for i in range(40)]
    people = [person(i, rng.choice(categories), 114 + rng.random(), 30 + rng.random(), rng.randint(0, 5000)) for i in range(300)]
    plan = place(people, pools, POLICY)
    used: dict[tuple[int, str], int] = {}
    pool_of = {(q.facility_id, q.bed_kind): q for q in pools}
    category = {p.case_id: p.category for p in people}
    for a in plan:
        if a.facility_id is not None:
            q = pool_of[(a.facility_id, a.bed_kind)]
            assert fits(POLICY, category[a.case_id], q.facility_kind, q.bed_kind)
            used[(a.facility_id, a.bed_kind)] = used.get((a.facility_id, a.bed_kind), 0) + 1
    assert all(n <= pool_of[key].free for key, n in used.items())
    for a in plan:
        if a.facility_id is None:
            left = [q for q in pools if fits(POLICY, category[a.case_id], q.facility_kind, q.bed_kind)
                    and q.free - used.get((q.facility_id, q.bed_kind), 0) > 0]
            assert not left


def test_the_bed_kind_order_is_a_preference_inside_a_facility():
    # 重型: ordinary beds first, then ICU. Ordinary beds are free in the same hospital: nobody severe takes an ICU bed.
    icu = Pool(1, "designated_hospital", "icu", 114.30, 30.60, 5)
    ordinary = Pool(1, "designated_hospital", "ordinary", 114.30, 30.60, 5)
    people = [person(i, "severe", lon=114.30 + i / 1000, waited=i) for i in range(1, 5)]
    for pools in ([icu, ordinary], [ordinary, icu]):
        plan = place(people, pools, POLICY)
        assert {a.bed_kind for a in plan} == {"ordinary"}, plan
        assert {a.bed_kind for a in greedy(people, pools, POLICY)} == {"ordinary"}
    # Reversed by the policy, the preference follows it; and once the ordinary beds are full the ICU takes the rest.
    icu_first = Policy(bed_kinds={**POLICY.bed_kinds, "severe": ["icu", "ordinary"]})
    assert {a.bed_kind for a in place(people, [ordinary, icu], icu_first)} == {"icu"}
    two = Pool(1, "designated_hospital", "ordinary", 114.30, 30.60, 2)
    assert sorted(a.bed_kind for a in place(people, [icu, two], POLICY)) == ["icu", "icu", "ordinary", "ordinary"]


def test_pregnant_women_and_infants_are_served_first_within_their_tier_as_the_policy_says():
    # One shelter bed, two mild patients: the one with priority (孕产妇 or an infant) gets it though she waited less.
    people = [person(1, "mild", waited=600), Person(2, "mild", 114.30, 30.60, 30, priority=True)]
    assert by_case(place(people, [WEST], POLICY))[2].facility_id == 1
    assert by_case(greedy(people, [WEST], POLICY))[2].facility_id == 1
    # Priority never jumps a tier: a critical patient still comes first.
    icu = Pool(1, "designated_hospital", "icu", 114.30, 30.60, 1)
    assert by_case(place([Person(1, "critical", 114.3, 30.6, 1), Person(2, "critical", 114.3, 30.6, 900, priority=False),
                          Person(3, "severe", 114.3, 30.6, 5, priority=True)], [icu], POLICY))[2].facility_id == 1
    # Who has priority is the policy's: the tag and the age limit, each switched on or off.
    pregnant, today = 16, dt.date(2020, 2, 20)
    baby, toddler = dt.date(2019, 6, 1), dt.date(2018, 6, 1)
    assert is_priority(POLICY, pregnant, dt.date(1990, 1, 1), today)
    assert not is_priority(Policy(placement_pregnant_first=False), pregnant, dt.date(1990, 1, 1), today)
    assert is_priority(POLICY, 0, baby, today) and not is_priority(POLICY, 0, toddler, today)
    assert is_priority(Policy(placement_infant_max_years=2), 0, toddler, today)
    assert not is_priority(Policy(placement_infant_first=False), 0, baby, today)
