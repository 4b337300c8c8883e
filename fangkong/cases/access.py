"""Reaching a case or a test: the role rule and the scope, checked once, for views, the API and jobs.

A service handed an object by these functions trusts it: it does not check the user again.
"""

from __future__ import annotations

from collections.abc import Callable

from fangkong.accounts.models import User
from fangkong.cases.models import Case, NucleicAcidTest
from fangkong.core import permissions
from fangkong.core.scope import fetch_for

# What a case page shows of the person and their home.
CASE_RELATED = ("resident__household__compound", "resident__household__building", "resident__household__unit")


def access_case(user: User, pk: object, *, lock: bool = False, related: tuple[str, ...] = CASE_RELATED,
                rule: Callable[[permissions.Account | None], bool] = permissions.can_manage_cases) -> Case:
    """The case `pk` if `user` may work with cases (or pass `rule`, e.g. tracing's) and it is in scope."""
    return fetch_for(user, Case.objects.select_related(*related), pk, allowed=rule(user), lock=lock)


def access_test(user: User, pk: object, *, lock: bool = False) -> NucleicAcidTest:
    return fetch_for(user, NucleicAcidTest.objects.select_related("case__resident"), pk,
                     allowed=permissions.can_manage_cases(user), lock=lock)
