"""Numbers from a request, range-checked in one place (issue #13): page numbers, limits and offsets,
years and any other integer a client types. A value out of range is a `DomainError` (400) with a Chinese
message naming the parameter and its range, never a number handed on to a database that cannot hold it
(SQLite and PostgreSQL store at most 2^63 − 1; Python's `datetime` knows years 1–9999).

What gets past these checks anyway (an id in a path or a body that no database can hold) is answered by
the central handlers for `OverflowError` and `DataError` (rpms.core.errors.bad_input_error), in the API and
on the site alike."""
from __future__ import annotations

import re

from .errors import DomainError

# The largest integer both supported databases store (SQLite INTEGER, PostgreSQL bigint).
DB_INT_MAX = 2**63 - 1
# No list here comes near these; they keep LIMIT/OFFSET arithmetic well inside every database's range.
OFFSET_MAX = 1_000_000_000
PAGE_MAX = 1_000_000
# A year the system may be asked about: before the first planner and long after the last policy.
YEAR_MIN, YEAR_MAX = 1900, 2100

_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")
_DIGITS = re.compile(r"[0-9]{1,18}")


def is_digits(text) -> bool:
    """True for text of 1 to 18 ASCII digits: a non-negative integer every database holds. (str.isdigit is
    also true for "²", which int() refuses, and for a thousand digits, which no database holds.)"""
    return isinstance(text, str) and _DIGITS.fullmatch(text) is not None


def int_param(value, *, label: str, minimum: int, maximum: int | None, default: int | None = None,
              code: str = "invalid_number") -> int | None:
    """`value` (an int, or its text as typed in a query string or form) as an int in [minimum, maximum]
    (maximum None: no upper bound — for a value the caller cuts down itself). Empty (None or blank text) →
    `default`. Anything else → DomainError naming `label` and the range."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or number < minimum or (maximum is not None and number > maximum):
        expected = f"不小于 {minimum} 的整数" if maximum is None else f"{minimum} 至 {maximum} 之间的整数"
        raise DomainError(f"{label}应为{expected}。", code=code)
    return number


def limit_offset(limit, offset, *, max_limit: int, clamp: bool = False) -> tuple[int, int]:
    """A page of a list as (limit, offset): limit from 1 to `max_limit` (`clamp`: a larger one is cut to
    `max_limit` instead of refused), offset from 0 to OFFSET_MAX (an offset past the end is an empty page)."""
    limit = int_param(limit, label="每页条数 limit ", minimum=1, maximum=None if clamp else max_limit,
                      code="invalid_page")
    offset = int_param(offset, label="起始位置 offset ", minimum=0, maximum=OFFSET_MAX, default=0, code="invalid_page")
    if limit is None:
        raise DomainError(f"每页条数 limit 应为 1 至 {max_limit} 之间的整数。", code="invalid_page")
    return min(limit, max_limit), offset


def page_number(value, *, default: int = 1, maximum: int = PAGE_MAX) -> int:
    """A page number from 1 to `maximum` (a page past the last one is empty, or the caller's last page)."""
    return int_param(value, label="页码 page ", minimum=1, maximum=maximum, default=default, code="invalid_page")


def year_param(value, *, label: str = "年度 year ", default: int | None = None) -> int | None:
    """A calendar year from YEAR_MIN to YEAR_MAX, or `default` when none is given."""
    return int_param(value, label=label, minimum=YEAR_MIN, maximum=YEAR_MAX, default=default, code="invalid_year")


def db_int_param(value, *, label: str, default: int | None = None, code: str = "invalid_number") -> int | None:
    """Any integer a database holds (a filter value: an id, a count), or `default` when none is given."""
    return int_param(value, label=label, minimum=-DB_INT_MAX, maximum=DB_INT_MAX, default=default, code=code)


def month_param(value, *, label: str = "月份 month ", default: int | None = None) -> int | None:
    return int_param(value, label=label, minimum=1, maximum=12, default=default, code="invalid_month")


def id_param(value, *, label: str, default: int | None = None) -> int | None:
    """A record id typed in a query string or form: a positive integer a database can hold."""
    return int_param(value, label=label, minimum=1, maximum=DB_INT_MAX, default=default, code="invalid_id")


def page_within(value, *, count: int, per_page: int) -> int:
    """A site list's page number read the way Django's Paginator.get_page reads it: text that is not a page
    number → the first page, a number past the last page (however large) → the last page."""
    from django.core.paginator import Paginator

    return Paginator(range(count), per_page).get_page(value).number
