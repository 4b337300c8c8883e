"""Reaching what tracing works on — a case, an investigation, a contact, a disinfection task, an area —
for one user: the role rule (`can_trace`) and the scope, checked once, for the pages and the API.

403 when the role may not trace; 404 for what is missing or outside the user's scope, alike. A service
handed an object by these functions trusts it: it does not check the user again.
"""

from __future__ import annotations

from fangkong.accounts.models import User
from fangkong.areas import access as areas_access
from fangkong.areas.models import Area
from fangkong.cases import access as cases_access
from fangkong.cases.models import Case
from fangkong.core import permissions
from fangkong.core.scope import fetch_for
from fangkong.tracing.models import Contact, DisinfectionTask, Investigation


def access_case(user: User, pk: object, *, lock: bool = False) -> Case:
    """A case to trace: the cases app's access with tracing's rule (facility staff do not trace)."""
    return cases_access.access_case(user, pk, lock=lock, rule=permissions.can_trace)


def access_investigation(user: User, pk: object, *, lock: bool = False) -> Investigation:
    return fetch_for(user, Investigation.objects.select_related("case__resident"), pk,
                     allowed=permissions.can_trace(user), lock=lock)


def access_contact(user: User, pk: object, *, lock: bool = False) -> Contact:
    return fetch_for(user, Contact.objects.select_related("investigation__case__resident", "resident"), pk,
                     allowed=permissions.can_trace(user), lock=lock)


def access_task(user: User, pk: object, *, lock: bool = False) -> DisinfectionTask:
    return fetch_for(user, DisinfectionTask.objects.all(), pk, allowed=permissions.can_trace(user), lock=lock)


def access_area(user: User, code: str) -> Area:
    """An area whose investigations, chains, clusters or tasks the user lists."""
    return areas_access.access_area(user, code, rule=permissions.can_trace)
