"""The inbox link with its unread badge, for the site header:

    {% load inbox %}{% inbox_link %}

One COUNT query per page for a signed-in user; nothing for anonymous visitors."""
from django import template

from rpms.notifications.selectors import unread_count

register = template.Library()


@register.inclusion_tag("notifications/_inbox_link.html", takes_context=True)
def inbox_link(context):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if not getattr(user, "is_authenticated", False):
        return {"show": False}
    return {"show": True, "count": unread_count(user)}


@register.simple_tag(takes_context=True)
def inbox_unread_count(context) -> int:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return unread_count(user)
