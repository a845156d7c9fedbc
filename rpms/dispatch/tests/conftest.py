"""Dispatch test data on the real reference geography and policies (root conftest personas), with
pool members made through the audited registry service."""
import itertools

import pytest
from django.utils import timezone

from rpms.accounts.models import Role, User
from rpms.geography.models import ResponsibilityUnit
from rpms.registry.services import planner_create
from rpms.testing.builders import units_of

ROLE = "responsible_planner"
PASSWORD = "Test-pass-2026!"
_seq = itertools.count(1)


def make_member(city, name, *, districts=(), status="active", specialties=("urban_rural_planning",),
                experience_years=8, employer=None, **fields):
    """A pool member (active by default) of `city`."""
    n = next(_seq)
    return planner_create(
        actor=None, city=city, name=name, familiar_districts=list(districts), pool_status=status,
        specialties=list(specialties), experience_years=experience_years,
        employer=employer if employer is not None else f"虚构规划设计院{n}", is_fictional=True, **fields,
    )


def officer(city, district, username):
    user = User.objects.create_user(username=username, password=PASSWORD, role=Role.DISTRICT_OFFICER, city=city,
                                    display_name=f"{district.name}工作专班（测试）")
    user.districts.set([district])
    return user


def today():
    return timezone.localdate()


@pytest.fixture
def dispatching_beijing(beijing):
    """Beijing's geography and unit cap of three under a city-dispatch policy, so that the matching's
    confirmation (the city bureau appointing, P6(2)) can be tested with a cap. In Beijing's own
    local-selection mode (B2, B19(1)(5)) a confirmation is refused: the street office proposes and the
    district approves (test_confirming_in_a_local_selection_city_is_refused)."""
    beijing.policy.appointment_mode = "city_dispatch"
    beijing.policy.save(update_fields=["appointment_mode"])
    return beijing


@pytest.fixture
def xinhua(pingdingshan):
    return pingdingshan.districts.get(code="410402")


@pytest.fixture
def weidong(pingdingshan):
    return pingdingshan.districts.get(code="410403")


@pytest.fixture
def district_xinhua(pingdingshan, xinhua):
    return officer(pingdingshan, xinhua, "t_district_xinhua")


@pytest.fixture
def accepted_request():
    """accepted_request(officer, admin, units, **fields) → a request submitted and accepted."""
    from rpms.dispatch.services import dispatch_request_accept, dispatch_request_submit

    def _make(officer_user, admin, units, *, role=ROLE, specialties=(), slots_per_unit=1, service_focus="", district=None):
        district = district or units[0].district
        request = dispatch_request_submit(
            actor=officer_user, city=district.city, district=district, role=role, units=units,
            specialties=list(specialties), slots_per_unit=slots_per_unit, service_focus=service_focus,
        )
        return dispatch_request_accept(actor=admin, request=request)

    return _make
