"""Fixtures for notifications: users with and without e-mail, active pool members appointed to real units
(through rpms.appointments' service), and a public notice with candidates (through recruitment's service).
Personas (city_admin, district_haidian, street_office, ...) come from the root conftest."""
import datetime as dt
import itertools

import pytest

from rpms.accounts.models import Role
from rpms.testing.builders import unit_of

PASSWORD = "Test-pass-2026!"
_seq = itertools.count(1)

BJ_STREET = "110108001"  # 万寿路街道, Haidian: the root conftest's street_office serves it
PDS_STREET = "410402001"


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def make_user(db):
    from rpms.accounts.models import User

    def _make(role=Role.PLANNER, email="", city=None, districts=(), subdistricts=(), **extra):
        n = next(_seq)
        user = User.objects.create_user(
            username=f"n_user_{n}", password=PASSWORD, role=role, city=city, email=email,
            display_name=extra.pop("display_name", f"用户{n}"), **extra,
        )
        if districts:
            user.districts.set(districts)
        if subdistricts:
            user.subdistricts.set(subdistricts)
        return user

    return _make


@pytest.fixture
def make_planner(make_user):
    """An active pool member of `city` with its own account (e-mail given or none)."""
    from rpms.registry.models import Planner

    def _make(city, *, email="", name=None):
        n = next(_seq)
        user = make_user(Role.PLANNER, email=email, city=city, display_name=name or f"提醒测试规划师{n}")
        return Planner.objects.create(
            city=city, name=name or f"提醒测试规划师{n}", user=user, pool_status="active", is_fictional=True,
            employer="虚构规划设计研究院",
        )

    return _make


@pytest.fixture
def bj_unit(beijing):
    return unit_of(beijing, BJ_STREET)


@pytest.fixture
def pds_unit(pingdingshan):
    return unit_of(pingdingshan, PDS_STREET)


@pytest.fixture
def appoint():
    """appoint(actor, planner, unit, start=today) → an Appointment through the city's path
    (rpms.testing.builders: Beijing's entity proposes and the district approves; elsewhere `actor` appoints)."""
    from django.utils import timezone

    from rpms.testing.builders import appointment_build

    def _appoint(actor, planner, unit, start=None):
        return appointment_build(unit=unit, planner=planner, actor=actor, start=start or timezone.localdate())

    return _appoint


@pytest.fixture
def pds_notice(pds_admin, pingdingshan):
    """A Pingdingshan notice (公示) with one candidate, published today through recruitment's services."""
    from rpms.recruitment import services
    from rpms.recruitment.tests.factories import applicant, approved_application, open_call, pingdingshan_data

    call = open_call(pds_admin, pingdingshan, deadline=dt.date.today() + dt.timedelta(days=30))
    application = approved_application(pds_admin, call, applicant(f"n_app_{next(_seq)}", pingdingshan),
                                       pingdingshan_data(name="公示候选人甲"))
    notice = services.notice_publish(actor=pds_admin, call=call)
    return notice, application
