"""Production settings: refuse to start unsafely; HTTPS-only cookies, HSTS, hashed static files.

Required environment: SECRET_KEY (50+ characters, random), ALLOWED_HOSTS, and normally DATABASE_URL and
REDIS_URL (default redis://127.0.0.1:6379/0: the shared cache and the job queue).
`python manage.py check --deploy` under these settings reports no issues (tests/test_settings.py).
"""
import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import EMAIL_USE_SSL, EMAIL_USE_TLS, REDIS_URL, SECRET_KEY, env_bool, env_list

if env_bool("DEBUG", False):
    raise ImproperlyConfigured("生产环境不得开启 DEBUG（DEBUG must be off in production）。")
DEBUG = False

# The same bar as Django's security.W009, enforced at start-up rather than only by `check --deploy`.
if not SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "生产环境必须设置至少 50 个字符的随机 SECRET_KEY（SECRET_KEY is required: 50+ random characters）。"
    )
if SECRET_KEY.startswith("django-insecure-"):
    raise ImproperlyConfigured("SECRET_KEY 不得使用 Django 自动生成的不安全密钥（django-insecure- keys are refused）。")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The reverse proxy terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# E-mail: SMTP by default in production (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD,
# EMAIL_USE_TLS or EMAIL_USE_SSL, DEFAULT_FROM_EMAIL from the environment; see base.py).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS 与 EMAIL_USE_SSL 只能开启其一（set only one of EMAIL_USE_TLS / EMAIL_USE_SSL）。")

# Shared cache on Redis: every gunicorn worker counts rate limits in one place, and a restart forgets nothing.
# Short socket timeouts: when Redis is down a request waits at most a second before the limiter decides.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "rpms",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": float(os.environ.get("REDIS_CONNECT_TIMEOUT_SECONDS", "1")),
            "SOCKET_TIMEOUT": float(os.environ.get("REDIS_TIMEOUT_SECONDS", "1")),
        },
    }
}
RPMS_REQUIRE_SHARED_CACHE = True
# Redis down: refuse the rate-limited acts (logins, anonymous writes) with 503 rather than let them through
# unlimited; everything else keeps working (sessions live in the database). See rpms.core.ratelimit.
RPMS_RATELIMIT_FAIL_CLOSED = env_bool("RPMS_RATELIMIT_FAIL_CLOSED", True)
# Behind nginx on this machine (deploy/): nginx sets X-Real-IP to the client's address.
RPMS_TRUSTED_PROXIES = env_list("RPMS_TRUSTED_PROXIES", "127.0.0.1,::1,unix")

# Jobs go to Redis for the worker (`manage.py rqworker default --with-scheduler`).
RPMS_JOBS_INLINE = env_bool("RPMS_JOBS_INLINE", False)

# nginx sends private files (`location /_private/ { internal; alias <PRIVATE_MEDIA_ROOT>/; }`).
RPMS_FILE_DELIVERY = os.environ.get("RPMS_FILE_DELIVERY", "x-accel")

# Two-factor authentication (issue 16 item 1): city administrators, district officers, auditors, the three
# administrators and superusers sign in with a password and a code (rpms.accounts.twofactor).
RPMS_REQUIRE_2FA = env_bool("RPMS_REQUIRE_2FA", True)

# --- Personal data encrypted at rest (issue #16 item 3): the key comes from the environment only; a missing key or
# the development key stops the start (rpms.core.checks, rpms.E020). ---
RPMS_DATA_KEY = os.environ.get("RPMS_DATA_KEY", "")
RPMS_REQUIRE_DATA_KEY = True

# --- Tamper-evident audit trail (issue #16 item 4) -----------------------------------------------------------------
# The audit trail's SM3 HMAC key (rpms.core.audit_chain) comes from the environment only: never the development key.
# Changing it makes every row sealed before look tampered with to `audit_verify`: keep it with the backups.
RPMS_AUDIT_KEY = os.environ.get("RPMS_AUDIT_KEY", "")
if len(RPMS_AUDIT_KEY) < 32 or len(set(RPMS_AUDIT_KEY)) < 5:
    raise ImproperlyConfigured(
        "生产环境必须设置至少 32 个字符的随机 RPMS_AUDIT_KEY（操作日志防篡改校验密钥；RPMS_AUDIT_KEY is required: "
        "32+ random characters）。"
    )
