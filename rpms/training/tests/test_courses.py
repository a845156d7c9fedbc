"""Online training (B22, B23): courses, materials checked by content, enrolment, completion credited once,
video served with Range to the entitled only."""
from decimal import Decimal

import pytest
from django.test import override_settings

from rpms.testing.pdfs import tiny_pdf

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.training import selectors, services
from rpms.training.models import CourseMaterial, Enrolment, TrainingRecord

from .conftest import MP4_BYTES, PDF_BYTES, WEBM_BYTES, upload


def _stream(response) -> bytes:
    return b"".join(response.streaming_content)


def _study_everything(client, planner, course):
    for material in course.materials.all():
        assert client.get(f"/training/materials/{material.pk}/file").status_code == 200
        services.material_finish(actor=planner.user, material=material)


def test_completing_an_online_course_credits_its_hours_once(login, online_course, bj_planner, city_admin):
    services.course_enrol(actor=bj_planner.user, course=online_course)
    with pytest.raises(Conflict) as exc:
        services.course_complete(actor=bj_planner.user, course=online_course)
    assert exc.value.code == "materials_not_finished"
    _study_everything(login(bj_planner.user), bj_planner, online_course)
    record = services.course_complete(actor=bj_planner.user, course=online_course)
    assert (record.source, record.hours, record.status, record.course_id) == ("course", Decimal("3.5"), "confirmed",
                                                                              online_course.pk)
    assert record.confirmed_by is None and record.confirmed_at is not None
    assert selectors.training_hours(bj_planner, record.year) == Decimal("3.5")
    with pytest.raises(Conflict) as again:
        services.course_complete(actor=bj_planner.user, course=online_course)
    assert again.value.code == "course_already_credited"
    assert TrainingRecord.objects.filter(planner=bj_planner).count() == 1
    assert selectors.training_hours(bj_planner, record.year) == Decimal("3.5")
    log = ActionLog.objects.get(action="training.course_complete")
    assert log.article == "B22、B23" and log.city_code == "beijing"


def test_the_database_refuses_a_second_credit_for_the_same_course(online_course, bj_planner):
    from django.db import IntegrityError, transaction

    TrainingRecord.objects.create(city=online_course.city, planner=bj_planner, year=2026, hours=Decimal("3.5"),
                                  source="course", title="x", date="2026-01-05", course=online_course,
                                  status="confirmed", confirmed_at="2026-01-05T00:00:00Z")
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingRecord.objects.create(city=online_course.city, planner=bj_planner, year=2026, hours=Decimal("3.5"),
                                      source="course", title="x", date="2026-01-06", course=online_course,
                                      status="confirmed", confirmed_at="2026-01-06T00:00:00Z")


def test_a_material_can_be_marked_studied_only_after_it_was_delivered(online_course, bj_planner):
    services.course_enrol(actor=bj_planner.user, course=online_course)
    video = online_course.materials.get(kind="video")
    with pytest.raises(Conflict) as exc:
        services.material_finish(actor=bj_planner.user, material=video)
    assert exc.value.code == "material_not_opened"
    progress = services.material_open(actor=bj_planner.user, material=video)
    opened = progress.opened_at
    services.material_open(actor=bj_planner.user, material=video)  # a second Range request changes nothing
    assert ActionLog.objects.filter(action="training.material_open").count() == 1
    progress.refresh_from_db()
    assert progress.opened_at == opened
    services.material_finish(actor=bj_planner.user, material=video)
    with pytest.raises(Conflict):
        services.material_finish(actor=bj_planner.user, material=video)


def test_video_is_served_with_range_to_the_enrolled_planner(login, online_course, bj_planner):
    video = online_course.materials.get(kind="video")
    services.course_enrol(actor=bj_planner.user, course=online_course)
    client = login(bj_planner.user)
    url = f"/training/materials/{video.pk}/file"
    size = len(MP4_BYTES)

    part = client.get(url, HTTP_RANGE="bytes=100-1123")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-1123/{size}"
    assert part["Content-Length"] == "1024" and part["Accept-Ranges"] == "bytes"
    assert part["Content-Type"] == "video/mp4"
    assert _stream(part) == MP4_BYTES[100:1124]

    tail = client.get(url, HTTP_RANGE=f"bytes={size - 10}-")
    assert tail.status_code == 206 and _stream(tail) == MP4_BYTES[-10:]
    suffix = client.get(url, HTTP_RANGE="bytes=-500")
    assert suffix.status_code == 206 and suffix["Content-Range"] == f"bytes {size - 500}-{size - 1}/{size}"
    assert _stream(suffix) == MP4_BYTES[-500:]
    beyond_end = client.get(url, HTTP_RANGE=f"bytes=0-{size * 2}")
    assert beyond_end.status_code == 206 and beyond_end["Content-Range"] == f"bytes 0-{size - 1}/{size}"

    unsatisfiable = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert unsatisfiable.status_code == 416 and unsatisfiable["Content-Range"] == f"bytes */{size}"

    whole = client.get(url)
    assert whole.status_code == 200 and _stream(whole) == MP4_BYTES
    assert whole["X-Content-Type-Options"] == "nosniff"
    stale = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"not-the-etag"')
    assert stale.status_code == 200
    fresh = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=video.etag)
    assert fresh.status_code == 206 and _stream(fresh) == MP4_BYTES[:10]
    several = client.get(url, HTTP_RANGE="bytes=0-9,20-29")
    assert several.status_code == 200

    head = client.head(url, HTTP_RANGE="bytes=0-9")
    assert head.status_code == 206 and head["Content-Length"] == "10"


