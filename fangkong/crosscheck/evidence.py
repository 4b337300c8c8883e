"""The three kinds of evidence file: their columns (Chinese headers, English aliases), how one row
is checked, and their templates.

Each row cleaner takes the row's cells by field key and returns the values to store, or raises
`FieldErrors` with one message per field (in the language active during the import: Chinese).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from fangkong.core.errors import FieldErrors, clean_text
from fangkong.core.identity import (
    DocType,
    IdentityError,
    make_id_number,
    normalize_cell_document,
    normalize_phone,
)
from fangkong.core.tabular import PERSON_ALIASES, PLACE_ALIASES, ColumnSet, cell_text
from fangkong.crosscheck.models import EvidenceKind
from fangkong.people.importing.report import place_help, template_workbook
from fangkong.people.validation import DOC_TYPE_LABEL, DOC_TYPE_WORDS, parse_date

PLACE_COLUMNS = [("district", "区"), ("street", "街道"), ("community", "社区"), ("compound", "小区"), ("building", "楼栋"),
                 ("unit", "单元"), ("room", "房号")]
PLACE_KEYS = tuple(key for key, _zh in PLACE_COLUMNS)
AREA_KEYS = PLACE_KEYS[:3]
DWELLING_KEYS = PLACE_KEYS[3:]
PLACE_MAX = {"district": 100, "street": 100, "community": 100, "compound": 100, "building": 50, "unit": 50, "room": 20}
EARLIEST = dt.date(2000, 1, 1)
MAX_KWH = Decimal("1000")  # a day's use of one dwelling; more is a misreading
MAX_LIT = 5000
_DIGITS = str.maketrans("０１２３４５６７８９．，", "0123456789.,")

METER_COLUMNS = ColumnSet(
    [*PLACE_COLUMNS, ("date", "日期"), ("kwh", "用电量(千瓦时)")],
    required=(*PLACE_KEYS, "date", "kwh"),
    aliases={**PLACE_ALIASES, "用电量": "kwh", "电量": "kwh", "日用电量": "kwh", "千瓦时": "kwh", "kwh_per_day": "kwh",
             "读数日期": "date", "抄表日期": "date"},
)
LIT_COLUMNS = ColumnSet(
    [*PLACE_COLUMNS[:5], ("date", "日期"), ("lit", "亮灯数")],
    required=(*PLACE_KEYS[:5], "date", "lit"),
    aliases={**PLACE_ALIASES, "亮灯户数": "lit", "亮灯": "lit", "lit_windows": "lit", "夜间日期": "date"},
)
RETURNEE_COLUMNS = ColumnSet(
    [("name", "姓名"), ("doc_type", "证件类型"), ("doc_number", "证件号码"), ("phone", "联系电话"), ("origin", "出发地"),
     ("arrival_date", "抵达日期"), ("address", "目的地址"), *PLACE_COLUMNS],
    required=("name", "doc_number", "arrival_date"),
    aliases={**PLACE_ALIASES, **PERSON_ALIASES, "到达日期": "arrival_date", "返回日期": "arrival_date",
             "arrival": "arrival_date", "来源地": "origin", "始发地": "origin", "from": "origin", "目的地": "address",
             "目的地地址": "address", "destination": "address"},
)


def _date(value: Any, today: dt.date) -> dt.date:
    try:
        day = parse_date(value)
    except (ValueError, OverflowError):
        raise ValueError(_("Not a date: use 2020-02-10, 2020/2/10, 20200210 or 2020年2月10日.")) from None
    if not EARLIEST <= day <= today:
        raise ValueError(_("The date must lie between 2000 and today."))
    return day


def _required_date(raw: dict[str, Any], errors: dict[str, str], today: dt.date) -> dt.date | None:
    """The row's date (日期), or None with its error added."""
    if raw.get("date") in (None, ""):
        errors["date"] = _("This column is required.")
        return None
    try:
        return _date(raw["date"], today)
    except ValueError as exc:
        errors["date"] = str(exc)
        return None


def _number_text(value: Any) -> str:
    return str(value).strip().translate(_DIGITS).replace(",", "")


