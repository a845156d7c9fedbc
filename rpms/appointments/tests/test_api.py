"""The appointments API: creation and its 409s, scoping, PDFs, list query counts."""
import io
import json

import pytest
from pdfminer.high_level import extract_text

from rpms.appointments import services
from rpms.testing.builders import appointment_build

from .conftest import make_planner, units_of

pytestmark = pytest.mark.django_db


def post(client, path, headers, data=None):
    return client.post(path, data=json.dumps(data or {}), content_type="application/json", **headers)


def test_post_appointments_returns_201_with_the_appointment(client, bearer, pds_admin, pds_unit, pds_planner, clock):
    # P6(2): where the city dispatches, its bureau appoints directly
    response = post(client, "/api/v1/appointments", bearer(pds_admin),
                    {"planner": pds_planner.pk, "unit": pds_unit.pk, "role": "responsible_planner",
                     "start": clock.today.isoformat(), "fee_yuan": 80000})
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body["planner"]["name"] == "韩若溪" and body["unit"]["id"] == pds_unit.pk
    assert body["status"] == "active" and body["fee_yuan"] == 80000 and body["contract_state"] == "unsigned"
    assert {d["kind"] for d in body["documents"]} == {"dispatch_notice", "appointment_certificate", "appointment_contract"}
    assert pds_planner.id_number not in response.content.decode() and pds_planner.mobile not in response.content.decode()


def test_hard_rules_answer_409_with_a_chinese_detail(client, bearer, street_office, beijing, haidian, wanshou, bj_planner,
                                                     clock):
    # Beijing: the hard rules hold at the entity's proposal already (and again at the district's approval)
    headers = bearer(street_office)
    for unit in [u for u in units_of(haidian, 4) if u.pk != wanshou.pk][:3]:
        appointment_build(unit=unit, planner=bj_planner)

    def propose(planner, role="responsible_planner"):
        return post(client, "/api/v1/appointments/proposals", headers, {"planner": planner.pk, "unit": wanshou.pk,
                    "role": role, "start": clock.today.isoformat()})

    over_cap = propose(bj_planner)
    assert over_cap.status_code == 409 and over_cap.json()["code"] == "unit_cap_reached"
    assert "不得超过 3 个" in over_cap.json()["detail"]

    serving = make_planner(beijing, "已在任者")
    appointment_build(unit=wanshou, planner=serving)
    same_unit = propose(serving, role="responsible_architect")
    assert same_unit.status_code == 409 and "同一责任单元" in same_unit.json()["detail"]

    candidate = make_planner(beijing, "待入库者", pool_status="candidate")
    not_in_pool = propose(candidate)
    assert not_in_pool.status_code == 409 and "资源库" in not_in_pool.json()["detail"]

    wrong_role = propose(make_planner(beijing, "另一人"), role="wizard")
    assert wrong_role.status_code == 409 and "不是北京市规定的角色" in wrong_role.json()["detail"]


def test_another_citys_unit_is_404(client, bearer, pds_admin, wanshou, bj_planner, clock):
    response = post(client, "/api/v1/appointments", bearer(pds_admin), {"planner": bj_planner.pk, "unit": wanshou.pk,
                    "role": "responsible_planner", "start": clock.today.isoformat()})
    assert response.status_code == 404


def test_malformed_input_is_400_in_chinese(client, bearer, pds_admin, pds_unit, pds_planner):
    headers = bearer(pds_admin)
    bad_date = post(client, "/api/v1/appointments", headers, {"planner": pds_planner.pk, "unit": pds_unit.pk,
                    "role": "responsible_planner", "start": "明天"})
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.json()["detail"]
    missing = post(client, "/api/v1/appointments", headers, {"unit": pds_unit.pk})
    assert missing.status_code == 400 and "责任规划师编号" in missing.json()["detail"]
    not_json = client.post("/api/v1/appointments", data="{", content_type="application/json", **headers)
    assert not_json.status_code == 400


