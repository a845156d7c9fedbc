"""Issue #15: the assessment lists are bounded — the 考核 and 待考核 pages page (pager, filters kept, any page
number answered), /api/v1/assessments and /api/v1/assessments/due answer a page (limit/offset, still a list, a
Chinese 400 past the cap), with the same number of queries whatever the number of rows."""
import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rpms.assessments import selectors, views

from .conftest import bare_appointment, make_planner, units_of
from .test_api import _rows


def counted(call):
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content.decode()[:500]
    return len(captured.captured_queries), response


@pytest.fixture
def api():
    return Client()


def test_the_assessment_page_pages_and_keeps_the_filters(beijing, haidian, city_admin, login, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 5)
    _rows(beijing, haidian, 12)
    order = [a.pk for a in selectors.assessment_list(user=city_admin, year=2025)]
    client = login(city_admin)
    first = client.get("/assessments/?year=2025")
    assert [a.pk for a in first.context["assessments"]] == order[:5]
    html = first.content.decode()
    assert "第 1 页，共 3 页" in html and "year=2025&amp;page=2" in html and "上一页" not in html
    third = client.get("/assessments/?year=2025&page=3")
    assert [a.pk for a in third.context["assessments"]] == order[10:]
    assert "上一页" in third.content.decode() and "下一页" not in third.content.decode()
    for page in ("999999", "abc", "0", "-3", "99999999999999999999"):
        response = client.get(f"/assessments/?year=2025&page={page}")
        assert response.status_code == 200 and response.context["assessments"]


def test_the_api_pages_and_refuses_a_limit_over_the_cap(beijing, haidian, city_admin, bearer, api):
    _rows(beijing, haidian, 7)
    headers = bearer(city_admin)
    order = [a.pk for a in selectors.assessment_list(user=city_admin)]
    every = api.get("/api/v1/assessments", **headers).json()
    assert isinstance(every, list) and [r["id"] for r in every] == order
    page = api.get("/api/v1/assessments?limit=3&offset=3", **headers).json()
    assert [r["id"] for r in page] == order[3:6]
    refused = api.get("/api/v1/assessments?limit=201", **headers)
    assert refused.status_code == 400 and "limit" in refused.json()["message"] and "200" in refused.json()["message"]
    assert api.get("/api/v1/assessments?offset=x", **headers).status_code == 400
    assert api.get("/api/v1/assessments/due?limit=0", **headers).status_code == 400


def in_force(beijing, haidian, n, clock, offset=0):
    start = clock.today - dt.timedelta(days=40)
    for unit in units_of(haidian, n, offset=offset):
        bare_appointment(planner=make_planner(beijing), unit=unit, start=start, years=2)


def test_the_due_page_and_api_keep_their_query_count_and_page(beijing, haidian, district_haidian, login, bearer, api,
                                                              clock, monkeypatch):
    in_force(beijing, haidian, 2, clock)
    client, headers = login(district_haidian), bearer(district_haidian)
    client.get("/assessments/due/")  # the policy profile enters the cache
    few = (counted(lambda: client.get("/assessments/due/"))[0],
           counted(lambda: api.get("/api/v1/assessments/due", **headers))[0])
    in_force(beijing, haidian, 9, clock, offset=2)
    many = (counted(lambda: client.get("/assessments/due/"))[0],
            counted(lambda: api.get("/api/v1/assessments/due", **headers))[0])
    assert few == many
    assert len(api.get("/api/v1/assessments/due", **headers).json()) == 11
    assert len(api.get("/api/v1/assessments/due?limit=4&offset=8", **headers).json()) == 3
    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    first = client.get("/assessments/due/")
    assert len(first.context["rows"]) == 4 and "第 1 页，共 3 页" in first.content.decode()
    last = client.get("/assessments/due/?page=3")
    assert len(last.context["rows"]) == 3
    assert client.get("/assessments/due/?page=abc").status_code == 200
