"""Accounts in bulk: an XLSX or CSV file with one account a row, imported by a manager (the screen) or
by an operator (`fangkong import-accounts`), with the rights of that manager.

Columns: 用户名 username, 姓名 name, 手机 phone, 角色 role (Chinese or English name, or the code), 区域 area
(code, name, or a path such as 青和居社区 › 第一网格 when a name repeats), 小区 compound (gate guards) and
机构 facility (facility staff). Each row goes through `services.create_account` / `update_account`, so
the rules, the reach and the audit log are those of the account screens.

Idempotent: a username already on record is left alone when the row says what the account already is,
updated otherwise (name, phone, role, scope) — and never given a new password. New accounts get a
generated password, returned once for the printable sheet (never stored in clear nor logged).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from fangkong.accounts import services
from fangkong.accounts.access import managed_accounts
from fangkong.accounts.models import ROLE_AREA_LEVEL, Role, User
from fangkong.areas.models import Area, Compound
from fangkong.audit.models import Action
from fangkong.audit.services import record
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.core.masking import mask_phone
from fangkong.core.tabular import ColumnSet, ImportFileError, cell_text, iter_file_rows

COLUMNS: list[tuple[str, str]] = [
    ("username", "用户名"), ("full_name", "姓名"), ("phone", "手机"), ("role", "角色"),
    ("area", "区域"), ("compound", "小区"), ("facility", "机构"),
]
REQUIRED = ("username", "full_name", "role")
ALIASES = {"账号": "username", "登录名": "username", "name": "full_name", "手机号": "phone", "联系电话": "phone",
           "电话": "phone", "区域编码": "area", "区划代码": "area", "area_code": "area", "网格": "area", "社区": "area",
           "facility_id": "facility", "compound_id": "compound"}
ACCOUNT_COLUMNS = ColumnSet(COLUMNS, REQUIRED, ALIASES)
# One screen import hashes one password a row (PBKDF2, a fraction of a second each): keep a request short.
SCREEN_MAX_ROWS = 500
PATH_SEPARATORS = re.compile(r"\s*(?:›|>|/|／|\\|\|)\s*")
# Field of services.clean_account → column of the file, for the error report.
FIELD_COLUMN = {"username": "username", "full_name": "full_name", "phone": "phone", "role": "role", "area": "area",
                "compound": "compound", "facility_id": "facility"}
Facility = User._meta.get_field("facility").related_model  # facilities sits above accounts


@dataclass
class RowError:
    row: int  # as in the file: the header is row 1
    column: str  # the column's header ("" for the whole row)
    message: str
    cells: list[str] = field(default_factory=list)


@dataclass
class Issued:
    """A new account and its generated password, for the printable sheet (shown once)."""

    username: str
    full_name: str
    role: str
    scope: str
    password: str


@dataclass
class AccountImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    issued: list[Issued] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": len({e.row for e in self.errors})}


# --- Reading the words of a row ----------------------------------------------------------------------

def _role_words() -> dict[str, str]:
    """Every spelling of each role: its code, and its name in Chinese and in English."""
    words: dict[str, str] = {}
    for role in Role:
        words[role.value] = role.value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                words[str(role.label).lower()] = role.value
    words.update({"门岗": Role.GATE_GUARD, "值守员": Role.GATE_GUARD, "社区干部": Role.COMMUNITY_WORKER,
                  "网格长": Role.GRID_WORKER})
    return words


def _parts(text: str) -> list[str]:
    return [p for p in PATH_SEPARATORS.split(text.strip()) if p]


def _by_path(candidates: Iterable[Any], parts: list[str], names_of) -> list[Any]:
    """Those candidates whose names above them include every earlier part of the path."""
    return [c for c in candidates if all(p in names_of(c) for p in parts[:-1])]


def _resolve_area(manager: User, text: str, level: str) -> Area:
    areas = services.assignable_areas(manager).filter(level=level)
    if text.isdigit():
        area = areas.filter(code=text).first()
        if area is None:
            raise ValueError(_("No area with this code in your scope."))
        return area
    parts = _parts(text)
    found = list(areas.filter(name=parts[-1])) if parts else []
    if len(found) > 1 and len(parts) > 1:
        found = _by_path(found, parts, lambda a: {x.name for x in a.ancestors()})
    if not found:
        raise ValueError(_("No area named %(name)s at the level this role needs, in your scope.") % {"name": text})
    if len(found) > 1:
        raise ValueError(_("Several areas are named %(name)s: write the code, or the path such as %(example)s.")
                         % {"name": text, "example": " › ".join(a.name for a in [*found[0].ancestors()][-1:] + [found[0]])})
    return found[0]


def _resolve_compound(manager: User, text: str) -> int:
    compounds: QuerySet[Compound] = services.assignable_compounds(manager)
    if text.isdigit():
        found = list(compounds.filter(pk=int(text))) if len(text) < 16 else []
    else:
        parts = _parts(text)
        found = list(compounds.filter(name=parts[-1])) if parts else []
        if len(found) > 1 and len(parts) > 1:
            found = _by_path(found, parts, lambda c: {c.community.name})
    if not found:
        raise ValueError(_("No such compound in your scope."))
    if len(found) > 1:
        raise ValueError(_("Several compounds are named %(name)s: write the community too, e.g. %(example)s.")
                         % {"name": text, "example": f"{found[0].community.name} › {found[0].name}"})
    return found[0].pk


def _resolve_facility(manager: User, text: str) -> int:
    facilities = Facility.objects.restrict(manager)
    found = list(facilities.filter(pk=int(text))) if text.isdigit() and len(text) < 16 else list(facilities.filter(name=text))
    if len(found) != 1:
        raise ValueError(_("No such facility in your scope.") if not found else
                         _("Several facilities are named %(name)s: write its number instead.") % {"name": text})
    return found[0].pk


def _input(manager: User, values: dict[str, str], roles: dict[str, str]) -> tuple[services.AccountInput, dict[str, str]]:
    """The row as the services' input, and what could not be read (field → message)."""
    errors: dict[str, str] = {}
    role = roles.get(values.get("role", "").lower(), "")
    if values.get("role") and not role:
        errors["role"] = _("Unknown role %(role)s. Write one of: %(roles)s.") % {
            "role": values["role"], "roles": "、".join(str(r.label) for r in Role)}
    area_code, compound_id, facility_id = "", None, None
    if role not in permissions.grantable_roles(manager):  # clean_account says so; the scope cannot be read for it
        role_only = services.AccountInput(username=values.get("username", ""), full_name=values.get("full_name", ""),
                                          phone=values.get("phone", ""), role=role)
        return role_only, errors
    try:
        if role in ROLE_AREA_LEVEL and values.get("area"):
            area_code = _resolve_area(manager, values["area"], ROLE_AREA_LEVEL[role]).code
        if role == Role.GATE_GUARD and values.get("compound"):
            compound_id = _resolve_compound(manager, values["compound"])
        if role == Role.FACILITY_STAFF and values.get("facility"):
            facility_id = _resolve_facility(manager, values["facility"])
    except ValueError as exc:
        column = "area" if role in ROLE_AREA_LEVEL else "compound" if role == Role.GATE_GUARD else "facility_id"
        errors[column] = str(exc)
    data = services.AccountInput(username=values.get("username", ""), full_name=values.get("full_name", ""),
                                 phone=values.get("phone", ""), role=role, area_code=area_code,
                                 compound_id=compound_id, facility_id=facility_id)
    return data, errors