def test_anonymous_cannot_create(client, wanshou, bj_planner):
    response = client.post("/api/v1/appointments", data=json.dumps({"planner": bj_planner.pk, "unit": wanshou.pk}),
                           content_type="application/json")
    assert response.status_code == 401


def test_detail_is_scoped_to_the_parties(client, bearer, city_admin, district_haidian, district_chaoyang, street_office,
                                         planner_user, auditor, pds_admin, wanshou, bj_planner, clock):
    appointment = appointment_build(unit=wanshou, planner=bj_planner)
    path = f"/api/v1/appointments/{appointment.pk}"
    for user in (city_admin, district_haidian, street_office, auditor, bj_planner.user):
        assert client.get(path, **bearer(user)).status_code == 200, user.username
    for user in (district_chaoyang, planner_user, pds_admin):
        assert client.get(path, **bearer(user)).status_code == 404, user.username
    assert client.get(f"{path}/contract.pdf", **bearer(district_chaoyang)).status_code == 404


def test_the_three_pdfs_download_for_the_parties(client, bearer, city_admin, district_haidian, wanshou, bj_planner, clock):
    appointment = appointment_build(unit=wanshou, planner=bj_planner)
    headers = bearer(district_haidian)
    for suffix, title in (("certificate.pdf", "聘任证书"), ("dispatch-notice.pdf", "派驻通知"), ("contract.pdf", "聘用合同")):
        response = client.get(f"/api/v1/appointments/{appointment.pk}/{suffix}", **headers)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        text = "".join(extract_text(io.BytesIO(response.content)).split())
        assert title in text and "林清源" in text


def test_list_filters_and_is_scoped(client, bearer, city_admin, district_haidian, district_chaoyang, beijing, haidian,
                                    chaoyang, clock):
    for index, unit in enumerate(units_of(haidian, 2) + units_of(chaoyang, 1)):
        appointment_build(unit=unit, planner=make_planner(beijing))
    everything = client.get("/api/v1/appointments", **bearer(city_admin)).json()
    assert everything["count"] == 3
    assert client.get("/api/v1/appointments", **bearer(district_haidian)).json()["count"] == 2
    assert client.get("/api/v1/appointments", **bearer(district_chaoyang)).json()["count"] == 1
    by_district = client.get(f"/api/v1/appointments?district={chaoyang.code}", **bearer(city_admin)).json()
    assert by_district["count"] == 1 and by_district["results"][0]["district"]["name"] == "朝阳区"
    assert client.get("/api/v1/appointments?status=terminated", **bearer(city_admin)).json()["count"] == 0
    assert client.get("/api/v1/appointments?status=active", **bearer(city_admin)).json()["count"] == 3
    bad = client.get("/api/v1/appointments?status=bogus", **bearer(city_admin))
    assert bad.status_code == 400 and "未知的状态" in bad.json()["detail"]


def test_list_query_count_does_not_grow_with_rows(client, bearer, city_admin, beijing, haidian, clock,
                                                  django_assert_max_num_queries):
    headers = bearer(city_admin)
    units = units_of(haidian, 12)
    appointment_build(unit=units[0], planner=make_planner(beijing))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/appointments", **headers).json()["count"] == 1
    for unit in units[1:]:
        appointment_build(unit=unit, planner=make_planner(beijing))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/appointments", **headers).json()["count"] == 12


def test_district_chief_api(client, bearer, district_haidian, district_chaoyang, haidian, bj_planner, clock):
    path = f"/api/v1/districts/{haidian.pk}/chief"
    response = post(client, path, bearer(district_haidian), {"planner": bj_planner.pk, "start": clock.today.isoformat()})
    assert response.status_code == 201 and response.json()["planner"]["name"] == "林清源"
    assert post(client, path, bearer(district_chaoyang), {"planner": bj_planner.pk,
                "start": clock.today.isoformat()}).status_code == 404


