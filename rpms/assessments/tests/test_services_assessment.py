"""A full year in each city ending in each grade (B20, P6(4)), with the consequences recorded in one step."""
import datetime as dt
from decimal import Decimal

import pytest

from rpms.appointments import services as appointment_services
from rpms.appointments.selectors import awaits_replacement
from rpms.appointments.models import AppointmentTerm
from rpms.assessments import selectors, services
from rpms.assessments.models import Assessment, AssessmentStatus, ReplacementFlag
from rpms.cities.selectors import policy_article
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.dispatch.inputs import last_grade_scores
from rpms.documents.models import IssuedDocument
from rpms.notifications.models import Notification
from rpms.registry.models import DossierEvent, DossierEventKind

from .conftest import appoint, duty_record, inputs_in, make_planner, score_all, suggestion


def _year_of_service(case, clock):
    """Appoint, record part of a year's work, move to ten days before the term ends and open the assessment."""
    appointment = appoint(case, clock)
    start = appointment.start
    duty_record(appointment, day=start + dt.timedelta(days=20), hours="3.5")
    duty_record(appointment, day=start + dt.timedelta(days=40), hours="4",
                category=case["city"].policy.duty_categories[1]["code"])
    duty_record(appointment, day=start + dt.timedelta(days=60), hours="2", confirmed=False)
    suggestion(appointment, received_on=start + dt.timedelta(days=30), due_on=start + dt.timedelta(days=44),
               replied_on=start + dt.timedelta(days=35))
    suggestion(appointment, received_on=start + dt.timedelta(days=50), due_on=start + dt.timedelta(days=64),
               replied_on=start + dt.timedelta(days=70))
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=case["lead"], appointment=appointment)
    return appointment, assessment


@pytest.mark.parametrize("grade", ["excellent", "qualified", "unqualified"])
def test_a_full_year_ends_in_each_grade_with_its_consequences(case, clock, grade):
    city = case["city"]
    planner = case["planner"]
    appointment, assessment = _year_of_service(case, clock)
    assert assessment.period_start == appointment.start and assessment.period_end == appointment.end
    assert assessment.year == appointment.end.year
    services.assessment_self_report(actor=planner.user, assessment=assessment, text="本年度开展调研走访和方案审查。",
                                    self_score="92")
    inputs_in(case, assessment)  # the entity's 属地反馈 (the 述职 is in)
    score_all(case, assessment, value=70 if grade == "unqualified" else 90)

    services.assessment_grade(actor=case["lead"], assessment=assessment, grade=grade, comment="综合评议")
    assessment.refresh_from_db()
    planner.refresh_from_db()
    item = city.policy.grade(grade)
    assert assessment.status == AssessmentStatus.GRADED and assessment.grade == grade
    assert assessment.grade_label == item["label"]
    assert assessment.total_score == Decimal("70.0" if grade == "unqualified" else "90.0")
    # the inputs are frozen from the system's own rows: confirmed records only, replies on time
    inputs = assessment.inputs
    assert inputs["duties"]["records"] == 2 and inputs["duties"]["total_hours"] == "7.5"
    assert inputs["duties"]["unconfirmed_records"] == 1
    assert inputs["suggestions"] == {"received": 2, "answered": 2, "answered_on_time": 1, "overdue": 0,
                                     "on_time_rate": 0.5}
    # the dossier, the result document, the notifications (planner and hiring entity)
    assert DossierEvent.objects.filter(planner=planner, kind=DossierEventKind.ASSESSED,
                                       article=policy_article(city, "assessment")).count() == 1
    document = IssuedDocument.objects.get(kind="assessment_result", subject_id=str(assessment.pk))
    assert assessment.result_document_id == document.pk and len(document.verification_code) == 16
    assert item["label"] in str(document.context["fields"])
    notified = set(Notification.objects.filter(event="assessment_graded").values_list("recipient_id", flat=True))
    assert {planner.user_id, case["entity"].pk} <= notified
    # one audit row for the act, citing the city's article, listing the consequences
    [row] = ActionLog.objects.filter(action="assessments.assessment_grade", object_id=str(assessment.pk))
    assert row.article == policy_article(city, "assessment")
    codes = [c["code"] for c in row.after["consequences"]]
    assert codes[0] == "renewal" and row.after["consequences"][0]["value"] == item["renewal"]
    flag = ReplacementFlag.objects.filter(assessment=assessment).first()
    assert appointment_services.latest_grade(appointment) == grade

    clock.set(appointment.end - dt.timedelta(days=5))
    if grade == "unqualified" and city.code == "pingdingshan":
        # P6(4): 不予续聘，并从资源库中调出 (ground "other_unsuitable" of the policy), the unit flagged
        assert planner.pool_status == "removed" and planner.removal_ground == item["removal_ground"]
        assert DossierEvent.objects.filter(planner=planner, kind=DossierEventKind.REMOVED).count() == 1
        assert "removed_from_pool" in codes and row.after["removal"]["ground"] == "other_unsuitable"
        # P5(4): the removal ends the posting on the day of the grade; its unit waits for a replacement on
        # the appointments' list (not flagged a second time here)
        appointment.refresh_from_db()
        assert appointment.status == "removed" and appointment.end_kind == "removal"
        assert appointment.ended_on == appointment.end - dt.timedelta(days=10)
        assert flag is None and "unit_flagged" in codes and awaits_replacement(appointment)
        with pytest.raises(Conflict) as refused:
            appointment_services.appointment_renew(actor=case["signer"], appointment=appointment, years=1)
        assert refused.value.code == "appointment_over"
        assert AppointmentTerm.objects.filter(appointment=appointment).count() == 1
        assert selectors.renewal_refusal(appointment) is not None
    elif grade == "unqualified":
        # B20: Beijing leaves renewal to the hiring entity; the unit is flagged, the planner stays in the pool
        assert item["renewal"] == "entity_decides"
        assert planner.pool_status == "active" and "removed_from_pool" not in codes
        assert flag is not None and "unit_flagged" in codes
        assert selectors.renewal_refusal(appointment) is None
        appointment_services.appointment_renew(actor=case["signer"], appointment=appointment, years=1)
        assert AppointmentTerm.objects.filter(appointment=appointment).count() == 2
    else:
        assert planner.pool_status == "active" and flag is None
        assert selectors.renewal_refusal(appointment) is None
        appointment_services.appointment_renew(actor=case["signer"], appointment=appointment, years=1)
        assert AppointmentTerm.objects.filter(appointment=appointment).count() == 2


