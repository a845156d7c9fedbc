"""Find my planner (/find/ and the public home): a partial, Chinese place name → the unit, its planners
(and a team's core members), their term, employer and public contact channel, the unit's recent public
activity and a button to send a suggestion — never an ID number or a mobile."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.portal import selectors as portal_selectors

from .conftest import SECRET_ID, SECRET_MOBILE, make_planner

pytestmark = pytest.mark.django_db


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main"):html.index("</main>")]


def test_a_partial_name_shows_the_appointed_planner_with_term_employer_and_contact(anon, beijing, wanshou, appoint):
    planner = make_planner(beijing, "万寿路测试规划师", employer="虚构建筑设计研究院", id_number=SECRET_ID,
                           mobile=SECRET_MOBILE, email="secret@example.invalid")
    appointment = appoint(wanshou, planner)
    for path in ("/find/", "/"):
        response = anon.get(path, {"q": "万寿"})
        main = _main(response)
        assert response.status_code == 200
        assert "万寿路街道" in main and wanshou.name in main
        assert "万寿路测试规划师" in main and "虚构建筑设计研究院" in main
        assert f"聘期：{appointment.start.isoformat()} 至 {appointment.end.isoformat()}" in main
        assert "联系方式：通过本系统向责任规划师提出意见建议" in main
        assert f'href="/suggestions/units/{wanshou.pk}/new/?street=110108001">提出意见建议</a>' in main
        for secret in (SECRET_ID, SECRET_MOBILE, "secret@example.invalid"):
            assert secret not in response.content.decode()


def test_a_teams_leader_and_core_members_are_shown(anon, beijing, wanshou, appoint):
    team = make_planner(beijing, "虚构社区规划团队", kind="team", leader_name="王负责人", members=[
        {"name": "甲成员", "specialty": "urban_rural_planning", "is_core": True},
        {"name": "乙成员", "specialty": "architecture", "is_core": True},
        {"name": "非核心成员", "specialty": "", "is_core": False},
    ])
    appoint(wanshou, team)
    main = _main(anon.get("/find/", {"q": "万寿路"}))
    assert "虚构社区规划团队（团队）" in main and "团队负责人：王负责人" in main
    assert "核心成员：甲成员（" in main and "乙成员（" in main
    assert "非核心成员" not in main


def test_an_undisclosed_appointment_is_not_shown(anon, beijing, wanshou, appoint):
    appointment = appoint(wanshou, filed=False)
    main = _main(anon.get("/find/", {"q": "万寿路"}))
    assert appointment.planner.name not in main and "暂无责任规划师" in main
    assert f"/suggestions/units/{wanshou.pk}/new/?street=110108001" in main  # suggestions still reach the district


def test_a_community_or_office_name_finds_its_street(anon, beijing, wanshou):
    main = _main(anon.get("/find/", {"q": "万寿路社区"}))
    assert "没有名称包含“万寿路社区”的街道乡镇，以下是名称包含“万寿路”的" in main
    assert "万寿路街道" in main
    main = _main(anon.get("/find/", {"q": "万寿路街道办事处"}))
    assert "万寿路街道" in main


def test_a_district_name_offers_its_coverage_page(anon, beijing):
    main = _main(anon.get("/find/", {"q": "海淀区"}))
    assert 'href="/info/map/110108/"' in main


def test_recent_public_replies_of_the_unit_are_shown(anon, beijing, wanshou, appoint, city_admin):
    from rpms.suggestions import services as suggestion_services

    planner = make_planner(beijing, "答复测试规划师")
    appoint(wanshou, planner)
    suggestion = suggestion_services.suggestion_submit(
        actor=None, unit=wanshou, category="suggestion", content="建议在小区门口增设无障碍坡道，方便老人出行。",
        contact_name="张居民", contact_phone="13700001111",
    )
    suggestion_services.suggestion_reply(actor=planner.user, suggestion=suggestion, text="已与街道沟通，计划下月施工。")
    hidden = suggestion_services.suggestion_submit(actor=None, unit=wanshou, category="problem",
                                                   content="这是一条将被隐藏的不当内容测试文字。")
    suggestion_services.suggestion_reply(actor=planner.user, suggestion=hidden, text="收到，正在核实情况。")
    suggestion_services.suggestion_hide(actor=city_admin, suggestion=hidden, reason="含不当内容")

    main = _main(anon.get("/find/", {"q": "万寿路"}))
    assert "近期公开动态" in main and "建议在小区门口增设无障碍坡道" in main and "已与街道沟通，计划下月施工。" in main
    assert "张居民" not in main and "13700001111" not in main
    assert "将被隐藏" not in main and "收到，正在核实情况。" not in main


def test_recent_activity_keeps_the_latest_replies_per_unit(beijing, wanshou, appoint):
    from rpms.suggestions import services as suggestion_services

    planner = make_planner(beijing)
    appoint(wanshou, planner)
    for i in range(5):
        s = suggestion_services.suggestion_submit(actor=None, unit=wanshou, category="suggestion",
                                                  content=f"第{i}条测试意见建议内容，请答复。")
        suggestion_services.suggestion_reply(actor=planner.user, suggestion=s, text=f"第{i}条的答复内容。")
    activity = portal_selectors.recent_public_activity([wanshou])[wanshou.pk]
    assert len(activity) == portal_selectors.RECENT_ACTIVITY_PER_UNIT
    assert activity[0].text == "第4条的答复内容。"


def test_the_page_is_ready_for_a_phone(anon, beijing):
    html = anon.get("/find/", {"q": "万寿"}).content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'href="/static/publicinfo/publicinfo.css"' in html
    assert not re.search(r'style="[^"]*width:\s*\d{3,}px', html)  # no fixed widths wider than a phone


def test_lookup_query_count_does_not_grow_with_planners(anon, beijing, haidian, appoint):
    from rpms.geography.models import ResponsibilityUnit

    units = list(ResponsibilityUnit.objects.filter(district=haidian, dissolved_at__isnull=True)
                 .select_related("district", "city__policy").order_by("id"))
    anon.get("/find/", {"q": "预热"})  # the list of cities is kept in the shared cache from the first page on
    appoint(units[0])
    with CaptureQueriesContext(connection) as few:
        assert anon.get("/find/", {"q": "街道", "city": "beijing"}).status_code == 200
    for unit in units[1:6]:
        appoint(unit)
    with CaptureQueriesContext(connection) as many:
        assert anon.get("/find/", {"q": "街道", "city": "beijing"}).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_published_cases_of_the_unit_are_part_of_its_recent_activity(anon, beijing, wanshou, appoint, city_admin):
    from rpms.cases import services as case_services

    planner = make_planner(beijing, "案例测试规划师")
    appoint(wanshou, planner)
    case = case_services.case_submit(
        actor=planner.user, unit=wanshou, title="万寿路口袋公园更新", duty_category="co_governance",
        summary="居民共同参与设计的口袋公园。", body="本案例记录了从居民意见收集、方案讨论到施工完成的全过程。" * 3,
    )
    assert "万寿路口袋公园更新" not in _main(anon.get("/find/", {"q": "万寿路"}))  # not yet reviewed
    case_services.case_review(actor=city_admin, case=case, decision="publish")
    main = _main(anon.get("/find/", {"q": "万寿路"}))
    assert "优秀案例" in main and f'href="/cases/{case.pk}/">万寿路口袋公园更新</a>' in main
