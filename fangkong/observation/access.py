"""Reaching an observation file, an alert, a person to observe or an area's board: the role rule
(`can_observe`) and the scope, checked once, for the pages and the API.

403 when the role may not observe; 404 for what is missing or outside the user's scope, alike. A
service handed an object by these functions trusts it: it does not check the user again.
"""

from __future__ import annotations

from collections.abc import Callable

from fangkong.accounts.models import User
from fangkong.areas import access as areas_access
from fangkong.areas.models import Area
from fangkong.core import permissions
from fangkong.core.scope import fetch_for
from fangkong.observation.models import Alert, ObservationFile
from fangkong.people.models import Resident

# What a file's page shows of the person, their home, the responsible worker and the isolation site.
FILE_RELATED = ("resident__household__compound", "resident__household__building", "resident__household__unit",
                "responsible", "facility")


def access_file(user: User, pk: object, *, lock: bool = False, related: tuple[str, ...] = FILE_RELATED,
                rule: Callable[[permissions.Account | None], bool] = permissions.can_observe) -> ObservationFile:
    """The file `pk` if `user` may observe (or pass `rule`, e.g. can_assign_responsible) and it is in scope."""
    return fetch_for(user, ObservationFile.objects.select_related(*related), pk, allowed=rule(user), lock=lock)


def access_alert(user: User, pk: object, *, lock: bool = False) -> Alert:
    return fetch_for(user, Alert.objects.all(), pk, allowed=permissions.can_observe(user), lock=lock)


def access_resident(user: User, pk: object) -> Resident:
    """A person to open an observation file for."""
    return fetch_for(user, Resident.objects.select_related("household"), pk, allowed=permissions.can_observe(user))


def access_area(user: User, code: str) -> Area:
    """An area whose board, notices or bulk operations the user works on."""
    return areas_access.access_area(user, code, rule=permissions.can_observe)