def test_a_failure_in_the_last_step_of_grading_leaves_nothing_changed(pds_case, clock, monkeypatch):
    planner = pds_case["planner"]
    appointment, assessment = _year_of_service(pds_case, clock)
    inputs_in(pds_case, assessment)
    score_all(pds_case, assessment, value=50)
    before_notifications = Notification.objects.count()
    before_documents = IssuedDocument.objects.count()

    def broken_notify(**kwargs):
        raise RuntimeError("mail queue down")

    monkeypatch.setattr(services, "notify", broken_notify)
    with pytest.raises(RuntimeError):
        services.assessment_grade(actor=pds_case["lead"], assessment=assessment, grade="unqualified")

    assessment.refresh_from_db()
    planner.refresh_from_db()
    assert assessment.status == AssessmentStatus.OPEN and assessment.grade == "" and assessment.graded_at is None
    assert assessment.inputs == {} and assessment.result_document_id is None
    assert planner.pool_status == "active" and planner.removed_at is None
    assert not ReplacementFlag.objects.exists()
    assert not ActionLog.objects.filter(action__in=["assessments.assessment_grade", "registry.planner_remove"]).exists()
    assert Notification.objects.count() == before_notifications
    assert IssuedDocument.objects.count() == before_documents
    assert not DossierEvent.objects.filter(planner=planner, kind__in=["assessed", "removed"]).exists()
    assert appointment_services.latest_grade(appointment) is None


def test_grading_before_every_criterion_is_scored_is_refused(bj_case, clock, street_office):
    _, assessment = _year_of_service(bj_case, clock)
    inputs_in(bj_case, assessment)
    services.assessment_score(actor=street_office, assessment=assessment, scores={"local_feedback": 85})
    with pytest.raises(Conflict) as refused:
        services.assessment_grade(actor=bj_case["lead"], assessment=assessment, grade="qualified")
    assert refused.value.code == "scores_incomplete" and "工作成效" in refused.value.message
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.OPEN


def test_the_weighted_total_averages_the_bodies_and_ignores_the_self_score(bj_case, clock, street_office,
                                                                           district_haidian):
    _, assessment = _year_of_service(bj_case, clock)
    codes = [c["code"] for c in bj_case["city"].policy.assessment_criteria]
    services.assessment_score(actor=street_office, assessment=assessment, scores={c: 90 for c in codes})
    services.assessment_score(actor=district_haidian, assessment=assessment,
                              scores={**{c: 70 for c in codes}, "results": {"score": 50, "comment": "成效一般"}})
    services.assessment_self_report(actor=bj_case["planner"].user, assessment=assessment, text="述职", self_score=100)
    table = services.criteria_table(Assessment.objects.get(pk=assessment.pk))
    means = {r["code"]: r["mean"] for r in table["rows"]}
    assert means["results"] == "70.0" and means["hours"] == "80.0"
    # weights 20 each: (70 + 80 × 4) / 5 = 78
    assert table["total"] == "78.0" and table["complete"]


