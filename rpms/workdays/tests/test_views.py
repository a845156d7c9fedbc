import pytest

from rpms.core.models import ActionLog
from rpms.workdays.models import CalendarYear

from .notices import NOTICE_2026, NOTICE_2027_INVENTED

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login(client):
    for url in ("/workdays/", "/workdays/enter/", "/workdays/2026/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_enter_page_is_refused_for_a_district_officer(client, district_officer):
    client.force_login(district_officer)
    assert client.get("/workdays/enter/").status_code == 403
    response = client.post(
        "/workdays/enter/",
        {"year": "2027", "source": "测试", "notice_text": NOTICE_2027_INVENTED, "action": "confirm"},
    )
    assert response.status_code == 403
    assert not CalendarYear.objects.exists()
    assert client.get("/workdays/").status_code == 403


def test_year_list_shows_sources_and_provisional_years(client, city_admin, entered_2027):
    client.force_login(city_admin)
    response = client.get("/workdays/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "2024 年" in html and "2027 年" in html
    assert "已录入" in html and "测试用通知（虚构）" in html
    assert "已公布" in html


def test_enter_previews_then_saves_on_confirm(client, city_admin):
    client.force_login(city_admin)
    data = {"year": "2027", "source": "测试用通知（虚构）", "notice_text": NOTICE_2027_INVENTED, "action": "preview"}
    preview = client.post("/workdays/enter/", data)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "识别结果" in html and "2027-02-05 至 2027-02-13，共 9 天" in html
    assert not CalendarYear.objects.exists()  # nothing saved before confirmation

    saved = client.post("/workdays/enter/", {**data, "action": "confirm"})
    assert saved.status_code == 302
    assert saved["Location"] == "/workdays/2027/?saved=1"
    assert CalendarYear.objects.get(year=2027).days.count() == 35
    assert ActionLog.objects.filter(action="workdays.year_enter").count() == 1

    detail = client.get(saved["Location"])
    assert "已保存 2027 年节假日安排" in detail.content.decode()
    assert "春节假期（含周末）" in detail.content.decode()


def test_enter_shows_the_parse_error_in_chinese(client, city_admin):
    client.force_login(city_admin)
    response = client.post(
        "/workdays/enter/", {"year": "2027", "source": "测试", "notice_text": NOTICE_2026, "action": "preview"}
    )
    assert response.status_code == 400
    assert "与所填年度 2027 年不一致" in response.content.decode()
    assert not CalendarYear.objects.exists()


def test_delete_page_removes_an_entered_year(client, city_admin, entered_2027):
    client.force_login(city_admin)
    response = client.post("/workdays/2027/delete/")
    assert response.status_code == 302
    assert not CalendarYear.objects.exists()
    assert "已删除录入的 2027 年" in client.get(response["Location"]).content.decode()


def test_calculator_is_public_and_shows_how_the_date_was_computed(client):
    response = client.get("/workdays/calculator/", {"start": "2026-02-13", "days": "5"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026-02-26" in html
    assert "春节假期（含周末）" in html and "调休上班日（春节）" in html


def test_calculator_reports_bad_input_in_chinese(client):
    response = client.get("/workdays/calculator/", {"start": "2026-02-30", "days": "5"})
    assert response.status_code == 400
    assert "不是存在的日期" in response.content.decode()


def test_admin_shows_entered_years_read_only(client, entered_2027, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "Zz-test-password-1")
    client.force_login(superuser)
    listing = client.get("/admin/workdays/calendaryear/")
    assert listing.status_code == 200
    assert "测试用通知（虚构）" in listing.content.decode()
    assert client.get("/admin/workdays/calendaryear/add/").status_code == 403
    assert client.get(f"/admin/workdays/calendaryear/{entered_2027.pk}/delete/").status_code == 403
