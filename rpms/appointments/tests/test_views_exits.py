"""The appointment page's exits (issue #11 items 1–3): each party sees the termination requests in Chinese
and only the acts open to it; refusals keep what was typed; irreversible acts ask for confirmation."""
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rpms.appointments import services
from rpms.appointments.models import TerminationRequest
from rpms.testing.pdfs import TINY_PDF

pytestmark = pytest.mark.django_db


def pdf(name="证据.pdf"):
    return SimpleUploadedFile(name, TINY_PDF, content_type="application/pdf")


@pytest.fixture
def bj_appointment(wanshou, bj_planner, clock):
    """Proposed by the street office and approved by the Haidian district (B2, B19(1)(5))."""
    from rpms.testing.builders import appointment_build

    return appointment_build(unit=wanshou, planner=bj_planner, start=clock.today)


def test_a_beijing_planner_is_offered_the_written_request_not_a_withdrawal(login, bj_appointment, bj_planner):
    client = login(bj_planner.user)
    url = f"/appointments/{bj_appointment.pk}/"
    html = client.get(url).content.decode()
    assert "不能单方提前退出" in html and "提交解除申请" in html
    assert "申请退出派驻" not in html and 'name="leave_date"' not in html
    assert client.post(f"{url}terminate/", {"initiator": "planner", "reason": "家中变故"}).status_code == 302
    html = client.get(url).content.decode()
    assert "待聘任主体同意" in html and "家中变故" in html and "撤回我的解除申请" in html
    assert "提交解除申请" not in html
    assert client.post(f"{url}terminate/withdraw/").status_code == 302
    assert "已撤回" in client.get(url).content.decode()


def test_the_street_office_consents_with_a_date_or_refuses_with_a_reason(login, bj_appointment, bj_planner,
                                                                         street_office, clock):
    services.termination_request(actor=bj_planner.user, appointment=bj_appointment, initiator="planner",
                                 reason="工作调动")
    client = login(street_office)
    url = f"/appointments/{bj_appointment.pk}/"
    html = client.get(url).content.decode()
    assert "同意解除" in html and "不同意解除" in html and 'name="effective_date"' in html and "工作调动" in html
    yesterday = (clock.today - dt.timedelta(days=1)).isoformat()
    past = client.post(f"{url}terminate/consent/", {"effective_date": yesterday, "confirm": "1"})
    assert past.status_code == 400
    html = past.content.decode()
    assert "不能追溯" in html and f'value="{yesterday}"' in html
    unconfirmed = client.post(f"{url}terminate/refuse/", {"reason": "重点项目需持续跟进"})
    assert unconfirmed.status_code == 400
    html = unconfirmed.content.decode()
    assert "请勾选确认" in html and "重点项目需持续跟进" in html
    assert TerminationRequest.objects.get().status == "pending"
    refused = client.post(f"{url}terminate/refuse/", {"reason": "重点项目需持续跟进", "confirm": "1"})
    assert refused.status_code == 302
    html = login(bj_planner.user).get(url).content.decode()
    assert "聘任主体不同意" in html and "重点项目需持续跟进" in html


