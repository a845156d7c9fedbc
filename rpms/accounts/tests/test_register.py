"""Self-registration of planner accounts: the service, POST /api/v1/accounts/register and the page."""

import json
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client

from rpms.accounts.models import Role, User
from rpms.accounts.services import planner_account_register
from rpms.core.errors import DomainError
from rpms.core.models import ActionLog

API_URL = "/api/v1/accounts/register"
PAGE_URL = "/accounts/register/"
GOOD_PASSWORD = "Lanhua-2026-guihua"


@pytest.fixture(autouse=True)
def empty_cache():
    # The rate limiter counts in the cache; every test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def cities(beijing, pingdingshan):
    return {"beijing": beijing, "pingdingshan": pingdingshan}


def payload(**overrides):
    data = {
        "username": "wangfang",
        "password": GOOD_PASSWORD,
        "display_name": "王芳",
        "email": "wangfang@example.com",
        "mobile": "+86 139-1234-5678",
        "city": "beijing",
    }
    data.update(overrides)
    return data


def api_post(client, data, **extra):
    return client.post(API_URL, data=json.dumps(data), content_type="application/json", **extra)


def has_chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


# --- service ---------------------------------------------------------------------------------------


def test_the_service_creates_an_active_planner_with_exactly_one_audit_row(cities):
    before = ActionLog.objects.count()
    user = planner_account_register(
        username="liwei",
        password=GOOD_PASSWORD,
        display_name=" 李伟 ",
        email="",
        mobile="13812345678",
        city=cities["pingdingshan"],
    )
    assert user.role == Role.PLANNER and user.city == cities["pingdingshan"] and user.is_active
    assert user.display_name == "李伟"
    assert not user.is_staff and not user.is_superuser
    assert user.check_password(GOOD_PASSWORD)
    assert ActionLog.objects.count() == before + 1
    row = ActionLog.objects.latest("pk")
    assert row.action == "accounts.user_create" and row.object_id == str(user.pk)
    assert row.after["role"] == Role.PLANNER and row.after["city"] == "pingdingshan"


def test_the_mobile_number_is_checked_but_not_kept(cities):
    user = planner_account_register(
        username="liwei", password=GOOD_PASSWORD, display_name="李伟", email="", mobile="13812345678", city="beijing"
    )
    row = ActionLog.objects.get(action="accounts.user_create", object_id=str(user.pk))
    assert "13812345678" not in json.dumps(row.after, ensure_ascii=False)
    assert "13812345678" not in json.dumps(list(User.objects.filter(pk=user.pk).values()), default=str)


