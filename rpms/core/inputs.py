"""Coercers for what a form or a query string carries (issue #14): text, dates, integers, decimals and
choices, each refusing with a Chinese message naming the field (a `DomainError`, 400; numbers range-checked
by rpms.core.params), and the wrapper that turns a model's `ValidationError` into such a refusal. For views
and services alike."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from .errors import DomainError
from .params import int_param


def text_value(value, *, label: str, max_length: int | None = None, required: bool = False,
               code: str = "invalid_field") -> str:
    """Trimmed text; required and empty → "请填写…"; longer than `max_length` → refused with the limit."""
    text = str(value if value is not None else "").strip()
    if required and not text:
        raise DomainError(f"请填写{label}。", code=code)
    if max_length is not None and len(text) > max_length:
        raise DomainError(f"{label}不能超过 {max_length} 个字。", code=code)
    return text


def date_value(value, *, label: str = "日期", required: bool = True, message: str | None = None,
               code: str = "invalid_date") -> dt.date | None:
    """A date typed as YYYY-MM-DD; empty → None unless `required` (then refused like a wrong format)."""
    raw = str(value if value is not None else "").strip()
    if not raw and not required:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError(message or f"{label}格式不正确，应为 YYYY-MM-DD。", code=code) from None


def int_or_none(value) -> int | None:
    """An optional number from a query string read leniently: anything that is not one → None (a filter
    that does not apply)."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def int_value(value, *, label: str, minimum: int = 0, maximum: int | None = None, default: int | None = None,
              code: str = "invalid_number") -> int | None:
    """An integer typed into a form, range-checked by rpms.core.params (a Chinese refusal naming `label`)."""
    return int_param(value, label=label, minimum=minimum, maximum=maximum, default=default, code=code)


def decimal_value(value, *, label: str, minimum: Decimal | None = None, maximum: Decimal | None = None,
                  required: bool = True, code: str = "invalid_number") -> Decimal | None:
    """A decimal number (an amount, hours); empty → None unless `required`."""
    raw = str(value if value is not None else "").strip()
    if not raw:
        if required:
            raise DomainError(f"请填写{label}。", code=code)
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise DomainError(f"{label}应为数字。", code=code) from None
    if not number.is_finite():
        raise DomainError(f"{label}应为数字。", code=code)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        low = "" if minimum is None else f"不小于 {minimum}"
        high = "" if maximum is None else f"不大于 {maximum}"
        raise DomainError(f"{label}应{low}{'且' if low and high else ''}{high}。", code=code)
    return number


def choice_value(value, *, label: str, choices, required: bool = True, code: str = "invalid_choice") -> str:
    """One of `choices` (a TextChoices class, or (value, label) pairs, or plain values)."""
    raw = str(value if value is not None else "").strip()
    if not raw and not required:
        return ""
    values = getattr(choices, "values", None)
    if values is None:
        values = [c[0] if isinstance(c, (tuple, list)) else c for c in choices]
    if raw not in [str(v) for v in values]:
        raise DomainError(f"请选择{label}。" if not raw else f"{label}“{raw}”不是可选的值。", code=code)
    return raw


def validation_refusal(instance, exc: ValidationError) -> DomainError:
    """A model's ValidationError as one Chinese refusal (400): each field's messages after its verbose name."""
    parts = []
    for field, errors in exc.message_dict.items():
        label = instance._meta.get_field(field).verbose_name if field != "__all__" else ""
        parts.append(f"{label}：{'；'.join(errors)}" if label else "；".join(errors))
    return DomainError("；".join(parts) or "数据不正确。", code="invalid_field")


def clean_or_refuse(instance, **kwargs) -> None:
    """`instance.full_clean(**kwargs)`, a ValidationError answered as a Chinese DomainError (400)."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        raise validation_refusal(instance, exc) from None
