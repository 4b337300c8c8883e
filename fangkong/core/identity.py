"""Normalising and checking identity documents and phone numbers.

Resident ID numbers (居民身份证) are checked with python-stdnum's `cn.ric` (GB 11643: checksum,
birth date); 15-digit first-generation numbers are converted to 18 digits; full-width characters,
spaces and a lower-case x are normalised. Errors are raised as `IdentityError` with a message in
the user's language.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata

from django.utils.translation import gettext as _
from stdnum.cn import ric


class IdentityError(ValueError):
    pass


class DocType:
    ID_CARD = "id_card"  # 居民身份证
    PASSPORT = "passport"  # 护照
    HK_MACAO_PASS = "hk_macao_pass"  # 港澳居民来往内地通行证
    TAIWAN_PASS = "taiwan_pass"  # 台湾居民来往大陆通行证
    FOREIGN_PR = "foreign_pr"  # 外国人永久居留身份证


def _halfwidth(value: str) -> str:
    # NFKC folds full-width digits/letters (１２３Ｘ) and ideographic spaces to ASCII.
    return unicodedata.normalize("NFKC", value)


_SPACES = re.compile(r"\s+")


def _strip_spaces(value: str) -> str:
    return _SPACES.sub("", _halfwidth(value))


def check_digit(body: str) -> str:
    """GB 11643 check digit of a 17-digit body (stdnum's function expects the check slot present)."""
    return ric.calc_check_digit(body + "0")


def upgrade_15_to_18(number: str) -> str:
    """First-generation IDs (1984–1999) have a 2-digit year (always 19xx) and no check digit."""
    body = number[:6] + "19" + number[6:]
    return body + check_digit(body)


_ID_FORMAT = re.compile(r"\d{17}[\dX]")


@functools.lru_cache(maxsize=256)
def _known_province(prefix: str) -> bool:
    """Only the province (first two digits) is checked against stdnum's GB/T 2260 database: its
    county entries carry the year a code was introduced and stdnum rejects anyone born earlier,
    yet everyone alive in 1985 got a number under the then-current county code (a 1961-born
    resident of 江岸区, code from 1983, is legitimate); and counties created after the library's
    data was released must not lock residents out of the roster."""
    from stdnum import numdb

    return any("province" in props for _part, props in numdb.get("cn/loc").info(prefix + "0000"))


def normalize_id_card(raw: str) -> str:
    number = str(raw)
    if not (len(number) == 18 and number.isascii()):
        number = _strip_spaces(number)
    number = number.upper()
    if len(number) == 15 and number.isdigit():
        number = upgrade_15_to_18(number)
    if len(number) != 18:
        raise IdentityError(_("A resident ID number has 18 characters (or 15 for an old one)."))
    if not _ID_FORMAT.fullmatch(number):
        raise IdentityError(_("The ID number is not in a valid format."))
    if number[-1] != ric.calc_check_digit(number):
        raise IdentityError(_("The check digit of the ID number is wrong."))
    try:  # stdnum's get_birth_date re-cleans the number; this is the same parse, 10x cheaper
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise IdentityError(_("The ID number contains an impossible birth date.")) from exc
    if birth.year < 1900 or not _known_province(number[:2]):
        raise IdentityError(_("The ID number is not in a valid format."))
    return number


_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+?\d{1,2}")


def excel_rounded(value: object) -> bool:
    """A document number Excel stored as a number: Excel keeps 15 significant digits, so an 18-digit
    ID in a number cell has lost its last digits (…021000) even when it is shown whole, and a CSV
    saved from such a sheet holds 4.20102198503021E+17 or digits ending in 000."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return abs(value) >= 1e15
    text = str(value or "").strip()
    return bool(_SCIENTIFIC.fullmatch(text)) or (len(text) == 18 and text.isdigit() and text.endswith("000"))


def normalize_cell_document(doc_type: str, value: object) -> str:
    """`normalize_document` for a cell of a file: a number Excel rounded is explained as such
    (a check digit that no longer fits is its symptom, not the cause)."""
    rounded = _("Excel stored this ID number as a number and rounded it, so its last digits are lost: "
                "format the column as text and type the number again.")
    if doc_type == DocType.ID_CARD and isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e15:
        raise IdentityError(rounded)  # never trust it, even if the check digit happens to fit
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    try:
        return normalize_document(doc_type, text)
    except IdentityError:
        if doc_type == DocType.ID_CARD and excel_rounded(text):
            raise IdentityError(rounded) from None
        raise


def id_card_birth_date(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_card_sex(number: str) -> str:
    """The 17th digit is odd for men and even for women."""
    return "M" if int(number[16]) % 2 else "F"


def normalize_document(doc_type: str, raw: str) -> str:
    if doc_type == DocType.ID_CARD:
        return normalize_id_card(raw)
    number = _strip_spaces(str(raw)).upper()
    if not re.fullmatch(r"[A-Z0-9()\-]{5,20}", number):
        raise IdentityError(_("A document number has 5–20 letters or digits."))
    return number


MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-()]")


def normalize_phone(raw: str) -> str:
    """Mainland mobile numbers: optional +86 / 0086 prefix; dashes and spaces allowed."""
    if isinstance(raw, str) and len(raw) == 11 and MOBILE_RE.fullmatch(raw) and raw.isascii():
        return raw  # already clean: the common case in a roster
    phone = _PHONE_NOISE.sub("", _halfwidth(str(raw)))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    if not MOBILE_RE.fullmatch(phone):
        raise IdentityError(_("A mobile number has 11 digits and starts with 13–19."))
    return phone


def make_id_number(area_code: str, birth: dt.date, sequence: int) -> str:
    """A valid 18-digit ID: 6-digit area, birth date, 3-digit sequence (odd = male), check digit."""
    body = f"{area_code[:6]}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + check_digit(body)
