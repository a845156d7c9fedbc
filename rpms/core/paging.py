"""Paging helpers for staff lists that may hold a city's hundreds of thousands of rows (issue #15)."""
from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

# A list counts (and pages through) at most this many rows; beyond it the page asks for a filter.
COUNT_CAP = 10_000


def capped_count(queryset, cap: int | None = None) -> tuple[int, bool]:
    """(cap: COUNT_CAP when not given, read at call time.) (min(count, cap), whether there are more than `cap`): `SELECT COUNT(*) FROM (… LIMIT cap + 1)` without the
    ORDER BY, so the count stops after cap + 1 index entries instead of counting a whole city's rows."""
    cap = COUNT_CAP if cap is None else cap
    found = queryset.order_by()[: cap + 1].count()
    return min(found, cap), found > cap


class CappedPaginator(Paginator):
    """Counts at most `cap` rows (`SELECT COUNT(*) FROM (… LIMIT cap + 1)`), so neither the count nor the deepest
    page's OFFSET grows with a city's million rows; `capped` tells the page to say "more than cap, filter".
    Page numbers are bounded by it: past the last page → the last page (get_page)."""

    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap
        self.capped = False

    @cached_property
    def count(self):
        count, self.capped = capped_count(self.object_list, self.cap)
        return count


def pager(request, *, page: int, total: int, size: int, param: str = "page", drop: tuple[str, ...] = ("format", "export"),
          capped: bool = False) -> dict:
    """What the shared pager (core/_pager.html) shows: the page, the number of pages, the count (with "more than"
    when `capped`) and the other query parameters kept (without `param` and the one-off `drop` ones)."""
    query = request.GET.copy()
    for name in (param, *drop):
        query.pop(name, None)
    return {"page": page, "num_pages": max(1, -(-total // size)), "has_next": page * size < total, "total": total,
            "capped": capped, "page_query": query.urlencode(), "page_param": param}


def page_of(request, queryset, *, size: int, param: str = "page", cap: int | None = None):
    """One page of `queryset` for a site list: (rows, pager). The count stops at `cap` (COUNT_CAP) rows, the page
    number is read as Django's get_page reads it (not a number → 1, past the end → the last page), and the
    queries are the same whatever the list's length."""
    from .params import page_within

    total, capped = capped_count(queryset, cap)
    page = page_within(request.GET.get(param), count=total, per_page=size)
    rows = list(queryset[(page - 1) * size: page * size])
    return rows, pager(request, page=page, total=total, size=size, param=param, capped=capped)
