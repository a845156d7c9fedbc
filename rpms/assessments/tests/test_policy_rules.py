"""Rules read from the city's policy instead of constants (issue #14 item 6): the filing deadline of the
district assessment (contract_filing_days) and the honour title (honour_title)."""
import datetime as dt

import pytest
from django.utils import timezone

from rpms.assessments import selectors, services

from .conftest import bare_appointment, make_planner, units_of
from .test_services_violations_honours import _graded

pytestmark = pytest.mark.django_db


def _filing(district, year):
    figures = selectors.district_metrics(district=district, year=year, today=dt.date(year + 1, 6, 1))
    filing = {m["code"]: m for m in figures["metrics"]}["filing"]
    return (filing["numerator"], filing["denominator"]), filing["label"]


def test_the_citys_filing_days_set_the_filing_deadline(beijing, haidian):
    year = 2025
    units = units_of(haidian, 2)
    start = dt.date(year, 1, 10)
    bare_appointment(planner=make_planner(beijing), unit=units[0], start=start,
                     filed_at=timezone.make_aware(dt.datetime(year, 1, 20, 9, 0)))  # 10 days after the start
    bare_appointment(planner=make_planner(beijing), unit=units[1], start=start,
                     filed_at=timezone.make_aware(dt.datetime(year, 2, 1, 9, 0)))  # 22 days after the start
    assert _filing(haidian, year) == ((2, 2), "聘用合同按时备案率（聘期开始后 30 日内）")  # today's default

    beijing.policy.contract_filing_days = 15
    beijing.policy.save(update_fields=["contract_filing_days"])
    haidian.refresh_from_db()
    assert _filing(haidian, year) == ((1, 2), "聘用合同按时备案率（聘期开始后 15 日内）")


def test_a_nomination_carries_the_citys_honour_title(bj_case, clock, district_haidian):
    policy = bj_case["city"].policy
    assert policy.honour_title == "优秀责任规划师"
    policy.honour_title = "市级优秀责任规划师"
    policy.save(update_fields=["honour_title"])
    assessment = _graded(bj_case, clock, "excellent")
    honour = services.honour_nominate(actor=district_haidian, assessment=assessment, reason="事迹")
    assert honour.title == "市级优秀责任规划师"
