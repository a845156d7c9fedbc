"""Fixtures for finance: pool members, units of both cities, and appointments created through the real service."""
from functools import partial

import pytest

from rpms.accounts.models import Role
from rpms.testing.builders import planner_build, unit_of, units_of, user_build as make_user

PASSWORD = "Test-pass-2026!"

make_planner = partial(planner_build, name_format="财务测试规划师{n:03d}", username_prefix="fin_planner")


@pytest.fixture
def pds_districts(pingdingshan):
    return list(pingdingshan.districts.order_by("code"))


@pytest.fixture
def pds_district(pds_districts):
    return pds_districts[0]


@pytest.fixture
def pds_other_district(pds_districts):
    return pds_districts[1]


@pytest.fixture
def pds_units(pds_district):
    return units_of(pds_district, 8)


@pytest.fixture
def pds_officer(pingdingshan, pds_district):
    return make_user("fin_pds_officer", Role.DISTRICT_OFFICER, pingdingshan, districts=[pds_district])


@pytest.fixture
def pds_other_officer(pingdingshan, pds_other_district):
    return make_user("fin_pds_other_officer", Role.DISTRICT_OFFICER, pingdingshan, districts=[pds_other_district])


@pytest.fixture
def pds_auditor(pingdingshan):
    return make_user("fin_pds_auditor", Role.AUDITOR, pingdingshan)


@pytest.fixture
def wanshou(beijing):
    """Beijing's unit of 万寿路街道 (Haidian), whose hiring entity is the `street_office` persona."""
    return unit_of(beijing, "110108001")
