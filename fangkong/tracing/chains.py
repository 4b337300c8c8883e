"""Transmission chains (传播链) drawn as a graph, and clusters (聚集性疫情) for the command centre.

A chain is the connected component of a case in the infection links (a recursive CTE, both
directions); an area's graph is every link of the area. The layout is computed here, layered by
generation (a case with no known infector is generation 0, an infectee one below its infector), and
drawn by the template as inline SVG: no JavaScript, no new dependency.

Clusters are one grouped query per grouping (household, building): confirmed and suspected cases
whose status changed within the policy's cluster window, at least policy.cluster_min_cases of them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from fangkong.accounts.models import User
from fangkong.cases.models import Case, Status
from fangkong.policy.services import current_policy
from fangkong.tracing.models import InfectionLink

MAX_NODES = 300
COLUMN = 120  # px between nodes of one generation
ROW = 90  # px between generations
CLUSTERED = (Status.CONFIRMED, Status.SUSPECTED)

COMPONENT_SQL = """
WITH RECURSIVE comp(case_id) AS (
    SELECT id FROM cases_case WHERE id = %s  -- (a column, not a literal: the same type as the links' ids)
    UNION
    SELECT CASE WHEN l.infector_id = comp.case_id THEN l.infectee_id ELSE l.infector_id END
    FROM comp JOIN tracing_infectionlink l ON l.infector_id = comp.case_id OR l.infectee_id = comp.case_id
)
SELECT case_id FROM comp LIMIT %s
"""


@dataclass
class Node:
    case_id: int
    label: str
    status: str
    status_label: str
    visible: bool
    generation: int = 0
    x: int = 0
    y: int = 0


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[Node, Node]] = field(default_factory=list)
    width: int = 0
    height: int = 0
    truncated: bool = False
    focus: int | None = None  # the case whose chain is drawn


def component_ids(case_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(COMPONENT_SQL, [case_id, MAX_NODES + 1])
        return [row[0] for row in cursor.fetchall()]


def _build(user: User, links: list[tuple[int, int]], case_ids: set[int], focus: int | None = None) -> Graph:
    truncated = len(case_ids) > MAX_NODES
    if truncated:
        case_ids = set(sorted(case_ids)[:MAX_NODES])
        links = [(a, b) for a, b in links if a in case_ids and b in case_ids]
    visible = set(Case.objects.restrict(user).filter(pk__in=case_ids).values_list("pk", flat=True))
    cases = Case.objects.filter(pk__in=case_ids).select_related("resident")
    nodes = {}
    for case in cases:
        shown = case.pk in visible
        # Names in the user's scope as on every other list of theirs; cases outside it appear as anonymous
        # nodes: the chain stays whole, the person hidden.
        nodes[case.pk] = Node(case.pk, case.resident.name if shown else "—", case.status,
                              str(case.status_label) if shown else "", shown)
    parents: dict[int, list[int]] = defaultdict(list)
    for a, b in links:
        parents[b].append(a)
    generation: dict[int, int] = {}

    def depth(pk: int, trail: frozenset[int] = frozenset()) -> int:
        if pk not in generation:
            ups = [p for p in parents.get(pk, []) if p not in trail]
            generation[pk] = 1 + max((depth(p, trail | {pk}) for p in ups), default=-1)
        return generation[pk]

    rows: dict[int, list[Node]] = defaultdict(list)
    for pk in sorted(nodes):
        node = nodes[pk]
        node.generation = depth(pk)
        rows[node.generation].append(node)
    width = max((len(r) for r in rows.values()), default=0) * COLUMN
    for gen, row in rows.items():
        offset = (width - len(row) * COLUMN) // 2
        for i, node in enumerate(row):
            node.x, node.y = offset + i * COLUMN + COLUMN // 2, gen * ROW + 40
    graph = Graph(nodes=[nodes[pk] for pk in sorted(nodes)],
                  edges=[(nodes[a], nodes[b]) for a, b in links if a in nodes and b in nodes],
                  width=max(width, COLUMN), height=(max(rows, default=0) + 1) * ROW, truncated=truncated,
                  focus=focus)
    return graph


def chain_of(user: User, case: Case) -> Graph:
    ids = set(component_ids(case.pk))
    links = list(InfectionLink.objects.filter(infector_id__in=ids, infectee_id__in=ids).values_list("infector_id", "infectee_id"))
    return _build(user, links, ids, focus=case.pk)


def chains_in_area(user: User, code: str) -> Graph:
    """Every link whose infectee lives in the area (as the user may see it)."""
    links = list(InfectionLink.objects.within(user, code).order_by("id").values_list("infector_id", "infectee_id")[:MAX_NODES * 2])
    ids = {pk for link in links for pk in link}
    return _build(user, links, ids)


@dataclass
class Cluster:
    kind: str  # "household" or "building"
    key: int
    place: str
    members: list[Case]


def clusters(user: User, code: str, *, now: dt.datetime | None = None) -> list[Cluster]:
    """Clusters of confirmed and suspected cases in the area, per household and per building (a
    building cluster that is exactly a household cluster is listed once, as the household)."""
    policy = current_policy()
    since = (now or timezone.now()) - dt.timedelta(days=policy.risk_cluster_window_days)
    recent = (Case.objects.within(user, code).filter(status__in=CLUSTERED)
              .filter(Q(status_since__gte=since) | Q(opened_at__gte=since)))
    groups: list[tuple[str, int, int]] = []
    for kind, column in (("household", "resident__household_id"), ("building", "resident__household__building_id")):
        for row in recent.values(column).annotate(n=Count("id")).filter(n__gte=policy.cluster_min_cases).order_by("-n", column):
            groups.append((kind, row[column], row["n"]))
    if not groups:
        return []
    household_ids = {key for kind, key, _n in groups if kind == "household"}
    building_ids = {key for kind, key, _n in groups if kind == "building"}
    members = list(recent.filter(Q(resident__household_id__in=household_ids) | Q(resident__household__building_id__in=building_ids))
                   .select_related("resident__household__compound", "resident__household__building", "resident__household__unit")
                   .order_by("status_since", "id"))
    result, household_sets = [], []
    for kind, key, _n in groups:
        if kind == "household":
            people = [c for c in members if c.resident.household_id == key]
            place = people[0].resident.household.address if people else ""
            household_sets.append({c.pk for c in people})
        else:
            people = [c for c in members if c.resident.household.building_id == key]
            if {c.pk for c in people} in household_sets:
                continue
            place = str(people[0].resident.household.building) if people else ""
        result.append(Cluster(kind, key, place, people))
    return result
