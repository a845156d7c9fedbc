import datetime as dt

import holidays
import pytest

from rpms.core.errors import DomainError
from rpms.workdays.parser import parse_notice

from .notices import NOTICE_2024, NOTICE_2025, NOTICE_2026, NOTICE_2027_INVENTED

D = dt.date


def _working_by_notice(parsed, day):
    holidays_ = {d for d, _ in parsed.holidays}
    workdays = {d for d, _ in parsed.workdays}
    return day in workdays or (day not in holidays_ and day.weekday() < 5)


@pytest.mark.parametrize("year, text", [(2024, NOTICE_2024), (2025, NOTICE_2025), (2026, NOTICE_2026)])
def test_parsed_notice_agrees_with_the_holidays_package_on_every_day_of_the_year(year, text):
    parsed = parse_notice(text, year=year)
    package = holidays.country_holidays("CN", years=year)
    day, disagreements = D(year, 1, 1), []
    while day.year == year:
        if _working_by_notice(parsed, day) != package.is_working_day(day):
            disagreements.append(day)
        day += dt.timedelta(days=1)
    assert disagreements == []


def test_2026_notice_gives_spring_festival_range_and_both_make_up_saturdays():
    parsed = parse_notice(NOTICE_2026, year=2026)
    spring = next(item for item in parsed.items if item.name == "春节")
    assert spring.holidays == [D(2026, 2, 15) + dt.timedelta(days=k) for k in range(9)]
    assert spring.workdays == [D(2026, 2, 14), D(2026, 2, 28)]
    assert [item.name for item in parsed.items] == ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"]
    assert parsed.format == "notice"
    # the signature date (2025年11月4日) is neither a holiday nor a working day
    assert D(2025, 11, 4) not in {d for d, _ in parsed.holidays + parsed.workdays}


def test_encouraged_leave_on_new_years_eve_is_not_a_holiday():
    parsed = parse_notice(NOTICE_2024, year=2024)
    assert D(2024, 2, 9) not in {d for d, _ in parsed.holidays}


def test_range_across_months_and_weekdays_written_as_xingqi():
    text = "六、中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月7日（星期六）、10月8日（星期日）上班。"
    parsed = parse_notice(text, year=2023)
    assert parsed.holidays[0] == (D(2023, 9, 29), "中秋节、国庆节")
    assert parsed.holidays[-1][0] == D(2023, 10, 6)
    assert len(parsed.holidays) == 8
    assert [d for d, _ in parsed.workdays] == [D(2023, 10, 7), D(2023, 10, 8)]


def test_range_with_explicit_years_across_the_new_year():
    text = "一、元旦：2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日（星期六）上班。"
    parsed = parse_notice(text, year=2019)
    assert [d for d, _ in parsed.holidays] == [D(2018, 12, 30), D(2018, 12, 31), D(2019, 1, 1)]
    assert [d for d, _ in parsed.workdays] == [D(2018, 12, 29)]


def test_single_day_holiday():
    parsed = parse_notice("五、端午节：6月19日放假。", year=2026)
    assert parsed.holidays == [(D(2026, 6, 19), "端午节")]
    assert parsed.workdays == []


def test_invented_2027_notice_is_read_with_its_make_up_days():
    parsed = parse_notice(NOTICE_2027_INVENTED, year=2027)
    assert len(parsed.holidays) == 3 + 9 + 3 + 5 + 1 + 1 + 7
    assert [d for d, _ in parsed.workdays] == [
        D(2027, 1, 31), D(2027, 2, 20), D(2027, 4, 25), D(2027, 5, 8), D(2027, 9, 26), D(2027, 10, 9)
    ]


def test_fallback_format_one_iso_date_or_range_per_line():
    text = """
    # 2027 年（测试）
    2027-02-05 至 2027-02-13 放假 春节
    2027-02-20 上班 春节调休
    2027-06-09 端午节 放假
    """
    parsed = parse_notice(text, year=2027)
    assert parsed.format == "lines"
    assert len(parsed.holidays) == 10
    assert (D(2027, 6, 9), "端午节") in parsed.holidays
    assert parsed.workdays == [(D(2027, 2, 20), "春节")]


def test_make_up_day_on_a_weekday_is_accepted_with_a_warning():
    parsed = parse_notice("2027-03-01 上班 测试", year=2027)
    assert parsed.workdays == [(D(2027, 3, 1), "测试")]
    assert any("本来就是工作日" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    "text, year, code",
    [
        ("", 2027, "notice_empty"),
        ("今年放假安排另行通知。", 2027, "notice_unparseable"),
        ("一、春节：2月30日至3月2日放假。", 2027, "notice_bad_date"),
        # the 2026 notice (weekdays of 2026) pasted under 2027, title removed
        (NOTICE_2026.split("\n", 1)[1].replace("现将2026年", "现将"), 2027, "notice_weekday_mismatch"),
        (NOTICE_2026, 2027, "notice_year_mismatch"),
        ("二、春节：2月15日至23日放假调休，共8天。", 2026, "notice_count_mismatch"),
        ("一、元旦：1月1日放假。二、春节：1月1日上班。", 2026, "notice_duplicate_date"),
        ("2026-02-30 放假 春节", 2026, "notice_bad_date"),
        ("2026-02-15 春节", 2026, "notice_unparseable"),
        ("2026-02-15 放假 春节\n春节假期共九天", 2026, "notice_unparseable"),
        ("2028-10-01 放假 国庆节", 2026, "notice_wrong_year"),
    ],
)
def test_unreadable_or_inconsistent_text_is_refused_with_a_chinese_message(text, year, code):
    with pytest.raises(DomainError) as raised:
        parse_notice(text, year=year)
    assert raised.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in raised.value.message)
