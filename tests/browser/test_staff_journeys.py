"""Journeys of the staff (issue #7, quality bar), each signed in through the real login page: a planner
applies to a call after checking the eligibility rule by rule; a district officer files a contract and
the public unit page then shows the planner; a city administrator runs matching on accepted dispatch
requests, reads the explanations and confirms one proposal with a start date."""
import datetime as dt

import pytest

from rpms.appointments.models import Appointment
from rpms.dispatch.models import MatchingRun, Proposal, ProposalStatus
from rpms.recruitment.models import Application
from rpms.recruitment.services import eligibility_preview

from .builders import accepted_request, appoint, beijing_application_data, open_call, pool_member, today, units_of
from .conftest import login

pytestmark = [pytest.mark.browser]


def test_a_planner_checks_the_eligibility_rule_by_rule_and_applies_to_a_call(pages, beijing, city_admin, planner_user):
    call = open_call(city_admin, beijing, deadline=today() + dt.timedelta(days=30))
    data = beijing_application_data(planner_user.display_name, 901)

    page = login(pages.open(), planner_user)
    page.goto("/recruitment/")
    page.get_by_role("link", name=call.title).first.click()
    assert page.locator("h1").inner_text() == call.title
    assert "报名中" in page.locator("main").inner_text()
    page.get_by_role("link", name="申请入库").click()
    assert page.locator("h1").inner_text() == "申请入库"

    page.get_by_label("姓名", exact=True).fill(data["name"])
    page.get_by_label("身份证号码").fill(data["id_number"])
    page.get_by_label("手机号码").fill(data["mobile"])
    page.get_by_label("电子邮箱").fill(data["email"])
    page.get_by_label("工作单位").fill(data["employer"])
    page.get_by_label("最高学历").select_option(data["degree"])
    page.get_by_label("所学专业").fill(data["major"])
    page.get_by_label("专业所属领域").select_option(data["degree_field"])
    page.get_by_label("职称等级").select_option(data["title_level"])
    page.get_by_label("职称专业领域").select_option(data["title_field"])
    page.get_by_label("相关专业工作年限").fill(str(data["experience_years"]))
    for name in ("registrations", "specialties", "declarations"):
        for value in data[name]:
            page.locator(f"input[name={name}][value={value}]").check()
    page.get_by_label("海淀区").check()

    # "检查资格" shows every rule with its article before anything is submitted.
    page.get_by_role("button", name="检查资格").click()
    assert Application.objects.count() == 0
    result = page.locator(".eligibility")
    assert "符合全部条件" in result.locator(".alert").inner_text()
    expected = eligibility_preview(call=call, data=data).as_dict()
    assert expected["eligible"] and expected["rules"]
    rules = result.locator("ul.rules > li")
    assert rules.count() == len(expected["rules"])
    for index, rule in enumerate(expected["rules"]):
        item = rules.nth(index)
        assert item.locator(":scope > .badge").inner_text() == "符合"
        assert item.locator(":scope > strong").inner_text() == rule["article"]
        assert rule["label"] in item.inner_text()
        assert rule["article"].startswith("B18")

    page.get_by_role("button", name="提交申请").click()
    assert "申请已提交，请等待审核。" in page.locator(".messages").inner_text()
    application = Application.objects.get()
    assert application.applicant_id == planner_user.pk and application.call_id == call.pk
    assert application.eligible is True and application.status == "submitted"
    assert page.url.endswith(f"/recruitment/applications/{application.pk}/")


def test_a_district_officer_files_the_contract_and_the_public_unit_page_shows_the_planner(
    pages, beijing, haidian, city_admin, district_haidian
):
    unit = units_of(haidian, 1)[0]
    planner = pool_member(beijing, "林规划", districts=[haidian])
    appointment = appoint(city_admin, planner, unit)

    public = pages.open()
    public.goto(f"/appointments/units/{unit.pk}/")
    assert "该责任单元暂无已公开的在聘责任规划师" in public.locator("main").inner_text()
    assert "林规划" not in public.locator("main").inner_text()

    page = login(pages.open(), district_haidian)
    page.goto("/appointments/?unfiled=1")
    row = page.locator("tbody tr").filter(has_text="林规划")
    assert "待备案" in row.inner_text() and unit.name in row.inner_text()
    row.get_by_role("link", name="详情").click()
    assert page.url.endswith(f"/appointments/{appointment.pk}/")
    assert "待备案" in page.locator(".page-header").inner_text()
    page.get_by_role("button", name="确认备案并公开").click()
    assert "聘用合同已备案，聘任信息已在公开页面公布。" in page.locator(".messages").inner_text()
    assert "已备案并公开" in page.locator(".page-header").inner_text()
    assert Appointment.objects.get(pk=appointment.pk).filed_at is not None

    public.reload()
    cards = public.locator("main").inner_text()
    assert "林规划" in cards and "暂无已公开的在聘责任规划师" not in cards
    assert f"{appointment.start:%Y-%m-%d}" in cards
    pages.last = public


def test_a_city_administrator_runs_matching_reads_the_explanations_and_confirms_a_proposal(
    pages, beijing, haidian, city_admin, district_haidian
):
    units = units_of(haidian, 2)
    request = accepted_request(district_haidian, city_admin, units, service_focus="老旧小区改造")
    for name in ("甲规划", "乙规划", "丙规划"):
        pool_member(beijing, name, districts=[haidian])
    start = today() + dt.timedelta(days=10)

    page = login(pages.open(), city_admin)
    page.goto("/dispatch/matching/")
    assert page.locator("h1").inner_text() == "北京市统筹选派"
    queue = page.locator("tbody tr").filter(has_text=f"#{request.pk}")
    assert "海淀区" in queue.inner_text() and units[0].name in queue.inner_text()
    page.get_by_role("button", name="运行统筹选派").click()

    run = MatchingRun.objects.get()
    assert page.locator("h1").inner_text() == f"统筹选派结果 #{run.pk}"
    assert "统筹选派完成：建议 2 人" in page.locator(".messages").inner_text()
    proposals = list(Proposal.objects.filter(run=run).select_related("planner", "unit").order_by("pk"))
    assert len(proposals) == 2 and {p.unit_id for p in proposals} == {u.pk for u in units}
    for proposal in proposals:
        row = page.locator(f"#p{proposal.pk}")
        text = row.inner_text()
        assert proposal.planner.name in text and "待确认" in text
        assert f"{proposal.score:.0f}/100" in text
        for term in proposal.explanation["terms"]:
            assert f"{term['label']} {term['points']}/{term['max']}" in text
        checks = row.locator("details").first
        assert "已核验的硬性规则" in checks.inner_text()

    chosen = proposals[0]
    row = page.locator(f"#p{chosen.pk}")
    row.get_by_label("聘期开始").fill(start.isoformat())
    row.get_by_role("button", name="确认聘任").click()
    assert f"已聘任{chosen.planner.name}为{chosen.unit.name}" in page.locator(".messages").inner_text()
    row = page.locator(f"#p{chosen.pk}")
    assert "已确认聘任" in row.inner_text()

    appointment = Appointment.objects.get(planner=chosen.planner, unit=chosen.unit)
    assert appointment.start == start
    assert f"聘任记录 #{appointment.pk}" in row.inner_text()
    chosen.refresh_from_db()
    assert chosen.status == ProposalStatus.CONFIRMED and chosen.appointment_id == appointment.pk
    assert Proposal.objects.get(pk=proposals[1].pk).status == ProposalStatus.PROPOSED