def test_withdrawal_list_and_proposals_endpoints(client, bearer, city_admin, district_chaoyang, wanshou, bj_planner,
                                                 beijing, clock):
    appointment = appointment_build(unit=wanshou, planner=bj_planner,
                                    withdrawal_notice_working_days=15)  # the contract's own notice (B25)
    earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    withdrawal = services.withdrawal_request(actor=bj_planner.user, appointment=appointment, leave_date=earliest,
                                             reason="工作变动")
    candidate = make_planner(beijing, "接任候选")
    listing = client.get("/api/v1/withdrawals?pending=true", **bearer(city_admin)).json()["results"]
    assert [w["id"] for w in listing] == [withdrawal.pk] and listing[0]["leave_date"] == earliest.isoformat()
    assert client.get("/api/v1/withdrawals", **bearer(district_chaoyang)).json()["results"] == []
    proposals = client.get(f"/api/v1/withdrawals/{withdrawal.pk}/proposals", **bearer(city_admin)).json()
    assert candidate.pk in [p["planner"] for p in proposals["proposals"]]
    assert bj_planner.pk not in [p["planner"] for p in proposals["proposals"]]
    assert client.get(f"/api/v1/withdrawals/{withdrawal.pk}/proposals", **bearer(district_chaoyang)).status_code == 404


def test_disclosure_can_be_suspended_by_the_city_with_a_reason(client, bearer, city_admin, district_haidian, wanshou,
                                                               bj_planner, beijing, clock, anon):
    from rpms.core.models import ActionLog

    appointment = appointment_build(unit=wanshou, planner=bj_planner, filed=True)
    assert anon.get(f"/api/v1/public/units/{wanshou.pk}").json()["appointments"]
    from rpms.core.errors import DomainError, Forbidden

    with pytest.raises(DomainError):
        services.appointment_disclosure_set(actor=city_admin, appointment=appointment, disclosed=False, reason="")
    with pytest.raises(Forbidden):
        services.appointment_disclosure_set(actor=district_haidian, appointment=appointment, disclosed=False, reason="核对")
    services.appointment_disclosure_set(actor=city_admin, appointment=appointment, disclosed=False, reason="信息更正中")
    assert anon.get(f"/api/v1/public/units/{wanshou.pk}").json()["appointments"] == []
    row = ActionLog.objects.get(action="appointments.appointment_disclosure_set")
    assert row.article == "B19(7)" and row.after["reason"] == "信息更正中"


def test_pending_lists_show_unfiled_contracts_and_termination_requests(city_admin, district_haidian, street_office,
                                                                       wanshou, bj_planner, clock):
    from rpms.appointments.selectors import pending_items

    from rpms.testing.builders import appointment_sign

    appointment = appointment_build(unit=wanshou, planner=bj_planner)
    # B19(3): first the entity signs and uploads; only a submitted contract waits for the district's filing
    assert not [i for i in pending_items(district_haidian) if i.title == "聘用合同待备案"]
    [to_sign] = [i for i in pending_items(street_office) if i.title.startswith("聘用合同待上传签订文本")]
    assert to_sign.count == 1
    appointment_sign(appointment=appointment, signer=street_office)
    [unfiled] = [i for i in pending_items(district_haidian) if i.title == "聘用合同待备案"]
    assert unfiled.count == 1
    assert not [i for i in pending_items(street_office) if i.title.startswith("聘用合同待上传签订文本")]
    services.termination_request(actor=bj_planner.user, appointment=appointment, initiator="planner", reason="调动")
    [waiting] = [i for i in pending_items(street_office) if "待同意" in i.title]
    assert waiting.count == 1
    assert not [i for i in pending_items(city_admin) if "待同意" in i.title]  # Beijing: the street office consents
    from rpms.core.pending import PENDING_PROVIDERS

    assert any(getattr(p, "__module__", "") == "rpms.appointments.selectors" for p in PENDING_PROVIDERS)
