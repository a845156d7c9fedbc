"""The JSON API: the assessment cycle, scoping (out of scope → 404), Chinese refusals, constant query counts."""
import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from rpms.assessments.models import Assessment, Honour, ReplacementFlag, Violation
from rpms.core.models import ActionLog

from .conftest import appoint, bare_appointment, inputs_in, into_window, make_planner, units_of


def post(client, path, user, bearer, data):
    return client.post(path, data=json.dumps(data), content_type="application/json", **bearer(user))


def get(client, path, user, bearer, **params):
    return client.get(path, params, **bearer(user))


@pytest.fixture
def client():
    return Client()


def test_the_assessment_cycle_through_the_api(bj_case, clock, client, bearer, street_office, district_haidian):
    appointment = appoint(bj_case, clock)
    clock.set(appointment.end - dt.timedelta(days=10))
    due = get(client, "/api/v1/assessments/due", district_haidian, bearer)
    assert due.status_code == 200
    assert [r["appointment"] for r in due.json() if not r["opened"]] == [appointment.pk]

    opened = post(client, "/api/v1/assessments", district_haidian, bearer, {"appointment": appointment.pk})
    assert opened.status_code == 201, opened.content.decode()
    data = opened.json()
    assert data["assessing_body"] == "district" and data["status"] == "open"
    pk = data["id"]
    codes = [c["code"] for c in bj_case["city"].policy.assessment_criteria]
    for user in (street_office, district_haidian):
        response = post(client, f"/api/v1/assessments/{pk}/scores", user, bearer, {"scores": {c: 88 for c in codes}})
        assert response.status_code == 200, response.content.decode()
    assert response.json()["weighted_total"] == "88.0" and response.json()["you"]["score_as"] == "district"
    report = post(client, f"/api/v1/assessments/{pk}/self-report", bj_case["planner"].user, bearer,
                  {"text": "一年来参与方案审查 6 次。", "self_score": 90})
    assert report.status_code == 200 and report.json()["self_report"]["self_score"] == "90.0"
    feedback = post(client, f"/api/v1/assessments/{pk}/feedback", street_office, bearer, {"text": "响应及时，服务认真。"})
    assert feedback.status_code == 200 and feedback.json()["entity_feedback"]["text"] == "响应及时，服务认真。"

    graded = post(client, f"/api/v1/assessments/{pk}/grade", district_haidian, bearer, {"grade": "excellent"})
    assert graded.status_code == 200, graded.content.decode()
    body = graded.json()
    assert body["grade_label"] == "优秀" and body["inputs_frozen"] and body["verification_code"]
    assert body["consequences"][0]["code"] == "renewal"
    pdf = get(client, f"/api/v1/assessments/{pk}/result.pdf", bj_case["planner"].user, bearer)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_another_district_gets_404_and_the_city_of_beijing_cannot_open(bj_case, clock, client, bearer,
                                                                       district_haidian, district_chaoyang, city_admin):
    appointment = appoint(bj_case, clock)
    refused = post(client, "/api/v1/assessments", city_admin, bearer, {"appointment": appointment.pk})
    assert refused.status_code == 403 and "区的责任规划师工作专班" in refused.json()["detail"]
    assert post(client, "/api/v1/assessments", district_chaoyang, bearer, {"appointment": appointment.pk}).status_code == 404
    pk = post(client, "/api/v1/assessments", district_haidian, bearer, {"appointment": appointment.pk}).json()["id"]
    assert get(client, f"/api/v1/assessments/{pk}", district_chaoyang, bearer).status_code == 404
    assert get(client, "/api/v1/assessments", district_chaoyang, bearer).json() == []
    assert get(client, f"/api/v1/assessments/{pk}", city_admin, bearer).status_code == 200
    other_planner = make_planner(bj_case["city"])
    assert get(client, f"/api/v1/assessments/{pk}", other_planner.user, bearer).status_code == 404
    assert post(client, f"/api/v1/assessments/{pk}/scores", district_chaoyang, bearer,
                {"scores": {"results": 10}}).status_code == 404


