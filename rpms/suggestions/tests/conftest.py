"""Fixtures for suggestions: planners appointed to units of both cities (appointments created directly until
rpms.appointments.services.appointment_create is stable — see `appoint`), departments, a movable clock,
and images for upload tests. Personas (city_admin, district_haidian, street_office, ...) come from the
root conftest."""
import datetime as dt
import io
from zoneinfo import ZoneInfo
from functools import partial

import pytest

from rpms.accounts.models import Role
from rpms.testing.builders import planner_build, unit_of, user_build as make_user
from rpms.testing.pdfs import TINY_PDF

PASSWORD = "Test-pass-2026!"
RESIDENT_PHONE = "13912345678"
RESIDENT_NAME = "王测试居民"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Street codes used below: Beijing 万寿路街道 (Haidian), 羊坊店街道 (Haidian), 建外街道 (Chaoyang);
# Pingdingshan 曙光街街道 and 光明路街道 (新华区).
BJ_STREET, BJ_OTHER_STREET, BJ_CHAOYANG_STREET = "110108001", "110108002", "110105001"
PDS_STREET, PDS_OTHER_STREET = "410402001", "410402002"

make_planner = partial(planner_build, name_format="测试规划师{n:03d}", username_prefix="sg_planner", mobile="137{n:08d}")


def appoint(planner, unit, *, start=dt.date(2025, 1, 1), end=dt.date(2027, 12, 31), ended_on=None, role="responsible_planner"):
    """An appointment row (switch to appointments.services.appointment_create once it is stable)."""
    from rpms.appointments.models import Appointment

    return Appointment.objects.create(city=unit.city, unit=unit, planner=planner, role=role, start=start, end=end,
                                      ended_on=ended_on, party_a="测试街道办事处")


@pytest.fixture
def clock(clock):
    """The system's clock (root conftest), set to Monday 2 March 2026, 10:00, for every suggestions test."""
    clock.set(dt.date(2026, 3, 2))
    return clock


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def bj_unit(beijing):
    return unit_of(beijing, BJ_STREET)


@pytest.fixture
def bj_other_unit(beijing):
    return unit_of(beijing, BJ_OTHER_STREET)


@pytest.fixture
def bj_chaoyang_unit(beijing):
    return unit_of(beijing, BJ_CHAOYANG_STREET)


@pytest.fixture
def pds_unit(pingdingshan):
    return unit_of(pingdingshan, PDS_STREET)


@pytest.fixture
def pds_other_unit(pingdingshan):
    return unit_of(pingdingshan, PDS_OTHER_STREET)


@pytest.fixture
def bj_planner(bj_unit, clock):
    planner = make_planner(bj_unit.city, "海淀测试规划师甲")
    appoint(planner, bj_unit)
    return planner


@pytest.fixture
def bj_other_planner(bj_other_unit, clock):
    planner = make_planner(bj_other_unit.city, "海淀测试规划师乙")
    appoint(planner, bj_other_unit)
    return planner


@pytest.fixture
def pds_planner(pds_unit, clock):
    planner = make_planner(pds_unit.city, "新华区测试规划师")
    appoint(planner, pds_unit)
    return planner


@pytest.fixture
def pds_district(pingdingshan, pds_unit):
    return make_user("t_pds_district", Role.DISTRICT_OFFICER, pingdingshan, districts=[pds_unit.district],
                     display_name="新华区工作专班（测试）")


@pytest.fixture
def pds_entity(pingdingshan):
    from rpms.geography.models import Subdistrict

    return make_user("t_pds_street", Role.HIRING_ENTITY, pingdingshan,
                     subdistricts=[Subdistrict.objects.get(code=PDS_STREET)], display_name="曙光街街道办事处（测试）")


@pytest.fixture
def other_street_office(beijing):
    from rpms.geography.models import Subdistrict

    return make_user("t_other_street", Role.HIRING_ENTITY, beijing,
                     subdistricts=[Subdistrict.objects.get(code=BJ_OTHER_STREET)], display_name="羊坊店街道办事处（测试）")


@pytest.fixture
def haidian_department(beijing, haidian):
    from rpms.geography.models import Department

    return Department.objects.create(city=beijing, district=haidian, name="海淀区城市管理委员会（测试）")


@pytest.fixture
def chaoyang_department(beijing, chaoyang):
    from rpms.geography.models import Department

    return Department.objects.create(city=beijing, district=chaoyang, name="朝阳区城市管理委员会（测试）")


@pytest.fixture
def pds_department(pingdingshan):
    from rpms.geography.models import Department

    return Department.objects.create(city=pingdingshan, district=None, name="平顶山市城市管理局（测试）")


def submit(unit, *, content="小区东门外人行道的路灯坏了，晚上很暗。", category="problem", phone=RESIDENT_PHONE,
           name=RESIDENT_NAME, photos=(), subdistrict=None):
    from rpms.suggestions import services

    return services.suggestion_submit(actor=None, unit=unit, category=category, content=content, contact_name=name,
                                      contact_phone=phone, photos=photos, subdistrict=subdistrict)


def image_file(name="photo.png", fmt="PNG", size=(40, 30)):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    content_type = "image/png" if fmt == "PNG" else "image/jpeg"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def pdf_file(name="scan.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, TINY_PDF, content_type="application/pdf")
