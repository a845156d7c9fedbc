"""Fixtures for outstanding cases: planners appointed (through rpms.appointments) to real units of both
cities, images for upload tests, and a helper that submits a case through the service."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rpms.testing.builders import planner_build, unit_of

PASSWORD = "Test-pass-2026!"

BJ_STREET = "110108001"  # 万寿路街道, Haidian (central zone)
BJ_OTHER_STREET = "110108002"  # 永定路街道, Haidian
BJ_CORE_STREET = "110101001"  # 东华门街道, 东城区 (core zone)
PDS_STREET = "410402001"

BODY = "本案例介绍责任规划师在社区更新中组织居民议事、梳理公共空间问题并推动口袋公园建设的做法与成效，" * 2


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def make_planner(db):
    def _make(city, *, email=""):
        return planner_build(city, name_format="案例规划师{n}", username_prefix="c_planner", email=email)

    return _make


@pytest.fixture
def bj_unit(beijing):
    return unit_of(beijing, BJ_STREET)


@pytest.fixture
def bj_other_unit(beijing):
    return unit_of(beijing, BJ_OTHER_STREET)


@pytest.fixture
def bj_core_unit(beijing):
    return unit_of(beijing, BJ_CORE_STREET)


@pytest.fixture
def pds_unit(pingdingshan):
    return unit_of(pingdingshan, PDS_STREET)


@pytest.fixture
def bj_planner(beijing, bj_unit, city_admin, make_planner, appoint):
    """A Beijing planner serving 万寿路街道's unit today; its account is `bj_planner.user`."""
    planner = make_planner(beijing, email="planner@example.org")
    appoint(city_admin, planner, bj_unit)
    return planner


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 120, 40), exif=None) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def jpeg(name="photo.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("JPEG", **kwargs), content_type="image/jpeg")


def png(name="photo.png", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG", **kwargs), content_type="image/png")


@pytest.fixture
def submit():
    """submit(user, unit, **fields) → a submitted Case through case_submit."""
    from rpms.cases.services import case_submit

    def _submit(user, unit, **fields):
        data = {
            "title": "口袋公园里的社区议事会", "duty_category": unit.city.policy.duty_categories[0]["code"],
            "summary": "组织居民共同设计口袋公园。", "body": BODY,
        }
        data.update(fields)
        return case_submit(actor=user, unit=unit, **data)

    return _submit


@pytest.fixture
def published(submit, city_admin):
    """published(user, unit, **fields) → a case submitted and recommended & published by the city."""
    from rpms.cases.services import case_review

    def _published(user, unit, admin=None, **fields):
        case = submit(user, unit, **fields)
        return case_review(actor=admin or city_admin, case=case, decision="publish", comment="")

    return _published