def test_bad_input_gets_a_chinese_4xx(bj_case, clock, client, bearer, district_haidian, street_office):
    appointment = appoint(bj_case, clock)
    pk = post(client, "/api/v1/assessments", district_haidian, bearer, {"appointment": appointment.pk}).json()["id"]
    bad_score = post(client, f"/api/v1/assessments/{pk}/scores", street_office, bearer, {"scores": {"results": "很好"}})
    assert bad_score.status_code == 400 and "0 至 100" in bad_score.json()["detail"]
    missing = post(client, f"/api/v1/assessments/{pk}/grade", district_haidian, bearer, {})
    assert missing.status_code == 422 and "grade" in missing.json()["detail"]
    unknown = post(client, f"/api/v1/assessments/{pk}/grade", district_haidian, bearer, {"grade": "A+"})
    assert unknown.status_code == 400 and "不在本市规定的等次" in unknown.json()["detail"]
    # issue #12: inside the review window, with the 述职 and the 属地反馈 in
    assessment = Assessment.objects.get(pk=pk)
    into_window(clock, assessment)
    inputs_in(bj_case, assessment)
    incomplete = post(client, f"/api/v1/assessments/{pk}/grade", district_haidian, bearer, {"grade": "qualified"})
    assert incomplete.status_code == 409 and incomplete.json()["code"] == "scores_incomplete"
    assert post(client, "/api/v1/assessments", district_haidian, bearer, {"appointment": 999999}).status_code == 404
    assert client.get("/api/v1/assessments").status_code == 401


def test_violations_through_the_api(bj_case, clock, client, bearer, district_haidian, city_admin, street_office):
    appointment = appoint(bj_case, clock)
    created = post(client, "/api/v1/violations", district_haidian, bearer, {
        "planner": bj_case["planner"].pk, "kind": "improper_benefit", "description": "利用信息为所在机构承揽项目",
        "occurred_on": clock.today.isoformat(), "appointment": appointment.pk,
    })
    assert created.status_code == 201, created.content.decode()
    pk = created.json()["id"]
    assert created.json()["reported"]["city_work_team_at"] is not None
    reported = post(client, f"/api/v1/violations/{pk}/report", district_haidian, bearer, {"method": "书面函告"})
    assert reported.status_code == 200 and reported.json()["reported"]["employer"] == bj_case["planner"].employer
    assert [v["id"] for v in get(client, "/api/v1/violations", city_admin, bearer).json()] == [pk]
    assert get(client, "/api/v1/violations", street_office, bearer).status_code == 403
    assert get(client, f"/api/v1/violations/{pk}", bj_case["planner"].user, bearer).status_code == 200


def test_honours_api_is_public_only_for_published_ones(bj_case, clock, client, bearer, district_haidian, city_admin):
    from rpms.assessments import services

    from .conftest import score_all

    appointment = appoint(bj_case, clock)
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=district_haidian, appointment=appointment)
    inputs_in(bj_case, assessment)
    score_all(bj_case, assessment, value=96)
    services.assessment_grade(actor=district_haidian, assessment=assessment, grade="excellent")
    nominated = post(client, "/api/v1/honours", district_haidian, bearer,
                     {"assessment": assessment.pk, "reason": "牵头完成街区控规公众参与"})
    assert nominated.status_code == 201, nominated.content.decode()
    pk = nominated.json()["id"]
    assert client.get("/api/v1/honours", {"city": "beijing"}).json() == []
    mine = get(client, "/api/v1/honours", district_haidian, bearer, city="beijing")
    assert [h["status"] for h in mine.json()] == ["nominated"]
    assert post(client, f"/api/v1/honours/{pk}/decision", district_haidian, bearer, {"selected": True}).status_code == 403
    assert post(client, f"/api/v1/honours/{pk}/decision", city_admin, bearer, {"selected": True}).status_code == 200
    published = post(client, "/api/v1/honours/publish", city_admin, bearer, {"city": "beijing", "year": assessment.year})
    assert published.status_code == 200 and published.json()[0]["verification_code"]
    public = client.get("/api/v1/honours", {"city": "beijing", "year": assessment.year}).json()
    assert [h["planner"]["name"] for h in public] == [bj_case["planner"].name]
    certificate = client.get(f"/api/v1/honours/{pk}/certificate.pdf")
    assert certificate.status_code == 200 and certificate.content.startswith(b"%PDF")
    assert client.get("/api/v1/honours", {"city": "nowhere"}).status_code == 404


