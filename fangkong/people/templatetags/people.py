"""`{% load people %}`: the special groups (特殊人群) of a resident in words."""

from django import template

from fangkong.people.models import SpecialGroup

register = template.Library()


@register.filter
def group_labels(mask: int | None) -> list[str]:
    return SpecialGroup.labels(mask or 0)


@register.filter
def group_label(bit: int) -> str:
    return str(SpecialGroup.LABELS.get(bit, bit))
