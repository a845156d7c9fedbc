"""Reads of the working-day calendar, and the one deadline rule every app uses:

    the start date counts as day 1 if it is a working day; the period ends at the end of the
    Nth working day.

Where a day's status comes from, in order of precedence:
1. a day an administrator entered (CalendarDay) — the State Council notice for a year not in the package;
2. a year an administrator entered (CalendarYear) but not that day: Monday–Friday, not provisional;
3. a year the `holidays` package is trusted for (see official.package_years()): the official schedule;
4. otherwise Monday–Friday, marked provisional.

    from rpms.workdays.selectors import add_working_days, count_working_days, working_day_status

Each call does a bounded number of queries (two per loaded window), never one per day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q

from rpms.core import clock
from rpms.core.errors import DomainError

from .models import CalendarDay, CalendarYear
from .official import festival_label, official_schedule, package_years
from .parser import weekday_name

MIN_DAYS, MAX_DAYS = 1, 366
MAX_COUNT_SPAN_DAYS = 3660  # a count over more than ten years is a mistake, not a deadline
# Beyond this many ordinary weekends an explanation summarises them in one line.
WEEKEND_LINES_MAX = 8

SOURCE_PACKAGE = "package"
SOURCE_ENTERED = "entered"
SOURCE_PROVISIONAL = "provisional"
SOURCE_LABELS = {
    SOURCE_PACKAGE: "国务院办公厅公布的安排（系统内置）",
    SOURCE_ENTERED: "管理员录入的国务院办公厅通知",
    SOURCE_PROVISIONAL: "尚未公布，暂按周一至周五计算",
}

KIND_WORKDAY = "workday"
KIND_WEEKEND = "weekend"
KIND_HOLIDAY = "holiday"
KIND_MAKEUP = "makeup"


@dataclass(frozen=True)
class DayStatus:
    date: dt.date
    is_working: bool
    provisional: bool
    source: str  # package | entered | provisional
    kind: str  # workday | weekend | holiday | makeup
    label: str = ""  # the festival of a holiday or make-up day ("春节")
    name: str = ""  # the name as the source gives it ("休息日（由 2026-02-14 调休）")

    @property
    def reason(self) -> str:
        if self.kind == KIND_MAKEUP:
            return f"调休上班日（{self.label}）" if self.label else "调休上班日"
        if self.kind == KIND_HOLIDAY:
            text = f"{self.label}假期" if self.label else "节假日"
            if self.name and self.name != self.label:
                text += f"：{self.name}"
            elif not self.name and self.date.weekday() >= 5:
                text += "（周末）"
            return text
        text = "工作日" if self.kind == KIND_WORKDAY else "周末"
        return text + ("（暂按周一至周五推定）" if self.provisional else "")


@dataclass(frozen=True)
class RestPeriod:
    """Consecutive non-working days, named by the festivals they contain."""

    start: dt.date
    end: dt.date
    labels: tuple[str, ...]
    has_weekend: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def is_holiday(self) -> bool:
        return bool(self.labels)

    @property
    def name(self) -> str:
        if not self.labels:
            return "周末"
        return "、".join(self.labels) + "假期" + ("（含周末）" if self.has_weekend else "")

    def describe(self) -> str:
        span = f"{self.start:%Y-%m-%d}" if self.start == self.end else f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"
        return f"{span} {self.name}，共 {self.days} 天"


@dataclass
class WorkdayResult:
    start: dt.date
    days: int
    end: dt.date
    provisional: bool
    explanation: list[str]
    skipped: list[RestPeriod] = field(default_factory=list)
    makeup_days: list[DayStatus] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "days": self.days,
            "end": self.end.isoformat(),
            "provisional": self.provisional,
            "explanation": list(self.explanation),
        }


class _Calendar:
    """Statuses for a window of dates; the entered data for the window is read in two queries and the
    window grows on demand (add_working_days does not know in advance how far it will go)."""

    def __init__(self):
        self.schedule = official_schedule()
        self.first: dt.date | None = None
        self.last: dt.date | None = None
        self.entered_years: dict[int, str] = {}
        self.entered_days: dict[dt.date, tuple[str, str]] = {}

    def load(self, first: dt.date, last: dt.date) -> None:
        if self.first is not None and self.first <= first and last <= self.last:
            return
        if self.first is not None:
            first, last = min(first, self.first), max(last, self.last)
        self.entered_years = dict(
            CalendarYear.objects.filter(year__gte=first.year, year__lte=last.year).values_list("year", "source")
        )
        self.entered_days = {
            d: (kind, name)
            for d, kind, name in CalendarDay.objects.filter(date__gte=first, date__lte=last).values_list(
                "date", "kind", "name"
            )
        }
        self.first, self.last = first, last

    def status(self, day: dt.date) -> DayStatus:
        if self.first is None or not self.first <= day <= self.last:
            self.load(day, day)
        weekend = day.weekday() >= 5
        entered = self.entered_days.get(day)
        if entered is not None:
            kind, name = entered
            label = festival_label(name)
            if kind == CalendarDay.Kind.WORKDAY:
                return DayStatus(day, True, False, SOURCE_ENTERED, KIND_MAKEUP, label or "", name)
            return DayStatus(day, False, False, SOURCE_ENTERED, KIND_HOLIDAY, label or "节假日", name)
        if day.year in self.entered_years:
            return _by_weekday(day, SOURCE_ENTERED, provisional=False)
        schedule = self.schedule
        if schedule.covers(day):
            if day in schedule.makeup:
                return DayStatus(day, True, False, SOURCE_PACKAGE, KIND_MAKEUP, schedule.makeup[day])
            if day in schedule.names or (weekend and day in schedule.labels):
                name = schedule.names.get(day, "")
                label = schedule.labels.get(day) or festival_label(name) or "节假日"
                return DayStatus(day, False, False, SOURCE_PACKAGE, KIND_HOLIDAY, label, name)
            return _by_weekday(day, SOURCE_PACKAGE, provisional=False)
        return _by_weekday(day, SOURCE_PROVISIONAL, provisional=True)

    def year_source(self, year: int) -> str:
        if year in self.entered_years:
            return SOURCE_ENTERED
        if year in self.schedule.years:
            return SOURCE_PACKAGE
        return SOURCE_PROVISIONAL


def _by_weekday(day: dt.date, source: str, *, provisional: bool) -> DayStatus:
    working = day.weekday() < 5
    return DayStatus(day, working, provisional, source, KIND_WORKDAY if working else KIND_WEEKEND)


def _days_between(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def _check_date(value) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise DomainError("日期格式不正确，应为 YYYY-MM-DD。", code="invalid_date")
    return value


def _check_days(days) -> int:
    if isinstance(days, bool) or not isinstance(days, int):
        raise DomainError("工作日天数必须是整数。", code="invalid_days")
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise DomainError(f"工作日天数必须在 {MIN_DAYS} 到 {MAX_DAYS} 之间。", code="days_out_of_range")
    return days


# --- public reads ---------------------------------------------------------------------------------------------


def working_day_status(day: dt.date) -> tuple[bool, bool, str]:
    """(is_working, provisional, reason in Chinese) for one date."""
    status = day_status(day)
    return status.is_working, status.provisional, status.reason


def day_status(day: dt.date) -> DayStatus:
    _check_date(day)
    calendar = _Calendar()
    calendar.load(day, day)
    return calendar.status(day)


def day_statuses(start: dt.date, end: dt.date) -> list[DayStatus]:
    """The status of every date from start to end inclusive (two queries)."""
    _check_range(start, end)
    calendar = _Calendar()
    calendar.load(start, end)
    return [calendar.status(day) for day in _days_between(start, end)]


def count_working_days(start: dt.date, end: dt.date) -> tuple[int, bool]:
    """How many working days lie between start and end, both included; provisional if any day was."""
    statuses = day_statuses(start, end)
    return sum(s.is_working for s in statuses), any(s.provisional for s in statuses)


def _check_range(start, end) -> None:
    _check_date(start)
    _check_date(end)
    if end < start:
        raise DomainError("结束日期不能早于开始日期。", code="end_before_start")
    if (end - start).days + 1 > MAX_COUNT_SPAN_DAYS:
        raise DomainError(f"统计区间不能超过 {MAX_COUNT_SPAN_DAYS} 天。", code="range_too_long")


def add_working_days(start: dt.date, days: int) -> WorkdayResult:
    """The end of a period of `days` working days beginning on `start` (the deadline rule above),
    with an explanation in Chinese of what was counted and skipped."""
    _check_date(start)
    _check_days(days)
    calendar = _Calendar()
    # Room for the working days, their weekends and a Spring Festival; grows if an odd year needs more.
    window = days * 2 + 30
    calendar.load(start, _plus(start, window))

    counted = 0
    day = start
    provisional_years: list[int] = []
    skipped: list[RestPeriod] = []
    makeups: list[tuple[DayStatus, int]] = []
    run: list[DayStatus] = []
    first_status: DayStatus | None = None
    while True:
        if day > calendar.last:
            window *= 2
            calendar.load(calendar.first, _plus(day, window))
        status = calendar.status(day)
        first_status = first_status or status
        if status.provisional and day.year not in provisional_years:
            provisional_years.append(day.year)
        if status.is_working:
            if run:
                skipped.append(_period(run))
                run = []
            counted += 1
            if status.kind == KIND_MAKEUP:
                makeups.append((status, counted))
            if counted == days:
                break
        else:
            run.append(status)
        try:
            day += dt.timedelta(days=1)
        except OverflowError:
            raise DomainError("日期超出可计算的范围。", code="date_out_of_range") from None

    years = range(start.year, day.year + 1)
    explanation = _explain(
        start=start, end=day, days=days, first=first_status, skipped=skipped, makeups=makeups,
        provisional_years=provisional_years, sources={y: _source_text(calendar, y) for y in years},
    )
    return WorkdayResult(
        start=start,
        days=days,
        end=day,
        provisional=bool(provisional_years),
        explanation=explanation,
        skipped=skipped,
        makeup_days=[status for status, _ in makeups],
    )


def _plus(day: dt.date, days: int) -> dt.date:
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max


def _period(run: list[DayStatus]) -> RestPeriod:
    labels: list[str] = []
    for status in run:
        for label in (status.label.split("、") if status.label else []):
            if label not in labels:
                labels.append(label)
    return RestPeriod(
        start=run[0].date, end=run[-1].date, labels=tuple(labels), has_weekend=any(s.date.weekday() >= 5 for s in run)
    )


def _source_text(calendar: _Calendar, year: int) -> str:
    source = calendar.year_source(year)
    if source == SOURCE_ENTERED:
        return f"{year} 年按管理员录入的国务院办公厅通知（{calendar.entered_years[year]}）"
    if source == SOURCE_PACKAGE:
        return f"{year} 年按国务院办公厅公布的节假日安排"
    return f"{year} 年节假日安排尚未公布或录入，暂按周一至周五计算"


def _day(day: dt.date) -> str:
    return f"{day:%Y-%m-%d}（{weekday_name(day)}）"


def _explain(*, start, end, days, first, skipped, makeups, provisional_years, sources) -> list[str]:
    lines = [f"规则：起算日为工作日的计为第 1 个工作日，期限至第 {days} 个工作日结束时届满。"]
    if first.is_working:
        lines.append(f"起算日 {_day(start)}是{first.reason}，计为第 1 个工作日。")
    else:
        lines.append(f"起算日 {_day(start)}不是工作日（{first.reason}），不计入，自其后第一个工作日起算。")
    events: list[tuple[dt.date, str]] = []
    weekends = [p for p in skipped if not p.is_holiday]
    summarise_weekends = len(weekends) > WEEKEND_LINES_MAX
    for period in skipped:
        if period.is_holiday or not summarise_weekends:
            events.append((period.start, f"跳过 {period.describe()}。"))
    for status, number in makeups:
        if status.date == start:
            continue  # already said in the start line
        events.append((status.date, f"{_day(status.date)}为{status.reason}，计为第 {number} 个工作日。"))
    lines.extend(text for _, text in sorted(events, key=lambda e: e[0]))
    if summarise_weekends:
        lines.append(f"期间另跳过普通周末 {len(weekends)} 段，共 {sum(p.days for p in weekends)} 天。")
    lines.append(f"第 {days} 个工作日为 {_day(end)}，期限于当日结束时届满。")
    lines.append("依据：" + "；".join(sources[y] for y in sorted(sources)) + "。")
    if provisional_years:
        years = "、".join(str(y) for y in provisional_years)
        lines.append(f"注意：{years} 年的节假日安排尚未公布或录入，暂按周一至周五计算，结果为暂定。")
    return lines


# --- years, for the administration pages and GET /year/{year} ------------------------------------------------


@dataclass
class YearOverview:
    year: int
    source: str
    source_label: str
    source_detail: str
    entered: CalendarYear | None
    holidays: list[DayStatus]
    workdays: list[DayStatus]
    periods: list[RestPeriod]
    working_day_count: int

    @property
    def provisional(self) -> bool:
        return self.source == SOURCE_PROVISIONAL


def _check_year(year) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2200:
        raise DomainError("年度应为 1900 到 2200 之间的四位数字。", code="invalid_year")
    return year


def calendar_year_overview(year: int) -> YearOverview:
    """One year's holidays, make-up days and holiday periods with where they come from (three queries)."""
    _check_year(year)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    calendar = _Calendar()
    calendar.load(first, last)
    statuses = [calendar.status(day) for day in _days_between(first, last)]
    periods, run = [], []
    for status in statuses:
        if status.is_working:
            if run:
                periods.append(_period(run))
            run = []
        else:
            run.append(status)
    if run:
        periods.append(_period(run))
    source = calendar.year_source(year)
    entered = CalendarYear.objects.select_related("entered_by").filter(year=year).first() if source == SOURCE_ENTERED else None
    if source == SOURCE_ENTERED:
        detail = entered.source
    elif source == SOURCE_PACKAGE:
        detail = f"国务院办公厅关于 {year} 年部分节假日安排的通知（系统内置的国务院节假日安排数据，已与另一份公开数据逐日核对）"
    else:
        detail = "该年度的节假日安排尚未公布或尚未录入"
    return YearOverview(
        year=year,
        source=source,
        source_label=SOURCE_LABELS[source],
        source_detail=detail,
        entered=entered,
        holidays=[s for s in statuses if s.kind == KIND_HOLIDAY],
        workdays=[s for s in statuses if s.kind == KIND_MAKEUP],
        periods=[p for p in periods if p.is_holiday],
        working_day_count=sum(s.is_working for s in statuses),
    )