def test_only_the_entitled_get_the_video(login, anon, online_course, bj_planner, bj_other_planner, pds_planner,
                                         district_haidian, city_admin, auditor, pds_admin):
    video = online_course.materials.get(kind="video")
    url = f"/training/materials/{video.pk}/file"
    assert anon.get(url, HTTP_RANGE="bytes=0-9").status_code == 302  # to the login page
    for user in (bj_other_planner.user, pds_planner.user, district_haidian, pds_admin):
        assert login(user).get(url, HTTP_RANGE="bytes=0-9").status_code == 404, user
    for user in (city_admin, auditor):
        assert login(user).get(url, HTTP_RANGE="bytes=0-9").status_code == 206, user
    services.course_enrol(actor=bj_planner.user, course=online_course)
    assert login(bj_planner.user).get(url, HTTP_RANGE="bytes=0-9").status_code == 206
    services.course_publish(actor=city_admin, course=online_course, published=False)
    assert login(bj_planner.user).get(url, HTTP_RANGE="bytes=0-9").status_code == 404
    assert not Enrolment.objects.filter(planner=bj_other_planner).exists()


def test_the_api_serves_the_video_with_range_to_the_enrolled_only(online_course, bj_planner, bj_other_planner, bearer,
                                                                  client):
    video = online_course.materials.get(kind="video")
    url = f"/api/v1/training/materials/{video.pk}/file"
    assert client.get(url, HTTP_RANGE="bytes=0-9").status_code == 401
    assert client.get(url, HTTP_RANGE="bytes=0-9", **bearer(bj_other_planner.user)).status_code == 404
    services.course_enrol(actor=bj_planner.user, course=online_course)
    response = client.get(url, HTTP_RANGE="bytes=16-31", **bearer(bj_planner.user))
    assert response.status_code == 206 and _stream(response) == MP4_BYTES[16:32]


def test_a_webm_video_and_a_pdf_are_recognised_by_content(online_course, city_admin):
    webm = services.material_add(actor=city_admin, course=online_course, file=upload("第二讲.webm", WEBM_BYTES))
    assert (webm.kind, webm.content_type, webm.title) == ("video", "video/webm", "第二讲")
    pdf = CourseMaterial.objects.get(course=online_course, kind="document")
    assert pdf.content_type == "application/pdf" and pdf.size == len(PDF_BYTES)


@pytest.mark.parametrize("name, content, code", [
    ("病毒.mp4", b"MZ\x90\x00" + b"\x00" * 100, "upload_type_not_allowed"),
    ("页面.pdf", b"<html><body>x</body></html>", "upload_type_not_allowed"),
    ("视频.pdf", MP4_BYTES, "upload_type_mismatch"),
    ("讲义.mp4", PDF_BYTES, "upload_type_mismatch"),
    ("空.pdf", b"", "upload_empty"),
    ("残缺.pdf", b"%PDF-1.4\nno trailer", "upload_corrupt"),
    # issue #16 item 7: a web page between %PDF- and %%EOF, a PDF that runs JavaScript when opened
    ("网页.pdf", b"%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n%%EOF\n", "upload_pdf_active_content"),
    ("脚本.pdf", tiny_pdf(catalog_extra="/OpenAction 4 0 R", objects=("<</S/JavaScript/JS(app.alert(1))>>",)),
     "upload_pdf_active_content"),
    ("影片.mov", b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x00" * 100, "upload_type_not_allowed"),
])
def test_uploads_are_checked_by_their_bytes_and_refusals_leave_no_file(online_course, city_admin, private_media, name,
                                                                       content, code):
    before = {p for p in private_media.rglob("*") if p.is_file()}
    with pytest.raises(DomainError) as exc:
        services.material_add(actor=city_admin, course=online_course, file=upload(name, content))
    assert exc.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)
    assert {p for p in private_media.rglob("*") if p.is_file()} == before
    assert online_course.materials.count() == 2


@override_settings(RPMS_MAX_COURSE_VIDEO_BYTES=1024)
def test_a_video_over_the_size_limit_is_refused(online_course, city_admin):
    with pytest.raises(DomainError) as exc:
        services.material_add(actor=city_admin, course=online_course, file=upload("长视频.mp4", MP4_BYTES))
    assert exc.value.code == "upload_too_large" and "1 KB" in exc.value.message


