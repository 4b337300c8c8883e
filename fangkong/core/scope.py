"""One place for "who may see what": every queryset of scoped data goes through `restrict()`.

An account is scoped to an area subtree (by the area's hierarchical code, a materialized path), to
one compound (gate guards), or to one facility (facility staff). A scoped model implements
`scope_q(scope)` returning the Q that selects what the scope covers; views, the API, exports and
search all call `Model.objects.restrict(user)` (NetBox's RestrictedQuerySet idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    area_code: str | None = None  # subtree prefix
    compound_id: int | None = None
    facility_id: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.area_code or self.compound_id or self.facility_id)

    def covers_area_code(self, code: str) -> bool:
        return self.everything or bool(self.area_code and code.startswith(self.area_code))


NOTHING = Q(pk__in=[])


class ScopedUser(Protocol):
    """What scoping needs of an account (accounts.models.User, which lies above core)."""

    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def scope(self) -> Scope: ...


def scope_of(user: ScopedUser | None) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    return user.scope


M = TypeVar("M", bound=models.Model)


class ScopedQuerySet(models.QuerySet[M]):
    def restrict(self, user: ScopedUser | None) -> ScopedQuerySet[M]:
        scope = scope_of(user)
        if scope.everything:
            return self
        if scope.is_empty:
            return self.none()
        return self.filter(cast(Any, self.model).scope_q(scope))  # each scoped model defines scope_q

    def within(self, user: ScopedUser | None, code: str) -> ScopedQuerySet[M]:
        """What the user may see under the area `code` (objects carrying `area_code`). When the user's
        scope covers that area the prefix is the only condition: restrict() would add a second prefix,
        implied by the first, that PostgreSQL's planner multiplies in, expecting a handful of rows and
        choosing nested loops over thousands."""
        if scope_of(user).covers_area_code(code):
            return self.filter(area_code__startswith=code)
        return self.restrict(user).filter(area_code__startswith=code)

    def get_visible_or_404(self, user: ScopedUser | None, **lookup: Any) -> M:
        """Out-of-scope objects answer 404, exactly like objects that do not exist."""
        try:
            return self.restrict(user).get(**lookup)
        except (ObjectDoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc


def fetch_for(user: ScopedUser | None, queryset: ScopedQuerySet[M], pk: object, *, allowed: bool,
              lock: bool = False) -> M:
    """The one shape of every access function (`access_case(user, pk)` and siblings): the role rule's
    verdict (`allowed`: 403 when false), then the object if the user's scope covers it (404 for "missing"
    and "not yours" alike), optionally locked for the write that follows (only its own row: PostgreSQL
    refuses FOR UPDATE on the nullable side of an outer join)."""
    if not allowed:
        raise PermissionDenied
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.get_visible_or_404(user, pk=pk)


def fetch_visible(queryset: models.QuerySet[M], pk: object, *, allowed: bool) -> M:
    """`fetch_for` for objects whose visibility is not a scope but a rule of their own (an import batch:
    its uploader, and the commanders above it): `queryset` is what the user may see."""
    if not allowed:
        raise PermissionDenied
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found