def test_only_the_policys_assessing_body_opens_and_grades(bj_case, pds_case, clock, city_admin, district_haidian,
                                                         pds_officer):
    bj_appointment = appoint(bj_case, clock)
    with pytest.raises(Forbidden):  # B20: Beijing's district work team, not the city
        services.assessment_open(actor=city_admin, appointment=bj_appointment)
    assert services.assessment_open(actor=district_haidian, appointment=bj_appointment).assessing_body == "district"
    pds_appointment = appoint(pds_case, clock)
    with pytest.raises(Forbidden):  # P6(4): the city bureau with the local government
        services.assessment_open(actor=pds_officer, appointment=pds_appointment)
    pds_assessment = services.assessment_open(actor=pds_case["lead"], appointment=pds_appointment)
    assert pds_assessment.assessing_body == "city_with_district"
    score_all(pds_case, pds_assessment)
    with pytest.raises(Forbidden):
        services.assessment_grade(actor=pds_officer, assessment=pds_assessment, grade="qualified")


def test_opening_the_same_service_year_twice_is_refused(bj_case, clock):
    appointment, _ = _year_of_service(bj_case, clock)
    with pytest.raises(Conflict) as refused:
        services.assessment_open(actor=bj_case["lead"], appointment=appointment)
    assert refused.value.code == "assessment_exists"


def test_an_out_of_range_score_or_unknown_grade_is_refused_in_chinese(bj_case, clock, street_office):
    _, assessment = _year_of_service(bj_case, clock)
    with pytest.raises(DomainError) as bad_score:
        services.assessment_score(actor=street_office, assessment=assessment, scores={"results": 150})
    assert bad_score.value.code == "invalid_score" and "0 至 100" in bad_score.value.message
    with pytest.raises(DomainError) as unknown:
        services.assessment_score(actor=street_office, assessment=assessment, scores={"beauty": 80})
    assert unknown.value.code == "unknown_criterion"
    inputs_in(bj_case, assessment)
    score_all(bj_case, assessment)
    with pytest.raises(DomainError) as bad_grade:
        services.assessment_grade(actor=bj_case["lead"], assessment=assessment, grade="perfect")
    assert bad_grade.value.code == "unknown_grade" and "优秀" in bad_grade.value.message


def test_the_self_report_is_the_planners_own(bj_case, clock, street_office):
    _, assessment = _year_of_service(bj_case, clock)
    with pytest.raises(Forbidden):
        services.assessment_self_report(actor=street_office, assessment=assessment, text="代写")
    other = make_planner(bj_case["city"])
    with pytest.raises(NotFound):
        services.assessment_self_report(actor=other.user, assessment=assessment, text="冒名")


def test_a_graded_assessment_cannot_be_scored_again(bj_case, clock, street_office):
    _, assessment = _year_of_service(bj_case, clock)
    inputs_in(bj_case, assessment)
    score_all(bj_case, assessment)
    services.assessment_grade(actor=bj_case["lead"], assessment=assessment, grade="qualified")
    with pytest.raises(Conflict) as refused:
        services.assessment_score(actor=street_office, assessment=assessment, scores={"results": 10})
    assert refused.value.code == "assessment_graded"


def test_the_entity_may_make_the_result_a_condition_of_renewal_in_beijing(bj_case, clock, street_office):
    appointment, assessment = _year_of_service(bj_case, clock)
    services.assessment_renewal_condition_set(actor=street_office, assessment=assessment, conditional=True)
    inputs_in(bj_case, assessment)
    score_all(bj_case, assessment, value=40)
    services.assessment_grade(actor=bj_case["lead"], assessment=assessment, grade="unqualified")
    assessment.refresh_from_db()
    assert assessment.consequences[0]["entity_condition"] is True
    reason = selectors.renewal_refusal(appointment)
    assert reason is not None and "续聘条件" in reason
    from rpms.appointments.services import appointment_renew

    with pytest.raises(Conflict) as refused:  # the renewal service itself honours the entity's condition
        appointment_renew(actor=street_office, appointment=appointment, years=1)
    assert refused.value.code == "renewal_refused_by_grade" and "续聘条件" in refused.value.message
    [row] = ActionLog.objects.filter(action="assessments.renewal_condition_set")
    assert row.article == policy_article(bj_case["city"], "assessment_consequence")


