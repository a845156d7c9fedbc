"""The pages: Chinese, scoped (other district → 404), forms with CSRF tokens, acts from the forms."""
import datetime as dt

import pytest

from rpms.assessments import services
from rpms.assessments.models import Assessment, AssessmentStatus, Violation

from .conftest import appoint, inputs_in, into_window, score_all


def test_the_assessment_cycle_through_the_pages(bj_case, clock, login, district_haidian, street_office):
    appointment = appoint(bj_case, clock)
    clock.set(appointment.end - dt.timedelta(days=10))
    officer = login(district_haidian)
    due = officer.get("/assessments/due/")
    assert due.status_code == 200 and "启动考核" in due.content.decode() and "csrfmiddlewaretoken" in due.content.decode()
    opened = officer.post("/assessments/open/", {"appointment": appointment.pk})
    assessment = Assessment.objects.get(appointment=appointment)
    assert opened.status_code == 302 and opened["Location"] == f"/assessments/{assessment.pk}/"

    entity = login(street_office)
    page = entity.get(f"/assessments/{assessment.pk}/")
    assert page.status_code == 200 and "聘任主体（属地反馈）评分" in page.content.decode()
    codes = [c["code"] for c in bj_case["city"].policy.assessment_criteria]
    entity.post(f"/assessments/{assessment.pk}/scores/", {f"score_{c}": "85" for c in codes})
    officer.post(f"/assessments/{assessment.pk}/scores/", {f"score_{c}": "75" for c in codes})
    planner = login(bj_case["planner"].user)
    planner.post(f"/assessments/{assessment.pk}/self-report/", {"text": "全年服务情况……", "self_score": "88"})
    entity.post(f"/assessments/{assessment.pk}/feedback/", {"text": "属地反馈：服务认真。"})

    detail = officer.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "评定考核等次" in detail and "80.0" in detail and "全年服务情况" in detail
    unconfirmed = officer.post(f"/assessments/{assessment.pk}/grade/", {"grade": "qualified"})
    assert unconfirmed.status_code == 200 and "请确认" in unconfirmed.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.OPEN
    officer.post(f"/assessments/{assessment.pk}/grade/", {"grade": "qualified", "confirm": "1"})
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.GRADED and assessment.grade == "qualified"
    listing = officer.get("/assessments/", {"year": assessment.year}).content.decode()
    assert "合格" in listing and bj_case["planner"].name in listing
    export = officer.get("/assessments/", {"format": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_a_refused_act_is_shown_on_the_page(bj_case, clock, login, district_haidian):
    appointment = appoint(bj_case, clock)
    assessment = services.assessment_open(actor=district_haidian, appointment=appointment)
    into_window(clock, assessment)
    inputs_in(bj_case, assessment)
    officer = login(district_haidian)
    response = officer.post(f"/assessments/{assessment.pk}/grade/", {"grade": "qualified", "confirm": "1",
                                                                     "comment": "评定意见草稿"})
    page = response.content.decode()
    # shown again at once (no redirect), with the reason, the refusal's status and what was typed
    assert response.status_code == 409 and "尚有考核内容未评分" in page and "评定意见草稿" in page


def test_another_districts_assessment_page_is_404(bj_case, clock, login, district_haidian, district_chaoyang):
    appointment = appoint(bj_case, clock)
    assessment = services.assessment_open(actor=district_haidian, appointment=appointment)
    other = login(district_chaoyang)
    response = other.get(f"/assessments/{assessment.pk}/")
    assert response.status_code == 404 and "记录不存在" in response.content.decode()
    assert other.post(f"/assessments/{assessment.pk}/grade/", {"grade": "excellent", "confirm": "1"}).status_code == 404


def test_recording_a_violation_from_the_page(bj_case, clock, login, district_haidian):
    appoint(bj_case, clock)
    officer = login(district_haidian)
    form = officer.get("/assessments/violations/new/")
    assert form.status_code == 200 and bj_case["planner"].name in form.content.decode()
    response = officer.post("/assessments/violations/new/", {
        "planner": bj_case["planner"].pk, "kind": "unfair_advantage", "description": "为关联企业提供便利",
        "occurred_on": clock.today.isoformat(),
    })
    violation = Violation.objects.get()
    assert response.status_code == 302 and violation.district.name == "海淀区"
    officer.post(f"/assessments/violations/{violation.pk}/report/", {"employer_name": "虚构规划设计研究院", "method": "书面函告"})
    violation.refresh_from_db()
    assert violation.reported_employer_at is not None
    listing = officer.get("/assessments/violations/").content.decode()
    assert "为关联企业提供便利" not in listing and "虚构规划设计研究院" in listing


@pytest.mark.parametrize("path", ["/assessments/", "/assessments/violations/", "/assessments/flags/",
                                  "/assessments/districts/?year=2025", "/assessments/honours/manage/?year=2025"])
def test_the_management_pages_render_in_chinese(city_admin, login, path):
    response = login(city_admin).get(path)
    assert response.status_code == 200
    assert "<html lang=\"zh-Hans\">" in response.content.decode()


def test_an_auditor_opens_the_district_assessment_with_a_city_picker(auditor, login, beijing, pingdingshan):
    """Issue #17 item 2: the auditor (every city, none of its own) got 400 "请选择城市" with no picker."""
    client = login(auditor)
    page = client.get("/assessments/districts/")
    assert page.status_code == 200
    html = page.content.decode()
    first = min((beijing, pingdingshan), key=lambda c: (c.sort_order, c.code))
    assert f"{first.name} " in html and 'name="city"' in html and pingdingshan.name in html and beijing.name in html
    chosen = client.get("/assessments/districts/", {"city": "pingdingshan"})
    assert chosen.status_code == 200 and "平顶山市" in chosen.content.decode()


def test_the_public_honours_page_needs_no_login(anon, reference):
    response = anon.get("/assessments/honours/")
    assert response.status_code == 200 and "优秀责任规划师" in response.content.decode()
    assert anon.get("/assessments/").status_code == 302  # management pages need a login


def test_the_honour_pages_flow(bj_case, clock, login, district_haidian, city_admin, anon):
    appointment = appoint(bj_case, clock)
    clock.set(appointment.end - dt.timedelta(days=10))
    assessment = services.assessment_open(actor=district_haidian, appointment=appointment)
    inputs_in(bj_case, assessment)
    score_all(bj_case, assessment, value=97)
    services.assessment_grade(actor=district_haidian, assessment=assessment, grade="excellent")
    officer = login(district_haidian)
    page = officer.get("/assessments/honours/manage/", {"year": assessment.year}).content.decode()
    assert "可推选的责任规划师" in page and bj_case["planner"].name in page
    officer.post("/assessments/honours/nominate/", {"assessment": assessment.pk, "reason": "社区花园营造"})
    city = login(city_admin)
    honour = assessment.honours.get()
    city.post(f"/assessments/honours/{honour.pk}/decide/", {"selected": "1"})
    city.post("/assessments/honours/publish/", {"year": assessment.year, "city": "beijing"})
    honour.refresh_from_db()
    assert honour.is_published
    public = anon.get("/assessments/honours/").content.decode()
    assert bj_case["planner"].name in public and "社区花园营造" not in public


def test_the_home_page_lists_the_assessment_waiting_for_local_feedback(bj_case, clock, login, district_haidian,
                                                                        street_office):
    appointment = appoint(bj_case, clock)
    services.assessment_open(actor=district_haidian, appointment=appointment)
    home = login(street_office).get("/")
    assert home.status_code == 200 and "年度考核待填写属地反馈" in home.content.decode()


@pytest.mark.parametrize("path", ["/assessments/?year=2025", "/assessments/violations/", "/assessments/flags/",
                                  "/assessments/honours/?city=beijing", "/assessments/districts/?year=2025"])
def test_list_pages_keep_a_constant_query_count(beijing, haidian, city_admin, login, django_assert_max_num_queries,
                                                path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .test_api import _rows

    client = login(city_admin)
    _rows(beijing, haidian, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200
    _rows(beijing, haidian, 6, offset=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(path)
    assert response.status_code == 200
