"""The staff list of suggestions (issue #15): nothing is grouped before the page — the paginator counts the
filtered rows, reply and photo counts are read for the page's rows only — so the page and the API cost the same
queries with 3 and with 30 suggestions; the counts shown equal a direct count; paging holds."""
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rpms.suggestions import selectors, services
from rpms.suggestions.models import SuggestionPhoto, SuggestionReply

from .conftest import image_file, submit

pytestmark = pytest.mark.django_db


def _make(unit, n, *, start=0, planner=None):
    made = []
    for i in range(start, start + n):
        suggestion = submit(unit, content=f"第 {i} 条：小区东门外人行道的路灯坏了。", photos=[image_file() for _ in range(i % 3)])
        if planner is not None and i % 2:
            services.suggestion_reply(actor=planner.user, suggestion=suggestion, text=f"已联系物业修复（{i}）。")
        made.append(suggestion)
    return made


def _queries(client, path, **extra):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **extra)
    assert response.status_code == 200, response.content.decode()[:300]
    return len(ctx)


def test_the_page_and_the_api_cost_the_same_queries_with_3_and_30_suggestions(
    clock, bj_unit, bj_planner, city_admin, district_haidian, login, bearer
):
    admin, officer = login(city_admin), login(district_haidian)
    api = Client()
    headers = bearer(city_admin)
    _make(bj_unit, 3, planner=bj_planner)
    _queries(admin, "/suggestions/manage/")  # warm the session and caches

    def counts():
        return (_queries(admin, "/suggestions/manage/"), _queries(officer, "/suggestions/manage/"),
                _queries(admin, "/suggestions/manage/?page=2"), _queries(api, "/api/v1/suggestions", **headers),
                _queries(api, "/api/v1/suggestions?limit=5&offset=5", **headers))

    few = counts()
    _make(bj_unit, 27, start=3, planner=bj_planner)
    assert counts() == few


def test_reply_and_photo_counts_of_a_page_equal_a_direct_count(clock, bj_unit, bj_planner, city_admin, login):
    made = _make(bj_unit, 6, planner=bj_planner)
    rows = selectors.attach_staff_counts(selectors.suggestion_list(user=city_admin)[:4])
    assert len(rows) == 4
    for row in rows:
        assert row.reply_count == SuggestionReply.objects.filter(suggestion=row).count()
        assert row.photo_count == SuggestionPhoto.objects.filter(suggestion=row).count()
    assert {r.photo_count for r in rows} >= {0, 1} and {r.reply_count for r in rows} == {0, 1}
    html = login(city_admin).get("/suggestions/manage/").content.decode()
    for suggestion in made:
        photos = SuggestionPhoto.objects.filter(suggestion=suggestion).count()
        assert (f"图片 {photos}" in html) if photos else True
    assert html.count('<span class="badge">图片 2</span>') == sum(
        1 for s in made if SuggestionPhoto.objects.filter(suggestion=s).count() == 2)


def test_the_paginator_counts_the_filtered_rows_without_grouping(clock, bj_unit, city_admin, django_assert_num_queries):
    _make(bj_unit, 3)
    queryset = selectors.suggestion_list(user=city_admin)
    with CaptureQueriesContext(connection) as ctx:
        assert queryset.count() == 3
    assert "GROUP BY" not in ctx.captured_queries[0]["sql"].upper()


def test_page_two_and_a_page_out_of_range_or_not_a_number(clock, bj_unit, city_admin, login, settings, monkeypatch):
    monkeypatch.setattr(selectors, "STAFF_PAGE_SIZE", 2)
    made = _make(bj_unit, 5)
    newest_first = [s.tracking_code for s in reversed(made)]
    client = login(city_admin)
    second = client.get("/suggestions/manage/?page=2").content.decode()
    assert all(code in second for code in newest_first[2:4])
    assert not any(code in second for code in newest_first[:2] + newest_first[4:])
    for page, number in (("999999", 3), ("abc", 1), ("0", 3), ("-1", 3)):
        response = client.get(f"/suggestions/manage/?page={page}")
        assert response.status_code == 200
        assert f"第 {number} / 3 页" in response.content.decode()


def test_the_staff_list_counts_at_most_the_cap_and_says_so(clock, bj_unit, city_admin, login, monkeypatch):
    """A city's 200 k suggestions are never counted whole: the paginator stops at COUNT_CAP (10,000) rows."""
    from rpms.core import paging

    _make(bj_unit, 7)
    admin = login(city_admin)
    page = admin.get("/suggestions/manage/").content.decode()
    assert "仅列出最新的" not in page
    monkeypatch.setattr(paging, "COUNT_CAP", 4)
    monkeypatch.setattr(selectors, "STAFF_PAGE_SIZE", 2)
    page = admin.get("/suggestions/manage/").content.decode()
    assert "超过 4 条，仅列出最新的 4 条，请按条件筛选" in page and "第 1 / 2 页" in page
    assert admin.get("/suggestions/manage/?page=99").status_code == 200
    assert admin.get("/suggestions/manage/?page=abc").status_code == 200
