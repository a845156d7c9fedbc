"""Two-factor authentication for staff (issue 16 item 1): TOTP enrolled by a QR code, ten one-time recovery
codes, the code page of the login, `otp` on the token API, the security administrator's reset. Tests turn
RPMS_REQUIRE_2FA on with the settings fixture (production's value); the suite runs with it off."""
import json
import os
import re
import subprocess
import sys
import time
from base64 import b32encode

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from rpms.accounts.twofactor import (
    OTP_REQUIRED_MESSAGE,
    qr_svg,
    reset_two_factor,
    totp_enrolment_confirm,
    totp_enrolment_device,
)
from rpms.core.errors import DomainError
from rpms.core.models import ActionLog
from rpms.testing.builders import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
VERIFY_URL = "/accounts/2fa/verify/"
SETUP_URL = "/accounts/2fa/setup/"
STATE_URL = "/accounts/2fa/"
TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture
def two_factor_on(settings):
    settings.RPMS_REQUIRE_2FA = True
    return settings


@pytest.fixture
def no_backoff(settings):
    """django-otp waits 1, 2, 4 … seconds after a wrong code; tests that try a right code straight after a
    wrong one turn the wait off (the back-off itself is django-otp's, tested there)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the authenticator app shows (steps_ahead=1: the next 30-second code, which the device accepts too:
    a code once used cannot be used again, so a test's second login takes the next one)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """The user enrols as on the page: a pending device, confirmed with the app's current code."""
    device = totp_enrolment_device(user=user)
    return totp_enrolment_confirm(user=user, code=code_for(device))


def password_login(user, **extra) -> tuple[Client, object]:
    client = Client(**extra)
    response = client.post(LOGIN_URL, {"username": user.username, "password": PASSWORD})
    return client, response


def token(username, password=PASSWORD, otp=None, client=None):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return (client or Client()).post(TOKEN_URL, data=json.dumps(body), content_type="application/json")


# --- the login page ----------------------------------------------------------------------------------------


def test_a_staff_login_without_its_code_reaches_nothing_and_with_it_goes_through(two_factor_on, no_backoff, city_admin):
    device, _ = enrol(city_admin)
    client, response = password_login(city_admin)
    assert response.status_code == 302 and response["Location"] == f"{VERIFY_URL}?next=%2F"
    assert client.session[SESSION_KEY] == str(city_admin.pk)  # the password was right ...
    # ... yet every page and API call refuses until the code (deny by default).
    for path in ("/", "/audit/", "/accounts/password/", STATE_URL, "/admin/"):
        held = client.get(path)
        assert held.status_code == 302 and held["Location"].startswith(VERIFY_URL), path
    api = client.get("/api/v1/cities")
    assert api.status_code == 401 and api.json()["code"] == "otp_required" and "两步验证" in api.json()["detail"]
    page = client.get(VERIFY_URL).content.decode()
    assert "动态验证码" in page and 'name="csrfmiddlewaretoken"' in page and "<script" not in page

    wrong = client.post(VERIFY_URL, {"code": "000000" if code_for(device, 1) != "000000" else "111111", "next": "/audit/"})
    assert wrong.status_code == 401 and "验证码不正确" in wrong.content.decode()
    assert client.get("/audit/").status_code == 302

    before = client.session.session_key
    right = client.post(VERIFY_URL, {"code": code_for(device, 1), "next": "/audit/"})
    assert right.status_code == 302 and right["Location"] == "/audit/"
    assert client.session.session_key != before  # a new session id once the login is complete
    assert client.get("/audit/").status_code == 200
    assert client.get("/api/v1/cities").status_code == 200
    login_row = ActionLog.objects.filter(action="accounts.login", object_id=str(city_admin.pk)).latest("pk")
    assert login_row.after["second_factor"] == "totp" and login_row.article == "GB/T 22239-2019 8.1.4.1 d)"
    assert ActionLog.objects.filter(action="accounts.otp_failed", object_id=str(city_admin.pk)).count() == 1


def test_logout_still_works_before_the_code(two_factor_on, auditor):
    enrol(auditor)
    client, _ = password_login(auditor)
    assert client.post("/accounts/logout/").status_code == 302
    assert SESSION_KEY not in client.session
    assert ActionLog.objects.filter(action="accounts.logout", actor=auditor).count() == 1


