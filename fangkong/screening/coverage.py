"""Coverage of the screening: for an area and a day, per child area (or per building of a grid).

Every figure is a grouped query on the area-code prefix (one per table and figure, like
fangkong/areas/services.py), never a loop over households. Callers check that the area is in the
user's scope first; everything under a visible area is visible.

- households screened: households with a visit that reached them or found them vacant that day;
- reached only by phone: screened households none of whose screening visits that day was by
  another method;
- persons reached: residents recorded present at a visit that day;
- missed in the last N days (不断一天): households not screened on at least one of the N days
  ending with the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.models import CODE_LENGTH, Area, Building, Household, Level
from fangkong.people.models import Resident
from fangkong.screening.models import SCREENED_OUTCOMES, Method, PersonCheck, Visit

MAX_DAYS = 31


@dataclass
class Row:
    key: str
    label: str
    area: Area | None = None
    building: Building | None = None
    households: int = 0
    screened: int = 0
    phone_only: int = 0
    persons: int = 0
    reached: int = 0
    missed: int = 0  # not screened on at least one of the last N days

    @property
    def not_reached(self) -> int:
        return max(0, self.households - self.screened)

    @property
    def rate(self) -> float:
        return self.screened / self.households if self.households else 0.0

    @property
    def person_rate(self) -> float:
        return self.reached / self.persons if self.persons else 0.0

    def add(self, other: Row) -> None:
        for name in ("households", "screened", "phone_only", "persons", "reached", "missed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class TrendPoint:
    date: dt.date
    households: int
    screened: int
    persons: int
    reached: int

    @property
    def rate(self) -> float:
        return self.screened / self.households if self.households else 0.0


@dataclass
class Coverage:
    area: Area
    day: dt.date
    days: int
    by: str  # "area" (child areas) or "building" (the buildings of a grid)
    rows: list[Row]
    total: Row
    trend: list[TrendPoint] = field(default_factory=list)


def _window(day: dt.date, days: int) -> tuple[dt.date, dt.date]:
    return day - dt.timedelta(days=days - 1), day


class _Grouping:
    """How each table's rows map to a group: a code prefix of the child level, or the building."""

    def __init__(self, area: Area):
        self.by_building = area.child_level is None
        self.width = 0 if self.by_building else CODE_LENGTH[Level(area.child_level)]

    def key(self, path_to_household: str, code_field: str = "area_code"):
        if self.by_building:
            column = f"{path_to_household}building_id" if path_to_household else "building_id"
            return F(column)
        return Substr(code_field, 1, self.width)


def _counts(queryset, key, **aggregates) -> dict[str, dict[str, int]]:
    rows = queryset.annotate(g=key).values("g").annotate(**aggregates).order_by()
    return {str(row["g"]): row for row in rows}


def _rows(area: Area, grouping: _Grouping, day: dt.date, days: int) -> dict[str, Row]:
    code = area.code
    screened_visits = Visit.objects.filter(area_code__startswith=code, date=day, outcome__in=SCREENED_OUTCOMES)
    first, last = _window(day, days)
    every_day = (
        Visit.objects.filter(area_code__startswith=code, date__range=(first, last), outcome__in=SCREENED_OUTCOMES)
        .values("household_id").annotate(n=Count("date", distinct=True)).filter(n=days).values("household_id")
    )
    households = Household.objects.filter(area_code__startswith=code)
    figures = {
        "households": _counts(households, grouping.key(""), n=Count("id")),
        "full": _counts(households.filter(pk__in=every_day), grouping.key(""), n=Count("id")),
        "screened": _counts(screened_visits, grouping.key("household__"),
                            n=Count("household_id", distinct=True),
                            other=Count("household_id", distinct=True, filter=~Q(method=Method.PHONE))),
        "persons": _counts(Resident.objects.filter(area_code__startswith=code), grouping.key("household__"), n=Count("id")),
        # visit__date: the join to the visits names the day too, so it reads one partition (PostgreSQL).
        "reached": _counts(PersonCheck.objects.filter(area_code__startswith=code, date=day, visit__date=day, present=True),
                           grouping.key("visit__household__"), n=Count("resident_id", distinct=True)),
    }
    keys = set().union(*(f.keys() for f in figures.values()))
    rows: dict[str, Row] = {}
    for key in keys:
        row = rows[key] = Row(key=key, label=key)
        row.households = figures["households"].get(key, {}).get("n", 0)
        screened = figures["screened"].get(key, {})
        row.screened = screened.get("n", 0)
        row.phone_only = row.screened - screened.get("other", 0)
        row.persons = figures["persons"].get(key, {}).get("n", 0)
        row.reached = figures["reached"].get(key, {}).get("n", 0)
        row.missed = row.households - figures["full"].get(key, {}).get("n", 0)
    return rows