def test_only_the_city_administrator_manages_courses(beijing, city_admin, district_haidian, auditor, pds_admin, bj_planner):
    with pytest.raises(NotFound):
        services.course_create(actor=district_haidian, city=beijing, title="x", hours="1")
    with pytest.raises(Forbidden):
        services.course_create(actor=auditor, city=beijing, title="x", hours="1")
    with pytest.raises(NotFound):
        services.course_create(actor=pds_admin, city=beijing, title="x", hours="1")
    with pytest.raises(NotFound):
        services.course_create(actor=bj_planner.user, city=beijing, title="x", hours="1")
    course = services.course_create(actor=city_admin, city=beijing, title="规划法规", hours="2")
    log = ActionLog.objects.get(action="training.course_create")
    assert log.article == "B22、B23" and log.object_id == str(course.pk)


def test_an_online_course_without_materials_cannot_be_published(beijing, city_admin):
    course = services.course_create(actor=city_admin, city=beijing, title="空课程", hours="1")
    with pytest.raises(Conflict) as exc:
        services.course_publish(actor=city_admin, course=course, published=True)
    assert exc.value.code == "course_without_materials"


def test_planners_see_only_their_citys_published_courses(online_course, beijing, city_admin, bj_planner, pds_planner):
    draft = services.course_create(actor=city_admin, city=beijing, title="草稿课程", hours="1")
    assert [c.pk for c in selectors.course_list(user=bj_planner.user)] == [online_course.pk]
    assert list(selectors.course_list(user=pds_planner.user)) == []
    assert {c.pk for c in selectors.course_list(user=city_admin)} == {online_course.pk, draft.pk}
    with pytest.raises(NotFound):
        selectors.course_get(user=bj_planner.user, pk=draft.pk)
    with pytest.raises(NotFound):
        services.course_enrol(actor=pds_planner.user, course=online_course)


def test_live_attendance_is_confirmed_by_the_city_and_credited_once(beijing, city_admin, bj_planner, bj_other_planner,
                                                                    pds_planner):
    from django.utils import timezone

    course = services.course_create(actor=city_admin, city=beijing, title="责任规划师年度培训会", hours="4",
                                    delivery="live", session_on=timezone.localdate(), place="市规划展览馆")
    services.course_publish(actor=city_admin, course=course, published=True)
    services.course_enrol(actor=bj_planner.user, course=course)
    with pytest.raises(Conflict) as exc:
        services.course_complete(actor=bj_planner.user, course=course)
    assert exc.value.code == "course_is_live"
    with pytest.raises(DomainError):
        services.course_attendance_confirm(actor=city_admin, course=course, planners=[pds_planner.pk])
    records = services.course_attendance_confirm(actor=city_admin, course=course,
                                                 planners=[bj_planner.pk, bj_other_planner.pk])
    assert {r.planner_id for r in records} == {bj_planner.pk, bj_other_planner.pk}
    assert all(r.confirmed_by == city_admin and r.hours == Decimal(4) for r in records)
    with pytest.raises(Conflict) as again:
        services.course_attendance_confirm(actor=city_admin, course=course, planners=[bj_planner.pk])
    assert again.value.code == "course_already_credited"
    assert TrainingRecord.objects.filter(course=course).count() == 2
    assert ActionLog.objects.filter(action="training.course_attendance_confirm").count() == 1


def test_course_list_keeps_a_constant_query_count(beijing, city_admin, bj_planner, django_assert_max_num_queries):
    for i in range(6):
        course = services.course_create(actor=city_admin, city=beijing, title=f"课程{i}", hours="1")
        services.material_add(actor=city_admin, course=course, file=upload(f"讲义{i}.pdf", PDF_BYTES))
        services.course_publish(actor=city_admin, course=course, published=True)
        services.course_enrol(actor=bj_planner.user, course=course)
    with django_assert_max_num_queries(3):
        rows = [(c.title, c.city.code, c.material_count, c.my_enrolment[0].pk if c.my_enrolment else None)
                for c in selectors.course_list(user=bj_planner.user)]
    assert len(rows) == 6 and all(r[3] for r in rows)


def test_course_list_counts_materials_and_enrolments_per_course_exactly(login, online_course, beijing, city_admin,
                                                                        bj_planner, bj_other_planner):
    # issue #15: counted per listed course (subqueries), not over the product of materials and enrolments
    services.course_enrol(actor=bj_planner.user, course=online_course)
    services.course_enrol(actor=bj_other_planner.user, course=online_course)
    _study_everything(login(bj_planner.user), bj_planner, online_course)
    services.course_complete(actor=bj_planner.user, course=online_course)
    empty = services.course_create(actor=city_admin, city=beijing, title="空课程", hours="1")
    rows = {c.pk: (c.material_count, c.enrolment_count, c.completed_count)
            for c in selectors.course_list(user=city_admin)}
    assert rows[online_course.pk] == (2, 2, 1) and rows[empty.pk] == (0, 0, 0)

