"""What the screening adds to lower apps' pages: the household page's visit history and the
grid worker's start page (registered in ScreeningConfig.ready, see fangkong.core.panels/landing)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.core import permissions
from fangkong.screening.models import Visit

HISTORY_LENGTH = 14  # two weeks of daily visits


def household_visits(user: User, household: Household) -> dict[str, Any] | None:
    """The household's latest visits, for those who screen (others see no panel)."""
    if not permissions.can_record(user):
        return None
    visits = list(Visit.objects.restrict(user).filter(household=household).select_related("recorded_by")
                  .prefetch_related("checks")[:HISTORY_LENGTH + 1])
    return {"visits": visits[:HISTORY_LENGTH], "more": len(visits) > HISTORY_LENGTH, "household": household}


def day_list_start(user: User) -> str | None:
    return reverse("screening:today") if permissions.can_record(user) and user.home_area is not None else None
