"""Test settings: fast hashing, in-memory e-mail, no DEBUG."""
from .base import *  # noqa: F401,F403

SECRET_KEY = "test-only-key-rpms-not-secret-0123456789-abcdefghijklmnop"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise expects it)

# Two-factor authentication off unless a test turns it on (settings.RPMS_REQUIRE_2FA = True).
RPMS_REQUIRE_2FA = False
