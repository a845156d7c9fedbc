"""Settings split (base / local / production / test), read from the environment.

Settings modules are loaded in subprocesses so that each sees exactly the environment given to it.
"""
import json
import os
import secrets
import subprocess
import sys

from django.conf import settings
from django.db import connection

BASE_DIR = settings.BASE_DIR
# Variables the settings read; the subprocesses start without them unless a test sets them.
SETTINGS_ENV = {
    "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "SESSION_IDLE_SECONDS",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "CSRF_TRUSTED_ORIGINS", "RPMS_VAR_DIR", "RPMS_PUBLIC_BASE_URL",
    # set by the browser tests for their own process (Playwright's loop); a deployment never has it
    "DJANGO_ALLOW_ASYNC_UNSAFE", "DB_CONN_MAX_AGE",
    "RPMS_DATA_KEY", "RPMS_DATA_KEY_PREVIOUS",
    "RPMS_AUDIT_KEY",
}
GOOD_PRODUCTION_ENV = {"ALLOWED_HOSTS": "rpms.example.gov.cn", "RPMS_PUBLIC_BASE_URL": "https://rpms.example.gov.cn"}


def _run(args, env):
    clean = {key: value for key, value in os.environ.items() if key not in SETTINGS_ENV}
    clean.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=120
    )


def _random_secret_key():
    return secrets.token_urlsafe(45)  # 60 characters


def _production_env(**extra):
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": _random_secret_key(),
        "RPMS_DATA_KEY": secrets.token_hex(32),
        "RPMS_AUDIT_KEY": _random_secret_key(),
        **GOOD_PRODUCTION_ENV,
        **extra,
    }