def test_every_required_role_is_asked_and_planners_and_street_offices_are_not(
    two_factor_on, city_admin, district_haidian, auditor, system_admin, security_admin, audit_admin,
    planner_user, street_office,
):
    for user in (city_admin, district_haidian, auditor, system_admin, security_admin, audit_admin):
        client, response = password_login(user)
        # No confirmed authenticator yet: enrolment first.
        assert response.status_code == 302 and response["Location"].startswith(SETUP_URL), user.role
        assert client.get("/").status_code == 302
    for user in (planner_user, street_office):
        client, response = password_login(user)
        assert response.status_code == 302 and response["Location"] == "/", user.role
        assert client.get("/").status_code == 200
        assert client.get(VERIFY_URL).status_code == 302  # nothing to verify: sent on
        assert token(user.username).status_code == 200  # no code asked on the API either


def test_superusers_are_asked_too(two_factor_on, db):
    from rpms.testing.builders import user_build

    root = user_build("t_root", "", None, is_superuser=True, is_staff=True)
    client, response = password_login(root)
    assert response["Location"].startswith(SETUP_URL)
    assert client.get("/admin/").status_code == 302


def test_when_the_setting_is_off_staff_log_in_with_the_password_only(city_admin):
    assert django_settings.RPMS_REQUIRE_2FA is False  # the test settings, as local development
    enrol(city_admin)
    client, response = password_login(city_admin)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/audit/").status_code == 200
    assert token(city_admin.username).status_code == 200


def test_five_wrong_codes_lock_the_account_and_end_the_session(two_factor_on, no_backoff, district_haidian):
    device, _ = enrol(district_haidian)
    client, _ = password_login(district_haidian)
    bad = "123456" if code_for(device, 1) != "123456" else "654321"
    for _ in range(4):
        assert client.post(VERIFY_URL, {"code": bad}).status_code == 401
    locked = client.post(VERIFY_URL, {"code": bad}, follow=True)
    assert "账户已锁定" in locked.content.decode()
    assert SESSION_KEY not in client.session
    district_haidian.refresh_from_db()
    assert district_haidian.is_locked()
    assert ActionLog.objects.filter(action="accounts.locked", object_id=str(district_haidian.pk)).count() == 1
    # A fresh password login does not reset the count: it stays locked (same answer as any failure).
    _, again = password_login(district_haidian)
    assert again.status_code == 401


# --- enrolment ------------------------------------------------------------------------------------------


def test_enrolment_by_a_qr_code_drawn_here_then_a_first_code(two_factor_on, no_backoff, district_haidian):
    client, response = password_login(district_haidian)
    assert response["Location"].startswith(SETUP_URL)
    page = client.get(SETUP_URL)
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=district_haidian)
    assert page.status_code == 200 and not device.confirmed
    # The QR code is inline SVG made by segno from the otpauth:// URI; the secret is shown for typing by hand.
    assert qr_svg(device) in html and "<svg" in html and "<script" not in html and "http" not in qr_svg(device)
    assert device.config_url.startswith("otpauth://totp/RPMS%3At_district_haidian?")
    secret = b32encode(device.bin_key).decode().rstrip("=")
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert client.get(SETUP_URL).content.decode().count(secret[:4]) >= 1
    assert TOTPDevice.objects.filter(user=district_haidian).count() == 1  # reloading keeps the same secret

    wrong = client.post(SETUP_URL, {"code": "12345"})
    assert wrong.status_code == 400 and "6 位" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    done = client.post(SETUP_URL, {"code": code_for(device)})
    html = done.content.decode()
    assert done.status_code == 200 and "恢复码只显示这一次" in html
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", html)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert set(StaticToken.objects.filter(device__user=district_haidian).values_list("token", flat=True)) == set(codes)
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    row = ActionLog.objects.get(action="accounts.2fa_enrolled")
    assert row.actor_id == district_haidian.pk and row.after["recovery_codes"] == 10
    # The first code completed the login; the codes are never shown again.
    assert client.get("/").status_code == 200
    state = client.get(STATE_URL).content.decode()
    assert "已启用" in state and not any(code in state for code in codes)


def test_enrolment_is_refused_once_a_device_is_confirmed(city_admin):
    enrol(city_admin)
    with pytest.raises(DomainError) as refused:
        totp_enrolment_device(user=city_admin)
    assert refused.value.code == "two_factor_enrolled"


# --- recovery codes -------------------------------------------------------------------------------------


