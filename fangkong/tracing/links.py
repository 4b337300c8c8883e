"""The one place tracing reaches into home/centralised observation (the `observation` app, a layer
below): a close contact's observation file (一人一档), and the link to it from the contact's page.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.observation.files import open_file
from fangkong.observation.models import ObservationFile
from fangkong.people.models import Resident
from fangkong.policy.services import current_policy


def start_observation(user: User, resident: Resident, *, last_exposure_on: dt.date, reason: str,
                      source_ref: str) -> ObservationFile:
    """Open (or find: the call is idempotent per person) the observation file of a close contact:
    centralised or at home as the policy says (observation_centralised)."""
    if current_policy().observation_centralised:
        # The bed comes from the placement backlog; the file names it once known.
        kind, place = "centralised", _("Awaiting a bed at an isolation site")
    else:
        kind, place = "home", Household.objects.select_related("compound", "building", "unit").get(
            pk=resident.household_id).address
    return open_file(user, resident, kind=kind, reason=reason, last_exposure_on=last_exposure_on,
                     source="tracing", source_ref=source_ref, place=place)


def observation_file_of(user: User, resident: Resident | None) -> ObservationFile | None:
    """The person's latest observation file the user may see (for a link from the contact), or None."""
    if resident is None:
        return None
    return ObservationFile.objects.restrict(user).filter(resident=resident).order_by("-id").first()
