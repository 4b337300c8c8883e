"""Who may do what: every role rule of Fangkong, in one place.

The roles themselves are defined here, at the bottom of the house, so that every layer — the audit log's
and the area tree's pages too, which lie below accounts — reads the same rules. Pure functions of the
user's role and scope — no queries, no objects of the apps above. Views, the API,
services, exports and templates (`{% load permissions %}` then `{% if user|can_trace %}`) all read these;
whether a given object lies in the user's scope is the scoped querysets' business (core.scope), checked
once by each app's access functions (`access_case(user, pk)` and siblings).

An anonymous user, an inactive one, or an account without a role may do nothing here; a superuser may
do everything. Roles are compared as sets, never as levels (CARE's weak spot).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Protocol, TypeGuard

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.scope import ScopedUser


class Role(models.TextChoices):
    CITY_COMMANDER = "city_commander", _("City commander")
    DISTRICT_COMMANDER = "district_commander", _("District commander")
    STREET_COMMANDER = "street_commander", _("Street commander")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    GRID_WORKER = "grid_worker", _("Grid worker")
    FACILITY_STAFF = "facility_staff", _("Facility staff")
    GATE_GUARD = "gate_guard", _("Gate guard")
    VOLUNTEER = "volunteer", _("Volunteer")


COMMANDERS = {Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER, Role.STREET_COMMANDER}
# The roles each role may grant to accounts it manages: strictly below its own, written out (no numeric
# levels to compare). Facility staff: city commanders only for now, as facilities have no place in the
# area tree yet. Superusers grant every role; nobody grants superuser here (that stays in /admin/).
GRANTABLE_ROLES: dict[str, tuple[Role, ...]] = {
    Role.CITY_COMMANDER: (Role.DISTRICT_COMMANDER, Role.STREET_COMMANDER, Role.COMMUNITY_WORKER, Role.GRID_WORKER,
                          Role.VOLUNTEER, Role.GATE_GUARD, Role.FACILITY_STAFF),
    Role.DISTRICT_COMMANDER: (Role.STREET_COMMANDER, Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.VOLUNTEER,
                              Role.GATE_GUARD),
    Role.STREET_COMMANDER: (Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.VOLUNTEER, Role.GATE_GUARD),
    Role.COMMUNITY_WORKER: (Role.GRID_WORKER, Role.VOLUNTEER, Role.GATE_GUARD),
}

# Area work with personal data: they may reveal full ID numbers and phones of people in their scope,
# edit residents, screen households and handle the cross-check's to-dos.
REVEALERS = COMMANDERS | {Role.COMMUNITY_WORKER, Role.GRID_WORKER}
IMPORTERS = COMMANDERS | {Role.COMMUNITY_WORKER}
# Who works on a phone or a desk that others use too: the grid's phone passes between workers, the gate's
# tablet between guards' shifts, the ward's computer between nurses. Their sessions end sooner
# (session_limits).
SHARED_DEVICE_ROLES = {Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.VOLUNTEER, Role.GATE_GUARD,
                       Role.FACILITY_STAFF}
# Who sees a whole district or more: a leaked password of theirs would open the personal data of hundreds of
# thousands, so their log-in takes a second factor (requires_two_factor). Each area role is bound to its level
# (accounts.models.ROLE_AREA_LEVEL, checked when an account is saved), so the role says the scope's width
# without reading the area: the check costs no query on a request.
WIDE_ROLES = {Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER}
# Split communities into grids (areas.grids checks the community lies in their scope).
GRID_MANAGERS = COMMANDERS | {Role.COMMUNITY_WORKER}
# The four categories in their area; facility staff for the people in their facility.
AREA_CASE_ROLES = COMMANDERS | {Role.COMMUNITY_WORKER, Role.GRID_WORKER}
# Screening follow-up items are taken up (or dismissed) by community workers and commanders.
FOLLOW_UP_HANDLERS = COMMANDERS | {Role.COMMUNITY_WORKER}
# The facility register is kept by the city and district command.
FACILITY_REGISTRARS = {Role.CITY_COMMANDER, Role.DISTRICT_COMMANDER}
# Keep a facility's occupancy true: its own staff, and the city and district command above it.
FACILITY_WORKERS = FACILITY_REGISTRARS | {Role.FACILITY_STAFF}


class Account(ScopedUser, Protocol):
    """What the rules read of an account (accounts.models.User, which lies above core): what scoping
    reads, and the role."""

    @property
    def is_superuser(self) -> bool: ...
    @property
    def role(self) -> str: ...


def _active(user: Account | None) -> TypeGuard[Account]:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _has_role(user: Account | None, roles: set[Role]) -> bool:
    return _active(user) and (user.is_superuser or user.role in roles)


# --- The registry and accounts ----------------------------------------------------------------------

def is_commander(user: Account | None) -> bool:
    return _has_role(user, COMMANDERS)


def can_reveal(user: Account | None) -> bool:
    """Full ID numbers and phones of people in the user's scope (each reveal is audit-logged)."""
    return _has_role(user, REVEALERS)


def can_edit_residents(user: Account | None) -> bool:
    return can_reveal(user)


