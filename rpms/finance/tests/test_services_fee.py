"""Service fees (B21): the schedule adds up to the contract fee; payments by party A; the overdue list."""
import datetime as dt

import pytest

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.finance import selectors, services
from rpms.finance.models import FeeInstallment, FeePayment, InstallmentStatus

from .conftest import make_planner

D = dt.date
START = D(2026, 9, 1)
SCHEDULE = [
    {"due_on": "2026-09-30", "amount_yuan": 40000, "note": "签约后首付"},
    {"due_on": "2027-02-26", "amount_yuan": 40000},
    {"due_on": "2027-08-31", "amount_yuan": 40000, "note": "考核合格后支付"},
]


@pytest.fixture
def bj_appointment(clock, district_haidian, beijing, wanshou, appoint):
    clock.set(START)
    return appoint(district_haidian, make_planner(beijing, "林清源"), wanshou, START, fee_yuan=120000)


def test_the_hiring_entity_sets_a_schedule_adding_up_to_the_contract_fee(bj_appointment, street_office):
    rows = services.fee_schedule_set(actor=street_office, appointment=bj_appointment, installments=SCHEDULE)
    assert [(r.seq, r.due_on, r.amount_yuan, r.pay_by) for r in rows] == [
        (1, D(2026, 9, 30), 40000, D(2026, 9, 30)),
        (2, D(2027, 2, 26), 40000, D(2027, 2, 26)),
        (3, D(2027, 8, 31), 40000, D(2027, 8, 31)),
    ]
    assert all(r.term_no == 1 and r.status == InstallmentStatus.UNPAID for r in rows)
    log = ActionLog.objects.get(action="finance.fee_schedule_set")
    assert log.article == "B21" and log.city_code == "beijing"
    assert log.after["fee_yuan"] == 120000 and len(log.after["installments"]) == 3


def test_a_schedule_not_adding_up_to_the_fee_is_refused_and_nothing_is_written(bj_appointment, street_office):
    with pytest.raises(DomainError) as exc:
        services.fee_schedule_set(actor=street_office, appointment=bj_appointment,
                                  installments=[{"due_on": "2026-09-30", "amount_yuan": 40000},
                                                {"due_on": "2027-02-26", "amount_yuan": 70000}])
    assert exc.value.code == "fee_schedule_sum_mismatch"
    assert "110000" in exc.value.message and "120000" in exc.value.message
    assert exc.value.details == {"fee_yuan": 120000, "sum_yuan": 110000}
    assert not FeeInstallment.objects.exists()
    assert not ActionLog.objects.filter(action="finance.fee_schedule_set").exists()


def test_the_district_may_set_the_schedule_too_and_replace_it_before_any_payment(bj_appointment, district_haidian):
    services.fee_schedule_set(actor=district_haidian, appointment=bj_appointment, installments=SCHEDULE)
    rows = services.fee_schedule_set(actor=district_haidian, appointment=bj_appointment,
                                     installments=[{"due_on": "2027-08-31", "amount_yuan": 120000}])
    assert FeeInstallment.objects.count() == 1 and rows[0].amount_yuan == 120000
    log = ActionLog.objects.filter(action="finance.fee_schedule_set").first()
    assert len(log.before["installments"]) == 3


def test_an_appointment_without_a_fee_has_no_schedule(clock, district_haidian, street_office, beijing, wanshou, appoint):
    clock.set(START)
    appointment = appoint(district_haidian, make_planner(beijing), wanshou, START)
    with pytest.raises(DomainError) as exc:
        services.fee_schedule_set(actor=street_office, appointment=appointment, installments=SCHEDULE)
    assert exc.value.code == "no_contract_fee"


def test_others_cannot_set_the_schedule(bj_appointment, district_chaoyang, auditor, city_admin):
    with pytest.raises(NotFound):
        services.fee_schedule_set(actor=district_chaoyang, appointment=bj_appointment, installments=SCHEDULE)
    with pytest.raises(Forbidden):
        services.fee_schedule_set(actor=auditor, appointment=bj_appointment, installments=SCHEDULE)
    with pytest.raises(Forbidden):
        services.fee_schedule_set(actor=bj_appointment.planner.user, appointment=bj_appointment, installments=SCHEDULE)
    services.fee_schedule_set(actor=city_admin, appointment=bj_appointment, installments=SCHEDULE)
    assert FeeInstallment.objects.count() == 3


