"""How an appointment ends early (issue #11 items 1–3), in both cities, through the services and the API.

Beijing (B25): no unilateral withdrawal unless the contract agrees a notice; a planner's written request
is consented (from a date, today or later) or refused by the hiring entity, or withdrawn by the planner;
the entity may end the contract only for the planner's breach of a clause binding the planner, with
facts and evidence, and the planner's statement is recorded. Pingdingshan (P6(5)): withdrawal on 15
working days' notice, the earliest date explained."""
import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rpms.appointments import services
from rpms.appointments.models import Appointment, TerminationRequest, Withdrawal
from rpms.appointments.selectors import covered_unit_ids
from rpms.cities.selectors import policy_article
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.documents.models import DocumentStatus, IssuedDocument
from rpms.registry.models import DossierEvent, DossierEventKind

from rpms.testing.builders import appointment_build
from rpms.testing.pdfs import TINY_PDF

from .conftest import make_planner

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["beijing", "pingdingshan"])
def case(request, clock):
    """Everyone around one appointment, in each city: `signer` is the contract's party A (Beijing: the
    street office, B19(3); Pingdingshan: the city bureau, P6(3))."""
    get = request.getfixturevalue
    if request.param == "beijing":
        return {"city": get("beijing"), "admin": get("city_admin"), "signer": get("street_office"),
                "officer": get("district_haidian"), "stranger": get("district_chaoyang"), "unit": get("wanshou"),
                "planner": get("bj_planner"), "own_clause": "remuneration", "planner_clause": "service_content"}
    return {"city": get("pingdingshan"), "admin": get("pds_admin"), "signer": get("pds_admin"),
            "officer": get("pds_officer"), "stranger": None, "unit": get("pds_unit"), "planner": get("pds_planner"),
            "own_clause": "service_fee", "planner_clause": "work_tasks"}


def post(client, path, user, bearer, data=None):
    return client.post(path, data=json.dumps(data or {}), content_type="application/json", **bearer(user))


def appoint(case, clock, **fields):
    """The city's own way (Beijing: the street office proposes, the district approves; Pingdingshan: the
    bureau appoints)."""
    return appointment_build(unit=case["unit"], planner=case["planner"], start=clock.today, actor=case["admin"],
                             **fields)


def pdf(name="证据材料.pdf"):
    return SimpleUploadedFile(name, TINY_PDF, content_type="application/pdf")


def audit(action, appointment):
    return list(ActionLog.objects.filter(action=action, object_id=str(appointment.pk)))


def dossier(planner, kind):
    return DossierEvent.objects.filter(planner=planner, kind=kind).count()


def detail(client, bearer, user, appointment):
    response = client.get(f"/api/v1/appointments/{appointment.pk}", **bearer(user))
    assert response.status_code == 200, response.content.decode()
    return response.json()


# --- item 1: exit routes as policy data ----------------------------------------------------------------


