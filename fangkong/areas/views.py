"""Area pages: the tree from city to grid, compounds and buildings, with live counts.

Every object is reached through `areas.access`, so anything outside the user's scope answers 404.
Counts are grouped queries (one per table per page), never a per-row loop; the residents' figures are
people's (areas.residents), and so are the resident search and export at the head of the area page
(a panel, core.panels).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.functions import Length
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from fangkong.areas import grids
from fangkong.areas.access import access_area, access_building, access_compound
from fangkong.areas.models import CODE_LENGTH, Area, Building, Compound, Household, Level
from fangkong.areas.residents import RESIDENT_FIGURES
from fangkong.areas.services import tree_counts
from fangkong.core import permissions
from fangkong.core.dbrouter import use_replica
from fangkong.core.landing import landing_for
from fangkong.core.scope import ScopedUser

HOUSEHOLDS_PER_PAGE = 100


def crumbs_for(user: ScopedUser, code: str, include_self: bool = True) -> list[tuple[str, str | None]]:
    """(name, url or None) from the city down: links only where the user's scope reaches."""
    scope = user.scope
    area = Area.objects.filter(code=code).first()
    if area is None:
        return []
    chain = list(area.ancestors()) + ([area] if include_self else [])
    return [(a.name, reverse("areas:detail", args=[a.code]) if scope.covers_area_code(a.code) else None) for a in chain]


def _grouped(qs, key: str) -> dict[int, int]:
    return {row[key]: row["n"] for row in qs.values(key).annotate(n=Count("id")).order_by()}


def _building_rows(user, buildings: list[Building]) -> list[dict]:
    """Buildings with household and resident counts: two grouped queries for the whole list."""
    ids = [b.pk for b in buildings]
    households = _grouped(Household.objects.restrict(user).filter(building_id__in=ids), "building_id")
    residents = RESIDENT_FIGURES().visible(user, "building", ids)
    return [{"building": b, "households": households.get(b.pk, 0), "residents": residents.get(b.pk, 0)} for b in buildings]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    start = landing_for(user)  # a start page a higher app registered for the role (a grid worker's day list)
    if start:
        return redirect(start)
    if user.scope.compound_id:  # gate guards start at their compound
        return redirect("areas:compound", pk=user.scope.compound_id)
    if user.scope.facility_id:  # facility staff at their facility's beds and admissions
        return redirect("facilities:detail", pk=user.scope.facility_id)
    area = user.home_area
    if area is not None and user.scope.covers_area_code(area.code):
        return redirect("areas:detail", code=area.code)
    return render(request, "areas/no_scope.html")


@login_required
@use_replica
def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    area = access_area(user, code)
    child_width = CODE_LENGTH[Level(area.child_level)] if area.child_level else None
    counts, by_code = tree_counts(area.code, child_width)
    groups = [(label, counts.by_group.get(bit, 0)) for bit, label in RESIDENT_FIGURES().groups().items()]
    context = {
        "area": area,
        "crumbs": crumbs_for(user, area.code, include_self=False),
        "counts": counts,
        "groups": groups,
        "can_export": permissions.can_reveal(user),
        "can_manage_grids": grids.can_manage_grids(user, area),
    }
    if area.child_level:
        children = list(area.children.order_by("code"))
        context["children"] = [(child, by_code.get(child.code)) for child in children]
        # Households of a community not yet assigned to a grid carry the community's own code.
        context["unassigned"] = by_code.get(area.code)
    if area.level == Level.COMMUNITY:
        compounds = list(Compound.objects.restrict(user).filter(community=area).order_by("name"))
        ids = [c.pk for c in compounds]
        buildings = _grouped(Building.objects.restrict(user).filter(compound_id__in=ids), "compound_id")
        households = _grouped(Household.objects.restrict(user).filter(compound_id__in=ids), "compound_id")
        residents = RESIDENT_FIGURES().visible(user, "compound", ids)
        context["compounds"] = [
            {"compound": c, "buildings": buildings.get(c.pk, 0), "households": households.get(c.pk, 0),
             "residents": residents.get(c.pk, 0)}
            for c in compounds
        ]
    if area.level == Level.GRID:
        buildings = list(Building.objects.restrict(user).filter(grid=area).select_related("compound").order_by("compound__name", "id"))
        context["buildings"] = _building_rows(user, buildings)
        context["workers"] = grids.grid_workers(area)
    return render(request, "areas/area_detail.html", context)


@login_required
def compound_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    compound = access_compound(user, pk)
    buildings = list(Building.objects.restrict(user).filter(compound=compound).select_related("grid").order_by("id"))
    context = {
        "compound": compound,
        "crumbs": crumbs_for(user, compound.area_code),
        "buildings": _building_rows(user, buildings),
    }
    return render(request, "areas/compound_detail.html", context)


@login_required
def building_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    building = access_building(user, pk)
    # Rooms sort naturally (201 before 1001): by length, then text. A building may hold 500 households.
    households = (
        Household.objects.restrict(user).filter(building=building).select_related("unit")
        .annotate(n_residents=RESIDENT_FIGURES().per_household()).order_by("unit_id", Length("room"), "room")
    )
    page = Paginator(households, HOUSEHOLDS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "building": building,
        "crumbs": crumbs_for(user, building.compound.area_code),
        "page": page,
        # Where the building's grid is changed: its grid's page, or the community's grids when it has none.
        "grid_manage_code": (building.grid.code if building.grid_id else building.compound.area_code)
        if grids.can_manage_grids(user, building.grid or building.compound.community) else "",
    }
    return render(request, "areas/building_detail.html", context)
