import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .conftest import at_local

pytestmark = pytest.mark.django_db

AUDIT_URL = "/audit/"


def test_audit_list_is_routed_at_audit_with_the_core_namespace():
    assert reverse("core:audit_list") == AUDIT_URL
    assert reverse("core:audit_export") == "/audit/export.xlsx"


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(AUDIT_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_district_officer_is_refused_with_403(client, district_officer, make_log):
    make_log(summary="不应显示的记录")
    client.force_login(district_officer)
    response = client.get(AUDIT_URL)
    assert response.status_code == 403
    assert "不应显示的记录" not in response.content.decode()
    assert "只有审计管理员、市级管理员和审计员可以查看操作日志" in response.content.decode()


def test_auditor_sees_their_city_rows_with_all_columns(client, auditor, make_log):
    row = make_log(actor_repr="zhangsan", ip="10.1.2.3", summary="设立学院路责任单元", article="B4",
                   before={"name": "旧名称"}, after={"name": "新名称"})
    client.force_login(auditor)
    response = client.get(AUDIT_URL)
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("zhangsan", "学院路责任单元", "B4", "设立学院路责任单元", "2026-03-10<br>12:00:00"):
        assert text in html
    # the IP address and the before/after are on the row's detail page, behind a link (the table fits 1366 px)
    detail_url = reverse("core:audit_detail", args=[row.pk])
    assert detail_url in html
    detail = client.get(detail_url).content.decode()
    assert "10.1.2.3" in detail and "2026-03-10 12:00:00" in detail
    assert "旧名称" in detail and "新名称" in detail
    assert "名称" in detail  # the key is named by the model field's verbose_name


def test_city_admin_sees_only_their_own_city_rows(client, city_admin, pingdingshan, make_log):
    make_log(city_code="beijing", summary="北京市的记录")
    make_log(city_code="pingdingshan", summary="平顶山市的记录")
    make_log(city_code="", summary="不属于任何城市的记录")
    client.force_login(city_admin)
    response = client.get(AUDIT_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "北京市的记录" in html
    assert "平顶山市的记录" not in html
    assert "不属于任何城市的记录" not in html


def test_auditor_without_a_city_sees_every_city(client, global_auditor, make_log):
    make_log(city_code="beijing", summary="北京市的记录")
    make_log(city_code="pingdingshan", summary="平顶山市的记录")
    client.force_login(global_auditor)
    html = client.get(AUDIT_URL).content.decode()
    assert "北京市的记录" in html
    assert "平顶山市的记录" in html


def test_auditor_of_a_city_does_not_see_another_city(client, auditor, make_log):
    make_log(city_code="pingdingshan", summary="平顶山市的记录")
    client.force_login(auditor)
    html = client.get(AUDIT_URL).content.decode()
    assert "平顶山市的记录" not in html
    assert "暂无操作日志" in html


@pytest.mark.parametrize(
    "params, expected, excluded",
    [
        ({"actor": "ZHANG"}, "甲", "乙"),
        ({"action": "registry.pool_admit"}, "乙", "甲"),
        ({"object_type": "registry.planner"}, "乙", "甲"),
        ({"object_id": "42"}, "乙", "甲"),
        ({"article": "P5"}, "乙", "甲"),
    ],
)
def test_each_filter_narrows_the_list(client, auditor, make_log, params, expected, excluded):
    make_log(actor_repr="zhangsan", summary="记录甲", action="geography.unit_create", object_type="geography.responsibilityunit", object_id="4", article="B4")
    make_log(actor_repr="lisi", summary="记录乙", action="registry.pool_admit", object_type="registry.planner", object_id="42", article="P5(2)")
    client.force_login(auditor)
    html = client.get(AUDIT_URL, params).content.decode()
    assert f"记录{expected}" in html
    assert f"记录{excluded}" not in html


def test_article_filter_does_not_match_a_longer_article_number(client, auditor, make_log):
    make_log(article="B1", summary="第一条")
    make_log(article="B19(2)", summary="第十九条")
    client.force_login(auditor)
    html = client.get(AUDIT_URL, {"article": "B1"}).content.decode()
    assert "第一条" in html
    assert "第十九条" not in html


def test_date_filters_are_inclusive_days_in_beijing_time(client, auditor, make_log):
    make_log(at=at_local(2026, 3, 9, 23, 50), summary="九日深夜")
    make_log(at=at_local(2026, 3, 10, 0, 5), summary="十日凌晨")   # 2026-03-09 16:05 UTC
    make_log(at=at_local(2026, 3, 10, 23, 55), summary="十日深夜")  # 2026-03-10 15:55 UTC
    make_log(at=at_local(2026, 3, 11, 0, 10), summary="十一日凌晨")
    client.force_login(auditor)
    html = client.get(AUDIT_URL, {"since": "2026-03-10", "until": "2026-03-10"}).content.decode()
    assert "十日凌晨" in html and "十日深夜" in html
    assert "九日深夜" not in html and "十一日凌晨" not in html


def test_a_malformed_date_is_explained_in_chinese(client, auditor, make_log):
    make_log(summary="某条记录")
    client.force_login(auditor)
    response = client.get(AUDIT_URL, {"since": "2026/03/01"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "起始日期格式不正确" in html
    assert "某条记录" not in html


def test_list_is_paginated_fifty_per_page(client, auditor, make_log):
    for i in range(60):
        make_log(object_id=str(i), summary=f"第{i:02d}号")
    client.force_login(auditor)
    first = client.get(AUDIT_URL)
    second = client.get(AUDIT_URL, {"page": 2})
    assert len(first.context["page_obj"].object_list) == 50
    assert len(second.context["page_obj"].object_list) == 10
    assert "共 60 条记录" in first.content.decode()
    assert "page=2" in first.content.decode()


def test_query_count_does_not_grow_with_rows(client, auditor, make_log, django_assert_max_num_queries):
    client.force_login(auditor)
    for i in range(5):
        make_log(object_id=str(i), summary=f"记录{i}", before={"n": i}, after={"n": i + 1})
    with CaptureQueriesContext(connection) as five_rows:
        response = client.get(AUDIT_URL)
    assert len(response.context["page_obj"].object_list) == 5
    # rows are append-only, so grow the trail to 30 rows rather than replacing it
    for i in range(25):
        make_log(object_id=f"x{i}", summary=f"追加{i}", before={"n": i}, after=None)
    with django_assert_max_num_queries(len(five_rows.captured_queries)):
        response = client.get(AUDIT_URL)
    assert len(response.context["page_obj"].object_list) == 30
    assert len(five_rows.captured_queries) <= 12  # the page plus the shared header (navigation, unread notifications)


def test_the_page_does_not_accept_posts(client, auditor):
    client.force_login(auditor)
    assert client.post(AUDIT_URL).status_code == 405