def test_the_entity_ends_for_breach_choosing_only_planner_clauses_with_confirmation_and_evidence(
    login, bj_appointment, bj_planner, street_office, district_haidian, clock
):
    client = login(street_office)
    url = f"/appointments/{bj_appointment.pk}/"
    html = client.get(url).content.decode()
    form = html.split("依约解除（责任规划师违反合同约定）")[1]
    assert 'value="service_content"' in form and 'value="remuneration"' not in form
    assert 'type="file"' in form and 'name="confirm"' in form and 'enctype="multipart/form-data"' in form
    data = {"initiator": "entity", "breach": "service_content", "facts": "连续两个月未到岗",
            "effective_date": (clock.today + dt.timedelta(days=5)).isoformat()}
    unconfirmed = client.post(f"{url}terminate/", data)
    assert unconfirmed.status_code == 400
    html = unconfirmed.content.decode()
    assert "请勾选确认" in html and "连续两个月未到岗" in html and data["effective_date"] in html
    own = client.post(f"{url}terminate/", {**data, "breach": "remuneration", "confirm": "1"})
    assert own.status_code == 400 and "约束聘任主体（甲方）自身的条款" in own.content.decode()
    assert not TerminationRequest.objects.exists()
    done = client.post(f"{url}terminate/", {**data, "confirm": "1", "evidence": [pdf("考勤.pdf")]})
    assert done.status_code == 302
    request = TerminationRequest.objects.get()
    assert request.status == "consented" and request.evidence.count() == 1
    html = client.get(url).content.decode()
    assert "聘任主体已决定解除，待生效" in html and "考勤.pdf" in html and "上传解除证据材料" in html

    # the planner replies once; the district reads the reply and the evidence
    planner = login(bj_planner.user)
    assert "对解除的陈述" in planner.get(url).content.decode()
    assert planner.post(f"{url}terminate/statement/", {"statement": "已按约到岗，有签到记录"}).status_code == 302
    assert "对解除的陈述" not in planner.get(url).content.decode()
    district = login(district_haidian)
    html = district.get(url).content.decode()
    assert "已按约到岗，有签到记录" in html
    evidence = request.evidence.get()
    download = district.get(f"{url}terminate/evidence/{evidence.pk}/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"


def test_a_pingdingshan_planner_sees_the_withdrawal_form_with_its_earliest_date(login, pds_admin, pds_unit, pds_planner,
                                                                                clock):
    appointment = services.appointment_create(actor=pds_admin, planner=pds_planner, unit=pds_unit,
                                              role="responsible_planner", start=clock.today)
    earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    html = login(pds_planner.user).get(f"/appointments/{appointment.pk}/").content.decode()
    assert "申请退出派驻" in html and "15 个工作日" in html and earliest.isoformat() in html
    assert "不能单方提前退出" not in html


def test_the_new_appointment_form_offers_a_notice_clause_only_where_the_policy_allows_it(login, city_admin, pds_admin,
                                                                                        pds_unit, pds_planner, clock):
    # Pingdingshan's rule (P6(5)) admits no clause of the contract's own
    assert 'name="withdrawal_notice_working_days"' not in login(pds_admin).get("/appointments/new/").content.decode()
    # a city that dispatches and allows one (policy data, not the city's name) offers it and records it
    policy = pds_unit.city.policy
    policy.contract_notice_clause_allowed = True
    policy.save(update_fields=["contract_notice_clause_allowed"])
    client = login(pds_admin)
    assert 'name="withdrawal_notice_working_days"' in client.get("/appointments/new/").content.decode()
    response = client.post("/appointments/new/", {
        "unit": pds_unit.pk, "planner": pds_planner.pk, "role": "responsible_planner", "start": clock.today.isoformat(),
        "withdrawal_notice_working_days": "12",
    })
    assert response.status_code == 302
    assert pds_planner.appointments.get().contract_withdrawal_notice_working_days == 12
    # Beijing allows the clause, but nobody appoints there through this form (B2, B19(1)(5)): the street office
    # records it on the approved appointment (next test)
    page = login(city_admin).get("/appointments/new/")
    assert page.status_code == 403 and 'name="withdrawal_notice_working_days"' not in page.content.decode()


def test_the_street_office_records_the_contracts_notice_clause_on_the_page(login, bj_appointment, street_office):
    client = login(street_office)
    url = f"/appointments/{bj_appointment.pk}/"
    assert "合同约定的退出提前期" in client.get(url).content.decode()
    bad = client.post(f"{url}withdrawal-notice/", {"working_days": "0"})
    assert bad.status_code == 400 and 'value="0"' in bad.content.decode()
    assert client.post(f"{url}withdrawal-notice/", {"working_days": "15"}).status_code == 302
    bj_appointment.refresh_from_db()
    assert bj_appointment.contract_withdrawal_notice_working_days == 15
