"""Issue #12 item 2: the annual review is graded only inside its window before the service year ends (policy
`review_window_days`; P6(4) 聘期届满前, B20 年度) and once the inputs the city's criteria name are in — the
planner's 述职 and the hiring entity's 属地反馈 — or, when a party has not answered by its deadline in working
days (policy `review_input_working_days`), with that absence recorded and shown on the result."""
import datetime as dt
import json

import pytest
from django.test import Client

from rpms.assessments import selectors, services
from rpms.assessments.models import AssessmentStatus, ReviewInputAbsence
from rpms.assessments.review import review_state
from rpms.cities.selectors import policy_article
from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.models import ActionLog
from rpms.documents.models import IssuedDocument
from rpms.notifications.models import Notification

from .conftest import appoint, inputs_in, make_user, score_all

D = dt.date
# A service year ending on 2026-10-28: its review window (30 days) opens on 2026-09-29, just before the
# 2026 National Day holiday (1–7 October; Saturday 10 October is a make-up working day).
START = D(2025, 10, 29)
END = D(2026, 10, 28)
WINDOW_OPENS = D(2026, 9, 29)


def post(client, path, user, bearer, data):
    return client.post(path, data=json.dumps(data), content_type="application/json", **bearer(user))


def _opened_on_day_eight(case, clock):
    """Appointed on START; the assessing body opens the review on the eighth day of the service year."""
    clock.set(START)
    appointment = appoint(case, clock)
    assert appointment.end == END
    clock.set(START + dt.timedelta(days=7))
    return services.assessment_open(actor=case["lead"], appointment=appointment)


def test_the_policy_sets_the_window_and_the_inputs_the_criteria_name(beijing, pingdingshan):
    for city in (beijing, pingdingshan):
        assert city.policy.review_window_days == 30
        assert city.policy.review_input_working_days == 10
        assert city.policy.review_inputs() == ["self_report", "entity_feedback"]


def test_grading_on_day_eight_is_refused_with_what_is_missing_and_from_when(case, clock):
    assessment = _opened_on_day_eight(case, clock)
    score_all(case, assessment, value=90)
    with pytest.raises(Conflict) as refused:
        services.assessment_grade(actor=case["lead"], assessment=assessment, grade="excellent")
    error = refused.value
    assert error.code == "review_not_ready" and error.status == 409
    assert [m["code"] for m in error.missing] == ["review_window", "self_report", "entity_feedback"]
    deadline = review_state(assessment).deadline
    assert error.allowed_from == deadline + dt.timedelta(days=1)
    article = policy_article(case["city"], "assessment")
    assert article in error.message and "述职报告" in error.message and "属地反馈" in error.message
    assert f"{WINDOW_OPENS}" in error.message and f"最早自 {error.allowed_from} 起可以评定" in error.message
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.OPEN and assessment.graded_at is None
    assert not ActionLog.objects.filter(action="assessments.assessment_grade").exists()

    # with both inputs in, only the window is missing: allowed from the window's first day
    inputs_in(case, assessment)
    with pytest.raises(Conflict) as still:
        services.assessment_grade(actor=case["lead"], assessment=assessment, grade="excellent")
    assert [m["code"] for m in still.value.missing] == ["review_window"]
    assert still.value.allowed_from == WINDOW_OPENS
    clock.set(WINDOW_OPENS - dt.timedelta(days=1))
    with pytest.raises(Conflict):
        services.assessment_grade(actor=case["lead"], assessment=assessment, grade="excellent")
    clock.set(WINDOW_OPENS)
    graded = services.assessment_grade(actor=case["lead"], assessment=assessment, grade="excellent")
    assert graded.status == AssessmentStatus.GRADED
    review = graded.inputs["review"]
    assert [(i["code"], i["status"]) for i in review["inputs"]] == [("self_report", "submitted"),
                                                                     ("entity_feedback", "submitted")]


def test_inside_the_window_an_input_still_missing_is_refused(case, clock):
    clock.set(START)
    appointment = appoint(case, clock)
    clock.set(END - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=case["lead"], appointment=appointment)
    score_all(case, assessment)
    services.assessment_self_report(actor=case["planner"].user, assessment=assessment, text="全年参与方案审查 6 次。")
    with pytest.raises(Conflict) as refused:
        services.assessment_grade(actor=case["lead"], assessment=assessment, grade="qualified")
    assert refused.value.code == "review_not_ready"
    assert [m["code"] for m in refused.value.missing] == ["entity_feedback"]
    assert "聘任主体（属地）的属地反馈" in refused.value.message
    services.assessment_feedback_submit(actor=case["entity"], assessment=assessment, text="服务认真，响应及时。")
    assert services.assessment_grade(actor=case["lead"], assessment=assessment, grade="qualified").grade == "qualified"


