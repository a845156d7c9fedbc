"""Allowances (P6(3)): generated per service cycle from the dates, idempotently; due, overdue, paid."""
import datetime as dt

import pytest
from django.core.management import call_command

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.finance import selectors, services
from rpms.finance.models import Allowance, AllowanceStatus
from rpms.testing.pdfs import TINY_PDF

from .conftest import make_planner

D = dt.date
START = D(2026, 3, 1)


@pytest.fixture
def pds_appointment(clock, pds_admin, pingdingshan, pds_units, appoint):
    clock.set(START)
    planner = make_planner(pingdingshan, "韩若溪")
    return appoint(pds_admin, planner, pds_units[0], START)


def test_a_full_cycle_earns_the_full_allowance_due_on_the_cycles_last_day(clock, pds_admin, pingdingshan, pds_appointment):
    clock.set(D(2027, 2, 27))
    assert services.allowances_generate(actor=pds_admin, city=pingdingshan) == []
    clock.set(D(2027, 2, 28))
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    row.refresh_from_db()
    assert row.appointment == pds_appointment
    assert (row.cycle_no, row.cycle_start, row.served_until, row.days_served, row.days_in_cycle) == (
        1, START, D(2027, 2, 28), 365, 365)
    assert not row.partial and row.persons == 1 and row.rate_yuan == 5000
    assert row.amount_yuan == 5000
    assert row.due_on == D(2027, 2, 28)
    assert row.district == pds_appointment.unit.district
    assert row.state(D(2027, 2, 28)) == AllowanceStatus.DUE


