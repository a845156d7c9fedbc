"""Violations (B16, B17), honours (B24), replacement flags and the city's assessment of districts (B20)."""
import datetime as dt

import pytest

from rpms.assessments import selectors, services
from rpms.assessments.models import DistrictAssessment, Honour, HonourStatus, ReplacementFlag
from rpms.cities.selectors import policy_article
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.documents.models import IssuedDocument
from rpms.notifications.models import Notification
from rpms.registry.models import DossierEvent, DossierEventKind

from .conftest import appoint, bare_appointment, inputs_in, make_planner, score_all, units_of


def _graded(case, clock, grade, *, value=90):
    appointment = appoint(case, clock)
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=case["lead"], appointment=appointment)
    inputs_in(case, assessment)
    score_all(case, assessment, value=value)
    return services.assessment_grade(actor=case["lead"], assessment=assessment, grade=grade)


# --- violations -----------------------------------------------------------------------------------------


def test_a_violation_is_reported_to_the_city_and_the_employer_and_enters_the_assessment(
        bj_case, clock, district_haidian, city_admin):
    appointment = appoint(bj_case, clock)
    planner = bj_case["planner"]
    clock.set(appointment.start + dt.timedelta(days=30))
    violation = services.violation_record(
        actor=district_haidian, planner=planner, kind="confidentiality", description="在公众号发布未公开的规划方案",
        occurred_on=appointment.start + dt.timedelta(days=3), appointment=appointment,
    )
    # B17: the city work team is informed at once; the dossier records it with the city's article
    assert violation.reported_city_at is not None and violation.district_id == appointment.unit.district_id
    assert Notification.objects.filter(recipient=city_admin, event="violation_reported").count() == 1
    event = DossierEvent.objects.get(planner=planner, kind=DossierEventKind.VIOLATION)
    assert event.article == policy_article(bj_case["city"], "violation") == "B17"
    [row] = ActionLog.objects.filter(action="assessments.violation_record")
    assert row.article == "B17" and row.after["reported_to"] == ["市级责任规划师工作专班"]
    # … and the employer, recorded with to whom, when and how
    services.violation_report_employer(actor=district_haidian, violation=violation, method="书面函告")
    violation.refresh_from_db()
    assert violation.reported_employer_name == planner.employer and violation.reported_employer_at is not None
    assert violation.reported_employer_method == "书面函告"
    with pytest.raises(Conflict):
        services.violation_report_employer(actor=district_haidian, violation=violation, method="再次函告")
    # B17: it counts in the assessment of the period
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=bj_case["lead"], appointment=appointment)
    inputs_in(bj_case, assessment)
    score_all(bj_case, assessment, value=55)
    services.assessment_grade(actor=bj_case["lead"], assessment=assessment, grade="unqualified")
    assessment.refresh_from_db()
    assert assessment.inputs["violations"]["count"] == 1
    assert assessment.inputs["violations"]["items"][0]["kind"] == "confidentiality"
    document = IssuedDocument.objects.get(kind="assessment_result", subject_id=str(assessment.pk))
    assert any(item["label"] == "违规记录" and "1 项" in item["value"] for item in document.context["items"])


def test_a_violation_outside_the_period_does_not_count(bj_case, clock, district_haidian):
    appointment = appoint(bj_case, clock)
    services.violation_record(actor=district_haidian, planner=bj_case["planner"], kind="misleading",
                              description="以前的事", occurred_on=appointment.start - dt.timedelta(days=30))
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=bj_case["lead"], appointment=appointment)
    from rpms.assessments.inputs import assessment_inputs

    assert assessment_inputs(assessment)["violations"]["count"] == 0


def test_another_district_cannot_record_or_see_a_violation(bj_case, clock, district_haidian, district_chaoyang):
    appointment = appoint(bj_case, clock)
    with pytest.raises(DomainError) as refused:
        services.violation_record(actor=district_chaoyang, planner=bj_case["planner"], kind="misleading",
                                  description="不在本区", occurred_on=clock.today)
    assert refused.value.code == "planner_not_in_district"
    violation = services.violation_record(actor=district_haidian, planner=bj_case["planner"], kind="misleading",
                                          description="夸大数据", occurred_on=clock.today, appointment=appointment)
    with pytest.raises(NotFound):
        selectors.violation_get(user=district_chaoyang, pk=violation.pk)
    with pytest.raises(NotFound):
        services.violation_report_employer(actor=district_chaoyang, violation=violation, method="函告")
    assert list(selectors.violation_list(user=district_chaoyang)) == []


