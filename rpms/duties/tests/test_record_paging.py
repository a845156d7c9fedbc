"""The duty records list pages (issue #15): 50 rows a page on the site, limit/offset (≤ 500) in the API; the
query count does not grow with the records; evidence is counted for the page's rows only and equals a direct
count; the Excel export still holds every filtered record."""
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from rpms.duties import selectors
from rpms.duties.models import DutyEvidence, DutyRecord

from .conftest import upload

pytestmark = pytest.mark.django_db


def _make(record_factory, planner, unit, today, n, *, start=0, evidence_every=0):
    made = []
    for i in range(start, start + n):
        evidence = [upload() for _ in range(i % 3)] if evidence_every else []
        # Two records a day, so the (date, id) order is what separates them.
        made.append(record_factory(planner, unit, date=today - dt.timedelta(days=1 + i // 2), hours="1",
                                   evidence=evidence))
    return made


def _newest_first(ids):
    return list(DutyRecord.objects.filter(pk__in=ids).order_by("-date", "-id").values_list("pk", flat=True))


def _queries(client, path, **extra):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **extra)
    assert response.status_code == 200, response.content.decode()[:300]
    return len(ctx), response


def test_page_and_api_query_counts_are_the_same_with_3_and_30_records(
    login, bearer, bj_planner, bj_unit, district_haidian, record_factory, today
):
    page = login(district_haidian)
    headers = bearer(district_haidian)
    _make(record_factory, bj_planner, bj_unit, today, 3, evidence_every=1)
    _queries(page, "/duties/records/")  # warms the cached policy profile and the session
    few = (_queries(page, "/duties/records/")[0], _queries(page, "/api/v1/duty-records", **headers)[0],
           _queries(page, "/api/v1/duty-records?limit=2&offset=1", **headers)[0])
    _make(record_factory, bj_planner, bj_unit, today, 27, start=3, evidence_every=1)
    many = (_queries(page, "/duties/records/")[0], _queries(page, "/api/v1/duty-records", **headers)[0],
            _queries(page, "/api/v1/duty-records?limit=2&offset=1", **headers)[0])
    assert few == many


def test_the_list_itself_is_one_query_for_the_rows_and_one_for_the_count(
    bj_planner, bj_unit, district_haidian, record_factory, today, django_assert_num_queries
):
    from rpms.cities.selectors import policy_for

    _make(record_factory, bj_planner, bj_unit, today, 30, evidence_every=1)
    policy_for(bj_unit.city_id)
    with django_assert_num_queries(2):
        page = selectors.duty_record_page(user=district_haidian, page="1", per_page=10)
        rows = [(r.unit.district.name, r.planner.name, r.category_label(r.city.policy), r.evidence_count) for r in page]
    assert len(rows) == 10 and page.paginator.count == 30


def test_page_two_shows_the_next_rows_and_the_navigation_keeps_the_filters(
    login, bj_planner, bj_unit, district_haidian, record_factory, today
):
    made = _make(record_factory, bj_planner, bj_unit, today, 53)
    order = _newest_first([r.pk for r in made])
    client = login(district_haidian)
    first = client.get("/duties/records/?status=submitted").content.decode()
    assert "共 53 条" in first and "第 1 页，共 2 页" in first and "下一页" in first and "上一页" not in first
    assert "?status=submitted&amp;page=2" in first
    assert f"/duties/records/{order[49]}/" in first and f"/duties/records/{order[50]}/" not in first
    second = client.get("/duties/records/?status=submitted&page=2").content.decode()
    assert "第 2 页，共 2 页" in second and "上一页" in second and "下一页" not in second
    assert all(f"/duties/records/{pk}/" in second for pk in order[50:])
    assert f"/duties/records/{order[49]}/" not in second
    # The export link carries the filters, not the page.
    assert "?status=submitted&format=xlsx" in second and "page=2&format" not in second


@pytest.mark.parametrize("page, shown", [("999999999", 2), ("0", 2), ("abc", 1), ("-3", 2), ("1e9", 1), ("", 1)])
def test_a_page_out_of_range_or_not_a_number_is_the_last_or_first_page_never_an_error(
    login, bj_planner, bj_unit, district_haidian, record_factory, today, page, shown
):
    _make(record_factory, bj_planner, bj_unit, today, 51)
    response = login(district_haidian).get(f"/duties/records/?page={page}")
    assert response.status_code == 200
    assert f"第 {shown} 页，共 2 页" in response.content.decode()