def test_pingdingshan_has_no_entity_condition_to_set(pds_case, clock):
    _, assessment = _year_of_service(pds_case, clock)
    with pytest.raises(DomainError) as refused:
        services.assessment_renewal_condition_set(actor=pds_case["signer"], assessment=assessment, conditional=True)
    assert refused.value.code == "condition_not_applicable"


def test_grades_become_matching_scores_by_their_place_in_the_policy(beijing, wanshou, clock, district_haidian):
    from .conftest import bare_appointment

    planners = [make_planner(beijing) for _ in range(4)]
    for planner, grade in zip(planners, ["excellent", "qualified", "unqualified"]):
        appointment = bare_appointment(planner=planner, unit=wanshou, start=dt.date(2025, 1, 1))
        Assessment.objects.create(
            city=beijing, appointment=appointment, planner=planner, unit=wanshou, district=wanshou.district, year=2025,
            period_start=appointment.start, period_end=appointment.end, assessing_body="district",
            opened_at=appointment.created_at, status="graded", grade=grade, grade_label=grade,
            graded_at=appointment.created_at,
        )
        appointment.status = "ended"
        appointment.save(update_fields=["status"])
    scores = last_grade_scores([p.pk for p in planners])
    assert scores == {planners[0].pk: 1.0, planners[1].pk: 0.5, planners[2].pk: 0.0}


def test_opinions_and_training_hours_enter_the_inputs(bj_case, clock, street_office):
    from django.utils import timezone

    from rpms.opinions import services as opinion_services
    from rpms.training.models import TrainingRecord

    appointment = appoint(bj_case, clock)
    user = bj_case["planner"].user
    opinion = opinion_services.opinion_create(actor=user, unit=appointment.unit, subject="万寿路街区更新方案",
                                              subject_kind="design_scheme", design_unit="虚构设计院",
                                              findings="建议保留行道树", recommendations="调整退线",
                                              reviewed_documents=["街区更新方案（送审稿）"])
    opinion_services.opinion_interest_declare(actor=user, opinion=opinion, has_conflict=False)
    opinion_services.opinion_issue(actor=user, opinion=opinion)
    opinion_services.opinion_response_record(actor=user, opinion=opinion, responder="design_unit", outcome="adopted")
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=bj_case["lead"], appointment=appointment)
    TrainingRecord.objects.create(city=bj_case["city"], planner=bj_case["planner"], year=assessment.year, hours="12.5",
                                  source="external", title="城市更新专题培训", date=clock.today, status="confirmed",
                                  confirmed_at=timezone.now())
    TrainingRecord.objects.create(city=bj_case["city"], planner=bj_case["planner"], year=assessment.year, hours="3",
                                  source="external", title="未确认", date=clock.today, status="pending")
    inputs_in(bj_case, assessment)
    score_all(bj_case, assessment)
    services.assessment_grade(actor=bj_case["lead"], assessment=assessment, grade="qualified")
    assessment.refresh_from_db()
    assert assessment.inputs["opinions"] == {"issued": 1, "responses": 1, "adopted": 1, "partly_adopted": 0,
                                             "not_adopted": 0, "adoption_rate": 1.0}
    assert assessment.inputs["training"] == {"year": assessment.year, "hours": "12.5"}


def test_service_years_ending_soon_without_an_assessment_are_listed_for_the_assessing_body(
        bj_case, pds_case, clock, district_haidian, pds_admin, street_office):
    bj_appointment = appoint(bj_case, clock)
    pds_appointment = appoint(pds_case, clock)
    assert selectors.due_without_assessment(city=bj_case["city"], on=clock.today) == []
    clock.set(bj_appointment.end - dt.timedelta(days=20))
    [row] = selectors.due_without_assessment(city=bj_case["city"])
    assert row["appointment"] == bj_appointment and row["end"] == bj_appointment.end
    assert selectors.assessing_users(bj_appointment) == [district_haidian]
    assert selectors.assessing_users(pds_appointment) == [pds_admin]
    services.assessment_open(actor=district_haidian, appointment=bj_appointment)
    assert selectors.due_without_assessment(city=bj_case["city"]) == []
    # the home page line for the hiring entity, who now has local feedback to give
    titles = [item.title for item in selectors.pending_items(street_office)]
    assert titles == ["年度考核待填写属地反馈"]
    assert [i.title for i in selectors.pending_items(bj_case["planner"].user)] == ["年度考核待提交述职报告"]
