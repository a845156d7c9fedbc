"""Settings shared by every environment. Values come from the environment (12-factor)."""
from pathlib import Path
import os

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("RPMS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_rq",
    "rpms.core",
    "rpms.cities",
    "rpms.geography",
    "rpms.accounts",
    "rpms.workdays",
    "rpms.registry",
    "rpms.recruitment",
    "rpms.documents",
    "rpms.dispatch",
    "rpms.appointments",
    "rpms.duties",
    "rpms.opinions",
    "rpms.suggestions",
    "rpms.assessments",
    "rpms.finance",
    "rpms.training",
    "rpms.publicinfo",
    "rpms.cases",
    "rpms.notifications",
    "rpms.portal",
    "rpms.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "rpms.core.middleware.RequestContextMiddleware",
    "rpms.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rpms.core.context_processors.site",
            ],
            # `|public_text` masks personal data in free text shown to the public (rpms.core.masking).
            "builtins": ["rpms.core.templatetags.public_text"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database serves a multi-threaded web server: writers take the write lock when their
    # transaction begins (IMMEDIATE, so two transactions never deadlock upgrading a read lock and fail
    # with "database is locked"), and readers never block writers (WAL, which is a property of the
    # database file and is set on every connection at no cost). The writers of one process wait for the
    # lock in a first-come-first-served queue (rpms.core.sqlite: SQLite's own busy handler polls and can
    # starve a writer); other processes on the same file wait up to the busy timeout (20 s).
    DATABASES["default"]["ENGINE"] = "rpms.core.sqlite"
    # Tests: an in-memory database, as Django's default — said outright, because pytest-django recognises that
    # default by the engine's name only (pytest-xdist would otherwise get one file per worker).
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", ":memory:")
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE",
        "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT_SECONDS", "20")),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    })
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short web queries: PostgreSQL's JIT compiler spent 0.5 s of a 0.8 s statistics query compiling (issue #15,
    # measured at 10× Beijing); it pays off only for long analytical scans, which this system does not run.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["rpms.accounts.backends.LockoutModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"

# Issue 17 item 10: Argon2id at Django's defaults (time_cost 2, 100 MiB, parallelism 8) first — memory-hard, the
# hasher Django recommends, and about 0.1 s on two cores where PBKDF2 at Django's 1,000,000 rounds took 0.25 s
# unloaded and over 1 s under load (a login was measured at 1.3–2.1 s). PBKDF2 stays to read existing hashes;
# each is re-hashed with Argon2id at its owner's next successful login (Django's must_update).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "rpms.accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "rpms.accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lockout: 5 failures lock the account for 15 minutes (pages and API alike).
RPMS_LOGIN_MAX_FAILURES = int(os.environ.get("RPMS_LOGIN_MAX_FAILURES", "5"))
RPMS_LOGIN_LOCK_MINUTES = int(os.environ.get("RPMS_LOGIN_LOCK_MINUTES", "15"))
# API bearer tokens expire after this many minutes.
RPMS_API_TOKEN_MINUTES = int(os.environ.get("RPMS_API_TOKEN_MINUTES", "480"))
# The public address printed on documents and encoded in their QR codes (absolute verification links),
# e.g. https://rpms.example.gov.cn. The default suits a development machine only; `check --deploy`
# warns when production keeps it (rpms.documents.checks).
RPMS_PUBLIC_BASE_URL = (os.environ.get("RPMS_PUBLIC_BASE_URL", "").strip() or "http://127.0.0.1:8000").rstrip("/")

# Idle timeout: a session ends after 30 minutes without a request.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", "1800"))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Uploaded proofs live outside the web root and are served by views that check entitlement.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))

DATA_DIR = BASE_DIR / "data"

