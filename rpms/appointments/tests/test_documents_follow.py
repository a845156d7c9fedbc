"""Issue #11 item 6: the documents follow the appointment. Whenever an appointment ends (termination,
withdrawal, removal, expiry without renewal) its certificate, contract and dispatch notice verify as
ended — on /verify/ and GET /api/v1/documents/verify/{code} — with the end date and the kind of
ending; a renewal's documents replace the previous ones and name them."""
import datetime as dt
import io

import pytest
from django.db import transaction
from pdfminer.high_level import extract_text

from rpms.appointments import services
from rpms.appointments.models import EndKind
from rpms.documents.models import DocumentStatus, IssuedDocument
from rpms.documents.rendering import document_pdf
from rpms.testing.builders import appointment_build

from .conftest import make_planner

pytestmark = pytest.mark.django_db

KINDS = ("dispatch_notice", "appointment_certificate", "appointment_contract")


@pytest.fixture(params=["beijing", "pingdingshan"])
def case(request, clock):
    get = request.getfixturevalue
    if request.param == "beijing":
        return {"city": get("beijing"), "admin": get("city_admin"), "signer": get("street_office"),
                "unit": get("wanshou"), "planner": get("bj_planner")}
    return {"city": get("pingdingshan"), "admin": get("pds_admin"), "signer": get("pds_admin"),
            "unit": get("pds_unit"), "planner": get("pds_planner")}


def appoint(case, clock):
    """The city's own way (Beijing: proposed by the street office, approved by the district)."""
    return appointment_build(unit=case["unit"], planner=case["planner"], start=clock.today, actor=case["admin"])


def documents(appointment) -> dict:
    return {d.kind: d for d in IssuedDocument.objects.filter(subject_type="appointments.appointment",
                                                             subject_id=str(appointment.pk), status="valid")}


def verify(client, document) -> dict:
    response = client.get(f"/api/v1/documents/verify/{document.verification_code}")
    assert response.status_code == 200
    return response.json()


def page(client, document) -> str:
    response = client.get(f"/verify/{document.verification_code}/")
    assert response.status_code == 200
    return response.content.decode()


def flat(text: str) -> str:
    return "".join(text.split())


def test_after_termination_the_contract_verifies_as_ended_with_its_date(case, clock, anon):
    appointment = appoint(case, clock)
    issued = documents(appointment)
    assert set(issued) == set(KINDS)
    for document in issued.values():
        assert verify(anon, document)["status"] == "valid"
        assert document.valid_until == appointment.end  # the term's last day

    clock.advance(days=40)
    services.termination_request(actor=case["planner"].user, appointment=appointment, initiator="planner",
                                 reason="工作调动，无法继续履职")
    assert verify(anon, issued["appointment_contract"])["status"] == "valid"  # a pending request ends nothing
    services.termination_consent(actor=case["signer"], appointment=appointment)

    # Terminated today: ended today, at once — the contract, the certificate (ended, not revoked) and the
    # dispatch notice, which announced a posting that no longer runs.
    for kind in KINDS:
        answer = verify(anon, issued[kind])
        assert answer["valid"] is False and answer["status"] == "ended", kind
        assert answer["status_label"] == "已终止"
        assert answer["ended_on"] == clock.today.isoformat()
        assert answer["ending"] == "termination" and answer["ending_label"] == "解除聘用合同"
        assert IssuedDocument.objects.get(pk=issued[kind].pk).status == DocumentStatus.VALID  # not revoked
    html = page(anon, issued["appointment_contract"])
    assert f"已于 <strong>{clock.today.isoformat()}</strong>" in html and "因解除聘用合同而终止" in html
    assert "目前<strong>有效</strong>" not in html
    assert "已终止" in flat(extract_text(io.BytesIO(document_pdf(IssuedDocument.objects.get(
        pk=issued["appointment_contract"].pk)))))  # the PDF printed now says so too


def test_the_appointment_page_shows_its_documents_as_ended(case, clock, login):
    appointment = appoint(case, clock)
    clock.advance(days=10)
    with transaction.atomic():
        services.appointment_end_record(actor=case["admin"], appointment=services._lock_appointment(appointment),
                                        last_day=clock.today, kind=EndKind.TERMINATION, reason="协商解除")
    html = login(case["admin"]).get(f"/appointments/{appointment.pk}/").content.decode()
    assert html.count("已终止") >= 3 and f"{clock.today.isoformat()} 解除聘用合同" in html
    assert '<span class="badge ok">有效</span>' not in html


