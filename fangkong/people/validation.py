"""Validating one resident's fields: shared by the forms, the API and the roster import.

`clean_resident(raw)` takes loosely typed input (strings from a file or a form, dates as text or
date objects) and returns normalised values, or raises `FieldErrors` with one message per field in
the user's language.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from django.utils.translation import gettext as _

from fangkong.core.errors import FieldErrors
from fangkong.core.identity import (
    DocType,
    IdentityError,
    id_card_birth_date,
    id_card_sex,
    normalize_cell_document,
    normalize_phone,
)
from fangkong.people.models import DocumentType, Relation, Sex, SpecialGroup

# Words accepted for each coded value, in Chinese and English (lower-cased for matching).
SEX_WORDS = {"男": Sex.MALE, "m": Sex.MALE, "male": Sex.MALE, "女": Sex.FEMALE, "f": Sex.FEMALE, "female": Sex.FEMALE}
DOC_TYPE_WORDS = {
    "居民身份证": DocType.ID_CARD, "身份证": DocType.ID_CARD, "id card": DocType.ID_CARD, "id_card": DocType.ID_CARD,
    "护照": DocType.PASSPORT, "passport": DocType.PASSPORT,
    "港澳通行证": DocType.HK_MACAO_PASS, "港澳居民来往内地通行证": DocType.HK_MACAO_PASS, "hk_macao_pass": DocType.HK_MACAO_PASS,
    "台湾通行证": DocType.TAIWAN_PASS, "台湾居民来往大陆通行证": DocType.TAIWAN_PASS, "taiwan_pass": DocType.TAIWAN_PASS,
    "外国人永久居留身份证": DocType.FOREIGN_PR, "foreign_pr": DocType.FOREIGN_PR,
}
RELATION_WORDS = {
    "户主": Relation.HEAD, "本人": Relation.HEAD, "配偶": Relation.SPOUSE, "妻": Relation.SPOUSE, "夫": Relation.SPOUSE,
    "子女": Relation.CHILD, "子": Relation.CHILD, "女": Relation.CHILD, "儿子": Relation.CHILD, "女儿": Relation.CHILD,
    "父母": Relation.PARENT, "父亲": Relation.PARENT, "母亲": Relation.PARENT,
    "孙子女": Relation.GRANDCHILD, "孙子": Relation.GRANDCHILD, "孙女": Relation.GRANDCHILD, "外孙": Relation.GRANDCHILD, "外孙女": Relation.GRANDCHILD,
    "祖父母": Relation.GRANDPARENT, "兄弟姐妹": Relation.SIBLING, "儿媳": Relation.CHILD_IN_LAW, "女婿": Relation.CHILD_IN_LAW,
    "租户": Relation.TENANT, "租客": Relation.TENANT, "其他": Relation.OTHER,
}
RELATION_WORDS.update({value.value: value for value in Relation})
SPECIAL_GROUP_WORDS = {
    "孤寡老人": SpecialGroup.LONELY_ELDERLY, "困难儿童": SpecialGroup.CHILD_IN_NEED, "特困人员": SpecialGroup.EXTREME_POVERTY,
    "残疾人": SpecialGroup.DISABLED, "孕产妇": SpecialGroup.PREGNANT, "慢性病": SpecialGroup.CHRONIC_ILLNESS,
    "独居": SpecialGroup.LIVING_ALONE,
    "lonely_elderly": SpecialGroup.LONELY_ELDERLY, "child_in_need": SpecialGroup.CHILD_IN_NEED,
    "extreme_poverty": SpecialGroup.EXTREME_POVERTY, "disabled": SpecialGroup.DISABLED, "pregnant": SpecialGroup.PREGNANT,
    "chronic_illness": SpecialGroup.CHRONIC_ILLNESS, "living_alone": SpecialGroup.LIVING_ALONE,
}
# Enum members → their plain string values (bulk writers such as COPY would dump a member's name).
_PLAIN: dict[Any, str] = {member: member.value for enum in (Sex, Relation, DocumentType) for member in enum}
SEX_LABEL = {Sex.MALE: "男", Sex.FEMALE: "女"}
DOC_TYPE_LABEL = {DocType.ID_CARD: "居民身份证", DocType.PASSPORT: "护照", DocType.HK_MACAO_PASS: "港澳通行证",
                  DocType.TAIWAN_PASS: "台湾通行证", DocType.FOREIGN_PR: "外国人永久居留身份证"}
RELATION_LABEL = {Relation.HEAD: "户主", Relation.SPOUSE: "配偶", Relation.CHILD: "子女", Relation.PARENT: "父母",
                  Relation.GRANDCHILD: "孙子女", Relation.GRANDPARENT: "祖父母", Relation.SIBLING: "兄弟姐妹",
                  Relation.CHILD_IN_LAW: "儿媳", Relation.TENANT: "租户", Relation.OTHER: "其他"}
SPECIAL_GROUP_LABEL = {bit: word for word, bit in list(SPECIAL_GROUP_WORDS.items())[:7]}

_GROUP_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_SPACES = re.compile(r"\s+")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATETIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d")
EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


def parse_date(value: Any) -> dt.date:
    """Excel date cells, 1985-03-02, 1985/3/2, 19850302, 1985年3月2日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))  # an Excel serial day number
    text = str(value).strip()
    if len(text) == 10 and (match := _ISO_DATE.fullmatch(text)):  # the common case, first
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueError(text) from None
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()
    text = text.split(" ")[0] if _DATETIME_TEXT.match(text) else text
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                break
    raise ValueError(text)


