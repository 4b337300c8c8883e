"""The provider Case.scope_q asks (kept apart from cases.hooks, which imports cases.models).

A hook (core.hooks) tells the apps above that something happened; a provider (core.hooks.Provider) asks
one of them a question and uses the answer. Facilities keeps the beds and stays: it provides, in its ready(), which
cases a facility's staff may see, what beds a person holds (for the placement state) and the times of
the stays (for the time in each link). Without a provider the question has its default answer (no
beds, no stays), so cases works on its own.
"""

from __future__ import annotations

from django.db.models import Q

from fangkong.core.hooks import Provider
from fangkong.core.scope import NOTHING


def _no_cases(facility_id: int) -> Q:
    return NOTHING


# Facility staff see the people booked into or staying in their facility: facility id → the Q over cases.
FACILITY_CASES: Provider[[int], Q] = Provider("cases.facility_cases", _no_cases)
