"""Issue #15: the staff lists of appointments at scale — the same number of queries with few and many rows (page and
API, with the filters users use), bounded paging, and the policy-dependent labels still right now that rows get
the policy profile from the cache instead of joining it."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.appointments import proposals, selectors
from rpms.appointments.models import Appointment
from rpms.testing.builders import appointment_build

from .conftest import make_planner, units_of

pytestmark = pytest.mark.django_db


def queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content.decode()[:500]
    return len(captured.captured_queries), response


def role_label(city, code):
    return next(r["label"] for r in city.policy.roles if r["code"] == code)


@pytest.mark.parametrize("query", ["", "?status=active", "?district=110108", "?unsigned=1", "?termination=pending"])
def test_the_list_page_and_api_take_the_same_queries_with_few_and_many_rows(client, bearer, login, city_admin,
                                                                            district_haidian, beijing, haidian, clock,
                                                                            query):
    units = units_of(haidian, 13)
    appointment_build(unit=units[0], planner=make_planner(beijing))
    page, officer, headers = login(city_admin), login(district_haidian), bearer(city_admin)
    # the policy profile enters the cache (one query, once: not per row)
    page.get("/appointments/")
    few = (queries(lambda: page.get(f"/appointments/{query}"))[0],
           queries(lambda: officer.get(f"/appointments/{query}"))[0],
           queries(lambda: client.get(f"/api/v1/appointments{query}", **headers))[0])
    for unit in units[1:]:
        appointment_build(unit=unit, planner=make_planner(beijing))
    many = (queries(lambda: page.get(f"/appointments/{query}"))[0],
            queries(lambda: officer.get(f"/appointments/{query}"))[0],
            queries(lambda: client.get(f"/api/v1/appointments{query}", **headers))[0])
    assert many == few


def test_the_list_page_pages_with_bounded_page_numbers(login, city_admin, beijing, haidian, clock, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 5)
    for unit in units_of(haidian, 12):
        appointment_build(unit=unit, planner=make_planner(beijing))
    order = [a.pk for a in selectors.appointment_list(user=city_admin)]
    assert len(order) == 12
    client = login(city_admin)

    def shown(response):
        return [a.pk for a in response.context["appointments"]]

    first = client.get("/appointments/")
    assert shown(first) == order[:5] and first.context["total"] == 12 and first.context["has_next"]
    assert shown(client.get("/appointments/?page=2")) == order[5:10]
    for past in ("3", "99", "99999999999999999999999999"):  # past the end: the last page, never a 500
        last = client.get(f"/appointments/?page={past}")
        assert last.status_code == 200 and shown(last) == order[10:] and not last.context["has_next"]
    for junk in ("abc", "1.5", "²"):  # not a page number: the first page
        assert shown(client.get("/appointments/", {"page": junk})) == order[:5]


def test_the_list_api_pages_in_the_pages_order_and_caps_the_page_size(client, bearer, city_admin, beijing, haidian,
                                                                       clock):
    for unit in units_of(haidian, 7):
        appointment_build(unit=unit, planner=make_planner(beijing))
    headers = bearer(city_admin)
    everything = client.get("/api/v1/appointments", **headers).json()
    assert everything["count"] == 7 and everything["limit"] == selectors.LIST_PAGE_SIZE
    ids = [r["id"] for r in everything["results"]]
    pages = [client.get(f"/api/v1/appointments?limit=3&offset={o}", **headers).json() for o in (0, 3, 6)]
    assert [r["id"] for p in pages for r in p["results"]] == ids and all(p["count"] == 7 for p in pages)
    assert client.get("/api/v1/appointments?limit=3&offset=700", **headers).json()["results"] == []
    too_many = client.get("/api/v1/appointments?limit=1001", **headers)
    assert too_many.status_code == 400 and "每页条数" in too_many.json()["detail"]


def test_rows_show_the_role_and_status_labels_of_the_citys_policy(client, bearer, login, city_admin, beijing, haidian,
                                                                  clock):
    unit = units_of(haidian, 1)[0]
    appointment = appointment_build(unit=unit, planner=make_planner(beijing))
    label = role_label(beijing, appointment.role)
    assert label and label != appointment.role
    row = client.get("/api/v1/appointments", **bearer(city_admin)).json()["results"][0]
    assert row["role_label"] == label and row["status_label"] == "在任"
    page = login(city_admin).get("/appointments/").content.decode()
    assert f'<td data-label="派驻角色">{label}</td>' in page


def test_the_proposal_list_pages_and_keeps_its_queries(client, bearer, login, street_office, district_haidian, wanshou,
                                                       beijing, clock, monkeypatch):
    proposals.proposal_submit(actor=street_office, planner=make_planner(beijing), unit=wanshou,
                              role="responsible_planner", start=clock.today)
    headers, page = bearer(district_haidian), login(district_haidian)
    page.get("/appointments/proposals/")
    few = (queries(lambda: client.get("/api/v1/appointments/proposals", **headers))[0],
           queries(lambda: page.get("/appointments/proposals/"))[0])
    for _ in range(6):
        proposals.proposal_submit(actor=street_office, planner=make_planner(beijing), unit=wanshou,
                                  role="responsible_planner", start=clock.today)
    many = (queries(lambda: client.get("/api/v1/appointments/proposals", **headers))[0],
            queries(lambda: page.get("/appointments/proposals/"))[0])
    assert many == few
    body = client.get("/api/v1/appointments/proposals?limit=3&offset=3", **headers).json()
    everything = client.get("/api/v1/appointments/proposals", **headers).json()
    assert body["count"] == everything["count"] == 7
    assert [p["id"] for p in body["results"]] == [p["id"] for p in everything["results"]][3:6]
    assert everything["results"][0]["role_label"] == role_label(beijing, "responsible_planner")
    assert client.get("/api/v1/appointments/proposals?limit=0", **headers).status_code == 400
    monkeypatch.setattr(selectors, "PAGE_SIZE", 5)
    second = page.get("/appointments/proposals/?page=2")
    assert second.status_code == 200 and len(second.context["proposals"]) == 2
    assert page.get("/appointments/proposals/?page=zz").context["page"] == 1
    assert page.get("/appointments/proposals/?page=99").context["page"] == 2


def test_the_withdrawal_list_pages_and_keeps_its_queries(client, bearer, city_admin, beijing, haidian, clock):
    from rpms.appointments import services

    def withdraw(unit):
        planner = make_planner(beijing)
        appointment = appointment_build(unit=unit, planner=planner, withdrawal_notice_working_days=15)  # B25
        earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
        services.withdrawal_request(actor=planner.user, appointment=appointment, leave_date=earliest, reason="个人原因")

    units = units_of(haidian, 6)
    withdraw(units[0])
    headers = bearer(city_admin)
    client.get("/api/v1/withdrawals", **headers)
    few = queries(lambda: client.get("/api/v1/withdrawals", **headers))[0]
    for unit in units[1:]:
        withdraw(unit)
    many, response = queries(lambda: client.get("/api/v1/withdrawals", **headers))
    assert many == few and response.json()["count"] == 6
    ids = [w["id"] for w in response.json()["results"]]
    assert [w["id"] for w in client.get("/api/v1/withdrawals?limit=2&offset=2", **headers).json()["results"]] == ids[2:4]
    assert client.get("/api/v1/withdrawals?limit=5000", **headers).status_code == 400
    assert Appointment.objects.count() == 6