# E-mail (notifications, rpms.notifications): the console in development (the default here), SMTP in
# production (config/settings/production.py), in memory in tests. Everything from the environment.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "rpms@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- Production stack (issue #13): shared cache, job queue, files sent by the web server ---------------
# Redis serves the shared cache (rate limits) and the job queue in production (config/settings/production.py).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Development and tests: a per-process cache, no Redis needed. Production replaces it with Redis, and a system
# check (rpms.core.checks, rpms.E010) refuses a process-local cache wherever RPMS_REQUIRE_SHARED_CACHE is on.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rpms"}}
RPMS_REQUIRE_SHARED_CACHE = False
# When the cache cannot be reached: False lets a rate-limited act through (logged as an error); True refuses it
# with a 503 and a Chinese message (production's default, rpms.core.ratelimit).
RPMS_RATELIMIT_FAIL_CLOSED = env_bool("RPMS_RATELIMIT_FAIL_CLOSED", False)
# Failed logins per client address (pages, Django admin, POST /api/v1/auth/token together), beside the
# per-account lockout above: at most RPMS_LOGIN_ADDRESS_LIMIT failures per RPMS_LOGIN_ADDRESS_WINDOW_SECONDS.
RPMS_LOGIN_ADDRESS_LIMIT = int(os.environ.get("RPMS_LOGIN_ADDRESS_LIMIT", "20"))
RPMS_LOGIN_ADDRESS_WINDOW_SECONDS = int(os.environ.get("RPMS_LOGIN_ADDRESS_WINDOW_SECONDS", "900"))
# Reverse proxies whose X-Real-IP (or X-Forwarded-For) header names the client (rpms.core.context.client_ip):
# addresses or networks ("127.0.0.1", "10.0.0.0/8", "::1"); "unix" stands for a Unix socket peer. Empty: the
# peer address (REMOTE_ADDR) is the client, and forwarded headers are ignored.
RPMS_TRUSTED_PROXIES = env_list("RPMS_TRUSTED_PROXIES", "")

# Background jobs (rpms.core.jobs) on RQ. RPMS_JOBS_INLINE runs each job in the web process right after the
# transaction commits (development, tests: no Redis, no worker); production queues them for
# `manage.py rqworker default --with-scheduler`.
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": int(os.environ.get("RPMS_JOB_TIMEOUT_SECONDS", "3600"))}}
RPMS_JOBS_INLINE = env_bool("RPMS_JOBS_INLINE", True)
# Seconds between the attempts to send one e-mail (a failed attempt is retried after each interval in turn).
RPMS_EMAIL_RETRY_INTERVALS = [int(s) for s in env_list("RPMS_EMAIL_RETRY_INTERVALS", "60,300,900,3600")]

# Private files (proofs, course videos): "django" streams them from Python (development); "x-accel" answers
# with X-Accel-Redirect: RPMS_XACCEL_PREFIX + the path under PRIVATE_MEDIA_ROOT, and nginx sends the file
# from its `internal` location (production's default; see deploy/).
RPMS_FILE_DELIVERY = os.environ.get("RPMS_FILE_DELIVERY", "django")
RPMS_XACCEL_PREFIX = os.environ.get("RPMS_XACCEL_PREFIX", "/_private/")

# --- Two-factor authentication for staff (issue 16 item 1; GB/T 22239-2019 8.1.4.1 d) -------------------------
# TOTP authenticator apps and one-time recovery codes (django-otp); rpms.accounts.twofactor says who needs them.
# OTPMiddleware right after AuthenticationMiddleware marks request.user verified or not; TwoFactorMiddleware
# then holds an unverified staff user on the code page while RPMS_REQUIRE_2FA is on (production.py).
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1, "django_otp.middleware.OTPMiddleware"
)
MIDDLEWARE.insert(MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1, "rpms.accounts.middleware.TwoFactorMiddleware")
# The three separated administrators reach only their own pages (issue 16 item 2; rpms.core.roles).
MIDDLEWARE.insert(MIDDLEWARE.index("rpms.accounts.middleware.TwoFactorMiddleware") + 1,
                  "rpms.accounts.middleware.AdministratorBoundaryMiddleware")
