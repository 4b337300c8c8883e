"""Template helpers of the screening pages: percentages, flag and symptom labels, bar heights."""

from __future__ import annotations

from django import template

from fangkong.screening.models import Flag, Reason, Symptom

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """0.8534 → 85.3%"""
    return f"{(value or 0) * 100:.1f}%"


@register.filter
def pct_step(value: float | None) -> int:
    """A bar's length as the whole percent of a CSS class (`w-85`, `h-85` in fangkong.css): no style
    attribute, which the Content-Security-Policy (style-src 'self') would refuse. 0.8534 → 85"""
    return round(min(1.0, max(0.0, value or 0)) * 100)


@register.filter
def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@register.filter
def flag_labels(mask: int | None) -> list[str]:
    return [str(Reason(reason).label) for reason in Flag.reasons(mask or 0)]


@register.filter
def symptom_labels(mask: int | None) -> list[str]:
    return Symptom.labels(mask or 0)
