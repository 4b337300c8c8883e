"""Grid management (网格管理): a community worker (or a commander above, within scope) splits the
community into grids, assigns buildings to them, names each grid's worker, merges and removes grids.

Every operation takes the acting user and validated input, runs in one transaction, and writes the
audit log. A building's grid is its households' and residents' scoping key (`area_code`), so a move
rewrites those codes set-based; the rows other apps keep under a resident's code follow through
`people`'s residents-moved hooks, and apps that key rows by household register `BUILDINGS_MOVED`.

Accounts live above areas: who may be named a grid's worker, naming one and moving a merged grid's
accounts are provided by `accounts` through `WORKER_DIRECTORY.provide(...)` (in its AppConfig.ready).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, ProtectedError, QuerySet
from django.utils.translation import gettext as _

from fangkong.areas.models import CODE_LENGTH, Area, Building, Household, Level
from fangkong.audit.models import Action, AuditLog
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.core.hooks import Hook, Provider
from fangkong.core.permissions import Account

GRID_DIGITS = CODE_LENGTH[Level.GRID] - CODE_LENGTH[Level.COMMUNITY]
MAX_GRID_NUMBER = 10**GRID_DIGITS - 1
MAX_NAME_LENGTH = cast(int, Area._meta.get_field("name").max_length)
ALLOCATION_ATTEMPTS = 5


# --- Who may ---------------------------------------------------------------------------------------

def can_manage_grids(user: Account, area: Area) -> bool:
    """Community workers and the commanders above them, for a community (or a grid of one) in their
    scope. The role rule is the user's (`can_manage_grids`, decided by accounts)."""
    if area.level not in (Level.COMMUNITY, Level.GRID) or not permissions.can_manage_grids(user):
        return False
    community_code = area.code[:CODE_LENGTH[Level.COMMUNITY]]
    return user.scope.covers_area_code(community_code)


def _require(user: Account, area: Area) -> None:
    if not can_manage_grids(user, area):
        raise PermissionDenied


# --- Hooks for the apps above ----------------------------------------------------------------------

# Set-based receivers taking the ids of buildings whose grid (area code) has just changed; fired inside
# the move's transaction, after the buildings' and households' codes were rewritten.
BUILDINGS_MOVED: Hook[[Sequence[int]]] = Hook("areas.buildings_moved")


@dataclass(frozen=True)
class WorkerDirectory:
    """What grid management needs from accounts (which sit above areas)."""

    # (user, grid) → the accounts the user may name as the grid's worker
    candidates: Callable[[Any, Area], QuerySet]
    # (user, grid, account id) → the account, now working in the grid (ValidationError when not allowed)
    name_worker: Callable[[Any, Area, int], Any]
    # (user, source, target) → how many accounts were moved from source to target
    move_accounts: Callable[[Any, Area, Area], int]


# The accounts a grid may be given, provided by accounts in its ready().
WORKER_DIRECTORY: Provider[[], WorkerDirectory | None] = Provider("areas.worker_directory", lambda: None)


def grid_workers(grid: Area) -> list:
    """The active accounts working in a grid (only grid workers are bound to a grid)."""
    return list(grid.users.filter(is_active=True).order_by("username"))


# --- Reads -----------------------------------------------------------------------------------------

@dataclass
class GridRow:
    grid: Area
    buildings: int
    households: int
    workers: list


def community_grids(community: Area) -> list[GridRow]:
    """The community's grids with building and household counts (two grouped queries) and workers."""
    grids = list(Area.objects.filter(parent=community, level=Level.GRID).order_by("code"))
    buildings = dict(Building.objects.filter(grid__in=grids).values_list("grid_id").annotate(n=Count("id")).order_by())
    households = dict(Household.objects.filter(building__grid__in=grids).values_list("building__grid_id")
                      .annotate(n=Count("id")).order_by())
    workers: dict[int, list] = {g.pk: [] for g in grids}
    for account in get_user_model().objects.filter(area__in=grids, is_active=True).order_by("username"):
        workers[cast(int, account.area_id)].append(account)  # filtered by area: never None
    return [GridRow(g, buildings.get(g.pk, 0), households.get(g.pk, 0), workers[g.pk]) for g in grids]


