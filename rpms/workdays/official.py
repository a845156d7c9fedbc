"""The official schedule as published by the State Council, read from the `holidays` package.

The package is trusted only for the years in `package_years()` (default 2024–2026; settings may
override with RPMS_WORKDAYS_PACKAGE_YEARS). The schedule is built once per process per set of years
and kept as plain, immutable lookups, so a call never touches the package again.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from django.conf import settings

DEFAULT_PACKAGE_YEARS = (2024, 2025, 2026)

_MAKEUP_REF = re.compile(r"由\s*(\d{4}-\d{2}-\d{2})\s*调休")
_SUFFIXES = re.compile(r"[（(](补假|observed|Observed)[)）]")
ALIASES = {"农历除夕": "春节", "除夕": "春节"}


def package_years() -> tuple[int, ...]:
    years = getattr(settings, "RPMS_WORKDAYS_PACKAGE_YEARS", DEFAULT_PACKAGE_YEARS)
    return tuple(sorted({int(y) for y in years}))


def festival_label(name: str) -> str:
    """The festival a package holiday name belongs to: "春节（补假）" → "春节", "农历除夕" → "春节";
    a bare rest day moved by 调休 ("休息日（由 … 调休）") names no festival and gives ""."""
    name = (name or "").strip()
    if not name or name.startswith("休息日"):
        return ""
    name = _SUFFIXES.sub("", name).strip()
    return ALIASES.get(name, name)


@dataclass(frozen=True)
class OfficialSchedule:
    years: frozenset[int]
    names: Mapping[dt.date, str]  # the package's own name of each named rest day
    labels: Mapping[dt.date, str]  # festival of every rest day inside a holiday period, weekends included
    makeup: Mapping[dt.date, str]  # make-up working day → festival it pays for

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years


@lru_cache(maxsize=8)
def _build(years: tuple[int, ...]) -> OfficialSchedule:
    import holidays  # imported lazily: building the object is the expensive part

    if not years:
        return OfficialSchedule(frozenset(), MappingProxyType({}), MappingProxyType({}), MappingProxyType({}))
    cn = holidays.country_holidays("CN", years=years, language="zh_CN")
    names = {d: str(n) for d, n in cn.items() if d.year in years}
    makeup_days = {d for d in cn.weekend_workdays if d.year in years}

    # Group consecutive rest days into periods and name each by the festivals it contains, so that
    # the weekend days inside Spring Festival (which the package leaves unnamed) read as 春节 too.
    labels: dict[dt.date, str] = {}
    day = dt.date(years[0], 1, 1)
    last = dt.date(years[-1], 12, 31)
    run: list[dt.date] = []

    def close(run_days: list[dt.date]) -> None:
        found: list[str] = []
        moved = False
        for d in run_days:
            label = festival_label(names.get(d, ""))
            if label and label not in found:
                found.append(label)
            moved = moved or names.get(d, "").startswith("休息日")
        if found or moved:
            text = "、".join(found) or "调休休息"
            for d in run_days:
                labels[d] = text

    while day <= last:
        if day.year in years:
            resting = day in names or (day.weekday() >= 5 and day not in makeup_days)
        else:
            resting = False
        if resting:
            run.append(day)
        elif run:
            close(run)
            run = []
        day += dt.timedelta(days=1)
    if run:
        close(run)

    makeup: dict[dt.date, str] = {d: "" for d in makeup_days}
    for rest_day, name in names.items():
        match = _MAKEUP_REF.search(name)
        if match:
            ref = dt.date.fromisoformat(match.group(1))
            if ref in makeup:
                makeup[ref] = labels.get(rest_day, "")
    return OfficialSchedule(
        years=frozenset(years),
        names=MappingProxyType(names),
        labels=MappingProxyType(labels),
        makeup=MappingProxyType(makeup),
    )


def official_schedule() -> OfficialSchedule:
    return _build(package_years())