def test_the_deadline_counts_working_days_from_the_reviews_opening(pds_case, clock):
    from rpms.workdays.selectors import add_working_days

    assessment = _opened_on_day_eight(pds_case, clock)
    state = review_state(assessment)
    # opened early: the inputs are asked for when the window opens, not on day eight
    assert state.window_opens == WINDOW_OPENS and state.requested_from == WINDOW_OPENS
    expected = add_working_days(WINDOW_OPENS + dt.timedelta(days=1), 10)
    assert state.deadline == expected.end and state.deadline_explanation == expected.explanation
    # ten working days from 30 September across the National Day holiday (1–7 October), with the make-up
    # working day of Saturday 10 October: 30/9, 8/10, 9/10, 10/10, 12–16/10, 19/10
    assert state.deadline == D(2026, 10, 19) and not state.deadline_provisional
    # opened inside the window: counted from the opening day
    assessment.opened_on = D(2026, 10, 12)
    assert review_state(assessment).requested_from == D(2026, 10, 12)


def test_an_absence_is_recorded_only_after_the_deadline_and_then_grading_goes_on(case, clock):
    assessment = _opened_on_day_eight(case, clock)
    services.assessment_feedback_submit(actor=case["entity"], assessment=assessment, text="属地反馈：服务认真。")
    score_all(case, assessment, value=85)
    deadline = review_state(assessment).deadline
    clock.set(deadline)
    with pytest.raises(Conflict) as early:
        services.assessment_absence_record(actor=case["lead"], assessment=assessment, input="self_report")
    assert early.value.code == "input_deadline_not_passed" and f"{deadline + dt.timedelta(days=1)}" in early.value.message
    with pytest.raises(Conflict) as waiting:
        services.assessment_grade(actor=case["lead"], assessment=assessment, grade="qualified")
    assert [m["code"] for m in waiting.value.missing] == ["self_report"]

    clock.set(deadline + dt.timedelta(days=1))
    with pytest.raises(Conflict) as submitted:
        services.assessment_absence_record(actor=case["lead"], assessment=assessment, input="entity_feedback")
    assert submitted.value.code == "input_submitted"
    with pytest.raises(Forbidden):
        services.assessment_absence_record(actor=case["entity"], assessment=assessment, input="self_report")
    with pytest.raises(DomainError) as unknown:
        services.assessment_absence_record(actor=case["lead"], assessment=assessment, input="district_score")
    assert unknown.value.code == "unknown_input"
    absence = services.assessment_absence_record(actor=case["lead"], assessment=assessment, input="self_report",
                                                 note="两次电话催告未提交")
    assert (absence.input, absence.party, absence.deadline, absence.requested_from, absence.working_days) == (
        "self_report", "责任规划师", deadline, WINDOW_OPENS, 10)
    assert absence.recorded_by == case["lead"] and absence.recorded_at is not None
    [row] = ActionLog.objects.filter(action="assessments.assessment_absence_record")
    assert row.article == policy_article(case["city"], "assessment") and row.object_id == str(assessment.pk)
    assert row.after["absence"]["deadline"] == deadline.isoformat()
    assert Notification.objects.filter(recipient=case["planner"].user, event="assessment_input_absent").exists()
    # the planner can no longer file the report for this review; the absence is not recorded twice
    with pytest.raises(Conflict) as late:
        services.assessment_self_report(actor=case["planner"].user, assessment=assessment, text="补交述职")
    assert late.value.code == "input_recorded_absent"
    with pytest.raises(Conflict):
        services.assessment_absence_record(actor=case["lead"], assessment=assessment, input="self_report")

    graded = services.assessment_grade(actor=case["lead"], assessment=assessment, grade="qualified")
    assert graded.status == AssessmentStatus.GRADED
    # the result shows the absence: the frozen inputs, the result notice
    [absent] = [i for i in graded.inputs["review"]["inputs"] if i["status"] == "absent"]
    assert absent["absence"]["deadline"] == deadline.isoformat() and absent["absence"]["note"] == "两次电话催告未提交"
    document = IssuedDocument.objects.get(kind="assessment_result", subject_id=str(graded.pk))
    assert any("评议材料缺失" in p and "述职报告" in p and deadline.isoformat() in p
               for p in document.context["paragraphs"])
    assert any(item["label"] == "述职报告（责任规划师）" and "逾期未提交" in item["value"]
               for item in document.context["items"])


