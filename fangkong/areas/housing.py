"""Every building has a grid: a community's default grid takes the buildings nobody assigned.

A building without a grid is in nobody's day list and only inflates the coverage denominators, so
imports put each new building in an explicit grid or in its community's default grid: the grid with
the lowest code, created (code …001, 第一网格) when the community has none yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from fangkong.areas.models import CODE_LENGTH, Area, Level

DEFAULT_GRID_NAME = "第一网格"


def default_grids(community_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Community id → (grid id, grid code) of its default grid, creating the missing ones."""
    wanted = set(community_ids)
    found: dict[int, tuple[int, str]] = {}
    for pk, code, parent_id in (Area.objects.filter(level=Level.GRID, parent_id__in=wanted)
                                .order_by("-code").values_list("id", "code", "parent_id")):
        found[parent_id] = (pk, code)  # descending: the lowest code is written last
    for community in Area.objects.filter(pk__in=wanted - found.keys(), level=Level.COMMUNITY):
        grid = create_default_grid(community)
        found[community.pk] = (grid.pk, grid.code)
    return found


def create_default_grid(community: Area) -> Area:
    """A community's first grid; a community must never be without one."""
    width = CODE_LENGTH[Level.GRID] - CODE_LENGTH[Level.COMMUNITY]
    taken = set(Area.objects.filter(parent=community).values_list("name", flat=True))
    name = DEFAULT_GRID_NAME if DEFAULT_GRID_NAME not in taken else f"{community.name}{DEFAULT_GRID_NAME}"
    return Area.objects.create(code=f"{community.code}{1:0{width}d}", name=name, level=Level.GRID, parent=community)
