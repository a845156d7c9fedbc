"""The life of an appointment in both cities: filing and public disclosure (B19(3), B19(7)), renewal
(B19(2), P6(4)), termination (B25), withdrawal and replacement (P6(5)), coverage (B4)."""
import csv
import datetime as dt
import io
import json

import pytest

from rpms.appointments import services
from rpms.appointments.proposals import is_local_selection
from rpms.appointments.models import Appointment, AppointmentTerm, TerminationRequest, Withdrawal
from rpms.appointments.selectors import covered_unit_ids, pending_items
from rpms.cities.selectors import policy_article
from rpms.core.models import ActionLog
from rpms.documents.models import DocumentStatus, IssuedDocument
from rpms.registry.models import DossierEvent, DossierEventKind
from rpms.testing.builders import appointment_build
from rpms.testing.pdfs import TINY_PDF

from .conftest import make_planner, review

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["beijing", "pingdingshan"])
def case(request, clock):
    """Everyone involved in one appointment, in each city."""
    if request.param == "beijing":
        get = request.getfixturevalue
        return {
            "city": get("beijing"), "admin": get("city_admin"), "signer": get("street_office"),
            "officer": get("district_haidian"), "stranger": get("district_chaoyang"), "unit": get("wanshou"),
            "planner": get("bj_planner"), "max_years": 3,
        }
    get = request.getfixturevalue
    return {
        "city": get("pingdingshan"), "admin": get("pds_admin"), "signer": get("pds_admin"),
        "officer": get("pds_officer"), "stranger": None, "unit": get("pds_unit"), "planner": get("pds_planner"),
        "max_years": 1,
    }


def post(client, path, user, bearer, data=None):
    return client.post(path, data=json.dumps(data or {}), content_type="application/json", **bearer(user))


def appoint(case, clock, client, bearer):
    """Through the API, the way the city appoints: Beijing (local selection, B19(1)(5)) the street office
    proposes and the district approves; Pingdingshan (P6(2)) the bureau appoints."""
    body = {"planner": case["planner"].pk, "unit": case["unit"].pk, "role": "responsible_planner",
            "start": clock.today.isoformat(), "service_focus": "社区更新与公众参与"}
    if case["city"].code == "beijing":
        proposed = post(client, "/api/v1/appointments/proposals", case["signer"], bearer, body)
        assert proposed.status_code == 201, proposed.content.decode()
        response = post(client, f"/api/v1/appointments/proposals/{proposed.json()['id']}/approve", case["officer"], bearer)
    else:
        response = post(client, "/api/v1/appointments", case["admin"], bearer, body)
    assert response.status_code == 201, response.content.decode()
    return Appointment.objects.get(pk=response.json()["id"])


def upload_signed(case, appointment, client, bearer, clock):
    from rpms.testing.builders import signed_pdf

    response = client.post(f"/api/v1/appointments/{appointment.pk}/signed-contract",
                           data={"file": signed_pdf(), "signed_on": clock.today.isoformat(), "fee_yuan": "60000"},
                           **bearer(case["signer"]))
    assert response.status_code == 201, response.content.decode()
    return response


def audit_rows(action, appointment):
    return list(ActionLog.objects.filter(action=action, object_id=str(appointment.pk)))


def assert_no_identifiers(text: str, planner):
    assert planner.id_number and planner.mobile
    assert planner.id_number not in text
    assert planner.mobile not in text


# --- filing and disclosure ------------------------------------------------------------------------