def test_a_grace_period_runs_in_working_days_over_the_national_day_holiday(clock, bj_appointment, street_office):
    rows = services.fee_schedule_set(actor=street_office, appointment=bj_appointment, installments=SCHEDULE,
                                     grace_working_days=3)
    first = rows[0]
    # Due Wednesday 30 September 2026; 1–7 October is the National Day holiday; Thursday 8, Friday 9 and
    # the make-up working Saturday 10 October are the three working days of grace.
    assert first.pay_by == D(2026, 10, 10)
    assert any("国庆" in line for line in first.pay_by_explanation)
    clock.set(D(2026, 10, 10))
    assert not selectors.fees_overdue(user=street_office).exists()
    assert first.state() == InstallmentStatus.UNPAID
    clock.set(D(2026, 10, 11))
    assert [i.pk for i in selectors.fees_overdue(user=street_office)] == [first.pk]
    assert first.state() == "overdue"


def test_the_overdue_list_is_supervised_by_the_district_and_scoped(clock, bj_appointment, street_office, district_haidian,
                                                                  district_chaoyang, city_admin):
    services.fee_schedule_set(actor=street_office, appointment=bj_appointment, installments=SCHEDULE)
    clock.set(D(2026, 10, 1))
    assert [i.seq for i in selectors.fees_overdue(user=district_haidian)] == [1]
    assert [i.seq for i in selectors.fees_overdue(user=city_admin)] == [1]
    assert not selectors.fees_overdue(user=district_chaoyang).exists()
    totals = selectors.fee_totals(selectors.fees_overdue(user=district_haidian))
    assert (totals["overdue_count"], totals["overdue_yuan"]) == (1, 40000)
    clock.set(D(2027, 3, 1))
    assert [i.seq for i in selectors.fees_overdue(user=district_haidian)] == [1, 2]


def test_payments_settle_an_installment_and_are_audited(clock, bj_appointment, street_office):
    from rpms.notifications.models import Notification

    [first, *_] = services.fee_schedule_set(actor=street_office, appointment=bj_appointment, installments=SCHEDULE)
    clock.set(D(2026, 10, 9))
    services.fee_payment_record(actor=street_office, installment=first, paid_on="2026-09-28", amount_yuan=15000,
                                voucher_no="HD-001")
    first.refresh_from_db()
    assert (first.status, first.paid_yuan, first.settled_on) == (InstallmentStatus.PARTIAL, 15000, None)
    with pytest.raises(DomainError) as exc:
        services.fee_payment_record(actor=street_office, installment=first, paid_on="2026-10-08", amount_yuan=30000,
                                    voucher_no="HD-002")
    assert exc.value.code == "payment_exceeds_remaining"
    services.fee_payment_record(actor=street_office, installment=first, paid_on="2026-10-08", amount_yuan=25000,
                                voucher_no="HD-002")
    first.refresh_from_db()
    assert (first.status, first.paid_yuan, first.settled_on) == (InstallmentStatus.PAID, 40000, D(2026, 10, 8))
    assert first.paid_on_time is False  # settled after its last day of payment (30 September)
    assert FeePayment.objects.count() == 2
    logs = ActionLog.objects.filter(action="finance.fee_payment_record")
    assert logs.count() == 2 and {log.article for log in logs} == {"B21"}
    assert Notification.objects.filter(recipient=bj_appointment.planner.user, event="finance.fee_paid").count() == 2
    with pytest.raises(Conflict):
        services.fee_payment_record(actor=street_office, installment=first, paid_on="2026-10-08", amount_yuan=1,
                                    voucher_no="HD-003")


def test_only_party_a_records_payments(clock, bj_appointment, street_office, district_haidian, city_admin):
    [first, *_] = services.fee_schedule_set(actor=street_office, appointment=bj_appointment, installments=SCHEDULE)
    clock.set(D(2026, 9, 30))
    with pytest.raises(Forbidden):
        services.fee_payment_record(actor=district_haidian, installment=first, paid_on="2026-09-30", amount_yuan=40000,
                                    voucher_no="X")
    with pytest.raises(Forbidden):
        services.fee_payment_record(actor=city_admin, installment=first, paid_on="2026-09-30", amount_yuan=40000,
                                    voucher_no="X")
    assert not FeePayment.objects.exists()


