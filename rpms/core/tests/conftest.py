"""Fixtures for the audit-trail tests: two cities, a user per role, and audit rows."""
import datetime
from zoneinfo import ZoneInfo

import pytest

from rpms.accounts.models import Role, User
from rpms.cities.models import City
from rpms.core.models import ActionLog
from rpms.geography.models import District

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def beijing(db):
    return City.objects.create(code="beijing", name="北京市", article_prefix="B")


@pytest.fixture
def pingdingshan(db):
    return City.objects.create(code="pingdingshan", name="平顶山市", article_prefix="P")


@pytest.fixture
def haidian(beijing):
    return District.objects.create(city=beijing, code="110108", name="海淀区")


def _user(username, role, city=None, **extra):
    return User.objects.create_user(username=username, password="Pw-for-tests-123", role=role, city=city, **extra)


@pytest.fixture
def city_admin(beijing):
    return _user("bj_admin", Role.CITY_ADMIN, beijing, display_name="北京市管理员")


@pytest.fixture
def auditor(beijing):
    return _user("bj_auditor", Role.AUDITOR, beijing, display_name="北京审计员")


@pytest.fixture
def global_auditor(db):
    return _user("all_auditor", Role.AUDITOR, None, display_name="总审计员")


@pytest.fixture
def district_officer(beijing, haidian):
    user = _user("hd_officer", Role.DISTRICT_OFFICER, beijing, display_name="海淀区工作人员")
    user.districts.add(haidian)
    return user


def at_local(year, month, day, hour=12, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def make_log(db):
    def make(**kwargs):
        values = {
            "at": at_local(2026, 3, 10),
            "actor_repr": "someone",
            "ip": "10.0.0.8",
            "action": "geography.unit_create",
            "object_type": "geography.responsibilityunit",
            "object_id": "1",
            "object_repr": "学院路责任单元",
            "city_code": "beijing",
            "article": "B4",
            "summary": "设立责任单元",
            "before": None,
            "after": {"name": "学院路责任单元"},
        }
        values.update(kwargs)
        return ActionLog.objects.create(**values)

    return make
