"""The JSON API: anonymous submission and tracking, throttling, scoping, the acts, and constant query counts."""
import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rpms.suggestions import services
from rpms.suggestions.models import Suggestion, SuggestionStatus

from .conftest import RESIDENT_NAME, RESIDENT_PHONE, image_file, submit

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def post_json(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", **headers)


def _submit_api(client, unit, **extra):
    data = {"category": "problem", "content": "小区门口的人行道坑洼不平，老人出行不便。", "contact_name": RESIDENT_NAME,
            "contact_phone": RESIDENT_PHONE, **extra}
    return post_json(client, f"/api/v1/public/units/{unit.pk}/suggestions", data)


@pytest.mark.parametrize("unit_name,planner_name", [("bj_unit", "bj_planner"), ("pds_unit", "pds_planner")])
def test_anonymous_post_returns_a_tracking_code_and_tracking_shows_the_reply_not_the_contact(request, clock, unit_name, planner_name):
    unit = request.getfixturevalue(unit_name)
    planner = request.getfixturevalue(planner_name)
    response = _submit_api(Client(), unit)
    assert response.status_code == 201, response.content
    code = response.json()["tracking_code"]
    suggestion = Suggestion.objects.get(tracking_code=code)
    assert suggestion.contact_phone == RESIDENT_PHONE
    assert list(suggestion.recipients.values_list("planner_id", flat=True)) == [planner.pk]
    services.suggestion_reply(actor=planner.user, suggestion=suggestion, text="已报请道路养护单位修补。")

    body = Client().get(f"/api/v1/public/suggestions/{code.lower()}")
    assert body.status_code == 200
    data = body.json()
    assert data["status"] == SuggestionStatus.ANSWERED
    assert data["replies"][0]["text"] == "已报请道路养护单位修补。"
    assert data["replies"][0]["author"] == f"责任规划师 {planner.name}"
    raw = body.content.decode()
    assert RESIDENT_PHONE not in raw and "5678" not in raw and RESIDENT_NAME not in raw
    assert "contact" not in raw


def test_multipart_submission_with_photos(clock, bj_unit, bj_planner):
    response = Client().post(f"/api/v1/public/units/{bj_unit.pk}/suggestions", data={
        "category": "suggestion", "content": "建议在社区广场增设休息座椅。", "street": "110108001",
        "photos": [image_file("a.png"), image_file("b.jpg", fmt="JPEG")],
    })
    assert response.status_code == 201, response.content
    suggestion = Suggestion.objects.get(tracking_code=response.json()["tracking_code"])
    assert suggestion.photos.count() == 2 and suggestion.subdistrict.code == "110108001"


@pytest.mark.parametrize("data,status,code", [
    ({"category": "problem", "content": "短"}, 400, "invalid_content"),
    ({"category": "x", "content": "内容足够长的问题反映"}, 400, "invalid_category"),
    ({"category": "problem", "content": "内容足够长的问题反映", "contact_phone": "110"}, 400, "invalid_mobile"),
    ({"category": "problem", "content": "内容足够长的问题反映", "street": "110105001"}, 400, "subdistrict_not_in_unit"),
    ({"category": "problem", "content": {"nested": 1}}, 400, "invalid_input"),
])
def test_bad_public_input_is_a_4xx_with_a_chinese_message(clock, bj_unit, data, status, code):
    response = post_json(Client(), f"/api/v1/public/units/{bj_unit.pk}/suggestions", data)
    assert response.status_code == status
    assert response.json()["code"] == code and CJK.search(response.json()["message"])
    assert Suggestion.objects.count() == 0


def test_broken_json_and_unknown_units_are_refused_in_chinese(clock, bj_unit):
    client = Client()
    response = client.post(f"/api/v1/public/units/{bj_unit.pk}/suggestions", data="{oops", content_type="application/json")
    assert response.status_code == 400 and CJK.search(response.json()["message"])
    response = _submit_api(client, type("U", (), {"pk": 999999})())
    assert response.status_code == 404 and CJK.search(response.json()["message"])
    assert client.get("/api/v1/public/suggestions/NOSUCHCODE").status_code == 404


def test_a_burst_from_one_address_is_throttled_and_accepted_ones_are_kept(clock, bj_unit):
    client = Client()
    codes = []
    for _ in range(5):
        response = _submit_api(client, bj_unit)
        assert response.status_code == 201
        codes.append(response.json()["tracking_code"])
    refused = _submit_api(client, bj_unit)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "已成功提交的意见建议均已保存" in refused.json()["message"]
    assert sorted(Suggestion.objects.values_list("tracking_code", flat=True)) == sorted(codes)
    for code in codes:
        assert client.get(f"/api/v1/public/suggestions/{code}").status_code == 200
    # another address is not affected
    assert _submit_api(Client(REMOTE_ADDR="10.1.2.3"), bj_unit).status_code == 201


def test_tracking_lookups_are_throttled(clock, bj_unit, settings):
    settings.RPMS_SUGGESTION_LOOKUP_RATE = (3, 600)
    client = Client()
    statuses = [client.get("/api/v1/public/suggestions/ABCDEFGHJK").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]


def test_public_list_shows_visible_suggestions_with_replies_and_no_contact(clock, bj_unit, bj_planner, city_admin):
    shown = submit(bj_unit)
    hidden = submit(bj_unit, content="这条内容含有不当言论需要隐藏。")
    services.suggestion_reply(actor=bj_planner.user, suggestion=shown, text="已安排维修。")
    services.suggestion_hide(actor=city_admin, suggestion=hidden, reason="含不当言论")
    response = Client().get(f"/api/v1/public/units/{bj_unit.pk}/suggestions")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1 and [i["id"] for i in data["items"]] == [shown.pk]
    assert data["items"][0]["replies"][0]["text"] == "已安排维修。"
    raw = response.content.decode()
    assert RESIDENT_PHONE not in raw and RESIDENT_NAME not in raw and "不当言论" not in raw
    assert "tracking_code" not in raw  # the code is the resident's key, not listed
    tracked = Client().get(f"/api/v1/public/suggestions/{hidden.tracking_code}").json()
    assert tracked["hidden"] is True and tracked["hidden_reason"] == "含不当言论"
    assert "content" not in tracked and tracked["replies"] == []


def test_staff_list_is_scoped(clock, bj_unit, bj_other_unit, bj_chaoyang_unit, bj_planner, bj_other_planner, pds_unit,
                              district_haidian, district_chaoyang, city_admin, pds_admin, auditor, street_office, bearer):
    a, b, c, d = submit(bj_unit), submit(bj_other_unit), submit(bj_chaoyang_unit), submit(pds_unit)

    def ids(user):
        response = Client().get("/api/v1/suggestions", **bearer(user))
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids(bj_planner.user) == {a.pk}
    assert ids(bj_other_planner.user) == {b.pk}
    assert ids(district_haidian) == {a.pk, b.pk}
    assert ids(district_chaoyang) == {c.pk}
    assert ids(city_admin) == {a.pk, b.pk, c.pk}
    assert ids(pds_admin) == {d.pk}
    assert ids(auditor) == {a.pk, b.pk, c.pk, d.pk}
    assert Client().get("/api/v1/suggestions", **bearer(street_office)).status_code == 403
    assert Client().get("/api/v1/suggestions").status_code == 401


def test_out_of_scope_records_are_404(clock, bj_unit, bj_planner, bj_other_planner, district_chaoyang, pds_admin, bearer,
                                      haidian_department):
    suggestion = submit(bj_unit)
    for user in (district_chaoyang, bj_other_planner.user, pds_admin):
        headers = bearer(user)
        assert Client().get(f"/api/v1/suggestions/{suggestion.pk}", **headers).status_code == 404
        response = post_json(Client(), f"/api/v1/suggestions/{suggestion.pk}/reply", {"text": "越权答复的内容"}, **headers)
        assert response.status_code == 404
    response = post_json(Client(), f"/api/v1/suggestions/{suggestion.pk}/forward",
                         {"department_id": haidian_department.pk}, **bearer(district_chaoyang))
    assert response.status_code == 404
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.RECEIVED and not suggestion.replies.exists()


def test_contact_is_full_for_handlers_and_masked_for_city_wide_readers(clock, bj_unit, bj_planner, district_haidian, city_admin,
                                                                       auditor, bearer):
    suggestion = submit(bj_unit)
    for user, phone in ((bj_planner.user, RESIDENT_PHONE), (district_haidian, RESIDENT_PHONE),
                        (city_admin, "139****5678"), (auditor, "139****5678")):
        data = Client().get(f"/api/v1/suggestions/{suggestion.pk}", **bearer(user)).json()
        assert data["contact_phone"] == phone, user


def test_acts_through_the_api(clock, bj_unit, bj_planner, haidian_department, city_admin, district_haidian, bearer):
    suggestion = submit(bj_unit)
    headers = bearer(bj_planner.user)
    base = f"/api/v1/suggestions/{suggestion.pk}"
    response = post_json(Client(), f"{base}/forward", {"department_id": haidian_department.pk, "note": "请城管委处理"}, **headers)
    assert response.status_code == 200 and response.json()["status"] == "forwarded"
    assert response.json()["forwarded_to"]["name"] == haidian_department.name
    response = post_json(Client(), f"{base}/department-answer", {"text": "已修复", "answered_on": "2026-03-02"}, **headers)
    assert response.status_code == 200 and response.json()["department_answer"] == "已修复"
    response = post_json(Client(), f"{base}/department-answer", {"text": "再次登记", "answered_on": "2026-03-02"}, **headers)
    assert response.status_code == 409 and CJK.search(response.json()["message"])
    response = post_json(Client(), f"{base}/reply", {"text": "经城管委处理，已修复。"}, **headers)
    assert response.status_code == 200 and response.json()["status"] == "answered"
    response = post_json(Client(), f"{base}/close", {"note": "已办结"}, **headers)
    assert response.status_code == 200 and response.json()["status"] == "closed"
    # moderation: city administrator only, with a reason
    assert post_json(Client(), f"{base}/hide", {"reason": "含不当内容"}, **bearer(district_haidian)).status_code == 403
    response = post_json(Client(), f"{base}/hide", {}, **bearer(city_admin))
    assert response.status_code == 422 and CJK.search(response.json()["message"])
    response = post_json(Client(), f"{base}/hide", {"reason": "  "}, **bearer(city_admin))
    assert response.status_code == 400
    response = post_json(Client(), f"{base}/hide", {"reason": "含不当内容"}, **bearer(city_admin))
    assert response.status_code == 200 and response.json()["hidden"] is True
    assert Suggestion.objects.filter(pk=suggestion.pk).exists()
    assert Client().delete(base, **bearer(city_admin)).status_code == 405


def test_overdue_filter_in_the_api(clock, bj_unit, district_haidian, bearer):
    clock.set(dt.date(2026, 9, 29))
    late = submit(bj_unit)
    clock.set(dt.date(2026, 10, 15))
    fresh = submit(bj_unit)
    clock.set(dt.date(2026, 10, 19))
    data = Client().get("/api/v1/suggestions?overdue=1", **bearer(district_haidian)).json()
    assert [i["id"] for i in data["items"]] == [late.pk]
    everything = Client().get("/api/v1/suggestions", **bearer(district_haidian)).json()["items"]
    assert {i["id"]: i["overdue"] for i in everything} == {late.pk: True, fresh.pk: False}


def test_work_proposals_through_the_api(clock, bj_unit, bj_planner, street_office, district_chaoyang, bearer):
    first, second = submit(bj_unit), submit(bj_unit)
    response = post_json(Client(), "/api/v1/work-proposals", {
        "unit_id": bj_unit.pk, "title": "关于东门照明的工作建议", "analysis": "两位居民反映照明不足。",
        "recommendation": "建议增设路灯。", "suggestion_ids": [first.pk, second.pk]}, **bearer(bj_planner.user))
    assert response.status_code == 201, response.content
    proposal = response.json()
    assert {s["id"] for s in proposal["suggestions"]} == {first.pk, second.pk}
    assert RESIDENT_PHONE not in response.content.decode()
    listed = Client().get("/api/v1/work-proposals", **bearer(street_office)).json()
    assert [p["id"] for p in listed["items"]] == [proposal["id"]]
    assert Client().get(f"/api/v1/work-proposals/{proposal['id']}", **bearer(district_chaoyang)).status_code == 404
    response = post_json(Client(), f"/api/v1/work-proposals/{proposal['id']}/acknowledge", {"note": "已收悉"}, **bearer(street_office))
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def test_lists_keep_a_constant_query_count(clock, bj_unit, bj_planner, district_haidian, street_office, bearer,
                                           haidian_department, django_assert_max_num_queries):
    staff_headers = bearer(district_haidian)
    entity_headers = bearer(street_office)

    def add(n):
        made = []
        for _ in range(n):
            s = submit(bj_unit, photos=[image_file()])
            services.suggestion_reply(actor=bj_planner.user, suggestion=s, text="已答复的内容。")
            services.suggestion_forward(actor=bj_planner.user, suggestion=s, department=haidian_department)
            made.append(s)
        services.work_proposal_submit(actor=bj_planner.user, unit=bj_unit, title="工作建议", analysis="分析",
                                      recommendation="建议", suggestions=made)

    def staff():
        assert Client().get("/api/v1/suggestions", **staff_headers).status_code == 200

    def public():
        assert Client().get(f"/api/v1/public/units/{bj_unit.pk}/suggestions").status_code == 200

    def proposals():
        assert Client().get("/api/v1/work-proposals", **entity_headers).status_code == 200

    def page():
        client = Client()
        client.force_login(district_haidian)
        assert client.get("/suggestions/manage/").status_code == 200

    add(2)
    few = [_queries(fn) for fn in (staff, public, proposals, page)]
    add(8)
    many = [_queries(fn) for fn in (staff, public, proposals, page)]
    assert few == many
    with django_assert_max_num_queries(12):
        public()
