"""Reminders read from rpms.assessments and rpms.finance: assessments due, allowances due, service fees
overdue — each to the body that must act."""
import datetime as dt

import pytest

from rpms.assessments import reminders as assessment_reminders
from rpms.finance import reminders as finance_reminders

pytestmark = pytest.mark.django_db


def _recipients(items):
    return {user.username for item in items for user in item.users}


def test_an_assessment_due_in_beijing_reminds_the_district_work_team(
    beijing, bj_unit, city_admin, district_haidian, district_chaoyang, street_office, make_planner, appoint
):
    appointment = appoint(city_admin, make_planner(beijing), bj_unit)
    cycle_end = appointment.end  # a first term of one year is one service year
    assert assessment_reminders.assessment_due_reminders(city=beijing, today=cycle_end - dt.timedelta(days=31)) == []
    items = assessment_reminders.assessment_due_reminders(city=beijing, today=cycle_end - dt.timedelta(days=30))
    assert [i.item for i in items] == [f"appointment:{appointment.pk}:cycle1"]
    assert _recipients(items) == {district_haidian.username}  # B20: the district work team assesses
    assert items[0].deadline == cycle_end


def test_in_pingdingshan_the_city_bureau_and_the_district_are_reminded(
    pingdingshan, pds_unit, pds_admin, make_planner, make_user, appoint
):
    from rpms.accounts.models import Role

    officer = make_user(Role.DISTRICT_OFFICER, city=pingdingshan, districts=[pds_unit.district])
    appointment = appoint(pds_admin, make_planner(pingdingshan), pds_unit)
    items = assessment_reminders.assessment_due_reminders(city=pingdingshan, today=appointment.end - dt.timedelta(days=3))
    assert _recipients(items) == {pds_admin.username, officer.username}


def test_an_opened_assessment_stops_the_reminder(beijing, bj_unit, city_admin, district_haidian, make_planner, appoint):
    from rpms.assessments.services import assessment_open

    appointment = appoint(city_admin, make_planner(beijing), bj_unit)
    assessment_open(actor=district_haidian, appointment=appointment)
    assert assessment_reminders.assessment_due_reminders(city=beijing, today=appointment.end - dt.timedelta(days=3)) == []


def _allowance(appointment, *, due_on, status="due"):
    from rpms.finance.models import Allowance

    return Allowance.objects.create(
        city=appointment.city, appointment=appointment, planner=appointment.planner, district=appointment.unit.district,
        unit=appointment.unit, cycle_no=1, cycle_start=appointment.start, cycle_end=appointment.end,
        served_until=appointment.end, days_served=365, days_in_cycle=365, partial=False, persons=1, rate_yuan=5000,
        amount_yuan=5000, basis="整周期", due_on=due_on, status=status,
        **({"paid_on": due_on, "voucher_no": "PZ-1"} if status == "paid" else {}),
    )


def test_an_unpaid_allowance_reminds_the_city_finance_officers(pingdingshan, pds_unit, pds_admin, make_planner, appoint):
    appointment = appoint(pds_admin, make_planner(pingdingshan), pds_unit)
    due = _allowance(appointment, due_on=appointment.end)
    assert finance_reminders.allowance_due_reminders(city=pingdingshan, today=appointment.end - dt.timedelta(days=1)) == []
    items = finance_reminders.allowance_due_reminders(city=pingdingshan, today=appointment.end)
    assert [i.item for i in items] == [f"allowance:{due.pk}"]
    assert _recipients(items) == {pds_admin.username}
    assert "5000 元" in items[0].body


def test_a_paid_allowance_is_not_reminded(pingdingshan, pds_unit, pds_admin, make_planner, appoint):
    appointment = appoint(pds_admin, make_planner(pingdingshan), pds_unit)
    _allowance(appointment, due_on=appointment.end, status="paid")
    assert finance_reminders.allowance_due_reminders(city=pingdingshan, today=appointment.end) == []


def test_an_overdue_service_fee_reminds_the_district_and_the_hiring_entity(
    beijing, bj_unit, city_admin, district_haidian, street_office, make_planner, appoint
):
    from rpms.finance.services import fee_schedule_set

    appointment = appoint(city_admin, make_planner(beijing), bj_unit)
    type(appointment).objects.filter(pk=appointment.pk).update(fee_yuan=100000)
    appointment.refresh_from_db()
    start = appointment.start
    [first, _second] = fee_schedule_set(actor=street_office, appointment=appointment, installments=[
        {"due_on": (start + dt.timedelta(days=30)).isoformat(), "amount_yuan": 50000},
        {"due_on": appointment.end.isoformat(), "amount_yuan": 50000},
    ])
    assert finance_reminders.fee_overdue_reminders(city=beijing, today=first.pay_by) == []
    items = finance_reminders.fee_overdue_reminders(city=beijing, today=first.pay_by + dt.timedelta(days=1))
    assert [i.item for i in items] == [f"fee_installment:{first.pk}"]
    assert _recipients(items) == {district_haidian.username, street_office.username}
    assert items[0].deadline == first.pay_by


def test_the_citys_reminder_days_set_the_horizon(beijing, bj_unit, city_admin, district_haidian, make_planner, appoint):
    """issue #14: the horizon is the policy's assessment_due_reminder_days (30 by default), not a constant."""
    appointment = appoint(city_admin, make_planner(beijing), bj_unit)
    beijing.policy.assessment_due_reminder_days = 10
    beijing.policy.save(update_fields=["assessment_due_reminder_days"])
    assert assessment_reminders.assessment_due_reminders(city=beijing, today=appointment.end - dt.timedelta(days=11)) == []
    items = assessment_reminders.assessment_due_reminders(city=beijing, today=appointment.end - dt.timedelta(days=10))
    assert [i.item for i in items] == [f"appointment:{appointment.pk}:cycle1"]
