"""Dispatch pages: the district's request form (own units with coverage) and its requests with return
reasons; the administrator's queue, matching with its busy state, the run page with confirm and hand
replacement per proposal, the Excel export; conflicts; constant query counts on the lists."""
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from rpms.appointments.models import Appointment
from rpms.testing.builders import appointment_build
from rpms.dispatch.models import (
    ConflictDeclaration,
    DispatchRequest,
    MatchingRun,
    Proposal,
    RequestStatus,
)
from rpms.dispatch.services import dispatch_request_submit, matching_run

from .conftest import ROLE, make_member, today, units_of

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def text(response):
    return response.content.decode()


def test_the_request_form_lists_own_units_with_their_coverage(beijing, haidian, chaoyang, district_haidian, city_admin):
    units = units_of(haidian, 2)
    serving = make_member(beijing, "在任规划师")
    appointment_build(unit=units[0], planner=serving, role=ROLE, start=today())
    page = text(logged_in(district_haidian).get("/dispatch/requests/new/"))
    assert "提交派驻申请：海淀区" in page and units[1].name in page
    assert "责任规划师：在任规划师" in page and "尚无派驻" in page
    assert units_of(chaoyang, 1)[0].name not in page
    assert "城乡规划" in page and "责任建筑师" in page  # specialties and roles from the policy


def test_a_district_officer_submits_through_the_page(haidian, district_haidian):
    units = units_of(haidian, 2)
    response = logged_in(district_haidian).post("/dispatch/requests/new/", {
        "district": "110108", "role": ROLE, "specialties": ["urban_design"], "slots_per_unit": "2",
        "units": [str(u.pk) for u in units], "service_focus": "历史街区保护",
    })
    request = DispatchRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dispatch/requests/{request.pk}/"
    assert request.slots_per_unit == 2 and request.service_focus == "历史街区保护"


def test_the_page_refuses_another_districts_unit(haidian, chaoyang, district_haidian):
    response = logged_in(district_haidian).post("/dispatch/requests/new/", {
        "district": "110108", "role": ROLE, "slots_per_unit": "1", "units": [str(units_of(chaoyang, 1)[0].pk)],
    })
    # Another district's unit lies outside the officer's scope: the page answers 404 (#14) in Chinese.
    assert response.status_code == 404 and "不属于本区" in text(response)
    assert logged_in(district_haidian).get("/dispatch/requests/new/?district=110105").status_code == 404
    assert not DispatchRequest.objects.exists()


def test_the_district_sees_its_returned_request_with_the_reason(beijing, haidian, chaoyang, district_haidian,
                                                                district_chaoyang, city_admin):
    from rpms.dispatch.services import dispatch_request_return

    request = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE,
                                      units=units_of(haidian, 1))
    dispatch_request_return(actor=city_admin, request=request, reason="请先明确服务重点")
    page = text(logged_in(district_haidian).get("/dispatch/requests/"))
    assert "已退回" in page and "请先明确服务重点" in page
    assert "请先明确服务重点" not in text(logged_in(district_chaoyang).get("/dispatch/requests/"))
    assert logged_in(district_chaoyang).get(f"/dispatch/requests/{request.pk}/").status_code == 404


def test_the_administrator_accepts_and_returns_from_the_queue(beijing, haidian, district_haidian, city_admin):
    units = units_of(haidian, 2)
    first = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=units[:1])
    second = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=units[1:])
    client = logged_in(city_admin)
    assert "受理" in text(client.get("/dispatch/requests/"))
    client.post(f"/dispatch/requests/{first.pk}/accept/")
    response = client.post(f"/dispatch/requests/{second.pk}/return/", {"reason": ""}, follow=True)
    assert "请填写退回理由" in text(response)
    client.post(f"/dispatch/requests/{second.pk}/return/", {"reason": "与已有申请重复"})
    first.refresh_from_db(), second.refresh_from_db()
    assert first.status == RequestStatus.ACCEPTED and second.status == RequestStatus.RETURNED
    assert logged_in(district_haidian).post(f"/dispatch/requests/{first.pk}/accept/").status_code == 403