def test_filed_appointments_are_disclosed_without_id_or_mobile(case, clock, client, bearer, anon):
    appointment = appoint(case, clock, client, bearer)
    planner, unit, city = case["planner"], case["unit"], case["city"]

    # not public before filing (B19(7) follows B19(3))
    assert anon.get(f"/api/v1/public/units/{unit.pk}").json()["appointments"] == []
    assert planner.name not in anon.get("/api/v1/public/appointments.csv").content.decode("utf-8-sig")

    uploaded = upload_signed(case, appointment, client, bearer, clock)
    if city.code == "beijing":
        # B19(3): the entity submits the signed contract; the district work team files it
        assert uploaded.json()["appointment"]["filed"] is False
        response = post(client, f"/api/v1/appointments/{appointment.pk}/file", case["officer"], bearer)
        assert response.status_code == 200 and response.json()["filed"] is True
        [row] = audit_rows("appointments.appointment_file", appointment)
    else:
        # P6(3): the bureau signs; its submission is the filing
        assert uploaded.json()["appointment"]["filed"] is True
        [row] = audit_rows("appointments.signed_contract_submit", appointment)
    assert policy_article(city, "filing") in row.article
    assert DossierEvent.objects.filter(planner=planner, kind=DossierEventKind.CONTRACT_FILED).count() == 1
    again = post(client, f"/api/v1/appointments/{appointment.pk}/file", case["officer"], bearer)
    assert again.status_code == 409

    public = anon.get(f"/api/v1/public/units/{unit.pk}")
    assert public.status_code == 200
    body = public.json()
    [card] = body["appointments"]
    assert card["planner_name"] == planner.name and card["role_label"] == "责任规划师"
    assert card["employer"] == planner.employer and card["start"] == appointment.start.isoformat()
    assert card["end"] == appointment.end.isoformat()
    assert card["contact"] and card["contact_url"] == f"/appointments/units/{unit.pk}/"
    assert body["district"]["name"] == unit.district.name and body["subdistricts"]
    assert_no_identifiers(public.content.decode(), planner)

    csv_response = anon.get(f"/api/v1/public/appointments.csv?city={city.code}")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    text = csv_response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["城市", "区划代码", "所在区", "责任单元编号", "责任单元"]
    assert any(planner.name in r for r in rows[1:])
    assert_no_identifiers(text, planner)

    data = anon.get(f"/api/v1/public/appointments.json?city={city.code}").json()
    assert {"fields", "rows", "generated_at", "source"} <= set(data)
    assert {f["name"] for f in data["fields"]} >= {"planner", "unit", "start", "end", "contact"}
    assert all(f["label"] and f["description"] for f in data["fields"])
    assert [r["planner"] for r in data["rows"]] == [planner.name]
    assert_no_identifiers(json.dumps(data, ensure_ascii=False), planner)
    assert anon.get("/api/v1/public/appointments/fields").json()["fields"] == data["fields"]

    for path in (f"/appointments/public/?city={city.code}", f"/appointments/units/{unit.pk}/"):
        page = anon.get(path)
        assert page.status_code == 200
        html = page.content.decode()
        assert planner.name in html
        assert_no_identifiers(html, planner)


def test_a_teams_core_members_are_disclosed_up_to_the_cap(city_admin, district_haidian, wanshou, bj_team, clock, anon,
                                                           beijing):
    beijing.policy.max_core_team_members = 1
    beijing.policy.save()
    appointment_build(unit=wanshou, planner=bj_team, filed=True, district_user=district_haidian)
    [card] = anon.get(f"/api/v1/public/units/{wanshou.pk}").json()["appointments"]
    assert card["leader_name"] == "周明远"
    assert [m["name"] for m in card["core_members"]] == ["周明远"]  # cap 1; the non-core member never shows
    html = anon.get(f"/appointments/units/{wanshou.pk}/").content.decode()
    assert "非核心成员甲" not in html and bj_team.id_number not in html and bj_team.mobile not in html


def test_the_public_unit_of_a_dissolved_or_unknown_unit_is_404(anon):
    assert anon.get("/api/v1/public/units/999999").status_code == 404
    assert anon.get("/appointments/units/999999/").status_code == 404


# --- renewal ----------------------------------------------------------------------------------------------


