"""Fixtures for written opinions, in both cities: a unit with its serving planner, the unit's hiring
entity, the district officer, an officer of another district, a planner of the same city who does
not serve the unit, and the departments an opinion may go to.

Appointments are created as rows directly (see `appoint`), so it is easy to switch to
`rpms.appointments.services.appointment_create` once it is stable."""
import datetime as dt
from functools import partial
from dataclasses import dataclass

import pytest
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.testing.builders import planner_build, unit_of, user_build as make_user

PASSWORD = "Test-pass-2026!"

make_planner = partial(planner_build, name_format="意见测试规划师{n:03d}", username_prefix="op_planner", id_number="41040219900101{n:04d}", mobile="139{n:08d}")


def appoint(planner, unit, *, start=None, end=None, party_a=None):
    from rpms.appointments.models import Appointment

    today = timezone.localdate()
    return Appointment.objects.create(
        city=unit.city, unit=unit, planner=planner, role="responsible_planner",
        start=start or today - dt.timedelta(days=30), end=end or today + dt.timedelta(days=330),
        party_a=party_a or f"{unit.current_subdistricts[0].name}办事处",
    )


def first_unit(district):
    from rpms.geography.models import ResponsibilityUnit

    return (ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True)
            .select_related("district", "city").order_by("id").first())


@dataclass
class World:
    city: object
    unit: object
    planner: object  # registry.Planner serving `unit`
    author: object  # its user
    outsider: object  # a PLANNER user of the same city not serving `unit`
    entity: object  # the unit's hiring entity user
    officer: object  # the unit's district officer
    other_officer: object  # an officer of another district of the city
    admin: object  # the city administrator
    department: object  # a department of the unit's district
    city_department: object  # a city-level department
    foreign_department: object  # a department of another district (not allowed for this unit)
    interest_article: str
    opinion_article: str


def _world(city, unit, other_district, admin):
    from rpms.cities.selectors import policy_article
    from rpms.geography.models import Department

    planner = make_planner(city, "林清源" if city.code == "beijing" else "韩若溪")
    appoint(planner, unit)
    outsider = make_planner(city, "未派驻规划师")
    other_unit = first_unit(other_district)
    appoint(outsider, other_unit)  # serves elsewhere, not in `unit`
    entity = make_user(f"op_entity_{city.code}", Role.HIRING_ENTITY, city, subdistricts=unit.current_subdistricts,
                       display_name=f"{unit.current_subdistricts[0].name}办事处（测试）")
    officer = make_user(f"op_officer_{city.code}", Role.DISTRICT_OFFICER, city, districts=[unit.district],
                        display_name=f"{unit.district.name}工作专班（测试）")
    other_officer = make_user(f"op_other_officer_{city.code}", Role.DISTRICT_OFFICER, city, districts=[other_district],
                              display_name=f"{other_district.name}工作专班（测试）")
    department = Department.objects.create(city=city, district=unit.district, name=f"{unit.district.name}住房和城乡建设委员会")
    city_department = Department.objects.create(city=city, district=None, name="市交通委员会")
    foreign_department = Department.objects.create(city=city, district=other_district, name=f"{other_district.name}园林绿化局")
    return World(
        city=city, unit=unit, planner=planner, author=planner.user, outsider=outsider.user, entity=entity,
        officer=officer, other_officer=other_officer, admin=admin, department=department,
        city_department=city_department, foreign_department=foreign_department,
        interest_article=policy_article(city, "opinion_interest"), opinion_article=policy_article(city, "opinion"),
    )


@pytest.fixture
def bj_world(beijing, haidian, chaoyang, city_admin):
    return _world(beijing, unit_of(beijing, "110108001"), chaoyang, city_admin)


@pytest.fixture
def pds_world(pingdingshan, pds_admin):
    districts = list(pingdingshan.districts.filter(units__dissolved_at__isnull=True).distinct().order_by("code"))
    return _world(pingdingshan, first_unit(districts[0]), districts[1], pds_admin)


@pytest.fixture(params=["beijing", "pingdingshan"])
def world(request, db):
    return request.getfixturevalue("bj_world" if request.param == "beijing" else "pds_world")


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def draft_data(world, **overrides) -> dict:
    data = {
        "subject": "万寿路南口地块综合改造设计方案" if world.city.code == "beijing" else "湛河北岸片区城市更新实施方案",
        "subject_kind": "design_scheme",
        "developer": "虚构城市更新投资有限公司",
        "design_unit": "虚构建筑设计研究院",
        "reviewed_documents": ["方案设计说明（送审稿）", "总平面图"],
        "findings": "1. 沿街界面连续性不足。\n2. 地块内步行通道与周边社区未贯通。",
        "recommendations": "1. 优化沿街建筑退线与界面。\n2. 打通南北向步行通道，与社区公共空间衔接。",
        "departments": [world.department.pk, world.city_department.pk],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_draft():
    from rpms.opinions import services

    def _make(world, **overrides):
        return services.opinion_create(actor=world.author, unit=world.unit, **draft_data(world, **overrides))

    return _make


@pytest.fixture
def make_issued(make_draft):
    from rpms.opinions import services

    def _make(world, **overrides):
        opinion = make_draft(world, **overrides)
        services.opinion_interest_declare(actor=world.author, opinion=opinion, has_conflict=False)
        return services.opinion_issue(actor=world.author, opinion=opinion)

    return _make