def test_the_request_list_page_has_a_constant_query_count(beijing, haidian, district_haidian, city_admin):
    units = units_of(haidian, 10)
    dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=units[:2])
    client = logged_in(city_admin)
    client.get("/dispatch/requests/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/dispatch/requests/").status_code == 200
    for unit in units[2:]:
        dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=[unit])
    with CaptureQueriesContext(connection) as many:
        page = text(client.get("/dispatch/requests/"))
    assert page.count('href="/dispatch/requests/') >= 9
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.fixture
def accepted(beijing, haidian, district_haidian, city_admin, accepted_request):
    def _make(n_units, n_planners):
        for n in range(n_planners):
            make_member(beijing, f"规划师{n:02d}", districts=[haidian] if n % 2 else [], experience_years=n)
        return accepted_request(district_haidian, city_admin, units_of(haidian, n_units),
                                specialties=["urban_rural_planning"])

    return _make


def test_the_matching_page_runs_and_shows_the_busy_state(city_admin, accepted):
    request = accepted(2, 2)
    client = logged_in(city_admin)
    page = text(client.get("/dispatch/matching/"))
    assert "运行统筹选派" in page and "正在计算…" in page and f"#{request.pk}" in page
    assert "dispatch/busy.js" in page and "data-busy" in page
    response = client.post("/dispatch/matching/run/", {"requests": [str(request.pk)]})
    run = MatchingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dispatch/runs/{run.pk}/"
    assert run.proposals.count() == 2


def test_the_run_page_shows_explained_proposals_and_unfilled_slots(beijing, city_admin, accepted):
    accepted(3, 2)
    make_member(beijing, "园林专业", specialties=["landscape"])
    run = matching_run(actor=city_admin, city=beijing)
    page = text(logged_in(city_admin).get(f"/dispatch/runs/{run.pk}/"))
    proposal = run.proposals.first()
    assert proposal.planner.name in page and "海淀区 · " in page
    assert "专业匹配" in page and "属地熟悉度" in page and "从业经验" in page and "既往考核" in page
    assert "已核验的硬性规则" in page and "资源库在库人员" in page and "上限 3 个（B19(2)）" in page
    assert "确认聘任" in page and "人工替换" in page and 'list="dispatch-planners"' in page
    assert "已证明最优" in page and "导出 Excel" in page
    assert "园林专业" in page  # offered in the replacement picker (in the pool)


def test_confirm_and_replace_from_the_run_page(dispatching_beijing, beijing, city_admin, accepted):
    accepted(2, 2)
    run = matching_run(actor=city_admin, city=beijing)
    first, second = list(run.proposals.order_by("slot_key"))
    client = logged_in(city_admin)
    response = client.post(f"/dispatch/proposals/{first.pk}/confirm/", {"start": today().isoformat()}, follow=True)
    assert "已聘任" in text(response)
    assert Appointment.objects.filter(source=f"proposal:{first.pk}").exists()
    newcomer = make_member(beijing, "新替换人")
    response = client.post(f"/dispatch/proposals/{second.pk}/replace/",
                           {"planner": f"{newcomer.pk} 新替换人", "reason": "原人选请假"}, follow=True)
    assert "理由已记录" in text(response)
    new = Proposal.objects.get(replaces=second)
    assert new.planner == newcomer and new.replacement_reason == "原人选请假"
    page = text(client.get(f"/dispatch/runs/{run.pk}/"))
    assert "人工替换（原建议：" in page and "原人选请假" in page and "已确认聘任" in page
    refused = client.post(f"/dispatch/proposals/{new.pk}/replace/", {"planner": "", "reason": "x"}, follow=True)
    assert "请选择替换的责任规划师" in text(refused)


