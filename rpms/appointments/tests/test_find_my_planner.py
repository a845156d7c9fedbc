"""The portal's public "find my planner" shows who serves the place once the appointment is filed and
disclosed (B19(7)), never before and never with an ID number or mobile."""
import pytest
from django.utils import timezone

from rpms.appointments import services
from rpms.testing.builders import appointment_build, appointment_sign

pytestmark = pytest.mark.django_db


def test_a_filed_appointment_appears_in_find_my_planner_without_personal_data(anon, city_admin, district_haidian,
                                                                              wanshou, bj_planner):
    appointment = appointment_build(unit=wanshou, planner=bj_planner, start=timezone.localdate())
    appointment = appointment_sign(appointment=appointment)
    before = anon.get("/find/", {"q": "万寿路"}).content.decode()
    assert bj_planner.name not in before  # not disclosed until the signed contract is filed
    services.appointment_file(actor=district_haidian, appointment=appointment)
    page = anon.get("/find/", {"q": "万寿路"}).content.decode()
    assert bj_planner.name in page and bj_planner.employer in page and "责任规划师" in page
    assert bj_planner.mobile not in page and bj_planner.id_number not in page
