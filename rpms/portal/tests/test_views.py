"""Home pages at "/": the public planner search and each role's landing page."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rpms.cities.models import PolicyProfile
from rpms.geography.models import ResponsibilityUnit, Subdistrict, UnitMembership
from rpms.portal import selectors
from rpms.registry.models import Planner

pytestmark = pytest.mark.django_db


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main"):html.index("</main>")]


# --- public search ------------------------------------------------------------------------


def test_public_home_explains_the_search_before_any_query(client, xueyuan_unit):
    main = _main(client.get("/"))
    assert "找到我的责任规划师" in main
    assert 'name="q"' in main and 'method="get"' in main
    assert "什么是责任规划师" in main
    assert "学院路街道" not in main


def test_an_empty_query_asks_for_a_name_and_lists_nothing(client, xueyuan_unit):
    main = _main(client.get("/", {"q": "   "}))
    assert "请先输入街道、镇或乡的名称" in main
    assert "学院路街道" not in main


def test_a_partial_name_finds_the_subdistrict_with_its_district_city_and_unit(client, xueyuan_unit):
    response = client.get("/", {"q": "学院"})
    main = _main(response)
    assert response.status_code == 200
    assert "学院路街道" in main
    assert "海淀区" in main and "北京市" in main
    assert "学院路—海淀责任单元" in main
    assert "暂无责任规划师" in main
    assert "海淀街道" not in main  # same unit, but its name does not contain the query


def test_a_subdistrict_outside_any_unit_says_so(client, wenquan):
    main = _main(client.get("/", {"q": "温泉"}))
    assert "温泉镇" in main
    assert "尚未划入责任单元" in main


def test_a_dissolved_unit_is_not_shown_as_current(client, make_unit, haidian, wenquan):
    unit = make_unit("已撤销的单元", haidian, [wenquan])
    ResponsibilityUnit.objects.filter(pk=unit.pk).update(dissolved_at=timezone.now())
    UnitMembership.objects.filter(unit=unit).update(left_at=timezone.now())
    main = _main(client.get("/", {"q": "温泉"}))
    assert "已撤销的单元" not in main
    assert "尚未划入责任单元" in main


def test_no_match_gets_a_friendly_message(client, xueyuan_unit):
    main = _main(client.get("/", {"q": "不存在的地方"}))
    assert "没有找到名称包含“不存在的地方”的街道或乡镇" in main


def test_search_can_be_limited_to_one_city(client, xueyuan_unit, pingdingshan):
    from rpms.geography.models import District

    weidong = District.objects.create(city=pingdingshan, code="410403", name="卫东区")
    Subdistrict.objects.create(district=weidong, code="410403001", name="东安路街道", kind="street")
    Subdistrict.objects.create(district=weidong, code="410403002", name="学院路社区", kind="other")
    both = _main(client.get("/", {"q": "学院路"}))
    assert "学院路街道" in both and "学院路社区" in both
    only_pds = _main(client.get("/", {"q": "学院路", "city": "pingdingshan"}))
    assert "学院路社区" in only_pds and "学院路街道" not in only_pds


def test_the_search_never_shows_a_planners_mobile_or_id_number(client, beijing, xueyuan_unit, planner_user):
    Planner.objects.create(city=beijing, name="学院路规划师", user=planner_user, mobile="13812345678",
                           id_number="110101199001011234", email="li@example.invalid")
    html = client.get("/", {"q": "学院"}).content.decode()
    assert "学院路街道" in html
    for secret in ("13812345678", "110101199001011234", "li@example.invalid"):
        assert secret not in html


def test_results_are_capped_and_the_visitor_is_told(client, haidian):
    Subdistrict.objects.bulk_create(
        Subdistrict(district=haidian, code=f"1101089{i:02d}", name=f"测试{i:02d}街道", kind="street") for i in range(25)
    )
    response = client.get("/", {"q": "测试"})
    assert len(response.context["lookup"].rows) == selectors.SEARCH_DEFAULT_LIMIT
    assert "仅显示前 20 条结果" in _main(response)


def test_search_query_count_does_not_grow_with_results(client, beijing, haidian, make_unit):
    def add(n, start):
        subs = Subdistrict.objects.bulk_create(
            Subdistrict(district=haidian, code=f"11010880{i:02d}", name=f"样例{i:02d}街道", kind="street")
            for i in range(start, start + n)
        )
        for sub in subs:
            make_unit(f"{sub.name}单元", haidian, [sub])

    add(2, 0)
    client.get("/", {"q": "预热"})  # the list of cities is kept in the shared cache from the first page on
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/", {"q": "样例"}).context["lookup"].rows) == 2
    add(13, 2)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/", {"q": "样例"}).context["lookup"].rows) == 15
    assert len(many.captured_queries) == len(few.captured_queries)


def test_find_page_is_open_to_signed_in_users_too(client, city_admin, xueyuan_unit):
    client.force_login(city_admin)
    main = _main(client.get("/find/", {"q": "学院"}))
    assert "学院路—海淀责任单元" in main


# --- role home pages ----------------------------------------------------------------------


def test_city_admin_home_shows_coverage_and_an_empty_pending_panel(client, city_admin, xueyuan_unit, wenquan, jianwai):
    client.force_login(city_admin)
    response = client.get("/")
    main = _main(response)
    assert response.status_code == 200
    coverage = response.context["coverage"]
    assert {k: coverage[k] for k in ("units", "covered", "uncovered", "subdistricts", "subdistricts_unassigned")} == {
        "units": 1, "covered": 0, "uncovered": 1, "subdistricts": 4, "subdistricts_unassigned": 2,
    }
    assert coverage["uncovered_units"] == [xueyuan_unit]
    assert "责任单元覆盖情况" in main
    assert f'href="/geography/units/{xueyuan_unit.pk}/"' in main
    assert "待办事项" in main and "暂无待办" in main


def test_pending_items_from_a_provider_appear_on_the_city_admin_home(client, city_admin, monkeypatch):
    item = selectors.PendingItem(title="待处理的公示异议", url="/recruitment/objections/", count=3, level="warn")
    from rpms.core import pending

    monkeypatch.setattr(pending, "PENDING_PROVIDERS", [lambda user: [item] if user.pk == city_admin.pk else []])
    client.force_login(city_admin)
    main = _main(client.get("/"))
    assert "待处理的公示异议" in main and 'href="/recruitment/objections/"' in main
    assert "暂无待办" not in main


def test_pending_items_is_empty_for_now(city_admin):
    assert selectors.pending_items(city_admin) == []


def test_city_admin_without_a_city_is_told(client, city_admin):
    city_admin.city = None
    city_admin.save()
    client.force_login(city_admin)
    assert "尚未关联城市" in _main(client.get("/"))


def test_district_officer_home_lists_only_their_districts_units(client, district_officer, xueyuan_unit, make_unit, chaoyang, jianwai):
    make_unit("建外责任单元", chaoyang, [jianwai])
    client.force_login(district_officer)
    main = _main(client.get("/"))
    row = re.search(r"<tr>\s*<td>学院路—海淀责任单元</td>.*?</tr>", main, re.S)
    assert row is not None
    assert "学院路街道" in row.group(0) and "海淀街道" in row.group(0) and "海淀区" in row.group(0)
    assert "建外责任单元" not in main


def test_district_officer_home_query_count_is_constant(client, district_officer, haidian, make_unit):
    def add(n, start):
        for i in range(start, start + n):
            subs = Subdistrict.objects.bulk_create(
                Subdistrict(district=haidian, code=f"1101087{i:02d}{j}", name=f"片区{i}-{j}", kind="area") for j in range(2)
            )
            make_unit(f"单元{i:02d}", haidian, subs)

    client.force_login(district_officer)
    add(1, 0)
    client.get("/")  # the first visit fills the shared cache (the city's policy profile, issue #15)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/").context["units"]) == 1
    add(9, 1)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/").context["units"]) == 10
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_past_membership_is_not_listed_under_the_unit(client, district_officer, xueyuan_unit, haidian_town):
    UnitMembership.objects.filter(subdistrict=haidian_town).update(left_at=timezone.now())
    client.force_login(district_officer)
    main = _main(client.get("/"))
    row = re.search(r"<tr>\s*<td>学院路—海淀责任单元</td>.*?</tr>", main, re.S).group(0)
    assert "学院路街道" in row and "海淀街道" not in row


def test_hiring_entity_home_lists_its_subdistricts_and_their_units(client, hiring_entity, xueyuan_unit, wenquan):
    client.force_login(hiring_entity)
    main = _main(client.get("/"))
    assert "学院路街道" in main and "学院路—海淀责任单元" in main
    assert "温泉镇" not in main  # not one of this entity's subdistricts


def test_planner_home_shows_the_linked_profile(client, beijing, planner_user):
    PolicyProfile.objects.create(
        city=beijing, contract_signer="hiring_entity", appointment_mode="local_selection",
        specialties=[{"code": "urban_design", "label": "城市设计"}],
    )
    Planner.objects.create(city=beijing, name="李规划", user=planner_user, employer="北京市城市规划设计研究院",
                           specialties=["urban_design"], pool_status="active", mobile="13812345678")
    client.force_login(planner_user)
    main = _main(client.get("/"))
    assert "李规划" in main and "北京市城市规划设计研究院" in main
    assert "城市设计" in main
    assert "在库" in main


def test_planner_without_a_linked_profile_gets_a_note(client, planner_user):
    client.force_login(planner_user)
    assert "尚未关联责任规划师档案" in _main(client.get("/"))


def test_auditor_home_links_to_the_audit_log(client, auditor):
    client.force_login(auditor)
    main = _main(client.get("/"))
    assert 'href="/audit/"' in main and "查看操作日志" in main


def test_a_user_without_a_role_is_told(client, db):
    from rpms.accounts.models import User

    user = User.objects.create_user(username="norole", password="x")
    client.force_login(user)
    assert "尚未分配角色" in _main(client.get("/"))


def test_district_officer_home_names_the_first_units_and_links_to_all(client, district_officer, haidian, make_unit,
                                                                      monkeypatch):
    """Issue #15: the home page of a district of 10× Beijing listed all its units on every visit."""
    from rpms.portal import selectors as portal_selectors

    monkeypatch.setattr(portal_selectors, "OFFICER_UNITS_SHOWN", 3)
    monkeypatch.setattr(portal_selectors.officer_units_shown, "__kwdefaults__", {"limit": 3})
    for i in range(5):
        subs = Subdistrict.objects.bulk_create([Subdistrict(district=haidian, code=f"1101088{i:02d}0", name=f"分片{i}",
                                                            kind="area")])
        make_unit(f"首页单元{i}", haidian, subs)
    client.force_login(district_officer)
    response = client.get("/")
    total = len(portal_selectors.officer_units(district_officer))
    assert len(response.context["units"]) == 3 and response.context["units_total"] == total >= 5
    html = response.content.decode()
    assert f"本区责任单元（{total} 个）" in html and f"查看全部 {total} 个责任单元" in html
