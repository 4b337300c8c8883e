"""API: who am I — role, scope and what the account may do; and the accounts a manager looks after."""


import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import paginate

from fangkong.accounts import services
from fangkong.accounts.access import access_account, managed_accounts
from fangkong.accounts.lockouts import locked_usernames
from fangkong.accounts.models import Role, User
from fangkong.core import permissions
from fangkong.core.api_auth import AREA_CODE_PATTERN, MAX_ID, TEXT_PATTERN, Pagination, acting_user
from fangkong.core.errors import FieldErrors

router = Router(tags=["accounts"])


class ScopeOut(Schema):
    everything: bool
    area_code: str | None
    area_name: str | None
    compound_id: int | None
    facility_id: int | None


class PermissionsOut(Schema):
    reveal: bool
    edit_residents: bool
    import_residents: bool
    browse_audit: bool
    change_policy: bool
    manage_accounts: bool


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    role: str
    role_label: str
    is_superuser: bool
    scope: ScopeOut
    permissions: PermissionsOut


@router.get("/me", response=MeOut, summary="The authenticated account: role, scope and permissions")
def me(request: HttpRequest):
    user = acting_user(request)
    scope = user.scope
    return {
        "id": user.pk, "username": user.username, "full_name": user.get_full_name(),
        "role": user.role, "role_label": str(user.get_role_display()) if user.role else "",
        "is_superuser": user.is_superuser,
        "scope": {
            "everything": scope.everything, "area_code": scope.area_code,
            "area_name": user.area.name if scope.area_code and user.area_id else None,
            "compound_id": scope.compound_id, "facility_id": scope.facility_id,
        },
        "permissions": {
            "reveal": permissions.can_reveal(user), "edit_residents": permissions.can_edit_residents(user),
            "import_residents": permissions.can_import(user), "browse_audit": permissions.can_browse_audit(user),
            "change_policy": permissions.can_change_policy(user), "manage_accounts": permissions.can_manage_accounts(user),
        },
    }


# --- Account management: the same reach and operations as the screens (fangkong.accounts.services) ------

AccountId = Path(..., ge=1, le=MAX_ID)
ANY_ROLE = Query(None, description="Only accounts of this role")
Text = Annotated[str, Field(pattern=TEXT_PATTERN)]


class AccountOut(Schema):
    """An account as the list shows it: the phone masked."""

    id: int
    username: str
    full_name: str
    role: str
    area_code: str | None
    area_name: str | None
    compound_id: int | None
    facility_id: int | None
    masked_phone: str
    is_active: bool
    last_login: dt.datetime | None

    @staticmethod
    def resolve_full_name(obj: User) -> str:
        return obj.get_full_name()

    @staticmethod
    def resolve_area_code(obj: User) -> str | None:
        return obj.area.code if obj.area_id else None

    @staticmethod
    def resolve_area_name(obj: User) -> str | None:
        return obj.area.name if obj.area_id else None


class AccountDetailOut(AccountOut):
    locked_out: bool = Field(description="Log-in refused after repeated failures (see /unlock)")


class AccountIn(Schema):
    """`area_code` for area-bound roles, `compound_id` for gate guards, `facility_id` for facility staff.
    Without a password one is generated and returned once."""

    username: Annotated[Text, Field(max_length=150)]
    full_name: Annotated[Text, Field(max_length=150)]
    role: Annotated[Text, Field(max_length=24)]
    phone: Annotated[Text, Field(max_length=20)] | None = None
    area_code: Annotated[str, Field(pattern=AREA_CODE_PATTERN)] | None = None
    compound_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    facility_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    password: Annotated[str, Field(max_length=128)] | None = None


class AccountPatch(Schema):
    """Only the given fields change; `phone: null` removes the number. A new role needs its scope too."""

    full_name: Annotated[Text, Field(max_length=150)] | None = None
    role: Annotated[Text, Field(max_length=24)] | None = None
    phone: Annotated[Text, Field(max_length=20)] | None = None
    area_code: Annotated[str, Field(pattern=AREA_CODE_PATTERN)] | None = None
    compound_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    facility_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None


class AccountCreatedOut(Schema):
    account: AccountDetailOut
    password: str | None = Field(None, description="The generated password, shown this once (null when one was given)")


class PasswordOut(Schema):
    password: str = Field(description="The new password, shown this once")


