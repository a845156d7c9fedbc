"""The request form shows what is known (issue #17 item 9): a unit a request is still waiting for is listed
with that request (number, role, status, date), not as "尚无派驻"; requests that are over are not listed;
the page's queries do not grow with the units and their requests."""
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rpms.dispatch.services import dispatch_request_accept, dispatch_request_return, dispatch_request_submit

from .conftest import ROLE, units_of

pytestmark = pytest.mark.django_db


def _row(page: str, unit) -> str:
    match = re.search(rf'<tr>\s*<td><input[^>]*value="{unit.pk}".*?</tr>', page, re.S)
    assert match, unit.name
    return match.group(0)


def _form(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/dispatch/requests/new/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_unit_with_a_pending_request_shows_the_request_not_no_dispatch(beijing, haidian, district_haidian, city_admin):
    pending, accepted, returned, untouched = units_of(haidian, 4)
    waiting = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=[pending.pk])
    taken = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=[accepted.pk])
    dispatch_request_accept(actor=city_admin, request=taken)
    refused = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=[returned.pk])
    dispatch_request_return(actor=city_admin, request=refused, reason="单元范围需调整")

    page = _form(district_haidian)

    row = _row(page, pending)
    assert "尚无派驻" not in row
    assert f'href="/dispatch/requests/{waiting.pk}/"' in row and "待受理" in row
    assert timezone.localtime(waiting.created_at).strftime("%Y-%m-%d") in row and "责任规划师" in row
    row = _row(page, accepted)
    assert "尚无派驻" not in row and f"派驻申请 #{taken.pk}" in row and "已受理" in row
    for unit in (returned, untouched):  # a returned request is over: the unit still has nobody and nothing waiting
        row = _row(page, unit)
        assert "尚无派驻" in row and "派驻申请 #" not in row


def test_the_form_queries_do_not_grow_with_units_and_requests(beijing, haidian, district_haidian):
    units = units_of(haidian, 8)
    dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=[units[0].pk])
    client = Client()
    client.force_login(district_haidian)
    client.get("/dispatch/requests/new/")
    with CaptureQueriesContext(connection) as few:
        client.get("/dispatch/requests/new/")
    for unit in units[1:]:
        dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=[unit.pk])
    with CaptureQueriesContext(connection) as many:
        page = client.get("/dispatch/requests/new/").content.decode()
    assert page.count("派驻申请 #") == 8
    assert len(many.captured_queries) == len(few.captured_queries)