def test_the_feedback_is_the_hiring_entitys_own(bj_case, clock, district_haidian):
    clock.set(START)
    appointment = appoint(bj_case, clock)
    assessment = services.assessment_open(actor=district_haidian, appointment=appointment)
    with pytest.raises(Forbidden):
        services.assessment_feedback_submit(actor=bj_case["planner"].user, assessment=assessment, text="自己写")
    with pytest.raises(Forbidden):
        services.assessment_feedback_submit(actor=district_haidian, assessment=assessment, text="代写")
    with pytest.raises(DomainError) as empty:
        services.assessment_feedback_submit(actor=bj_case["entity"], assessment=assessment, text="  ")
    assert empty.value.code == "feedback_required"
    services.assessment_feedback_submit(actor=bj_case["entity"], assessment=assessment, text="服务认真")
    [row] = ActionLog.objects.filter(action="assessments.assessment_feedback")
    assert row.article == "B20" and row.after["entity_feedback"] == "服务认真"


def test_the_pending_lines_follow_the_inputs(bj_case, clock, street_office):
    assessment = _opened_on_day_eight(bj_case, clock)
    assert [i.title for i in selectors.pending_items(street_office)] == ["年度考核待填写属地反馈"]
    services.assessment_feedback_submit(actor=street_office, assessment=assessment, text="服务认真")
    assert selectors.pending_items(street_office) == []
    clock.set(review_state(assessment).deadline + dt.timedelta(days=1))
    services.assessment_absence_record(actor=bj_case["lead"], assessment=assessment, input="self_report")
    assert selectors.pending_items(bj_case["planner"].user) == []


# --- API -------------------------------------------------------------------------------------------------------


