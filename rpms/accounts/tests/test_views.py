"""Login, logout and password-change pages."""
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from rpms.accounts.models import Role, User
from rpms.core.models import ActionLog

pytestmark = pytest.mark.django_db

PASSWORD = "Pw-for-tests-123"
LOGIN_URL = "/accounts/login/"
PASSWORD_URL = "/accounts/password/"


@pytest.fixture
def officer(db):
    from rpms.cities.models import City

    city = City.objects.create(code="beijing", name="北京市")
    return User.objects.create_user(username="hd_officer", password=PASSWORD, role=Role.DISTRICT_OFFICER, city=city,
                                    display_name="海淀区工作人员")


def test_login_form_carries_a_csrf_token(client):
    html = client.get(LOGIN_URL).content.decode()
    form = re.search(r'<form method="post".*?</form>', html, re.S)
    assert form is not None
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    assert 'name="username"' in form.group(0) and 'name="password"' in form.group(0)
    assert '<html lang="zh-Hans">' in html


def test_login_without_csrf_token_is_refused():
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(LOGIN_URL, {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_wrong_password_is_a_401_with_a_chinese_error(client, officer):
    response = client.post(LOGIN_URL, {"username": "hd_officer", "password": "wrong-password"})
    html = response.content.decode()
    assert response.status_code == 401
    assert "用户名或密码错误，或账户已被临时锁定" in html
    assert 'class="alert error"' in html
    assert 'value="hd_officer"' in html  # the user name is kept for the retry
    assert SESSION_KEY not in client.session


def test_correct_login_cycles_the_session_and_goes_home(client, officer):
    client.get(LOGIN_URL)
    client.session.save()
    before = client.session.session_key
    response = client.post(LOGIN_URL, {"username": "hd_officer", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session[SESSION_KEY] == str(officer.pk)
    assert client.session.session_key != before


def test_login_follows_a_local_next_but_not_an_external_one(client, officer):
    ok = client.post(LOGIN_URL + "?next=/audit/", {"username": "hd_officer", "password": PASSWORD})
    assert ok["Location"] == "/audit/"
    client.logout()
    evil = client.post(LOGIN_URL, {"username": "hd_officer", "password": PASSWORD, "next": "https://evil.example/"})
    assert evil["Location"] == "/"


def test_a_locked_account_is_refused_with_the_one_failure_message(client, officer):
    for _ in range(5):
        client.post(LOGIN_URL, {"username": "hd_officer", "password": "wrong-password"})
    response = client.post(LOGIN_URL, {"username": "hd_officer", "password": PASSWORD})
    assert response.status_code == 401
    assert "用户名或密码错误，或账户已被临时锁定" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_logout_requires_post_and_ends_the_session(client, officer):
    client.force_login(officer)
    assert client.get("/accounts/logout/").status_code == 405
    assert SESSION_KEY in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_password_change_requires_login(client):
    response = client.get(PASSWORD_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_password_change_page_explains_the_rules_in_chinese(client, officer):
    client.force_login(officer)
    html = client.get(PASSWORD_URL).content.decode()
    assert "当前密码" in html and "新密码" in html and "确认新密码" in html
    assert "密码至少 12 位" in html
    assert "小写字母、大写字母、数字、符号中的至少 3 类" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_a_weak_new_password_is_refused_with_chinese_reasons(client, officer):
    client.force_login(officer)
    response = client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password1": "abcdefghijkl", "new_password2": "abcdefghijkl"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "密码须至少包含小写字母、大写字母、数字、符号中的 3 类" in html
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)


def test_a_short_new_password_is_refused(client, officer):
    client.force_login(officer)
    response = client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password1": "Ab1!xyz", "new_password2": "Ab1!xyz"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "密码太短，至少需要 12 个字符。" in html
    assert "too short" not in html
    assert "确认新密码" in html  # Chinese labels survive validation
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)


def test_a_wrong_current_password_is_refused(client, officer):
    client.force_login(officer)
    response = client.post(PASSWORD_URL, {"old_password": "not-it", "new_password1": "Brand-new-Pass-2026", "new_password2": "Brand-new-Pass-2026"})
    assert response.status_code == 400
    assert "当前密码不正确" in response.content.decode()
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)


def test_mismatched_new_passwords_are_refused_in_chinese(client, officer):
    client.force_login(officer)
    response = client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password1": "Brand-new-Pass-2026", "new_password2": "Brand-new-Pass-2027"})
    assert response.status_code == 400
    assert "两次输入的新密码不一致" in response.content.decode()


def test_password_change_keeps_the_session_is_audited_and_confirms(client, officer):
    client.force_login(officer)
    response = client.post(
        PASSWORD_URL,
        {"old_password": PASSWORD, "new_password1": "Brand-new-Pass-2026", "new_password2": "Brand-new-Pass-2026"},
        follow=True,
    )
    officer.refresh_from_db()
    assert officer.check_password("Brand-new-Pass-2026")
    assert SESSION_KEY in client.session  # still signed in
    html = response.content.decode()
    assert 'class="alert success"' in html and "密码已修改" in html
    log = ActionLog.objects.get(action="accounts.password_change")
    assert log.actor_id == officer.pk
    assert log.city_code == "beijing"
    assert "Brand-new-Pass-2026" not in str(log.before) + str(log.after)