def test_renewal_is_within_the_policy_range_near_the_end(case, clock, client, bearer):
    appointment = appoint(case, clock, client, bearer)
    path = f"/api/v1/appointments/{appointment.pk}/renew"

    too_early = post(client, path, case["signer"], bearer, {"years": 1})
    assert too_early.status_code == 409 and too_early.json()["code"] == "renewal_too_early"

    clock.set(appointment.end - dt.timedelta(days=10))
    out_of_range = post(client, path, case["signer"], bearer, {"years": case["max_years"] + 1})
    assert out_of_range.status_code == 400
    expected = "1 至 3 年" if case["max_years"] == 3 else "1 年"
    assert expected in out_of_range.json()["detail"]
    assert post(client, path, case["signer"], bearer, {"years": 0}).status_code == 400

    if case["city"].policy.renewal_requires_review:
        # P6(4): not before the term's review is graded (rpms/appointments/tests/test_renewal_review.py)
        missing = post(client, path, case["signer"], bearer, {"years": case["max_years"]})
        assert missing.status_code == 409 and missing.json()["code"] == "renewal_review_missing"
        review(appointment, case["admin"], grade="qualified")
    old_end = appointment.end
    old_contract = IssuedDocument.objects.get(subject_id=str(appointment.pk), kind="appointment_contract")
    renewed = post(client, path, case["signer"], bearer, {"years": case["max_years"]})
    assert renewed.status_code == 200, renewed.content.decode()
    appointment.refresh_from_db()
    new_start = old_end + dt.timedelta(days=1)
    assert appointment.term_no == 2
    assert appointment.end == services.term_end(new_start, case["max_years"])
    terms = list(AppointmentTerm.objects.filter(appointment=appointment).order_by("term_no"))
    assert [(t.kind, t.start, t.years) for t in terms] == [("first", appointment.start, 1), ("renewal", new_start, case["max_years"])]
    old_contract.refresh_from_db()
    assert old_contract.status == DocumentStatus.SUPERSEDED
    new_contract = IssuedDocument.objects.get(subject_id=str(appointment.pk), kind="appointment_contract",
                                              status=DocumentStatus.VALID)
    assert new_contract.supersedes_id == old_contract.pk and terms[1].contract_number == new_contract.number
    assert new_contract.context["start"] == new_start.isoformat()
    [row] = audit_rows("appointments.appointment_renew", appointment)
    assert row.article == policy_article(case["city"], "renewal")
    assert DossierEvent.objects.filter(planner=case["planner"], kind=DossierEventKind.RENEWED).count() == 1


def test_renewal_by_someone_who_is_not_a_party_is_refused(city_admin, district_haidian, district_chaoyang, wanshou,
                                                         bj_planner, clock, client, bearer):
    appointment = appointment_build(unit=wanshou, planner=bj_planner)
    clock.set(appointment.end - dt.timedelta(days=5))
    path = f"/api/v1/appointments/{appointment.pk}/renew"
    assert post(client, path, district_haidian, bearer, {"years": 1}).status_code == 403
    assert post(client, path, district_chaoyang, bearer, {"years": 1}).status_code == 404
    assert post(client, path, city_admin, bearer, {"years": 1}).status_code == 200


def test_renewal_after_the_term_has_ended_is_refused(case, clock, client, bearer):
    appointment = appoint(case, clock, client, bearer)
    clock.set(appointment.end + dt.timedelta(days=1))
    response = post(client, f"/api/v1/appointments/{appointment.pk}/renew", case["signer"], bearer, {"years": 1})
    assert response.status_code == 409 and response.json()["code"] == "renewal_too_late"


def test_an_unqualified_grade_refuses_renewal_where_the_policy_says_so(case, clock, client, bearer, monkeypatch):
    appointment = appoint(case, clock, client, bearer)
    clock.set(appointment.end - dt.timedelta(days=3))
    monkeypatch.setattr(services, "latest_grade", lambda a: "unqualified")
    response = post(client, f"/api/v1/appointments/{appointment.pk}/renew", case["signer"], bearer, {"years": 1})
    if case["city"].code == "pingdingshan":
        # P6(4): 评议结果不合格的不予续聘
        assert response.status_code == 409 and response.json()["code"] == "renewal_refused_by_grade"
        assert "不合格" in response.json()["detail"]
        assert AppointmentTerm.objects.filter(appointment=appointment).count() == 1
    else:
        # B20: Beijing leaves it to the hiring entity ("entity_decides")
        assert response.status_code == 200


def test_latest_grade_has_no_assessments_yet(city_admin, wanshou, bj_planner, clock):
    appointment = appointment_build(unit=wanshou, planner=bj_planner)
    assert services.latest_grade(appointment) is None


# --- termination (B25) --------------------------------------------------------------------------------------


