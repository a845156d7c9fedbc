"""Signing and filing the contract (B19(3), P6(3)): the signer uploads the signed, sealed PDF with its
signing date and the agreed fee; the district work team files it (or returns it with a reason), and
disclosure follows filing. In Pingdingshan the bureau signs and its submission files and discloses."""
import datetime as dt
import json

import pytest

from rpms.appointments import services, signing
from rpms.appointments.models import ContractState, SignedContract
from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.models import ActionLog
from rpms.testing.builders import SIGNED_PDF, appointment_build, signed_pdf

pytestmark = pytest.mark.django_db


def upload(client, headers, appointment, *, signed_on, fee="80000", file=None):
    data = {"signed_on": signed_on.isoformat() if isinstance(signed_on, dt.date) else signed_on, "fee_yuan": fee}
    if file is not False:
        data["file"] = file or signed_pdf()
    return client.post(f"/api/v1/appointments/{appointment.pk}/signed-contract", data=data, **headers)


def post(client, path, headers, body=None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json", **headers)


@pytest.fixture
def bj_appointment(wanshou, bj_planner, clock):
    return appointment_build(unit=wanshou, planner=bj_planner, fee_yuan=60000)


def test_filing_without_a_submitted_signed_contract_is_refused_with_409(client, bearer, district_haidian,
                                                                       bj_appointment):
    response = post(client, f"/api/v1/appointments/{bj_appointment.pk}/file", bearer(district_haidian))
    assert response.status_code == 409
    assert response.json()["code"] == "contract_not_submitted" and "尚未" in response.json()["detail"]
    bj_appointment.refresh_from_db()
    assert not bj_appointment.is_filed and not bj_appointment.disclosed


def test_return_with_a_reason_then_resubmit_then_file_discloses_on_the_public_unit_page(
    client, bearer, anon, street_office, district_haidian, bj_planner, wanshou, bj_appointment, clock
):
    first = upload(client, bearer(street_office), bj_appointment, signed_on=clock.today, fee="75000")
    assert first.status_code == 201, first.content.decode()
    body = first.json()
    assert body["appointment"]["contract_state"] == "submitted" and body["appointment"]["fee_yuan"] == 75000
    assert body["signed_contract"]["status"] == "submitted"
    assert "林清源" not in anon.get(f"/appointments/units/{wanshou.pk}/").content.decode()  # not before filing

    # nothing to re-submit while it waits; the district returns it with a reason
    assert upload(client, bearer(street_office), bj_appointment, signed_on=clock.today).status_code == 409
    path = f"/api/v1/appointments/{bj_appointment.pk}/file/return"
    assert post(client, path, bearer(district_haidian), {"reason": ""}).status_code == 400
    returned = post(client, path, bearer(district_haidian), {"reason": "缺少乙方签字页"})
    assert returned.status_code == 200 and returned.json()["contract_state"] == "returned"
    assert returned.json()["signed_contracts"][0]["return_reason"] == "缺少乙方签字页"
    refused = post(client, f"/api/v1/appointments/{bj_appointment.pk}/file", bearer(district_haidian))
    assert refused.status_code == 409 and "退回" in refused.json()["detail"]

    second = upload(client, bearer(street_office), bj_appointment, signed_on=clock.today, fee="80000")
    assert second.status_code == 201
    filed = post(client, f"/api/v1/appointments/{bj_appointment.pk}/file", bearer(district_haidian))
    assert filed.status_code == 200, filed.content.decode()
    detail = filed.json()
    assert detail["contract_state"] == "filed" and detail["filed"] and detail["disclosed"]
    assert [c["status"] for c in detail["signed_contracts"]] == ["returned", "filed"]
    assert detail["fee_yuan"] == 80000

    page = anon.get(f"/appointments/units/{wanshou.pk}/").content.decode()
    assert "林清源" in page
    assert [a["planner_name"] for a in anon.get(f"/api/v1/public/units/{wanshou.pk}").json()["appointments"]] == ["林清源"]
    # every act audited with its article
    assert ActionLog.objects.filter(action="appointments.signed_contract_submit", article="B19(3)").count() == 2
    assert ActionLog.objects.filter(action="appointments.signed_contract_return", article="B19(3)").count() == 1
    assert ActionLog.objects.get(action="appointments.appointment_file").article == "B19(3)、B19(7)"
    # once filed, nothing more to upload
    assert upload(client, bearer(street_office), bj_appointment, signed_on=clock.today).status_code == 409


def test_only_the_signer_uploads_and_the_filing_body_files(client, bearer, city_admin, district_haidian,
                                                          district_chaoyang, street_office, bj_planner,
                                                          bj_appointment, clock):
    # B19(3): in Beijing the hiring entity signs — not the city, not the district, not the planner
    for user in (city_admin, district_haidian, bj_planner.user):
        response = upload(client, bearer(user), bj_appointment, signed_on=clock.today)
        assert response.status_code == 403, user.username
        assert "甲方" in response.json()["detail"]
    assert upload(client, bearer(district_chaoyang), bj_appointment, signed_on=clock.today).status_code == 404
    assert not SignedContract.objects.exists()
    assert upload(client, bearer(street_office), bj_appointment, signed_on=clock.today).status_code == 201
    # the entity does not file its own contract; another district's officer does not see it
    assert post(client, f"/api/v1/appointments/{bj_appointment.pk}/file", bearer(street_office)).status_code == 403
    assert post(client, f"/api/v1/appointments/{bj_appointment.pk}/file", bearer(district_chaoyang)).status_code == 404
    assert post(client, f"/api/v1/appointments/{bj_appointment.pk}/file/return", bearer(street_office),
                {"reason": "x"}).status_code == 403
    assert post(client, f"/api/v1/appointments/{bj_appointment.pk}/file", bearer(city_admin)).status_code == 200


def test_the_scan_is_checked_and_dated_sensibly(client, bearer, street_office, bj_appointment, clock):
    headers = bearer(street_office)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    not_pdf = upload(client, headers, bj_appointment, signed_on=clock.today, file=signed_pdf("scan.png", png))
    assert not_pdf.status_code == 400
    renamed = upload(client, headers, bj_appointment, signed_on=clock.today,
                     file=signed_pdf("contract.pdf", b"MZ\x90\x00 not a pdf"))
    assert renamed.status_code == 400 and "PDF" in renamed.json()["detail"]
    missing = upload(client, headers, bj_appointment, signed_on=clock.today, file=False)
    assert missing.status_code == 400 and "扫描件" in missing.json()["detail"]
    future = upload(client, headers, bj_appointment, signed_on=clock.today + dt.timedelta(days=1))
    assert future.status_code == 400 and "晚于今天" in future.json()["detail"]
    early = upload(client, headers, bj_appointment, signed_on=clock.today - dt.timedelta(days=400))
    assert early.status_code == 400 and "过早" in early.json()["detail"]
    for fee in ("", "-5", "12.5", "一万"):
        assert upload(client, headers, bj_appointment, signed_on=clock.today, fee=fee).status_code == 400, fee
    assert not SignedContract.objects.exists()
    assert upload(client, headers, bj_appointment, signed_on=clock.today, fee="0").status_code == 201


def test_the_signed_scan_downloads_for_the_parties_only(client, bearer, anon, city_admin, district_haidian,
                                                       district_chaoyang, street_office, bj_planner, pds_admin,
                                                       bj_appointment, clock):
    upload(client, bearer(street_office), bj_appointment, signed_on=clock.today)
    path = f"/api/v1/appointments/{bj_appointment.pk}/signed-contract"
    for user in (street_office, bj_planner.user, district_haidian, city_admin):
        response = client.get(path, **bearer(user))
        assert response.status_code == 200, user.username
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == SIGNED_PDF
    for user in (district_chaoyang, pds_admin):
        assert client.get(path, **bearer(user)).status_code == 404
    assert anon.get(path).status_code == 401
    row = SignedContract.objects.get()
    assert anon.get(f"/appointments/{bj_appointment.pk}/signed-contract/{row.pk}/").status_code == 302  # to login
    assert row.path.startswith("signed_contracts/") and "/media/" not in row.path


def test_pingdingshan_bureau_submission_files_and_discloses_at_once(client, bearer, anon, pds_admin, pds_officer,
                                                                   pds_unit, pds_planner, clock):
    appointment = appointment_build(unit=pds_unit, planner=pds_planner)
    assert appointment.contract_state == ContractState.UNSIGNED and not appointment.disclosed
    # P6(3): the bureau signs; there is no filing body to file it
    refused = post(client, f"/api/v1/appointments/{appointment.pk}/file", bearer(pds_admin))
    assert refused.status_code == 409 and refused.json()["code"] == "no_filing_body"
    assert upload(client, bearer(pds_officer), appointment, signed_on=clock.today).status_code == 403
    response = upload(client, bearer(pds_admin), appointment, signed_on=clock.today, fee="0")
    assert response.status_code == 201, response.content.decode()
    detail = response.json()["appointment"]
    assert detail["contract_state"] == "filed" and detail["filed"] and detail["disclosed"]
    assert response.json()["signed_contract"]["status"] == "filed"
    cards = anon.get(f"/api/v1/public/units/{pds_unit.pk}").json()["appointments"]
    assert [c["planner_name"] for c in cards] == ["韩若溪"]
    [row] = ActionLog.objects.filter(action="appointments.signed_contract_submit")
    assert row.article == "P6(3)、P5(2)"
    assert not ActionLog.objects.filter(action="appointments.appointment_file").exists()
    assert post(client, f"/api/v1/appointments/{appointment.pk}/file/return", bearer(pds_admin),
                {"reason": "x"}).status_code == 409


def test_the_detail_page_shows_the_state_and_offers_each_party_its_act(login, street_office, district_haidian,
                                                                      bj_appointment, clock):
    entity_page = login(street_office).get(f"/appointments/{bj_appointment.pk}/").content.decode()
    assert "待签订上传" in entity_page and "上传签订的聘用合同" in entity_page and 'enctype="multipart/form-data"' in entity_page
    district = login(district_haidian)
    assert "备案并公开（下一步确认）" not in district.get(f"/appointments/{bj_appointment.pk}/").content.decode()

    client = login(street_office)
    bad = client.post(f"/appointments/{bj_appointment.pk}/signed-contract/",
                      {"signed_on": clock.today.isoformat(), "fee_yuan": "5万", "file": signed_pdf()})
    assert bad.status_code == 400 and "整数" in bad.content.decode() and 'value="5万"' in bad.content.decode()
    ok = client.post(f"/appointments/{bj_appointment.pk}/signed-contract/",
                     {"signed_on": clock.today.isoformat(), "fee_yuan": "50000", "file": signed_pdf()})
    assert ok.status_code == 302
    page = district.get(f"/appointments/{bj_appointment.pk}/").content.decode()
    assert "已提交待备案" in page and "备案并公开（下一步确认）" in page and "退回聘任主体更正" in page
    returned = district.post(f"/appointments/{bj_appointment.pk}/file/return/", {"reason": "签订日期有误"})
    assert returned.status_code == 302
    page = client.get(f"/appointments/{bj_appointment.pk}/").content.decode()
    assert "备案退回" in page and "签订日期有误" in page and "更正后重新提交" in page


def test_signing_services_refuse_the_wrong_party_and_the_wrong_state(street_office, district_haidian, city_admin,
                                                                    bj_appointment, clock):
    with pytest.raises(Forbidden):
        signing.signed_contract_submit(actor=city_admin, appointment=bj_appointment, file=signed_pdf(),
                                       signed_on=clock.today, fee_yuan=1)
    with pytest.raises(Conflict):
        signing.signed_contract_return(actor=district_haidian, appointment=bj_appointment, reason="无")
    with pytest.raises(DomainError):
        signing.signed_contract_submit(actor=street_office, appointment=bj_appointment, file=None,
                                       signed_on=clock.today, fee_yuan=1)
    signing.signed_contract_submit(actor=street_office, appointment=bj_appointment, file=signed_pdf(),
                                   signed_on=clock.today, fee_yuan=1)
    services.appointment_file(actor=district_haidian, appointment=bj_appointment)
    with pytest.raises(Conflict):
        services.appointment_file(actor=district_haidian, appointment=bj_appointment)
