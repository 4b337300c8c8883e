"""Reaching the cross-check's to-dos: the role rule and the scope, checked once, for views and the API.

403 when the user's role does not handle to-dos, 404 when the to-do is missing or outside the user's
scope (the same answer for both). A service handed a to-do by these functions trusts it: it does not
check the user again.
"""

from __future__ import annotations

from fangkong.accounts.models import User
from fangkong.areas.access import access_area_or_home
from fangkong.areas.models import Area
from fangkong.core import permissions
from fangkong.core.scope import fetch_for
from fangkong.crosscheck.models import ToDo

# What a to-do's page, its list row and the API show: the place, the returnee, who closed it.
RELATED = ("household__unit", "household__building", "household__compound", "building__compound", "returnee",
           "resident", "closed_by")


def access_area(user: User, code: str = "") -> Area:
    """The area whose to-dos are listed: `code` if the user's scope covers it, or without a code the
    user's home area (403 when they have none, or it lies outside their scope)."""
    return access_area_or_home(user, code, user.home_area, rule=permissions.can_handle_todos)


def access_todo(user: User, pk: object, *, lock: bool = False) -> ToDo:
    """A to-do to show, register someone for or close."""
    return fetch_for(user, ToDo.objects.select_related(*RELATED), pk,
                     allowed=permissions.can_handle_todos(user), lock=lock)
