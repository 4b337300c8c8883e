"""Live counts over the area tree: set-based prefix queries, one per table, never a tree walk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import Substr
from django.db.models.lookups import GreaterThan

from fangkong.areas.models import CODE_LENGTH, Area, Household, Level


@dataclass
class Counts:
    households: int = 0
    residents: int = 0
    special: int = 0  # residents with at least one special-group tag
    by_group: dict[int, int] = field(default_factory=dict)


def _residents():
    from fangkong.people.models import Resident  # people depends on areas, not the reverse

    return Resident.objects


def area_counts(code: str, with_groups: bool = False) -> Counts:
    """Households, residents and special-group residents under an area code (a subtree)."""
    from fangkong.people.models import SpecialGroup

    households = Household.objects.filter(area_code__startswith=code).count()
    aggregates = {"residents": Count("id"), "special": Count("id", filter=Q(special_groups__gt=0))}
    if with_groups:
        for bit in SpecialGroup.LABELS:
            aggregates[f"g{bit}"] = Count(
                Case(When(GreaterThan(F("special_groups").bitand(bit), 0), then=Value(1)), output_field=IntegerField())
            )
    row = _residents().filter(area_code__startswith=code).aggregate(**aggregates)
    counts = Counts(households=households, residents=row["residents"], special=row["special"])
    if with_groups:
        counts.by_group = {bit: row[f"g{bit}"] for bit in SpecialGroup.LABELS}
    return counts


def child_counts(area: Area) -> dict[str, Counts]:
    """Counts for each child area of `area`, keyed by child code, in two grouped queries.

    Households not yet assigned to a grid (their code is the community's) appear under the
    community's own code when the children are grids.
    """
    child_level = area.child_level
    if child_level is None:
        return {}
    width = CODE_LENGTH[Level(child_level)]
    result: dict[str, Counts] = {}
    households = (
        Household.objects.filter(area_code__startswith=area.code)
        .annotate(prefix=Substr("area_code", 1, width))
        .values("prefix")
        .annotate(n=Count("id"))
    )
    for row in households:
        result.setdefault(row["prefix"], Counts()).households = row["n"]
    residents = (
        _residents()
        .filter(area_code__startswith=area.code)
        .annotate(prefix=Substr("area_code", 1, width))
        .values("prefix")
        .annotate(n=Count("id"), special=Count("id", filter=Q(special_groups__gt=0)))
    )
    for row in residents:
        counts = result.setdefault(row["prefix"], Counts())
        counts.residents, counts.special = row["n"], row["special"]
    return result


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
