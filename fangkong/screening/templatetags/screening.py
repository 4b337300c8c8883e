"""Template helpers of the screening pages: percentages, flag and symptom labels, bar heights."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from fangkong.screening.forms import VisitForms
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


# The visit form's empty new-occupant rows, rendered once per process for each language and thermometer range
# (the policy's): about 30 widgets that are the same on every household's form — a third of the page's
# rendering. Rows sent back (bound: their values, their errors) are rendered each time.
_EMPTY_NEW_ROWS: dict[tuple, str] = {}


@register.simple_tag(takes_context=True)
def new_occupant_rows(context: template.Context, forms: VisitForms) -> SafeString:
    rows = context.template.engine.get_template("screening/_new_occupants.html")  # type: ignore[union-attr]
    if not forms.new or forms.new[0].is_bound:
        return mark_safe(rows.render(context.new({"forms": forms})))
    key = (get_language(), forms.new[0].ambient_range, len(forms.new))
    html = _EMPTY_NEW_ROWS.get(key)
    if html is None:
        if len(_EMPTY_NEW_ROWS) > 64:
            _EMPTY_NEW_ROWS.clear()
        html = _EMPTY_NEW_ROWS[key] = rows.render(context.new({"forms": forms}))
    return mark_safe(html)  # noqa: S308 — rendered by the template engine, escaped there
