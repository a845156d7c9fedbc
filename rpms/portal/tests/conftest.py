"""Fixtures for the portal: Beijing with two districts, subdistricts, units, and a user per role."""
import pytest
from django.utils import timezone

from rpms.accounts.models import Role, User
from rpms.cities.models import City
from rpms.geography.models import District, ResponsibilityUnit, Subdistrict, UnitMembership

PASSWORD = "Pw-for-tests-123"


@pytest.fixture
def beijing(db):
    return City.objects.create(code="beijing", name="北京市", article_prefix="B")


@pytest.fixture
def pingdingshan(db):
    return City.objects.create(code="pingdingshan", name="平顶山市", article_prefix="P")


@pytest.fixture
def haidian(beijing):
    return District.objects.create(city=beijing, code="110108", name="海淀区", sort_order=8)


@pytest.fixture
def chaoyang(beijing):
    return District.objects.create(city=beijing, code="110105", name="朝阳区", sort_order=5)


@pytest.fixture
def xueyuanlu(haidian):
    return Subdistrict.objects.create(district=haidian, code="110108012", name="学院路街道", kind="street")


@pytest.fixture
def haidian_town(haidian):
    return Subdistrict.objects.create(district=haidian, code="110108013", name="海淀街道", kind="street")


@pytest.fixture
def wenquan(haidian):
    return Subdistrict.objects.create(district=haidian, code="110108101", name="温泉镇", kind="town")


@pytest.fixture
def jianwai(chaoyang):
    return Subdistrict.objects.create(district=chaoyang, code="110105001", name="建外街道", kind="street")


@pytest.fixture
def make_unit(beijing):
    def make(name, district, subdistricts, city=None):
        unit = ResponsibilityUnit.objects.create(city=city or beijing, district=district, name=name)
        for sub in subdistricts:
            UnitMembership.objects.create(unit=unit, subdistrict=sub, joined_at=timezone.now())
        return unit

    return make


@pytest.fixture
def xueyuan_unit(make_unit, haidian, xueyuanlu, haidian_town):
    return make_unit("学院路—海淀责任单元", haidian, [xueyuanlu, haidian_town])


def _user(username, role, city=None, **extra):
    return User.objects.create_user(username=username, password=PASSWORD, role=role, city=city, **extra)


@pytest.fixture
def city_admin(beijing):
    return _user("bj_admin", Role.CITY_ADMIN, beijing, display_name="北京市管理员")


@pytest.fixture
def district_officer(beijing, haidian):
    user = _user("hd_officer", Role.DISTRICT_OFFICER, beijing, display_name="海淀区工作人员")
    user.districts.add(haidian)
    return user


@pytest.fixture
def hiring_entity(beijing, xueyuanlu):
    user = _user("xyl_office", Role.HIRING_ENTITY, beijing, display_name="学院路街道办事处")
    user.subdistricts.add(xueyuanlu)
    return user


@pytest.fixture
def planner_user(beijing):
    return _user("planner_li", Role.PLANNER, beijing, display_name="李规划")


@pytest.fixture
def auditor(beijing):
    return _user("bj_auditor", Role.AUDITOR, beijing, display_name="北京审计员")