def test_a_violation_needs_one_of_b16s_kinds_and_a_past_date(bj_case, clock, district_haidian):
    appoint(bj_case, clock)
    with pytest.raises(DomainError) as kind:
        services.violation_record(actor=district_haidian, planner=bj_case["planner"], kind="rudeness",
                                  description="x", occurred_on=clock.today)
    assert kind.value.code == "invalid_kind"
    with pytest.raises(DomainError) as future:
        services.violation_record(actor=district_haidian, planner=bj_case["planner"], kind="misleading",
                                  description="x", occurred_on=clock.today + dt.timedelta(days=1))
    assert future.value.code == "date_in_future"
    assert not DossierEvent.objects.filter(kind=DossierEventKind.VIOLATION).exists()


# --- replacement flags -----------------------------------------------------------------------------------


def test_the_city_sees_the_flagged_unit_and_resolves_it(bj_case, clock, city_admin):
    # Beijing (B20): an unqualified grade flags the unit while the posting goes on (the entity decides).
    # In Pingdingshan the grade removes the planner, which ends the posting: its unit then waits on the
    # appointments' replacement list instead (rpms/appointments/tests/test_removal.py), not flagged twice.
    from rpms.core.pending import PendingItem  # noqa: F401  (the provider returns these)

    assessment = _graded(bj_case, clock, "unqualified", value=40)
    flag = ReplacementFlag.objects.get(assessment=assessment)
    assert list(selectors.open_replacement_flags(city=bj_case["city"])) == [flag]
    assert selectors.replacement_flag_for_unit(bj_case["unit"]) == flag
    titles = [item.title for item in selectors.pending_items(city_admin)]
    assert "考核不合格待调整补位的责任单元" in titles
    with pytest.raises(DomainError):
        services.replacement_flag_resolve(actor=city_admin, flag=flag, note="")
    services.replacement_flag_resolve(actor=city_admin, flag=flag, note="已统筹选派补位")
    flag.refresh_from_db()
    assert flag.status == "resolved" and selectors.replacement_flag_for_unit(bj_case["unit"]) is None
    [row] = ActionLog.objects.filter(action="assessments.replacement_flag_resolve")
    assert row.article == policy_article(bj_case["city"], "replacement")


def test_an_unqualified_grade_in_pingdingshan_leaves_the_unit_on_the_replacement_list_not_flagged_twice(
        pds_case, clock, pds_admin):
    from rpms.appointments.selectors import pending_items as appointment_pending, removed_posting_list

    assessment = _graded(pds_case, clock, "unqualified", value=40)
    assert not ReplacementFlag.objects.exists()
    assert [a.pk for a in removed_posting_list(user=pds_admin, pending_only=True)] == [assessment.appointment_id]
    assert "考核不合格待调整补位的责任单元" not in [item.title for item in selectors.pending_items(pds_admin)]
    assert "调出资源库后待调整补位的责任单元" in [item.title for item in appointment_pending(pds_admin)]
    assessment.refresh_from_db()
    [flagged] = [c for c in assessment.consequences if c["code"] == "unit_flagged"]
    assert flagged["value"] == "posting_ended" and "待调整补位" in flagged["label"]


# --- honours (B24) ---------------------------------------------------------------------------------------


