"""Summaries computed by the database (one query each), the calendar, scoping and constant list query counts."""
import datetime as dt
from decimal import Decimal

import pytest

from rpms.cities.selectors import policy_for
from rpms.core.errors import NotFound
from rpms.duties import selectors, services

from .conftest import upload

pytestmark = pytest.mark.django_db


def _month_start(today):
    return today.replace(day=1)


def _records(record_factory, planner, unit, count, *, categories, start):
    made = []
    for i in range(count):
        day = start + dt.timedelta(days=i % 20)
        day = min(day, dt.date.today())
        made.append(record_factory(planner, unit, category=categories[i % len(categories)], hours="1.5", date=day))
    return made


@pytest.fixture
def last_month(today):
    first = _month_start(today)
    return (first - dt.timedelta(days=1)).replace(day=1)


def test_a_planners_monthly_summary_is_one_query_with_hours_by_category(
    bj_planner, bj_unit, record_factory, street_office, beijing, last_month, django_assert_num_queries
):
    codes = [c["code"] for c in beijing.policy.duty_categories]
    records = _records(record_factory, bj_planner, bj_unit, 12, categories=codes[:3], start=last_month)
    services.duty_record_confirm(actor=street_office, record=records[0])
    with django_assert_num_queries(1):
        summary = selectors.hours_summary(user=bj_planner.user, year=last_month.year, month=last_month.month, city=beijing)
    by_code = {row["code"]: row for row in summary["rows"]}
    assert [row["code"] for row in summary["rows"]] == codes  # all six B11 categories, zeros included
    assert by_code["research"]["hours"] == Decimal("6.0") and by_code["research"]["records"] == 4
    assert by_code["research"]["confirmed_hours"] == Decimal("1.5")
    assert by_code["co_governance"]["hours"] == Decimal(0)
    assert summary["total_hours"] == Decimal("18.0") and summary["records"] == 12


def test_the_yearly_summary_covers_every_month_of_the_year(bj_planner, bj_unit, record_factory, beijing, today):
    record_factory(bj_planner, bj_unit, hours="2", date=today.replace(month=1, day=5) if today.month > 1 else today)
    record_factory(bj_planner, bj_unit, hours="3", date=today)
    yearly = selectors.hours_summary(user=bj_planner.user, year=today.year, city=beijing)
    assert yearly["total_hours"] == Decimal("5.0") and yearly["month"] is None


def test_the_query_count_of_a_summary_does_not_grow_with_records(
    bj_planner, bj_unit, record_factory, beijing, last_month, django_assert_num_queries
):
    _records(record_factory, bj_planner, bj_unit, 3, categories=["research"], start=last_month)
    with django_assert_num_queries(1):
        selectors.hours_summary(user=bj_planner.user, year=last_month.year, month=last_month.month, city=beijing)
    _records(record_factory, bj_planner, bj_unit, 15, categories=["research", "public_liaison"], start=last_month)
    with django_assert_num_queries(1):
        selectors.hours_summary(user=bj_planner.user, year=last_month.year, month=last_month.month, city=beijing)


def test_the_district_sees_its_units_summaries_in_one_query_and_not_other_districts(
    bj_planner, bj_unit, bj_other, bj_other_unit, record_factory, beijing, district_haidian, district_chaoyang,
    pds_planner, pds_unit, last_month, django_assert_num_queries
):
    _records(record_factory, bj_planner, bj_unit, 4, categories=["research"], start=last_month)
    _records(record_factory, bj_other, bj_other_unit, 2, categories=["public_liaison"], start=last_month)
    _records(record_factory, pds_planner, pds_unit, 2, categories=["consulting"], start=last_month)
    with django_assert_num_queries(1):
        summary = selectors.unit_hours_summary(user=district_haidian, year=last_month.year, month=last_month.month,
                                               city=beijing)
    rows = {row["unit"]: row for row in summary["rows"]}
    assert set(rows) == {bj_unit.name, bj_other_unit.name}
    assert rows[bj_unit.name]["total_hours"] == Decimal("6.0")
    assert rows[bj_unit.name]["by_category"][0] == Decimal("6.0")  # research is B11(1), the first column
    assert rows[bj_other_unit.name]["by_category"][1] == Decimal("3.0")
    with django_assert_num_queries(1):
        total = selectors.hours_summary(user=district_haidian, year=last_month.year, month=last_month.month, city=beijing)
    assert total["total_hours"] == Decimal("9.0")
    assert selectors.unit_hours_summary(user=district_chaoyang, year=last_month.year, month=last_month.month,
                                        city=beijing)["rows"] == []


def test_pingdingshan_summary_lists_its_four_p3_categories(pds_planner, pds_unit, record_factory, pingdingshan, today):
    record_factory(pds_planner, pds_unit, category="experience_summary", hours="2", date=today)
    summary = selectors.hours_summary(user=pds_planner.user, year=today.year, month=today.month, city=pingdingshan)
    assert [row["label"] for row in summary["rows"]] == ["专业咨询服务", "技术审查指导", "推动公众参与", "总结经验成果"]
    assert summary["rows"][3]["hours"] == Decimal("2.0")


