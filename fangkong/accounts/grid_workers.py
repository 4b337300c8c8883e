"""What grid management (areas.grids, which lies below accounts) needs of the accounts: who may be named a
grid's worker, naming one, and moving a merged grid's accounts. Registered with areas in
AccountsConfig.ready() (`areas.grids.WORKER_DIRECTORY`); audit-logged like every account change."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from fangkong.accounts.access import managed_accounts
from fangkong.accounts.models import Role, User
from fangkong.accounts.services import account_snapshot, audit_account, scope_code
from fangkong.areas.models import CODE_LENGTH, Area, Level
from fangkong.audit.models import Action
from fangkong.audit.services import diff


def grid_worker_candidates(manager: User, grid: Area) -> QuerySet[User]:
    """Active grid workers of the grid's community, in the manager's reach, working in another grid."""
    community_code = grid.code[:CODE_LENGTH[Level.COMMUNITY]]
    return (managed_accounts(manager).filter(role=Role.GRID_WORKER, is_active=True, area__code__startswith=community_code)
            .exclude(area=grid).order_by("username"))


def _move_to_grid(manager: User, account: User, grid: Area) -> User:
    before, old_code = account_snapshot(account), scope_code(account)
    account.area = grid
    account.save(update_fields=["area"])
    audit_account(manager, account, Action.UPDATE, diff(before, account_snapshot(account)), old_code, grid.code)
    return account


def name_grid_worker(manager: User, grid: Area, account_id: int) -> User:
    """Make a grid worker of the community (in the manager's reach) the worker of `grid`."""
    with transaction.atomic():
        account = grid_worker_candidates(manager, grid).select_for_update(of=("self",)).filter(pk=account_id).first()
        if account is None:
            raise ValidationError({"account": _("Choose a grid worker of this community.")})
        return _move_to_grid(manager, account, grid)


def move_grid_accounts(manager: User, source: Area, target: Area) -> int:
    """A grid merged into another: every account working in it follows (the merge was authorised for
    the grid, so no reach check per account). Inside the merge's transaction."""
    accounts = list(User.objects.select_for_update(of=("self",)).select_related("area", "compound").filter(area=source))
    for account in accounts:
        _move_to_grid(manager, account, target)
    return len(accounts)
