import datetime as dt

import pytest

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.workdays.models import CalendarDay, CalendarYear
from rpms.workdays.selectors import working_day_status
from rpms.workdays.services import calendar_year_delete, calendar_year_enter

from .notices import NOTICE_2027_INVENTED

pytestmark = pytest.mark.django_db
D = dt.date


def test_entering_a_year_saves_its_days_and_writes_exactly_one_audit_row(city_admin):
    calendar_year = calendar_year_enter(
        actor=city_admin, year=2027, source="测试用通知（虚构）", notice_text=NOTICE_2027_INVENTED
    )
    assert calendar_year.entered_by == city_admin
    assert calendar_year.days.filter(kind=CalendarDay.Kind.HOLIDAY).count() == 29
    assert calendar_year.days.filter(kind=CalendarDay.Kind.WORKDAY).count() == 6
    assert CalendarDay.objects.get(date=D(2027, 2, 20)).name == "春节"
    logs = list(ActionLog.objects.all())
    assert len(logs) == 1
    assert logs[0].action == "workdays.year_enter"
    assert logs[0].actor == city_admin
    assert "2027" in logs[0].summary and "放假 29 天" in logs[0].summary
    assert logs[0].before is None
    assert len(logs[0].after["days"]) == 35


def test_unparseable_text_is_refused_and_writes_nothing(city_admin):
    with pytest.raises(DomainError) as raised:
        calendar_year_enter(actor=city_admin, year=2027, source="测试", notice_text="另行通知")
    assert raised.value.code == "notice_unparseable"
    assert ActionLog.objects.count() == 0
    assert CalendarYear.objects.count() == 0


def test_a_failed_re_entry_leaves_the_earlier_entry_untouched(entered_2027, city_admin):
    with pytest.raises(DomainError):
        calendar_year_enter(actor=city_admin, year=2027, source="新通知", notice_text="2027-02-30 放假 春节")
    entered_2027.refresh_from_db()
    assert entered_2027.source == "测试用通知（虚构）"
    assert entered_2027.days.count() == 35
    assert ActionLog.objects.count() == 1


def test_re_entering_a_year_replaces_its_days(entered_2027, city_admin):
    calendar_year_enter(actor=city_admin, year=2027, source="更正通知", notice_text="2027-10-01 至 2027-10-03 放假 国庆节")
    calendar_year = CalendarYear.objects.get(year=2027)
    assert calendar_year.source == "更正通知"
    assert sorted(calendar_year.days.values_list("date", flat=True)) == [D(2027, 10, 1), D(2027, 10, 2), D(2027, 10, 3)]
    assert working_day_status(D(2027, 2, 5))[0] is True  # no longer a holiday
    log = ActionLog.objects.order_by("-id").first()
    assert log.summary.startswith("重新录入 2027 年")
    assert len(log.before["days"]) == 35 and len(log.after["days"]) == 3
    assert ActionLog.objects.count() == 2


def test_a_district_officer_cannot_enter_a_year(district_officer):
    with pytest.raises(Forbidden):
        calendar_year_enter(actor=district_officer, year=2027, source="测试", notice_text=NOTICE_2027_INVENTED)
    assert CalendarYear.objects.count() == 0
    assert ActionLog.objects.count() == 0


def test_a_date_already_entered_under_another_year_is_a_conflict(city_admin):
    calendar_year_enter(
        actor=city_admin, year=2029, source="测试",
        notice_text="一、元旦：2028年12月30日至2029年1月1日放假调休，共3天。",
    )
    with pytest.raises(Conflict) as raised:
        calendar_year_enter(actor=city_admin, year=2028, source="测试", notice_text="2028-12-30 放假 元旦")
    assert "2029 年度" in raised.value.message
    assert not CalendarYear.objects.filter(year=2028).exists()
    assert ActionLog.objects.count() == 1


def test_source_is_required(city_admin):
    with pytest.raises(DomainError) as raised:
        calendar_year_enter(actor=city_admin, year=2027, source="  ", notice_text=NOTICE_2027_INVENTED)
    assert raised.value.code == "source_required"


def test_deleting_an_entered_year_falls_back_and_is_audited(entered_2027, city_admin):
    assert working_day_status(D(2027, 2, 5))[:2] == (False, False)
    calendar_year_delete(actor=city_admin, year=2027)
    assert CalendarDay.objects.count() == 0
    assert working_day_status(D(2027, 2, 5))[:2] == (True, True)  # provisional Mon–Fri again
    log = ActionLog.objects.order_by("-id").first()
    assert log.action == "workdays.year_delete"
    assert log.after is None and len(log.before["days"]) == 35
    assert ActionLog.objects.count() == 2


def test_deleting_a_year_never_entered_is_not_found(city_admin):
    with pytest.raises(NotFound):
        calendar_year_delete(actor=city_admin, year=2031)
    assert ActionLog.objects.count() == 0


@pytest.mark.parametrize("year", [1999, 2101])
def test_a_year_outside_the_accepted_range_is_refused(city_admin, year):
    with pytest.raises(DomainError) as raised:
        calendar_year_enter(actor=city_admin, year=year, source="测试", notice_text=f"{year}-10-01 放假 国庆节")
    assert raised.value.code == "invalid_year"
    assert ActionLog.objects.count() == 0


def test_an_over_long_source_is_refused_in_chinese(city_admin):
    with pytest.raises(DomainError) as raised:
        calendar_year_enter(actor=city_admin, year=2027, source="长" * 201, notice_text="2027-10-01 放假 国庆节")
    assert raised.value.code == "invalid_calendar_year"
    assert CalendarYear.objects.count() == 0
