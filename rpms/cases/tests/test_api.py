"""Cases API: public reads of published cases, a planner's submission, the city's review, scoping."""
import pytest

from rpms.cases.models import Case, CaseStatus

from .conftest import BODY, jpeg

pytestmark = pytest.mark.django_db


def test_a_planner_submits_by_json_and_the_city_publishes(bj_planner, bj_unit, city_admin, bearer, anon, client):
    response = client.post("/api/v1/case-submissions", {
        "unit": bj_unit.pk, "title": "学校周边通学路改造", "duty_category": "co_governance",
        "summary": "多方共治改造通学路。", "body": BODY,
    }, content_type="application/json", **bearer(bj_planner.user))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "submitted" and data["zone_type"] == "central" and data["body"] == BODY
    case_id = data["id"]
    assert anon.get(f"/api/v1/cases/{case_id}").status_code == 404

    response = client.post(f"/api/v1/case-submissions/{case_id}/review", {"decision": "publish"},
                           content_type="application/json", **bearer(city_admin))
    assert response.status_code == 200 and response.json()["status"] == "published"
    public = anon.get(f"/api/v1/cases/{case_id}").json()
    assert public["title"] == "学校周边通学路改造" and "status" not in public and "review_comment" not in public


def test_a_planner_submits_with_photos_by_multipart(bj_planner, bj_unit, bearer, client):
    response = client.post("/api/v1/case-submissions", {
        "unit": str(bj_unit.pk), "title": "口袋公园", "duty_category": "research", "summary": "摘要", "body": BODY,
        "photos": [jpeg(), jpeg("b.jpg")],
    }, **bearer(bj_planner.user))
    assert response.status_code == 201, response.content
    assert len(response.json()["photos"]) == 2


def test_api_refusals_are_4xx_with_chinese_messages(bj_planner, bj_other_unit, district_haidian, bearer, client):
    response = client.post("/api/v1/case-submissions", {"unit": bj_other_unit.pk, "title": "t", "duty_category": "research",
                                                        "summary": "s", "body": BODY},
                           content_type="application/json", **bearer(bj_planner.user))
    assert response.status_code == 403 and response.json()["code"] == "not_your_unit"
    response = client.post("/api/v1/case-submissions", {"unit": 99999999, "title": "t"}, content_type="application/json",
                           **bearer(bj_planner.user))
    assert response.status_code == 404
    response = client.post("/api/v1/case-submissions", "[]", content_type="application/json", **bearer(bj_planner.user))
    assert response.status_code == 400 and "JSON" in response.json()["message"]
    response = client.get("/api/v1/cases?limit=0")
    assert response.status_code == 400 and response.json()["code"] == "invalid_page"
    assert not Case.objects.exists()


def test_the_review_api_is_for_the_city_administrator(bj_planner, bj_unit, district_haidian, pds_admin, bearer, client, submit):
    case = submit(bj_planner.user, bj_unit)
    response = client.post(f"/api/v1/case-submissions/{case.pk}/review", {"decision": "publish"},
                           content_type="application/json", **bearer(district_haidian))
    assert response.status_code == 403
    response = client.post(f"/api/v1/case-submissions/{case.pk}/review", {"decision": "publish"},
                           content_type="application/json", **bearer(pds_admin))
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_the_staff_list_is_scoped(bj_planner, bj_unit, city_admin, district_chaoyang, pds_admin, bearer, client, submit):
    case = submit(bj_planner.user, bj_unit)
    ids = lambda user: [i["id"] for i in client.get("/api/v1/case-submissions", **bearer(user)).json()["items"]]
    assert ids(city_admin) == [case.pk]
    assert ids(bj_planner.user) == [case.pk]
    assert ids(district_chaoyang) == []
    assert ids(pds_admin) == []
    assert client.get(f"/api/v1/case-submissions/{case.pk}", **bearer(district_chaoyang)).status_code == 404
    assert client.get("/api/v1/case-submissions").status_code == 401
