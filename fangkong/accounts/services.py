"""Account management: commanders and community workers create and look after the accounts below them.

Used by the screens (manage_views.py) and the API alike. Each operation takes the acting manager and
validated input, checks that the account lies in the manager's reach (`managed_accounts`), runs in a
transaction and writes the audit log with before/after values. Passwords never reach the log.

Reach: an account is managed by someone when its role is one the manager may grant
(`User.grantable_roles`, strictly below the manager's own) and its scope lies inside the manager's
area subtree (a gate guard's compound must lie there, a facility staff member's facility too). Superusers reach every account but other
superusers, which stay in /admin/. Anything out of reach answers 404.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from axes.helpers import get_cool_off
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.accounts.models import ROLE_AREA_LEVEL, Role, User, facilities_in_scope
from fangkong.areas.models import CODE_LENGTH, Area, Compound, Level
from fangkong.audit.models import Action
from fangkong.audit.services import diff, record
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.core.identity import IdentityError, normalize_phone

MAX_NAME_LENGTH = 150  # first_name's length; the full name is kept there (Chinese names are not split)
MAX_FACILITY_ID = 2**53
# Generated passwords: no look-alike characters (0/O, 1/l/I), easy to read out over the phone.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_GROUPS, PASSWORD_GROUP_LENGTH = 3, 4


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


# --- Reach -------------------------------------------------------------------------------------------

def managed_accounts(manager: User) -> QuerySet[User]:
    """Every account the manager may see and change (one place for the rule, like `restrict()`)."""
    accounts = User.objects.select_related("area", "compound")
    if manager is None or not manager.is_authenticated or not manager.is_active:
        return accounts.none()
    if manager.is_superuser:
        return accounts.filter(is_superuser=False)
    roles = permissions.grantable_roles(manager)
    code = manager.scope.area_code
    if not roles or not code:
        return accounts.none()
    area_roles = [r for r in roles if r in ROLE_AREA_LEVEL]
    reach = Q(role__in=area_roles, area__code__startswith=code)
    if Role.GATE_GUARD in roles:
        reach |= Q(role=Role.GATE_GUARD, compound__area_code__startswith=code)
    if Role.FACILITY_STAFF in roles:
        reach |= Q(role=Role.FACILITY_STAFF, facility__area_code__startswith=code)
    return accounts.filter(reach, is_superuser=False)


def managed_account_or_404(manager: User, pk: Any) -> User:
    """Out-of-reach accounts answer 404, exactly like accounts that do not exist."""
    try:
        return managed_accounts(manager).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def assignable_areas(manager: User) -> QuerySet[Area]:
    """Areas in the manager's scope at a level some grantable role is bound to."""
    levels = {ROLE_AREA_LEVEL[r] for r in permissions.grantable_roles(manager) if r in ROLE_AREA_LEVEL}
    return Area.objects.restrict(manager).filter(level__in=levels).order_by("code")


def assignable_compounds(manager: User) -> QuerySet[Compound]:
    if Role.GATE_GUARD not in permissions.grantable_roles(manager):
        return Compound.objects.none()
    return Compound.objects.restrict(manager).select_related("community").order_by("area_code", "name")


def _require_manager(manager: User, account: User | None = None) -> None:
    if not permissions.can_manage_accounts(manager):
        raise PermissionDenied
    if account is not None and not managed_accounts(manager).filter(pk=account.pk).exists():
        raise PermissionDenied


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
    name = " ".join((data.full_name or "").split())
    if not name:
        errors["full_name"] = _("The name is required.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["full_name"] = _("The name is longer than %(n)d characters.") % {"n": MAX_NAME_LENGTH}
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


def _check_password(password: str, account: User) -> None:
    try:
        validate_password(password, user=account)
    except ValidationError as exc:
        raise FieldErrors({"password": " ".join(exc.messages)}) from exc


def generate_password() -> str:
    """A random password such as `k7Qm-x3Fp-T9wa` (about 69 bits), which Django's validators accept."""
    while True:
        groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_GROUP_LENGTH))
                  for _ in range(PASSWORD_GROUPS))
        password = "-".join(groups)
        try:
            validate_password(password)
        except ValidationError:  # pragma: no cover - astronomically unlikely
            continue
        return password


