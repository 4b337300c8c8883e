"""Where a person stands with beds (the placement state): waiting for a bed, booked, in a fitting bed,
to be discharged or needing none. Worked out from the person's category, the policy and the beds they
hold, which facilities provides (cases.hooks.BEDS); called after every change of category and by
facilities after every change of a bed.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangkong.cases.hooks import BEDS
from fangkong.cases.models import Case, Placement
from fangkong.policy.schema import Policy
from fangkong.policy.services import current_policy


def refresh_placement(case: Case, *, policy: Policy | None = None, now: dt.datetime | None = None) -> Case:
    """Recompute where the person stands: waiting for a bed, booked, in a fitting bed, to be discharged
    or needing none. A pending booking that no longer fits the category is cancelled (the bed freed)."""
    policy = policy or current_policy()
    now = now or timezone.now()
    beds = BEDS(case, policy, now)
    category = case.category
    waiting_since = beds.given_back_waiting_since if beds.given_back else case.waiting_since
    if not category:
        state = Placement.TO_LEAVE if beds.admitted else Placement.NONE
    elif beds.admitted_fits:
        state = Placement.PLACED
    elif beds.booked:
        state = Placement.BOOKED
    elif category == "close_contact" and not policy.observation_centralised:
        state = Placement.NONE  # observed at home, as the policy says: no isolation-site bed to wait for
    else:
        state = Placement.WAITING
    if state == Placement.WAITING:
        waiting_since = waiting_since if case.placement in (Placement.WAITING, Placement.BOOKED) and waiting_since else now
    elif state != Placement.BOOKED:
        waiting_since = None
    if (case.placement, case.waiting_since) != (state, waiting_since):
        case.placement, case.waiting_since = state, waiting_since
        Case.objects.filter(pk=case.pk).update(placement=state, waiting_since=waiting_since)
    return case
