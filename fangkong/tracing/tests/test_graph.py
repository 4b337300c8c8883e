"""The rings query (one recursive CTE) against a plain Python BFS, the chains drawn from infection
links, and clusters from one grouped query."""

import datetime as dt
import random
from collections import deque

import pytest

from fangkong.areas.models import Household, Unit
from fangkong.cases import services as cases
from fangkong.cases.models import Case, Status
from fangkong.core.identity import make_id_number
from fangkong.people.models import Resident
from fangkong.tracing import chains, rings
from fangkong.tracing.infections import record_infection_link
from fangkong.tracing.models import ContactEdge

pytestmark = pytest.mark.django_db


def python_rings(edges: list[tuple[int, int, bool]], index: int) -> dict[int, int]:
    adjacency: dict[int, list[int]] = {}
    for source, target, close in edges:
        if close:
            adjacency.setdefault(source, []).append(target)
    depth = {index: 0}
    queue = deque([index])
    while queue:
        node = queue.popleft()
        if depth[node] == 2:
            continue
        for nxt in adjacency.get(node, []):
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    return {node: d for node, d in depth.items() if d > 0}


def many_residents(city, n: int) -> list[int]:
    unit = Unit.objects.get(building=city.buildings["a1"], name="1单元")
    household = Household.objects.create(unit=unit, room="999")
    people = [Resident(household=household, name=f"测{i}", sex="M", birth_date=dt.date(1980, 1, 1),
                       doc_number=make_id_number("420102", dt.date(1980, 1, 1) + dt.timedelta(days=i), 1 + 2 * (i % 400)),
                       area_code=household.area_code) for i in range(n)]
    return [r.pk for r in Resident.objects.bulk_create(people)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_rings_query_equals_a_python_breadth_first_search_on_a_random_graph(city, seed):
    rng = random.Random(seed)
    ids = many_residents(city, 60)
    edges = {(rng.choice(ids), rng.choice(ids)) for _ in range(rng.randint(50, 200))}
    rows = [(s, t, rng.random() < 0.7) for s, t in edges if s != t]
    ContactEdge.objects.bulk_create([ContactEdge(source_resident_id=s, target_resident_id=t, is_close=c,
                                                 last_exposure_on=dt.date.today(), area_code="420102001001001") for s, t, c in rows])
    for index in rng.sample(ids, 5):
        assert rings.ring_ids(index) == python_rings(rows, index)


def test_a_worker_sees_the_rings_in_their_scope_and_only_counts_the_others(city):
    r = city.residents
    for source, target in (("zhangwei", "lina"), ("zhangwei", "liuyang"), ("lina", "wangfang"), ("liuyang", "wanglaoshi")):
        ContactEdge.objects.create(source_resident=r[source], target_resident=r[target], last_exposure_on=dt.date.today(),
                                   area_code=r[source].area_code)
    seen = rings.rings(city.users["grid_a"], r["zhangwei"])
    assert [p.name for p in seen.first] == ["李娜"] and seen.hidden_first == 1  # 刘洋 lives in 武昌
    assert [p.name for p in seen.second] == ["王建国"] and seen.hidden_second == 1  # 王芳 is in grid B
    everything = rings.rings(city.users["city"], r["zhangwei"])
    assert len(everything.first) == 2 and len(everything.second) == 2


def _case(city, key, status=Status.CONFIRMED):
    return cases.open_case(city.users["city"], city.residents[key], status, "确诊", severity="mild" if status == Status.CONFIRMED else "")


def test_a_chain_is_laid_out_by_generation_and_hides_people_out_of_scope(city):
    zhang, lina, wang, liu = (_case(city, k) for k in ("zhangwei", "lina", "wanglaoshi", "liuyang"))
    commander = city.users["city"]
    record_infection_link(commander, zhang, lina)
    record_infection_link(commander, lina, wang)
    record_infection_link(commander, liu, zhang)
    graph = chains.chain_of(city.users["grid_a"], zhang)
    by_case = {n.case_id: n for n in graph.nodes}
    assert [by_case[c.pk].generation for c in (liu, zhang, lina, wang)] == [0, 1, 2, 3]
    # Names in the worker's scope are shown; the person outside it is a node without a name.
    assert by_case[zhang.pk].label == "张伟" and by_case[liu.pk].label == "—" and not by_case[liu.pk].visible
    assert len(graph.edges) == 3 and graph.focus == zhang.pk
    area = chains.chains_in_area(city.users["grid_a"], "420102001001001")
    assert {n.case_id for n in area.nodes} == {zhang.pk, lina.pk, wang.pk, liu.pk}


def test_two_cases_in_one_household_within_the_window_are_a_cluster(city):
    _case(city, "zhangwei")
    _case(city, "lina", Status.SUSPECTED)
    _case(city, "wangfang")  # another building: alone
    found = chains.clusters(city.users["community"], "420102001001")
    assert [(c.kind, c.place, sorted(m.resident.name for m in c.members)) for c in found] == [
        ("household", "青和居小区1栋1单元101", ["张伟", "李娜"])]
    assert chains.clusters(city.users["grid_b"], "420102001001002") == []


def test_the_building_groups_cases_of_different_households_and_old_cases_drop_out(city):
    zhang = _case(city, "zhangwei")
    _case(city, "wanglaoshi")
    found = chains.clusters(city.users["city"], "4201")
    assert [(c.kind, c.place, len(c.members)) for c in found] == [("building", "青和居小区 1栋", 2)]
    long_ago = zhang.status_since - dt.timedelta(days=30)
    Case.objects.filter(pk=zhang.pk).update(status_since=long_ago, opened_at=long_ago)
    assert chains.clusters(city.users["city"], "4201") == []
