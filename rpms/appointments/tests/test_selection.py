"""Local selection (B2, B19(1)(5)): in Beijing the street office proposes a planner for its own unit and
the district officer approves; neither alone (nor the city bureau) appoints. Pingdingshan (city
dispatch, P6(2)) keeps the bureau appointing."""
import json

import pytest

from rpms.appointments import proposals, services
from rpms.appointments.models import Appointment, SelectionProposal, SelectionStatus
from rpms.core.errors import Conflict, Forbidden
from rpms.core.models import ActionLog

from .conftest import make_planner, units_of

pytestmark = pytest.mark.django_db


def post(client, path, headers, body=None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json", **headers)


def propose(client, bearer, user, unit, planner, clock, **extra):
    body = {"planner": planner.pk, "unit": unit.pk, "role": "responsible_planner", "start": clock.today.isoformat(),
            **extra}
    return post(client, "/api/v1/appointments/proposals", bearer(user), body)


def test_the_entity_proposes_and_the_district_approves_into_an_appointment_with_its_documents(
    client, bearer, street_office, district_haidian, wanshou, bj_planner, clock
):
    response = propose(client, bearer, street_office, wanshou, bj_planner, clock, fee_yuan=90000,
                       service_focus="老旧小区综合整治", fee_note="按季度支付")
    assert response.status_code == 201, response.content.decode()
    proposal = response.json()
    assert proposal["status"] == "pending" and proposal["planner"]["name"] == "林清源"
    assert not Appointment.objects.filter(unit=wanshou).exists()  # a proposal appoints nobody

    detail = client.get(f"/api/v1/appointments/proposals/{proposal['id']}", **bearer(district_haidian)).json()
    assert detail["eligibility"]["rules"] and "cap" in detail and "上限 3 个（B19(2)）" in detail["cap"]["text"]

    approved = post(client, f"/api/v1/appointments/proposals/{proposal['id']}/approve", bearer(district_haidian))
    assert approved.status_code == 201, approved.content.decode()
    body = approved.json()
    assert body["planner"]["name"] == "林清源" and body["fee_yuan"] == 90000
    assert body["service_focus"] == "老旧小区综合整治" and body["contract_state"] == "unsigned"
    assert {d["kind"] for d in body["documents"]} == {"dispatch_notice", "appointment_certificate", "appointment_contract"}
    assert SelectionProposal.objects.get(pk=proposal["id"]).appointment_id == body["id"]
    # one audit row for the approval (the appointment is made inside it), citing the selection article
    row = ActionLog.objects.get(action="appointments.selection_approve")
    assert "B19(1)" in row.article and row.object_id == str(body["id"])
    assert not ActionLog.objects.filter(action="appointments.appointment_create").exists()


@pytest.mark.parametrize("who", ["city_admin", "district_haidian", "street_office"])
def test_in_a_local_selection_city_nobody_appoints_directly(who, request, client, bearer, wanshou, bj_planner, clock):
    user = request.getfixturevalue(who)
    body = {"planner": bj_planner.pk, "unit": wanshou.pk, "role": "responsible_planner",
            "start": clock.today.isoformat()}
    response = post(client, "/api/v1/appointments", bearer(user), body)
    assert response.status_code == 403
    assert response.json()["code"] == "local_selection_required"
    assert "选聘提名" in response.json()["detail"] and "审核同意" in response.json()["detail"]
    assert not Appointment.objects.exists()


def test_the_entity_cannot_approve_its_own_proposal_nor_the_district_propose(street_office, district_haidian,
                                                                           city_admin, wanshou, bj_planner, clock):
    with pytest.raises(Forbidden):
        proposals.proposal_submit(actor=district_haidian, planner=bj_planner, unit=wanshou,
                                  role="responsible_planner", start=clock.today)
    with pytest.raises(Forbidden):
        proposals.proposal_submit(actor=city_admin, planner=bj_planner, unit=wanshou,
                                  role="responsible_planner", start=clock.today)
    proposal = proposals.proposal_submit(actor=street_office, planner=bj_planner, unit=wanshou,
                                         role="responsible_planner", start=clock.today)
    for actor in (street_office, city_admin):
        with pytest.raises(Forbidden):
            proposals.proposal_approve(actor=actor, proposal=proposal)
    assert not Appointment.objects.exists()
    assert SelectionProposal.objects.get(pk=proposal.pk).status == SelectionStatus.PENDING


def test_another_districts_officer_and_another_street_get_404(client, bearer, street_office, district_chaoyang, beijing,
                                                             wanshou, bj_planner, clock):
    from .conftest import make_user
    from rpms.accounts.models import Role

    proposal = propose(client, bearer, street_office, wanshou, bj_planner, clock).json()
    path = f"/api/v1/appointments/proposals/{proposal['id']}"
    assert client.get(path, **bearer(district_chaoyang)).status_code == 404
    assert post(client, f"{path}/approve", bearer(district_chaoyang)).status_code == 404
    assert post(client, f"{path}/return", bearer(district_chaoyang), {"reason": "不同意"}).status_code == 404
    other_street = make_user("ap_other_street", Role.HIRING_ENTITY, beijing,
                             subdistricts=[units_of(district_chaoyang.districts.get(), 1)[0].current_subdistricts[0]])
    assert client.get(path, **bearer(other_street)).status_code == 404
    assert post(client, f"{path}/withdraw", bearer(other_street)).status_code == 404
    # a street office cannot propose for a unit that is not its own
    assert propose(client, bearer, other_street, wanshou, bj_planner, clock).status_code == 404
    listing = client.get("/api/v1/appointments/proposals", **bearer(district_chaoyang)).json()["results"]
    assert listing == []
    assert [p["id"] for p in client.get("/api/v1/appointments/proposals", **bearer(street_office)).json()["results"]] \
        == [proposal["id"]]


def test_return_with_reason_and_withdraw(client, bearer, street_office, district_haidian, wanshou, bj_planner, beijing,
                                         clock):
    first = propose(client, bearer, street_office, wanshou, bj_planner, clock).json()
    path = f"/api/v1/appointments/proposals/{first['id']}"
    no_reason = post(client, f"{path}/return", bearer(district_haidian), {"reason": " "})
    assert no_reason.status_code == 400 and "理由" in no_reason.json()["detail"]
    returned = post(client, f"{path}/return", bearer(district_haidian), {"reason": "请补充服务重点"})
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    assert returned.json()["return_reason"] == "请补充服务重点"
    again = post(client, f"{path}/approve", bearer(district_haidian))
    assert again.status_code == 409 and "已退回" in again.json()["detail"]
    # the entity proposes again, then withdraws it; the district can no longer approve it
    second = propose(client, bearer, street_office, wanshou, bj_planner, clock, service_focus="街区更新").json()
    assert post(client, f"/api/v1/appointments/proposals/{second['id']}/withdraw", bearer(district_haidian)).status_code == 403
    withdrawn = post(client, f"/api/v1/appointments/proposals/{second['id']}/withdraw", bearer(street_office))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert post(client, f"/api/v1/appointments/proposals/{second['id']}/approve", bearer(district_haidian)).status_code == 409
    assert not Appointment.objects.exists()


def test_a_proposal_over_the_cap_or_of_a_planner_outside_the_pool_is_refused(street_office, city_admin, district_haidian,
                                                                             haidian, beijing, wanshou, clock):
    from rpms.testing.builders import appointment_build

    busy = make_planner(beijing)
    for unit in [u for u in units_of(haidian, 4) if u.pk != wanshou.pk][:3]:
        appointment_build(unit=unit, planner=busy)
    with pytest.raises(Conflict) as refused:
        proposals.proposal_submit(actor=street_office, planner=busy, unit=wanshou, role="responsible_planner",
                                  start=clock.today)
    assert "不得超过 3 个" in refused.value.message and "B19(2)" in refused.value.message
    outside = make_planner(beijing, pool_status="removed")
    with pytest.raises(Conflict) as refused:
        proposals.proposal_submit(actor=street_office, planner=outside, unit=wanshou, role="responsible_planner",
                                  start=clock.today)
    assert "资源库" in refused.value.message


def test_candidates_show_eligibility_and_cap_with_a_constant_query_count(client, bearer, street_office, beijing,
                                                                        wanshou, clock, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_planner(beijing, "候选甲", degree="master", major_field="urban_rural_planning", title_level="senior",
                 title_field="urban_rural_planning", experience_years=12)
    path = f"/api/v1/appointments/selection/candidates?unit={wanshou.pk}&q=候选"
    with CaptureQueriesContext(connection) as few:
        rows = client.get(path, **bearer(street_office)).json()["results"]
    assert [r["name"] for r in rows] == ["候选甲"]
    assert rows[0]["eligibility"]["article"] and rows[0]["eligibility"]["rules"]
    assert rows[0]["cap"]["held"] == 0 and rows[0]["blocking"] == []
    for i in range(8):
        make_planner(beijing, f"候选{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(path, **bearer(street_office)).json()["results"]) == 9


def test_pingdingshan_does_not_take_proposals_and_its_bureau_still_appoints(pds_admin, pds_unit, pds_planner,
                                                                           pingdingshan, clock):
    from .conftest import make_user
    from rpms.accounts.models import Role

    entity = make_user("ap_pds_entity", Role.HIRING_ENTITY, pingdingshan, subdistricts=pds_unit.current_subdistricts)
    with pytest.raises(Conflict) as refused:
        proposals.proposal_submit(actor=entity, planner=pds_planner, unit=pds_unit, role="responsible_planner",
                                  start=clock.today)
    assert refused.value.code == "not_local_selection"
    appointment = services.appointment_create(actor=pds_admin, planner=pds_planner, unit=pds_unit,
                                              role="responsible_planner", start=clock.today)
    assert appointment.pk


def test_the_district_sees_pending_proposals_on_its_home_page_list(street_office, district_haidian, wanshou,
                                                                   bj_planner, clock):
    from rpms.appointments.selectors import pending_items

    proposals.proposal_submit(actor=street_office, planner=bj_planner, unit=wanshou, role="responsible_planner",
                              start=clock.today)
    [item] = [i for i in pending_items(district_haidian) if i.title == "选聘提名待审核"]
    assert item.count == 1


def test_the_proposal_list_keeps_a_constant_query_count_and_the_pages_work(client, bearer, login, street_office,
                                                                           district_haidian, wanshou, beijing, clock,
                                                                           django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    proposals.proposal_submit(actor=street_office, planner=make_planner(beijing), unit=wanshou,
                              role="responsible_planner", start=clock.today)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/appointments/proposals", **bearer(district_haidian)).json()["results"]) == 1
    for _ in range(6):
        proposals.proposal_submit(actor=street_office, planner=make_planner(beijing), unit=wanshou,
                                  role="responsible_planner", start=clock.today)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/appointments/proposals", **bearer(district_haidian)).json()["results"]) == 7
    page = login(district_haidian).get("/appointments/proposals/?status=pending")
    assert page.status_code == 200 and page.content.decode().count("待区级审核") >= 7


def test_the_pages_take_the_entity_and_the_district_through_a_proposal(login, street_office, district_haidian, wanshou,
                                                                      bj_planner, clock):
    entity = login(street_office)
    search = entity.get("/appointments/proposals/new/", {"unit": wanshou.pk, "q": "林清源"}).content.decode()
    assert "林清源" in search and "上限 3 个" in search and "csrfmiddlewaretoken" in search
    refused = entity.post("/appointments/proposals/new/", {"unit": wanshou.pk, "q": "林清源", "planner": bj_planner.pk,
                                                           "role": "responsible_planner", "start": "2000-01-01",
                                                           "service_focus": "保留的服务重点"})
    assert refused.status_code == 400 and "保留的服务重点" in refused.content.decode()
    made = entity.post("/appointments/proposals/new/", {"unit": wanshou.pk, "q": "林清源", "planner": bj_planner.pk,
                                                        "role": "responsible_planner", "start": clock.today.isoformat()})
    assert made.status_code == 302
    proposal = SelectionProposal.objects.get()
    district = login(district_haidian)
    page = district.get(f"/appointments/proposals/{proposal.pk}/").content.decode()
    assert "审核同意并办理聘任" in page and "退回提名" in page and "B19(2)" in page
    unconfirmed = district.post(f"/appointments/proposals/{proposal.pk}/approve/", {})
    assert unconfirmed.status_code == 400 and "勾选确认" in unconfirmed.content.decode()
    approved = district.post(f"/appointments/proposals/{proposal.pk}/approve/", {"confirm": "1"})
    appointment = Appointment.objects.get()
    assert approved.status_code == 302 and approved["Location"] == f"/appointments/{appointment.pk}/"
    assert "审核同意并办理聘任" not in entity.get(f"/appointments/proposals/{proposal.pk}/").content.decode()
