from django import template

from fangkong.observation.services import can_observe

register = template.Library()


@register.filter(name="can_observe")
def can_observe_filter(user) -> bool:
    """`{% if user|can_observe %}`: the user keeps observation files (the rule lives in the services)."""
    return can_observe(user)
