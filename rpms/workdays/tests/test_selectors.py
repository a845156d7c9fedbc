import datetime as dt

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from rpms.core.errors import DomainError
from rpms.workdays.selectors import (
    add_working_days,
    calendar_year_list,
    calendar_year_overview,
    count_working_days,
    day_statuses,
    working_day_status,
)
from rpms.workdays.services import calendar_year_enter

pytestmark = pytest.mark.django_db
D = dt.date


def test_five_working_days_from_13_february_2026_end_on_26_february():
    result = add_working_days(D(2026, 2, 13), 5)
    assert result.end == D(2026, 2, 26)
    assert result.provisional is False
    text = "\n".join(result.explanation)
    assert "2026-02-15 至 2026-02-23 春节假期（含周末），共 9 天" in text
    assert "2026-02-14（周六）为调休上班日（春节），计为第 2 个工作日" in text
    assert "2026-02-13（周五）是工作日，计为第 1 个工作日" in text
    assert [d.date for d in result.makeup_days] == [D(2026, 2, 14)]
    assert [(p.start, p.end) for p in result.skipped] == [(D(2026, 2, 15), D(2026, 2, 23))]


def test_start_on_a_holiday_counts_from_the_next_working_day():
    result = add_working_days(D(2026, 10, 1), 1)
    assert result.end == D(2026, 10, 8)
    assert "不是工作日（国庆节假期）" in result.explanation[1]
    assert any("2026-10-01 至 2026-10-07 国庆节假期（含周末），共 7 天" in line for line in result.explanation)


def test_start_on_a_make_up_saturday_counts_as_day_one():
    assert add_working_days(D(2026, 10, 10), 1).end == D(2026, 10, 10)
    assert add_working_days(D(2026, 10, 10), 2).end == D(2026, 10, 12)


def test_one_day_from_an_ordinary_working_day_is_that_day():
    assert add_working_days(D(2026, 3, 4), 1).end == D(2026, 3, 4)


def test_count_is_inclusive_of_both_ends():
    assert count_working_days(D(2026, 2, 13), D(2026, 2, 26)) == (5, False)
    assert count_working_days(D(2026, 3, 2), D(2026, 3, 2)) == (1, False)
    assert count_working_days(D(2026, 3, 7), D(2026, 3, 8)) == (0, False)  # a weekend


def test_working_day_status_names_holidays_make_up_days_and_weekends():
    assert working_day_status(D(2026, 2, 16)) == (False, False, "春节假期：农历除夕")
    assert working_day_status(D(2026, 2, 14)) == (True, False, "调休上班日（春节）")
    assert working_day_status(D(2026, 3, 7)) == (False, False, "周末")
    assert working_day_status(D(2026, 3, 9)) == (True, False, "工作日")


def test_every_day_of_2024_to_2026_agrees_with_chinesecalendar():
    compared = 0
    disagreements = []
    for status in day_statuses(D(2024, 1, 1), D(2026, 12, 31)):
        try:
            expected = chinese_calendar.is_workday(status.date)
        except NotImplementedError:  # chinesecalendar does not cover that year
            continue
        compared += 1
        if status.is_working != expected:
            disagreements.append(status.date)
    assert compared >= 366 * 2, "chinesecalendar should cover at least two of the three years"
    assert disagreements == []


def test_year_with_neither_package_nor_entry_is_monday_to_friday_and_provisional():
    assert working_day_status(D(2030, 10, 1)) == (True, True, "工作日（暂按周一至周五推定）")
    assert working_day_status(D(2030, 10, 5))[:2] == (False, True)
    result = add_working_days(D(2030, 1, 4), 2)  # Friday → Monday
    assert result.end == D(2030, 1, 7)
    assert result.provisional is True
    assert any("2030 年的节假日安排尚未公布或录入" in line for line in result.explanation)
    assert count_working_days(D(2030, 1, 1), D(2030, 1, 31)) == (23, True)


def test_a_period_running_into_an_unpublished_year_is_provisional():
    result = add_working_days(D(2026, 12, 28), 10)
    assert result.provisional is True
    assert count_working_days(D(2026, 12, 1), D(2026, 12, 31)) == (23, False)
    assert count_working_days(D(2026, 12, 1), D(2027, 1, 4))[1] is True