def test_a_recovery_code_works_once_on_the_page(two_factor_on, auditor):
    _, codes = enrol(auditor)
    client, _ = password_login(auditor)
    used = client.post(VERIFY_URL, {"code": codes[0].upper()})  # typed in capitals: still the code
    assert used.status_code == 302
    assert "还剩 9 个" in client.get("/").content.decode()
    row = ActionLog.objects.filter(action="accounts.login", object_id=str(auditor.pk)).latest("pk")
    assert row.after["second_factor"] == "recovery_code"

    again, _ = password_login(auditor)
    refused = again.post(VERIFY_URL, {"code": codes[0]})
    assert refused.status_code == 401
    assert again.get("/").status_code == 302


def test_the_token_api_takes_the_code_in_otp(two_factor_on, no_backoff, city_admin):
    device, codes = enrol(city_admin)
    missing = token(city_admin.username)
    assert missing.status_code == 401
    assert missing.json()["code"] == "otp_required" and missing.json()["detail"] == OTP_REQUIRED_MESSAGE
    assert "动态验证码" in missing.json()["detail"]
    wrong = token(city_admin.username, otp="000000" if code_for(device, 1) != "000000" else "111111")
    assert wrong.status_code == 401 and wrong.json()["code"] == "otp_invalid" and "错误" in wrong.json()["detail"]

    good = token(city_admin.username, otp=code_for(device, 1))
    assert good.status_code == 200 and good.json()["role"] == "city_admin"
    assert Client().get("/api/v1/cities", HTTP_AUTHORIZATION=f"Bearer {good.json()['token']}").status_code == 200
    # Sent as a JSON number (a leading 0 lost on the way) it is still the code.
    assert token(city_admin.username, otp=int(code_for(device, 1))).status_code == 200

    # A recovery code works once.
    assert token(city_admin.username, otp=codes[3]).status_code == 200
    reused = token(city_admin.username, otp=codes[3])
    assert reused.status_code == 401 and reused.json()["code"] == "otp_invalid"

    assert ActionLog.objects.filter(action="accounts.token_otp_missing", object_id=str(city_admin.pk)).count() == 1
    assert ActionLog.objects.filter(action="accounts.token_otp_failed", object_id=str(city_admin.pk)).count() == 2
    # A wrong password still gets the one answer of item 6, code or no code: nothing tells it was the code.
    bad = token(city_admin.username, password="Wrong-pass-2026", otp=code_for(device, 1))
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_credentials"


def test_the_token_api_tells_an_account_without_authenticator_to_enrol_first(two_factor_on, auditor):
    response = token(auditor.username, otp="123456")
    assert response.status_code == 401 and response.json()["code"] == "otp_not_enrolled"
    assert "尚未绑定认证器" in response.json()["detail"]
    assert ActionLog.objects.filter(action="accounts.token_otp_missing", object_id=str(auditor.pk)).exists()


def test_recovery_codes_are_regenerated_after_a_code_and_the_old_ones_stop_working(no_backoff, login, city_admin):
    device, old = enrol(city_admin)
    client = login(city_admin)
    assert "未使用的恢复码：<strong>10</strong>" in client.get(STATE_URL).content.decode()

    refused = client.post(STATE_URL, {"code": "not-a-code"})
    assert refused.status_code == 400 and "恢复码未重新生成" in refused.content.decode()
    assert set(StaticToken.objects.filter(device__user=city_admin).values_list("token", flat=True)) == set(old)

    done = client.post(STATE_URL, {"code": code_for(device, 1)})
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert done.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=city_admin).values_list("token", flat=True)) == set(new)
    assert StaticDevice.objects.filter(user=city_admin).count() == 1
    row = ActionLog.objects.get(action="accounts.2fa_recovery_regenerated")
    assert row.actor_id == city_admin.pk and row.before == {"recovery_codes": 10} and row.after["recovery_codes"] == 10


def test_planners_see_that_they_need_no_second_factor(login, planner_user):
    client = login(planner_user)
    assert "无需两步验证" in client.get(STATE_URL).content.decode()
    assert client.post(STATE_URL, {"code": "123456"}).status_code == 403
    assert client.get(SETUP_URL).status_code == 302
    assert not TOTPDevice.objects.filter(user=planner_user).exists()


# --- reset by the security administrator ------------------------------------------------------------------


def reset_url(user) -> str:
    return f"/accounts/2fa/reset/{user.pk}/"


