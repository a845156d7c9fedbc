"""Fixtures for public information: pool members with fictional but well-formed ID numbers and mobiles
(so tests can prove they never reach a public page), appointments made and filed through the real
services."""
from functools import partial

import pytest
from django.utils import timezone

from rpms.testing.builders import planner_build, unit_of
from rpms.testing.pdfs import TINY_PDF


SECRET_ID = "110108199001011234"
SECRET_MOBILE = "13912345678"

make_planner = partial(planner_build, name_format="公开测试规划师{n:03d}", username_prefix="pi_planner", employer="虚构城市规划设计研究院", id_number="11010819900101{n:04d}", mobile="139{n:08d}")


@pytest.fixture
def appoint(city_admin, pds_admin):
    """appoint(unit, planner=None, filed=True, start=today) → an appointment made (and its signed contract
    filed) through the city's path (rpms.testing.builders): Beijing's entity proposes, the district approves
    and files (the city administrator files here); Pingdingshan's bureau appoints, and its signed contract
    files at once."""
    from rpms.testing.builders import appointment_build

    def _appoint(unit, planner=None, *, filed=True, start=None, role=None):
        actor = city_admin if unit.city.code == "beijing" else pds_admin
        planner = planner or make_planner(unit.city)
        role = role or unit.city.policy.roles[0]["code"]
        return appointment_build(unit=unit, planner=planner, role=role, start=start or timezone.localdate(),
                                 actor=actor, filed=filed, filer=actor)

    return _appoint


@pytest.fixture
def wanshou(beijing):
    return unit_of(beijing, "110108001")


@pytest.fixture
def pdf_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    def _make(name="公告附件.pdf"):
        content = TINY_PDF
        return SimpleUploadedFile(name, content, content_type="application/pdf")

    return _make


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
