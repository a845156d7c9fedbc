"""Fixtures for duties, on the real reference data of both cities (root conftest `reference`).

Beijing: 万寿路街道 (110108001, Haidian, zone type "central") is served by `bj_planner`; its hiring entity
is the root persona `street_office`; Haidian's officer is `district_haidian`. Another Haidian unit
(学院路街道 110108016 …) is served by `bj_other`.
Pingdingshan: 曙光街街道 (410402001, 新华区) is served by `pds_planner`; `pds_entity` is its office and
`pds_district` the district officer. Pingdingshan has four duty categories (P3) and no zone types.

Appointments are created as rows (see `appoint`) so the switch to `appointment_create` is one place."""
import datetime as dt
import io
from functools import partial

import pytest

from rpms.accounts.models import Role
from rpms.testing.builders import planner_build, unit_of, user_build as make_user
from rpms.testing.pdfs import TINY_PDF

PASSWORD = "Test-pass-2026!"

# A tiny but complete PDF (with the %%EOF trailer rpms.core.uploads requires).
PDF = TINY_PDF

make_planner = partial(planner_build, name_format="履职测试规划师{n:03d}", username_prefix="du_planner")


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name="材料.pdf", content=PDF, content_type="application/pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def appoint(planner, unit, *, start=None, end=None, role="responsible_planner"):
    from rpms.appointments.models import Appointment

    today = dt.date.today()
    return Appointment.objects.create(
        city=unit.city, unit=unit, planner=planner, role=role, start=start or today - dt.timedelta(days=400),
        end=end or today + dt.timedelta(days=300), party_a="测试街道办事处",
    )


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def today():
    return dt.date.today()


@pytest.fixture
def bj_unit(beijing):
    return unit_of(beijing, "110108001")


@pytest.fixture
def bj_other_unit(beijing):
    return unit_of(beijing, "110108016")


@pytest.fixture
def bj_planner(beijing, bj_unit):
    planner = make_planner(beijing, "京测规划师甲")
    appoint(planner, bj_unit)
    return planner


@pytest.fixture
def bj_other(beijing, bj_other_unit):
    planner = make_planner(beijing, "京测规划师乙")
    appoint(planner, bj_other_unit)
    return planner


@pytest.fixture
def pds_unit(pingdingshan):
    return unit_of(pingdingshan, "410402001")


@pytest.fixture
def pds_planner(pingdingshan, pds_unit):
    planner = make_planner(pingdingshan, "平测规划师")
    appoint(planner, pds_unit)
    return planner


@pytest.fixture
def pds_entity(pingdingshan):
    from rpms.geography.models import Subdistrict

    return make_user("du_pds_entity", Role.HIRING_ENTITY, pingdingshan,
                     subdistricts=[Subdistrict.objects.get(code="410402001")], display_name="曙光街街道办事处（测试）")


@pytest.fixture
def pds_district(pingdingshan):
    return make_user("du_pds_district", Role.DISTRICT_OFFICER, pingdingshan,
                     districts=[pingdingshan.districts.get(code="410402")], display_name="新华区工作专班（测试）")


@pytest.fixture
def other_entity(beijing):
    """The office of another Haidian street (学院路, served by bj_other): not 万寿路's entity."""
    from rpms.geography.models import Subdistrict

    return make_user("du_other_entity", Role.HIRING_ENTITY, beijing,
                     subdistricts=[Subdistrict.objects.get(code="110108016")], display_name="学院路街道办事处（测试）")


@pytest.fixture
def record_factory():
    """record(planner, unit, **overrides) → a submitted DutyRecord made through the service."""
    from rpms.duties import services

    def _record(planner, unit, **overrides):
        policy = unit.city.policy
        values = {
            "category": policy.duty_categories[0]["code"],
            "date": dt.date.today() - dt.timedelta(days=1),
            "hours": "2.5",
            "place": "社区议事厅",
            "participants": "街道城建科、居民代表",
            "description": "调研老旧小区公共空间现状，听取居民意见。",
        }
        values.update(overrides)
        return services.duty_record_create(actor=planner.user, unit=unit, **values)

    return _record