@dataclass
class YearRow:
    year: int
    source: str
    source_label: str
    source_detail: str
    holiday_count: int | None
    workday_count: int | None
    entered: CalendarYear | None

    @property
    def provisional(self) -> bool:
        return self.source == SOURCE_PROVISIONAL


def calendar_year_list(*, first_year: int = 2024, last_year: int | None = None) -> list[YearRow]:
    """Every year from first_year to last_year (default: next year), plus any other entered year (one query)."""
    last_year = last_year or clock.today().year + 1
    entered = {
        row.year: row
        for row in CalendarYear.objects.select_related("entered_by").annotate(
            holiday_count=Count("days", filter=Q(days__kind=CalendarDay.Kind.HOLIDAY)),
            workday_count=Count("days", filter=Q(days__kind=CalendarDay.Kind.WORKDAY)),
        )
    }
    schedule = official_schedule()
    rows = []
    for year in sorted(set(range(first_year, last_year + 1)) | set(entered)):
        if year in entered:
            row = entered[year]
            rows.append(YearRow(year, SOURCE_ENTERED, SOURCE_LABELS[SOURCE_ENTERED], row.source,
                                row.holiday_count, row.workday_count, row))
        elif year in schedule.years:
            holidays = sum(1 for d in schedule.labels if d.year == year)
            makeups = sum(1 for d in schedule.makeup if d.year == year)
            rows.append(YearRow(year, SOURCE_PACKAGE, SOURCE_LABELS[SOURCE_PACKAGE], "系统内置的国务院节假日安排数据",
                                holidays, makeups, None))
        else:
            rows.append(YearRow(year, SOURCE_PROVISIONAL, SOURCE_LABELS[SOURCE_PROVISIONAL], "", None, None, None))
    return rows


__all__ = [
    "DayStatus",
    "RestPeriod",
    "WorkdayResult",
    "add_working_days",
    "calendar_year_list",
    "calendar_year_overview",
    "count_working_days",
    "day_status",
    "day_statuses",
    "package_years",
    "working_day_status",
]
