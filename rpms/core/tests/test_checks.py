"""rpms.E010: production settings refuse a process-local cache (rate limits must be shared by all workers)."""
import os
import secrets
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from django.core import checks
from django.test import override_settings

from rpms.core.checks import check_shared_cache

REDIS = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/0"}}


def _ids(messages):
    return [m.id for m in messages]


@pytest.mark.parametrize("backend", [
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
])
def test_production_refuses_a_process_local_cache(backend):
    with override_settings(RPMS_REQUIRE_SHARED_CACHE=True, CACHES={"default": {"BACKEND": backend, "LOCATION": "/tmp/x"}}):
        errors = check_shared_cache(None)
        assert _ids(errors) == ["rpms.E010"]
        assert errors[0].is_serious()
        assert "Redis" in errors[0].msg and "进程" in errors[0].msg
        # registered: `manage.py check` runs it
        assert "rpms.E010" in _ids(checks.run_checks(tags=[checks.Tags.caches]))


def test_production_accepts_redis():
    with override_settings(RPMS_REQUIRE_SHARED_CACHE=True, CACHES=REDIS):
        assert check_shared_cache(None) == []


def test_development_and_tests_keep_the_local_cache():
    assert settings.RPMS_REQUIRE_SHARED_CACHE is False
    assert "LocMemCache" in settings.CACHES["default"]["BACKEND"]
    assert check_shared_cache(None) == []


def _run(args, env, cwd):
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG"}}
    clean.update(env)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=120)


def test_the_wsgi_application_refuses_to_start_with_a_local_cache_under_production_settings(tmp_path):
    (tmp_path / "local_cache_production.py").write_text(textwrap.dedent("""
        from config.settings.production import *  # noqa
        CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    """))
    env = {
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{settings.BASE_DIR}",
        "SECRET_KEY": secrets.token_urlsafe(45),
        "RPMS_DATA_KEY": secrets.token_hex(32),  # issue #16: production refuses to start without it (rpms.E020)
        "RPMS_AUDIT_KEY": secrets.token_urlsafe(45),
        "ALLOWED_HOSTS": "rpms.example.gov.cn",
        "RPMS_PUBLIC_BASE_URL": "https://rpms.example.gov.cn",
        "RPMS_VAR_DIR": str(tmp_path / "var"),
    }
    refused = _run(["-c", "import config.wsgi"], {**env, "DJANGO_SETTINGS_MODULE": "local_cache_production"}, settings.BASE_DIR)
    assert refused.returncode != 0
    assert "rpms.E010" in refused.stderr

    started = _run(["-c", "import config.wsgi"], {**env, "DJANGO_SETTINGS_MODULE": "config.settings.production"},
                   settings.BASE_DIR)
    assert started.returncode == 0, started.stderr
