"""Training pages and API: a planner's hours page and certificate, declaring, confirming, the course
journey in the browser pages, and the JSON API."""
from decimal import Decimal

from rpms.training import services
from rpms.training.models import CourseMaterial, RecordStatus, TrainingRecord

from .conftest import MP4_BYTES, PDF_BYTES, upload


def test_a_planner_declares_on_the_page_and_the_city_confirms_it(login, bj_planner, city_admin):
    planner_client = login(bj_planner.user)
    home = planner_client.get("/training/")
    assert home.status_code == 302 and home["Location"] == f"/training/planners/{bj_planner.pk}/"
    bad = planner_client.post("/training/records/new/", {"source": "practice", "title": "", "date": "2025-05-01",
                                                         "hours": "2"})
    assert bad.status_code == 400 and "请填写名称" in bad.content.decode()
    done = planner_client.post("/training/records/new/", {
        "source": "practice", "title": "社区花园共建", "date": "2025-05-01", "hours": "2.5",
        "evidence": upload("照片说明.pdf", PDF_BYTES)})
    assert done.status_code == 302
    record = TrainingRecord.objects.get()
    assert record.status == RecordStatus.PENDING and record.evidence_name == "照片说明.pdf"
    admin_client = login(city_admin)
    listing = admin_client.get("/training/records/?status=pending").content.decode()
    assert "社区花园共建" in listing and "1 条申报待确认" in listing
    assert admin_client.get(f"/training/records/{record.pk}/evidence/").status_code == 200
    assert admin_client.post(f"/training/records/{record.pk}/", {"action": "confirm"}).status_code == 302
    record.refresh_from_db()
    assert record.status == RecordStatus.CONFIRMED
    page = planner_client.get(f"/training/planners/{bj_planner.pk}/").content.decode()
    assert "2.5" in page and "已确认" in page


def test_the_planners_page_is_not_shown_to_others(login, bj_planner, bj_other_planner, district_haidian, auditor):
    url = f"/training/planners/{bj_planner.pk}/"
    assert login(bj_other_planner.user).get(url).status_code == 404
    assert login(district_haidian).get(url).status_code == 404
    assert login(auditor).get(url).status_code == 200


