"""Fixtures for the geography tests: Beijing and Pingdingshan with their policies and geography
sections (as data/cities/*.json describe them), and personas per role."""
import pytest

from rpms.accounts.models import Role
from rpms.cities.models import City, PolicyProfile
from rpms.geography.models import District
from rpms.geography.services import divisions_load, units_create_default

from .helpers import BEIJING_GEOGRAPHY, BEIJING_ZONE_TYPES, CHAOYANG, HAIDIAN, make_user


@pytest.fixture
def beijing(db):
    city = City.objects.create(code="beijing", name="北京市", division_code="1101", article_prefix="B")
    PolicyProfile.objects.create(
        city=city, contract_signer="hiring_entity", appointment_mode="local_selection", zone_types=BEIJING_ZONE_TYPES,
        articles={"coverage": "B4"},
    )
    return city


@pytest.fixture
def pingdingshan(db):
    city = City.objects.create(code="pingdingshan", name="平顶山市", division_code="4104", article_prefix="P")
    PolicyProfile.objects.create(
        city=city, contract_signer="city_bureau", appointment_mode="city_dispatch", zone_types=[],
        articles={"coverage": "P6(2)"},
    )
    return city


@pytest.fixture
def beijing_divisions(beijing):
    divisions_load(actor=None, city=beijing, geography=BEIJING_GEOGRAPHY)
    return beijing


@pytest.fixture
def beijing_units(beijing_divisions):
    units_create_default(actor=None, city=beijing_divisions)
    return beijing_divisions


@pytest.fixture
def haidian(beijing_divisions):
    return District.objects.get(code=HAIDIAN)


@pytest.fixture
def chaoyang(beijing_divisions):
    return District.objects.get(code=CHAOYANG)


@pytest.fixture
def city_admin(beijing):
    return make_user("bj_admin", Role.CITY_ADMIN, beijing)


@pytest.fixture
def haidian_officer(beijing, haidian):
    return make_user("haidian_officer", Role.DISTRICT_OFFICER, beijing, [haidian])


@pytest.fixture
def chaoyang_officer(beijing, chaoyang):
    return make_user("chaoyang_officer", Role.DISTRICT_OFFICER, beijing, [chaoyang])


@pytest.fixture
def auditor(beijing):
    return make_user("bj_auditor", Role.AUDITOR, beijing)


@pytest.fixture
def planner_user(beijing):
    return make_user("planner", Role.PLANNER, beijing)
