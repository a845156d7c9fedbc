"""Logins that do not tell who exists (issue 16 item 6), the audit rows of logins and logouts (item 4), and
registration's "user name taken" answer limited per address."""
import json
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from rpms.accounts.models import User
from rpms.core.models import ActionLog
from rpms.testing.builders import PASSWORD

pytestmark = pytest.mark.django_db

MESSAGE = "用户名或密码错误，或账户已被临时锁定"
LOGIN_URL = "/accounts/login/"
TOKEN_URL = "/api/v1/auth/token"
REGISTER_URL = "/accounts/register/"
REGISTER_API = "/api/v1/accounts/register"


def token(username, password):
    return Client().post(TOKEN_URL, data=json.dumps({"username": username, "password": password}),
                         content_type="application/json")


def page_login(username, password):
    return Client().post(LOGIN_URL, {"username": username, "password": password})


def lock(user):
    for _ in range(5):
        page_login(user.username, "Wrong-pass-2026")
    user.refresh_from_db()
    assert user.is_locked()


def _alert(html: str) -> str:
    return re.search(r'<div class="alert error" role="alert">(.*?)</div>', html, re.S).group(1)


def test_unknown_user_wrong_password_and_locked_account_get_the_same_answer_on_the_api(city_admin, district_haidian):
    lock(district_haidian)
    unknown = token("nobody-here", PASSWORD)
    wrong = token(city_admin.username, "Wrong-pass-2026")
    locked = token(district_haidian.username, PASSWORD)  # the right password, but locked
    assert unknown.status_code == wrong.status_code == locked.status_code == 401
    assert unknown.json() == wrong.json() == locked.json() == {
        "code": "invalid_credentials", "detail": MESSAGE, "message": MESSAGE,
    }


def test_unknown_user_wrong_password_and_locked_account_get_the_same_page(city_admin, district_haidian):
    lock(district_haidian)
    answers = [page_login("nobody-here", PASSWORD), page_login(city_admin.username, "Wrong-pass-2026"),
               page_login(district_haidian.username, PASSWORD)]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert {_alert(a.content.decode()) for a in answers} == {MESSAGE}
    for answer in answers:
        assert "锁定至" not in answer.content.decode() and SESSION_KEY not in answer.wsgi_request.session


def test_every_failed_login_is_audited_an_unknown_user_too(city_admin):
    page_login("ghost-user", "Whatever-2026")
    token("ghost-api", "Whatever-2026")
    rows = ActionLog.objects.filter(action="accounts.login_failed", actor__isnull=True, object_id="")
    assert {(r.object_repr, r.after["reason"]) for r in rows} == {("ghost-user", "unknown_user"),
                                                                 ("ghost-api", "unknown_user")}
    assert all("ghost" in r.summary and r.article == "GB/T 22239-2019 8.1.4.1 b)" for r in rows)

    page_login(city_admin.username, "Wrong-pass-2026")
    wrong = ActionLog.objects.filter(action="accounts.login_failed", object_id=str(city_admin.pk)).get()
    assert wrong.after["reason"] == "password" and wrong.after["failed_login_count"] == 1


def test_a_lockout_and_attempts_on_a_locked_account_are_audited(city_admin):
    lock(city_admin)
    assert ActionLog.objects.filter(action="accounts.locked", object_id=str(city_admin.pk)).count() == 1
    token(city_admin.username, PASSWORD)
    refused = ActionLog.objects.filter(action="accounts.login_failed", object_id=str(city_admin.pk)).latest("pk")
    assert refused.after["reason"] == "locked"


def test_the_lockout_rules_are_unchanged(city_admin):
    for _ in range(4):
        token(city_admin.username, "Wrong-pass-2026")
    city_admin.refresh_from_db()
    assert city_admin.failed_login_count == 4 and not city_admin.is_locked()
    assert token(city_admin.username, PASSWORD).status_code == 200
    city_admin.refresh_from_db()
    assert city_admin.failed_login_count == 0


def test_logout_is_audited(login, planner_user):
    client = login(planner_user)
    client.post("/accounts/logout/")
    row = ActionLog.objects.get(action="accounts.logout")
    assert row.actor_id == planner_user.pk and row.object_id == str(planner_user.pk)
    assert row.article == "GB/T 22239-2019 8.1.4.3"
    Client().post("/accounts/logout/")  # nobody signed in: nothing to record
    assert ActionLog.objects.filter(action="accounts.logout").count() == 1


# --- registration: "user name taken" stays, limited per address ------------------------------------------


def _page_data(**overrides):
    data = {"username": "wangfang", "display_name": "王芳", "email": "", "mobile": "13912345678", "city": "beijing",
            "password1": "Lanhua-2026-guihua", "password2": "Lanhua-2026-guihua"}
    data.update(overrides)
    return data


def test_user_name_checks_are_limited_per_address_and_the_refused_form_keeps_its_input(beijing, city_admin, settings):
    settings.RPMS_REGISTER_RATE_LIMIT = (3, 3600)
    client = Client(REMOTE_ADDR="203.0.113.77")
    for _ in range(3):
        taken = client.post(REGISTER_URL, _page_data(username=city_admin.username))
        assert taken.status_code == 400 and "该用户名已被注册" in taken.content.decode()  # the answer stays
    refused = client.post(REGISTER_URL, _page_data(username="someone-else", display_name="李雷"))
    html = refused.content.decode()
    assert refused.status_code == 429
    assert "操作过于频繁" in html and "同一网络地址每 60 分钟最多提交 3 次注册" in html
    assert 'value="someone-else"' in html and 'value="李雷"' in html and 'value="13912345678"' in html
    assert '<option value="beijing" selected>' in html
    assert "Lanhua-2026-guihua" not in html  # passwords are not sent back
    assert not User.objects.filter(username="someone-else").exists()
    # The API shares the allowance: no more probing of names there either.
    probe = client.post(REGISTER_API, data=json.dumps({"username": city_admin.username, "password": "x",
                                                        "display_name": "x", "mobile": "13912345678", "city": "beijing"}),
                        content_type="application/json")
    assert probe.status_code == 429 and probe.json()["code"] == "rate_limited"
    # Another address is not affected.
    assert Client(REMOTE_ADDR="203.0.113.78").post(REGISTER_URL, _page_data(username=city_admin.username)).status_code == 400


def test_the_default_allows_ten_registration_attempts_an_hour(beijing, city_admin):
    client = Client(REMOTE_ADDR="203.0.113.90")
    for _ in range(10):
        assert client.post(REGISTER_URL, _page_data(username=city_admin.username)).status_code == 400
    assert client.post(REGISTER_URL, _page_data(username=city_admin.username)).status_code == 429
