"""Issue #17 item 2: the appointment pages link only to what the reader may open (no link answers 403/404)."""
import datetime as dt

import pytest

from rpms.appointments import services

from .conftest import make_planner

pytestmark = pytest.mark.django_db


def test_the_planner_opens_the_detail_of_their_own_withdrawal(pingdingshan, pds_unit, pds_planner, pds_admin, clock,
                                                              login):
    clock.set(dt.date(2026, 3, 2))
    appointment = services.appointment_create(actor=pds_admin, planner=pds_planner, unit=pds_unit,
                                              role="responsible_planner", start=clock.today)
    clock.set(dt.date(2026, 6, 1))
    earliest, _ = services.withdrawal_earliest(city=pingdingshan, requested_on=clock.today)
    withdrawal = services.withdrawal_request(actor=pds_planner.user, appointment=appointment, leave_date=earliest,
                                             reason="工作调动，无法继续履职")
    planner = login(pds_planner.user)
    detail = planner.get(f"/appointments/{appointment.pk}/").content.decode()
    assert f'href="/appointments/withdrawals/{withdrawal.pk}/"' in detail
    page = planner.get(f"/appointments/withdrawals/{withdrawal.pk}/")
    assert page.status_code == 200 and "工作调动，无法继续履职" in page.content.decode()
    assert planner.get("/appointments/withdrawals/").status_code == 403  # the list stays the offices'

    other = make_planner(pingdingshan, "补位规划师")
    assert login(other.user).get(f"/appointments/withdrawals/{withdrawal.pk}/").status_code == 404

    # Once replaced, the page names the replacement but links to the replacement's posting only for those who
    # may open it (the city does; the planner who left does not).
    replacement = services.withdrawal_replace(actor=pds_admin, withdrawal=withdrawal, planner=other.pk)
    link = f'href="/appointments/{replacement.pk}/"'
    shown = planner.get(f"/appointments/withdrawals/{withdrawal.pk}/").content.decode()
    assert "补位规划师" in shown and link not in shown
    assert planner.get(f"/appointments/{replacement.pk}/").status_code == 404
    assert link in login(pds_admin).get(f"/appointments/withdrawals/{withdrawal.pk}/").content.decode()


def test_the_proposals_link_only_for_those_who_may_read_proposals(login, bj_planner, street_office, wanshou, clock,
                                                                  city_admin):
    # Beijing appoints by local selection (B2, B19(1)(5)): the offices read the proposals, a planner does not.
    assert login(bj_planner.user).get("/appointments/proposals/").status_code == 403
    assert 'href="/appointments/proposals/"' not in login(bj_planner.user).get("/appointments/").content.decode()
    assert 'href="/appointments/proposals/"' in login(street_office).get("/appointments/").content.decode()
