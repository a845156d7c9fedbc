"""Public JSON API of the working-day calendar, mounted at /api/v1/workdays.

Query parameters are taken as strings and parsed here, so a missing parameter, "2026-02-30", "abc",
days 0/367/"1.5" or an end before the start all give 400 {"code", "message": 中文}, never 422 or 500.
"""
import re

from ninja import Router

from rpms.core.errors import DomainError

from .forms import parse_date_param, parse_days_param
from .selectors import add_working_days, calendar_year_overview, count_working_days

router = Router(tags=["工作日"])


@router.get("/add", auth=None, summary="自起算日起第 N 个工作日（期限届满日）")
def add(request, start: str | None = None, days: str | None = None):
    """起算日为工作日的计为第 1 个工作日，期限至第 N 个工作日结束时届满。"""
    start_date = parse_date_param(start, label="起算日", param="start")
    count = parse_days_param(days)
    return add_working_days(start_date, count).as_dict()


@router.get("/count", auth=None, summary="两个日期之间（含首尾）的工作日天数")
def count(request, start: str | None = None, end: str | None = None):
    start_date = parse_date_param(start, label="开始日期", param="start")
    end_date = parse_date_param(end, label="结束日期", param="end")
    total, provisional = count_working_days(start_date, end_date)
    return {"count": total, "provisional": provisional}


@router.get("/year/{year}", auth=None, summary="某年度的放假与调休上班安排及其来源")
def year_detail(request, year: str):
    if not re.fullmatch(r"[0-9]{4}", year):
        raise DomainError("年度应为四位数字，如 2026。", code="invalid_year")
    overview = calendar_year_overview(int(year))
    return {
        "year": overview.year,
        "source": overview.source,
        "source_label": overview.source_label,
        "source_detail": overview.source_detail,
        "provisional": overview.provisional,
        "working_day_count": overview.working_day_count,
        "holidays": [{"date": s.date.isoformat(), "name": s.label, "detail": s.reason} for s in overview.holidays],
        "workdays": [{"date": s.date.isoformat(), "name": s.label, "detail": s.reason} for s in overview.workdays],
        "periods": [
            {"start": p.start.isoformat(), "end": p.end.isoformat(), "days": p.days, "name": p.name,
             "description": p.describe()}
            for p in overview.periods
        ],
    }
