"""Reaching an area, a compound or a building: the scope (and a role rule, when one is given), checked
once, for the area pages, the area API and the pages of the apps above that start from an area.

Everything in the area tree may be seen by whoever's scope covers it; a rule narrows that to a role
(the residents' export: those who may reveal). The rule is checked first (403), then the scope (404 for
"missing" and "not yours" alike). Users are typed by what the rules and the scope read of them
(core.permissions.Account): accounts lies above areas.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied

from fangkong.areas.models import Area, Building, Compound
from fangkong.core.permissions import Account
from fangkong.core.scope import fetch_for, scope_of

Rule = Callable[[Account | None], bool]


def access_area(user: Account | None, code: str, *, rule: Rule | None = None,
                related: tuple[str, ...] = ("parent",)) -> Area:
    """The area `code` (areas are reached by their code, not their number) if the user's scope covers it."""
    if rule is not None and not rule(user):
        raise PermissionDenied
    return Area.objects.select_related(*related).get_visible_or_404(user, code=code)


def access_area_or_home(user: Account | None, code: str, home: Area | None, *, rule: Rule) -> Area:
    """The area a list starts from: `code` when given (scope-checked, 404), else the user's home area (403
    when they have none, or it lies outside their scope). The rule is checked first (403)."""
    if not rule(user):
        raise PermissionDenied
    if code:
        return access_area(user, code)
    if home is None or not scope_of(user).covers_area_code(home.code):
        raise PermissionDenied
    return home


def access_compound(user: Account | None, pk: object, *, related: tuple[str, ...] = ("community",)) -> Compound:
    return fetch_for(user, Compound.objects.select_related(*related), pk, allowed=True)


def access_building(user: Account | None, pk: object, *, related: tuple[str, ...] = ("compound", "grid")) -> Building:
    return fetch_for(user, Building.objects.select_related(*related), pk, allowed=True)
