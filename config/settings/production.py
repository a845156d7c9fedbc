"""Production settings: refuse to start unsafely; HTTPS-only cookies, HSTS, hashed static files.

Required environment: SECRET_KEY (50+ characters, random), ALLOWED_HOSTS, and normally DATABASE_URL.
`python manage.py check --deploy` under these settings reports no issues (tests/test_settings.py).
"""
import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import EMAIL_USE_SSL, EMAIL_USE_TLS, SECRET_KEY, env_bool

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