def _same(account: User, data: services.AccountInput, values: dict[str, Any]) -> bool:
    """Whether the row says what the account already is (an empty phone keeps the one on record)."""
    return (account.first_name == values["first_name"] and account.role == values["role"]
            and account.area_id == (values["area"].pk if values["area"] else None)
            and account.compound_id == (values["compound"].pk if values["compound"] else None)
            and account.facility_id == values["facility_id"]
            and (not data.phone or account.phone == values["phone"]))


def _scope_label(account: User) -> str:
    if account.compound_id:
        return f"{account.compound.community.name} › {account.compound.name}"
    if account.area_id:
        return " › ".join([*(a.name for a in account.area.ancestors()), account.area.name])
    if account.facility_id:
        return str(account.facility)
    return ""


# --- The import --------------------------------------------------------------------------------------

def import_accounts(manager: User, source: str | Path | IO[bytes], *, filename: str,
                    max_rows: int | None = None) -> AccountImportResult:
    """Import the file's accounts as `manager`; raises ImportFileError when the file cannot be read."""
    if not permissions.can_manage_accounts(manager):
        raise ImportFileError(_("You may not manage accounts."))
    rows = iter_file_rows(source, filename)
    header = next(rows, None)
    if header is None:
        raise ImportFileError(_("The file is empty."))
    index, labels = ACCOUNT_COLUMNS.map_header(header)
    result = AccountImportResult(header=[cell_text(c) for c in header])
    # Account files are small (a street has a few hundred people): read them whole, check the size first.
    lines = [(number, cells) for number, cells in ((n, [cell_text(c) for c in row]) for n, row in enumerate(rows, start=2))
             if any(cells)]
    if max_rows is not None and len(lines) > max_rows:
        raise ImportFileError(_("The file has more than %(n)d accounts; import it in parts, or with the "
                                "import-accounts command.") % {"n": max_rows})
    roles = _role_words()
    seen: dict[str, int] = {}
    for number, cells in lines:
        values = {key: cells[i] if i < len(cells) else "" for key, i in index.items()}
        _import_row(manager, number, cells, values, labels, roles, seen, result)
    record(manager, Action.IMPORT, object_type="accounts.user", object_repr=filename[:200],
           area_code=manager.home_area.code if manager.home_area else "",
           changes={"file": filename[:200], **result.summary()})
    return result


