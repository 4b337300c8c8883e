"""The resident figures people provides to the area tree's pages, API and counts (areas.residents),
registered in PeopleConfig.ready(): areas lies below people and never imports it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Count, Expression

from fangkong.areas.residents import Counts, Housing, ResidentFigures
from fangkong.core.dbrouter import read_connection
from fangkong.core.scope import ScopedUser
from fangkong.people.models import Resident, SpecialGroup

# The household's foreign key a resident is counted by, for each kind of housing.
_BY = {"building": "household__building_id", "compound": "household__compound_id"}


def special_groups() -> Mapping[int, Any]:
    return SpecialGroup.LABELS


def resident_tree(code: str, width: int) -> dict[str, Counts]:
    """Residents under `code` per prefix of `width` characters: residents, special-group residents and
    each group's count. Residents are first grouped by (area code, special groups): on PostgreSQL that
    is a streaming aggregate over an index-only scan of `resident_area_groups_idx`, the cheapest way to
    touch a million rows; the outer query folds those groups into prefixes and special-group counts."""
    if not code.isdigit():  # area codes are digits: safe inside LIKE without escaping
        raise ValueError(code)
    bits = list(SpecialGroup.LABELS)
    per_bit = "".join(f", SUM(CASE WHEN special_groups & {bit} > 0 THEN n ELSE 0 END)" for bit in bits)
    residents_sql = (
        f"SELECT SUBSTR(area_code, 1, {int(width)}) AS prefix, SUM(n), SUM(CASE WHEN special_groups > 0 THEN n ELSE 0 END)"
        f"{per_bit} FROM (SELECT area_code, special_groups, COUNT(*) AS n FROM {Resident._meta.db_table} "
        "WHERE area_code LIKE %s GROUP BY area_code, special_groups) grouped GROUP BY prefix"
    )
    children: dict[str, Counts] = {}
    with read_connection().cursor() as cursor:
        cursor.execute(residents_sql, [code + "%"])
        for prefix, residents, special, *by_bit in cursor.fetchall():
            children[prefix] = Counts(residents=int(residents), special=int(special),
                                      by_group={bit: int(n) for bit, n in zip(bits, by_bit, strict=True)})
    return children


def visible_residents(user: ScopedUser | None, housing: Housing, ids: Sequence[int]) -> dict[int, int]:
    """How many residents of each building (or compound) the user may see: one grouped query."""
    key = _BY[housing]
    rows = (Resident.objects.restrict(user).filter(**{f"{key}__in": list(ids)})
            .values(key).annotate(n=Count("id")).order_by())
    return {row[key]: row["n"] for row in rows}


def residents_per_household() -> Expression:
    return Count("residents")


FIGURES = ResidentFigures(groups=special_groups, tree=resident_tree, visible=visible_residents,
                          per_household=residents_per_household)
