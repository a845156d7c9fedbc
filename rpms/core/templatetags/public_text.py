"""`{{ value|public_text }}`: free text typed by a person, as the public may read it (identity numbers,
phone numbers and e-mail addresses masked by rpms.core.masking.mask_public_text).

Registered as a template builtin (config/settings TEMPLATES OPTIONS "builtins"), so every template can
use it without `{% load %}`. Mask first, then shorten: `{{ body|public_text|truncatechars:160 }}`."""
from django import template

from rpms.core.masking import mask_public_text

register = template.Library()


@register.filter(name="public_text", is_safe=False)
def public_text(value):
    return mask_public_text(value)