def _import_row(manager: User, number: int, cells: list[str], values: dict[str, str], labels: dict[str, str],
                roles: dict[str, str], seen: dict[str, int], result: AccountImportResult) -> None:
    def fail(errors: dict[str, str]) -> None:
        for key, message in errors.items():
            column = FIELD_COLUMN.get(key, key)
            header = labels.get(column) or ACCOUNT_COLUMNS.label.get(column, "")
            result.errors.append(RowError(number, header, message, cells))

    key = values.get("username", "").strip().lower()
    if key in seen:
        fail({"username": _("This username is already on row %(row)d of the file.") % {"row": seen[key]}})
        return
    if key:
        seen[key] = number
    data, errors = _input(manager, values, roles)
    existing = User.objects.filter(username__iexact=data.username.strip()).first() if key else None
    account = managed_accounts(manager).filter(pk=existing.pk).first() if existing else None
    if existing is not None and account is None:
        fail({"username": _("This username is already taken.")})
        return
    try:  # every field's message at once: what the services would say, then what could not be read
        cleaned = services.clean_account(manager, data, creating=existing is None)
    except FieldErrors as exc:
        errors = {**exc.errors, **errors}
        cleaned = {}
    if errors:
        fail(errors)
        return
    try:
        if account is None:
            account, password = services.create_account(manager, data)
            result.created += 1
            result.issued.append(Issued(account.username, account.first_name, account.get_role_display(),
                                        _scope_label(account), password))
        elif _same(account, data, cleaned):
            result.unchanged += 1
        else:
            services.update_account(manager, account, data)
            result.updated += 1
    except FieldErrors as exc:  # e.g. the same username created at the same moment
        fail(exc.errors)


# --- What the import hands back ----------------------------------------------------------------------

def error_report(result: AccountImportResult) -> bytes:
    """The rows with errors as they were in the file, phones masked, with the reason in the last column:
    fix them here and import this file itself."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Errors"))
    sheet.append([*result.header, _("Row"), _("Reason")])
    phone_column = next((i for i, h in enumerate(result.header) if ACCOUNT_COLUMNS.key_of(h) == "phone"), None)
    by_row: dict[int, list[RowError]] = {}
    for error in result.errors:
        by_row.setdefault(error.row, []).append(error)
    for row, errors in sorted(by_row.items()):
        cells = list(errors[0].cells) + [""] * max(0, len(result.header) - len(errors[0].cells))
        if phone_column is not None and cells[phone_column]:
            cells[phone_column] = mask_phone(cells[phone_column])
        reasons = "；".join(f"{e.column}：{e.message}" if e.column else e.message for e in errors)
        sheet.append([*cells[: len(result.header)], row, reasons])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template() -> bytes:
    """The header row and two example rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "账号"
    sheet.append([zh for _key, zh in COLUMNS])
    sheet.append(["wangxm", "王小明", "13800138001", "网格员", "420102001001001", "", ""])
    sheet.append(["menggang1", "李门岗", "", "门岗值守员", "", "青和居社区 › 青和居小区", ""])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter in "ABCDEFG":
        sheet.column_dimensions[letter].width = 18
    for cell in sheet["C"]:
        cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
