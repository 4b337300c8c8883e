"""The rings of a case: close contacts (first ring, 密接) and their close contacts (second ring, 次密接).

One recursive CTE over the edge table, depth ≤ 2, on SQLite and PostgreSQL alike: each step is an
index lookup on (source_resident_id, is_close) — the database walks the graph; Python never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from fangkong.accounts.models import User
from fangkong.cases.models import Case
from fangkong.people.models import Resident

RING_SQL = """
WITH RECURSIVE ring(resident_id, depth) AS (
    SELECT e.target_resident_id, 1 FROM tracing_contactedge e
    WHERE e.source_resident_id = %(index)s AND e.is_close
    UNION
    SELECT e.target_resident_id, ring.depth + 1 FROM ring
    JOIN tracing_contactedge e ON e.source_resident_id = ring.resident_id AND e.is_close
    WHERE ring.depth < %(depth)s
)
SELECT resident_id, MIN(depth) FROM ring WHERE resident_id <> %(index)s GROUP BY resident_id
"""


def ring_ids(index_resident_id: int, max_depth: int = 2) -> dict[int, int]:
    """{resident id: ring (1 or 2)} for everyone within `max_depth` close-contact steps."""
    with connection.cursor() as cursor:
        cursor.execute(RING_SQL, {"index": index_resident_id, "depth": max_depth})
        return dict(cursor.fetchall())


@dataclass
class Rings:
    first: list[Resident] = field(default_factory=list)
    second: list[Resident] = field(default_factory=list)
    # People of the rings outside the user's scope: counted, never named (their area's workers and
    # the commanders above see them).
    hidden_first: int = 0
    hidden_second: int = 0


def rings(user: User, subject: Resident | Case, *, limit: int = 500) -> Rings:
    """The two rings of a case (or a person) as the user may see them, with each person's case."""
    resident_id = subject.resident_id if isinstance(subject, Case) else subject.pk
    depths = ring_ids(resident_id)
    result = Rings()
    if not depths:
        return result
    in_scope = Resident.objects.restrict(user).filter(pk__in=list(depths))
    seen = set(in_scope.values_list("pk", flat=True))
    shown = (in_scope.select_related("household__compound", "household__building", "household__unit", "case")
             .order_by("name", "id"))[:limit]
    for resident in shown:
        (result.first if depths[resident.pk] == 1 else result.second).append(resident)
    result.hidden_first = sum(1 for pk, d in depths.items() if d == 1 and pk not in seen)
    result.hidden_second = sum(1 for pk, d in depths.items() if d == 2 and pk not in seen)
    return result
