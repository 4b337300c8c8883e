"""Reaching an account: who manages which accounts (the reach), and one account for one manager.

Reach: an account is managed by someone when its role is one the manager may grant
(`permissions.grantable_roles`, strictly below the manager's own) and its scope lies inside the
manager's area subtree (a gate guard's compound must lie there, a facility staff member's facility
too). Superusers reach every account but other superusers, which stay in /admin/.

`access_account` is what the account screens and the API call with the number from the address: 403
for a user who manages no accounts, 404 for an account out of reach (exactly like one that does not
exist). The services it hands the account to trust it and do not check again.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from fangkong.accounts.models import ROLE_AREA_LEVEL, Role, User
from fangkong.core import permissions


def managed_accounts(manager: User | None) -> QuerySet[User]:
    """Every account the manager may see and change (one place for the rule, like `restrict()`)."""
    accounts = User.objects.select_related("area", "compound")
    if manager is None or not manager.is_authenticated or not manager.is_active:
        return accounts.none()
    if manager.is_superuser:
        return accounts.filter(is_superuser=False)
    roles = permissions.grantable_roles(manager)
    code = manager.scope.area_code
    if not roles or not code:
        return accounts.none()
    area_roles = [r for r in roles if r in ROLE_AREA_LEVEL]
    reach = Q(role__in=area_roles, area__code__startswith=code)
    if Role.GATE_GUARD in roles:
        reach |= Q(role=Role.GATE_GUARD, compound__area_code__startswith=code)
    if Role.FACILITY_STAFF in roles:
        reach |= Q(role=Role.FACILITY_STAFF, facility__area_code__startswith=code)
    return accounts.filter(reach, is_superuser=False)


def access_account(user: User, pk: object, *, lock: bool = False) -> User:
    """The account `pk` if `user` manages accounts (403) and it lies in the user's reach (404); `lock`
    selects it for the update that follows. The shape of core.scope.fetch_for, over the reach instead
    of the scope: which accounts a manager reaches depends on the roles they may grant, not only on
    their scope."""
    if not permissions.can_manage_accounts(user):
        raise PermissionDenied
    accounts = managed_accounts(user)
    if lock:
        accounts = accounts.select_for_update(of=("self",))
    lookup: dict[str, Any] = {"pk": pk}
    try:
        return accounts.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