def test_early_grading_through_the_api_is_a_409_with_missing_and_allowed_from(case, clock, bearer):
    client = Client()
    assessment = _opened_on_day_eight(case, clock)
    score_all(case, assessment)
    response = post(client, f"/api/v1/assessments/{assessment.pk}/grade", case["lead"], bearer, {"grade": "qualified"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "review_not_ready"
    assert "现在还不能评定考核等次" in body["detail"] and WINDOW_OPENS.isoformat() in body["detail"]
    assert [m["code"] for m in body["missing"]] == ["review_window", "self_report", "entity_feedback"]
    assert body["allowed_from"] == (review_state(assessment).deadline + dt.timedelta(days=1)).isoformat()
    detail = client.get(f"/api/v1/assessments/{assessment.pk}", **bearer(case["lead"])).json()
    assert detail["review"]["ready"] is False and detail["review"]["window_opens"] == WINDOW_OPENS.isoformat()

    # the acts through the API: feedback, then the absence of the 述职 after the deadline, then the grade
    feedback = post(client, f"/api/v1/assessments/{assessment.pk}/feedback", case["entity"], bearer, {"text": "属地反馈"})
    assert feedback.status_code == 200 and feedback.json()["entity_feedback"]["submitted_at"]
    assert post(client, f"/api/v1/assessments/{assessment.pk}/feedback", case["planner"].user, bearer,
                {"text": "x"}).status_code == 403
    early = post(client, f"/api/v1/assessments/{assessment.pk}/absences", case["lead"], bearer, {"input": "self_report"})
    assert early.status_code == 409 and early.json()["code"] == "input_deadline_not_passed"
    clock.set(review_state(assessment).deadline + dt.timedelta(days=1))
    recorded = post(client, f"/api/v1/assessments/{assessment.pk}/absences", case["lead"], bearer,
                    {"input": "self_report", "note": "未提交"})
    assert recorded.status_code == 201, recorded.content.decode()
    [item] = [i for i in recorded.json()["review"]["inputs"] if i["code"] == "self_report"]
    assert item["status"] == "absent" and item["absence"]["recorded_by"]
    graded = post(client, f"/api/v1/assessments/{assessment.pk}/grade", case["lead"], bearer, {"grade": "qualified"})
    assert graded.status_code == 200, graded.content.decode()
    result = graded.json()
    assert result["review"]["inputs"][0]["status"] == "absent"
    assert any(line["label"] == "述职报告（责任规划师）" and "逾期未提交" in line["value"]
               for line in result["inputs_summary"])


# --- pages -----------------------------------------------------------------------------------------------------


def test_the_review_pages(pds_case, clock, login, pds_entity):
    assessment = _opened_on_day_eight(pds_case, clock)
    score_all(pds_case, assessment)
    lead = login(pds_case["lead"])
    detail = lead.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "考核评议材料" in detail and f"自 {WINDOW_OPENS} 起可评定等次" in detail and "现在还不能评定考核等次" in detail
    refused = lead.post(f"/assessments/{assessment.pk}/grade/", {"grade": "qualified", "confirm": "1"}, follow=True)
    assert "现在还不能评定考核等次" in refused.content.decode() and "最早自" in refused.content.decode()

    # the planner's page: a refusal keeps what was typed
    planner = login(pds_case["planner"].user)
    page = planner.get(f"/assessments/{assessment.pk}/self-report/")
    assert page.status_code == 200 and "提交述职报告" in page.content.decode() and "csrfmiddlewaretoken" in page.content.decode()
    bad = planner.post(f"/assessments/{assessment.pk}/self-report/", {"text": "本年度调研走访。", "self_score": "120"})
    assert bad.status_code == 400 and "0 至 100" in bad.content.decode() and "本年度调研走访。" in bad.content.decode()
    assert planner.get(f"/assessments/{assessment.pk}/feedback/").status_code == 403

    # the entity's page
    entity = login(pds_entity)
    assert "提交属地反馈" in entity.get(f"/assessments/{assessment.pk}/feedback/").content.decode()
    done = entity.post(f"/assessments/{assessment.pk}/feedback/", {"text": "服务认真，响应及时。"})
    assert done.status_code == 302
    assessment.refresh_from_db()
    assert assessment.entity_feedback == "服务认真，响应及时。"

    # the assessing body's page: confirmation asked, then recorded after the deadline
    clock.set(review_state(assessment).deadline + dt.timedelta(days=1))
    lead, planner = login(pds_case["lead"]), login(pds_case["planner"].user)  # the earlier sessions lapsed
    assert "记录逾期未提交" in lead.get(f"/assessments/{assessment.pk}/").content.decode()
    page = lead.get(f"/assessments/{assessment.pk}/absence/", {"input": "self_report"})
    assert page.status_code == 200 and "提交期限" in page.content.decode()
    unconfirmed = lead.post(f"/assessments/{assessment.pk}/absence/", {"input": "self_report", "note": "催告未交"})
    assert unconfirmed.status_code == 400 and "请勾选确认" in unconfirmed.content.decode()
    assert "催告未交" in unconfirmed.content.decode()
    assert not ReviewInputAbsence.objects.exists()
    lead.post(f"/assessments/{assessment.pk}/absence/", {"input": "self_report", "note": "催告未交", "confirm": "1"})
    assert ReviewInputAbsence.objects.filter(assessment=assessment, input="self_report").exists()
    late = planner.post(f"/assessments/{assessment.pk}/self-report/", {"text": "补交"})
    assert late.status_code == 409 and "记录为逾期未提交" in late.content.decode()
    lead.post(f"/assessments/{assessment.pk}/grade/", {"grade": "qualified", "confirm": "1"})
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.GRADED
    shown = planner.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "逾期未提交（已记录缺失）" in shown and "催告未交" in shown


def test_another_entity_cannot_open_the_feedback_page(pds_case, clock, login, pingdingshan):
    assessment = _opened_on_day_eight(pds_case, clock)
    stranger = make_user("as_other_entity", "hiring_entity", pingdingshan)
    assert login(stranger).get(f"/assessments/{assessment.pk}/feedback/").status_code == 404


def test_the_inputs_waited_for_are_those_the_criteria_name(pds_case, clock):
    """Rules as data: a city whose criteria name no input grades in the window without waiting."""
    from django.core.exceptions import ValidationError

    from rpms.cities.models import PolicyProfile

    policy = pds_case["city"].policy
    policy.assessment_criteria = [{**c, "inputs": ["magic"]} for c in policy.assessment_criteria]
    with pytest.raises(ValidationError) as invalid:
        policy.full_clean()
    assert "assessment_criteria" in invalid.value.message_dict
    PolicyProfile.objects.filter(pk=policy.pk).update(
        assessment_criteria=[{k: v for k, v in c.items() if k != "inputs"} for c in policy.assessment_criteria])
    pds_case["city"].policy.refresh_from_db()
    assert pds_case["city"].policy.review_inputs() == []
    clock.set(START)
    appointment = appoint(pds_case, clock)
    clock.set(END - dt.timedelta(days=3))
    assessment = services.assessment_open(actor=pds_case["lead"], appointment=appointment)
    score_all(pds_case, assessment)
    assert services.assessment_grade(actor=pds_case["lead"], assessment=assessment, grade="qualified").grade == "qualified"