def can_import(user: Account | None) -> bool:
    """Rosters, cross-check evidence and other files of the user's area."""
    return _has_role(user, IMPORTERS)


def can_manage_grids(user: Account | None) -> bool:
    return _has_role(user, GRID_MANAGERS)


def can_browse_audit(user: Account | None) -> bool:
    return is_commander(user)


def can_see_system_jobs(user: Account | None) -> bool:
    """The scheduled jobs (alerts, cross-check, upkeep) run for the whole city: its commanders watch them."""
    return _has_role(user, {Role.CITY_COMMANDER})


def can_change_policy(user: Account | None) -> bool:
    return _has_role(user, {Role.CITY_COMMANDER})


def grantable_roles(user: Account | None) -> tuple[Role, ...]:
    """The roles this account may give to the accounts it manages (none: it manages no accounts)."""
    if not _active(user):
        return ()
    if user.is_superuser:
        return tuple(Role)
    if not user.scope.area_code:  # a manager needs an area to manage accounts in
        return ()
    return GRANTABLE_ROLES.get(user.role, ())


def can_manage_accounts(user: Account | None) -> bool:
    return bool(grantable_roles(user))


class SessionLimits(NamedTuple):
    idle: dt.timedelta  # without a request for this long, the session ends
    absolute: dt.timedelta  # this long after the log-in, the session ends whatever happens


def session_limits(user: Account) -> SessionLimits:
    """How long a browser session of this account may last (accounts.middleware.SessionLimitMiddleware):
    the roles of shared devices get the worker limits (SESSION_WORKER_IDLE_MINUTES, SESSION_WORKER_MAX_HOURS),
    everyone else — commanders, superusers — the longer ones (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS)."""
    if not user.is_superuser and user.role in SHARED_DEVICE_ROLES:
        return SessionLimits(dt.timedelta(minutes=settings.SESSION_WORKER_IDLE_MINUTES),
                             dt.timedelta(hours=settings.SESSION_WORKER_MAX_HOURS))
    return SessionLimits(dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES),
                         dt.timedelta(hours=settings.SESSION_MAX_HOURS))


def requires_two_factor(user: Account | None) -> bool:
    """Whether this account must pass a second factor (accounts.two_factor) before any page: the accounts
    that see a whole district or more — city and district commanders, superusers — when
    settings.OTP_REQUIRED_FOR_WIDE_ROLES is on. Everyone else may enrol, and once enrolled passes it too."""
    return bool(settings.OTP_REQUIRED_FOR_WIDE_ROLES) and _has_role(user, WIDE_ROLES)


# --- Screening and the cross-check -------------------------------------------------------------------

def can_record(user: Account | None) -> bool:
    """Screen households: the roles that handle personal data."""
    return can_reveal(user)


def can_handle_follow_ups(user: Account | None) -> bool:
    return _has_role(user, FOLLOW_UP_HANDLERS)


def can_manage_campaigns(user: Account | None) -> bool:
    return is_commander(user)


def can_handle_todos(user: Account | None) -> bool:
    """The cross-check's to-dos: the roles that handle personal data."""
    return can_reveal(user)


# --- The four categories, facilities, observation and tracing ---------------------------------------

def can_open_cases(user: Account | None) -> bool:
    return _has_role(user, AREA_CASE_ROLES)


def can_manage_cases(user: Account | None) -> bool:
    """The four-category board and the case pages (facility staff: the people in their facility)."""
    return _has_role(user, AREA_CASE_ROLES | {Role.FACILITY_STAFF})


def can_see_cases(user: Account | None) -> bool:
    """The four-category board and the facility board in the header."""
    return can_manage_cases(user)


def can_register_facilities(user: Account | None) -> bool:
    return _has_role(user, FACILITY_REGISTRARS)


def can_place(user: Account | None) -> bool:
    """Run the placement engine, confirm placements and dispatch transfers: commanders."""
    return is_commander(user)


def can_work_in_facilities(user: Account | None) -> bool:
    """Admit, discharge and keep beds (for the facilities in the user's scope)."""
    return _has_role(user, FACILITY_WORKERS)


def can_track_transfers(user: Account | None) -> bool:
    """Move a transfer along: the commanders, the community workers who hand the person over and the
    facilities that receive them."""
    return can_handle_follow_ups(user) or can_work_in_facilities(user)


def can_observe(user: Account | None) -> bool:
    """Keep observation files: commanders, community and grid workers."""
    return _has_role(user, AREA_CASE_ROLES)


def can_assign_responsible(user: Account | None) -> bool:
    """Name the worker responsible for an observed person (包保责任人): the area's work."""
    return can_observe(user)


def can_trace(user: Account | None) -> bool:
    """Tracing is area work: commanders, community and grid workers (not facility staff)."""
    return can_open_cases(user)


def can_reveal_in(user: Account | None, area_code: str) -> bool:
    """Reveal a person kept under `area_code`: a revealing role whose scope covers it."""
    return _active(user) and can_reveal(user) and user.scope.covers_area_code(area_code)


# Every rule above, for the template library (each becomes a filter of the same name).
RULES = {name: value for name, value in dict(globals()).items()
         if callable(value) and (name.startswith(("can_", "is_")) or name == "grantable_roles")}
