"""A worker's day list: the households of an area with today's state and their last result.

A grid may hold hundreds of households (350 in one page is unusable on a phone): the list shows
its buildings with their counts, narrows to one building, to the households not yet screened, or
to a building / room search, and pages through what is left in walking order. A few queries for
any list: the households' states (for the counts, and for the pager unless a search narrows the list),
the page of households (with "screened today" as a subquery), the resident counts and the last visits
of the page's households.

On PostgreSQL the visits are partitioned by day (fangkong/core/partitions.py): every query of the list
names the day, so it reads the day's partition only; the last visits look in the last
`LAST_VISIT_WINDOW` days first and further back only for the page's households without one.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Length

from fangkong.accounts.models import User
from fangkong.areas.models import Building, Household
from fangkong.people.models import Resident
from fangkong.screening.models import SCREENED_OUTCOMES, Visit

# A day list is for one grid or a few: larger areas are narrowed down to a sub-area first.
DAY_LIST_LIMIT = 1500
PAGE_SIZE = 40
QUERY_LENGTH = 40
LAST_VISIT_WINDOW = 14
# "3栋201" is two words: a building and a room (a word ends after 栋/幢/楼/单元/号).
_WORD_END = re.compile(r"(?<=[栋幢楼元号])")


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


@dataclass
class BuildingCount:
    building: Building
    done: int = 0
    total: int = 0


@dataclass
class DayList:
    groups: list[BuildingGroup]  # the page's households, by building
    page: Page
    done: int  # the whole list's counts, whatever is shown
    total: int
    buildings: list[BuildingCount]


def households_for_day(user: User, area_code: str, day: dt.date):
    """Visible households under `area_code`, annotated with `done` (screened on `day`), in walking order."""
    # The area code narrows the subquery to the area's visits of the day (index on date, area code):
    # on a busy day the planner may otherwise hash every visit in the city.
    screened = Visit.objects.filter(household=OuterRef("pk"), date=day, outcome__in=SCREENED_OUTCOMES,
                                    area_code__startswith=area_code)
    return (
        Household.objects.within(user, area_code)
        .select_related("unit", "building", "compound")
        .annotate(done=Exists(screened))
        .order_by("compound__name", "building_id", "unit_id", Length("room"), "room", "id")
    )


def last_visits(household_ids: list[int], day: dt.date) -> dict[int, Visit]:
    """The latest visit up to `day` of each household that has one: in the last LAST_VISIT_WINDOW days
    (a few day partitions), and only for the households without one there, before."""
    found: dict[int, Visit] = {}
    first = day - dt.timedelta(days=LAST_VISIT_WINDOW - 1)
    for days in (Q(date__range=(first, day)), Q(date__lt=first)):
        missing = [pk for pk in household_ids if pk not in found]
        if not missing:
            break
        latest = Visit.objects.filter(days, household=OuterRef("pk")).order_by("-visited_at", "-id").values("id")[:1]
        ids = {pk: visit_id for pk, visit_id in Household.objects.filter(pk__in=missing)
               .annotate(v=Subquery(latest)).values_list("pk", "v") if visit_id}
        if ids:
            visits = Visit.objects.filter(days, pk__in=list(ids.values())).in_bulk()
            found.update({pk: visits[visit_id] for pk, visit_id in ids.items() if visit_id in visits})
    return found


def entries(user: User, households: list[Household], day: dt.date) -> list[Entry]:
    ids = [h.pk for h in households]
    counts = dict(Resident.objects.restrict(user).filter(household_id__in=ids).values("household_id")
                  .annotate(n=Count("id")).order_by().values_list("household_id", "n"))
    visits = last_visits(ids, day) if ids else {}
    return [Entry(h, counts.get(h.pk, 0), h.done, visits.get(h.pk)) for h in households]


def search_words(query: str) -> list[str]:
    """'３栋 201', '3栋201' → ['3栋', '201'] (full-width folded, at most a few words)."""
    text = unicodedata.normalize("NFKC", query or "")[:QUERY_LENGTH]
    return [w for part in text.split() for w in _WORD_END.split(part) if w][:4]


def search_q(query: str) -> Q:
    """Every word in the compound, building, unit or room."""
    q = Q()
    for word in search_words(query):
        q &= (Q(compound__name__icontains=word) | Q(building__name__icontains=word) | Q(unit__name__icontains=word)
              | Q(room__icontains=word))
    return q


def _building_counts(households: QuerySet) -> list[BuildingCount] | None:
    """Each building's households and how many are screened; None past DAY_LIST_LIMIT households (read
    unsorted, up to one more than the limit: no separate count of a large area)."""
    rows = list(households.order_by().values_list("building_id", "done")[:DAY_LIST_LIMIT + 1])
    if len(rows) > DAY_LIST_LIMIT:
        return None
    counts: dict[int, BuildingCount] = {}
    for building_id, done in rows:
        count = counts.setdefault(building_id, BuildingCount(None))  # type: ignore[arg-type]
        count.total += 1
        count.done += bool(done)
    buildings = Building.objects.select_related("compound").in_bulk(list(counts))
    for building_id, count in counts.items():
        count.building = buildings[building_id]
    return list(counts.values())


def day_list(user: User, area_code: str, day: dt.date, *, todo: bool = False, query: str = "",
             building_id: int | None = None, page: str | int | None = 1) -> DayList | None:
    """The day list narrowed as asked, a page of it grouped by building; None when the area is too
    large for one list."""
    households = households_for_day(user, area_code, day)
    buildings = _building_counts(households)
    if buildings is None:
        return None
    shown = households
    if building_id is not None:
        shown = shown.filter(building_id=building_id)
    if todo:
        shown = shown.filter(done=False)
    if query:
        shown = shown.filter(search_q(query))
    paginator = Paginator(shown, PAGE_SIZE)
    if not query:  # the number of households shown is known from the counts: no COUNT query for the pager
        counted = [b for b in buildings if building_id is None or b.building.pk == building_id]
        paginator.__dict__["count"] = sum(b.total - b.done if todo else b.total for b in counted)
    current = paginator.get_page(page)
    groups: dict[int, BuildingGroup] = {}
    for entry in entries(user, list(current.object_list), day):
        building = entry.household.building
        groups.setdefault(building.pk, BuildingGroup(building)).entries.append(entry)
    return DayList(list(groups.values()), current, sum(b.done for b in buildings), sum(b.total for b in buildings),
                   buildings)
