"""Fixtures for training: private media in a temporary folder, planners of both cities, sample files
(a real-looking PDF, MP4 and WebM by their magic bytes) and a published online course."""
from functools import partial

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rpms.testing.builders import planner_build
from rpms.testing.pdfs import tiny_pdf

PASSWORD = "Test-pass-2026!"

PDF_BYTES = tiny_pdf("course handout", padding=2000)
# An ISO base-media header (ftyp box, brand mp42) followed by a recognisable byte pattern.
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 400
WEBM_BYTES = (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
              b"\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02" + b"\x00" * 5000)

make_planner = partial(planner_build, name_format="培训测试规划师{n:03d}", username_prefix="tr_planner", account_named_after_planner=False)


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def bj_planner(beijing):
    return make_planner(beijing, "林清源")


@pytest.fixture
def bj_other_planner(beijing):
    return make_planner(beijing, "周明远")


@pytest.fixture
def pds_planner(pingdingshan):
    return make_planner(pingdingshan, "韩若溪")


@pytest.fixture
def online_course(city_admin, beijing):
    """A published online course of Beijing with a video and a PDF."""
    from rpms.training import services

    course = services.course_create(actor=city_admin, city=beijing, title="街区更新实务", description="线上自学课程",
                                    hours="3.5", delivery="online")
    services.material_add(actor=city_admin, course=course, file=upload("第一讲.mp4", MP4_BYTES), title="第一讲")
    services.material_add(actor=city_admin, course=course, file=upload("讲义.pdf", PDF_BYTES), title="讲义")
    services.course_publish(actor=city_admin, course=course, published=True)
    course.refresh_from_db()
    return course