def _label(area: Area, grouping: _Grouping, rows: dict[str, Row]) -> list[Row]:
    ordered: list[Row] = []
    if grouping.by_building:
        buildings = Building.objects.filter(pk__in=[int(k) for k in rows]).select_related("compound")
        for building in sorted(buildings, key=lambda b: (b.compound.name, b.pk)):
            row = rows.pop(str(building.pk))
            row.building, row.label = building, f"{building.compound.name} {building.name}"
            ordered.append(row)
    else:
        for child in area.children.order_by("code"):
            row = rows.pop(child.code, None) or Row(key=child.code, label=child.name)
            row.area, row.label = child, child.name
            ordered.append(row)
    for key, row in sorted(rows.items()):  # households of a community not yet assigned to a grid
        row.label = _("Not yet assigned to a grid") if key == area.code else key
        ordered.append(row)
    return ordered


def coverage(area: Area, day: dt.date, days: int = 7, *, with_trend: bool = True) -> Coverage:
    """The coverage table of `area` on `day`, missed households over the `days` ending with it."""
    days = max(1, min(days, MAX_DAYS))
    grouping = _Grouping(area)
    rows = _label(area, grouping, _rows(area, grouping, day, days))
    total = Row(key=area.code, label=area.name, area=area)
    for row in rows:
        total.add(row)
    result = Coverage(area=area, day=day, days=days, by="building" if grouping.by_building else "area",
                      rows=rows, total=total)
    if with_trend:
        result.trend = trend(area.code, *_window(day, days), households=total.households, persons=total.persons)
    return result


def trend(code: str, first: dt.date, last: dt.date, *, households: int | None = None,
          persons: int | None = None) -> list[TrendPoint]:
    """Households screened and persons reached per day (two grouped queries)."""
    if households is None:
        households = Household.objects.filter(area_code__startswith=code).count()
    if persons is None:
        persons = Resident.objects.filter(area_code__startswith=code).count()
    screened = dict(
        Visit.objects.filter(area_code__startswith=code, date__range=(first, last), outcome__in=SCREENED_OUTCOMES)
        .values("date").annotate(n=Count("household_id", distinct=True)).order_by().values_list("date", "n"))
    reached = dict(
        PersonCheck.objects.filter(area_code__startswith=code, date__range=(first, last), present=True)
        .values("date").annotate(n=Count("resident_id", distinct=True)).order_by().values_list("date", "n"))
    points = []
    day = first
    while day <= last:
        points.append(TrendPoint(day, households, screened.get(day, 0), persons, reached.get(day, 0)))
        day += dt.timedelta(days=1)
    return points


def missing_households(user: User, code: str, day: dt.date, days: int, limit: int = 500) -> list[Household]:
    """Households under `code` not screened on `day` or on some of the `days` before it (a grid's
    list to chase), each with `screened_days` (of `days`) and `screened_today`."""
    first, last = _window(day, days)
    in_window = Q(visits__date__range=(first, last), visits__outcome__in=SCREENED_OUTCOMES)
    today = Q(visits__date=day, visits__outcome__in=SCREENED_OUTCOMES)
    return list(
        Household.objects.within(user, code)
        .annotate(screened_days=Count("visits__date", distinct=True, filter=in_window),
                  screened_today=Count("visits", filter=today))
        .filter(screened_days__lt=days)
        .select_related("unit", "building", "compound")
        .order_by("screened_days", "compound__name", "building_id", "unit_id", "room")[:limit]
    )


@dataclass
class CampaignRow:
    label: str
    area: Area | None
    households: int
    reached: int  # screened at least once during the campaign

    @property
    def rate(self) -> float:
        return self.reached / self.households if self.households else 0.0


def campaign_progress(area: Area, first: dt.date, last: dt.date) -> tuple[CampaignRow, list[CampaignRow]]:
    """Households screened at least once between `first` and `last`, in total and per child area."""
    grouping = _Grouping(area)
    households = _counts(Household.objects.filter(area_code__startswith=area.code), grouping.key(""), n=Count("id"))
    reached = _counts(
        Visit.objects.filter(area_code__startswith=area.code, date__range=(first, last), outcome__in=SCREENED_OUTCOMES),
        grouping.key("household__"), n=Count("household_id", distinct=True))
    rows = {key: Row(key=key, label=key, households=households.get(key, {}).get("n", 0),
                     screened=reached.get(key, {}).get("n", 0)) for key in set(households) | set(reached)}
    labelled = _label(area, grouping, rows)
    out = [CampaignRow(r.label, r.area, r.households, r.screened) for r in labelled]
    total = CampaignRow(area.name, area, sum(r.households for r in out), sum(r.reached for r in out))
    return total, out
