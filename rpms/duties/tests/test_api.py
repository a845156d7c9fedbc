"""The duties API: /api/v1/duty-records, /data-requests, /work-certificates, /extra-work, /monitoring-feedback."""
import datetime as dt
import json

import pytest

from rpms.core.models import ActionLog
from rpms.duties import services
from rpms.duties.models import DownloadLog, DutyRecord

from .conftest import PDF, upload

pytestmark = pytest.mark.django_db


def _post(client, url, data, headers):
    return client.post(url, data=json.dumps(data, default=str), content_type="application/json", **headers)


def _record_payload(unit, **overrides):
    payload = {"unit": unit.pk, "category": "research", "date": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
               "hours": 2.5, "place": "社区活动室", "description": "走访老旧小区", "participants": "社区书记",
               "focus": ["老旧小区综合整治"]}
    payload.update(overrides)
    return payload


def test_a_planner_records_through_the_api_and_lists_its_records(client, bearer, bj_planner, bj_unit):
    headers = bearer(bj_planner.user)
    response = _post(client, "/api/v1/duty-records", _record_payload(bj_unit), headers)
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["status"] == "submitted" and body["category_label"] == "强化调查研究"
    assert body["hours"] == 2.5 and body["focus"] == ["老旧小区综合整治"]
    listing = client.get("/api/v1/duty-records", **headers).json()
    assert [r["id"] for r in listing] == [body["id"]]


def test_recording_for_a_unit_not_served_is_403_with_a_chinese_message(client, bearer, bj_planner, bj_other_unit):
    response = _post(client, "/api/v1/duty-records", _record_payload(bj_other_unit), bearer(bj_planner.user))
    assert response.status_code == 403
    assert response.json()["code"] == "not_serving"
    assert "未受聘服务" in response.json()["message"]
    assert not DutyRecord.objects.exists()


@pytest.mark.parametrize("override,code", [
    ({"category": "consulting"}, "invalid_category"),
    ({"hours": 25}, "invalid_hours"),
    ({"hours": 0}, "invalid_hours"),
    ({"date": (dt.date.today() + dt.timedelta(days=2)).isoformat()}, "date_in_future"),
    ({"focus": ["不存在的重点"]}, "invalid_focus"),
])
def test_bad_records_are_refused_with_4xx_never_500(client, bearer, bj_planner, bj_unit, override, code):
    response = _post(client, "/api/v1/duty-records", _record_payload(bj_unit, **override), bearer(bj_planner.user))
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_malformed_input_is_a_chinese_422(client, bearer, bj_planner, bj_unit):
    response = _post(client, "/api/v1/duty-records", _record_payload(bj_unit, date="昨天"), bearer(bj_planner.user))
    assert response.status_code == 422
    assert "请求参数有误" in response.json()["message"]


def test_options_list_the_city_categories_and_the_unit_focus_checklist(client, bearer, bj_planner, bj_unit, pds_planner,
                                                                      pds_unit):
    body = client.get(f"/api/v1/duty-records/options?unit={bj_unit.pk}", **bearer(bj_planner.user)).json()
    assert len(body["categories"]) == 6
    assert body["zone_types"][0]["label"] == "中心城区" and "公共设施增补" in body["zone_types"][0]["focus"]
    body = client.get(f"/api/v1/duty-records/options?unit={pds_unit.pk}", **bearer(pds_planner.user)).json()
    assert [c["article"] for c in body["categories"]] == ["P3(1)", "P3(2)", "P3(3)", "P3(4)"]
    assert body["zone_types"] == []
    assert client.get(f"/api/v1/duty-records/options?unit={bj_unit.pk}", **bearer(pds_planner.user)).status_code == 404


def test_a_confirmed_record_cannot_be_changed_or_deleted_through_the_api(client, bearer, bj_planner, bj_unit, street_office):
    planner_headers = bearer(bj_planner.user)
    record_id = _post(client, "/api/v1/duty-records", _record_payload(bj_unit), planner_headers).json()["id"]
    response = client.post(f"/api/v1/duty-records/{record_id}/confirm", **bearer(street_office))
    assert response.status_code == 200 and response.json()["locked"] is True
    patch = client.patch(f"/api/v1/duty-records/{record_id}", data=json.dumps({"hours": 1}),
                         content_type="application/json", **planner_headers)
    assert patch.status_code == 409 and patch.json()["code"] == "duty_record_locked"
    delete = client.delete(f"/api/v1/duty-records/{record_id}", **planner_headers)
    assert delete.status_code == 409
    evidence = client.post(f"/api/v1/duty-records/{record_id}/evidence", {"file": upload()}, **planner_headers)
    assert evidence.status_code == 409
    assert float(DutyRecord.objects.get(pk=record_id).hours) == 2.5


