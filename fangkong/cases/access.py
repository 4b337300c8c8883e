"""Reaching a case, a test, a person to take up or a lab import: the role rule and the scope, checked
once, for views, the API and jobs.

A service handed an object by these functions trusts it: it does not check the user again.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet

from fangkong.accounts.models import User
from fangkong.cases.models import Case, NucleicAcidTest, ResultImport
from fangkong.core import permissions
from fangkong.core.scope import fetch_for, fetch_visible
from fangkong.people.models import Resident

# What a case page shows of the person and their home.
CASE_RELATED = ("resident__household__compound", "resident__household__building", "resident__household__unit")
RESIDENT_RELATED = ("household__compound", "household__building", "household__unit")


def access_case(user: User, pk: object, *, lock: bool = False, related: tuple[str, ...] = CASE_RELATED,
                rule: Callable[[permissions.Account | None], bool] = permissions.can_manage_cases) -> Case:
    """The case `pk` if `user` may work with cases (or pass `rule`, e.g. tracing's) and it is in scope."""
    return fetch_for(user, Case.objects.select_related(*related), pk, allowed=rule(user), lock=lock)


def access_test(user: User, pk: object, *, lock: bool = False) -> NucleicAcidTest:
    return fetch_for(user, NucleicAcidTest.objects.select_related("case__resident"), pk,
                     allowed=permissions.can_manage_cases(user), lock=lock)


def access_resident(user: User, pk: object) -> Resident:
    """A person the user may take up into a category (cases.services.open_case trusts it)."""
    return fetch_for(user, Resident.objects.select_related(*RESIDENT_RELATED), pk,
                     allowed=permissions.can_open_cases(user))


def visible_imports(user: User) -> QuerySet[ResultImport]:
    """Lab imports the user may look at again: their own, and a commander's whole area."""
    scope = user.scope
    if scope.everything:
        return ResultImport.objects.all()
    condition = Q(user=user)
    if permissions.is_commander(user) and scope.area_code:
        condition |= Q(area_code__startswith=scope.area_code)
    return ResultImport.objects.filter(condition)


def access_import(user: User, pk: int | str) -> ResultImport:
    """One lab import with its error report: 403 without the cases role, 404 when not the user's to see."""
    return fetch_visible(visible_imports(user), pk, allowed=permissions.can_manage_cases(user))
