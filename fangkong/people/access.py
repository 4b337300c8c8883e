"""Reaching a resident or a household: the role rule (when the action needs one) and the scope, checked
once, for the people pages, the API and the exports. A service handed an object by these functions
trusts it: it does not check the user again.

Reading needs no rule beyond the scope (everyone sees the residents their scope covers, masked);
revealing, editing and adding residents pass their rule (`permissions.can_reveal`, `can_edit_residents`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.core import permissions
from fangkong.core.scope import ScopedQuerySet, fetch_for, fetch_visible
from fangkong.people.models import ImportBatch, Resident

Rule = Callable[[permissions.Account | None], bool]
# What a resident's pages show of their home.
RESIDENT_RELATED = ("household__unit", "household__building", "household__compound")
HOUSEHOLD_RELATED = ("unit", "building", "compound")


def access_resident(user: User, pk: object, *, rule: Rule | None = None, lock: bool = False,
                    related: tuple[str, ...] = RESIDENT_RELATED) -> Resident:
    """The resident `pk` if `rule` (when given) allows the user and the user's scope covers them."""
    return fetch_for(user, Resident.objects.select_related(*related), pk,
                     allowed=rule is None or rule(user), lock=lock)


def access_household(user: User, pk: object, *, rule: Rule | None = None, lock: bool = False,
                     queryset: ScopedQuerySet[Household] | None = None) -> Household:
    """The household `pk` if `rule` (when given) allows the user and the user's scope covers it; `queryset`
    adds what a caller reads with it (the API's resident count)."""
    if queryset is None:
        queryset = Household.objects.select_related(*HOUSEHOLD_RELATED)
    return fetch_for(user, queryset, pk, allowed=rule is None or rule(user), lock=lock)


def visible_batches(user: User) -> QuerySet[ImportBatch]:
    """Import batches (rosters, area trees, evidence lists): seen by their uploader, and by commanders whose
    scope covers the batch's area."""
    scope = user.scope
    if scope.everything:
        return ImportBatch.objects.all()
    condition = Q(user=user)
    if permissions.is_commander(user) and scope.area_code:
        condition |= ImportBatch.scope_q(scope)
    return ImportBatch.objects.filter(condition)


def access_batch(user: User, pk: int, *, rule: Rule = permissions.can_import) -> ImportBatch:
    """An import batch whose result or report the user opens: the importer's rule (403), then the batch
    among those the user may see (404)."""
    return fetch_visible(visible_batches(user), pk, allowed=rule(user))