def test_honours_flow_from_the_district_to_the_city_to_the_public(bj_case, clock, district_haidian, city_admin,
                                                                 anon):
    assessment = _graded(bj_case, clock, "excellent", value=95)
    assert selectors.nominable_assessments(user=district_haidian, year=assessment.year) == [assessment]
    honour = services.honour_nominate(actor=district_haidian, assessment=assessment, reason="组织街区更新议事会 12 场")
    assert honour.status == HonourStatus.NOMINATED
    assert Notification.objects.filter(recipient=city_admin, event="honour_nominated").exists()
    assert list(selectors.public_honours(city=bj_case["city"])) == []
    # the district cannot select; the city cannot publish before deciding
    with pytest.raises(Forbidden):
        services.honour_decide(actor=district_haidian, honour=honour, selected=True)
    with pytest.raises(Conflict) as early:
        services.honour_list_publish(actor=city_admin, city=bj_case["city"], year=assessment.year)
    assert early.value.code == "nominations_undecided"
    services.honour_decide(actor=city_admin, honour=honour, selected=True)
    assert list(selectors.public_honours(city=bj_case["city"])) == []  # decided is not published
    [published] = services.honour_list_publish(actor=city_admin, city=bj_case["city"], year=assessment.year)
    published.refresh_from_db()
    assert published.published_at is not None and published.certificate.kind == "honour_certificate"
    assert DossierEvent.objects.filter(planner=bj_case["planner"], kind=DossierEventKind.HONOURED,
                                       article="B24").count() == 1
    [row] = ActionLog.objects.filter(action="assessments.honour_list_publish")
    assert row.article == policy_article(bj_case["city"], "honour") and row.after["honours"] == [honour.pk]
    assert list(selectors.public_honours(city=bj_case["city"], year=assessment.year)) == [published]
    # the public page and the public API show it
    page = anon.get("/assessments/honours/", {"city": "beijing", "year": assessment.year})
    assert page.status_code == 200 and bj_case["planner"].name in page.content.decode()
    api = anon.get("/api/v1/honours", {"city": "beijing", "year": assessment.year})
    assert api.status_code == 200
    [item] = api.json()
    assert item["planner"]["name"] == bj_case["planner"].name and "reason" not in item
    assert ActionLog.objects.filter(action__startswith="assessments.honour_").count() == 3


def test_only_honour_eligible_grades_can_be_nominated(bj_case, clock, district_haidian):
    assessment = _graded(bj_case, clock, "qualified")
    assert selectors.nominable_assessments(user=district_haidian, year=assessment.year) == []
    with pytest.raises(Conflict) as refused:
        services.honour_nominate(actor=district_haidian, assessment=assessment, reason="表现良好")
    assert refused.value.code == "grade_not_eligible"
    assert not Honour.objects.exists()


def test_another_district_cannot_nominate(bj_case, clock, district_chaoyang):
    assessment = _graded(bj_case, clock, "excellent")
    with pytest.raises(NotFound):
        services.honour_nominate(actor=district_chaoyang, assessment=assessment, reason="冒名推选")


def test_a_nomination_not_selected_is_never_published(bj_case, clock, district_haidian, city_admin):
    assessment = _graded(bj_case, clock, "excellent")
    honour = services.honour_nominate(actor=district_haidian, assessment=assessment, reason="事迹")
    with pytest.raises(DomainError) as needs_note:
        services.honour_decide(actor=city_admin, honour=honour, selected=False)
    assert needs_note.value.code == "note_required"
    services.honour_decide(actor=city_admin, honour=honour, selected=False, note="名额有限")
    with pytest.raises(Conflict) as nothing:
        services.honour_list_publish(actor=city_admin, city=bj_case["city"], year=assessment.year)
    assert nothing.value.code == "nothing_to_publish"
    assert not selectors.public_honours().exists()


# --- the city's assessment of districts (B20) -------------------------------------------------------------


