"""Fixtures for notifications: users with and without e-mail, active pool members appointed to real units
(through rpms.appointments' service), and a public notice with candidates (through recruitment's service).
Personas (city_admin, district_haidian, street_office, ...) come from the root conftest."""
import datetime as dt
import itertools

import pytest

from rpms.accounts.models import Role
from rpms.testing.builders import planner_build, unit_of, user_build

PASSWORD = "Test-pass-2026!"
_seq = itertools.count(1)

BJ_STREET = "110108001"  # 万寿路街道, Haidian: the root conftest's street_office serves it
PDS_STREET = "410402001"


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def make_user(db):
    def _make(role=Role.PLANNER, email="", city=None, districts=(), subdistricts=(), **extra):
        n = next(_seq)
        return user_build(f"n_user_{n}", role, city, districts=districts, subdistricts=subdistricts, email=email,
                          display_name=extra.pop("display_name", f"用户{n}"), **extra)

    return _make


@pytest.fixture
def make_planner(make_user):
    """An active pool member of `city` with its own account (e-mail given or none)."""

    def _make(city, *, email="", name=None):
        return planner_build(city, name, name_format="提醒测试规划师{n}", username_prefix="n_planner", email=email)

    return _make


@pytest.fixture
def bj_unit(beijing):
    return unit_of(beijing, BJ_STREET)


@pytest.fixture
def pds_unit(pingdingshan):
    return unit_of(pingdingshan, PDS_STREET)


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
