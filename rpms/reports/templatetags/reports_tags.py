"""Formatting for the statistics page: ratios as percentages, missing figures as a dash, dict lookups."""
from django import template

register = template.Library()


@register.filter
def pct(value):
    """0.1234 → "12.3%"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f}%"


@register.filter
def num(value):
    """A figure, or "—" when there is none; thousands separated."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


@register.filter
def get(mapping, key):
    if mapping is None:
        return None
    return mapping.get(key)
