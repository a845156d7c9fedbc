"""Every training and finance page renders for the roles that may see it, and refuses the others."""
import pytest
from django.utils import timezone

from rpms.training import services

from .conftest import PDF_BYTES, upload


@pytest.fixture
def live_course(city_admin, beijing):
    course = services.course_create(actor=city_admin, city=beijing, title="年度培训会", hours="4", delivery="live",
                                    session_on=timezone.localdate(), place="市规划展览馆")
    services.course_publish(actor=city_admin, course=course, published=True)
    return course


def test_manager_pages_render(login, city_admin, online_course, live_course, bj_planner):
    client = login(city_admin)
    pdf = online_course.materials.get(kind="document")
    for url in ("/training/records/", "/training/records/new/", "/training/courses/", "/training/courses/new/",
                f"/training/courses/{online_course.pk}/", f"/training/courses/{online_course.pk}/edit/",
                f"/training/courses/{live_course.pk}/", f"/training/materials/{pdf.pk}/",
                f"/training/planners/{bj_planner.pk}/", "/finance/fees/", "/finance/allowances/"):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/training/courses/{live_course.pk}/").content.decode()
    assert "确认出勤" in page and bj_planner.name in page
    assert client.get("/finance/").status_code == 302


def test_auditor_reads_but_does_not_manage(login, auditor, online_course):
    client = login(auditor)
    assert client.get("/training/records/").status_code == 200
    assert client.get("/training/courses/").status_code == 200
    assert client.get("/training/courses/new/").status_code == 403
    assert client.get("/finance/allowances/").status_code == 200
    assert client.get("/finance/fees/").status_code == 200


def test_planner_pages_render(login, bj_planner, online_course):
    client = login(bj_planner.user)
    for url in ("/training/courses/", f"/training/courses/{online_course.pk}/", "/training/records/new/",
                f"/training/planners/{bj_planner.pk}/", "/finance/allowances/", "/finance/fees/"):
        assert client.get(url).status_code == 200, url
    assert client.get("/training/records/").status_code == 403
    assert client.get("/training/courses/new/").status_code == 403
    pdf = online_course.materials.get(kind="document")
    assert client.get(f"/training/materials/{pdf.pk}/").status_code == 404  # not enrolled yet


def test_other_roles_are_refused(login, street_office, district_haidian, online_course):
    for user in (street_office, district_haidian):
        client = login(user)
        assert client.get("/training/").status_code == 403
        assert client.get("/training/courses/").status_code == 403
        assert client.get(f"/training/courses/{online_course.pk}/").status_code == 404
    assert login(street_office).get("/finance/fees/").status_code == 200


def test_material_upload_page_refuses_a_disguised_file_with_a_message(login, city_admin, online_course):
    response = login(city_admin).post(f"/training/courses/{online_course.pk}/",
                                      {"action": "upload", "file": upload("讲义.webm", PDF_BYTES)})
    assert response.status_code == 400 and "文件内容与扩展名不符" in response.content.decode()
