"""Account management: commanders and community workers create and look after the accounts below them.

Used by the screens (manage_views.py), the API and the accounts import alike. Each operation takes the
acting manager and validated input, runs in a transaction and writes the audit log with before/after
values. Passwords never reach the log. An account to change comes from `accounts.access.access_account`
(the manager's reach, 404 beyond it): the operations trust it and do not check the manager again.

Beside this module: `access` (the reach), `passwords` (generated passwords), `lockouts` (django-axes'
lock-outs) and `grid_workers` (what grid management needs of accounts, areas.grids).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from axes.utils import reset as axes_reset
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.lockouts import failed_logins
from fangkong.accounts.models import ROLE_AREA_LEVEL, Role, User, facilities_in_scope
from fangkong.accounts.passwords import check_password, generate_password
from fangkong.areas.models import CODE_LENGTH, Area, Compound, Level
from fangkong.audit.models import Action
from fangkong.audit.services import diff, record
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors, clean_text
from fangkong.core.identity import IdentityError, normalize_phone

MAX_NAME_LENGTH = 150  # first_name's length; the full name is kept there (Chinese names are not split)
MAX_FACILITY_ID = 2**53


@dataclass(frozen=True)
class AccountInput:
    """What a manager sets on an account. `area_code` for area-scoped roles, `compound_id` for gate
    guards, `facility_id` for facility staff; the other two are ignored for the role given."""

    username: str = ""
    full_name: str = ""
    phone: str = ""
    role: str = ""
    area_code: str = ""
    compound_id: int | None = None
    facility_id: int | None = None


# --- What a manager may assign --------------------------------------------------------------------------

def assignable_areas(manager: User) -> QuerySet[Area]:
    """Areas in the manager's scope at a level some grantable role is bound to."""
    levels = {ROLE_AREA_LEVEL[r] for r in permissions.grantable_roles(manager) if r in ROLE_AREA_LEVEL}
    return Area.objects.restrict(manager).filter(level__in=levels).order_by("code")


def assignable_compounds(manager: User) -> QuerySet[Compound]:
    if Role.GATE_GUARD not in permissions.grantable_roles(manager):
        return Compound.objects.none()
    return Compound.objects.restrict(manager).select_related("community").order_by("area_code", "name")


# --- Validation --------------------------------------------------------------------------------------

def _clean_username(raw: str, errors: dict[str, str]) -> str:
    username = (raw or "").strip()
    if not username:
        errors["username"] = _("The username is required.")
    elif len(username) > 150:
        errors["username"] = _("The username is longer than 150 characters.")
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError as exc:
            errors["username"] = " ".join(exc.messages)
        else:
            if User.objects.filter(username__iexact=username).exists():
                errors["username"] = _("This username is already taken.")
    return username


def _clean_scope(manager: User, data: AccountInput, errors: dict[str, str]) -> dict[str, Any]:
    """Role and scope → {"role", "area", "compound", "facility_id"}, checked against the manager's reach."""
    out: dict[str, Any] = {"role": data.role, "area": None, "compound": None, "facility_id": None}
    if not data.role:
        errors["role"] = _("Choose a role.")
        return out
    if data.role not in permissions.grantable_roles(manager):
        errors["role"] = _("You may not grant this role.")
        return out
    role = Role(data.role)
    level = ROLE_AREA_LEVEL.get(role)
    if level is not None:
        code = (data.area_code or "").strip()
        area = Area.objects.restrict(manager).filter(code=code).first() if code.isdigit() else None
        if not code:
            errors["area"] = _("Choose an area.")
        elif area is None:
            errors["area"] = _("No area with this code in your scope.")
        elif area.level != level:
            errors["area"] = _("This role must be bound to an area of level %(level)s.") % {"level": Level(level).label}
        out["area"] = area
    elif role == Role.GATE_GUARD:
        compound = None
        if data.compound_id is not None:
            compound = assignable_compounds(manager).filter(pk=data.compound_id).first()
        if data.compound_id is None:
            errors["compound"] = _("A gate guard must be bound to a compound.")
        elif compound is None:
            errors["compound"] = _("No such compound in your scope.")
        out["compound"] = compound
    elif role == Role.FACILITY_STAFF:
        if data.facility_id is None:
            errors["facility_id"] = _("Facility staff must be bound to a facility.")
        elif not (1 <= data.facility_id <= MAX_FACILITY_ID
                  and facilities_in_scope(manager).filter(pk=data.facility_id).exists()):
            errors["facility_id"] = _("No such facility in your scope.")
        out["facility_id"] = data.facility_id
    return out


