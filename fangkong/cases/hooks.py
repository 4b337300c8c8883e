"""What cases tells the apps above it (hooks) and asks of them (providers), typed; they register in
their AppConfig.ready() and cases imports none of them.

Hooks, fired by the cases services inside the operation's transaction:

- `STATUS_CHANGED(user, case, before_status, now)` after every status change, once the history line is
  written and the placement state refreshed; `before_status` is "" for a newly opened case. Contact
  tracing opens an investigation when a case becomes suspected or confirmed.
- `DECEASED(user, case, now)` when a person dies, before the placement state is worked out: facilities
  frees every bed the person held or had booked.

Providers (core.hooks.Provider), answered by facilities, which keeps the beds and stays:

- `BEDS(case, policy, now)`: the beds the person holds, for the placement state. A booking that no
  longer fits the person's category is given back first (the bed freed), as the answer says.
- `CASE_STAY_TIMES(case)` and `AREA_STAY_TIMES(user, code)`: the times of the stays (waiting, booked,
  transfer, admitted), for the time in each link of one person and of an area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from fangkong.accounts.models import User
from fangkong.cases.models import Case
from fangkong.core.hooks import Hook, Provider
from fangkong.policy.schema import Policy

STATUS_CHANGED: Hook[[User | None, Case, str, dt.datetime]] = Hook("cases.status_changed")
DECEASED: Hook[[User | None, Case, dt.datetime]] = Hook("cases.deceased")


@dataclass(frozen=True)
class Beds:
    """The beds a person holds, as far as their placement state goes."""

    admitted: bool = False  # admitted somewhere
    admitted_fits: bool = False  # ... in a bed that fits their category
    booked: bool = False  # a booked bed that fits their category
    given_back: bool = False  # a booking that no longer fit was given back just now
    given_back_waiting_since: dt.datetime | None = None  # ... and the person had waited since then


@dataclass(frozen=True)
class StayTimes:
    """One stay's moments, for the time in each link."""

    case_id: int
    area_code: str
    waiting_since: dt.datetime | None
    booked_at: dt.datetime | None
    admitted_at: dt.datetime | None
    requested_at: dt.datetime | None  # the transfer's
    arrived_at: dt.datetime | None


def _no_beds(case: Case, policy: Policy, now: dt.datetime) -> Beds:
    return Beds()


def _no_case_stays(case: Case) -> list[StayTimes]:
    return []


def _no_area_stays(user: User, code: str) -> Iterable[StayTimes]:
    return ()


BEDS: Provider[[Case, Policy, dt.datetime], Beds] = Provider("cases.beds", _no_beds)
CASE_STAY_TIMES: Provider[[Case], list[StayTimes]] = Provider("cases.case_stay_times", _no_case_stays)
AREA_STAY_TIMES: Provider[[User, str], Iterable[StayTimes]] = Provider("cases.area_stay_times", _no_area_stays)