def test_the_security_administrator_resets_a_users_two_factor(login, security_admin, city_admin, settings):
    from django.urls import reverse

    assert reverse("accounts:twofactor_reset", kwargs={"user_id": city_admin.pk}) == reset_url(city_admin)
    enrol(city_admin)
    client = login(security_admin)
    page = client.get(reset_url(city_admin))
    html = page.content.decode()
    assert page.status_code == 200 and "确认重置两步验证" in html and "已启用" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert Client(enforce_csrf_checks=True).post(reset_url(city_admin)).status_code in (302, 403)
    assert TOTPDevice.objects.filter(user=city_admin).exists()

    done = client.post(reset_url(city_admin), follow=True)
    assert done.status_code == 200 and "已重置" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=city_admin).exists()
    assert not StaticDevice.objects.filter(user=city_admin).exists()
    row = ActionLog.objects.get(action="accounts.2fa_reset")
    assert row.actor_id == security_admin.pk and row.object_id == str(city_admin.pk)
    assert row.before == {"totp_devices": 1, "recovery_codes": 10}

    # At the next login the user enrols again.
    settings.RPMS_REQUIRE_2FA = True
    _, response = password_login(city_admin)
    assert response["Location"].startswith(SETUP_URL)


@pytest.mark.parametrize("persona", ["system_admin", "audit_admin", "city_admin", "auditor", "planner_user"])
def test_nobody_else_may_reset_two_factor(request, login, persona, district_haidian):
    actor = request.getfixturevalue(persona)
    enrol(district_haidian)
    client = login(actor)
    assert client.get(reset_url(district_haidian)).status_code == 403
    assert client.post(reset_url(district_haidian)).status_code == 403
    with pytest.raises(DomainError) as refused:
        reset_two_factor(actor=actor, user=district_haidian)
    assert refused.value.status == 403
    assert TOTPDevice.objects.filter(user=district_haidian, confirmed=True).exists()
    assert not ActionLog.objects.filter(action="accounts.2fa_reset").exists()


def test_a_security_administrator_cannot_reset_their_own(security_admin):
    enrol(security_admin)
    with pytest.raises(DomainError) as refused:
        reset_two_factor(actor=security_admin, user=security_admin)
    assert refused.value.code == "two_factor_self_reset"
    assert TOTPDevice.objects.filter(user=security_admin).exists()


def test_resetting_an_unknown_user_is_a_404(login, security_admin):
    assert login(security_admin).get("/accounts/2fa/reset/987654321/").status_code == 404


# --- settings --------------------------------------------------------------------------------------------


def _settings_under(module: str, extra_env: dict) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"RPMS_REQUIRE_2FA", "DJANGO_SETTINGS_MODULE", "DEBUG"}}
    env.update({"DJANGO_SETTINGS_MODULE": module, **extra_env})
    code = ("from django.conf import settings; "
            "print(settings.RPMS_REQUIRE_2FA, 'django_otp.middleware.OTPMiddleware' in settings.MIDDLEWARE)")
    result = subprocess.run([sys.executable, "-c", code], cwd=django_settings.BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


# production refuses to start without its own data and audit keys (issue #16 items 3 and 4)
PRODUCTION_KEYS = {"RPMS_DATA_KEY": "a-data-key-for-this-test-only-0123456789abcdef",
                   "RPMS_AUDIT_KEY": "an-audit-key-for-this-test-only-0123456789abcdef"}


def test_two_factor_is_on_in_production_and_off_in_development(tmp_path):
    production = {"SECRET_KEY": "production-only-key-for-this-test-0123456789-abcdefghijklmnop",
                  "ALLOWED_HOSTS": "rpms.example.gov.cn", "RPMS_VAR_DIR": str(tmp_path), **PRODUCTION_KEYS}
    assert _settings_under("config.settings.production", production) == ["True", "True"]
    assert _settings_under("config.settings.local", {"RPMS_VAR_DIR": str(tmp_path)}) == ["False", "True"]
    middleware = list(django_settings.MIDDLEWARE)
    auth_at = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    assert middleware[auth_at + 1] == "django_otp.middleware.OTPMiddleware"
    assert middleware[auth_at + 2] == "rpms.accounts.middleware.TwoFactorMiddleware"


def test_check_deploy_warns_when_production_turns_two_factor_off(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"RPMS_REQUIRE_2FA", "DJANGO_SETTINGS_MODULE", "DEBUG"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", "RPMS_VAR_DIR": str(tmp_path),
                "SECRET_KEY": "production-only-key-for-this-test-0123456789-abcdefghijklmnop",
                "ALLOWED_HOSTS": "rpms.example.gov.cn", "RPMS_PUBLIC_BASE_URL": "https://rpms.example.gov.cn",
                "RPMS_REQUIRE_2FA": "0", **PRODUCTION_KEYS})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "accounts.W001" in output and "RPMS_REQUIRE_2FA" in output
