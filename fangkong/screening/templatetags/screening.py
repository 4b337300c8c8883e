"""Template helpers of the screening pages: percentages, flag and symptom labels, bar heights."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from fangkong.screening.models import Flag, Method, Outcome, Reason, Symptom, Visit

register = template.Library()
# Labels by value, built once (get_FOO_display rebuilds a dict of the choices on every call: ~0.2 ms, twice a
# row of the day list).
METHOD_LABELS = dict(Method.choices)
OUTCOME_LABELS = dict(Outcome.choices)


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


@register.filter
def visit_line(v: Visit | None) -> SafeString:
    """One line about a visit: date, method, outcome, flags (the day list's rows, the visit page's "last
    visit"); rendered in Python: the day list shows 40 of them."""
    if v is None:
        return format_html("{}", _("Never screened"))
    flags = format_html_join("", '<span class="flag">{}</span>', ((label,) for label in flag_labels(v.flags)))
    return format_html("{} {} · {}{}", v.date.strftime("%m-%d"), METHOD_LABELS.get(v.method, v.method),
                       OUTCOME_LABELS.get(v.outcome, v.outcome), flags)