def test_the_certificate_is_issued_from_the_page_as_a_pdf(login, bj_planner, city_admin):
    services.training_record_create(actor=city_admin, planner=bj_planner, source="external", title="规划年会",
                                    date="2025-11-02", hours="8")
    client = login(bj_planner.user)
    response = client.post(f"/training/planners/{bj_planner.pk}/certificate/", {"year": "2025"})
    assert response.status_code == 302
    pdf = client.get(response["Location"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_records_export_to_excel(login, bj_planner, city_admin):
    from io import BytesIO

    from openpyxl import load_workbook

    services.training_record_create(actor=city_admin, planner=bj_planner, source="external", title="规划年会",
                                    date="2025-11-02", hours="8")
    response = login(city_admin).get("/training/records/?export=xlsx")
    rows = list(load_workbook(BytesIO(response.content)).active.values)
    assert rows[0][0] == "责任规划师" and rows[1][0] == "林清源" and rows[1][6] == 8


def test_the_course_journey_on_the_pages(login, beijing, city_admin, bj_planner):
    admin = login(city_admin)
    created = admin.post("/training/courses/new/", {"title": "城市设计导则解读", "description": "", "hours": "2",
                                                    "delivery": "online", "session_on": "", "place": ""})
    assert created.status_code == 302
    course_url = created["Location"]
    assert admin.post(course_url, {"action": "upload", "title": "导则视频",
                                   "file": upload("导则.mp4", MP4_BYTES)}).status_code == 302
    refused = admin.post(course_url, {"action": "upload", "file": upload("导则.mp4", b"not a video")})
    assert refused.status_code == 400 and "文件类型不受支持" in refused.content.decode()
    assert admin.post(course_url, {"action": "publish"}).status_code == 302

    planner = login(bj_planner.user)
    listing = planner.get("/training/courses/").content.decode()
    assert "城市设计导则解读" in listing and "未报名" in listing
    assert planner.post(course_url, {"action": "enrol"}).status_code == 302
    early = planner.post(course_url, {"action": "complete"})
    assert early.status_code == 409 and "未学完" in early.content.decode()
    material = CourseMaterial.objects.get()
    page = planner.get(f"/training/materials/{material.pk}/").content.decode()
    assert "<video" in page and f"/training/materials/{material.pk}/file" in page
    assert planner.get(f"/training/materials/{material.pk}/file", HTTP_RANGE="bytes=0-1").status_code == 206
    assert planner.post(f"/training/materials/{material.pk}/").status_code == 302
    assert planner.post(course_url, {"action": "complete"}).status_code == 302
    record = TrainingRecord.objects.get(planner=bj_planner)
    assert record.hours == Decimal(2) and record.source == "course"
    assert "已完成本课程" in planner.get(course_url).content.decode()
    assert planner.post(course_url, {"action": "complete"}).status_code == 409


def test_the_api_for_hours_records_and_courses(client, bearer, online_course, bj_planner, bj_other_planner, city_admin):
    planner_headers = bearer(bj_planner.user)
    admin_headers = bearer(city_admin)
    created = client.post("/api/v1/training/records", {
        "planner": bj_planner.pk, "source": "external", "title": "规划师协会讲座", "date": "2025-03-03", "hours": "3"},
        **planner_headers)
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "pending"
    record_id = created.json()["id"]
    assert client.post(f"/api/v1/training/records/{record_id}/confirm", **planner_headers).status_code == 403
    assert client.post(f"/api/v1/training/records/{record_id}/confirm", **admin_headers).json()["status"] == "confirmed"
    hours = client.get(f"/api/v1/training/hours?planner={bj_planner.pk}&year=2025", **admin_headers).json()
    assert hours["hours"] == "3.0"
    assert client.get(f"/api/v1/training/hours?planner={bj_planner.pk}&year=2025",
                      **bearer(bj_other_planner.user)).status_code == 404

    courses = client.get("/api/v1/training/courses", **planner_headers).json()
    assert [c["title"] for c in courses] == ["街区更新实务"]
    enrol = client.post(f"/api/v1/training/courses/{online_course.pk}/enrol", **planner_headers)
    assert enrol.status_code == 201
    materials = enrol.json()["materials"]
    for material in materials:
        assert client.get(material["file_url"], HTTP_RANGE="bytes=0-3", **planner_headers).status_code == 206
        finished = client.post(f"/api/v1/training/materials/{material['id']}/finish", **planner_headers)
        assert finished.status_code == 200 and finished.json()["finished_at"]
    completed = client.post(f"/api/v1/training/courses/{online_course.pk}/complete", **planner_headers)
    assert completed.status_code == 201 and completed.json()["hours"] == "3.5"
    again = client.post(f"/api/v1/training/courses/{online_course.pk}/complete", **planner_headers)
    assert again.status_code == 409 and again.json()["code"] == "course_already_credited"

    certificate = client.post("/api/v1/training/certificates", {"planner": bj_planner.pk, "year": 2025},
                              content_type="application/json", **planner_headers)
    assert certificate.status_code == 201 and certificate.json()["verification_code"]
    bad = client.post("/api/v1/training/records", {"planner": bj_planner.pk, "source": "practice", "title": "x",
                                                   "date": "2025-03-03", "hours": "-1"}, **planner_headers)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_hours"


def test_uploading_a_material_through_the_api(client, bearer, online_course, city_admin, bj_planner):
    headers = bearer(city_admin)
    ok = client.post(f"/api/v1/training/courses/{online_course.pk}/materials",
                     {"file": upload("补充讲义.pdf", PDF_BYTES), "title": "补充讲义"}, **headers)
    assert ok.status_code == 201 and ok.json()["kind"] == "document"
    refused = client.post(f"/api/v1/training/courses/{online_course.pk}/materials",
                          {"file": upload("补充.pdf", MP4_BYTES)}, **headers)
    assert refused.status_code == 400 and refused.json()["code"] == "upload_type_mismatch"
    forbidden = client.post(f"/api/v1/training/courses/{online_course.pk}/materials",
                            {"file": upload("x.pdf", PDF_BYTES)}, **bearer(bj_planner.user))
    assert forbidden.status_code == 404


def test_with_x_accel_course_videos_are_sent_by_nginx_to_the_entitled_only(
    login, client, bearer, online_course, bj_planner, bj_other_planner, settings
):
    settings.RPMS_FILE_DELIVERY = "x-accel"
    video = online_course.materials.get(content_type="video/mp4")
    services.course_enrol(actor=bj_planner.user, course=online_course)
    for response in (
        login(bj_planner.user).get(f"/training/materials/{video.pk}/file", HTTP_RANGE="bytes=0-1"),
        client.get(f"/api/v1/training/materials/{video.pk}/file", **bearer(bj_planner.user)),
    ):
        assert response.status_code == 200  # nginx answers the Range (206) itself
        assert response["X-Accel-Redirect"] == f"/_private/{video.path}"
        assert response.content == b""
        assert response["Content-Type"] == "video/mp4"
        assert "filename*=UTF-8''%E7%AC%AC%E4%B8%80%E8%AE%B2.mp4" in response["Content-Disposition"]  # 第一讲.mp4
    not_enrolled = login(bj_other_planner.user).get(f"/training/materials/{video.pk}/file")
    assert not_enrolled.status_code == 404 and not not_enrolled.has_header("X-Accel-Redirect")
    api_refused = client.get(f"/api/v1/training/materials/{video.pk}/file", **bearer(bj_other_planner.user))
    assert api_refused.status_code == 404 and not api_refused.has_header("X-Accel-Redirect")
