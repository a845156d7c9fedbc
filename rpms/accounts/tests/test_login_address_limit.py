"""Failed logins are limited per client address as well as per account (issue #13): pages, the Django admin
and the token API share one counter per address; the account lockout (5 failures) stays as it was."""
import json

import pytest
from django.test import Client

from rpms.accounts.models import Role, User

pytestmark = pytest.mark.django_db
PASSWORD = "Test-pass-2026!"


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.RPMS_LOGIN_ADDRESS_LIMIT = 3
    settings.RPMS_LOGIN_ADDRESS_WINDOW_SECONDS = 600


@pytest.fixture
def users(db):
    return [User.objects.create_user(f"user{i}", password=PASSWORD, role=Role.CITY_ADMIN) for i in range(5)]


def _page_login(client, username, password, addr="203.0.113.5"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=addr)


def _token(client, username, password, addr="203.0.113.5", **extra):
    return client.post("/api/v1/auth/token", data=json.dumps({"username": username, "password": password}),
                       content_type="application/json", REMOTE_ADDR=addr, **extra)


def _admin_login(client, username, password, addr="203.0.113.5"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=addr)


def test_failures_spread_over_accounts_are_refused_per_address_with_429_in_chinese(client, users):
    # Password spraying: one wrong guess on each of three accounts, no account reaches its own lockout.
    for user in users[:3]:
        assert _page_login(client, user.username, "wrong-Pass-1").status_code == 401
    response = _page_login(client, users[3].username, PASSWORD)  # even the right password: guessing must stop
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert all(u.failed_login_count <= 1 for u in User.objects.all())  # the accounts are not what stopped it

    # Another address is not affected.
    assert _page_login(Client(), users[3].username, PASSWORD, addr="198.51.100.9").status_code == 302


def test_pages_admin_and_the_token_api_count_into_one_limit(client, users):
    assert _page_login(client, "user0", "wrong-Pass-1").status_code == 401
    assert _admin_login(client, "user1", "wrong-Pass-1").status_code == 200  # admin re-shows its form
    assert _token(client, "nobody", "wrong-Pass-1").status_code == 401

    refused = _token(client, "user2", PASSWORD)
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited" and "登录失败次数过多" in body["detail"]
    assert body["details"]["retry_after_seconds"] > 0

    admin = _admin_login(client, "user2", PASSWORD)
    assert admin.status_code == 429
    assert "登录失败次数过多" in admin.content.decode()


def test_successful_logins_are_not_counted(client, users):
    for _ in range(5):
        assert _token(client, "user0", PASSWORD).status_code == 200
    assert _token(client, "user0", "wrong-Pass-1").status_code == 401


def test_attempts_on_a_locked_account_are_counted(client, users, settings):
    settings.RPMS_LOGIN_ADDRESS_LIMIT = 7
    for _ in range(5):
        _token(client, "user0", "wrong-Pass-1")  # the fifth locks user0
    assert User.objects.get(username="user0").is_locked()
    assert User.objects.get(username="user0").is_locked()
    assert _token(client, "user0", "wrong-Pass-1").json()["code"] == "invalid_credentials"
    assert _token(client, "user0", PASSWORD).json()["code"] == "invalid_credentials"  # the 7th failure
    assert _token(client, "user1", PASSWORD).status_code == 429


def test_behind_a_trusted_proxy_the_limit_follows_x_real_ip(client, users, settings):
    settings.RPMS_TRUSTED_PROXIES = ["127.0.0.1"]
    for _ in range(3):
        assert _token(client, "user0", "wrong-Pass-1", addr="127.0.0.1", HTTP_X_REAL_IP="198.51.100.1").status_code == 401
    assert _token(client, "user1", PASSWORD, addr="127.0.0.1", HTTP_X_REAL_IP="198.51.100.1").status_code == 429
    # Another client behind the same proxy is not refused.
    assert _token(client, "user1", PASSWORD, addr="127.0.0.1", HTTP_X_REAL_IP="198.51.100.2").status_code == 200


def test_a_client_cannot_escape_the_limit_by_forging_headers(client, users, settings):
    settings.RPMS_TRUSTED_PROXIES = ["127.0.0.1"]
    for n in range(3):
        _token(client, "user0", "wrong-Pass-1", HTTP_X_REAL_IP=f"10.9.9.{n}", HTTP_X_FORWARDED_FOR=f"10.8.8.{n}")
    assert _token(client, "user1", PASSWORD, HTTP_X_REAL_IP="10.9.9.99").status_code == 429


def test_when_the_shared_cache_is_down_production_refuses_logins_with_503_not_500(client, users, settings, monkeypatch):
    from rpms.core import ratelimit

    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    for name in ("get", "add", "incr", "set"):
        monkeypatch.setattr(ratelimit.cache, name, broken)
    settings.RPMS_RATELIMIT_FAIL_CLOSED = True
    api = _token(client, "user0", PASSWORD)
    assert api.status_code == 503 and api.json()["code"] == "rate_limit_unavailable"
    page = _page_login(client, "user0", PASSWORD)
    assert page.status_code == 503 and "稍后再试" in page.content.decode()

    settings.RPMS_RATELIMIT_FAIL_CLOSED = False  # development: let through, logged
    assert _token(client, "user0", PASSWORD).status_code == 200
