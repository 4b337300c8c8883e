"""Small template helpers shared by the UI: ages, special-group labels, durations, page links."""

from __future__ import annotations

import datetime as dt

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from fangkong.core.panels import panels_for

register = template.Library()


@register.filter
def age(birth: dt.date | None) -> int | str:
    """Full years at today's local date."""
    if not birth:
        return ""
    today = timezone.localdate()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@register.filter
def minutes(delta: dt.timedelta | None) -> int:
    return round(delta.total_seconds() / 60) if delta else 0


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    """The current URL's query string with `page` replaced (keeps the search text)."""
    query = context["request"].GET.copy()
    query["page"] = number
    return "?" + query.urlencode()


@register.filter
def label_at(sequence, index: int):
    """The label of the index-th (value, label) pair, or the index-th item itself."""
    try:
        item = sequence[index]
    except (IndexError, TypeError, KeyError):
        return ""
    return item[1] if isinstance(item, tuple | list) and len(item) > 1 else item


@register.filter
def code_at(sequence, index: int):
    try:
        item = sequence[index]
    except (IndexError, TypeError, KeyError):
        return ""
    return item[0] if isinstance(item, tuple | list) else item


@register.filter
def hours_since(moment, now=None) -> str:
    """Whole hours (one decimal under ten) from a time until now."""
    if not moment:
        return ""
    from django.utils import timezone as tz

    hours = ((now or tz.now()) - moment).total_seconds() / 3600
    return f"{hours:.1f}" if hours < 10 else f"{hours:.0f}"


@register.filter
def who(user, default: str = "") -> str:
    """A person's display name for "done by" columns: full name, else username; `default` (or "system") when
    nobody did it. One filter instead of `a.get_full_name|default:a.username`, whose filter argument raises
    when the user is None (a change made by a job has no user)."""
    if user is None:
        return default or str(_("system"))
    return user.get_full_name() or user.username
@register.simple_tag(takes_context=True)
def panels(context, slot: str, obj) -> str:
    """The panels other apps registered for this page slot (see fangkong.core.panels), rendered in order."""
    request = context.get("request")
    user = getattr(request, "user", None)
    html = [render_to_string(panel.template, {**extra, "object": obj}, request=request)
            for panel, extra in panels_for(slot, user, obj)]
    return mark_safe("".join(html))  # noqa: S308 - each part is a rendered, autoescaped template


def _errors_of(form) -> int:
    parts = getattr(form, "forms", None)  # a group of forms, like the visit form
    if isinstance(parts, list | tuple):
        return sum(_errors_of(part) for part in parts)
    if getattr(form, "is_bound", False) and hasattr(form, "errors"):
        return sum(len(messages) for messages in form.errors.values())
    return 0


@register.simple_tag
def error_count(*forms) -> int:
    """How many errors the bound forms given hold (a form, a group of forms with `.forms`; others count 0)."""
    return sum(_errors_of(form) for form in forms)
