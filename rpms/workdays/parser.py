"""Reads the State Council's holiday notice (国务院办公厅关于20XX年部分节假日安排的通知) as pasted by an
administrator, e.g.

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。
    2月14日（周六）、2月28日（周六）上班。

and, as a fallback, one ISO date or ISO range per line:

    2027-02-05 至 2027-02-13 放假 春节
    2027-02-14 上班 春节

Pure functions: no database. Every refusal is a DomainError with a Chinese message naming the place.
The weekday written after a date ("（周六）") is checked against the calendar, which catches the most
likely mistake: the notice of one year pasted under another.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from rpms.core.errors import DomainError

WEEKDAYS = "一二三四五六日"
_WEEKDAY_INDEX = {c: i for i, c in enumerate(WEEKDAYS)} | {"天": 6}
_FULLWIDTH = str.maketrans("０１２３４５６７８９：～－", "0123456789:~-")

_ITEM = re.compile(r"(?:^|(?<=[\n。；]))[ \t\u3000]*([一二三四五六七八九十]{1,3})[、．.]")
_DATE = re.compile(
    r"(?:(?P<y>\d{4})\s*年\s*)?(?:(?P<m>\d{1,2})\s*月\s*)?(?P<d>\d{1,2})\s*日"
    r"(?:\s*[（(](?P<note>[^）)]*)[）)])?"
)
_PAREN = re.compile(r"[（(][^）)]*[）)]")
_RANGE_JOIN = re.compile(r"至|到|~|—|－|-")
_COUNT = re.compile(r"(?:共|放假)\s*(\d{1,3})\s*天")
_NOTE_WEEKDAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
_TITLE_YEAR = re.compile(r"(?:关于|现将)\s*(\d{4})\s*年")
_ISO = r"\d{4}-\d{1,2}-\d{1,2}"
_ISO_LINE = re.compile(rf"^\s*({_ISO})(?:\s*(?:至|到|~|—|--)\s*({_ISO}))?\s*(.*)$")
_KEYWORDS = re.compile(r"放假|休假|休息|调休|上班")
_NAME_STRIP = " \t\u3000,，。:：;；、-—()（）[]【】"

MAX_PERIOD_DAYS = 31


@dataclass
class ParsedItem:
    name: str
    holidays: list[dt.date] = field(default_factory=list)
    workdays: list[dt.date] = field(default_factory=list)

    @property
    def holiday_ranges(self) -> list[tuple[dt.date, dt.date, int]]:
        """Consecutive holidays as (first, last, number of days), for showing the preview compactly."""
        ranges: list[list[dt.date]] = []
        for day in sorted(self.holidays):
            if ranges and (day - ranges[-1][-1]).days == 1:
                ranges[-1].append(day)
            else:
                ranges.append([day])
        return [(r[0], r[-1], len(r)) for r in ranges]


@dataclass
class ParsedNotice:
    year: int
    format: str  # "notice" | "lines"
    items: list[ParsedItem]
    warnings: list[str] = field(default_factory=list)

    @property
    def holidays(self) -> list[tuple[dt.date, str]]:
        return sorted((d, item.name) for item in self.items for d in item.holidays)

    @property
    def workdays(self) -> list[tuple[dt.date, str]]:
        return sorted((d, item.name) for item in self.items for d in item.workdays)


def weekday_name(day: dt.date) -> str:
    return "周" + WEEKDAYS[day.weekday()]


def _fail(message: str, code: str = "notice_unparseable") -> DomainError:
    return DomainError(message, code=code)


def parse_notice(text: str, *, year: int) -> ParsedNotice:
    """Holidays and make-up working days of `year` from the notice text (or the ISO-line fallback)."""
    text = (text or "").translate(_FULLWIDTH).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _fail("请粘贴国务院办公厅节假日安排通知的正文。", "notice_empty")
    if any(re.match(rf"\s*{_ISO}", line) for line in text.split("\n")):
        parsed = _parse_lines(text, year)
    else:
        parsed = _parse_notice_text(text, year)
    _validate(parsed)
    return parsed


# --- the notice as published ---------------------------------------------------------------------------------


def _parse_notice_text(text: str, year: int) -> ParsedNotice:
    title = _TITLE_YEAR.search(text)
    if title and int(title.group(1)) != year:
        raise _fail(
            f"通知标题写的是 {title.group(1)} 年，与所填年度 {year} 年不一致，请核对。", "notice_year_mismatch"
        )
    markers = list(_ITEM.finditer(text))
    if not markers:
        raise _fail(
            "未能识别通知中的条目。请粘贴“一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。”这样的原文，"
            "或每行一个日期（如“2027-10-01 至 2027-10-07 放假 国庆节”）。"
        )
    items = []
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        body = text[marker.end() : end]
        name, sep, rest = body.partition(":")
        if not sep:
            name, rest = "", body
        name = _PAREN.sub("", name).strip(_NAME_STRIP) or "节假日"
        item = ParsedItem(name=name)
        for sentence in re.split(r"[。；;\n]", rest):
            _parse_sentence(sentence, item, year, label=f"“{marker.group(1)}、{name}”")
        if item.holidays or item.workdays:
            items.append(item)
    return ParsedNotice(year=year, format="notice", items=items)


def _parse_sentence(sentence: str, item: ParsedItem, year: int, *, label: str) -> None:
    if "鼓励" in sentence:
        return  # "鼓励……安排职工在除夕（2月9日）休息" encourages leave; it declares no holiday
    # A date inside parentheses is a remark ("除夕（2月9日）"), not part of the schedule.
    remarks = [m.span() for m in _PAREN.finditer(sentence)]
    matches = [m for m in _DATE.finditer(sentence) if not any(a <= m.start() < b for a, b in remarks)]
    if not matches:
        return
    dates: list[dt.date] = []
    inherited_year: list[bool] = []
    context_year, context_month = year, None
    for match in matches:
        y = int(match.group("y")) if match.group("y") else None
        m = int(match.group("m")) if match.group("m") else None
        d = int(match.group("d"))
        if y is not None:
            context_year = y
        if m is None and context_month is None:
            raise _fail(f"{label}中的“{match.group(0)}”没有写月份，无法确定日期。")
        month = m if m is not None else context_month
        try:
            day = dt.date(context_year, month, d)
        except ValueError:
            raise _fail(f"{label}中的日期 {context_year}年{month}月{d}日 不存在，请核对。", "notice_bad_date") from None
        note = match.group("note") or ""
        weekday = _NOTE_WEEKDAY.search(note)
        if weekday and _WEEKDAY_INDEX[weekday.group(1)] != day.weekday():
            raise _fail(
                f"{label}中 {month}月{d}日 标注为周{weekday.group(1)}，但 {day:%Y-%m-%d} 是{weekday_name(day)}。"
                "请核对所填年度与通知是否一致。",
                "notice_weekday_mismatch",
            )
        context_month = month
        dates.append(day)
        inherited_year.append(y is None)

    # Each date is part of a segment ending in a keyword: "…至23日放假调休，共9天" / "2月14日、2月28日上班".
    holidays: list[dt.date] = []
    pending: list[dt.date] = []
    i = 0
    plain = _PAREN.sub("", sentence)
    while i < len(matches):
        between = sentence[matches[i].end() : matches[i + 1].start()] if i + 1 < len(matches) else ""
        if i + 1 < len(matches) and _RANGE_JOIN.search(_PAREN.sub("", between)) and not _KEYWORDS.search(between):
            first, last = dates[i], dates[i + 1]
            if last < first and inherited_year[i + 1]:
                last = last.replace(year=last.year + 1)
            if last < first:
                raise _fail(f"{label}中的放假区间 {first:%Y-%m-%d} 至 {last:%Y-%m-%d} 结束早于开始。")
            if (last - first).days + 1 > MAX_PERIOD_DAYS:
                raise _fail(f"{label}中的放假区间超过 {MAX_PERIOD_DAYS} 天，请核对。")
            span = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
            i += 2
        else:
            span = [dates[i]]
            i += 1
        pending.extend(span)
        tail = sentence[matches[i - 1].end() : matches[i].start()] if i < len(matches) else sentence[matches[i - 1].end() :]
        tail = _PAREN.sub("", tail)
        if "上班" in tail:
            item.workdays.extend(pending)
            pending = []
        elif re.search(r"放假|休假|休息", tail):
            holidays.extend(pending)
            pending = []
    if pending:
        if "上班" in plain:
            item.workdays.extend(pending)
        elif re.search(r"放假|休假|休息", plain):
            holidays.extend(pending)
        else:
            return  # a date with no 放假/上班 (e.g. the notice's own date under the signature)
    count = _COUNT.search(plain)
    if count and holidays and int(count.group(1)) != len(holidays):
        raise _fail(
            f"{label}写明共 {count.group(1)} 天，但识别出的放假日期为 {len(holidays)} 天"
            f"（{holidays[0]:%Y-%m-%d} 至 {holidays[-1]:%Y-%m-%d}），请核对。",
            "notice_count_mismatch",
        )
    item.holidays.extend(holidays)


# --- fallback: one ISO date or range per line -----------------------------------------------------------------


def _parse_lines(text: str, year: int) -> ParsedNotice:
    items: dict[str, ParsedItem] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ISO_LINE.match(line)
        if not match:
            raise _fail(f"第 {number} 行无法识别：“{line[:40]}”。每行应为“日期 [至 日期] 放假/上班 名称”。")
        try:
            first = dt.date.fromisoformat(_pad_iso(match.group(1)))
            last = dt.date.fromisoformat(_pad_iso(match.group(2))) if match.group(2) else first
        except ValueError:
            raise _fail(f"第 {number} 行的日期不存在：“{line[:40]}”。", "notice_bad_date") from None
        rest = match.group(3)
        if "上班" in rest:
            workday = True
        elif re.search(r"放假|休假|休息", rest):
            workday = False
        else:
            raise _fail(f"第 {number} 行没有写明“放假”或“上班”：“{line[:40]}”。")
        if last < first:
            raise _fail(f"第 {number} 行的结束日期早于开始日期。")
        if (last - first).days + 1 > MAX_PERIOD_DAYS:
            raise _fail(f"第 {number} 行的区间超过 {MAX_PERIOD_DAYS} 天，请核对。")
        name = _KEYWORDS.sub("", rest).strip(_NAME_STRIP) or ("节假日" if not workday else "调休")
        item = items.setdefault(name, ParsedItem(name=name))
        span = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
        (item.workdays if workday else item.holidays).extend(span)
    return ParsedNotice(year=year, format="lines", items=list(items.values()))


def _pad_iso(value: str) -> str:
    y, m, d = value.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


# --- checks common to both formats ----------------------------------------------------------------------------


def _validate(parsed: ParsedNotice) -> None:
    year = parsed.year
    if not any(item.holidays or item.workdays for item in parsed.items):
        raise _fail("未能从文本中识别出任何放假或上班日期，请核对粘贴的内容。")
    earliest, latest = dt.date(year - 1, 12, 1), dt.date(year + 1, 1, 31)
    seen: dict[dt.date, str] = {}
    for item in parsed.items:
        for kind, days in (("放假", item.holidays), ("上班", item.workdays)):
            for day in days:
                if not earliest <= day <= latest:
                    raise _fail(
                        f"“{item.name}”中的日期 {day:%Y-%m-%d} 不在 {year} 年度内，请核对所填年度。",
                        "notice_wrong_year",
                    )
                if day in seen:
                    raise _fail(
                        f"{day:%Y-%m-%d} 重复出现（{seen[day]}；{item.name}{kind}），请核对。", "notice_duplicate_date"
                    )
                seen[day] = f"{item.name}{kind}"
        for day in item.workdays:
            if day.weekday() < 5:
                parsed.warnings.append(
                    f"{day:%Y-%m-%d}（{weekday_name(day)}）本来就是工作日，标为“上班”不改变计算结果。"
                )
