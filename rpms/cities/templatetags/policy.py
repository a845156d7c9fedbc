"""`{% load policy %}{% article city "notice" %}` prints the city's own article for a step, so one
template serves every city (rules as data)."""
from django import template

from rpms.cities.selectors import policy_article

register = template.Library()


@register.simple_tag
def article(city, step):
    if not hasattr(city, "policy"):
        return ""
    return policy_article(city, step)
