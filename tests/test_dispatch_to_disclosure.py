"""Issues #4 and #11 end to end, through the API, in both cities: a district asks for planners → the city
accepts → matching proposes → in Pingdingshan confirming appoints; in Beijing (local selection) the city's
confirmation is refused and the street office proposes the recommended planner, the district approves →
the three PDFs carry the city's clauses → the signer submits the signed contract (Beijing: the district
files it; Pingdingshan: the bureau's submission files it) → the appointment is disclosed on the public
site and in open data, without ID numbers or mobiles, and the unit counts as covered."""
import csv
import io
import json

import pytest
from django.utils import timezone
from pdfminer.high_level import extract_text

from rpms.accounts.models import Role, User
from rpms.core.models import ActionLog
from rpms.geography.models import ResponsibilityUnit
from rpms.registry.models import Planner
from rpms.testing.builders import signed_pdf

pytestmark = pytest.mark.django_db


def post(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def pool_member(city, name, *, specialties, id_number, mobile, districts=()):
    planner = Planner.objects.create(city=city, name=name, pool_status="active", employer=f"{name}所在设计院（虚构）",
                                     specialties=specialties, experience_years=12, id_number=id_number, mobile=mobile,
                                     is_fictional=True)
    planner.familiar_districts.set(districts)
    return planner


def walk(anon, bearer, *, city, admin, officer, district, unit, planners, role, specialty, entity=None):
    officer_h, admin_h = bearer(officer), bearer(admin)
    created = post(anon, f"/api/v1/cities/{city.code}/dispatch-requests", {
        "district": district.code, "role": role, "specialties": [specialty], "slots_per_unit": 1,
        "units": [unit.pk], "service_focus": "老旧小区综合整治"}, officer_h)
    assert created.status_code == 201, created.content.decode()
    request_id = created.json()["id"]
    assert post(anon, f"/api/v1/dispatch-requests/{request_id}/accept", {}, admin_h).status_code == 200

    run = post(anon, f"/api/v1/cities/{city.code}/matching", {"requests": [request_id]}, admin_h)
    assert run.status_code == 201, run.content.decode()
    body = run.json()
    assert body["optimal"] is True and body["unfilled"] == []
    [proposal] = body["proposals"]
    # The familiar specialist wins over the other pool member, and the explanation says why.
    assert proposal["planner"] == planners[0].pk and proposal["unit"] == unit.pk and proposal["role"] == role
    assert proposal["explanation"]["terms"] and proposal["explanation"]["checks"]

    start = timezone.localdate().isoformat()
    confirmed = post(anon, f"/api/v1/proposals/{proposal['id']}/confirm", {"start": start}, admin_h)
    if entity is None:
        # P6(2): the city bureau dispatches and appoints
        assert confirmed.status_code == 201, confirmed.content.decode()
        appointment_id = confirmed.json()["appointment"]
    else:
        # B2, B19(1)(5): the matching recommends; the street office proposes, the district approves
        assert confirmed.status_code == 403 and confirmed.json()["code"] == "local_selection_required"
        entity_h = bearer(entity)
        proposed = post(anon, "/api/v1/appointments/proposals", {
            "planner": proposal["planner"], "unit": unit.pk, "role": role, "start": start,
            "service_focus": "老旧小区综合整治"}, entity_h)
        assert proposed.status_code == 201, proposed.content.decode()
        approved = post(anon, f"/api/v1/appointments/proposals/{proposed.json()['id']}/approve", {}, officer_h)
        assert approved.status_code == 201, approved.content.decode()
        appointment_id = approved.json()["id"]

    texts = {}
    for doc in ("dispatch-notice", "certificate", "contract"):
        pdf = anon.get(f"/api/v1/appointments/{appointment_id}/{doc}.pdf", **admin_h)
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        texts[doc] = extract_text(io.BytesIO(pdf.content))
    for clause in city.policy.contract_clauses:
        assert clause["label"] in texts["contract"], clause["label"]
    assert planners[0].name in texts["certificate"] and unit.name in texts["dispatch-notice"]

    public = anon.get(f"/api/v1/public/units/{unit.pk}").json()
    assert planners[0].name not in json.dumps(public, ensure_ascii=False)  # not disclosed before filing
    unsigned = post(anon, f"/api/v1/appointments/{appointment_id}/file", {}, officer_h)
    assert unsigned.status_code == 409  # nothing signed and submitted yet (B19(3) / P6(3))
    signer_h = bearer(entity) if entity is not None else admin_h
    signed = anon.post(f"/api/v1/appointments/{appointment_id}/signed-contract",
                       data={"file": signed_pdf(), "signed_on": start, "fee_yuan": "80000"}, **signer_h)
    assert signed.status_code == 201, signed.content.decode()
    if entity is not None:
        # B19(3): the district work team files the contract the entity submitted
        assert signed.json()["appointment"]["filed"] is False
        filed = post(anon, f"/api/v1/appointments/{appointment_id}/file", {}, officer_h)
        assert filed.status_code == 200, filed.content.decode()
    else:
        # P6(3): the bureau signs; its submission is the filing
        assert signed.json()["appointment"]["filed"] is True

    public = json.dumps(anon.get(f"/api/v1/public/units/{unit.pk}").json(), ensure_ascii=False)
    open_json = json.dumps(anon.get("/api/v1/public/appointments.json").json(), ensure_ascii=False)
    open_csv = anon.get("/api/v1/public/appointments.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(open_csv)))
    for text in (public, open_json, open_csv):
        assert planners[0].name in text
        for planner in planners:
            assert planner.id_number not in text and planner.mobile not in text
    assert any(planners[0].name in row for row in rows[1:])
    coverage = anon.get(f"/api/v1/cities/{city.code}/coverage").json()
    assert coverage["covered"] == 1 and unit.pk not in {u["id"] for u in coverage["uncovered"]}  # B4
    return appointment_id


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def test_beijing_request_to_public_disclosure(anon, bearer, beijing, city_admin, district_haidian, haidian,
                                              street_office):
    unit = ResponsibilityUnit.objects.get(city=beijing, dissolved_at__isnull=True, memberships__left_at__isnull=True,
                                          memberships__subdistrict__code="110108001")
    planners = [
        pool_member(beijing, "北京甲规划师", specialties=["urban_rural_planning"], id_number="11010819800101001X",
                    mobile="13900000001", districts=[haidian]),
        pool_member(beijing, "北京乙规划师", specialties=["urban_rural_planning"], id_number="110108198001010028",
                    mobile="13900000002"),
    ]
    walk(anon, bearer, city=beijing, admin=city_admin, officer=district_haidian, district=haidian, unit=unit,
         planners=planners, role="responsible_planner", specialty="urban_rural_planning", entity=street_office)
    articles = set(ActionLog.objects.filter(city_code="beijing", action__startswith="appointments.").values_list("article", flat=True))
    assert articles and all(a.startswith("B") for a in articles)


def test_pingdingshan_request_to_public_disclosure(anon, bearer, pingdingshan, pds_admin):
    district = pingdingshan.districts.order_by("code").first()
    unit = ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True).order_by("id").first()
    officer = User.objects.create_user(username="t_pds_officer", password="Test-pass-2026!", role=Role.DISTRICT_OFFICER,
                                       city=pingdingshan, display_name=f"{district.name}（测试）")
    officer.districts.set([district])
    planners = [
        pool_member(pingdingshan, "平顶山甲规划师", specialties=["urban_rural_planning"], id_number="410402198001010011",
                    mobile="13700000001", districts=[district]),
        pool_member(pingdingshan, "平顶山乙规划师", specialties=["urban_rural_planning"], id_number="410402198001010020",
                    mobile="13700000002"),
    ]
    walk(anon, bearer, city=pingdingshan, admin=pds_admin, officer=officer, district=district, unit=unit,
         planners=planners, role="responsible_planner", specialty="urban_rural_planning")
    articles = set(ActionLog.objects.filter(city_code="pingdingshan", action__startswith="appointments.").values_list("article", flat=True))
    assert articles and all(a.startswith("P") for a in articles)
    # The open data cites the city's own disclosure article.
    assert "P5(2)" in anon.get("/api/v1/public/appointments.json?city=pingdingshan").json()["source"]