def test_query_and_answer_through_the_api(client, bearer, bj_planner, bj_unit, street_office):
    planner_headers, entity_headers = bearer(bj_planner.user), bearer(street_office)
    record_id = _post(client, "/api/v1/duty-records", _record_payload(bj_unit, hours=6), planner_headers).json()["id"]
    assert _post(client, f"/api/v1/duty-records/{record_id}/query", {"question": ""}, entity_headers).status_code == 400
    body = _post(client, f"/api/v1/duty-records/{record_id}/query", {"question": "时长偏长？"}, entity_headers).json()
    assert body["status"] == "queried"
    assert client.post(f"/api/v1/duty-records/{record_id}/confirm", **entity_headers).status_code == 409
    body = _post(client, f"/api/v1/duty-records/{record_id}/answer", {"answer": "改为 3 小时", "changes": {"hours": 3}},
                 planner_headers).json()
    assert body["status"] == "submitted" and body["hours"] == 3.0
    assert body["queries"][0]["answer"] == "改为 3 小时"


def test_others_cannot_see_or_confirm_a_record(client, bearer, bj_planner, bj_unit, other_entity, district_chaoyang):
    record_id = _post(client, "/api/v1/duty-records", _record_payload(bj_unit), bearer(bj_planner.user)).json()["id"]
    for outsider in (other_entity, district_chaoyang):
        headers = bearer(outsider)
        assert client.get(f"/api/v1/duty-records/{record_id}", **headers).status_code == 404
        assert client.post(f"/api/v1/duty-records/{record_id}/confirm", **headers).status_code == 404


def test_evidence_upload_and_download_through_the_api(client, bearer, bj_planner, bj_unit, district_haidian, bj_other):
    headers = bearer(bj_planner.user)
    record_id = _post(client, "/api/v1/duty-records", _record_payload(bj_unit), headers).json()["id"]
    response = client.post(f"/api/v1/duty-records/{record_id}/evidence", {"file": upload("纪要.pdf"), "label": "会议纪要"},
                           **headers)
    assert response.status_code == 201 and response.json()["kind"] == "pdf"
    evidence_id = response.json()["id"]
    download = client.get(f"/api/v1/duty-records/{record_id}/evidence/{evidence_id}", **bearer(district_haidian))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert client.get(f"/api/v1/duty-records/{record_id}/evidence/{evidence_id}", **bearer(bj_other.user)).status_code == 404
    bad = client.post(f"/api/v1/duty-records/{record_id}/evidence", {"file": upload("x.pdf", b"<html>no</html>")}, **headers)
    assert bad.status_code == 400 and bad.json()["code"] == "upload_type_not_allowed"


def test_summary_and_unit_summary_endpoints(client, bearer, bj_planner, bj_unit, district_haidian):
    headers = bearer(bj_planner.user)
    today = dt.date.today()
    _post(client, "/api/v1/duty-records", _record_payload(bj_unit, date=today.isoformat(), hours=2), headers)
    _post(client, "/api/v1/duty-records", _record_payload(bj_unit, date=today.isoformat(), hours=1.5,
                                                          category="public_liaison"), headers)
    body = client.get(f"/api/v1/duty-records/summary?year={today.year}&month={today.month}", **headers).json()
    assert body["total_hours"] == 3.5 and body["records"] == 2
    assert {r["code"]: r["hours"] for r in body["rows"]}["public_liaison"] == 1.5
    body = client.get(f"/api/v1/duty-records/unit-summary?year={today.year}", **bearer(district_haidian)).json()
    assert body["rows"][0]["unit"] == bj_unit.name and body["rows"][0]["total_hours"] == 3.5
    assert client.get("/api/v1/duty-records/unit-summary", **headers).status_code == 403
    calendar = client.get(f"/api/v1/duty-records/calendar?year={today.year}&month={today.month}", **headers).json()
    day = next(d for week in calendar["weeks"] for d in week if d["date"] == today.isoformat())
    assert day["hours"] == 3.5 and len(day["records"]) == 2


def test_anonymous_calls_are_401(client, bj_unit):
    assert client.get("/api/v1/duty-records").status_code == 401
    assert _post(client, "/api/v1/duty-records", _record_payload(bj_unit), {}).status_code == 401


# --- data requests ---------------------------------------------------------------------------------