def clean_meter(raw: dict[str, Any], today: dt.date) -> tuple:
    """(date, kWh as a Decimal with two places)."""
    errors: dict[str, str] = {}
    kwh = None
    day = _required_date(raw, errors, today)
    value = raw.get("kwh")
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        errors["kwh"] = _("This column is required.")
    else:
        try:
            kwh = Decimal(_number_text(value).removesuffix("kWh").removesuffix("千瓦时").strip())
        except InvalidOperation:
            errors["kwh"] = _("Not a number of kWh: write it like 5.2.")
        else:
            if not kwh.is_finite():
                errors["kwh"] = _("Not a number of kWh: write it like 5.2.")
            elif kwh < 0:
                errors["kwh"] = _("Power use cannot be negative.")
            elif kwh > MAX_KWH:
                errors["kwh"] = _("More than %(max)s kWh a day: check the reading.") % {"max": MAX_KWH}
            else:
                kwh = kwh.quantize(Decimal("0.01"))
    if errors:
        raise FieldErrors(errors)
    return day, kwh


def clean_lit(raw: dict[str, Any], today: dt.date) -> tuple:
    """(night, lit windows)."""
    errors: dict[str, str] = {}
    lit = None
    day = _required_date(raw, errors, today)
    value = raw.get("lit")
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        errors["lit"] = _("This column is required.")
    else:
        try:
            number = Decimal(_number_text(value))
            if not number.is_finite() or number != number.to_integral_value():
                raise InvalidOperation
        except InvalidOperation:
            errors["lit"] = _("Not a whole number.")
        else:
            lit = int(number)
            if lit < 0:
                errors["lit"] = _("A count cannot be negative.")
            elif lit > MAX_LIT:
                errors["lit"] = _("More than %(max)d windows: check the count.") % {"max": MAX_LIT}
    if errors:
        raise FieldErrors(errors)
    return day, lit


def clean_returnee(raw: dict[str, Any], today: dt.date) -> tuple:
    """(doc_type, doc_number, arrival_date, name, phone, origin, address), checked like the roster's."""
    errors: dict[str, str] = {}
    name = cell_text(raw.get("name"))
    if not name:
        errors["name"] = _("The name is required.")
    elif len(name) > 50:
        errors["name"] = _("The name is longer than 50 characters.")
    doc_type_raw = cell_text(raw.get("doc_type"))
    doc_type = DocType.ID_CARD
    if doc_type_raw:
        key = unicodedata.normalize("NFKC", doc_type_raw).strip().lower()
        doc_type = DOC_TYPE_WORDS.get(key)
        if doc_type is None:
            errors["doc_type"] = _("Unknown document type: %(value)s.") % {"value": doc_type_raw}
    doc_number = ""
    doc_raw = cell_text(raw.get("doc_number"))
    if not doc_raw:
        errors["doc_number"] = _("The document number is required.")
    elif doc_type is not None:
        try:
            doc_number = normalize_cell_document(doc_type, raw.get("doc_number"))
        except IdentityError as exc:
            errors["doc_number"] = str(exc)
    phone = ""
    phone_raw = cell_text(raw.get("phone"))
    if phone_raw:
        try:
            phone = normalize_phone(phone_raw)
        except IdentityError as exc:
            errors["phone"] = str(exc)
    arrival = None
    if raw.get("arrival_date") in (None, "") or not cell_text(raw.get("arrival_date")):
        errors["arrival_date"] = _("This column is required.")
    else:
        try:
            arrival = _date(raw["arrival_date"], today)
        except ValueError as exc:
            errors["arrival_date"] = str(exc)
    origin = clean_text(cell_text(raw.get("origin")), "origin", limit=100, errors=errors)
    address = clean_text(cell_text(raw.get("address")), "address", limit=200, errors=errors)
    if errors:
        raise FieldErrors(errors)
    return str(doc_type), doc_number, arrival, name, phone, origin, address