def test_a_withdrawal_ends_the_documents_on_the_leave_date(pingdingshan, pds_unit, pds_planner, pds_admin, clock, anon):
    clock.set(dt.date(2026, 3, 2))
    appointment = services.appointment_create(actor=pds_admin, planner=pds_planner, unit=pds_unit,
                                              role="responsible_planner", start=clock.today)
    contract = documents(appointment)["appointment_contract"]
    clock.set(dt.date(2026, 6, 1))
    earliest, _ = services.withdrawal_earliest(city=pingdingshan, requested_on=clock.today)
    services.withdrawal_request(actor=pds_planner.user, appointment=appointment, leave_date=earliest,
                                reason="工作调动，无法继续履职")

    before = verify(anon, contract)  # still serving: valid, and the page says until when
    assert before["status"] == "valid" and before["ends_on"] == earliest.isoformat()
    assert before["ends_label"] == "退出派驻" and before["ended_on"] is None
    assert f"将于 <strong>{earliest.isoformat()}</strong> 结束（退出派驻）" in page(anon, contract)

    clock.set(earliest)
    after = verify(anon, contract)
    assert after["status"] == "ended" and after["ended_on"] == earliest.isoformat()
    assert after["ending"] == "withdrawal" and after["ending_label"] == "退出派驻"


def test_a_removal_ends_the_documents_with_its_kind(case, clock, anon):
    appointment = appoint(case, clock)
    issued = documents(appointment)
    clock.advance(days=100)
    with transaction.atomic():  # the one helper every early ending goes through
        locked = services._lock_appointment(appointment)
        services.appointment_end_record(actor=case["admin"], appointment=locked, last_day=clock.today,
                                        kind=EndKind.REMOVAL, reason="调出资源库")
    for kind in KINDS:
        answer = verify(anon, issued[kind])
        assert (answer["status"], answer["ended_on"], answer["ending_label"]) == (
            "ended", clock.today.isoformat(), "调出资源库"), kind
    assert "因调出资源库而终止" in page(anon, issued["appointment_certificate"])


def test_a_term_that_runs_out_without_renewal_verifies_as_ended_after_its_last_day(case, clock, anon):
    appointment = appoint(case, clock)
    issued = documents(appointment)

    clock.set(appointment.end)  # the last day of the term: still valid
    for kind in KINDS:
        assert verify(anon, issued[kind])["status"] == "valid", kind

    clock.set(appointment.end + dt.timedelta(days=1))
    for kind in KINDS:
        answer = verify(anon, issued[kind])
        assert answer["status"] == "ended" and answer["ended_on"] == appointment.end.isoformat(), kind
        assert answer["ending"] == "expiry" and answer["ending_label"] == "聘期届满"
    html = page(anon, issued["appointment_contract"])
    assert f"已于 <strong>{appointment.end.isoformat()}</strong> <strong>聘期届满</strong>" in html


def test_a_renewal_supersedes_the_term_documents_and_the_new_ones_name_the_previous(
        beijing, city_admin, street_office, wanshou, bj_planner, clock, anon):
    appointment = appointment_build(unit=wanshou, planner=bj_planner, start=clock.today)
    first_end = appointment.end
    old = documents(appointment)
    clock.set(first_end - dt.timedelta(days=10))
    services.appointment_renew(actor=street_office, appointment=appointment, years=2)
    appointment.refresh_from_db()
    new = documents(appointment)

    for kind in ("appointment_contract", "appointment_certificate"):
        answer = verify(anon, old[kind])
        assert answer["status"] == "superseded" and answer["superseded_by"]["number"] == new[kind].number
        assert new[kind].supersedes_id == old[kind].pk
        assert new[kind].context["supersedes_number"] == old[kind].number  # in the hashed content
        assert new[kind].valid_until == appointment.end
        newer = verify(anon, new[kind])
        assert newer["status"] == "valid" and newer["supersedes"]["number"] == old[kind].number
        html = page(anon, new[kind])
        assert old[kind].number in html and f'href="/verify/{old[kind].verification_code}/"' in html
        assert old[kind].number in flat(extract_text(io.BytesIO(document_pdf(new[kind]))))
    assert "前一聘期聘用合同" in flat(extract_text(io.BytesIO(document_pdf(new["appointment_contract"]))))

    # The dispatch notice is not re-issued: it runs on with the appointment, and ends with it.
    notice = new["dispatch_notice"]
    assert notice.pk == old["dispatch_notice"].pk and notice.valid_until == appointment.end
    clock.set(first_end + dt.timedelta(days=1))
    assert verify(anon, notice)["status"] == "valid"
    assert verify(anon, new["appointment_contract"])["status"] == "valid"
    clock.set(appointment.end + dt.timedelta(days=1))
    assert verify(anon, notice)["status"] == "ended"
    assert verify(anon, new["appointment_contract"])["ended_on"] == appointment.end.isoformat()


def test_another_appointment_of_the_same_planner_keeps_its_documents(beijing, city_admin, wanshou, clock, anon):
    from .conftest import unit_of

    planner = make_planner(beijing, "杜若衡")
    ending = appointment_build(unit=wanshou, planner=planner, start=clock.today)
    other = appointment_build(unit=unit_of(beijing, "110108002"), planner=planner, start=clock.today)
    with transaction.atomic():
        services.appointment_end_record(actor=city_admin, appointment=services._lock_appointment(ending),
                                        last_day=clock.today, kind=EndKind.TERMINATION, reason="协商解除")
    assert verify(anon, documents(ending)["appointment_contract"])["status"] == "ended"
    assert verify(anon, documents(other)["appointment_contract"])["status"] == "valid"