class UnlockOut(Schema):
    cleared: int = Field(description="Failed log-in records cleared (0: the account was not locked)")


# The services name fields as the model does; the API names them as in the request body.
API_FIELD = {"area": "area_code", "compound": "compound_id"}


@contextmanager
def _request_field_names() -> Iterator[None]:
    try:
        yield
    except FieldErrors as exc:
        raise FieldErrors({API_FIELD.get(field, field): msg for field, msg in exc.errors.items()}) from exc


def _manager(request: HttpRequest) -> User:
    user = acting_user(request)
    if not permissions.can_manage_accounts(user):
        raise PermissionDenied
    return user


def _out(account: User) -> User:
    account.locked_out = account.username in locked_usernames({account.username})
    return account


@router.get("/accounts", response=list[AccountOut], summary="Accounts you manage: roles below yours, in your scope")
@paginate(Pagination)
def account_list(
    request: HttpRequest,
    role: Role | None = ANY_ROLE,
    area: str | None = Query(None, pattern=AREA_CODE_PATTERN, description="Only under this area code"),
    active: bool | None = Query(None, description="Only active (true) or deactivated (false) accounts"),
    q: str | None = Query(None, min_length=1, max_length=150, pattern=TEXT_PATTERN, description="Username or name (contains)"),
):
    accounts = managed_accounts(_manager(request))
    if role:
        accounts = accounts.filter(role=role)
    if area:
        accounts = accounts.filter(Q(area__code__startswith=area) | Q(compound__area_code__startswith=area))
    if active is not None:
        accounts = accounts.filter(is_active=active)
    if q:
        accounts = accounts.filter(Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q))
    return accounts.order_by("username")


@router.get("/accounts/{id}", response=AccountDetailOut, summary="One account you manage")
def account_detail(request: HttpRequest, id: int = AccountId):
    return _out(access_account(acting_user(request), id))


@router.post("/accounts", response={201: AccountCreatedOut}, summary="Create an account (audit-logged)")
def account_create(request: HttpRequest, payload: AccountIn):
    manager = _manager(request)
    data = services.AccountInput(
        username=payload.username, full_name=payload.full_name, phone=payload.phone or "", role=payload.role,
        area_code=payload.area_code or "", compound_id=payload.compound_id, facility_id=payload.facility_id,
    )
    with _request_field_names():
        account, password = services.create_account(manager, data, payload.password or "")
    return 201, {"account": _out(account), "password": None if payload.password else password}


@router.patch("/accounts/{id}", response=AccountDetailOut, summary="Change name, phone, role or scope (audit-logged)")
def account_update(request: HttpRequest, payload: AccountPatch, id: int = AccountId):
    manager = acting_user(request)
    account = access_account(manager, id)
    given = payload.model_dump(exclude_unset=True)
    current = services.AccountInput(
        full_name=account.get_full_name(), phone=account.phone, role=account.role,
        area_code=account.area.code if account.area_id else "", compound_id=account.compound_id,
        facility_id=account.facility_id,
    )
    data = replace(current, **{k: ("" if v is None and k in ("phone", "area_code", "full_name", "role") else v)
                               for k, v in given.items()})
    with _request_field_names():
        return _out(services.update_account(manager, account, data))


@router.post("/accounts/{id}/deactivate", response=AccountDetailOut, summary="Deactivate an account (audit-logged)")
def account_deactivate(request: HttpRequest, id: int = AccountId):
    manager = acting_user(request)
    return _out(services.set_active(manager, access_account(manager, id), False))


@router.post("/accounts/{id}/reactivate", response=AccountDetailOut, summary="Reactivate an account (audit-logged)")
def account_reactivate(request: HttpRequest, id: int = AccountId):
    manager = acting_user(request)
    return _out(services.set_active(manager, access_account(manager, id), True))


@router.post("/accounts/{id}/reset-password", response=PasswordOut, summary="Generate a new password (audit-logged, not the password)")
def account_reset_password(request: HttpRequest, id: int = AccountId):
    manager = acting_user(request)
    return {"password": services.reset_password(manager, access_account(manager, id))}


@router.post("/accounts/{id}/unlock", response=UnlockOut, summary="Clear a log-in lock-out (audit-logged)")
def account_unlock(request: HttpRequest, id: int = AccountId):
    manager = acting_user(request)
    return {"cleared": services.unlock_account(manager, access_account(manager, id))}