def test_district_assessments_api(beijing, client, bearer, city_admin, district_haidian, haidian):
    overview = get(client, "/api/v1/district-assessments", city_admin, bearer, year=2025)
    assert overview.status_code == 200
    assert len(overview.json()["districts"]) == beijing.districts.count()
    mine = get(client, "/api/v1/district-assessments", district_haidian, bearer, year=2025).json()
    assert [d["district"]["id"] for d in mine["districts"]] == [haidian.pk]
    assert post(client, "/api/v1/district-assessments", district_haidian, bearer,
                {"district": haidian.pk, "year": 2025, "comment": "自评", "score": 90}).status_code == 403
    created = post(client, "/api/v1/district-assessments", city_admin, bearer,
                   {"district": haidian.pk, "year": 2025, "comment": "按期完成备案", "score": 86.5})
    assert created.status_code == 201 and created.json()["score"] == "86.5"
    assert get(client, f"/api/v1/district-assessments/{created.json()['id']}", district_haidian, bearer).status_code == 200
    assert post(client, "/api/v1/district-assessments", city_admin, bearer,
                {"district": haidian.pk, "year": 2025, "comment": "x", "score": 101}).status_code == 400


# --- constant query counts ---------------------------------------------------------------------------------


def _rows(beijing, haidian, n, offset=0):
    """n graded assessments (with flags, violations and published honours) in Haidian, straight into the tables."""
    from rpms.documents.models import IssuedDocument  # noqa: F401

    now = timezone.now()
    for unit in units_of(haidian, n, offset=offset):
        planner = make_planner(beijing)
        appointment = bare_appointment(planner=planner, unit=unit, start=dt.date(2025, 1, 1))
        assessment = Assessment.objects.create(
            city=beijing, appointment=appointment, planner=planner, unit=unit, district=haidian, year=2025,
            period_start=appointment.start, period_end=appointment.end, assessing_body="district", opened_at=now,
            status="graded", grade="excellent", grade_label="优秀", graded_at=now,
        )
        ReplacementFlag.objects.create(city=beijing, unit=unit, district=haidian, appointment=appointment,
                                       planner=planner, assessment=assessment, reason="测试")
        Violation.objects.create(city=beijing, planner=planner, district=haidian, kind="misleading", description="测试",
                                 occurred_on=dt.date(2025, 3, 1), recorded_at=now, reported_city_at=now)
        Honour.objects.create(city=beijing, year=2025, district=haidian, planner=planner, assessment=assessment,
                              title="优秀责任规划师", reason="测试", status="selected", nominated_at=now, decided_at=now,
                              published_at=now)


@pytest.mark.parametrize("path, params", [
    ("/api/v1/assessments", {}),
    ("/api/v1/violations", {}),
    ("/api/v1/replacement-flags", {}),
    ("/api/v1/honours", {"city": "beijing"}),
    ("/api/v1/district-assessments", {"year": 2025}),
])
def test_lists_keep_a_constant_query_count(beijing, haidian, city_admin, client, bearer,
                                           django_assert_max_num_queries, path, params):
    headers = bearer(city_admin)
    _rows(beijing, haidian, 2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        response = client.get(path, params, **headers)
    assert response.status_code == 200
    _rows(beijing, haidian, 6, offset=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(path, params, **headers)
    assert response.status_code == 200
    body = response.json()
    if isinstance(body, list):
        assert len(body) == 8


def test_grading_writes_one_audit_row_for_the_act_and_one_per_posting_its_removal_ends(pds_case, clock):
    from rpms.assessments import services

    from .conftest import score_all

    appointment = appoint(pds_case, clock)
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=pds_case["lead"], appointment=appointment)
    inputs_in(pds_case, assessment)
    score_all(pds_case, assessment, value=30)
    before = ActionLog.objects.count()
    services.assessment_grade(actor=pds_case["lead"], assessment=assessment, grade="unqualified")
    rows = list(ActionLog.objects.order_by("id")[before:])
    # P6(4) 不合格 → removal from the pool (P5(4)), which ends the posting: its own row, in the same transaction
    assert [r.action for r in rows] == ["appointments.appointment_end_removal", "assessments.assessment_grade"]
    ended, graded = rows
    assert graded.article == "P6(4)" and graded.city_code == "pingdingshan"
    assert graded.after["removal"]["article"] == "P5(4)5"
    assert ended.object_id == str(appointment.pk) and ended.article == "P5(4)" and ended.after["status"] == "removed"
