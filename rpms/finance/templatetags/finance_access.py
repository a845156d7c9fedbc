"""What the finance pages may link to for the user (a link is shown only to those who may open it, issue #17)."""
from django import template

from rpms.finance import permissions

register = template.Library()


@register.filter
def may_read_allowances(user) -> bool:
    """Whether `user` may open the transport and communication allowance list (P6(3))."""
    return permissions.can_read_allowances(user)
