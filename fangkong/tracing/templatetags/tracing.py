from django import template

from fangkong.tracing.services import can_trace

register = template.Library()


@register.filter(name="can_trace")
def can_trace_filter(user) -> bool:
    """`{% if user|can_trace %}`: the user traces contacts (the rule lives in the services)."""
    return can_trace(user)
