"""Issue #12 item 4 in recruitment: Beijing's eligibility rules hold "in principle" (B18 "原则上"): an
ineligible application is approved only with the city administrator's written exception, which follows
the person into the dossier at admission; Pingdingshan's are a condition (P4): refused even with a reason."""
import datetime as dt
import json

import pytest
from django.test import Client

from rpms.core.models import ActionLog
from rpms.recruitment import services
from rpms.recruitment.models import ApplicationStatus
from rpms.registry.models import DossierEventKind, LimitException

from .factories import applicant, beijing_data, open_call, pingdingshan_data

pytestmark = pytest.mark.django_db

SCORES = {"background": 80, "title": 60, "experience": 90, "local_familiarity": 85}
REASON = "申请人从事街区更新实践二十年，虽无高级职称和注册资格，专业能力经评审认可。"


def post(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def bj_ineligible(city_admin, beijing):
    call = open_call(city_admin, beijing)
    application = services.application_submit(
        actor=applicant("bj_ineligible", beijing), call=call,
        data=beijing_data(registrations=[], title_level="intermediate"),
    )
    assert application.eligible is False
    return application


def test_an_ineligible_application_is_refused_with_the_rules_explained(client, bearer, city_admin, bj_ineligible):
    url = f"/api/v1/applications/{bj_ineligible.pk}/review"
    refused = post(client, url, {"decision": "approve", "scores": SCORES}, bearer(city_admin))
    assert refused.status_code == 400 and refused.json()["code"] == "ineligible"
    detail = refused.json()["detail"]
    assert "B18(1)" in detail and "注册城乡规划师" in detail and "原则性规定" in detail
    bj_ineligible.refresh_from_db()
    assert bj_ineligible.status == ApplicationStatus.SUBMITTED and not LimitException.objects.exists()


def test_beijing_approves_an_ineligible_application_with_an_exception_that_reaches_the_dossier(
        client, bearer, city_admin, bj_ineligible):
    url = f"/api/v1/applications/{bj_ineligible.pk}/review"
    approved = post(client, url, {"decision": "approve", "scores": SCORES, "reason": "同意入库",
                                  "exception_reason": REASON}, bearer(city_admin))
    assert approved.status_code == 200, approved.content.decode()
    assert approved.json()["status"] == "approved"
    [exception] = approved.json()["limit_exceptions"]
    assert (exception["limit"], exception["article"], exception["status"]) == ("eligibility", "B18", "approved")
    assert exception["source"] == {"type": "recruitment.application", "id": str(bj_ineligible.pk)}
    assert any("B18(1)" in line for line in exception["shortfall"])
    review = ActionLog.objects.get(action="recruitment.application_review")
    assert review.article == "B18、B19(5)" and review.after["limit_exceptions"] == [exception["id"]]
    assert ActionLog.objects.get(action="registry.limit_exception_grant").article == "B18"

    # The application's page shows it; at admission the exception joins the new planner's dossier.
    page = Client()
    page.force_login(city_admin)
    assert REASON in page.get(f"/recruitment/applications/{bj_ineligible.pk}/").content.decode()
    call = bj_ineligible.call
    today = dt.date.today()
    notice = services.notice_publish(actor=city_admin, call=call, start=today - dt.timedelta(days=20),
                                     evidence_url="https://ghzrzyw.example.gov.cn/notice/1")
    [planner] = services.notice_close(actor=city_admin, notice=notice)
    event = planner.events.get(kind=DossierEventKind.LIMIT_EXCEPTION)
    assert event.article == "B18" and REASON in event.summary
    assert LimitException.objects.get().planner == planner


def test_pingdingshan_eligibility_is_a_condition_even_with_a_reason(client, bearer, pds_admin, pingdingshan):
    call = open_call(pds_admin, pingdingshan)
    application = services.application_submit(
        actor=applicant("pds_ineligible", pingdingshan), call=call,
        data=pingdingshan_data(degree="junior_college", title_level="none", experience_years=5),
    )
    assert application.eligible is False
    url = f"/api/v1/applications/{application.pk}/review"
    bare = post(client, url, {"decision": "approve", "scores": SCORES}, bearer(pds_admin))
    assert bare.status_code == 400 and bare.json()["code"] == "ineligible"
    assert "P4(2)" in bare.json()["detail"] and "原则性规定" not in bare.json()["detail"]
    justified = post(client, url, {"decision": "approve", "scores": SCORES, "exception_reason": REASON},
                     bearer(pds_admin))
    assert justified.status_code == 409 and justified.json()["code"] == "limit_strict"
    assert "硬性要求" in justified.json()["detail"] and "P4" in justified.json()["detail"]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED and not LimitException.objects.exists()


def test_an_eligible_application_needs_no_exception(city_admin, beijing):
    call = open_call(city_admin, beijing)
    application = services.application_submit(actor=applicant("bj_ok", beijing), call=call, data=beijing_data())
    approved = services.application_review(actor=city_admin, application=application, decision="approve",
                                           scores=SCORES, exception_reason="无须例外")
    assert approved.status == ApplicationStatus.APPROVED and not LimitException.objects.exists()


def test_the_review_form_offers_the_exception_where_the_city_allows_it(city_admin, bj_ineligible):
    client = Client()
    client.force_login(city_admin)
    page = client.get(f"/recruitment/applications/{bj_ineligible.pk}/").content.decode()
    assert 'name="exception_reason"' in page
    form = {"decision": "approve", **{f"score_{k}": v for k, v in SCORES.items()}, "exception_reason": REASON}
    done = client.post(f"/recruitment/applications/{bj_ineligible.pk}/review/", form)
    assert done.status_code == 302
    bj_ineligible.refresh_from_db()
    assert bj_ineligible.status == ApplicationStatus.APPROVED
