import pytest

from rpms.workdays.services import calendar_year_enter

from .factories import UserFactory
from .notices import NOTICE_2027_INVENTED


@pytest.fixture
def city_admin(db):
    user = UserFactory(username="city_admin")
    user.save()
    return user


@pytest.fixture
def district_officer(db):
    user = UserFactory(username="haidian_officer", district_officer=True)
    user.save()
    return user


@pytest.fixture
def entered_2027(city_admin):
    return calendar_year_enter(
        actor=city_admin, year=2027, source="测试用通知（虚构）", notice_text=NOTICE_2027_INVENTED
    )