# --- Audit -------------------------------------------------------------------------------------------

AUDITED = ("username", "first_name", "phone", "role", "area", "compound", "facility_id", "is_active")


def scope_code(account: User) -> str:
    """The area code an account's scope hangs from ("" for facility staff and superusers)."""
    if account.role == Role.GATE_GUARD and account.compound_id:
        return account.compound.area_code
    return account.area.code if account.area_id else ""


def _snapshot(account: User) -> dict[str, Any]:
    return {
        "username": account.username,
        "first_name": account.first_name,
        "phone": account.phone,
        "role": account.role,
        "area": f"{account.area.name} ({account.area.code})" if account.area_id else "",
        "compound": f"{account.compound.name} (#{account.compound_id})" if account.compound_id else "",
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


def _audit(manager: User, account: User, action: str, changes: dict[str, Any], *codes: str) -> None:
    # Where the entry sits decides which commanders read it: the account's scope (the closest area
    # holding both, when it moved), else the manager's own area (facility staff have no area).
    area_code = _common_code(*codes)
    if not area_code and manager.home_area is not None:
        area_code = manager.home_area.code
    name = f"{account.username} ({account.first_name})" if account.first_name else account.username
    record(manager, action, account, object_type="accounts.user", object_repr=name[:200], area_code=area_code,
           changes=changes)


# --- Operations --------------------------------------------------------------------------------------

def create_account(manager: User, data: AccountInput, password: str = "") -> tuple[User, str]:
    """Create an account in the manager's reach. With no password given one is generated; the password
    is returned so it can be shown once (it is never stored in clear nor logged)."""
    _require_manager(manager)
    values = clean_account(manager, data, creating=True)
    # Whoever receives a password from a manager replaces it at the first log-in (accounts.middleware).
    account = User(**values, is_active=True, must_change_password=True)
    password = password or ""
    if password:
        _check_password(password, account)
    else:
        password = generate_password()
    account.set_password(password)
    try:
        with transaction.atomic():
            account.full_clean(exclude=["password"], validate_unique=False)
            account.save()
            after = {k: v for k, v in _snapshot(account).items() if v not in ("", None)}
            _audit(manager, account, Action.CREATE, diff({}, after), scope_code(account))
    except IntegrityError as exc:  # the same username created at the same moment
        raise FieldErrors({"username": _("This username is already taken.")}) from exc
    except ValidationError as exc:  # User.clean: the checks above should make this unreachable
        raise FieldErrors({field: " ".join(msgs) for field, msgs in exc.message_dict.items()}) from exc
    return account, password


def update_account(manager: User, account: User, data: AccountInput) -> User:
    """Change name, phone, role and scope (the username stays). Audit-logged when anything changed."""
    _require_manager(manager, account)
    values = clean_account(manager, data, creating=False)
    with transaction.atomic():
        locked = managed_accounts(manager).select_for_update(of=("self",)).get(pk=account.pk)
        before, old_code = _snapshot(locked), scope_code(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        try:
            locked.full_clean(exclude=["password", "username"], validate_unique=False)
        except ValidationError as exc:
            raise FieldErrors({field: " ".join(msgs) for field, msgs in exc.message_dict.items()}) from exc
        changes = diff(before, _snapshot(locked))
        if changes:
            locked.save()
            _audit(manager, locked, Action.UPDATE, changes, old_code, scope_code(locked))
    return locked


def set_active(manager: User, account: User, active: bool) -> User:
    """Deactivate (no log-in, no API token, open sessions end) or reactivate an account."""
    _require_manager(manager, account)
    with transaction.atomic():
        locked = managed_accounts(manager).select_for_update(of=("self",)).get(pk=account.pk)
        if locked.is_active != active:
            locked.is_active = active
            locked.save(update_fields=["is_active"])
            _audit(manager, locked, Action.UPDATE, {"is_active": [not active, active]}, scope_code(locked))
    return locked


def reset_password(manager: User, account: User) -> str:
    """A new generated password, returned to be shown once; the old one (and open sessions) stop working."""
    _require_manager(manager, account)
    password = generate_password()
    with transaction.atomic():
        locked = managed_accounts(manager).select_for_update(of=("self",)).get(pk=account.pk)
        locked.set_password(password)
        locked.must_change_password = True
        locked.save(update_fields=["password", "must_change_password"])
        _audit(manager, locked, Action.UPDATE, {"password": "reset"}, scope_code(locked))
    return password


def unlock_account(manager: User, account: User) -> int:
    """Clear the failed log-ins django-axes holds against the username (from any address); returns
    how many records were cleared. Audit-logged when there was something to clear."""
    _require_manager(manager, account)
    with transaction.atomic():
        failures = failed_logins({account.username}).get(account.username, 0)
        cleared = axes_reset(username=account.username)
        if cleared:
            _audit(manager, account, Action.UPDATE, {"lockout": "cleared", "failed_logins": failures}, scope_code(account))
    return cleared


# --- Grid workers (provided to areas.grids, which sits below accounts) --------------------------------

def grid_worker_candidates(manager: User, grid: Area) -> QuerySet[User]:
    """Active grid workers of the grid's community, in the manager's reach, working in another grid."""
    community_code = grid.code[:CODE_LENGTH[Level.COMMUNITY]]
    return (managed_accounts(manager).filter(role=Role.GRID_WORKER, is_active=True, area__code__startswith=community_code)
            .exclude(area=grid).order_by("username"))


def _move_to_grid(manager: User, account: User, grid: Area) -> User:
    before, old_code = _snapshot(account), scope_code(account)
    account.area = grid
    account.save(update_fields=["area"])
    _audit(manager, account, Action.UPDATE, diff(before, _snapshot(account)), old_code, grid.code)
    return account


def name_grid_worker(manager: User, grid: Area, account_id: int) -> User:
    """Make a grid worker of the community (in the manager's reach) the worker of `grid`."""
    with transaction.atomic():
        account = grid_worker_candidates(manager, grid).select_for_update(of=("self",)).filter(pk=account_id).first()
        if account is None:
            raise ValidationError({"account": _("Choose a grid worker of this community.")})
        return _move_to_grid(manager, account, grid)


def move_grid_accounts(manager: User, source: Area, target: Area) -> int:
    """A grid merged into another: every account working in it follows (the merge was authorised for
    the grid, so no reach check per account). Inside the merge's transaction."""
    accounts = list(User.objects.select_for_update(of=("self",)).select_related("area", "compound").filter(area=source))
    for account in accounts:
        _move_to_grid(manager, account, target)
    return len(accounts)


# --- Lock-out status (read from django-axes' records) ------------------------------------------------

def _recent_attempts(usernames: set[str]):
    from axes.models import AccessAttempt

    attempts = AccessAttempt.objects.filter(username__in=usernames)
    cool_off = get_cool_off()
    if cool_off is not None:  # without a cool-off, a lock-out lasts until it is cleared
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts


def failed_logins(usernames: set[str]) -> dict[str, int]:
    """Recent failed log-ins per username (the largest count over the addresses they came from)."""
    counts: dict[str, int] = {}
    for username, failures in _recent_attempts(usernames).values_list("username", "failures_since_start"):
        counts[username] = max(counts.get(username, 0), failures)
    return counts


def is_locked(failures: int) -> bool:
    return failures >= settings.AXES_FAILURE_LIMIT


def locked_usernames(usernames: set[str]) -> set[str]:
    """Those of the usernames that django-axes currently refuses (from at least one address)."""
    return {name for name, failures in failed_logins(usernames).items() if is_locked(failures)}
