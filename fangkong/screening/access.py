"""Reaching the screening's objects: the role rule and the scope, checked once, for views and the API.

Each function answers 403 when the user's role may not do this at all and 404 when the object is
missing or outside the user's scope (the same answer for both). A service handed an object by these
functions trusts it: it does not check the user again.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from fangkong.accounts.models import User
from fangkong.areas.access import access_area_or_home
from fangkong.areas.models import Area, Household
from fangkong.core import permissions
from fangkong.core.scope import fetch_for
from fangkong.screening.models import Campaign, FollowUp

# What the visit form, the QR code page and the follow-up banners show of a household.
HOUSEHOLD_RELATED = ("unit", "building", "compound")
# What handling a follow-up item reads: the person, the readings and the visit that flagged them.
FOLLOW_UP_RELATED = ("resident", "person_check", "visit")


def access_area(user: User, code: str = "") -> Area:
    """The area to screen in: `code` if the user's scope covers it, or without a code the user's home
    area (403 when they have none, or it lies outside their scope)."""
    return access_area_or_home(user, code, user.home_area, rule=permissions.can_record)


def access_household(user: User, pk: object, *, lock: bool = False) -> Household:
    """A household to screen: record a visit, show or renew its self-report link."""
    return fetch_for(user, Household.objects.select_related(*HOUSEHOLD_RELATED), pk,
                     allowed=permissions.can_record(user), lock=lock)


def access_follow_up(user: User, pk: object, *, lock: bool = False) -> FollowUp:
    """A follow-up item to take up or dismiss. Everyone who screens sees the queue, so for them an item
    out of scope is 404 like a missing one; of those, only the handlers may act on it (403)."""
    item = fetch_for(user, FollowUp.objects.select_related(*FOLLOW_UP_RELATED), pk,
                     allowed=permissions.can_record(user), lock=lock)
    if not permissions.can_handle_follow_ups(user):
        raise PermissionDenied
    return item


def access_campaign(user: User, pk: object) -> Campaign:
    """A campaign's page: who screens, for the campaigns over or under their area."""
    return fetch_for(user, Campaign.objects.select_related("area", "created_by"), pk,
                     allowed=permissions.can_record(user))


def access_campaign_area(user: User, code: str) -> Area:
    """The area a new campaign runs over: commanders, in their scope."""
    if not permissions.can_manage_campaigns(user):
        raise PermissionDenied
    return Area.objects.get_visible_or_404(user, code=code)
