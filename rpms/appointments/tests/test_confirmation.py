"""Issue #17 item 5: consenting to a termination and filing and disclosing a contract ask for confirmation on a
page that says what will follow; 返回修改 keeps the date typed."""
import datetime as dt
import re
from html import unescape

import pytest

from rpms.appointments import services
from rpms.appointments.models import Appointment, TerminationRequest
from rpms.testing.builders import appoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def bj_appointment(wanshou, bj_planner, clock):
    from rpms.testing.builders import appointment_build

    return appointment_build(unit=wanshou, planner=bj_planner, start=clock.today)


def test_consenting_to_a_termination_asks_first(login, bj_appointment, bj_planner, street_office, clock):
    services.termination_request(actor=bj_planner.user, appointment=bj_appointment, initiator="planner",
                                 reason="工作调动")
    client = login(street_office)
    url = f"/appointments/{bj_appointment.pk}/terminate/consent/"
    when = (clock.today + dt.timedelta(days=9)).isoformat()

    asked = client.post(url, {"effective_date": when})
    page = unescape(asked.content.decode())
    assert asked.status_code == 200 and "请确认" in page and f"自 {when} 起解除" in page and "不能撤销" in page
    assert f'name="effective_date" value="{when}"' in page
    assert TerminationRequest.objects.get().status == "pending"

    back = client.post(url, {"effective_date": when, "confirm": "back"})
    again = unescape(back.content.decode())
    assert back.status_code == 200 and re.search(rf'<input[^>]*name="effective_date"[^>]*value="{when}"', again)
    assert TerminationRequest.objects.get().status == "pending"

    done = client.post(url, {"effective_date": when, "confirm": "1"})
    assert done.status_code == 302 and TerminationRequest.objects.get().status == "consented"


def test_filing_and_disclosing_asks_first(login, city_admin, district_haidian, wanshou, bj_planner, clock):
    from rpms.testing.builders import appointment_sign

    appointment = appointment_sign(appointment=appoint(city_admin, bj_planner, wanshou, clock.today))
    client = login(district_haidian)
    url = f"/appointments/{appointment.pk}/file/"

    asked = client.post(url)
    page = unescape(asked.content.decode())
    assert asked.status_code == 200 and "请确认" in page and "在公开页面公布" in page and "备案不能撤回" in page
    assert not Appointment.objects.get(pk=appointment.pk).disclosed

    back = client.post(url, {"confirm": "back"})
    assert back.status_code == 200 and "办理备案" in back.content.decode()
    assert not Appointment.objects.get(pk=appointment.pk).disclosed

    done = client.post(url, {"confirm": "1"})
    assert done.status_code == 302 and Appointment.objects.get(pk=appointment.pk).disclosed
