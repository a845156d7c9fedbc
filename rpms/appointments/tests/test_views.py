"""The appointment pages: list (filters, export, query count), new, detail and its forms (errors keep
the input), expiring, withdrawals and replacement, district chiefs, and the city home's coverage."""
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from rpms.appointments import services
from rpms.appointments.models import Appointment, Withdrawal
from rpms.testing.builders import appoint

from .conftest import make_planner, units_of

pytestmark = pytest.mark.django_db


def test_list_page_query_count_does_not_grow_with_rows(login, city_admin, beijing, haidian, clock,
                                                       django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(city_admin)
    units = units_of(haidian, 10)
    appoint(city_admin, make_planner(beijing), units[0], clock.today)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/appointments/").status_code == 200
    for unit in units[1:]:
        appoint(city_admin, make_planner(beijing), unit, clock.today)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/appointments/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('href="/appointments/') >= 10 and units[9].name in html


def test_list_is_scoped_and_exports_excel(login, city_admin, district_chaoyang, beijing, haidian, chaoyang, clock):
    haidian_unit, chaoyang_unit = units_of(haidian, 1)[0], units_of(chaoyang, 1)[0]
    appoint(city_admin, make_planner(beijing, "海淀的规划师"), haidian_unit, clock.today)
    appoint(city_admin, make_planner(beijing, "朝阳的规划师"), chaoyang_unit, clock.today)
    html = login(district_chaoyang).get("/appointments/").content.decode()
    assert "朝阳的规划师" in html and "海淀的规划师" not in html

    export = login(city_admin).get("/appointments/?export=xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and "责任单元" in rows[0]
    assert {r[6] for r in rows[1:]} == {"海淀的规划师", "朝阳的规划师"}


def test_anonymous_is_sent_to_login_and_other_roles_see_nothing_outside_scope(client, login, city_admin, district_chaoyang,
                                                                               wanshou, bj_planner, clock):
    appointment = appoint(city_admin, bj_planner, wanshou, clock.today)
    assert client.get("/appointments/").status_code == 302
    assert login(district_chaoyang).get(f"/appointments/{appointment.pk}/").status_code == 404
    assert login(district_chaoyang).get(f"/appointments/{appointment.pk}/contract.pdf").status_code == 404


def test_new_appointment_form_keeps_input_on_refusal(login, pds_admin, pds_district, pingdingshan, clock):
    planner = make_planner(pingdingshan, "已在任")
    unit = units_of(pds_district, 1)[0]
    appoint(pds_admin, planner, unit, clock.today)
    client = login(pds_admin)
    page = client.get("/appointments/new/")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    response = client.post("/appointments/new/", {"unit": unit.pk, "planner": planner.pk, "role": "responsible_planner",
                                                  "start": clock.today.isoformat(), "service_focus": "保留的服务重点"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "同一责任单元" in html and "保留的服务重点" in html
    assert f'value="{unit.pk}" selected' in html

    other = make_planner(pingdingshan, "新人")
    created = client.post("/appointments/new/", {"unit": unit.pk, "planner": other.pk, "role": "responsible_planner",
                                                 "start": clock.today.isoformat()})
    assert created.status_code == 302
    assert Appointment.objects.filter(planner=other, unit=unit).exists()


def test_in_beijing_the_new_form_points_to_local_selection_and_refuses_direct_appointing(
    login, city_admin, district_haidian, street_office, wanshou, beijing, clock
):
    client = login(city_admin)
    response = client.get("/appointments/new/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "选聘提名" in page and "不能在此直接聘任" in page
    assert 'name="planner"' not in page and 'action="/appointments/new/"' not in page  # no form is offered
    assert "办理聘任</a>" not in client.get("/appointments/").content.decode()  # nor linked from the list
    response = client.post("/appointments/new/", {"unit": wanshou.pk, "planner": make_planner(beijing).pk,
                                                  "role": "responsible_planner", "start": clock.today.isoformat()})
    assert response.status_code == 403 and "不能在此直接聘任" in response.content.decode()
    assert not Appointment.objects.exists()
    # the district and the street office are told the same, in Chinese; the office is shown where to propose
    for user, propose in ((district_haidian, False), (street_office, True)):
        refused = login(user).get("/appointments/new/")
        assert refused.status_code == 403 and "选聘提名" in refused.content.decode()
        assert ('href="/appointments/proposals/new/"' in refused.content.decode()) is propose


def test_detail_page_shows_documents_with_codes_and_the_filing_button_to_the_district(
    login, city_admin, district_haidian, wanshou, bj_planner, clock
):
    from rpms.testing.builders import appointment_sign

    appointment = appointment_sign(appointment=appoint(city_admin, bj_planner, wanshou, clock.today))
    html = login(district_haidian).get(f"/appointments/{appointment.pk}/").content.decode()
    assert "派驻通知" in html and "聘任证书" in html and "聘用合同" in html
    assert "/verify/" in html and "备案并公开（下一步确认）" in html and "csrfmiddlewaretoken" in html
    assert f"/appointments/{appointment.pk}/contract.pdf" in html
    assert bj_planner.id_number not in html and bj_planner.mobile not in html
    asked = login(district_haidian).post(f"/appointments/{appointment.pk}/file/")
    assert asked.status_code == 200 and "请确认" in asked.content.decode()
    response = login(district_haidian).post(f"/appointments/{appointment.pk}/file/", {"confirm": "1"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.disclosed and appointment.filed_at


def test_withdrawal_form_error_shows_the_earliest_date_and_keeps_the_reason(login, city_admin, wanshou, bj_planner, clock,
                                                                             beijing):
    appointment = appoint(city_admin, bj_planner, wanshou, clock.today, withdrawal_notice_working_days=15)
    client = login(bj_planner.user)
    page = client.get(f"/appointments/{appointment.pk}/").content.decode()
    earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    assert "申请退出派驻" in page and earliest.isoformat() in page
    response = client.post(f"/appointments/{appointment.pk}/withdrawal/",
                           {"leave_date": (clock.today + dt.timedelta(days=2)).isoformat(), "reason": "家庭原因需要离开"})
    assert response.status_code == 400
    html = response.content.decode()
    assert earliest.isoformat() in html and "家庭原因需要离开" in html and "计算过程" in html
    ok = client.post(f"/appointments/{appointment.pk}/withdrawal/", {"leave_date": earliest.isoformat(), "reason": "家庭原因"})
    assert ok.status_code == 302 and Withdrawal.objects.filter(appointment=appointment).exists()


def test_entity_termination_form_refuses_a_ground_outside_the_contract(login, city_admin, street_office, wanshou,
                                                                       bj_planner, clock):
    appointment = appoint(city_admin, bj_planner, wanshou, clock.today)
    client = login(street_office)
    page = client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert "依约解除聘用合同" in page and "办理续聘" in page
    response = client.post(f"/appointments/{appointment.pk}/terminate/",
                           {"initiator": "entity", "breach": "", "facts": "我们想换人", "confirm": "1",
                            "effective_date": clock.today.isoformat()})
    assert response.status_code == 400
    html = response.content.decode()
    assert "聘任主体不得以合同约定外的事项作为解除聘用合同的理由" in html and "我们想换人" in html


def test_replacement_page_lists_the_engines_proposals_and_appoints_one(login, pds_admin, pds_unit, pds_planner,
                                                                       pingdingshan, clock, monkeypatch):
    # Pingdingshan's bureau appoints the replacement itself (P6(5)); Beijing's way is the next-but-one test
    appointment = appoint(pds_admin, pds_planner, pds_unit, clock.today)
    earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    withdrawal = services.withdrawal_request(actor=pds_planner.user, appointment=appointment, leave_date=earliest,
                                             reason="工作变动")
    successor = make_planner(pingdingshan, "推荐接任者")
    calls = []

    def fake_proposals(*, actor, unit, role, exclude_planner_ids=(), start=None):
        calls.append({"unit": unit.pk, "role": role, "exclude": tuple(exclude_planner_ids), "start": start})
        return [{"planner": successor.pk, "planner_name": successor.name, "employer": successor.employer, "score": 87.5,
                 "explanation": {"summary": "专业匹配，熟悉海淀区"}}]

    import rpms.dispatch.services as dispatch_services

    monkeypatch.setattr(dispatch_services, "replacement_proposals", fake_proposals, raising=False)
    client = login(pds_admin)
    page = client.get(f"/appointments/withdrawals/{withdrawal.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "推荐接任者" in html and "专业匹配，熟悉海淀区" in html and "任命" in html
    assert calls == [{"unit": pds_unit.pk, "role": "responsible_planner", "exclude": (pds_planner.pk,),
                      "start": earliest + dt.timedelta(days=1)}]
    listing = client.get("/appointments/withdrawals/").content.decode()
    assert pds_unit.name in listing and "待补位" in listing

    response = client.post(f"/appointments/withdrawals/{withdrawal.pk}/replace/", {"planner": successor.pk})
    assert response.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.replacement.planner == successor
    assert withdrawal.replacement.start == earliest + dt.timedelta(days=1)


def test_replacement_page_works_with_the_real_engine(login, pds_admin, pds_unit, pds_planner, pingdingshan, clock):
    appointment = appoint(pds_admin, pds_planner, pds_unit, clock.today)
    earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    withdrawal = services.withdrawal_request(actor=pds_planner.user, appointment=appointment, leave_date=earliest,
                                             reason="工作变动")
    make_planner(pingdingshan, "资源库中的候选人")
    page = login(pds_admin).get(f"/appointments/withdrawals/{withdrawal.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "资源库中的候选人" in html  # proposed by the engine or offered for manual choice
    assert pds_planner.name not in html.split("补位人选建议")[1]  # the leaving planner is never proposed


def test_in_beijing_the_replacement_page_leads_to_a_proposal_that_the_district_approves(
    login, city_admin, district_haidian, street_office, wanshou, bj_planner, beijing, clock
):
    from urllib.parse import parse_qs, urlparse

    from rpms.appointments.models import SelectionProposal

    appointment = appoint(city_admin, bj_planner, wanshou, clock.today, withdrawal_notice_working_days=15)
    earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
    withdrawal = services.withdrawal_request(actor=bj_planner.user, appointment=appointment, leave_date=earliest,
                                             reason="工作变动")
    successor = make_planner(beijing, "街道提名的接任者")
    url = f"/appointments/withdrawals/{withdrawal.pk}/"
    # B2, B19(1)(5): neither the city nor the district is offered an appointing form, and posting one is refused
    for user in (city_admin, district_haidian):
        client = login(user)
        html = client.get(url).content.decode()
        assert "任何一方都不能单独任命" in html and "补位人选建议" not in html
        assert f'action="{url}replace/"' not in html and "提名补位人员" not in html
        refused = client.post(f"{url}replace/", {"planner": successor.pk})
        assert refused.status_code == 403 and "选聘提名" in refused.content.decode()
    withdrawal.refresh_from_db()
    assert withdrawal.replacement_id is None
    # the street office sees the vacancy on its home list and is led to the proposal form, prefilled
    office = login(street_office)
    assert "责任规划师退出待补位" in office.get("/").content.decode()
    html = office.get(url).content.decode()
    link = html.split('href="/appointments/proposals/new/?')[1].split('"')[0].replace("&amp;", "&")
    query = {k: v[0] for k, v in parse_qs(urlparse("?" + link).query).items()}
    start = earliest + dt.timedelta(days=1)
    assert query == {"unit": str(wanshou.pk), "role": "responsible_planner", "start": start.isoformat()}
    form = office.get(f"/appointments/proposals/new/?{link}").content.decode()
    assert "该责任单元有待补位的派驻" in form and bj_planner.name in form  # what the proposal will fill
    form = office.get(f"/appointments/proposals/new/?{link}&q=街道提名").content.decode()
    assert "街道提名的接任者" in form and f'name="start" id="id_start" required value="{start.isoformat()}"' in form
    proposed = office.post("/appointments/proposals/new/", {**query, "planner": successor.pk})
    assert proposed.status_code == 302
    proposal = SelectionProposal.objects.get(planner=successor)
    decision = login(district_haidian).get(f"/appointments/proposals/{proposal.pk}/").content.decode()
    assert "审核同意后，本提名的人选即登记为其补位人员" in decision and bj_planner.name in decision
    approved = login(district_haidian).post(f"/appointments/proposals/{proposal.pk}/approve/", {"confirm": "1"})
    assert approved.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.replacement.planner == successor and withdrawal.replacement.start == start
    html = office.get(url).content.decode()
    assert "已安排补位：街道提名的接任者" in html and "提名补位人员" not in html


def test_city_home_shows_uncovered_units_by_district(login, city_admin, beijing, haidian, clock):
    units = units_of(haidian, 2)
    appoint(city_admin, make_planner(beijing), units[0], clock.today)
    html = login(city_admin).get("/").content.decode()
    assert "未覆盖的责任单元（按区）" in html
    section = html.split("未覆盖的责任单元（按区）")[1].split("</table>")[0]
    assert "海淀区" in section and units[1].name in section
    total_haidian = haidian.units.filter(dissolved_at__isnull=True).count()
    assert f"/ {total_haidian}" in section


def test_district_chief_page(login, district_haidian, haidian, bj_planner, clock):
    client = login(district_haidian)
    page = client.get("/appointments/chiefs/")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    response = client.post("/appointments/chiefs/", {"district": haidian.pk, "planner": bj_planner.pk,
                                                     "start": clock.today.isoformat()})
    assert response.status_code == 302
    assert "林清源" in client.get("/appointments/chiefs/").content.decode()


def test_public_list_filters_by_city_and_district(anon, city_admin, district_haidian, beijing, haidian, chaoyang, clock):
    haidian_unit, chaoyang_unit = units_of(haidian, 1)[0], units_of(chaoyang, 1)[0]
    for name, unit in (("海淀公开甲", haidian_unit), ("朝阳公开乙", chaoyang_unit)):
        appoint(city_admin, make_planner(beijing, name), unit, clock.today, filed=True, filer=city_admin)
    html = anon.get(f"/appointments/public/?city=beijing&district={haidian.code}").content.decode()
    assert "海淀公开甲" in html and "朝阳公开乙" not in html
    assert 'name="viewport"' in html  # mobile friendly shell
    assert "朝阳公开乙" in anon.get("/appointments/public/?city=beijing").content.decode()