def clean_account(manager: User, data: AccountInput, *, creating: bool) -> dict[str, Any]:
    """Normalised field values for an account, or FieldErrors (one message per field, in the user's language)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if creating:
        out["username"] = _clean_username(data.username, errors)
    name = clean_text(data.full_name, "full_name", limit=MAX_NAME_LENGTH, required=True, errors=errors,
                      required_message=_("The name is required."),
                      too_long_message=_("The name is longer than %(n)d characters."))
    out["first_name"], out["last_name"] = name, ""
    out["phone"] = ""
    if (data.phone or "").strip():
        try:
            out["phone"] = normalize_phone(data.phone)
        except IdentityError as exc:
            errors["phone"] = str(exc)
    out.update(_clean_scope(manager, data, errors))
    if errors:
        raise FieldErrors(errors)
    return out


# --- Audit -------------------------------------------------------------------------------------------

AUDITED = ("username", "first_name", "phone", "role", "area", "compound", "facility_id", "is_active")


def scope_code(account: User) -> str:
    """The area code an account's scope hangs from ("" for facility staff and superusers)."""
    if account.role == Role.GATE_GUARD and account.compound is not None:
        return account.compound.area_code
    return account.area.code if account.area is not None else ""


def account_snapshot(account: User) -> dict[str, Any]:
    return {
        "username": account.username,
        "first_name": account.first_name,
        "phone": account.phone,
        "role": account.role,
        "area": f"{account.area.name} ({account.area.code})" if account.area is not None else "",
        "compound": f"{account.compound.name} (#{account.compound_id})" if account.compound is not None else "",
        "facility_id": account.facility_id,
        "is_active": account.is_active,
    }


def _common_code(*codes: str) -> str:
    """The code of the closest area holding all these codes (a level boundary, e.g. a street)."""
    codes = tuple(c for c in codes if c)
    if not codes:
        return ""
    common = codes[0]
    for code in codes[1:]:
        n = 0
        while n < min(len(common), len(code)) and common[n] == code[n]:
            n += 1
        common = common[:n]
    lengths = [n for n in CODE_LENGTH.values() if n <= len(common)]
    return common[: max(lengths)] if lengths else ""


def audit_account(manager: User, account: User, action: str, changes: dict[str, Any], *codes: str) -> None:
    # Where the entry sits decides which commanders read it: the account's scope (the closest area
    # holding both, when it moved), else the manager's own area (facility staff have no area).
    area_code = _common_code(*codes)
    if not area_code and manager.home_area is not None:
        area_code = manager.home_area.code
    name = f"{account.username} ({account.first_name})" if account.first_name else account.username
    record(manager, action, account, object_type="accounts.user", object_repr=name[:200], area_code=area_code,
           changes=changes)


# --- Operations --------------------------------------------------------------------------------------

def _lock(account: User) -> User:
    """The account's row, locked for the change that follows (the account came from access_account)."""
    return User.objects.select_related("area", "compound").select_for_update(of=("self",)).get(pk=account.pk)