def community_buildings(community: Area) -> QuerySet[Building]:
    """Every building of the community's compounds, with its compound and grid."""
    return (Building.objects.filter(compound__community=community).select_related("compound", "grid")
            .order_by("compound__name", "id"))


def community_of(grid: Area) -> Area:
    return cast(Area, grid.parent)  # a grid always lies in a community


# --- Validation ------------------------------------------------------------------------------------

def _clean_name(community: Area, raw: str, *, exclude: Area | None = None) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise ValidationError({"name": _("The grid's name is required.")})
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError({"name": _("The name is longer than %(n)d characters.") % {"n": MAX_NAME_LENGTH}})
    siblings = Area.objects.filter(parent=community, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    if siblings.exists():
        raise ValidationError({"name": _("This community already has an area named %(name)s.") % {"name": name}})
    return name


def _grid_of(community: Area, code: str, field: str) -> Area:
    grid = Area.objects.filter(parent=community, level=Level.GRID, code=(code or "").strip()).first()
    if grid is None:
        raise ValidationError({field: _("Choose a grid of this community.")})
    return grid


def _retired_codes(community: Area) -> set[str]:
    """Codes of this community's grids removed before: never handed out again, as rows kept by code
    elsewhere (visits, the audit log) still carry them."""
    return set(AuditLog.objects.filter(object_type="areas.area", action=Action.DELETE,
                                       area_code__startswith=community.code)
               .values_list("area_code", flat=True))


def next_grid_code(community: Area) -> str:
    """The next free grid number under the community (after the highest used or retired one; the first
    gap once 999 is reached)."""
    width = CODE_LENGTH[Level.GRID]
    taken = {int(code[len(community.code):]) for code in
             [*Area.objects.filter(code__startswith=community.code, level=Level.GRID).values_list("code", flat=True),
              *_retired_codes(community)]
             if len(code) == width and code.isdigit()}
    number = max(taken, default=0) + 1
    if number > MAX_GRID_NUMBER:
        free = sorted(set(range(1, MAX_GRID_NUMBER + 1)) - taken)
        if not free:
            raise ValidationError({"name": _("This community has no free grid number left.")})
        number = free[0]
    return f"{community.code}{number:0{GRID_DIGITS}d}"


# --- Operations ------------------------------------------------------------------------------------

def _lock(area: Area) -> Area:
    return Area.objects.select_for_update().get(pk=area.pk)


def create_grid(user: Account, community: Area, name: str) -> Area:
    """A new, empty grid under the community, with the next free code."""
    if community.level != Level.COMMUNITY:
        raise PermissionDenied
    _require(user, community)
    name = _clean_name(community, name)
    for _attempt in range(ALLOCATION_ATTEMPTS):
        try:
            with transaction.atomic():
                _lock(community)  # serialises allocations in one community (PostgreSQL; SQLite serialises writers)
                grid = Area(code=next_grid_code(community), name=name, level=Level.GRID, parent=community)
                grid.full_clean(validate_unique=False)
                grid.save()
                record(user, Action.CREATE, grid, changes={"name": [None, name], "code": [None, grid.code]})
                return grid
        except IntegrityError:
            # The same name or code taken at the same moment: a name clash is the user's, a code clash retries.
            _clean_name(community, name)
    raise ValidationError({"name": _("The grid could not be created; please try again.")})


def rename_grid(user: Account, grid: Area, name: str) -> Area:
    _require(user, grid)
    community = community_of(grid)
    name = _clean_name(community, name, exclude=grid)
    try:
        with transaction.atomic():
            locked = _lock(grid)
            if locked.name != name:
                old = locked.name
                locked.name = name
                locked.save(update_fields=["name"])
                record(user, Action.UPDATE, locked, changes={"name": [old, name]})
    except IntegrityError as exc:
        raise ValidationError({"name": _("This community already has an area named %(name)s.") % {"name": name}}) from exc
    return locked


def _move(user: Account, buildings: list[Building], target: Area, community: Area) -> int:
    """Put buildings (of `community`) into `target`; rewrites the scoping codes set-based, tells the
    apps above and writes one audit entry per building that moved. Inside the caller's transaction."""
    moving = [b for b in buildings if b.grid_id != target.pk]
    if not moving:
        return 0
    ids = [b.pk for b in moving]
    Building.objects.filter(pk__in=ids).update(grid=target, area_code=target.code)
    Household.objects.filter(building_id__in=ids).update(area_code=target.code)
    BUILDINGS_MOVED.fire(ids)
    for building in moving:
        old = building.grid.name if building.grid is not None else None
        record(user, Action.UPDATE, building, area_code=community.code, object_repr=str(building)[:200],
               changes={"grid": [old, target.name]})
    return len(moving)


def move_buildings(user: Account, target: Area, building_ids: Iterable[Any]) -> int:
    """Assign the ticked buildings of the target grid's community to it (from another grid or from
    none). Returns how many moved; the counts and the day lists read the new codes at once."""
    _require(user, target)
    community = community_of(target)
    try:
        ids = sorted({int(pk) for pk in building_ids})
    except (TypeError, ValueError) as exc:
        raise ValidationError({"buildings": _("Tick the buildings to move.")}) from exc
    if not ids:
        raise ValidationError({"buildings": _("Tick the buildings to move.")})
    with transaction.atomic():
        _lock(target)
        buildings = list(Building.objects.select_for_update(of=("self",)).filter(pk__in=ids, compound__community=community)
                         .select_related("grid", "compound"))
        if len(buildings) != len(ids):
            raise ValidationError({"buildings": _("Some of the ticked buildings are not in this community.")})
        return _move(user, buildings, target, community)


def merge_grids(user: Account, source: Area, target_code: str) -> Area:
    """Merge `source` into another grid of its community: its buildings and its accounts move to the
    target, then the emptied grid is removed. All or nothing."""
    _require(user, source)
    community = community_of(source)
    target = _grid_of(community, target_code, "target")
    if target.pk == source.pk:
        raise ValidationError({"target": _("Choose another grid to merge into.")})
    with transaction.atomic():
        for area in sorted((source, target), key=lambda a: a.pk):  # one lock order: no deadlock between two merges
            _lock(area)
        buildings = list(Building.objects.select_for_update(of=("self",)).filter(grid=source).select_related("grid", "compound"))
        moved = _move(user, buildings, target, community)
        accounts = 0
        directory = WORKER_DIRECTORY()
        if directory is not None:
            accounts = directory.move_accounts(user, source, target)
        record(user, Action.UPDATE, target, changes={"merged": [source.name, target.name], "buildings": moved,
                                                     "accounts": accounts})
        _delete(user, source, note={"merged_into": target.name})
    return target


def delete_grid(user: Account, grid: Area) -> None:
    """Remove an empty grid; one that still has buildings or accounts is refused (move or merge first)."""
    _require(user, grid)
    with transaction.atomic():
        _lock(grid)
        buildings = Building.objects.filter(grid=grid).count()
        if buildings:
            raise ValidationError({"grid": _("This grid still has %(n)d buildings: move them to another grid first, "
                                             "or merge the grid.") % {"n": buildings}})
        accounts = grid.users.count()
        if accounts:
            raise ValidationError({"grid": _("%(n)d accounts work in this grid: give them another grid first, "
                                             "or merge the grid.") % {"n": accounts}})
        _delete(user, grid, note={})


def _delete(user: Account, grid: Area, note: dict[str, Any]) -> None:
    pk, code, name = grid.pk, grid.code, grid.name
    try:
        with transaction.atomic():
            Area.objects.filter(pk=pk).delete()
    except ProtectedError as exc:
        kinds = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects})
        raise ValidationError({"grid": _("This grid is still used by: %(kinds)s. Nothing was changed.")
                               % {"kinds": "、".join(kinds)}}) from exc
    record(user, Action.DELETE, object_type="areas.area", object_id=str(pk), object_repr=name, area_code=code,
           changes={"name": [name, None], **note})


def name_worker(user: Account, grid: Area, account_id: Any) -> Any:
    """Name an account (a grid worker of this community) as the grid's worker; audit-logged by accounts."""
    _require(user, grid)
    directory = WORKER_DIRECTORY()
    if directory is None:  # pragma: no cover - accounts is always installed
        raise PermissionDenied
    try:
        pk = int(account_id)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"account": _("Choose an account.")}) from exc
    return directory.name_worker(user, grid, pk)


def worker_candidates(user: Account, grid: Area) -> QuerySet:
    directory = WORKER_DIRECTORY()
    if directory is None or not can_manage_grids(user, grid):
        return grid.users.none()
    return directory.candidates(user, grid)