_WORD_CACHE: dict[tuple[int, str], Any] = {}


def _word(mapping: dict[str, Any], value: Any) -> Any:
    # Rosters repeat a handful of words a million times: remember each spelling once.
    text = str(value)
    cache_key = (id(mapping), text)
    try:
        return _WORD_CACHE[cache_key]
    except KeyError:
        pass
    key = unicodedata.normalize("NFKC", text).strip().lower()
    found = mapping.get(key, mapping.get(text.strip()))
    if len(_WORD_CACHE) < 10000:
        _WORD_CACHE[cache_key] = found
    return found


def parse_special_groups(value: Any) -> int:
    """'孤寡老人、慢性病' (separated by 、,，;； or spaces) → bitmask; raises ValueError on an unknown tag."""
    if value in (None, ""):
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= sum(SpecialGroup.LABELS):
            raise ValueError(str(value))
        return value
    mask = 0
    for part in _GROUP_SEPARATORS.split(str(value).strip()):
        if not part:
            continue
        bit = _word(SPECIAL_GROUP_WORDS, part)
        if bit is None:
            raise ValueError(part)
        mask |= bit
    return mask


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# --- One function per field: each writes its message into `errors` and returns the cleaned value ---------
# (None when the field could not be read). They run in the order of clean_resident, which is the order of
# the messages: later fields read earlier ones (the document number its type, sex and birth its number).

def clean_name(raw: dict[str, Any], errors: dict[str, str]) -> str:
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", _text(raw, "name")))
    if not name:
        errors["name"] = _("The name is required.")
    elif len(name) > 50:
        errors["name"] = _("The name is longer than 50 characters.")
    return name


def clean_doc_type(raw: dict[str, Any], errors: dict[str, str]) -> Any:
    """A resident ID card unless another type is named."""
    doc_type_raw = _text(raw, "doc_type")
    doc_type = _word(DOC_TYPE_WORDS, doc_type_raw) if doc_type_raw else DocType.ID_CARD
    if doc_type is None:
        errors["doc_type"] = _("Unknown document type: %(value)s.") % {"value": doc_type_raw}
    return doc_type


def clean_document(raw: dict[str, Any], doc_type: Any, errors: dict[str, str]) -> str | None:
    """The document number in its type's normal form (None: missing, or not readable for the type)."""
    if not _text(raw, "doc_number"):
        errors["doc_number"] = _("The document number is required.")
        return None
    if doc_type is None:
        return None
    try:
        return normalize_cell_document(doc_type, raw.get("doc_number"))
    except IdentityError as exc:
        errors["doc_number"] = str(exc)
        return None


def clean_sex(raw: dict[str, Any], errors: dict[str, str]) -> Any:
    """The sex given (None when left out)."""
    sex_raw = _text(raw, "sex")
    sex = _word(SEX_WORDS, sex_raw) if sex_raw else None
    if sex_raw and sex is None:
        errors["sex"] = _("Sex must be 男 or 女.")
    return sex