def test_the_city_scores_a_district_from_the_systems_data(beijing, haidian, city_admin, district_haidian):
    from django.utils import timezone

    from rpms.geography.models import ResponsibilityUnit

    year = 2025
    units = units_of(haidian, 3)
    total_units = ResponsibilityUnit.objects.filter(district=haidian, dissolved_at__isnull=True).count()
    start = dt.date(year, 1, 10)
    on_time = timezone.make_aware(dt.datetime(year, 1, 20, 9, 0))
    late = timezone.make_aware(dt.datetime(year, 3, 20, 9, 0))
    bare_appointment(planner=make_planner(beijing), unit=units[0], start=start, filed_at=on_time)
    bare_appointment(planner=make_planner(beijing), unit=units[1], start=start, filed_at=late)
    bare_appointment(planner=make_planner(beijing), unit=units[2], start=start)  # never filed
    figures = selectors.district_metrics(district=haidian, year=year, today=dt.date(2026, 6, 1))
    metrics = {m["code"]: m for m in figures["metrics"]}
    # on 31 December 2025 the three appointments are in force
    assert (metrics["coverage"]["numerator"], metrics["coverage"]["denominator"]) == (3, total_units)
    assert (metrics["filing"]["numerator"], metrics["filing"]["denominator"]) == (1, 3)
    assert metrics["assessments"]["denominator"] == 0  # their service years end in 2026
    assert metrics["suggestions"]["denominator"] == 0 and metrics["suggestions"]["ratio"] is None
    ratios = [m["ratio"] for m in figures["metrics"] if m["ratio"] is not None]
    from decimal import ROUND_HALF_UP, Decimal

    expected = (Decimal(str(sum(ratios) / len(ratios))) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert figures["computed_score"] == str(expected)

    with pytest.raises(Forbidden):
        services.district_assessment_record(actor=district_haidian, district=haidian, year=year, comment="自评")
    record = services.district_assessment_record(actor=city_admin, district=haidian, year=year, comment="覆盖尚不完整")
    assert record.score == record.computed_score == expected
    assert record.metrics["metrics"][0]["code"] == "coverage"
    again = services.district_assessment_record(actor=city_admin, district=haidian, year=year, comment="复核", score=88)
    assert again.pk == record.pk and DistrictAssessment.objects.count() == 1 and str(again.score) == "88.0"
    rows = ActionLog.objects.filter(action="assessments.district_assessment_record").order_by("id")
    assert [r.article for r in rows] == ["B20", "B20"] and rows[1].before["comment"] == "覆盖尚不完整"
    overview = selectors.district_assessment_overview(user=district_haidian, city=beijing, year=year)
    assert [r["district"] for r in overview] == [haidian] and overview[0]["assessment"] == again


def test_assessments_completed_counts_the_service_years_that_ended(beijing, haidian, wanshou, clock):
    from rpms.assessments.models import Assessment

    planner = make_planner(beijing)
    appointment = bare_appointment(planner=planner, unit=wanshou, start=dt.date(2024, 3, 1))
    other = bare_appointment(planner=make_planner(beijing), unit=units_of(haidian, 1, offset=5)[0],
                             start=dt.date(2024, 5, 1))
    Assessment.objects.create(
        city=beijing, appointment=appointment, planner=planner, unit=wanshou, district=haidian, year=2025,
        period_start=dt.date(2024, 3, 1), period_end=dt.date(2025, 2, 28), assessing_body="district",
        opened_at=appointment.created_at, status="graded", grade="qualified", grade_label="合格",
        graded_at=appointment.created_at,
    )
    figures = selectors.district_metrics(district=haidian, year=2025, today=dt.date(2026, 6, 1))
    metric = next(m for m in figures["metrics"] if m["code"] == "assessments")
    assert (metric["numerator"], metric["denominator"]) == (1, 2) and other.end.year == 2025


def test_fees_paid_on_time_come_from_finance(beijing, haidian, wanshou):
    from rpms.finance.models import FeeInstallment

    appointment = bare_appointment(planner=make_planner(beijing), unit=wanshou, start=dt.date(2025, 1, 1),
                                   fee_yuan=30000)

    def installment(seq, pay_by, settled_on=None):
        return FeeInstallment.objects.create(
            city=beijing, appointment=appointment, district=haidian, term_no=1, seq=seq, due_on=pay_by, amount_yuan=10000,
            pay_by=pay_by, status="paid" if settled_on else "unpaid", paid_yuan=10000 if settled_on else 0,
            settled_on=settled_on,
        )

    installment(1, dt.date(2025, 3, 31), settled_on=dt.date(2025, 3, 20))   # on time
    installment(2, dt.date(2025, 6, 30), settled_on=dt.date(2025, 7, 15))   # late
    installment(3, dt.date(2025, 9, 30))                                    # overdue
    figures = selectors.district_metrics(district=haidian, year=2025, today=dt.date(2026, 1, 10))
    fees = next(m for m in figures["metrics"] if m["code"] == "fees")
    assert (fees["numerator"], fees["denominator"]) == (1, 3)


def test_suggestions_answered_on_time_count_replies_by_their_due_date(beijing, haidian, wanshou):
    from .conftest import suggestion

    appointment = bare_appointment(planner=make_planner(beijing), unit=wanshou, start=dt.date(2025, 1, 1))
    suggestion(appointment, received_on=dt.date(2025, 3, 2), due_on=dt.date(2025, 3, 16), replied_on=dt.date(2025, 3, 16))
    suggestion(appointment, received_on=dt.date(2025, 4, 2), due_on=dt.date(2025, 4, 16), replied_on=dt.date(2025, 4, 17))
    suggestion(appointment, received_on=dt.date(2025, 5, 2), due_on=dt.date(2025, 5, 16))                # overdue
    suggestion(appointment, received_on=dt.date(2025, 12, 28), due_on=dt.date(2026, 1, 12))              # not yet due
    figures = selectors.district_metrics(district=haidian, year=2025, today=dt.date(2026, 1, 5))
    metric = next(m for m in figures["metrics"] if m["code"] == "suggestions")
    assert (metric["numerator"], metric["denominator"]) == (1, 3)
