"""Issue #15: the calendar aggregates by day (bounded records a day, "另有 N 条" linking to ?day=), the unit
summary pages by unit, the city's and a district's summaries are cached and invalidated by every record change,
and the API list rows built from plain values equal the model serialiser. Query counts do not grow with rows."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from rpms.duties import selectors
from rpms.duties.api import record_json
from rpms.duties.models import DutyRecord

pytestmark = pytest.mark.django_db


def _queries(client, path, **extra):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **extra)
    assert response.status_code == 200, response.content.decode()[:300]
    return len(ctx), response


def _cold_and_warm(client, path, **extra):
    """(queries with an empty cache, queries with the cache filled by that first request)."""
    from django.core.cache import cache

    cache.clear()
    return _queries(client, path, **extra)[0], _queries(client, path, **extra)[0]


def _month_start(today):
    # Records in the current month, on days not after today.
    return today.replace(day=1)


def _fill(record_factory, planner, unit, today, n, *, per_day=3):
    first = _month_start(today)
    days = max(1, (today - first).days + 1)
    return [record_factory(planner, unit, date=first + dt.timedelta(days=(i // per_day) % days), hours="1.5")
            for i in range(n)]


def test_calendar_page_and_api_query_counts_do_not_grow_with_records(
    login, bearer, bj_planner, bj_unit, district_haidian, city_admin, record_factory, today
):
    for user in (district_haidian, city_admin):
        page = login(user)
        headers = bearer(user)
        path = f"/duties/calendar/?year={today.year}&month={today.month}"
        api = f"/api/v1/duty-records/calendar?year={today.year}&month={today.month}"
        _queries(page, path)
        before = (_cold_and_warm(page, path), _cold_and_warm(page, api, **headers))
        _fill(record_factory, bj_planner, bj_unit, today, 4 if user == district_haidian else 20, per_day=12)
        after = (_cold_and_warm(page, path), _cold_and_warm(page, api, **headers))
        assert before == after


def test_a_crowded_day_shows_five_records_and_how_many_more_with_a_link_to_the_day(
    login, bearer, bj_planner, bj_unit, district_haidian, record_factory, today
):
    day = _month_start(today)
    made = [record_factory(bj_planner, bj_unit, date=day, hours="1") for _ in range(8)]
    grid = selectors.duty_calendar(user=district_haidian, year=today.year, month=today.month)
    cell = next(d for week in grid["weeks"] for d in week if d["date"] == day)
    assert cell["count"] == 8 and len(cell["records"]) == selectors.CALENDAR_DAY_SHOWN and cell["more"] == 3
    assert cell["hours"] == Decimal("8.0") and grid["records"] == 8 and grid["total_hours"] == Decimal("8.0")
    assert [r.pk for r in cell["records"]] == sorted(r.pk for r in made)[:5]
    html = login(district_haidian).get(f"/duties/calendar/?year={today.year}&month={today.month}").content.decode()
    assert "另有 3 条" in html and f"?day={day.isoformat()}" in html
    body = bearer(district_haidian)
    data = login(district_haidian).get(f"/api/v1/duty-records/calendar?year={today.year}&month={today.month}", **body).json()
    api_day = next(d for week in data["weeks"] for d in week if d["date"] == day.isoformat())
    assert api_day["count"] == 8 and api_day["more"] == 3 and len(api_day["records"]) == 5 and api_day["hours"] == 8.0
    # The day's link lists exactly that day's records.
    other = record_factory(bj_planner, bj_unit, date=day + dt.timedelta(days=1) if day < today else day, hours="1")
    listing = login(district_haidian).get(f"/duties/records/?day={day.isoformat()}").content.decode()
    expected = DutyRecord.objects.filter(date=day).count()
    assert f"共 {expected} 条" in listing
    assert login(district_haidian).get("/duties/records/?day=not-a-date").status_code == 200
    assert other.pk


def test_calendar_totals_equal_a_direct_aggregate(bj_planner, bj_unit, bj_other, bj_other_unit, city_admin,
                                                 record_factory, today):
    _fill(record_factory, bj_planner, bj_unit, today, 9, per_day=2)
    _fill(record_factory, bj_other, bj_other_unit, today, 5, per_day=4)
    grid = selectors.duty_calendar(user=city_admin, year=today.year, month=today.month)
    direct = {
        row["date"]: row for row in DutyRecord.objects.filter(city=city_admin.city, date__year=today.year,
                                                              date__month=today.month)
        .values("date").annotate(n=Count("id"), h=Sum("hours"))
    }
    for week in grid["weeks"]:
        for d in week:
            if d["in_month"]:
                assert d["count"] == (direct[d["date"]]["n"] if d["date"] in direct else 0)
                assert d["hours"] == (direct[d["date"]]["h"] if d["date"] in direct else 0)
    assert grid["records"] == 14


def test_the_unit_summary_pages_by_unit(login, bearer, bj_planner, bj_unit, bj_other, bj_other_unit,
                                        district_haidian, record_factory, today, django_assert_num_queries):
    record_factory(bj_planner, bj_unit, date=today, hours="2")
    record_factory(bj_other, bj_other_unit, date=today, hours="3")
    full = selectors.unit_hours_summary(user=district_haidian, year=today.year, limit=None)
    assert len(full["rows"]) == 2 and full["has_more"] is False
    with django_assert_num_queries(1):
        first = selectors.unit_hours_summary(user=district_haidian, year=today.year, limit=1)
    second = selectors.unit_hours_summary(user=district_haidian, year=today.year, limit=1, offset=1, count=True)
    assert first["has_more"] is True and second["has_more"] is False and second["units_total"] == 2
    assert first["rows"] + second["rows"] == full["rows"]
    headers = bearer(district_haidian)
    client = login(district_haidian)
    body = client.get(f"/api/v1/duty-records/unit-summary?year={today.year}&limit=1", **headers).json()
    assert len(body["rows"]) == 1 and body["has_more"] is True and body["units_total"] == 2 and body["limit"] == 1
    body = client.get(f"/api/v1/duty-records/unit-summary?year={today.year}&limit=100000", **headers).json()
    assert body["limit"] == selectors.UNIT_SUMMARY_MAX and len(body["rows"]) == 2
    bad = client.get(f"/api/v1/duty-records/unit-summary?year={today.year}&limit=abc", **headers)
    assert bad.status_code == 400 and "limit" in bad.json()["message"]
    beyond = client.get(f"/api/v1/duty-records/unit-summary?year={today.year}&offset=50", **headers).json()
    assert beyond["rows"] == [] and beyond["units_total"] == 2
    for upage in ("2", "abc", "-1", "999999999999"):
        assert client.get(f"/duties/summary/?year={today.year}&upage={upage}").status_code == 200


def test_summary_page_and_apis_query_counts_do_not_grow_with_records(
    login, bearer, bj_planner, bj_unit, bj_other, bj_other_unit, city_admin, record_factory, today
):
    page = login(city_admin)
    headers = bearer(city_admin)
    paths = [(f"/duties/summary/?year={today.year}", {}),
             (f"/api/v1/duty-records/summary?year={today.year}", headers),
             (f"/api/v1/duty-records/unit-summary?year={today.year}", headers)]
    record_factory(bj_planner, bj_unit, date=today, hours="1")
    few = [_cold_and_warm(page, p, **h) for p, h in paths]
    _fill(record_factory, bj_planner, bj_unit, today, 10)
    _fill(record_factory, bj_other, bj_other_unit, today, 10)
    many = [_cold_and_warm(page, p, **h) for p, h in paths]
    assert few == many


def test_cached_city_summary_follows_every_change_and_equals_a_direct_aggregate(
    bj_planner, bj_unit, city_admin, district_haidian, record_factory, today, django_assert_num_queries
):
    from rpms.duties import services

    def direct():
        rows = DutyRecord.objects.filter(city=city_admin.city, date__year=today.year)
        return rows.aggregate(h=Sum("hours"), n=Count("id"))

    def check():
        for user in (city_admin, district_haidian):
            summary = selectors.hours_summary(user=user, year=today.year, city=city_admin.city)
            d = direct()
            assert summary["records"] == d["n"] and summary["total_hours"] == (d["h"] or 0)
            # the unit summary's page of aggregate rows is cached in the same scope: it follows every change too
            units = selectors.unit_hours_summary(user=user, year=today.year, city=city_admin.city)
            assert sum(r["records"] for r in units["rows"]) == d["n"]
            assert sum(r["total_hours"] for r in units["rows"]) == (d["h"] or 0)

    check()
    first = record_factory(bj_planner, bj_unit, date=today, hours="2")
    check()
    with django_assert_num_queries(0):  # cached now (the profile too)
        selectors.hours_summary(user=city_admin, year=today.year, city=city_admin.city)
    second = record_factory(bj_planner, bj_unit, date=today, hours="3")
    check()
    services.duty_record_update(actor=bj_planner.user, record=second, hours=Decimal("4"))
    check()
    services.duty_record_confirm(actor=district_haidian, record=first)
    confirmed = selectors.hours_summary(user=city_admin, year=today.year, city=city_admin.city)
    assert confirmed["confirmed_hours"] == Decimal("2.0")
    services.duty_record_delete(actor=bj_planner.user, record=DutyRecord.objects.get(pk=second.pk))
    check()
    DutyRecord.objects.filter(pk=record_factory(bj_planner, bj_unit, date=today, hours="1").pk).update(hours=Decimal("6"))
    check()


def test_api_list_rows_equal_the_model_serialiser(login, bearer, bj_planner, bj_unit, district_haidian,
                                                  record_factory, today):
    from rpms.duties import services

    made = [record_factory(bj_planner, bj_unit, date=today - dt.timedelta(days=i), hours="1.5") for i in range(4)]
    services.duty_record_confirm(actor=district_haidian, record=made[1])
    body = login(district_haidian).get("/api/v1/duty-records", **bearer(district_haidian)).json()
    expected = [record_json(r) for r in selectors.duty_record_list(user=district_haidian)]
    assert body == expected and len(body) == 4
    assert body[1]["confirmed_by"] and body[1]["locked"] is True


def test_an_officer_moved_to_another_district_never_reads_the_old_districts_cached_figures(
    bj_planner, bj_unit, district_haidian, chaoyang, record_factory, today
):
    """The district summary is cached by the districts the officer may read now, not by the officer."""
    from rpms.accounts.models import User

    record_factory(bj_planner, bj_unit, date=today, hours="2")  # a Haidian unit
    assert selectors.hours_summary(user=district_haidian, year=today.year)["records"] == 1
    district_haidian.districts.set([chaoyang])
    moved = User.objects.get(pk=district_haidian.pk)  # a new request: the user read afresh
    assert selectors.hours_summary(user=moved, year=today.year, city=moved.city)["records"] == 0