def test_a_planners_termination_request_ends_nothing_without_consent(case, clock, client, bearer):
    appointment = appoint(case, clock, client, bearer)
    planner_user = case["planner"].user
    path = f"/api/v1/appointments/{appointment.pk}/terminate"

    no_reason = post(client, path, planner_user, bearer, {"initiator": "planner", "reason": ""})
    assert no_reason.status_code == 400
    requested = post(client, path, planner_user, bearer, {"initiator": "planner", "reason": "工作调动，无法继续履职"})
    assert requested.status_code == 200 and requested.json()["request"]["status"] == "pending"
    [row] = audit_rows("appointments.termination_request", appointment)
    assert row.article == policy_article(case["city"], "termination")

    # nobody but the contract signer may consent; time passing does not end it either
    for user in (planner_user, case["officer"]):
        assert post(client, f"{path}/consent", user, bearer).status_code in (403, 404)
    clock.advance(days=20)
    appointment.refresh_from_db()
    assert appointment.status == "active" and appointment.is_active()
    assert case["unit"].pk in covered_unit_ids(case["city"])

    consented = post(client, f"{path}/consent", case["signer"], bearer)
    assert consented.status_code == 200, consented.content.decode()
    assert consented.json()["request"]["status"] == "effective"
    appointment.refresh_from_db()
    assert appointment.status == "terminated" and appointment.ended_on == clock.today
    assert appointment.end_kind == "termination"
    assert not appointment.is_active()
    assert case["unit"].pk not in covered_unit_ids(case["city"])
    # issue #11: a terminated contract's certificate has ended (not been revoked), from the last day
    certificate = IssuedDocument.objects.get(subject_id=str(appointment.pk), kind="appointment_certificate")
    assert certificate.status == DocumentStatus.VALID and certificate.ended_on == clock.today
    verify = client.get(f"/api/v1/documents/verify/{certificate.verification_code}").json()
    assert verify["valid"] is False and verify["status"] == "ended"
    assert verify["ended_on"] == clock.today.isoformat() and verify["ending_label"] == "解除聘用合同"
    assert TerminationRequest.objects.get(appointment=appointment).status == "effective"
    [row] = audit_rows("appointments.termination_consent", appointment)
    assert row.article == policy_article(case["city"], "termination")
    assert DossierEvent.objects.filter(planner=case["planner"], kind=DossierEventKind.TERMINATED).count() == 1
    assert post(client, f"{path}/consent", case["signer"], bearer).status_code == 409


def test_the_entity_may_terminate_only_for_a_breach_named_in_the_contract(case, clock, client, bearer):
    appointment = appoint(case, clock, client, bearer)
    path = f"/api/v1/appointments/{appointment.pk}/terminate"
    today = clock.today.isoformat()
    outside = post(client, path, case["signer"], bearer,
                   {"initiator": "entity", "facts": "换一个人", "breach": "", "effective_date": today})
    assert outside.status_code == 400
    assert "聘任主体不得以合同约定外的事项作为解除聘用合同的理由" in outside.json()["detail"]
    invented = post(client, path, case["signer"], bearer,
                    {"initiator": "entity", "facts": "换一个人", "breach": "mood", "effective_date": today})
    assert invented.status_code == 400
    appointment.refresh_from_db()
    assert appointment.status == "active"

    # the planner cannot end it as "entity", nor can a district officer
    assert post(client, path, case["planner"].user, bearer,
                {"initiator": "entity", "facts": "x", "breach": "service_mode", "effective_date": today}).status_code == 403
    breach = case["city"].policy.contract_clauses[1]["code"]
    assert case["city"].policy.contract_clauses[1]["binds"] == "both"
    done = client.post(path, {"initiator": "entity", "facts": "连续三个月未到岗履职", "breach": breach,
                              "effective_date": today, "file": pdf_upload()}, **bearer(case["signer"]))
    assert done.status_code == 200, done.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "terminated"
    request = TerminationRequest.objects.get(appointment=appointment)
    assert request.breach == breach and request.initiator == "entity" and request.evidence.count() == 1