def test_beijing_withdrawal_answers_409_pointing_to_the_written_termination_request(
    client, bearer, city_admin, wanshou, bj_planner, clock
):
    appointment = appointment_build(unit=wanshou, planner=bj_planner, start=clock.today)
    response = post(client, f"/api/v1/appointments/{appointment.pk}/withdrawal", bj_planner.user, bearer,
                    {"leave_date": (clock.today + dt.timedelta(days=60)).isoformat(), "reason": "身体原因"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "withdrawal_not_allowed"
    assert "不能单方提前退出" in body["detail"] and "书面申请解除聘用合同" in body["detail"] and "B25" in body["detail"]
    appointment.refresh_from_db()
    assert appointment.ended_on is None and appointment.end_kind == ""
    assert not Withdrawal.objects.exists() and not audit("appointments.withdrawal_request", appointment)
    # the API says how this planner may leave
    assert detail(client, bearer, bj_planner.user, appointment)["withdrawal_notice"] == {
        "unilateral": False, "working_days": None, "source": None}
    # the written request is the way out
    request = post(client, f"/api/v1/appointments/{appointment.pk}/terminate", bj_planner.user, bearer,
                   {"initiator": "planner", "reason": "身体原因无法继续履职"})
    assert request.status_code == 200 and request.json()["request"]["status"] == "pending"


def test_pingdingshan_withdrawal_still_works_with_the_earliest_date_explained(
    client, bearer, pds_admin, pds_unit, pds_planner, clock
):
    clock.set(dt.date(2026, 9, 25))  # Friday before National Day: the holiday is skipped
    appointment = services.appointment_create(actor=pds_admin, planner=pds_planner, unit=pds_unit,
                                              role="responsible_planner", start=clock.today)
    earliest, explanation = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    assert earliest > dt.date(2026, 10, 15)  # 15 working days counted past the National Day holiday
    path = f"/api/v1/appointments/{appointment.pk}/withdrawal"
    early = post(client, path, pds_planner.user, bearer,
                 {"leave_date": (earliest - dt.timedelta(days=1)).isoformat(), "reason": "工作变动"})
    assert early.status_code == 400
    body = early.json()
    assert body["code"] == "withdrawal_too_early" and body["earliest"] == earliest.isoformat()
    assert "15 个工作日" in body["detail"] and "P6(5)" in body["detail"]
    assert body["explanation"] == explanation and any("P6(5)" in line for line in body["explanation"])
    accepted = post(client, path, pds_planner.user, bearer, {"leave_date": earliest.isoformat(), "reason": "工作变动"})
    assert accepted.status_code == 201
    appointment.refresh_from_db()
    assert appointment.ended_on == earliest and appointment.end_kind == "withdrawal"
    [row] = audit("appointments.withdrawal_request", appointment)
    assert row.article == "P6(5)"


def test_a_contract_notice_clause_is_refused_where_the_policy_allows_none(
    client, bearer, pds_admin, pds_unit, pds_planner, clock
):
    response = post(client, "/api/v1/appointments", pds_admin, bearer, {
        "planner": pds_planner.pk, "unit": pds_unit.pk, "role": "responsible_planner",
        "start": clock.today.isoformat(), "withdrawal_notice_working_days": 5,
    })
    assert response.status_code == 409
    assert response.json()["code"] == "contract_notice_clause_not_allowed"
    assert "不能另行约定退出提前期" in response.json()["detail"] and "15 个工作日" in response.json()["detail"]
    assert not Appointment.objects.filter(planner=pds_planner).exists()

    appointment = services.appointment_create(actor=pds_admin, planner=pds_planner, unit=pds_unit,
                                              role="responsible_planner", start=clock.today)
    refused = post(client, f"/api/v1/appointments/{appointment.pk}/withdrawal-notice", pds_admin, bearer,
                   {"working_days": 5})
    assert refused.status_code == 409 and refused.json()["code"] == "contract_notice_clause_not_allowed"
    appointment.refresh_from_db()
    assert appointment.contract_withdrawal_notice_working_days is None


def test_a_beijing_contract_with_its_own_notice_lets_the_planner_leave_on_it(
    client, bearer, city_admin, street_office, wanshou, bj_planner, clock
):
    # nobody appoints directly in Beijing (B2, B19(1)(5)), with or without a clause
    direct = post(client, "/api/v1/appointments", city_admin, bearer, {
        "planner": bj_planner.pk, "unit": wanshou.pk, "role": "responsible_planner",
        "start": clock.today.isoformat(), "withdrawal_notice_working_days": 10})
    assert direct.status_code == 403 and direct.json()["code"] == "local_selection_required"
    # the street office (party A) agrees the clause on the appointment the district approved
    appointment = appointment_build(unit=wanshou, planner=bj_planner, start=clock.today)
    path = f"/api/v1/appointments/{appointment.pk}/withdrawal-notice"
    for bad in (0, -3, "十", 251):
        response = post(client, path, street_office, bearer, {"working_days": bad})
        assert response.status_code == 400 and response.json()["code"] == "invalid_notice_days", bad
    agreed = post(client, path, street_office, bearer, {"working_days": 10})
    assert agreed.status_code == 200, agreed.content.decode()
    data = detail(client, bearer, street_office, appointment)
    assert data["contract_withdrawal_notice_working_days"] == 10
    assert data["withdrawal_notice"] == {"unilateral": True, "working_days": 10, "source": "contract"}
    appointment = Appointment.objects.get(pk=data["id"])
    # the contract's text carries the clause
    contract = IssuedDocument.objects.get(subject_id=str(appointment.pk), kind="appointment_contract",
                                          status=DocumentStatus.VALID)
    clause = next(c for c in contract.context["clauses"] if c["code"] == "withdrawal_notice")
    assert "提前 10 个工作日" in clause["text"] and clause["article"] == "B25"

    earliest, explanation = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    assert "聘用合同的约定" in explanation[0] and "10 个工作日" in explanation[0]
    with pytest.raises(Conflict):  # the city itself has no notice to count: only this contract does
        services.withdrawal_earliest(city=appointment.city, requested_on=clock.today)
    early = post(client, f"/api/v1/appointments/{appointment.pk}/withdrawal", bj_planner.user, bearer,
                 {"leave_date": (earliest - dt.timedelta(days=1)).isoformat(), "reason": "家庭原因"})
    assert early.status_code == 400 and "10 个工作日" in early.json()["detail"]
    ok = post(client, f"/api/v1/appointments/{appointment.pk}/withdrawal", bj_planner.user, bearer,
              {"leave_date": earliest.isoformat(), "reason": "家庭原因"})
    assert ok.status_code == 201
    appointment.refresh_from_db()
    assert appointment.ended_on == earliest and appointment.end_kind == "withdrawal"


def test_the_contract_signer_sets_the_clause_on_an_existing_beijing_appointment(
    client, bearer, city_admin, street_office, district_haidian, district_chaoyang, wanshou, bj_planner, clock
):
    appointment = appointment_build(unit=wanshou, planner=bj_planner, start=clock.today)
    path = f"/api/v1/appointments/{appointment.pk}/withdrawal-notice"
    assert post(client, path, bj_planner.user, bearer, {"working_days": 5}).status_code == 403
    assert post(client, path, district_haidian, bearer, {"working_days": 5}).status_code == 403
    assert post(client, path, district_chaoyang, bearer, {"working_days": 5}).status_code == 404
    response = post(client, path, street_office, bearer, {"working_days": 20})
    assert response.status_code == 200, response.content.decode()
    assert response.json()["withdrawal_notice"]["working_days"] == 20
    [row] = audit("appointments.withdrawal_notice_set", appointment)
    assert row.article == "B25" and row.after["contract_withdrawal_notice_working_days"] == 20
    assert dossier(bj_planner, DossierEventKind.CONTRACT_AMENDED) == 1
    contracts = IssuedDocument.objects.filter(subject_id=str(appointment.pk), kind="appointment_contract")
    assert {c.status for c in contracts} == {DocumentStatus.SUPERSEDED, DocumentStatus.VALID}
    current = contracts.get(status=DocumentStatus.VALID)
    assert any("提前 20 个工作日" in c["text"] for c in current.context["clauses"])
    assert appointment.terms.get().contract_number == current.number
    # the planner may now leave on it
    earliest, _ = services.withdrawal_earliest(appointment=Appointment.objects.get(pk=appointment.pk),
                                               requested_on=clock.today)
    assert services.withdrawal_request(actor=bj_planner.user, appointment=appointment, leave_date=earliest,
                                       reason="工作调动").leave_date == earliest
    # …and once a withdrawal is in, the clause can no longer change
    assert post(client, path, street_office, bearer, {"working_days": None}).status_code == 409


# --- item 2: the states of a termination request --------------------------------------------------------


def test_the_entity_refuses_with_a_reason_and_the_contract_runs_on(case, clock, client, bearer):
    appointment = appoint(case, clock)
    path = f"/api/v1/appointments/{appointment.pk}/terminate"
    assert post(client, path, case["planner"].user, bearer,
                {"initiator": "planner", "reason": "工作调动"}).status_code == 200
    assert post(client, f"{path}/refuse", case["planner"].user, bearer, {"reason": "x"}).status_code == 403
    no_reason = post(client, f"{path}/refuse", case["signer"], bearer, {"reason": " "})
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"
    refused = post(client, f"{path}/refuse", case["signer"], bearer, {"reason": "年内重点项目需要持续跟进"})
    assert refused.status_code == 200, refused.content.decode()
    body = refused.json()["request"]
    assert body["status"] == "refused" and body["status_label"] == "聘任主体不同意"
    assert body["refusal_reason"] == "年内重点项目需要持续跟进" and body["refused_at"]
    appointment.refresh_from_db()
    assert appointment.status == "active" and appointment.ended_on is None
    assert case["unit"].pk in covered_unit_ids(case["city"])
    [row] = audit("appointments.termination_refuse", appointment)
    assert row.article == policy_article(case["city"], "termination")
    assert dossier(case["planner"], DossierEventKind.TERMINATION_REFUSED) == 1
    # nothing pending any more: consent is refused, a new request may be made
    assert post(client, f"{path}/consent", case["signer"], bearer).status_code == 409
    again = post(client, path, case["planner"].user, bearer, {"initiator": "planner", "reason": "仍需调动"})
    assert again.status_code == 200 and again.json()["request"]["status"] == "pending"
    states = [r["status"] for r in detail(client, bearer, case["officer"], appointment)["termination_requests"]]
    assert states == ["pending", "refused"]


def test_the_planner_withdraws_a_pending_request(case, clock, client, bearer):
    appointment = appoint(case, clock)
    path = f"/api/v1/appointments/{appointment.pk}/terminate"
    post(client, path, case["planner"].user, bearer, {"initiator": "planner", "reason": "个人原因"})
    assert post(client, f"{path}/withdraw", case["signer"], bearer).status_code == 403
    withdrawn = post(client, f"{path}/withdraw", case["planner"].user, bearer)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["request"]["status"] == "withdrawn" and withdrawn.json()["request"]["withdrawn_at"]
    assert TerminationRequest.objects.get(appointment=appointment).status == "withdrawn"
    assert post(client, f"{path}/withdraw", case["planner"].user, bearer).status_code == 409
    assert post(client, f"{path}/consent", case["signer"], bearer).status_code == 409
    appointment.refresh_from_db()
    assert appointment.is_active()
    [row] = audit("appointments.termination_withdraw", appointment)
    assert row.article == policy_article(case["city"], "termination")
    assert dossier(case["planner"], DossierEventKind.TERMINATION_WITHDRAWN) == 1


def test_consent_cannot_be_backdated_and_a_later_date_keeps_the_appointment_running(case, clock, client, bearer):
    appointment = appoint(case, clock)
    path = f"/api/v1/appointments/{appointment.pk}/terminate"
    post(client, path, case["planner"].user, bearer, {"initiator": "planner", "reason": "身体原因"})
    clock.advance(days=3)
    past = post(client, f"{path}/consent", case["signer"], bearer,
                {"effective_date": (clock.today - dt.timedelta(days=1)).isoformat()})
    assert past.status_code == 400 and past.json()["code"] == "effective_date_past"
    assert "不能追溯" in past.json()["detail"]
    late = post(client, f"{path}/consent", case["signer"], bearer,
                {"effective_date": (appointment.end + dt.timedelta(days=1)).isoformat()})
    assert late.status_code == 400 and late.json()["code"] == "effective_date_after_end"
    assert TerminationRequest.objects.get(appointment=appointment).status == "pending"

    effective = clock.today + dt.timedelta(days=10)
    consented = post(client, f"{path}/consent", case["signer"], bearer, {"effective_date": effective.isoformat()})
    assert consented.status_code == 200, consented.content.decode()
    body = consented.json()["request"]
    assert body["status"] == "consented" and body["status_label"] == "聘任主体已同意，待生效"
    assert body["effective_on"] == effective.isoformat() and body["consented_at"]
    appointment.refresh_from_db()
    assert appointment.status == "active" and appointment.ended_on == effective and appointment.end_kind == "termination"
    [row] = audit("appointments.termination_consent", appointment)
    assert row.article == policy_article(case["city"], "termination")
    assert dossier(case["planner"], DossierEventKind.TERMINATED) == 1

    # until the effective date the planner serves; on it the termination is effective; then it is over
    clock.set(effective - dt.timedelta(days=1))
    assert appointment.is_active() and case["unit"].pk in covered_unit_ids(case["city"])
    assert detail(client, bearer, case["officer"], appointment)["termination_requests"][0]["status"] == "consented"
    clock.set(effective)
    request = detail(client, bearer, case["officer"], appointment)["termination_requests"][0]
    assert request["status"] == "effective" and request["status_label"] == "已解除"
    clock.set(effective + dt.timedelta(days=1))
    assert appointment.state() == "terminated" and case["unit"].pk not in covered_unit_ids(case["city"])
    # no second ending, no renewal, no withdrawal
    assert post(client, path, case["planner"].user, bearer, {"initiator": "planner", "reason": "再申请"}).status_code == 409


def test_consent_effective_today_ends_the_appointment_at_once(case, clock, client, bearer):
    appointment = appoint(case, clock)
    services.termination_request(actor=case["planner"].user, appointment=appointment, initiator="planner",
                                 reason="身体原因")
    request = services.termination_consent(actor=case["signer"], appointment=appointment)
    assert request.status == "effective" and request.effective_on == clock.today
    appointment.refresh_from_db()
    assert appointment.status == "terminated" and appointment.ended_on == clock.today
    assert case["unit"].pk not in covered_unit_ids(case["city"])


# --- item 3: the entity ends the contract only for the planner's breach --------------------------------------


def test_the_entity_cannot_name_its_own_payment_clause_or_state_no_facts(case, clock, client, bearer):
    appointment = appoint(case, clock)
    path = f"/api/v1/appointments/{appointment.pk}/terminate"
    today = clock.today.isoformat()
    own = case["city"].policy.contract_clause(case["own_clause"])
    assert own["binds"] == "entity"
    refused = client.post(path, {"initiator": "entity", "breach": case["own_clause"], "facts": "经费紧张，不再续付",
                                 "effective_date": today, "file": pdf()}, **bearer(case["signer"]))
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "breach_binds_entity"
    assert own["label"] in body["detail"] and "聘任主体不得以合同约定外的事项作为解除聘用合同的理由" in body["detail"]
    assert case["own_clause"] not in body["details"]["clauses"] and case["planner_clause"] in body["details"]["clauses"]
    no_facts = post(client, path, case["signer"], bearer,
                    {"initiator": "entity", "breach": case["planner_clause"], "facts": "", "effective_date": today})
    assert no_facts.status_code == 400 and no_facts.json()["code"] == "facts_required"
    unknown = post(client, path, case["signer"], bearer,
                   {"initiator": "entity", "breach": "attitude", "facts": "态度不好", "effective_date": today})
    assert unknown.status_code == 400 and unknown.json()["code"] == "breach_not_in_contract"
    backdated = post(client, path, case["signer"], bearer,
                     {"initiator": "entity", "breach": case["planner_clause"], "facts": "未到岗",
                      "effective_date": (clock.today - dt.timedelta(days=1)).isoformat()})
    assert backdated.status_code == 400 and backdated.json()["code"] == "effective_date_past"
    appointment.refresh_from_db()
    assert appointment.status == "active" and appointment.ended_on is None
    assert not TerminationRequest.objects.filter(appointment=appointment).exists()
    assert not audit("appointments.termination_by_entity", appointment)


def test_an_entity_termination_takes_effect_with_its_evidence(case, clock, client, bearer):
    appointment = appoint(case, clock)
    path = f"/api/v1/appointments/{appointment.pk}/terminate"
    effective = clock.today + dt.timedelta(days=7)
    decided = post(client, path, case["signer"], bearer, {
        "initiator": "entity", "breach": case["planner_clause"], "facts": "连续三个月未到岗，未记录履职",
        "effective_date": effective.isoformat(),
    })
    assert decided.status_code == 200, decided.content.decode()
    body = decided.json()["request"]
    assert body["status"] == "pending" and body["status_label"] == "待上传证据材料（未生效）"
    assert body["facts"] == "连续三个月未到岗，未记录履职" and body["evidence"] == []
    appointment.refresh_from_db()
    assert appointment.ended_on is None  # no evidence, no ending
    [row] = audit("appointments.termination_by_entity", appointment)
    assert row.article == policy_article(case["city"], "termination") and row.after["binds"] in ("planner", "both")

    evidence_path = f"{path}/evidence"
    assert client.post(evidence_path, {"file": pdf()}, **bearer(case["planner"].user)).status_code == 403
    disguised = SimpleUploadedFile("考勤.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    bad = client.post(evidence_path, {"file": disguised}, **bearer(case["signer"]))
    assert bad.status_code == 400 and bad.json()["code"] == "upload_type_not_allowed"
    appointment.refresh_from_db()
    assert appointment.ended_on is None

    uploaded = client.post(evidence_path, {"file": pdf("考勤记录.pdf")}, **bearer(case["signer"]))
    assert uploaded.status_code == 201, uploaded.content.decode()
    answer = uploaded.json()
    assert answer["request"]["status"] == "consented" and answer["evidence"]["name"] == "考勤记录.pdf"
    assert answer["request"]["status_label"] == "聘任主体已决定解除，待生效"
    appointment.refresh_from_db()
    assert appointment.ended_on == effective and appointment.end_kind == "termination" and appointment.is_active()
    assert dossier(case["planner"], DossierEventKind.TERMINATED) == 1
    [row] = audit("appointments.termination_evidence_add", appointment)
    assert row.article == policy_article(case["city"], "termination")
    # more evidence until the effective date, none after it
    assert client.post(evidence_path, {"file": pdf("补充.pdf")}, **bearer(case["signer"])).status_code == 201
    assert dossier(case["planner"], DossierEventKind.TERMINATION_EVIDENCE) == 1
    clock.set(effective)
    late = client.post(evidence_path, {"file": pdf("迟到.pdf")}, **bearer(case["signer"]))
    assert late.status_code == 409 and late.json()["code"] == "termination_effective"
    assert TerminationRequest.objects.get(appointment=appointment).evidence.count() == 2

    # everyone who sees the appointment may read the evidence; nobody else
    evidence_id = answer["evidence"]["id"]
    download = f"/api/v1/appointments/{appointment.pk}/terminate/evidence/{evidence_id}"
    for user in (case["officer"], case["planner"].user, case["admin"]):
        response = client.get(download, **bearer(user))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    if case["stranger"] is not None:
        assert client.get(download, **bearer(case["stranger"])).status_code == 404


def test_an_entity_termination_without_evidence_never_takes_effect(case, clock, client, bearer):
    appointment = appoint(case, clock)
    effective = clock.today + dt.timedelta(days=2)
    services.termination_request(actor=case["signer"], appointment=appointment, initiator="entity",
                                 breach=case["planner_clause"], facts="未履行约定任务", effective_date=effective)
    clock.set(effective + dt.timedelta(days=1))
    with pytest.raises(Conflict) as exc:
        services.termination_evidence_add(actor=case["signer"], appointment=appointment, file=pdf())
    assert exc.value.code == "effective_date_passed"
    appointment.refresh_from_db()
    assert appointment.is_active() and appointment.ended_on is None
    # the pending decision blocks nothing for ever: the entity withdraws it (the planner cannot)
    with pytest.raises(Forbidden):
        services.termination_withdraw(actor=case["planner"].user, appointment=appointment)
    assert services.termination_withdraw(actor=case["signer"], appointment=appointment).status == "withdrawn"


def test_evidence_uploaded_with_the_decision_ends_the_contract_today(case, clock, client, bearer):
    appointment = appoint(case, clock)
    response = client.post(f"/api/v1/appointments/{appointment.pk}/terminate", {
        "initiator": "entity", "breach": case["planner_clause"], "facts": "未履行约定任务",
        "effective_date": clock.today.isoformat(), "file": [pdf("一.pdf"), pdf("二.pdf")],
    }, **bearer(case["signer"]))
    assert response.status_code == 200, response.content.decode()
    request = response.json()["request"]
    assert request["status"] == "effective" and [e["name"] for e in request["evidence"]] == ["一.pdf", "二.pdf"]
    appointment.refresh_from_db()
    assert appointment.status == "terminated" and appointment.ended_on == clock.today
    assert case["unit"].pk not in covered_unit_ids(case["city"])
    assert len(audit("appointments.termination_by_entity", appointment)) == 1
    assert not audit("appointments.termination_evidence_add", appointment)


def test_the_planners_statement_is_recorded_once_and_shown_to_entity_district_and_city(case, clock, client, bearer):
    appointment = appoint(case, clock)
    path = f"/api/v1/appointments/{appointment.pk}/terminate"
    nothing = post(client, f"{path}/statement", case["planner"].user, bearer, {"statement": "我有话说"})
    assert nothing.status_code == 409 and nothing.json()["code"] == "no_entity_termination"
    services.termination_request(actor=case["signer"], appointment=appointment, initiator="entity",
                                 breach=case["planner_clause"], facts="未按约定记录履职",
                                 effective_date=clock.today + dt.timedelta(days=5), evidence=[pdf()])
    assert post(client, f"{path}/statement", case["signer"], bearer, {"statement": "代为陈述"}).status_code == 403
    assert post(client, f"{path}/statement", case["planner"].user, bearer, {"statement": ""}).status_code == 400
    stated = post(client, f"{path}/statement", case["planner"].user, bearer,
                  {"statement": "履职记录因系统故障未能提交，已向专班报备。"})
    assert stated.status_code == 200
    assert stated.json()["request"]["statement"] == "履职记录因系统故障未能提交，已向专班报备。"
    again = post(client, f"{path}/statement", case["planner"].user, bearer, {"statement": "补充"})
    assert again.status_code == 409 and again.json()["code"] == "statement_exists"
    for user in (case["signer"], case["officer"], case["admin"]):
        [request] = detail(client, bearer, user, appointment)["termination_requests"]
        assert request["statement"].startswith("履职记录因系统故障") and request["statement_at"]
    [row] = audit("appointments.termination_statement", appointment)
    assert row.article == policy_article(case["city"], "termination")
    assert dossier(case["planner"], DossierEventKind.TERMINATION_STATEMENT) == 1


def test_beijing_ends_only_by_consent_a_named_planner_breach_with_facts_or_expiry(
    city_admin, street_office, district_haidian, wanshou, bj_planner, beijing, clock
):
    appointment = appointment_build(unit=wanshou, planner=bj_planner, start=clock.today)
    # not by the planner alone …
    with pytest.raises(Conflict) as exc:
        services.withdrawal_request(actor=bj_planner.user, appointment=appointment,
                                    leave_date=clock.today + dt.timedelta(days=90), reason="不想干了")
    assert exc.value.code == "withdrawal_not_allowed"
    # … nor by the planner's request without consent, however long it waits …
    services.termination_request(actor=bj_planner.user, appointment=appointment, initiator="planner", reason="调动")
    clock.advance(days=60)
    assert Appointment.objects.get(pk=appointment.pk).is_active()
    services.termination_withdraw(actor=bj_planner.user, appointment=appointment)
    # … nor by the entity at will, for its own clause, or without facts; nor by anyone else
    for breach, facts in (("", "想换人"), ("remuneration", "财政紧张"), ("service_content", "")):
        with pytest.raises(DomainError):
            services.termination_request(actor=street_office, appointment=appointment, initiator="entity",
                                         breach=breach, facts=facts, effective_date=clock.today, evidence=[pdf()])
    for actor in (city_admin, district_haidian):
        with pytest.raises((Forbidden, NotFound)):
            services.termination_request(actor=actor, appointment=appointment, initiator="entity",
                                         breach="service_content", facts="未到岗", effective_date=clock.today)
    appointment.refresh_from_db()
    assert appointment.is_active() and appointment.ended_on is None
    # by expiry, it simply ends on its last day
    clock.set(appointment.end + dt.timedelta(days=1))
    assert appointment.state() == "ended" and wanshou.pk not in covered_unit_ids(beijing)


def test_one_audit_row_per_act(case, clock):
    appointment = appoint(case, clock)
    planner, signer = case["planner"].user, case["signer"]
    acts = [
        ("appointments.termination_request",
         lambda: services.termination_request(actor=planner, appointment=appointment, initiator="planner", reason="调动")),
        ("appointments.termination_refuse",
         lambda: services.termination_refuse(actor=signer, appointment=appointment, reason="工作需要")),
        ("appointments.termination_request",
         lambda: services.termination_request(actor=planner, appointment=appointment, initiator="planner", reason="再次")),
        ("appointments.termination_withdraw",
         lambda: services.termination_withdraw(actor=planner, appointment=appointment)),
        ("appointments.termination_by_entity",
         lambda: services.termination_request(actor=signer, appointment=appointment, initiator="entity",
                                              breach=case["planner_clause"], facts="未到岗",
                                              effective_date=clock.today + dt.timedelta(days=3))),
        ("appointments.termination_evidence_add",
         lambda: services.termination_evidence_add(actor=signer, appointment=appointment, file=pdf())),
        ("appointments.termination_statement",
         lambda: services.termination_statement(actor=planner, appointment=appointment, statement="不同意该事实")),
    ]
    article = policy_article(case["city"], "termination")
    assert article == {"beijing": "B25", "pingdingshan": "P6(5)"}[case["city"].code]
    for action, act in acts:
        before = ActionLog.objects.count()
        events = DossierEvent.objects.filter(planner=case["planner"]).count()
        act()
        assert ActionLog.objects.count() == before + 1, action
        assert ActionLog.objects.order_by("-id").first().action == action
        assert ActionLog.objects.order_by("-id").first().article == article
        assert DossierEvent.objects.filter(planner=case["planner"]).count() == events + 1, action


def test_pending_requests_list_keeps_a_constant_query_count(
    street_office, city_admin, wanshou, beijing, clock, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rpms.accounts.models import User
    from rpms.appointments.selectors import pending_termination_requests

    def request_one():
        planner = make_planner(beijing)
        appointment = appointment_build(unit=wanshou, planner=planner, start=clock.today)
        services.termination_request(actor=planner.user, appointment=appointment, initiator="planner", reason="调动")

    request_one()
    with CaptureQueriesContext(connection) as one:
        assert len(pending_termination_requests(user=User.objects.get(pk=street_office.pk))) == 1
    for _ in range(3):
        request_one()
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(pending_termination_requests(user=User.objects.get(pk=street_office.pk))) == 4


def test_the_detail_keeps_a_constant_query_count_whatever_the_requests_and_evidence(
    client, bearer, case, clock, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    appointment = appoint(case, clock)
    headers = bearer(case["officer"])
    services.termination_request(actor=case["planner"].user, appointment=appointment, initiator="planner", reason="一")
    services.termination_withdraw(actor=case["planner"].user, appointment=appointment)
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/api/v1/appointments/{appointment.pk}", **headers).status_code == 200
    for n in range(3):
        services.termination_request(actor=case["planner"].user, appointment=appointment, initiator="planner",
                                     reason=f"第{n}次")
        services.termination_refuse(actor=case["signer"], appointment=appointment, reason="不同意")
    services.termination_request(actor=case["signer"], appointment=appointment, initiator="entity",
                                 breach=case["planner_clause"], facts="未到岗",
                                 effective_date=clock.today + dt.timedelta(days=5), evidence=[pdf(), pdf(), pdf()])
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = client.get(f"/api/v1/appointments/{appointment.pk}", **headers).json()
    assert len(body["termination_requests"]) == 5 and len(body["termination_requests"][0]["evidence"]) == 3


def test_a_termination_consented_for_a_later_date_counts_as_a_termination_in_the_statistics(case, clock):
    from rpms.reports.selectors import city_statistics

    appointment = appoint(case, clock)
    services.termination_request(actor=case["planner"].user, appointment=appointment, initiator="planner",
                                 reason="身体原因")
    effective = clock.today + dt.timedelta(days=5)
    services.termination_consent(actor=case["signer"], appointment=appointment, effective_date=effective)
    after = effective + dt.timedelta(days=1)
    total = city_statistics(city=case["city"], year=effective.year, today=after)["appointments"]["total"]
    assert (total["terminated"], total["withdrawn"]) == (1, 0)


def test_the_list_filters_a_termination_past_its_later_effective_date_as_terminated(case, clock, client, bearer):
    appointment = appoint(case, clock)
    services.termination_request(actor=case["planner"].user, appointment=appointment, initiator="planner",
                                 reason="身体原因")
    effective = clock.today + dt.timedelta(days=3)
    services.termination_consent(actor=case["signer"], appointment=appointment, effective_date=effective)
    clock.set(effective + dt.timedelta(days=1))

    def ids(status):
        return [r["id"] for r in client.get(f"/api/v1/appointments?status={status}",
                                            **bearer(case["admin"])).json()["results"]]

    assert appointment.pk in ids("terminated") and appointment.pk not in ids("withdrawn")
    [row] = [r for r in client.get("/api/v1/appointments", **bearer(case["admin"])).json()["results"]
             if r["id"] == appointment.pk]
    assert row["status"] == "terminated" and row["status_label"] == "已解除"
