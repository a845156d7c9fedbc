"""Issue #15: the 即将到期, 撤回与解聘 and 区总师 pages are bounded — pages of rows with the same number of queries
whatever the number of rows, any page number answered, and the chief's planner chooser never the whole pool."""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.appointments import selectors
from rpms.appointments.models import Appointment
from rpms.core import clock as rpms_clock

from .conftest import make_planner, units_of

pytestmark = pytest.mark.django_db


def counted(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    return len(captured.captured_queries), response


def ending_soon(beijing, units, days=10):
    today = rpms_clock.today()
    for n, unit in enumerate(units):
        Appointment.objects.create(city=beijing, unit=unit, planner=make_planner(beijing), role="responsible_planner",
                                   start=today - dt.timedelta(days=300), end=today + dt.timedelta(days=days + n % 5),
                                   party_a="虚构聘任主体")


def test_the_expiring_page_keeps_its_queries_and_pages(login, city_admin, beijing, haidian, monkeypatch):
    units = units_of(haidian, 12)
    ending_soon(beijing, units[:2])
    client = login(city_admin)
    client.get("/appointments/expiring/")
    few, _ = counted(client, "/appointments/expiring/")
    ending_soon(beijing, units[2:])
    many, response = counted(client, "/appointments/expiring/")
    assert few == many and len(response.context["appointments"]) == 12
    order = [a.pk for a in selectors.expiring_list(user=city_admin)]
    monkeypatch.setattr(selectors, "SHORT_PAGE_SIZE", 5)
    first = client.get("/appointments/expiring/")
    assert [a.pk for a in first.context["appointments"]] == order[:5]
    assert "第 1 页，共 3 页" in first.content.decode() and "下一页" in first.content.decode()
    last = client.get("/appointments/expiring/?page=3")
    assert [a.pk for a in last.context["appointments"]] == order[10:]
    for page in ("0", "abc", "999999999999"):
        assert client.get(f"/appointments/expiring/?page={page}").status_code == 200


def test_the_withdrawal_page_keeps_its_queries_and_pages(login, city_admin, beijing, haidian, clock, monkeypatch):
    from rpms.appointments import services
    from rpms.testing.builders import appointment_build

    def withdraw(unit):
        planner = make_planner(beijing)
        appointment = appointment_build(unit=unit, planner=planner, withdrawal_notice_working_days=15)
        earliest, _ = services.withdrawal_earliest(appointment=appointment, requested_on=clock.today)
        services.withdrawal_request(actor=planner.user, appointment=appointment, leave_date=earliest, reason="个人原因")

    units = units_of(haidian, 6)
    withdraw(units[0])
    client = login(city_admin)
    client.get("/appointments/withdrawals/")
    few, _ = counted(client, "/appointments/withdrawals/")
    for unit in units[1:]:
        withdraw(unit)
    many, response = counted(client, "/appointments/withdrawals/")
    assert few == many and len(response.context["withdrawals"]) == 6
    monkeypatch.setattr(selectors, "SHORT_PAGE_SIZE", 4)
    second = client.get("/appointments/withdrawals/?page=2")
    assert len(second.context["withdrawals"]) == 2 and "第 2 页，共 2 页" in second.content.decode()
    assert client.get("/appointments/withdrawals/?page=x&removed_page=99").status_code == 200


def test_the_chief_page_offers_a_bounded_chooser(login, district_haidian, beijing, haidian):
    for _ in range(3):
        make_planner(beijing)
    client = login(district_haidian)
    client.get("/appointments/chiefs/")
    few, _ = counted(client, "/appointments/chiefs/")
    for n in range(selectors.PICKER_LIMIT + 10):
        make_planner(beijing, f"候选规划师{n:03d}")
    many, response = counted(client, "/appointments/chiefs/")
    assert few == many
    assert len(response.context["planners"]) == selectors.PICKER_LIMIT and response.context["more_planners"]
    assert "请输入姓名查找" in response.content.decode()
    found = client.get("/appointments/chiefs/?q=候选规划师007").context["planners"]
    assert [p.name for p in found] == ["候选规划师007"]