def test_data_request_flow_with_confidential_download_logging(client, bearer, bj_planner, bj_unit, street_office,
                                                              city_admin, bj_other):
    planner_headers, entity_headers = bearer(bj_planner.user), bearer(street_office)
    created = _post(client, "/api/v1/data-requests", {"unit": bj_unit.pk, "title": "控规图则", "content": "本街道控规图则"},
                    planner_headers)
    assert created.status_code == 201, created.content.decode()
    request_id = created.json()["id"]
    delivered = client.post(
        f"/api/v1/data-requests/{request_id}/deliver",
        {"files": [upload("未公开现状.pdf"), upload("公开图则.pdf")], "label": ["现状", "图则"], "public": ["false", "true"],
         "note": "请妥善保管"},
        **entity_headers,
    )
    assert delivered.status_code == 200, delivered.content.decode()
    materials = {m["label"]: m for m in delivered.json()["materials"]}
    assert materials["现状"]["public"] is False and materials["图则"]["public"] is True
    secret = materials["现状"]["id"]
    ok = client.get(f"/api/v1/data-requests/{request_id}/materials/{secret}", **planner_headers)
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == PDF
    assert client.get(f"/api/v1/data-requests/{request_id}/materials/{secret}", **bearer(city_admin)).status_code == 404
    assert client.get(f"/api/v1/data-requests/{request_id}/materials/{secret}", **bearer(bj_other.user)).status_code == 404
    assert DownloadLog.objects.filter(material_id=secret).count() == 1
    assert ActionLog.objects.filter(action="duties.data_material_download", article="B16(1)").count() == 1
    log = client.get(f"/api/v1/data-requests/{request_id}/downloads", **entity_headers).json()
    assert [row["user"] for row in log] == [bj_planner.user.username]
    again = _post(client, f"/api/v1/data-requests/{request_id}/refuse", {"reason": "x"}, entity_headers)
    assert again.status_code == 409


def test_a_refusal_through_the_api_needs_a_reason(client, bearer, bj_planner, bj_unit, street_office):
    request_id = _post(client, "/api/v1/data-requests", {"unit": bj_unit.pk, "title": "资料", "content": "内容"},
                       bearer(bj_planner.user)).json()["id"]
    assert _post(client, f"/api/v1/data-requests/{request_id}/refuse", {"reason": ""}, bearer(street_office)).status_code == 400
    body = _post(client, f"/api/v1/data-requests/{request_id}/refuse", {"reason": "涉密"}, bearer(street_office)).json()
    assert body["status"] == "refused" and body["refusal_reason"] == "涉密"


# --- work certificates -----------------------------------------------------------------------------


def test_work_certificate_through_the_api_with_pdf(client, bearer, bj_planner, bj_unit, street_office, record_factory):
    confirmed = services.duty_record_confirm(actor=street_office, record=record_factory(bj_planner, bj_unit, hours="3"))
    record_factory(bj_planner, bj_unit, hours="5", date=dt.date.today())  # unconfirmed: excluded
    headers = bearer(street_office)
    period = {"planner": bj_planner.pk, "start": (dt.date.today() - dt.timedelta(days=30)).isoformat(),
              "end": dt.date.today().isoformat()}
    preview = client.get("/api/v1/work-certificates/preview", period, **headers).json()
    assert preview["record_count"] == 1 and preview["total_hours"] == 3.0
    response = _post(client, "/api/v1/work-certificates", period, headers)
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["record_count"] == 1 and body["total_hours"] == 3.0 and confirmed.unit.name in body["units"]
    assert body["document"]["verification_code"] and body["document"]["status"] == "valid"
    pdf = client.get(body["pdf"], **bearer(bj_planner.user))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    verify = client.get(f"/api/v1/documents/verify/{body['document']['verification_code']}")
    assert verify.status_code == 200 and verify.json()["valid"] is True
    assert _post(client, "/api/v1/work-certificates", period, bearer(bj_planner.user)).status_code == 403


# --- extra work and feedback -----------------------------------------------------------------------


def test_extra_work_and_feedback_through_the_api(client, bearer, bj_planner, bj_unit, district_haidian, district_chaoyang):
    appointment = bj_planner.appointments.get()
    planner_headers = bearer(bj_planner.user)
    created = _post(client, "/api/v1/extra-work", {
        "appointment": appointment.pk, "kind": "feasibility", "title": "口袋公园可行性分析", "scope": "选址与实施路径",
        "fee_yuan": "50000.00", "party_a": "万寿路街道办事处", "contract_number": "KX-1",
        "contract_date": dt.date.today().isoformat()}, planner_headers)
    assert created.status_code == 201, created.content.decode()
    assert created.json()["kind_label"] == "可行性分析" and created.json()["fee_yuan"] == "50000.00"
    work_id = created.json()["id"]
    assert _post(client, f"/api/v1/extra-work/{work_id}/status", {"status": "completed"}, planner_headers).json()["status"] == "completed"
    assert client.get(f"/api/v1/extra-work/{work_id}", **bearer(district_chaoyang)).status_code == 404

    filed = _post(client, "/api/v1/monitoring-feedback", {"unit": bj_unit.pk, "source": "plan_implementation",
                                                           "title": "控规实施偏差", "description": "建筑退线不足"},
                  planner_headers)
    assert filed.status_code == 201
    feedback_id = filed.json()["id"]
    assert _post(client, f"/api/v1/monitoring-feedback/{feedback_id}/answer", {"answer": "已核查"},
                 bearer(district_chaoyang)).status_code == 404
    answered = _post(client, f"/api/v1/monitoring-feedback/{feedback_id}/answer", {"answer": "已责成整改"},
                     bearer(district_haidian))
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert client.get(f"/api/v1/monitoring-feedback/{feedback_id}", **planner_headers).json()["answer"] == "已责成整改"
