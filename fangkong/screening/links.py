"""The household's self-report link (居民自报): one unguessable token per household, printed as a QR
code, renewed on demand. The page behind it is screening.selfreport.

The household comes from `screening.access.access_household` (who may screen it, checked once there).
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from fangkong.accounts.models import User
from fangkong.areas.models import Household
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.screening.models import HouseholdLink


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def link_for(user: User, household: Household) -> HouseholdLink:
    """The household's self-report link, made on first use."""
    link = HouseholdLink.objects.filter(household=household).first()
    if link is None:
        try:
            with transaction.atomic():
                link = HouseholdLink.objects.create(household=household, token=new_token(), area_code=household.area_code)
        except IntegrityError:
            link = HouseholdLink.objects.get(household=household)
    return link


def renew_link(user: User, household: Household) -> HouseholdLink:
    """A new token (the old link and its printed QR code stop working), e.g. after a household moves out."""
    link = link_for(user, household)
    link.token = new_token()
    link.save(update_fields=["token"])
    record(user, Action.UPDATE, household, object_type="screening.householdlink", object_id=str(link.pk),
           object_repr=household.address, changes={"token": ["…", "…"]})
    return link


def link_by_token(token: str) -> HouseholdLink | None:
    if not token or len(token) > 64:
        return None
    return HouseholdLink.objects.select_related("household__unit", "household__building", "household__compound").filter(
        token=token).first()
