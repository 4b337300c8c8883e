"""Live counts over the area tree: set-based prefix queries, one per table, never a tree walk; and a
household's vacancy mark.

The residents' side of the counts is provided by `people` (areas.residents): areas counts households
itself and adds the residents' figures people hands it.
"""

from __future__ import annotations

import datetime as dt

from fangkong.areas.models import CODE_LENGTH, Area, Household, Level
from fangkong.areas.residents import RESIDENT_FIGURES, Counts
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core.dbrouter import read_connection
from fangkong.core.permissions import Account

__all__ = ["Counts", "area_counts", "child_counts", "set_vacancy", "tree_counts"]


def tree_counts(code: str, child_width: int | None = None) -> tuple[Counts, dict[str, Counts]]:
    """Counts for the subtree under `code` and, if `child_width` is given, for each child (keyed by
    the first `child_width` characters of the area codes below). Two grouped queries in all: the
    residents' (people's, see areas.residents) and the households'.

    Households of a community not yet assigned to a grid carry the community's own code and appear
    under that code when the children are grids.
    """
    if not code.isdigit():  # area codes are digits: safe inside LIKE without escaping
        raise ValueError(code)
    width = child_width or len(code)
    figures = RESIDENT_FIGURES()
    bits = list(figures.groups())
    households_sql = (f"SELECT SUBSTR(area_code, 1, {width}) AS prefix, COUNT(*) FROM {Household._meta.db_table} "
                      "WHERE area_code LIKE %s GROUP BY prefix")
    children: dict[str, Counts] = figures.tree(code, width)
    with read_connection().cursor() as cursor:
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


def set_vacancy(user: Account | None, household: Household, since: dt.date | None) -> bool:
    """Mark a household vacant from a day on (a vacant mark keeps its first day), or clear the mark
    (`since=None`); audit-logged. Returns whether anything changed."""
    current = Household.objects.filter(pk=household.pk).values_list("vacant_since", flat=True).first()
    if (since is None) == (current is None):
        return False
    Household.objects.filter(pk=household.pk).update(vacant_since=since)
    household.vacant_since = since
    record(user, Action.UPDATE, household, changes={"vacant_since": [_iso(current), _iso(since)]})
    return True


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