RPMS_REQUIRE_2FA = env_bool("RPMS_REQUIRE_2FA", False)
# The name authenticator apps show beside the account (ASCII: some apps garble other text in otpauth:// URIs).
OTP_TOTP_ISSUER = "RPMS"
# The Django admin never shows a device's secret key or the recovery codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Personal data encrypted at rest (issue #16 item 3; GB/T 39786-2021, SM4 per GB/T 32907, SM3 per GB/T 32905) ---
# Identity numbers, mobile numbers and residents' contact details are stored SM4-encrypted under RPMS_DATA_KEY
# and looked up through a keyed SM3 blind index (rpms.core.crypto, rpms.core.fields). The key below is a fixed
# DEVELOPMENT-ONLY key, public in this repository, so that development and tests run without setup: it protects
# nothing. Production must set RPMS_DATA_KEY in the environment (32+ random characters) and refuses to start
# without it or with this key (rpms.core.checks, rpms.E020). To rotate: set the new key as RPMS_DATA_KEY and the
# old one as RPMS_DATA_KEY_PREVIOUS, run `manage.py rotate_data_key`, then remove RPMS_DATA_KEY_PREVIOUS.
RPMS_DEVELOPMENT_DATA_KEY = "rpms-development-only-data-key-not-secret-0000"
RPMS_DATA_KEY = os.environ.get("RPMS_DATA_KEY", "") or RPMS_DEVELOPMENT_DATA_KEY
RPMS_DATA_KEY_PREVIOUS = os.environ.get("RPMS_DATA_KEY_PREVIOUS", "")
RPMS_REQUIRE_DATA_KEY = False

# --- Headers and sessions (issue #16 item 5: 等保 2.0 level 3) -----------------------------------------------------
# Content-Security-Policy (django-csp 4): scripts only from this site's own files (static/…/*.js), never inline
# or eval'd; no plugins; no framing; forms post only here. Inline style attributes remain in templates (map
# swatches coloured from data, a few layout tweaks), so style-src allows them — scripts never. QR codes and
# Swagger UI's icons are data: URIs. The API docs page (/api/v1/docs) loads django-ninja's local Swagger UI
# files under the same policy (no CDN: it works offline).
from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

INSTALLED_APPS.append("csp")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
# Permissions-Policy on every answer, Cache-Control: no-store on every answer to an authenticated request
# (rpms.core.middleware.SecurityHeadersMiddleware); outermost but for the security middlewares, so it sees the
# final answer of every view, error page and redirect.
MIDDLEWARE.insert(MIDDLEWARE.index("csp.middleware.CSPMiddleware") + 1, "rpms.core.middleware.SecurityHeadersMiddleware")
# Absolute session lifetime: a login session ends this many seconds after the login whatever its activity,
# besides the 30-minute idle timeout above (SESSION_COOKIE_AGE); rpms.core.middleware.SessionLifetimeMiddleware.
RPMS_SESSION_ABSOLUTE_SECONDS = int(os.environ.get("RPMS_SESSION_ABSOLUTE_SECONDS", str(8 * 3600)))
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "rpms.core.middleware.SessionLifetimeMiddleware",
)

# --- Tamper-evident audit trail (issue #16 item 4; GB/T 22239-2019 8.1.4.3, GB/T 39786-2021) ----------------------
# The key of the audit trail's SM3 HMAC chain (rpms.core.audit_chain). Production reads it from the environment and
# refuses to start without it (config/settings/production.py). The fallback below is a FIXED DEVELOPMENT-ONLY key
# (development and tests): it is public, so a trail sealed with it proves nothing.
RPMS_AUDIT_KEY = os.environ.get("RPMS_AUDIT_KEY", "") or "dev-only-audit-key-rpms-not-secret-do-not-use-in-production"

# --- A refused form keeps what was typed (issue #17 item 4) -------------------------------------------------------
# Every refused POST (a 4xx HTML answer) and every 返回修改 from a confirmation page shows the form again with the
# submitted values written back into it (rpms.core.fillin).
MIDDLEWARE.append("rpms.core.fillin.FillInMiddleware")

# --- Temporary passwords (issue #17 item 7) -------------------------------------------------------------------------
# A password the city administrator reset (or an account it opened) must be changed at the next login: every page
# leads to the password change page until then (rpms.accounts.middleware.PasswordChangeRequiredMiddleware). Last,
# so that the two-factor code comes first and messages work.
MIDDLEWARE.append("rpms.accounts.middleware.PasswordChangeRequiredMiddleware")