def test_entered_year_overrides_and_is_not_provisional(entered_2027):
    assert working_day_status(D(2027, 2, 5)) == (False, False, "春节假期")  # Friday, 除夕
    assert working_day_status(D(2027, 2, 20)) == (True, False, "调休上班日（春节）")  # Saturday
    assert working_day_status(D(2027, 3, 1)) == (True, False, "工作日")  # not listed: by weekday
    assert working_day_status(D(2027, 3, 6)) == (False, False, "周末")
    result = add_working_days(D(2027, 2, 4), 3)
    assert result.end == D(2027, 2, 16)
    assert result.provisional is False
    assert any("2027-02-05 至 2027-02-14 春节假期（含周末），共 10 天" in line for line in result.explanation)
    assert any("管理员录入" in line and "测试用通知（虚构）" in line for line in result.explanation)


def test_entered_year_overrides_the_package_for_a_package_year(city_admin):
    assert working_day_status(D(2026, 3, 2))[0] is True
    calendar_year_enter(actor=city_admin, year=2026, source="更正通知（测试）", notice_text="2026-03-02 放假 测试假日")
    assert working_day_status(D(2026, 3, 2)) == (False, False, "测试假日假期")
    # the package's holidays no longer apply to the entered year: 2026-02-16 is now an ordinary Monday
    assert working_day_status(D(2026, 2, 16)) == (True, False, "工作日")
    assert calendar_year_overview(2026).source == "entered"


def test_package_years_follow_the_setting(settings):
    settings.RPMS_WORKDAYS_PACKAGE_YEARS = [2024, 2025]
    assert working_day_status(D(2026, 2, 16)) == (True, True, "工作日（暂按周一至周五推定）")
    settings.RPMS_WORKDAYS_PACKAGE_YEARS = [2024, 2025, 2026]
    assert working_day_status(D(2026, 2, 16))[:2] == (False, False)


@pytest.mark.parametrize("days", [0, 367, -1])
def test_days_outside_1_to_366_are_refused(days):
    with pytest.raises(DomainError) as raised:
        add_working_days(D(2026, 3, 2), days)
    assert raised.value.code == "days_out_of_range"
    assert "1 到 366" in raised.value.message


def test_non_integer_days_are_refused():
    with pytest.raises(DomainError):
        add_working_days(D(2026, 3, 2), 1.5)


def test_count_with_end_before_start_is_refused():
    with pytest.raises(DomainError) as raised:
        count_working_days(D(2026, 3, 2), D(2026, 3, 1))
    assert raised.value.code == "end_before_start"


def test_a_deadline_past_the_last_representable_date_is_refused():
    with pytest.raises(DomainError) as raised:
        add_working_days(D(9999, 12, 30), 5)
    assert raised.value.code == "date_out_of_range"


def test_add_working_days_uses_a_bounded_number_of_queries(entered_2027, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        add_working_days(D(2026, 12, 1), 5)
    with django_assert_max_num_queries(2):
        result = add_working_days(D(2026, 1, 5), 366)
    assert result.end > D(2027, 5, 1)
    with django_assert_max_num_queries(2):
        count_working_days(D(2024, 1, 1), D(2030, 12, 31))


def test_year_list_is_one_query_however_many_years_were_entered(city_admin, django_assert_max_num_queries):
    for year in (2027, 2028, 2029):
        calendar_year_enter(actor=city_admin, year=year, source=f"测试{year}", notice_text=f"{year}-10-01 放假 国庆节")
    with django_assert_max_num_queries(1):
        rows = calendar_year_list(first_year=2024, last_year=2027)
    by_year = {row.year: row for row in rows}
    assert [row.year for row in rows] == [2024, 2025, 2026, 2027, 2028, 2029]
    assert by_year[2026].source == "package" and by_year[2026].holiday_count == 33
    assert by_year[2028].source == "entered" and by_year[2028].holiday_count == 1
    assert by_year[2028].entered.entered_by == city_admin


def test_year_overview_lists_periods_and_make_up_days():
    overview = calendar_year_overview(2026)
    assert overview.source == "package"
    assert [p.describe() for p in overview.periods][1] == "2026-02-15 至 2026-02-23 春节假期（含周末），共 9 天"
    assert [s.date for s in overview.workdays] == [
        D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)
    ]
    assert overview.working_day_count == count_working_days(D(2026, 1, 1), D(2026, 12, 31))[0]


@pytest.mark.django_db
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.dates(min_value=D(2023, 11, 1), max_value=D(2028, 2, 1)), days=st.integers(min_value=1, max_value=120))
def test_counting_from_start_to_the_computed_end_gives_back_n(start, days):
    result = add_working_days(start, days)
    assert working_day_status(result.end)[0] is True
    assert count_working_days(start, result.end) == (days, result.provisional)
    if days > 1:
        assert count_working_days(start, result.end - dt.timedelta(days=1))[0] == days - 1
