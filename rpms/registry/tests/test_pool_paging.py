"""Issue #15: the pool page and API at scale — the same number of queries with few and many rows (with the
filters users use), bounded paging, no duplicates from the district filter (EXISTS, no DISTINCT), and the
policy-dependent labels still right now that rows get the policy profile from the cache."""
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rpms.registry import views as registry_views

from .factories import pool_member

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content.decode()[:500]
    return len(captured.captured_queries), response


@pytest.mark.parametrize("query", ["", "?district=110108", "?status=all&district=110105", "?q=规划"])
def test_the_pool_page_and_api_take_the_same_queries_with_few_and_many_rows(beijing, haidian, chaoyang, city_admin,
                                                                            district_haidian, bearer, query):
    page, api = logged_in(city_admin), Client()
    headers = bearer(city_admin)
    officer = logged_in(district_haidian)
    pool_member(beijing, "起始规划", districts=[haidian, chaoyang])
    page.get(f"/pool/{query}")  # the policy profile enters the cache (one query, once: not per row)
    few = (queries(lambda: page.get(f"/pool/{query}"))[0],
           queries(lambda: api.get(f"/api/v1/cities/beijing/pool{query}", **headers))[0],
           queries(lambda: officer.get(f"/pool/{query}"))[0])
    for i in range(14):
        pool_member(beijing, f"规划师{i:02d}", districts=[haidian, chaoyang], specialties=["landscape", "urban_renewal"])
    many = (queries(lambda: page.get(f"/pool/{query}"))[0],
            queries(lambda: api.get(f"/api/v1/cities/beijing/pool{query}", **headers))[0],
            queries(lambda: officer.get(f"/pool/{query}"))[0])
    assert many == few


def test_the_district_filter_lists_each_planner_once_with_the_right_count(beijing, haidian, chaoyang, city_admin,
                                                                          bearer):
    for i in range(3):
        pool_member(beijing, f"两区熟悉{i}", districts=[haidian, chaoyang])
    pool_member(beijing, "只熟悉朝阳", districts=[chaoyang])
    body = Client().get("/api/v1/cities/beijing/pool?district=110108", **bearer(city_admin)).json()
    assert body["count"] == 3 and [i["name"] for i in body["items"]] == ["两区熟悉0", "两区熟悉1", "两区熟悉2"]
    page = logged_in(city_admin).get("/pool/?district=110108").content.decode()
    assert all(f"两区熟悉{i}" in page for i in range(3)) and "只熟悉朝阳" not in page


def test_the_pool_page_pages_with_bounded_page_numbers(beijing, haidian, city_admin, monkeypatch):
    monkeypatch.setattr(registry_views, "POOL_PAGE_SIZE", 5)
    for i in range(12):
        pool_member(beijing, f"翻页规划师{i:02d}", districts=[haidian])
    client = logged_in(city_admin)

    def names(response):
        text = response.content.decode()
        return [f"翻页规划师{i:02d}" for i in range(12) if f"翻页规划师{i:02d}" in text]

    first = client.get("/pool/")
    assert names(first) == [f"翻页规划师{i:02d}" for i in range(5)] and "下一页" in first.content.decode()
    second = client.get("/pool/?page=2")
    assert names(second) == [f"翻页规划师{i:02d}" for i in range(5, 10)]
    for past in ("3", "99", "999999999999999999999999"):  # past the end: the last page, never a 500
        last = client.get(f"/pool/?page={past}")
        assert last.status_code == 200 and names(last) == ["翻页规划师10", "翻页规划师11"]
        assert "下一页" not in last.content.decode()
    for junk in ("abc", "1.5", "²", ""):  # not a page number: the first page
        response = client.get("/pool/", {"page": junk})
        assert response.status_code == 200 and names(response)[0] == "翻页规划师00"
    for below in ("0", "-1"):  # below the first page: the last one, as Django's Paginator.get_page reads it
        response = client.get("/pool/", {"page": below})
        assert response.status_code == 200 and names(response) == ["翻页规划师10", "翻页规划师11"]


def test_the_pool_api_pages_and_caps_the_page_size(beijing, haidian, city_admin, bearer):
    for i in range(7):
        pool_member(beijing, f"接口规划师{i}", districts=[haidian])
    headers = bearer(city_admin)
    client = Client()
    page = client.get("/api/v1/cities/beijing/pool?limit=3&offset=3", **headers).json()
    assert page["count"] == 7 and [i["name"] for i in page["items"]] == ["接口规划师3", "接口规划师4", "接口规划师5"]
    assert client.get("/api/v1/cities/beijing/pool?limit=3&offset=70", **headers).json()["items"] == []
    too_many = client.get("/api/v1/cities/beijing/pool?limit=501", **headers)
    assert too_many.status_code == 400 and "每页条数" in too_many.json()["detail"]
    bad = client.get("/api/v1/cities/beijing/pool?offset=-1", **headers)
    assert bad.status_code == 400 and "起始位置" in bad.json()["detail"]


def test_specialty_labels_come_from_the_citys_policy(beijing, haidian, city_admin, district_haidian, bearer):
    pool_member(beijing, "标签规划师", districts=[haidian], specialties=["landscape", "urban_renewal"])
    policy = beijing.policy
    expected = [policy.specialty_label("landscape"), policy.specialty_label("urban_renewal")]
    assert all(label and label not in ("landscape", "urban_renewal") for label in expected)
    for user in (city_admin, district_haidian):
        item = Client().get("/api/v1/cities/beijing/pool", **bearer(user)).json()["items"][0]
        assert item["specialty_labels"] == expected
    page = logged_in(city_admin).get("/pool/").content.decode()
    assert "、".join(expected) in page