def pdf_upload(name="证据.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, TINY_PDF, content_type="application/pdf")


# --- withdrawal and replacement (P6(5)) -----------------------------------------------------------------------


def test_withdrawal_too_early_is_refused_with_the_earliest_date_then_replacement_restores_coverage(
    case, clock, client, bearer
):
    appointment = appoint(case, clock, client, bearer)
    city, unit = case["city"], case["unit"]
    path = f"/api/v1/appointments/{appointment.pk}/withdrawal"
    if city.policy.withdrawal_notice_working_days is None:
        # B25: Beijing has no unilateral withdrawal unless the contract agrees a notice
        refused = post(client, path, case["planner"].user, bearer, {"leave_date": "2099-01-01", "reason": "身体原因"})
        assert refused.status_code == 409 and refused.json()["code"] == "withdrawal_not_allowed"
        agreed = post(client, f"/api/v1/appointments/{appointment.pk}/withdrawal-notice", case["signer"], bearer,
                      {"working_days": 15})
        assert agreed.status_code == 200, agreed.content.decode()
        appointment.refresh_from_db()
    earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    assert (earliest - clock.today).days >= 15 + 4  # 15 working days, at least three weekends

    early = post(client, path, case["planner"].user, bearer,
                 {"leave_date": (earliest - dt.timedelta(days=1)).isoformat(), "reason": "身体原因"})
    assert early.status_code == 400
    body = early.json()
    assert body["code"] == "withdrawal_too_early" and body["earliest"] == earliest.isoformat()
    assert earliest.isoformat() in body["detail"] and "15 个工作日" in body["detail"]
    assert isinstance(body["explanation"], list) and len(body["explanation"]) >= 3
    assert any("申请当日不计入" in line for line in body["explanation"])

    assert post(client, path, case["officer"], bearer, {"leave_date": earliest.isoformat(), "reason": "x"}).status_code == 403
    accepted = post(client, path, case["planner"].user, bearer, {"leave_date": earliest.isoformat(), "reason": "身体原因"})
    assert accepted.status_code == 201, accepted.content.decode()
    withdrawal = Withdrawal.objects.get(appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.ended_on == earliest and withdrawal.leave_date == earliest
    [row] = audit_rows("appointments.withdrawal_request", appointment)
    assert row.article == policy_article(city, "withdrawal")
    assert DossierEvent.objects.filter(planner=case["planner"], kind=DossierEventKind.WITHDRAWAL_REQUESTED).count() == 1
    # the city sees it on its pending list
    titles = [item.title for item in pending_items(case["admin"])]
    assert "责任规划师退出待补位" in titles

    # the planner serves until the leave date; the day after, the unit has a gap
    clock.set(earliest)
    assert unit.pk in covered_unit_ids(city)
    clock.set(earliest + dt.timedelta(days=1))
    assert unit.pk not in covered_unit_ids(city)
    assert appointment.state() == "withdrawn"
    coverage = client.get(f"/api/v1/cities/{city.code}/coverage").json()
    assert unit.pk in [u["id"] for u in coverage["uncovered"]]

    successor = make_planner(city, "补位规划师")
    replaced, action, source = replace(case, withdrawal, successor, earliest + dt.timedelta(days=1), client, bearer)
    assert replaced.status_code == 201, replaced.content.decode()
    new = Appointment.objects.get(pk=replaced.json()["id"])
    assert new.start == earliest + dt.timedelta(days=1) and new.role == appointment.role and new.source == source
    withdrawal.refresh_from_db()
    assert withdrawal.replacement_id == new.pk
    assert unit.pk in covered_unit_ids(city)
    coverage = client.get(f"/api/v1/cities/{city.code}/coverage").json()
    assert unit.pk not in [u["id"] for u in coverage["uncovered"]]
    [row] = ActionLog.objects.filter(action=action, object_id=str(new.pk))
    assert policy_article(city, "replacement") in row.article and row.after["replaces"] == appointment.pk
    again = post(client, f"/api/v1/withdrawals/{withdrawal.pk}/replacement", case["admin"], bearer,
                 {"planner": make_planner(city).pk})
    assert again.status_code == (403 if is_local_selection(city) else 409)
    withdrawal.refresh_from_db()
    assert withdrawal.replacement_id == new.pk


def replace(case, withdrawal, successor, start, client, bearer):
    """The replacement of a withdrawing planner (P6(5) 调整补位), the city's own way: Pingdingshan's bureau
    appoints it; in Beijing nobody appoints alone (403 `local_selection_required` for the city, the district
    and the street office), the street office proposes and the district approves — that approval is recorded
    as the replacement (B2, B19(1)(5)). Returns (response, audit action, appointment source)."""
    path = f"/api/v1/withdrawals/{withdrawal.pk}/replacement"
    if not is_local_selection(case["city"]):
        return post(client, path, case["admin"], bearer, {"planner": successor.pk}), "appointments.withdrawal_replace", \
            "replacement"
    for user in (case["admin"], case["officer"], case["signer"]):
        alone = post(client, path, user, bearer, {"planner": successor.pk})
        assert alone.status_code == 403 and alone.json()["code"] == "local_selection_required", user
    assert case["stranger"] is None or post(client, path, case["stranger"], bearer,
                                            {"planner": successor.pk}).status_code == 404
    leaving = withdrawal.appointment
    proposed = post(client, "/api/v1/appointments/proposals", case["signer"], bearer, {
        "planner": successor.pk, "unit": leaving.unit_id, "role": leaving.role, "start": start.isoformat()})
    assert proposed.status_code == 201, proposed.content.decode()
    approved = post(client, f"/api/v1/appointments/proposals/{proposed.json()['id']}/approve", case["officer"], bearer)
    return approved, "appointments.selection_approve", f"selection:{proposed.json()['id']}"


def test_a_replacement_named_before_the_leave_date_continues_service_without_a_gap(case, clock, client, bearer):
    city, unit, planner = case["city"], case["unit"], case["planner"]
    # B25 "除合同另有约定外": the Beijing contract agrees a 15-working-day withdrawal notice (Pingdingshan's rule, P6(5))
    notice = 15 if city.policy.withdrawal_notice_working_days is None else None
    appointment = appointment_build(unit=unit, planner=planner, start=clock.today, actor=case["admin"],
                                    withdrawal_notice_working_days=notice)
    earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    withdrawal = services.withdrawal_request(actor=planner.user, appointment=appointment, leave_date=earliest,
                                             reason="工作变动")
    successor = make_planner(city, "接任者")
    replaced, _, _ = replace(case, withdrawal, successor, earliest + dt.timedelta(days=1), client, bearer)
    assert replaced.status_code == 201, replaced.content.decode()
    new = Appointment.objects.get(pk=replaced.json()["id"])
    assert new.start == earliest + dt.timedelta(days=1) and new.planner == successor
    withdrawal.refresh_from_db()
    assert withdrawal.replacement_id == new.pk
    for day in (earliest, earliest + dt.timedelta(days=1), earliest + dt.timedelta(days=30)):
        clock.set(day)
        assert unit.pk in covered_unit_ids(city), day


def test_the_leaving_planner_counts_against_the_cap_until_the_leave_date(city_admin, haidian, beijing, clock):
    from rpms.core.errors import Conflict

    from .conftest import units_of

    planner = make_planner(beijing)
    units = units_of(haidian, 4)
    assert beijing.policy.max_units_per_planner == 3
    appointments = [appointment_build(unit=u, planner=planner, start=clock.today, withdrawal_notice_working_days=15)
                    for u in units[:3]]
    earliest, _ = services.withdrawal_earliest(appointment=appointments[0], requested_on=clock.today)
    services.withdrawal_request(actor=planner.user, appointment=appointments[0], leave_date=earliest, reason="调整")
    with pytest.raises(Conflict) as refused:
        appointment_build(unit=units[3], planner=planner, start=clock.today)
    assert refused.value.code == "unit_cap_reached"
    later = appointment_build(unit=units[3], planner=planner, start=earliest + dt.timedelta(days=1))
    assert later.pk and later.unit_id == units[3].pk


def test_expiring_contracts_show_on_the_pending_lists_and_page(case, clock, client, bearer, login):
    appointment = appoint(case, clock, client, bearer)
    assert not [i for i in pending_items(case["admin"]) if "即将到期" in i.title]
    clock.set(appointment.end - dt.timedelta(days=case["city"].policy.contract_expiry_warning_days - 1))
    for user in (case["admin"], case["officer"]):
        [item] = [i for i in pending_items(user) if "即将到期" in i.title]
        assert item.count == 1 and appointment.end.isoformat() in item.due
    page = login(case["officer"]).get("/appointments/expiring/")
    assert page.status_code == 200 and case["unit"].name in page.content.decode()
    if case["stranger"] is not None:
        assert not [i for i in pending_items(case["stranger"]) if "即将到期" in i.title]
    clock.set(appointment.end + dt.timedelta(days=1))
    assert not [i for i in pending_items(case["admin"]) if "即将到期" in i.title]
