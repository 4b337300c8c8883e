"""The one place tracing reaches into home/centralised observation (the `observation` app).

The observation app opens one file per person (一人一档); it may not be installed (it is built in
parallel, and a deployment may leave it out), so it is imported lazily and skipped when absent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _

from fangkong.areas.models import Household
from fangkong.policy.services import current_policy


def start_observation(user, resident, *, last_exposure_on: dt.date, reason: str, source_ref: str) -> Any:
    """Open (or find: the call is idempotent per person) the observation file of a close contact:
    centralised or at home as the policy says (observation_centralised). Returns the file, or None
    when the observation app is not installed."""
    if not apps.is_installed("fangkong.observation"):
        return None
    from fangkong.observation import services as observation  # noqa: PLC0415 (optional app)

    if current_policy().observation_centralised:
        # The bed comes from the placement backlog; the file names it once known.
        kind, place = "centralised", _("Awaiting a bed at an isolation site")
    else:
        kind, place = "home", Household.objects.select_related("compound", "building", "unit").get(
            pk=resident.household_id).address
    return observation.open_file(user, resident, kind=kind, reason=reason, last_exposure_on=last_exposure_on,
                                 source="tracing", source_ref=source_ref, place=place)


def observation_file_of(user, resident) -> Any:
    """The person's latest observation file the user may see (for a link from the contact), or None."""
    if resident is None or not apps.is_installed("fangkong.observation"):
        return None
    from fangkong.observation.models import ObservationFile  # noqa: PLC0415 (optional app)

    return ObservationFile.objects.restrict(user).filter(resident=resident).order_by("-id").first()
