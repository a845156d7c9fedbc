"""Journeys of the staff (issue #7, quality bar), each signed in through the real login page: a planner
applies to a call after checking the eligibility rule by rule; in Beijing a street office proposes a
planner, the district approves, the street office submits the signed contract and the district files it,
and the public unit page then shows the planner; in Pingdingshan the city administrator runs matching on
accepted dispatch requests, reads the explanations and confirms one proposal with a start date."""
import datetime as dt

import pytest

from rpms.appointments.models import Appointment
from rpms.dispatch.models import MatchingRun, Proposal, ProposalStatus
from rpms.recruitment.models import Application
from rpms.recruitment.services import eligibility_preview

from rpms.testing.builders import SIGNED_PDF

from .builders import accepted_request, beijing_application_data, open_call, pool_member, today, unit_of, units_of
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


def test_a_street_office_proposes_the_district_approves_and_files_the_signed_contract_and_the_public_sees_the_planner(
    pages, beijing, haidian, street_office, district_haidian, tmp_path
):
    # B2, B19(1)(5): the street office proposes, the district approves; B19(3): the entity submits the
    # signed contract, the district work team files it; B19(7): then the public sees who serves.
    unit = unit_of(beijing, "110108001")
    pool_member(beijing, "林规划", districts=[haidian])

    public = pages.open()
    public.goto(f"/appointments/units/{unit.pk}/")
    assert "林规划" not in public.locator("main").inner_text()

    street = login(pages.open(), street_office)
    street.goto("/appointments/proposals/new/")
    street.get_by_label("姓名、团队或工作单位").fill("林规划")
    street.get_by_role("button", name="检索").click()
    row = street.locator("tbody tr").filter(has_text="林规划")
    assert "符合" in row.inner_text() and "上限 3 个" in row.inner_text()
    row.get_by_role("radio").check()
    street.get_by_label("服务重点").fill("老旧小区综合整治")
    street.get_by_role("button", name="提交提名，报区级审核").click()
    assert "待海淀区责任规划师工作专班审核" in street.locator(".messages").inner_text()

    district = login(pages.open(), district_haidian)
    district.goto("/appointments/proposals/?status=pending")
    district.locator("tbody tr").filter(has_text="林规划").get_by_role("link", name="详情").click()
    district.get_by_label("我已核对人选资格和服务单元数").check()
    district.get_by_role("button", name="审核同意并办理聘任").click()
    assert "已审核同意" in district.locator(".messages").inner_text()
    appointment = Appointment.objects.get(planner__name="林规划", unit=unit)
    assert district.url.endswith(f"/appointments/{appointment.pk}/")
    assert "备案并公开（下一步确认）" not in district.locator("main").inner_text()  # nothing signed yet

    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(SIGNED_PDF)
    street.goto(f"/appointments/{appointment.pk}/")
    street.get_by_label("签字盖章的聘用合同扫描件（PDF）").set_input_files(str(pdf))
    street.get_by_label("签订日期").fill(today().isoformat())
    street.get_by_label("合同约定的服务费用（元）").fill("80000")
    street.get_by_role("button", name="提交海淀区责任规划师工作专班备案").click()
    assert "已提交海淀区责任规划师工作专班备案" in street.locator(".messages").inner_text()

    district.goto("/appointments/?unfiled=1")
    row = district.locator("tbody tr").filter(has_text="林规划")
    assert "待备案" in row.inner_text() and unit.name in row.inner_text()
    row.get_by_role("link", name="详情").click()
    assert "待备案" in district.locator(".page-header").inner_text()
    district.get_by_role("button", name="备案并公开（下一步确认）").click()
    # the confirmation page (issue #17 item 5) says what will follow before anything is filed
    assert "随即在公开页面公布" in district.locator("main").inner_text()
    assert Appointment.objects.get(pk=appointment.pk).filed_at is None
    district.get_by_role("button", name="确认备案并公开").click()
    assert "聘用合同已备案，聘任信息已在公开页面公布。" in district.locator(".messages").inner_text()
    assert "已备案并公开" in district.locator(".page-header").inner_text()
    assert Appointment.objects.get(pk=appointment.pk).filed_at is not None

    public.reload()
    cards = public.locator("main").inner_text()
    assert "林规划" in cards and "暂无已公开的在聘责任规划师" not in cards
    assert f"{appointment.start:%Y-%m-%d}" in cards
    pages.last = public


def test_a_city_administrator_runs_matching_reads_the_explanations_and_confirms_a_proposal(
    pages, pingdingshan, pds_admin
):
    # P6(2): in Pingdingshan the bureau dispatches from the pool (in Beijing the matching only recommends)
    from rpms.accounts.models import Role, User

    xinhua = pingdingshan.districts.get(code="410402")
    officer = User.objects.create_user(username="br_pds_officer", password=None, role=Role.DISTRICT_OFFICER,
                                       city=pingdingshan, display_name="新华区人民政府（测试）")
    officer.districts.set([xinhua])
    units = units_of(xinhua, 2)
    request = accepted_request(officer, pds_admin, units, service_focus="老旧小区改造")
    for name in ("甲规划", "乙规划", "丙规划"):
        pool_member(pingdingshan, name, districts=[xinhua])
    start = today() + dt.timedelta(days=10)

    page = login(pages.open(), pds_admin)
    page.goto("/dispatch/matching/")
    assert page.locator("h1").inner_text() == "平顶山市统筹选派"
    queue = page.locator("tbody tr").filter(has_text=f"#{request.pk}")
    assert "新华区" in queue.inner_text() and units[0].name in queue.inner_text()
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
