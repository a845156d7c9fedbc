"""Fixtures for finance: pool members, units of both cities, and appointments created through the real service."""
import itertools

import pytest

from rpms.accounts.models import Role, User

PASSWORD = "Test-pass-2026!"
_seq = itertools.count(1)


def make_user(username, role, city=None, districts=(), subdistricts=(), display_name=""):
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, city=city,
                                    display_name=display_name or username)
    if districts:
        user.districts.set(districts)
    if subdistricts:
        user.subdistricts.set(subdistricts)
    return user


def make_planner(city, name=None, *, kind="individual", members=(), with_user=True, **fields):
    from rpms.registry.models import Planner, TeamMember

    n = next(_seq)
    name = name or f"财务测试规划师{n:03d}"
    user = make_user(f"fin_planner_{n}", Role.PLANNER, city, display_name=name) if with_user else None
    planner = Planner.objects.create(city=city, name=name, user=user, kind=kind, pool_status="active",
                                     is_fictional=True, employer="虚构规划设计研究院", **fields)
    for i, member in enumerate(members):
        TeamMember.objects.create(planner=planner, sort_order=i, **member)
    return planner


def units_of(district, count):
    from rpms.geography.models import ResponsibilityUnit

    return list(
        ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True)
        .select_related("district", "city__policy").order_by("id")[:count]
    )


def unit_of(city, subdistrict_code):
    from rpms.geography.models import ResponsibilityUnit

    return ResponsibilityUnit.objects.select_related("district", "city__policy").get(
        city=city, dissolved_at__isnull=True, memberships__subdistrict__code=subdistrict_code,
        memberships__left_at__isnull=True,
    )


@pytest.fixture
def appoint():
    """appoint(actor, planner, unit, start, fee_yuan=None) → an appointment made through the city's path
    (rpms.testing.builders: Beijing's entity proposes and the district approves; elsewhere `actor` appoints)."""
    from rpms.testing.builders import appointment_build

    def _appoint(actor, planner, unit, start, fee_yuan=None, role="responsible_planner"):
        return appointment_build(unit=unit, planner=planner, role=role, start=start, fee_yuan=fee_yuan, actor=actor)

    return _appoint


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
