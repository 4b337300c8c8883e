"""How a temperature was taken (R7): forehead (infrared), ear or armpit, and whether a forehead
reading can be trusted. An infrared forehead thermometer reads skin, and outdoors in the cold (or
the heat) it reads wrong: outside the device's ambient range (the policy's forehead_ambient_min_c /
_max_c, 18–28 °C by default) the reading is kept but flagged unreliable, and a re-take is asked for.
Shared by the screening visits and the observation health reports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fangkong.policy.schema import Policy

AMBIENT_MIN_C = Decimal("-40.0")
AMBIENT_MAX_C = Decimal("50.0")


class TemperatureMethod(models.TextChoices):
    FOREHEAD = "forehead", _("Forehead")  # 额温
    EAR = "ear", _("Ear")  # 耳温
    ARMPIT = "armpit", _("Armpit")  # 腋温


METHODS = frozenset(TemperatureMethod.values)  # once: Django's `Choices.values` is a new list on every read


def parse_ambient(value: Any) -> Decimal | None:
    """'12', '-3.5', '１２' → Decimal; None for empty; ValueError if not a plausible outdoor temperature."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().replace(",", ".").translate(str.maketrans("０１２３４５６７８９．－", "0123456789.-"))
    text = text.removesuffix("°C").removesuffix("℃").strip()
    try:
        number = Decimal(text).quantize(Decimal("0.1"))
    except ArithmeticError as exc:
        raise ValueError(text) from exc
    if not number.is_finite() or not AMBIENT_MIN_C <= number <= AMBIENT_MAX_C:
        raise ValueError(text)
    return number


def ambient_range(policy: Policy) -> tuple[Decimal, Decimal]:
    return Decimal(str(policy.forehead_ambient_min_c)), Decimal(str(policy.forehead_ambient_max_c))


def is_unreliable(method: str, outdoors: bool, ambient_c: Decimal | None, policy: Policy) -> bool:
    """A forehead reading taken outdoors with the ambient temperature outside the device's range."""
    if method != TemperatureMethod.FOREHEAD or not outdoors or ambient_c is None:
        return False
    low, high = ambient_range(policy)
    return not low <= ambient_c <= high


@dataclass(frozen=True)
class HowTaken:
    method: str
    outdoors: bool = False
    ambient_c: Decimal | None = None
    unreliable: bool = False


def clean_how_taken(method: Any, outdoors: Any, ambient_c: Any, policy: Policy,
                    default: str = TemperatureMethod.FOREHEAD) -> tuple[HowTaken | None, dict[str, str]]:
    """How a reading was taken, checked: (the values, {}) or (None, errors by field name).
    Outdoors counts for forehead readings only, and then needs the outdoor temperature."""
    method = str(method or default).strip().lower()
    if method not in METHODS:
        return None, {"temperature_method": gettext("Choose how the temperature was taken.")}
    if not outdoors or method != TemperatureMethod.FOREHEAD:
        return HowTaken(method), {}
    try:
        ambient = parse_ambient(ambient_c)
    except ValueError:
        return None, {"ambient_c": gettext("Not an outdoor temperature: write it like 12 or -3.")}
    if ambient is None:
        return None, {"ambient_c": gettext("Enter the outdoor temperature for a forehead reading taken outdoors.")}
    return HowTaken(method, True, ambient, is_unreliable(method, True, ambient, policy)), {}