def _evidence():
    """B25: an entity's termination takes effect with evidence of the planner's breach."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("证据.pdf", TINY_PDF, content_type="application/pdf")


def test_a_partial_cycle_after_termination_is_paid_pro_rata_to_the_exact_yuan(clock, pds_admin, pingdingshan, pds_appointment,
                                                                              settings, tmp_path):
    from rpms.appointments.services import termination_request

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"

    clock.set(D(2026, 7, 15))
    termination_request(actor=pds_admin, appointment=pds_appointment, initiator="entity", facts="未按合同履行工作任务",
                        breach="work_tasks", effective_date=D(2026, 7, 15), evidence=[_evidence()])
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    # 2026-03-01 … 2026-07-15 = 137 days of a 365-day cycle: 5000 × 137 ÷ 365 = 1876.71 → 1877
    assert row.partial and row.partial_rule == "pro_rata_days"
    assert (row.days_served, row.days_in_cycle) == (137, 365)
    assert row.amount_yuan == 1877
    assert row.due_on == D(2026, 7, 15)
    assert "137 ÷ 365" in row.basis


def test_the_policy_can_pay_a_partial_cycle_in_full_or_not_at_all(clock, pds_admin, pingdingshan, pds_units, appoint,
                                                                   settings, tmp_path):
    from rpms.appointments.services import termination_request
    from rpms.cities.models import PolicyProfile

    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"

    clock.set(START)
    first = appoint(pds_admin, make_planner(pingdingshan), pds_units[0], START)
    second = appoint(pds_admin, make_planner(pingdingshan), pds_units[1], START)
    clock.set(D(2026, 7, 15))
    for appointment in (first, second):
        termination_request(actor=pds_admin, appointment=appointment, initiator="entity", facts="违约", breach="work_tasks",
                            effective_date=D(2026, 7, 15), evidence=[_evidence()])
    PolicyProfile.objects.filter(city=pingdingshan).update(allowance_partial_cycle="none")
    pingdingshan.policy.refresh_from_db()
    assert services.allowances_generate(actor=pds_admin, city=pingdingshan) == []
    PolicyProfile.objects.filter(city=pingdingshan).update(allowance_partial_cycle="full")
    rows = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert sorted(r.amount_yuan for r in rows) == [5000, 5000]
    assert {r.partial_rule for r in rows} == {"full"}


def test_generation_is_idempotent_and_audited_once(clock, pds_admin, pingdingshan, pds_appointment):
    clock.set(D(2027, 3, 10))
    before = ActionLog.objects.filter(action="finance.allowances_generate").count()
    first = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    second = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert len(first) == 1 and second == []
    assert Allowance.objects.count() == 1
    logs = ActionLog.objects.filter(action="finance.allowances_generate")
    assert logs.count() == before + 1
    log = logs.first()
    assert log.article == "P6(3)" and log.city_code == "pingdingshan"
    assert log.after["created"] == 1 and log.after["total_yuan"] == 5000


def test_the_management_command_generates_for_a_date_and_twice_creates_nothing(clock, pingdingshan, pds_appointment, capsys):
    clock.set(D(2027, 6, 1))
    call_command("allowances_generate", "--city", "pingdingshan", "--date", "2027-02-27")
    assert Allowance.objects.count() == 0
    call_command("allowances_generate", "--city", "pingdingshan", "--date", "2027-02-28")
    call_command("allowances_generate", "--city", "pingdingshan", "--date", "2027-02-28")
    out = capsys.readouterr().out
    assert "新生成 1 条" in out and "新生成 0 条" in out
    row = Allowance.objects.get()
    assert row.amount_yuan == 5000
    log = ActionLog.objects.get(action="finance.allowances_generate")
    assert log.actor is None and log.actor_repr == "系统"


def test_a_date_in_the_future_is_refused(clock, pds_admin, pingdingshan, pds_appointment):
    clock.set(D(2026, 6, 1))
    with pytest.raises(DomainError) as exc:
        services.allowances_generate(actor=pds_admin, city=pingdingshan, on=D(2027, 3, 1))
    assert exc.value.code == "date_in_future"
    assert Allowance.objects.count() == 0


def test_a_city_without_an_allowance_in_its_policy_gets_none(clock, city_admin, beijing, haidian, appoint):
    from .conftest import units_of

    clock.set(START)
    appoint(city_admin, make_planner(beijing), units_of(haidian, 1)[0], START)
    clock.set(D(2027, 6, 1))
    assert beijing.policy.allowance_yuan_per_person_year is None
    assert services.allowances_generate(actor=city_admin, city=beijing) == []
    assert not Allowance.objects.exists()
    assert not ActionLog.objects.filter(action="finance.allowances_generate").exists()


def test_only_the_citys_finance_officer_generates(clock, pingdingshan, pds_officer, city_admin, pds_appointment):
    clock.set(D(2027, 3, 1))
    with pytest.raises(Forbidden):
        services.allowances_generate(actor=pds_officer, city=pingdingshan)
    with pytest.raises(NotFound):
        services.allowances_generate(actor=city_admin, city=pingdingshan)  # another city's administrator
    assert not Allowance.objects.exists()


def test_an_unpaid_allowance_becomes_overdue_the_day_after_its_due_date(clock, pds_admin, pingdingshan, pds_appointment):
    clock.set(D(2027, 2, 28))
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert row.state(D(2027, 2, 28)) == "due"
    assert row.state(D(2027, 3, 1)) == "overdue"
    overdue = selectors.allowance_list(user=pds_admin, filters=selectors.AllowanceFilters(status="overdue"), on=D(2027, 3, 1))
    assert [a.pk for a in overdue] == [row.pk]
    assert not selectors.allowance_list(user=pds_admin, filters=selectors.AllowanceFilters(status="overdue"),
                                        on=D(2027, 2, 28)).exists()
    totals = selectors.allowance_totals(Allowance.objects.all(), D(2027, 3, 1))
    assert (totals["overdue_count"], totals["overdue_yuan"], totals["due_count"]) == (1, 5000, 0)


def test_paying_records_date_and_voucher_audits_and_notifies_the_planner(clock, pds_admin, pingdingshan, pds_appointment):
    from rpms.notifications.models import Notification

    clock.set(D(2027, 3, 5))
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    services.allowance_pay(actor=pds_admin, allowance=row, paid_on="2027-03-04", voucher_no="PDS-2027-0042")
    row.refresh_from_db()
    assert row.status == AllowanceStatus.PAID and row.state() == "paid"
    assert (row.paid_on, row.voucher_no, row.paid_by) == (D(2027, 3, 4), "PDS-2027-0042", pds_admin)
    log = ActionLog.objects.get(action="finance.allowance_pay")
    assert log.article == "P6(3)" and log.object_id == str(row.pk)
    assert log.before["status"] == "due" and log.after["status"] == "paid" and log.after["voucher_no"] == "PDS-2027-0042"
    note = Notification.objects.get(recipient=pds_appointment.planner.user, event="finance.allowance_paid")
    assert "5000" in note.title and "PDS-2027-0042" in note.body


def test_paying_twice_is_refused_and_changes_nothing(clock, pds_admin, pingdingshan, pds_appointment):
    clock.set(D(2027, 3, 5))
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    services.allowance_pay(actor=pds_admin, allowance=row, paid_on="2027-03-04", voucher_no="V1")
    with pytest.raises(Conflict) as exc:
        services.allowance_pay(actor=pds_admin, allowance=row, paid_on="2027-03-05", voucher_no="V2")
    assert exc.value.code == "allowance_already_paid"
    row.refresh_from_db()
    assert row.voucher_no == "V1"
    assert ActionLog.objects.filter(action="finance.allowance_pay").count() == 1


@pytest.mark.parametrize("paid_on, voucher, code", [
    ("2027-03-06", "V1", "paid_on_in_future"),
    ("2026-02-01", "V1", "paid_on_too_early"),
    ("2027/03/01", "V1", "invalid_date"),
    ("2027-03-04", "  ", "voucher_required"),
])
def test_a_bad_payment_is_refused_in_chinese(clock, pds_admin, pingdingshan, pds_appointment, paid_on, voucher, code):
    clock.set(D(2027, 3, 5))
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    with pytest.raises(DomainError) as exc:
        services.allowance_pay(actor=pds_admin, allowance=row, paid_on=paid_on, voucher_no=voucher)
    assert exc.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)
    row.refresh_from_db()
    assert row.status == AllowanceStatus.DUE


def test_only_the_city_administrator_pays(clock, pds_admin, pds_officer, pds_auditor, city_admin, pingdingshan, pds_appointment):
    clock.set(D(2027, 3, 5))
    [row] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    with pytest.raises(Forbidden):
        services.allowance_pay(actor=pds_officer, allowance=row, paid_on="2027-03-04", voucher_no="V")
    with pytest.raises(Forbidden):
        services.allowance_pay(actor=pds_auditor, allowance=row, paid_on="2027-03-04", voucher_no="V")
    with pytest.raises(NotFound):
        services.allowance_pay(actor=city_admin, allowance=row, paid_on="2027-03-04", voucher_no="V")
    with pytest.raises(Forbidden):
        services.allowance_pay(actor=pds_appointment.planner.user, allowance=row, paid_on="2027-03-04", voucher_no="V")
    with pytest.raises(NotFound):
        services.allowance_pay(actor=make_planner(pingdingshan, "另一位规划师").user, allowance=row,
                               paid_on="2027-03-04", voucher_no="V")
    row.refresh_from_db()
    assert row.status == AllowanceStatus.DUE


def test_lists_are_scoped_per_district_and_planner(clock, pds_admin, pingdingshan, pds_units, pds_officer,
                                                   pds_other_officer, pds_other_district, appoint):
    from .conftest import units_of

    clock.set(START)
    mine = appoint(pds_admin, make_planner(pingdingshan), pds_units[0], START)
    other_unit = units_of(pds_other_district, 1)[0]
    theirs = appoint(pds_admin, make_planner(pingdingshan), other_unit, START)
    clock.set(D(2027, 3, 1))
    services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert selectors.allowance_list(user=pds_admin).count() == 2
    assert [a.appointment_id for a in selectors.allowance_list(user=pds_officer)] == [mine.pk]
    assert [a.appointment_id for a in selectors.allowance_list(user=pds_other_officer)] == [theirs.pk]
    assert [a.appointment_id for a in selectors.allowance_list(user=mine.planner.user)] == [mine.pk]
    their_row = Allowance.objects.get(appointment=theirs)
    with pytest.raises(NotFound):
        selectors.allowance_get(user=pds_officer, pk=their_row.pk)
    with pytest.raises(NotFound):
        selectors.allowance_get(user=mine.planner.user, pk=their_row.pk)
    by_district = {d["district_id"]: d for d in selectors.allowance_by_district(selectors.allowance_list(user=pds_admin))}
    assert {k: v["total_yuan"] for k, v in by_district.items()} == {mine.unit.district_id: 5000, theirs.unit.district_id: 5000}


def test_generation_query_count_does_not_grow_with_appointments(clock, pds_admin, pingdingshan, pds_units, appoint,
                                                                django_assert_max_num_queries):
    clock.set(START)
    for unit in pds_units[:2]:
        appoint(pds_admin, make_planner(pingdingshan), unit, START)
    clock.set(D(2027, 3, 1))
    with django_assert_max_num_queries(12) as small:
        services.allowances_generate(actor=pds_admin, city=pingdingshan)
    Allowance.objects.all().delete()
    clock.set(START)
    for unit in pds_units[2:8]:
        appoint(pds_admin, make_planner(pingdingshan), unit, START)
    clock.set(D(2027, 3, 1))
    with django_assert_max_num_queries(len(small.captured_queries)):
        rows = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert len(rows) == 8


def test_list_totals_and_summaries_keep_a_constant_query_count(clock, pds_admin, pingdingshan, pds_units, appoint,
                                                               django_assert_max_num_queries):
    clock.set(START)
    for unit in pds_units[:6]:
        appoint(pds_admin, make_planner(pingdingshan), unit, START)
    clock.set(D(2027, 3, 1))
    services.allowances_generate(actor=pds_admin, city=pingdingshan)
    with django_assert_max_num_queries(5):  # the rows, the appointments each covers, three aggregates
        queryset = selectors.allowance_list(user=pds_admin)
        rows = [(a.planner.name, a.district.name, a.unit.name, a.city.code) for a in queryset]
        selectors.allowance_totals(queryset)
        selectors.allowance_by_district(queryset)
        selectors.allowance_by_planner(queryset)
    assert len(rows) == 6


def test_year_summary_counts_due_and_paid_by_district(clock, pds_admin, pingdingshan, pds_units, appoint):
    clock.set(START)
    a1 = appoint(pds_admin, make_planner(pingdingshan), pds_units[0], START)
    appoint(pds_admin, make_planner(pingdingshan), pds_units[1], START)
    clock.set(D(2027, 3, 10))
    rows = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    services.allowance_pay(actor=pds_admin, allowance=next(r for r in rows if r.appointment_id == a1.pk),
                           paid_on="2027-03-09", voucher_no="V9")
    summary = selectors.allowance_year_summary(city=pingdingshan, year=2027, on=D(2027, 3, 10))
    district = summary["by_district"][pds_units[0].district_id]
    assert (district["count"], district["total_yuan"], district["paid_yuan"], district["overdue_yuan"]) == (2, 10000, 5000, 5000)
    assert summary["total"]["paid_in_year_yuan"] == 5000


def test_a_renewal_starts_new_cycles_and_each_earns_its_allowance(clock, pds_admin, pingdingshan, pds_appointment):
    from rpms.appointments.services import appointment_renew
    from rpms.assessments import services as assessments

    clock.set(D(2027, 2, 10))
    # P6(4): the term's review is graded before renewal (renewal_requires_review)
    review = assessments.assessment_open(actor=pds_admin, appointment=pds_appointment)
    assessments.assessment_score(actor=pds_admin, assessment=review,
                                 scores={c["code"]: 85 for c in pingdingshan.policy.assessment_criteria})
    # issue #12: the 述职 and the 属地反馈 are in (2027-02-10 is inside the review window)
    from rpms.testing.builders import review_inputs_build

    review_inputs_build(assessment=review)
    assessments.assessment_grade(actor=pds_admin, assessment=review, grade="qualified")
    appointment_renew(actor=pds_admin, appointment=pds_appointment, years=1)
    clock.set(D(2028, 2, 28))
    rows = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert [(r.cycle_no, r.cycle_start, r.served_until, r.amount_yuan) for r in rows] == [
        (1, D(2026, 3, 1), D(2027, 2, 28), 5000)]
    clock.set(D(2028, 2, 29))
    [second] = services.allowances_generate(actor=pds_admin, city=pingdingshan)
    assert (second.cycle_no, second.cycle_start, second.served_until, second.days_in_cycle, second.amount_yuan) == (
        2, D(2027, 3, 1), D(2028, 2, 29), 366, 5000)
    assert Allowance.objects.filter(appointment=pds_appointment).count() == 2