def test_user_names_are_unique_regardless_of_case(cities):
    planner_account_register(
        username="WangFang", password=GOOD_PASSWORD, display_name="王芳", email="", mobile="13812345678", city="beijing"
    )
    with pytest.raises(DomainError) as info:
        planner_account_register(
            username="wangfang",
            password=GOOD_PASSWORD,
            display_name="王芳",
            email="",
            mobile="13812345678",
            city="beijing",
        )
    assert info.value.status == 409 and info.value.code == "username_taken"
    assert User.objects.filter(username__iexact="wangfang").count() == 1


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("username", "", "invalid_username"),
        ("username", "wang fang", "invalid_username"),
        ("username", "a" * 151, "invalid_username"),
        ("display_name", "  ", "invalid_display_name"),
        ("display_name", "王" * 101, "invalid_display_name"),
        ("email", "not-an-email", "invalid_email"),
        ("email", "a" * 250 + "@example.com", "invalid_email"),
        ("mobile", "12345", "invalid_mobile"),
        ("mobile", "", "invalid_mobile"),
        ("city", "", "invalid_city"),
        ("city", "shanghai", "invalid_city"),
        ("password", "short", "weak_password"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_nothing_is_saved(cities, field, value, code):
    users, logs = User.objects.count(), ActionLog.objects.count()
    with pytest.raises(DomainError) as info:
        planner_account_register(**payload(**{field: value}))
    assert info.value.status == 400 and info.value.code == code
    assert has_chinese(info.value.message)
    assert (User.objects.count(), ActionLog.objects.count()) == (users, logs)


def test_an_inactive_city_is_not_open_for_registration(cities):
    cities["pingdingshan"].is_active = False
    cities["pingdingshan"].save()
    with pytest.raises(DomainError) as info:
        planner_account_register(**payload(city="pingdingshan"))
    assert info.value.code == "invalid_city"


# --- API -------------------------------------------------------------------------------------------


def test_registering_through_the_api_creates_a_planner_account(cities, client):
    logs = ActionLog.objects.count()
    response = api_post(client, payload())
    assert response.status_code == 201, response.content
    user = User.objects.get(username="wangfang")
    assert response.json() == {"id": user.pk, "username": "wangfang", "role": "planner", "city": "beijing"}
    assert user.role == Role.PLANNER and user.city == cities["beijing"] and user.email == "wangfang@example.com"
    rows = ActionLog.objects.filter(pk__gt=0).order_by("pk")[logs:]
    assert [r.action for r in rows] == ["accounts.user_create"]
    assert rows[0].ip == "127.0.0.1"


def test_the_new_account_can_obtain_an_api_token(cities, client):
    api_post(client, payload())
    response = client.post(
        "/api/v1/auth/token",
        data=json.dumps({"username": "wangfang", "password": GOOD_PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["role"] == "planner"


def test_a_taken_user_name_is_a_409_in_chinese(cities, client, city_admin):
    response = api_post(client, payload(username=city_admin.username.upper()))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "username_taken"
    assert body["detail"] == body["message"] == "该用户名已被注册，请换一个用户名。"
    assert not User.objects.filter(username=city_admin.username.upper()).exists()


@pytest.mark.parametrize(
    "password,expected",
    [("short", "密码太短"), ("wangfang2026", "相似"), ("password1234", "太常见"), ("123456789012345", "数字")],
)
def test_a_weak_password_is_a_400_naming_the_rule(cities, client, password, expected):
    response = api_post(client, payload(password=password))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "weak_password" and expected in body["detail"]
    assert not User.objects.filter(username="wangfang").exists()


def test_a_bad_mobile_number_is_a_400(cities, client):
    response = api_post(client, payload(mobile="0551-1234567"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_mobile" and "手机号码" in response.json()["detail"]


def test_an_unknown_city_is_a_400(cities, client):
    response = api_post(client, payload(city="atlantis"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_city" and "atlantis" in response.json()["detail"]


def test_a_missing_field_is_refused_in_chinese(cities, client):
    data = payload()
    del data["mobile"]
    response = api_post(client, data)
    assert 400 <= response.status_code < 500
    assert has_chinese(response.json()["detail"])


def test_the_role_cannot_be_chosen_by_the_caller(cities, client):
    response = api_post(client, {**payload(), "role": "city_admin", "is_superuser": True})
    assert response.status_code == 201
    user = User.objects.get(username="wangfang")
    assert user.role == Role.PLANNER and not user.is_superuser


def test_registration_attempts_are_rate_limited_per_address(cities, settings):
    settings.RPMS_REGISTER_RATE_LIMIT = (3, 3600)
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [api_post(client, payload(username=f"user{i}", mobile="12")).status_code for i in range(3)]
    assert statuses == [400, 400, 400]  # failed attempts count too
    response = api_post(client, payload())
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and response.json()["detail"] == "操作过于频繁，请稍后再试。"
    assert not User.objects.filter(username="wangfang").exists()
    other = Client(REMOTE_ADDR="203.0.113.10")
    assert api_post(other, payload()).status_code == 201


def test_the_default_limit_is_ten_attempts_an_hour(cities):
    client = Client(REMOTE_ADDR="198.51.100.20")
    for i in range(10):
        assert api_post(client, payload(username=f"planner{i}")).status_code == 201
    assert api_post(client, payload(username="planner10")).status_code == 429


# --- page ------------------------------------------------------------------------------------------


def page_data(**overrides):
    data = payload(**overrides)
    password = data.pop("password")
    data.setdefault("password1", password)
    data.setdefault("password2", password)
    return data


def test_the_page_shows_a_chinese_form_with_csrf_password_rules_and_cities(cities, client):
    response = client.get(PAGE_URL)
    assert response.status_code == 200
    html = response.content.decode()
    form = re.search(r'<form method="post".*?</form>', html, re.S).group(0)
    assert 'name="csrfmiddlewaretoken"' in form
    for name in ("username", "display_name", "mobile", "email", "city", "password1", "password2"):
        assert f'name="{name}"' in form
    assert "注册责任规划师账户" in html and "密码要求" in html
    assert "密码至少 12 个字符" in html
    assert (
        '<option value="beijing">北京市</option>' in html and '<option value="pingdingshan">平顶山市</option>' in html
    )


def test_the_login_page_links_to_registration(cities, client):
    assert 'href="/accounts/register/"' in client.get("/accounts/login/").content.decode()


def test_registering_on_the_page_logs_in_and_goes_home_with_a_message(cities, client):
    logs = ActionLog.objects.count()
    response = client.post(PAGE_URL, page_data())
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(username="wangfang")
    assert user.role == Role.PLANNER and user.city.code == "beijing"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert ActionLog.objects.count() == logs + 1
    home = client.get("/").content.decode()
    assert "注册成功" in home and "王芳" in home


def test_a_refused_page_keeps_the_input_but_not_the_passwords(cities, client):
    response = client.post(PAGE_URL, page_data(password1="weak", password2="weak", mobile="138 1234 5678"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "密码太短" in html
    assert 'value="wangfang"' in html and 'value="王芳"' in html and 'value="138 1234 5678"' in html
    assert '<option value="beijing" selected>' in html
    assert 'value="weak"' not in html
    assert not User.objects.filter(username="wangfang").exists()
    assert SESSION_KEY not in client.session


def test_mismatched_passwords_are_refused_on_the_page(cities, client):
    response = client.post(PAGE_URL, page_data(password2=GOOD_PASSWORD + "x"))
    assert response.status_code == 400
    assert "两次输入的密码不一致。" in response.content.decode()
    assert not User.objects.filter(username="wangfang").exists()


def test_a_taken_user_name_is_shown_next_to_the_field(cities, client, city_admin):
    response = client.post(PAGE_URL, page_data(username=city_admin.username))
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_username_errors"><li>该用户名已被注册，请换一个用户名。</li>', html)


def test_a_bad_mobile_and_an_unknown_city_are_refused_on_the_page(cities, client):
    response = client.post(PAGE_URL, page_data(mobile="12345", city="atlantis"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "手机号码格式不正确" in html and "所选城市不存在或尚未开通责任规划师申请。" in html


def test_the_page_refuses_a_post_without_csrf_token(cities):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(PAGE_URL, page_data()).status_code == 403
    assert not User.objects.filter(username="wangfang").exists()


def test_the_page_is_rate_limited_with_a_chinese_429(cities, settings):
    settings.RPMS_REGISTER_RATE_LIMIT = (2, 3600)
    client = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(2):
        assert client.post(PAGE_URL, page_data(mobile="1")).status_code == 400
    response = client.post(PAGE_URL, page_data())
    assert response.status_code == 429
    assert "操作过于频繁，请稍后再试。" in response.content.decode()
    assert not User.objects.filter(username="wangfang").exists()
    assert client.get(PAGE_URL).status_code == 200  # looking at the form is not limited


def test_the_page_and_the_api_share_one_allowance(cities, settings):
    settings.RPMS_REGISTER_RATE_LIMIT = (1, 3600)
    client = Client(REMOTE_ADDR="203.0.113.60")
    assert client.post(PAGE_URL, page_data(mobile="1")).status_code == 400
    assert api_post(client, payload()).status_code == 429


def test_a_signed_in_user_is_sent_home(cities, login, planner_user):
    client = login(planner_user)
    response = client.get(PAGE_URL)
    assert response.status_code == 302 and response["Location"] == "/"
