"""Grid management screens: a community's grids, and one grid's buildings, workers, merge and removal.

Thin: each POST calls one operation of `areas.grids` and shows its field errors on the same page
(status 400, nothing saved). The community (or grid) is looked up in the user's scope first, so a
worker of another community gets 404; inside the scope, a role that manages no grids gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.areas import grids
from fangkong.areas.access import access_area
from fangkong.areas.models import Area, Level
from fangkong.areas.views import crumbs_for


def _area(request: HttpRequest, code: str, level: str) -> Area:
    """The community or grid in scope (404), of the level the page is for (404), for those who may manage
    its grids (403: a rule of the area itself, so checked once it is found)."""
    area = access_area(request.user, code)
    if area.level != level:
        raise Http404
    if not grids.can_manage_grids(request.user, area):
        raise PermissionDenied
    return area


def _errors(exc: ValidationError) -> dict[str, str]:
    return {field: " ".join(messages_) for field, messages_ in exc.message_dict.items()}


# --- A community's grids ---------------------------------------------------------------------------

def _community_page(request: HttpRequest, community: Area, *, errors: dict[str, str] | None = None,
                    name: str = "", status: int = 200) -> HttpResponse:
    buildings = list(grids.community_buildings(community))
    return render(request, "areas/grids.html", {
        "community": community,
        "crumbs": crumbs_for(request.user, community.code),
        "rows": grids.community_grids(community),
        "unassigned": [b for b in buildings if b.grid_id is None],
        "n_buildings": len(buildings),
        "errors": errors or {},
        "name": name,
    }, status=status)


@login_required
@require_GET
def community_grids(request: HttpRequest, code: str) -> HttpResponse:
    return _community_page(request, _area(request, code, Level.COMMUNITY))


@login_required
@require_POST
def grid_create(request: HttpRequest, code: str) -> HttpResponse:
    community = _area(request, code, Level.COMMUNITY)
    name = request.POST.get("name", "")
    try:
        grid = grids.create_grid(request.user, community, name)
    except ValidationError as exc:
        return _community_page(request, community, errors=_errors(exc), name=name, status=400)
    messages.success(request, _("Grid %(name)s created (code %(code)s). Now tick its buildings.")
                     % {"name": grid.name, "code": grid.code})
    return redirect("areas:grid_manage", code=grid.code)


# --- One grid ----------------------------------------------------------------------------------------

def _grid_page(request: HttpRequest, grid: Area, *, errors: dict[str, str] | None = None,
               status: int = 200) -> HttpResponse:
    community = grid.parent
    buildings = list(grids.community_buildings(community))
    others = [row for row in grids.community_grids(community) if row.grid.pk != grid.pk]
    return render(request, "areas/grid_manage.html", {
        "grid": grid,
        "community": community,
        "crumbs": crumbs_for(request.user, grid.code),
        "here": [b for b in buildings if b.grid_id == grid.pk],
        # Buildings with no grid first: they are in nobody's day list.
        "elsewhere": sorted((b for b in buildings if b.grid_id != grid.pk), key=lambda b: b.grid_id is not None),
        "others": others,
        "workers": grids.grid_workers(grid),
        "candidates": list(grids.worker_candidates(request.user, grid)),
        "errors": errors or {},
    }, status=status)


@login_required
@require_GET
def grid_manage(request: HttpRequest, code: str) -> HttpResponse:
    return _grid_page(request, _area(request, code, Level.GRID))


def _grid_action(request: HttpRequest, code: str, action: Callable[[Area], Any], done: Callable[[Any], str],
                 *, then: Callable[[Any, Area], HttpResponse] | None = None) -> HttpResponse:
    grid = _area(request, code, Level.GRID)
    try:
        result = action(grid)
    except ValidationError as exc:
        grid.refresh_from_db()
        return _grid_page(request, grid, errors=_errors(exc), status=400)
    messages.success(request, done(result))
    if then is not None:
        return then(result, grid)
    return redirect("areas:grid_manage", code=grid.code)


@login_required
@require_POST
def grid_rename(request: HttpRequest, code: str) -> HttpResponse:
    return _grid_action(request, code, lambda grid: grids.rename_grid(request.user, grid, request.POST.get("name", "")),
                        lambda grid: _("Grid renamed to %(name)s.") % {"name": grid.name})


@login_required
@require_POST
def grid_buildings(request: HttpRequest, code: str) -> HttpResponse:
    """Move the ticked buildings into a grid: this one (assign) or, with `target`, another one (move)."""
    def move(grid: Area) -> tuple[int, Area]:
        target = grid
        if request.POST.get("target"):
            target = Area.objects.filter(parent=grid.parent, level=Level.GRID, code=request.POST["target"]).first()
            if target is None:
                raise ValidationError({"target": _("Choose a grid of this community.")})
        return grids.move_buildings(request.user, target, request.POST.getlist("buildings")), target

    return _grid_action(request, code, move,
                        lambda result: _("%(n)d buildings moved to %(grid)s.") % {"n": result[0], "grid": result[1].name})


@login_required
@require_POST
def grid_worker(request: HttpRequest, code: str) -> HttpResponse:
    return _grid_action(request, code, lambda grid: grids.name_worker(request.user, grid, request.POST.get("account")),
                        lambda account: _("%(name)s now works in this grid.")
                        % {"name": account.get_full_name() or account.username})


@login_required
@require_POST
def grid_merge(request: HttpRequest, code: str) -> HttpResponse:
    return _grid_action(request, code, lambda grid: grids.merge_grids(request.user, grid, request.POST.get("target", "")),
                        lambda target: _("Merged into %(name)s.") % {"name": target.name},
                        then=lambda target, _grid: redirect("areas:grid_manage", code=target.code))


@login_required
@require_POST
def grid_delete(request: HttpRequest, code: str) -> HttpResponse:
    return _grid_action(request, code, lambda grid: grids.delete_grid(request.user, grid),
                        lambda _result: _("The grid was removed."),
                        then=lambda _result, grid: redirect("areas:grids", code=grid.parent.code))