def create_account(manager: User, data: AccountInput, password: str = "") -> tuple[User, str]:
    """Create an account in the manager's reach. With no password given one is generated; the password
    is returned so it can be shown once (it is never stored in clear nor logged)."""
    if not permissions.can_manage_accounts(manager):  # no account to reach yet: the role rule alone
        raise PermissionDenied
    values = clean_account(manager, data, creating=True)
    # Whoever receives a password from a manager replaces it at the first log-in (accounts.middleware).
    account = User(**values, is_active=True, must_change_password=True)
    password = password or ""
    if password:
        check_password(password, account)
    else:
        password = generate_password()
    account.set_password(password)
    try:
        with transaction.atomic():
            account.full_clean(exclude=["password"], validate_unique=False)
            account.save()
            after = {k: v for k, v in account_snapshot(account).items() if v not in ("", None)}
            audit_account(manager, account, Action.CREATE, diff({}, after), scope_code(account))
    except IntegrityError as exc:  # the same username created at the same moment
        raise FieldErrors({"username": _("This username is already taken.")}) from exc
    except ValidationError as exc:  # User.clean: the checks above should make this unreachable
        raise FieldErrors({field: " ".join(msgs) for field, msgs in exc.message_dict.items()}) from exc
    return account, password


def update_account(manager: User, account: User, data: AccountInput) -> User:
    """Change name, phone, role and scope (the username stays). Audit-logged when anything changed."""
    values = clean_account(manager, data, creating=False)
    with transaction.atomic():
        locked = _lock(account)
        before, old_code = account_snapshot(locked), scope_code(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        try:
            locked.full_clean(exclude=["password", "username"], validate_unique=False)
        except ValidationError as exc:
            raise FieldErrors({field: " ".join(msgs) for field, msgs in exc.message_dict.items()}) from exc
        changes = diff(before, account_snapshot(locked))
        if changes:
            locked.save()
            audit_account(manager, locked, Action.UPDATE, changes, old_code, scope_code(locked))
    return locked


def set_active(manager: User, account: User, active: bool) -> User:
    """Deactivate (no log-in, no API token, open sessions end) or reactivate an account."""
    with transaction.atomic():
        locked = _lock(account)
        if locked.is_active != active:
            locked.is_active = active
            fields = ["is_active"]
            if not active:
                locked.sessions_valid_after = timezone.now()
                fields.append("sessions_valid_after")
            locked.save(update_fields=fields)
            audit_account(manager, locked, Action.UPDATE, {"is_active": [not active, active]}, scope_code(locked))
    return locked


def reset_password(manager: User, account: User) -> str:
    """A new generated password, returned to be shown once; the old one (and open sessions) stop working."""
    password = generate_password()
    with transaction.atomic():
        locked = _lock(account)
        locked.set_password(password)
        locked.must_change_password = True
        locked.sessions_valid_after = timezone.now()
        locked.save(update_fields=["password", "must_change_password", "sessions_valid_after"])
        audit_account(manager, locked, Action.UPDATE, {"password": "reset"}, scope_code(locked))
    return password


def end_sessions(user: User, account: User) -> dt.datetime:
    """End every browser session of `account` (accounts.sessions: each ends at its next request, whatever
    the session backend): a manager's for an account in their reach (a shared phone was lost), or the
    user's own (`account` is `user`; the view keeps the session it was asked from). API tokens stay.
    Audit-logged; returns the moment from which sessions are valid again."""
    moment = timezone.now()
    with transaction.atomic():
        locked = _lock(account)
        locked.sessions_valid_after = moment
        locked.save(update_fields=["sessions_valid_after"])
        audit_account(user, locked, Action.UPDATE, {"sessions": "ended"}, scope_code(locked))
    return moment


def unlock_account(manager: User, account: User) -> int:
    """Clear the failed log-ins django-axes holds against the username (from any address); returns
    how many records were cleared. Audit-logged when there was something to clear."""
    with transaction.atomic():
        failures = failed_logins({account.username}).get(account.username, 0)
        cleared = axes_reset(username=account.username)
        if cleared:
            audit_account(manager, account, Action.UPDATE, {"lockout": "cleared", "failed_logins": failures}, scope_code(account))
    return cleared


