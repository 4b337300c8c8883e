"""One way to write a place: the canonical notation of compounds, buildings, units and rooms.

Import files and forms write the same building many ways ("1栋", "1 栋", "一栋", "１号楼", "1幢",
"第1栋", "01"); each spelling used to become a building of its own. `normalise_place` folds them all
into one canonical form ("1栋", "1单元", "101"), and is used by every import and every form that
takes a place as text, and to compare with the names already stored (which may predate it).
`nearest` proposes the closest existing name for a typo ("did you mean 长江华庭?").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

PlaceKind = Literal["area", "compound", "building", "unit", "room"]

_DIGIT = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CHINESE_NUMBER = re.compile(r"[零〇○一二两三四五六七八九十]+")
_BUILDING = re.compile(r"^第?(\d+)([A-Z]?)(?:号楼|号栋|栋楼|栋|幢|座|号|楼)?$")
_LETTER_BUILDING = re.compile(r"^([A-Z])(?:号楼|栋|幢|座|号|楼)?$")
_UNIT = re.compile(r"^第?(\d+)(?:单元|单|元)?$")
_ROOM = re.compile(r"^(\d+)(?:室|号|房|户)?$")


def _chinese_to_int(text: str) -> int | None:
    """一..九十九 (十, 十一, 二十, 九十九) and digit-by-digit forms (一〇一); None if not a number."""
    if "十" in text:
        tens, _sep, ones = text.partition("十")
        if "十" in ones or len(tens) > 1 or len(ones) > 1:
            return None
        if any(ch not in _DIGIT for ch in tens + ones):
            return None
        return (_DIGIT[tens] if tens else 1) * 10 + (_DIGIT[ones] if ones else 0)
    if all(ch in _DIGIT for ch in text):
        return int("".join(str(_DIGIT[ch]) for ch in text))
    return None


def _numerals(text: str) -> str:
    """Chinese numerals inside a short place token become Arabic digits."""

    def replace(match: re.Match) -> str:
        value = _chinese_to_int(match.group())
        return match.group() if value is None else str(value)

    return _CHINESE_NUMBER.sub(replace, text)


def place_text(value: object) -> str:
    """Full-width folded (NFKC), all whitespace removed: Chinese place names hold no spaces."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    return "".join(text.split())


def normalise_place(kind: PlaceKind, value: object) -> str:
    """The canonical spelling of a place name of `kind`: buildings "N栋" (or "NA栋", "A栋"), units
    "N单元", rooms as digits without a leading zero or 室/号; names of areas and compounds only lose
    spaces and full-width forms. Anything else is kept as written (e.g. "综合楼")."""
    text = place_text(value)
    if kind in ("area", "compound") or not text:
        return text
    token = _numerals(text.upper()) if kind != "room" or not text.isdigit() else text
    if kind == "building":
        if match := _BUILDING.match(token):
            return f"{int(match.group(1))}{match.group(2)}栋"
        if match := _LETTER_BUILDING.match(token):
            return f"{match.group(1)}栋"
        return text
    if kind == "unit":
        if match := _UNIT.match(token):
            return f"{int(match.group(1))}单元"
        return text
    if match := _ROOM.match(token):
        return str(int(match.group(1)))
    return text


def building_name(value: object) -> str:
    return normalise_place("building", value)


def unit_name(value: object) -> str:
    return normalise_place("unit", value)


def room_name(value: object) -> str:
    return normalise_place("room", value)


def nearest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The existing name closest to `name` (a typo's likely intent), or None if none is close."""
    found = difflib.get_close_matches(name, list(dict.fromkeys(candidates)), n=1, cutoff=cutoff)
    return found[0] if found else None
