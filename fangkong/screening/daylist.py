"""A worker's day list: the households of an area with today's state and their last result.

Three queries for any list: the households (with "screened today" and the id of their last visit
as subqueries), the resident counts grouped by household, and the last visits by id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Length

from fangkong.areas.models import Building, Household
from fangkong.screening.models import SCREENED_OUTCOMES, Visit

# A day list is for one grid or a few: larger areas are narrowed down to a sub-area first.
DAY_LIST_LIMIT = 1500


@dataclass
class Entry:
    household: Household
    residents: int
    done: bool
    last_visit: Visit | None


@dataclass
class BuildingGroup:
    building: Building
    entries: list[Entry] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for e in self.entries if e.done)

    @property
    def total(self) -> int:
        return len(self.entries)


def households_for_day(user, area_code: str, day: dt.date):
    """Visible households under `area_code`, annotated with `done` (screened on `day`) and
    `last_visit_id` (their latest visit up to that day), in walking order."""
    # The area code narrows the subquery to the area's visits of the day (index on date, area code):
    # on a busy day the planner may otherwise hash every visit in the city.
    screened = Visit.objects.filter(household=OuterRef("pk"), date=day, outcome__in=SCREENED_OUTCOMES,
                                    area_code__startswith=area_code)
    last = Visit.objects.filter(household=OuterRef("pk"), date__lte=day).order_by("-visited_at", "-id").values("id")[:1]
    return (
        Household.objects.within(user, area_code)
        .select_related("unit", "building", "compound")
        .annotate(done=Exists(screened), last_visit_id=Subquery(last))
        .order_by("compound__name", "building_id", "unit_id", Length("room"), "room", "id")
    )


def entries(user, households: list[Household]) -> list[Entry]:
    ids = [h.pk for h in households]
    from fangkong.people.models import Resident

    counts = dict(Resident.objects.restrict(user).filter(household_id__in=ids).values("household_id")
                  .annotate(n=Count("id")).order_by().values_list("household_id", "n"))
    last_ids = [h.last_visit_id for h in households if h.last_visit_id]
    visits = Visit.objects.in_bulk(last_ids) if last_ids else {}
    return [Entry(h, counts.get(h.pk, 0), h.done, visits.get(h.last_visit_id)) for h in households]


def day_list(user, area_code: str, day: dt.date) -> list[BuildingGroup] | None:
    """Households grouped by building; None when the area is too large for one list."""
    households = households_for_day(user, area_code, day)
    if households.count() > DAY_LIST_LIMIT:
        return None
    groups: dict[int, BuildingGroup] = {}
    for entry in entries(user, list(households)):
        building = entry.household.building
        groups.setdefault(building.pk, BuildingGroup(building)).entries.append(entry)
    return list(groups.values())