@dataclass(frozen=True)
class Spec:
    kind: str
    columns: ColumnSet
    value_keys: tuple[str, ...]  # the columns the row cleaner reads
    clean: Callable[[dict[str, Any], dt.date], tuple]
    place_keys: tuple[str, ...]  # the place columns: down to the room, down to the building, or optional
    place_required: bool
    filename: str  # of the template


SPECS: dict[str, Spec] = {
    EvidenceKind.METER: Spec(EvidenceKind.METER, METER_COLUMNS, ("date", "kwh"), clean_meter, PLACE_KEYS, True, "电表读数模板.xlsx"),
    EvidenceKind.LIT: Spec(EvidenceKind.LIT, LIT_COLUMNS, ("date", "lit"), clean_lit, PLACE_KEYS[:5], True, "亮灯数模板.xlsx"),
    EvidenceKind.RETURNEES: Spec(
        EvidenceKind.RETURNEES, RETURNEE_COLUMNS,
        ("name", "doc_type", "doc_number", "phone", "origin", "arrival_date", "address"), clean_returnee, PLACE_KEYS, False,
        "返程人员名单模板.xlsx"),
}


# ---------------------------------------------------------------- templates

EXAMPLE_PLACE = ["江岸区", "大智街道", "青和居社区", "青和居小区", "1栋", "1单元", "101"]


def evidence_template(kind: str) -> bytes:
    """The header row, example rows and a sheet of instructions for one kind of evidence."""
    spec = SPECS[kind]
    places = place_help()
    example_day = dt.date(2020, 2, 10)
    if kind == EvidenceKind.METER:
        examples = [[*EXAMPLE_PLACE, example_day, 5.2], [*EXAMPLE_PLACE, example_day + dt.timedelta(days=1), 4.8]]
        help_text = {**places, "date": _("The day of the reading, e.g. 2020-02-10 or an Excel date cell."),
                     "kwh": _("Electricity used on that day in kWh, e.g. 5.2. One reading per household and day: importing the same day again replaces the value.")}
        notes = [_("A household with power use but nobody on the roster becomes a to-do for its grid worker.")]
        title = "电表读数"
    elif kind == EvidenceKind.LIT:
        examples = [[*EXAMPLE_PLACE[:5], example_day, 12]]
        help_text = {**places, "date": _("The night of the count, e.g. 2020-02-10."),
                     "lit": _("Windows lit in the building that night, a whole number. One count per building and night.")}
        notes = [_("A building with more lit windows than households with registered residents becomes a to-do.")]
        title = "亮灯数"
    else:
        number = make_id_number("420102", dt.date(1990, 5, 1), 23)
        examples = [["李明", "居民身份证", number, "13812345678", "湖北省孝感市", example_day, "青和居小区1栋1单元102",
                     *EXAMPLE_PLACE[:6], "102"]]
        optional_place = _("Optional: with 区, 街道 and 社区 (and 小区, 楼栋, 单元, 房号 together) the destination household is located; a missing dwelling is created.")
        help_text = {
            **{key: f"{places[key]} {optional_place}" if key == "district" else places[key] for key in PLACE_KEYS},
            "name": _("Full name, at most 50 characters."),
            "doc_type": _("One of: %(values)s. Empty means resident ID card.") % {"values": "、".join(DOC_TYPE_LABEL.values())},
            "doc_number": _("Resident ID numbers have 18 characters (15-digit old numbers are converted); other documents 5–20 letters or digits. Format the column as text."),
            "phone": _("Mainland mobile number, 11 digits; +86, spaces and dashes are accepted."),
            "origin": _("Where the person travelled from, at most 100 characters."),
            "arrival_date": _("The day of arrival, e.g. 2020-02-10."),
            "address": _("The destination address as given at the checkpoint, at most 200 characters."),
        }
        notes = [_("Rows are matched on the document and the arrival date: importing a list again creates nobody twice."),
                 _("A returnee not on the roster, or on it but not screened since arrival, becomes a to-do.")]
        title = "返程人员"
    notes.append(_("Rows with errors are not imported; they are listed in the error report with their row number."))
    return template_workbook(title, spec.columns, examples, help_text, notes,
                             text_columns=("doc_number", "phone", "room"), wide_columns=("doc_number", "address", "origin"))