def test_the_calendar_places_records_on_their_days(bj_planner, bj_unit, record_factory, today):
    record_factory(bj_planner, bj_unit, hours="2", date=today)
    record_factory(bj_planner, bj_unit, hours="1", date=today, category="public_liaison")
    grid = selectors.duty_calendar(user=bj_planner.user, year=today.year, month=today.month)
    days = {d["date"]: d for week in grid["weeks"] for d in week}
    assert all(len(week) == 7 for week in grid["weeks"])
    assert grid["weeks"][0][0]["date"].weekday() == 0
    assert days[today]["hours"] == Decimal("3.0") and len(days[today]["records"]) == 2
    assert grid["total_hours"] == Decimal("3.0")


def test_record_lists_are_scoped_by_role(bj_planner, bj_unit, bj_other, bj_other_unit, record_factory, street_office,
                                         other_entity, district_haidian, district_chaoyang, city_admin, pds_admin,
                                         pds_planner, pds_unit, auditor):
    mine = record_factory(bj_planner, bj_unit)
    theirs = record_factory(bj_other, bj_other_unit)
    pds = record_factory(pds_planner, pds_unit, category="consulting")

    def ids(user):
        return {r.pk for r in selectors.duty_record_list(user=user)}

    assert ids(bj_planner.user) == {mine.pk}
    assert ids(street_office) == {mine.pk}
    assert ids(other_entity) == {theirs.pk}
    assert ids(district_haidian) == {mine.pk, theirs.pk}
    assert ids(district_chaoyang) == set()
    assert ids(city_admin) == {mine.pk, theirs.pk}
    assert ids(pds_admin) == {pds.pk}
    assert ids(auditor) == {mine.pk, theirs.pk, pds.pk}
    with pytest.raises(NotFound):
        selectors.duty_record_get(user=bj_other.user, pk=mine.pk)
    with pytest.raises(NotFound):
        selectors.duty_record_get(user=district_chaoyang, pk=mine.pk)


def test_record_list_query_count_is_constant(bj_planner, bj_unit, record_factory, district_haidian, today,
                                             django_assert_max_num_queries):
    for i in range(3):
        record_factory(bj_planner, bj_unit, date=today - dt.timedelta(days=i), evidence=[upload()])
    policy_for(bj_unit.city_id)  # the policy profile is read once per city into the cache, not joined per list (#15)
    with django_assert_max_num_queries(1):
        few = [(r.unit.district.name, r.planner.name, r.category_label(r.city.policy), r.evidence_count)
               for r in selectors.duty_record_list(user=district_haidian)]
    for i in range(3, 15):
        record_factory(bj_planner, bj_unit, date=today - dt.timedelta(days=i), hours="1")
    with django_assert_max_num_queries(1):
        many = [(r.unit.district.name, r.planner.name, r.category_label(r.city.policy), r.evidence_count)
                for r in selectors.duty_record_list(user=district_haidian)]
    assert len(few) == 3 and len(many) == 15


def test_other_list_query_counts_are_constant(bj_planner, bj_unit, street_office, record_factory, today,
                                              django_assert_max_num_queries):
    for i in range(4):
        request = services.data_request_create(actor=bj_planner.user, unit=bj_unit, addressee="entity", title=f"资料{i}",
                                               content="现状资料")
        services.data_request_deliver(actor=street_office, request=request, materials=[upload()])
        services.monitoring_feedback_file(actor=bj_planner.user, unit=bj_unit, source="other", title=f"问题{i}",
                                          description="描述")
        services.extra_work_create(actor=street_office, appointment=bj_planner.appointments.get(), kind="design",
                                   title=f"方案{i}", scope="范围", fee_yuan="1000", party_a="街道",
                                   contract_number=f"N-{i}", contract_date=today)
        record = services.duty_record_confirm(actor=street_office,
                                              record=record_factory(bj_planner, bj_unit, date=today - dt.timedelta(days=i)))
        assert record.is_locked
        services.work_certificate_issue(actor=street_office, planner=bj_planner, start=today - dt.timedelta(days=i),
                                        end=today - dt.timedelta(days=i))
    user = street_office
    with django_assert_max_num_queries(1):
        rows = [(r.unit.name, r.planner.name, r.addressee_name, r.material_count) for r in selectors.data_request_list(user=user)]
    assert len(rows) == 4
    with django_assert_max_num_queries(1):
        rows = [(f.unit.name, f.planner.name, f.addressee_name, f.district.name) for f in
                selectors.monitoring_feedback_list(user=user)]
    assert len(rows) == 4
    with django_assert_max_num_queries(1):
        rows = [(w.unit.name, w.planner.name, w.get_kind_display()) for w in selectors.extra_work_list(user=user)]
    assert len(rows) == 4
    with django_assert_max_num_queries(2):
        rows = [(c.planner.name, c.document.number, [u.name for u in c.units.all()])
                for c in selectors.work_certificate_list(user=user)]
    assert len(rows) == 4
