"""Template helpers for the PDF documents."""
from django import template

register = template.Library()

_DIGITS = "〇一二三四五六七八九"


@register.filter
def cn_number(value) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (section and clause numbers); other values as is."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return value
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens == 1 else _DIGITS[tens]) + "十" if tens else ""
    return text + (_DIGITS[ones] if ones else "")
