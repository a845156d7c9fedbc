"""Calendar arithmetic shared by every app: whole years from a day, and the service years (服务年度) of an
appointment. One definition, so the terms, the assessments, the allowances and the reminders agree on
which days a service year covers (issue #14 item 7)."""
from __future__ import annotations

import datetime as dt


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (29 February → 1 March in a common year), as terms do."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def term_end(start: dt.date, years: int) -> dt.date:
    """The last day of a term of `years` years beginning on `start`."""
    return add_years(start, years) - dt.timedelta(days=1)


def service_year(start: dt.date, n: int) -> tuple[dt.date, dt.date]:
    """(first day, last day) of service year `n` (1, 2, …) of a service beginning on `start`: from start +
    (n-1) years to the day before start + n years, uncut."""
    return add_years(start, n - 1), add_years(start, n) - dt.timedelta(days=1)


def service_years(start: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The service years of a service from `start` to `last` (inclusive): one year each from its start, the
    last cut at `last` (a withdrawal's leave date, a termination, or the end of the current term)."""
    years = []
    n = 1
    while True:
        first, end = service_year(start, n)
        if first > last:
            return years
        years.append((first, min(end, last)))
        n += 1


def service_year_containing(start: dt.date, last: dt.date, day: dt.date) -> tuple[int, dt.date, dt.date]:
    """(n, first day, last day) of the service year containing `day` (or the last one if the service is over
    by then), its last day cut at `last`."""
    n = 1
    while True:
        first, end = service_year(start, n)
        if end >= day or end >= last:
            return n, first, min(end, last)
        n += 1
