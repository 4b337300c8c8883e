"""Campaigns (拉网排查): a named stretch of days over an area, whose progress the coverage shows.

The area comes from `screening.access.access_campaign_area` (commanders, in their scope: checked once there).
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from fangkong.accounts.models import User
from fangkong.areas.models import Area
from fangkong.core.errors import FieldErrors, clean_text
from fangkong.screening.models import Campaign
from fangkong.screening.validation import NOTE_LENGTH

MAX_CAMPAIGN_DAYS = 92


def create_campaign(user: User, area: Area, name: str, start_date: dt.date, end_date: dt.date,
                    note: str = "") -> Campaign:
    errors: dict[str, str] = {}
    name = clean_text(name, "name", limit=100, required=True, collapse=False, errors=errors,
                      required_message=_("The name is required."))
    if end_date < start_date:
        errors["end_date"] = _("The last day is before the first day.")
    elif (end_date - start_date).days + 1 > MAX_CAMPAIGN_DAYS:
        errors["end_date"] = _("A campaign lasts at most %(n)d days.") % {"n": MAX_CAMPAIGN_DAYS}
    if len(note or "") > NOTE_LENGTH:
        errors["note"] = _("Longer than %(n)d characters.") % {"n": NOTE_LENGTH}
    if errors:
        raise FieldErrors(errors)
    campaign = Campaign(name=name, area=area, start_date=start_date, end_date=end_date, note=(note or "").strip(),
                        created_by=user)
    campaign.save()
    return campaign