def _load_settings(module, env, names):
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}, default=str))"
    )
    result = _run(["-c", code], {"DJANGO_SETTINGS_MODULE": module, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_suite_runs_on_the_backend_named_by_database_url():
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"

    assert connection.vendor == expected


def test_check_deploy_under_production_settings_reports_no_issues():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output
    assert "security.W" not in output


def test_check_deploy_warns_when_documents_would_print_a_local_verification_address():
    env = _production_env()
    del env["RPMS_PUBLIC_BASE_URL"]  # the development default, http://127.0.0.1:8000

    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    output = result.stdout + result.stderr

    assert result.returncode != 0
    assert "documents.W001" in output and "RPMS_PUBLIC_BASE_URL" in output and "指向本机" in output


def test_the_public_base_url_is_read_from_the_environment_with_a_development_default():
    development = _load_settings("config.settings.test", {}, ["RPMS_PUBLIC_BASE_URL"])
    given = _load_settings("config.settings.test", {"RPMS_PUBLIC_BASE_URL": "https://rpms.example.gov.cn/"},
                           ["RPMS_PUBLIC_BASE_URL"])

    assert development == {"RPMS_PUBLIC_BASE_URL": "http://127.0.0.1:8000"}
    assert given == {"RPMS_PUBLIC_BASE_URL": "https://rpms.example.gov.cn"}


def test_production_refuses_to_start_with_debug_on():
    result = _run(["manage.py", "check"], _production_env(DEBUG="1"))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "生产环境不得开启 DEBUG" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]

    result = _run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "生产环境必须设置至少 50 个字符的随机 SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_the_audit_trail_key():
    env = _production_env()
    del env["RPMS_AUDIT_KEY"]
    missing = _run(["manage.py", "check"], env)
    short = _run(["manage.py", "check"], _production_env(RPMS_AUDIT_KEY="short-key"))

    assert missing.returncode != 0 and short.returncode != 0
    assert "生产环境必须设置至少 32 个字符的随机 RPMS_AUDIT_KEY" in missing.stderr
    assert "RPMS_AUDIT_KEY" in short.stderr


def test_the_audit_trail_key_is_read_from_the_environment_in_production():
    key = _random_secret_key()
    values = _load_settings("config.settings.production", _production_env(RPMS_AUDIT_KEY=key), ["RPMS_AUDIT_KEY"])
    assert values["RPMS_AUDIT_KEY"] == key


def test_production_refuses_a_short_or_repetitive_secret_key():
    for weak in (_random_secret_key()[:49], "ab" * 40):
        result = _run(["-c", "import django; django.setup()"], _production_env(SECRET_KEY=weak))

        assert result.returncode != 0, weak
        assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_django_insecure_key():
    key = "django-insecure-" + _random_secret_key()

    result = _run(["-c", "import django; django.setup()"], _production_env(SECRET_KEY=key))

    assert result.returncode != 0
    assert "django-insecure-" in result.stderr


def test_production_sets_secure_cookies_and_hsts():
    values = _load_settings(
        "config.settings.production",
        {"SECRET_KEY": _random_secret_key(), "RPMS_AUDIT_KEY": _random_secret_key(),
         "ALLOWED_HOSTS": "rpms.example.gov.cn,www.rpms.example.gov.cn"},
        ["DEBUG", "ALLOWED_HOSTS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
         "SECURE_HSTS_SECONDS"],
    )

    assert values == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["rpms.example.gov.cn", "www.rpms.example.gov.cn"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
    }


def test_local_settings_default_to_debug_and_sqlite_under_var(tmp_path):
    values = _load_settings(
        "config.settings.local", {"RPMS_VAR_DIR": str(tmp_path)}, ["DEBUG", "DATABASES", "SECRET_KEY"]
    )

    assert values["DEBUG"] is True
    assert values["DATABASES"]["default"]["ENGINE"] == "rpms.core.sqlite"  # Django's, with a writers' queue
    assert values["DATABASES"]["default"]["NAME"] == str(tmp_path / "db.sqlite3")
    assert values["SECRET_KEY"]


def test_the_development_server_keeps_no_database_connection_after_a_request(tmp_path):
    # runserver answers each request in a new thread: a kept connection would outlive it (PostgreSQL then
    # refuses clients under load, tests/test_concurrency_live.py). An explicit DB_CONN_MAX_AGE still counts.
    url = {"DATABASE_URL": "postgresql://rpms:pw@db.internal:5433/rpms", "RPMS_VAR_DIR": str(tmp_path)}
    assert _load_settings("config.settings.local", url, ["DATABASES"])["DATABASES"]["default"]["CONN_MAX_AGE"] == 0
    assert _load_settings("config.settings.local", {**url, "DB_CONN_MAX_AGE": "30"},
                          ["DATABASES"])["DATABASES"]["default"]["CONN_MAX_AGE"] == 30


def test_settings_read_database_url_session_idle_and_debug_from_the_environment(tmp_path):
    values = _load_settings(
        "config.settings.local",
        {
            "RPMS_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://rpms:pw@db.internal:5433/rpms_prod",
            "SESSION_IDLE_SECONDS": "600",
            "DEBUG": "0",
        },
        ["DEBUG", "DATABASES", "SESSION_COOKIE_AGE"],
    )

    database = values["DATABASES"]["default"]
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_AGE"] == 600
    assert (database["ENGINE"], database["HOST"], database["PORT"], database["NAME"], database["USER"]) == (
        "django.db.backends.postgresql", "db.internal", 5433, "rpms_prod", "rpms"
    )


def test_test_settings_are_not_debug_and_use_a_fast_hasher():
    assert settings.DEBUG is False
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_production_refuses_to_start_without_a_data_key_or_with_the_development_key():
    """Issue #16 item 3 (GB/T 39786-2021): personal data is encrypted under a key from the environment."""
    env = _production_env()
    del env["RPMS_DATA_KEY"]
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "rpms.E020" in result.stderr and "未设置数据加密密钥 RPMS_DATA_KEY" in result.stderr
    development = _load_settings("config.settings.test", {}, ["RPMS_DATA_KEY"])["RPMS_DATA_KEY"]
    result = _run(["manage.py", "check"], _production_env(RPMS_DATA_KEY=development))
    assert result.returncode != 0 and "开发环境的公开密钥" in result.stderr