def test_the_api_pages_with_limit_and_offset_capped_at_500(
    client, bearer, bj_planner, bj_unit, district_haidian, record_factory, today
):
    made = _make(record_factory, bj_planner, bj_unit, today, 7)
    order = _newest_first([r.pk for r in made])
    headers = bearer(district_haidian)
    everything = client.get("/api/v1/duty-records", **headers).json()
    assert [r["id"] for r in everything] == order  # no paging parameters: every record (up to 500), as before
    window = client.get("/api/v1/duty-records?limit=3&offset=2", **headers).json()
    assert [r["id"] for r in window] == order[2:5]
    assert client.get("/api/v1/duty-records?limit=3&offset=6", **headers).json()[0]["id"] == order[6]
    assert client.get("/api/v1/duty-records?offset=100", **headers).json() == []
    capped = client.get("/api/v1/duty-records?limit=100000", **headers)
    assert capped.status_code == 200 and len(capped.json()) == 7
    assert selectors.duty_record_list(user=district_haidian, limit=10**9) and len(
        selectors.duty_record_list(user=district_haidian, limit=10**9)) == 7
    for bad in ("limit=abc", "limit=0", "offset=-1", "offset=x"):
        response = client.get(f"/api/v1/duty-records?{bad}", **headers)
        assert response.status_code == 400, bad
        assert response.json()["message"].endswith("。") and any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["message"])


def test_the_page_size_is_capped(bj_planner, bj_unit, district_haidian, record_factory, today):
    _make(record_factory, bj_planner, bj_unit, today, 3)
    page = selectors.duty_record_page(user=district_haidian, per_page=10**9)
    assert page.paginator.per_page == selectors.LIST_LIMIT


def test_evidence_counts_on_the_page_and_in_the_api_equal_a_direct_count(
    login, client, bearer, bj_planner, bj_unit, district_haidian, record_factory, today
):
    made = _make(record_factory, bj_planner, bj_unit, today, 9, evidence_every=1)
    direct = {r.pk: DutyEvidence.objects.filter(record=r).count() for r in made}
    assert set(direct.values()) == {0, 1, 2}
    api = client.get("/api/v1/duty-records?limit=5&offset=2", **bearer(district_haidian)).json()
    assert api and all(row["evidence_count"] == direct[row["id"]] for row in api)
    page = selectors.duty_record_page(user=district_haidian, page=2, per_page=4)
    assert [r.evidence_count for r in page] == [direct[r.pk] for r in page]
    html = login(district_haidian).get("/duties/records/").content.decode()
    assert html.count("<tr>") == 1 + 9


def test_the_export_holds_every_filtered_record_read_in_keyset_chunks(
    login, bj_planner, bj_unit, district_haidian, record_factory, today
):
    made = _make(record_factory, bj_planner, bj_unit, today, 23, evidence_every=1)
    order = _newest_first([r.pk for r in made])
    chunked = list(selectors.duty_record_export_rows(user=district_haidian, chunk=4))
    assert [r.pk for r in chunked] == order
    assert [r.evidence_count for r in chunked] == [DutyEvidence.objects.filter(record_id=pk).count() for pk in order]
    response = login(district_haidian).get("/duties/records/?format=xlsx&status=submitted&page=2")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 1 + 23  # the header and every record, not one page


def test_the_page_counts_at_most_the_cap_and_says_so(login, bj_planner, bj_unit, district_haidian, record_factory, today,
                                                      monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_COUNT_CAP", 5)
    made = _make(record_factory, bj_planner, bj_unit, today, 8)
    order = _newest_first([r.pk for r in made])
    page = selectors.duty_record_page(user=district_haidian, page="999", per_page=2)
    assert page.paginator.capped and page.paginator.count == 5 and page.number == 3
    assert [r.pk for r in page] == order[4:5]
    html = login(district_haidian).get("/duties/records/").content.decode()
    assert "超过 5 条" in html and "请按年份、月份或状态筛选" in html
    monkeypatch.setattr(selectors, "PAGE_COUNT_CAP", 8)
    exact = selectors.duty_record_page(user=district_haidian, per_page=2)
    assert not exact.paginator.capped and exact.paginator.count == 8
