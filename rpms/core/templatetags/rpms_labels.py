"""Template filters naming codes in Chinese (issue #17 item 3): `{% load rpms_labels %}` then
`{{ user|person }}` (display name, else the role's label — never the user name), `{{ row.action|action_label }}`,
`{{ row.object_type|object_type_label }}`."""
from django import template

from rpms.core import labels

register = template.Library()


@register.filter(name="person")
def person(user):
    return labels.person_name(user)


@register.filter(name="action_label")
def action_label(code):
    return labels.action_label(code or "")


@register.filter(name="object_type_label")
def object_type_label(code):
    return labels.object_type_label(code or "")