def test_the_run_page_has_a_constant_query_count(beijing, city_admin, accepted, district_chaoyang, chaoyang,
                                                 accepted_request):
    accepted(2, 2)
    small = matching_run(actor=city_admin, city=beijing)
    client = logged_in(city_admin)
    client.get(f"/dispatch/runs/{small.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/dispatch/runs/{small.pk}/")
    for n in range(6):
        make_member(beijing, f"朝阳{n}", districts=[chaoyang])
    accepted_request(district_chaoyang, city_admin, units_of(chaoyang, 8), slots_per_unit=3)  # 26 slots, 24 places
    big = matching_run(actor=city_admin, city=beijing)
    assert big.proposals.count() > small.proposals.count() + 10 and big.unfilled
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/dispatch/runs/{big.pk}/").status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_run_export_lists_proposals_and_unfilled_slots(beijing, city_admin, accepted):
    accepted(4, 1)  # one planner, cap 3
    run = matching_run(actor=city_admin, city=beijing)
    response = logged_in(city_admin).get(f"/dispatch/runs/{run.pk}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)).active
    rows = list(sheet.values)
    assert rows[0][:6] == ("区", "责任单元", "派驻角色", "申请编号", "状态", "责任规划师")
    statuses = [r[4] for r in rows[1:]]
    assert statuses.count("待确认") == 3 and statuses.count("未满足") == 1
    assert all(r[11] for r in rows[1:] if r[4] == "未满足")


def test_only_city_staff_reach_the_matching_pages(beijing, district_haidian, street_office, pds_admin, city_admin,
                                                  accepted):
    accepted(1, 1)
    run = matching_run(actor=city_admin, city=beijing)
    assert logged_in(district_haidian).get("/dispatch/matching/").status_code == 403
    assert logged_in(street_office).get("/dispatch/requests/").status_code == 403
    assert logged_in(pds_admin).get(f"/dispatch/runs/{run.pk}/").status_code == 404
    assert logged_in(district_haidian).post("/dispatch/matching/run/").status_code == 403
    assert Client().get("/dispatch/requests/").status_code == 302


def test_a_planner_declares_a_conflict_on_the_page(beijing, haidian, planner_user):
    unit = units_of(haidian, 1)[0]
    client = logged_in(planner_user)
    assert "申报人：测试规划师" in text(client.get("/dispatch/conflicts/"))
    response = client.post("/dispatch/conflicts/", {"target": f"u:{unit.pk}", "kind": "relation", "note": "亲属在该街道工作"})
    assert response.status_code == 302
    declaration = ConflictDeclaration.objects.get()
    assert declaration.unit == unit and declaration.planner.user == planner_user
    assert unit.name in text(client.get("/dispatch/conflicts/"))
    response = client.post("/dispatch/conflicts/", {"target": "", "kind": "relation", "note": "x"})
    assert response.status_code == 400 and "请选择" in text(response)


def test_pending_items_for_the_administrator_and_the_district(beijing, haidian, district_haidian, city_admin):
    from rpms.dispatch.pending import dispatch_pending
    from rpms.dispatch.services import dispatch_request_return

    units = units_of(haidian, 2)
    dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=units[:1])
    returned = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=units[1:])
    assert [(i.title, i.count) for i in dispatch_pending(city_admin)] == [("待受理的派驻申请", 2)]
    dispatch_request_return(actor=city_admin, request=returned, reason="重复")
    assert [i.count for i in dispatch_pending(district_haidian)] == [1]


def test_the_run_page_opens_one_district_at_a_time(beijing, chaoyang, city_admin, accepted, district_chaoyang,
                                                   accepted_request):
    accepted(1, 1)
    make_member(beijing, "朝阳规划师", districts=[chaoyang])
    chaoyang_unit = units_of(chaoyang, 1)[0]
    accepted_request(district_chaoyang, city_admin, [chaoyang_unit])
    run = matching_run(actor=city_admin, city=beijing)
    client = logged_in(city_admin)
    everything = text(client.get(f"/dispatch/runs/{run.pk}/"))
    assert "朝阳区 · " in everything and "海淀区 · " in everything
    only = text(client.get(f"/dispatch/runs/{run.pk}/?district=110105"))
    assert f"朝阳区 · {chaoyang_unit.name}" in only and "海淀区 · " not in only
    assert client.get(f"/dispatch/runs/{run.pk}/?district=999999").status_code == 404
