"""Live counts over the area tree: set-based prefix queries, one per table, never a tree walk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection

from fangkong.areas.models import CODE_LENGTH, Area, Household, Level


@dataclass
class Counts:
    households: int = 0
    residents: int = 0
    special: int = 0  # residents with at least one special-group tag
    by_group: dict[int, int] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        self.households += other.households
        self.residents += other.residents
        self.special += other.special
        for bit, n in other.by_group.items():
            self.by_group[bit] = self.by_group.get(bit, 0) + n


def tree_counts(code: str, child_width: int | None = None) -> tuple[Counts, dict[str, Counts]]:
    """Counts for the subtree under `code` and, if `child_width` is given, for each child (keyed by
    the first `child_width` characters of the area codes below). Two grouped queries in all.

    Residents are first grouped by (area code, special groups): on PostgreSQL that is a streaming
    aggregate over an index-only scan of `resident_area_groups_idx`, the cheapest way to touch a
    million rows; the outer query folds those groups into children and special-group counts.
    Households of a community not yet assigned to a grid carry the community's own code and appear
    under that code when the children are grids.
    """
    from fangkong.people.models import Resident, SpecialGroup  # people depends on areas, not the reverse

    if not code.isdigit():  # area codes are digits: safe inside LIKE without escaping
        raise ValueError(code)
    width = child_width or len(code)
    bits = list(SpecialGroup.LABELS)
    per_bit = "".join(f", SUM(CASE WHEN special_groups & {bit} > 0 THEN n ELSE 0 END)" for bit in bits)
    residents_sql = (
        f"SELECT SUBSTR(area_code, 1, {width}) AS prefix, SUM(n), SUM(CASE WHEN special_groups > 0 THEN n ELSE 0 END)"
        f"{per_bit} FROM (SELECT area_code, special_groups, COUNT(*) AS n FROM {Resident._meta.db_table} "
        "WHERE area_code LIKE %s GROUP BY area_code, special_groups) grouped GROUP BY prefix"
    )
    households_sql = (f"SELECT SUBSTR(area_code, 1, {width}) AS prefix, COUNT(*) FROM {Household._meta.db_table} "
                      "WHERE area_code LIKE %s GROUP BY prefix")
    children: dict[str, Counts] = {}
    with connection.cursor() as cursor:
        cursor.execute(residents_sql, [code + "%"])
        for prefix, residents, special, *by_bit in cursor.fetchall():
            children[prefix] = Counts(residents=int(residents), special=int(special),
                                      by_group={bit: int(n) for bit, n in zip(bits, by_bit, strict=True)})
        cursor.execute(households_sql, [code + "%"])
        for prefix, households in cursor.fetchall():
            children.setdefault(prefix, Counts(by_group=dict.fromkeys(bits, 0))).households = households
    total = Counts(by_group=dict.fromkeys(bits, 0))
    for counts in children.values():
        total.add(counts)
    return total, (children if child_width else {})


def area_counts(code: str) -> Counts:
    """Households, residents and special-group residents (in all and per group) under an area code."""
    return tree_counts(code)[0]


def child_counts(area: Area) -> dict[str, Counts]:
    """Counts for each child area of `area`, keyed by child code."""
    if area.child_level is None:
        return {}
    return tree_counts(area.code, CODE_LENGTH[Level(area.child_level)])[1]


def set_vacancy(user, household: Household, since: dt.date | None) -> bool:
    """Mark a household vacant from a day on (a vacant mark keeps its first day), or clear the mark
    (`since=None`); audit-logged. Returns whether anything changed."""
    from fangkong.audit.models import Action
    from fangkong.audit.services import record

    current = Household.objects.filter(pk=household.pk).values_list("vacant_since", flat=True).first()
    if (since is None) == (current is None):
        return False
    Household.objects.filter(pk=household.pk).update(vacant_since=since)
    household.vacant_since = since
    record(user, Action.UPDATE, household, changes={"vacant_since": [_iso(current), _iso(since)]})
    return True


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