def clean_birth(raw: dict[str, Any], today: dt.date, errors: dict[str, str]) -> dt.date | None:
    """The birth date given (None when left out)."""
    birth_raw = raw.get("birth_date")
    if isinstance(birth_raw, str) and not birth_raw.strip():
        return None  # a cell holding only spaces is empty, not a bad date
    if birth_raw in (None, ""):
        return None
    try:
        birth = parse_date(birth_raw)
    except (ValueError, OverflowError):
        errors["birth_date"] = _("Not a date: use 1985-03-02, 1985/3/2, 19850302 or 1985年3月2日.")
        return None
    if birth > today or birth.year < 1900:
        errors["birth_date"] = _("The birth date must lie between 1900 and today.")
    return birth


def clean_sex_and_birth(raw: dict[str, Any], doc_type: Any, number: str | None, today: dt.date,
                        errors: dict[str, str]) -> tuple[Any, dt.date | None]:
    """Sex and birth date as given; for an ID card they must agree with the number, which supplies them
    when left out. Otherwise both are required."""
    sex = clean_sex(raw, errors)
    birth = clean_birth(raw, today, errors)
    if doc_type == DocType.ID_CARD and number:
        id_birth, id_sex = id_card_birth_date(number), id_card_sex(number)
        if birth is not None and "birth_date" not in errors and birth != id_birth:
            errors["birth_date"] = _("The birth date does not match the ID number (%(date)s).") % {"date": id_birth.isoformat()}
        if sex is not None and sex != id_sex:
            errors["sex"] = _("The sex does not match the ID number.")
        if id_birth > today:
            errors["doc_number"] = _("The ID number contains a birth date in the future.")
        birth = birth or id_birth
        sex = sex or id_sex
    # A bad ID number (or document type) already explains why sex and birth date are unknown.
    derivable = doc_type is None or (doc_type == DocType.ID_CARD and "doc_number" in errors)
    if sex is None and "sex" not in errors and not derivable:
        errors["sex"] = _("The sex is required.")
    if birth is None and "birth_date" not in errors and not derivable:
        errors["birth_date"] = _("The birth date is required.")
    # Plain strings, not enum members: bulk writers (COPY) would otherwise dump the member's name.
    return _PLAIN.get(sex, sex), birth


def clean_phone(raw: dict[str, Any], errors: dict[str, str]) -> str:
    phone_raw = _text(raw, "phone")
    if not phone_raw:
        return ""
    try:
        return normalize_phone(phone_raw)
    except IdentityError as exc:
        errors["phone"] = str(exc)
        return ""


def clean_relation(raw: dict[str, Any], errors: dict[str, str]) -> Any:
    """The relation to the head of household: the head unless another is named."""
    relation_raw = _text(raw, "relation")
    relation = _word(RELATION_WORDS, relation_raw) if relation_raw else Relation.HEAD
    if relation is None:
        errors["relation"] = _("Unknown relation to the head of household: %(value)s.") % {"value": relation_raw}
    return _PLAIN.get(relation, relation)


def clean_groups(raw: dict[str, Any], errors: dict[str, str]) -> int | None:
    try:
        return parse_special_groups(raw.get("special_groups"))
    except ValueError as exc:
        errors["special_groups"] = _("Unknown special group: %(value)s.") % {"value": str(exc)}
        return None


def clean_limited(raw: dict[str, Any], key: str, limit: int, errors: dict[str, str]) -> str:
    """Optional free text (an address, a note) of at most `limit` characters."""
    value = _text(raw, key)
    if len(value) > limit:
        errors[key] = _("Longer than %(n)d characters.") % {"n": limit}
    return value


def clean_resident(raw: dict[str, Any], *, today: dt.date | None = None) -> dict[str, Any]:
    """Normalise and check one resident. Keys: name, sex, doc_type, doc_number, birth_date, phone,
    relation, special_groups, registered_address, note. Sex and birth date may be omitted for an ID
    card (they are read from it); given, they must agree with it. Every field's message at once."""
    today = today or dt.date.today()
    errors: dict[str, str] = {}
    name = clean_name(raw, errors)
    doc_type = clean_doc_type(raw, errors)
    number = clean_document(raw, doc_type, errors)
    sex, birth = clean_sex_and_birth(raw, doc_type, number, today, errors)
    out = {
        "name": name, "doc_type": _PLAIN.get(doc_type, doc_type), "doc_number": number, "sex": sex,
        "birth_date": birth, "phone": clean_phone(raw, errors), "relation": clean_relation(raw, errors),
        "special_groups": clean_groups(raw, errors),
        "registered_address": clean_limited(raw, "registered_address", 200, errors),
        "note": clean_limited(raw, "note", 200, errors),
    }
    if errors:
        raise FieldErrors(errors)
    return out