def test_in_a_city_where_the_bureau_signs_the_city_administrator_pays(clock, pds_admin, pingdingshan, pds_units, appoint):
    clock.set(START)
    appointment = appoint(pds_admin, make_planner(pingdingshan), pds_units[0], START, fee_yuan=60000)
    [row] = services.fee_schedule_set(actor=pds_admin, appointment=appointment,
                                      installments=[{"due_on": "2027-08-31", "amount_yuan": 60000}])
    services.fee_payment_record(actor=pds_admin, installment=row, paid_on="2026-09-01", amount_yuan=60000, voucher_no="P1")
    row.refresh_from_db()
    assert row.status == InstallmentStatus.PAID and row.paid_on_time is True
    assert ActionLog.objects.get(action="finance.fee_payment_record").article == "P6(3)"


def test_a_schedule_with_payments_can_no_longer_be_replaced(clock, bj_appointment, street_office):
    [first, *_] = services.fee_schedule_set(actor=street_office, appointment=bj_appointment, installments=SCHEDULE)
    services.fee_payment_record(actor=street_office, installment=first, paid_on="2026-09-01", amount_yuan=100,
                                voucher_no="V")
    with pytest.raises(Conflict) as exc:
        services.fee_schedule_set(actor=street_office, appointment=bj_appointment,
                                  installments=[{"due_on": "2027-08-31", "amount_yuan": 120000}])
    assert exc.value.code == "fee_schedule_has_payments"
    assert FeeInstallment.objects.count() == 3


@pytest.mark.parametrize("installments, code", [
    ([], "fee_schedule_empty"),
    ([{"due_on": "2020-01-01", "amount_yuan": 120000}], "installment_date_out_of_range"),
    ([{"due_on": "2027-01-01", "amount_yuan": 0}, {"due_on": "2027-02-01", "amount_yuan": 120000}], "invalid_amount"),
    ([{"due_on": "明年", "amount_yuan": 120000}], "invalid_date"),
])
def test_bad_schedules_are_refused_in_chinese(bj_appointment, street_office, installments, code):
    with pytest.raises(DomainError) as exc:
        services.fee_schedule_set(actor=street_office, appointment=bj_appointment, installments=installments)
    assert exc.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)
    assert not FeeInstallment.objects.exists()


def test_fee_lists_keep_a_constant_query_count(clock, district_haidian, street_office, beijing, haidian, appoint,
                                               django_assert_max_num_queries):
    from .conftest import units_of

    clock.set(START)
    for unit in units_of(haidian, 5):
        appointment = appoint(district_haidian, make_planner(beijing), unit, START, fee_yuan=120000)
        services.fee_schedule_set(actor=district_haidian, appointment=appointment, installments=SCHEDULE)
    clock.set(D(2027, 3, 1))
    with django_assert_max_num_queries(5):
        queryset = selectors.fee_installment_list(user=district_haidian)
        rows = [(i.appointment.planner.name, i.appointment.unit.name, i.district.name, i.city.code, i.state_label())
                for i in queryset]
        selectors.fee_totals(queryset)
        selectors.fee_by_district(queryset)
    assert len(rows) == 15


def test_year_summary_counts_on_time_and_overdue_per_district(clock, bj_appointment, street_office):
    rows = services.fee_schedule_set(actor=street_office, appointment=bj_appointment, installments=SCHEDULE)
    clock.set(D(2026, 9, 29))
    services.fee_payment_record(actor=street_office, installment=rows[0], paid_on="2026-09-29", amount_yuan=40000,
                                voucher_no="V1")
    summary = selectors.fee_year_summary(city=bj_appointment.city, year=2027, on=D(2027, 3, 1))
    district = summary["by_district"][bj_appointment.unit.district_id]
    assert (district["count"], district["overdue_count"], district["overdue_yuan"]) == (2, 1, 40000)
    summary_2026 = selectors.fee_year_summary(city=bj_appointment.city, year=2026, on=D(2027, 3, 1))
    d26 = summary_2026["by_district"][bj_appointment.unit.district_id]
    assert (d26["settled_count"], d26["on_time_count"], d26["paid_in_year_yuan"]) == (1, 1, 40000)
