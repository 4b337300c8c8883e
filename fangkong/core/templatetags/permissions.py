"""`{% load permissions %}` then `{% if user|can_trace %}`: every rule of core.permissions as a
filter of the same name, so templates read the rules the views and the API read."""

from django import template

from fangkong.core.permissions import RULES

register = template.Library()

for _name, _rule in RULES.items():
    register.filter(_name, _rule)
