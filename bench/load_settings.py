"""Settings of the load benchmark's server (bench/load.py) — never of a deployment.

The product's settings (config.settings.base: PostgreSQL from DATABASE_URL, persistent connections, the
production hasher) with DEBUG off, and two differences for the measurement: the URLconf adds the minimal
view the benchmark compares with (bench/load_urls.py), and residents' suggestions are not rate-limited per
address (every client of the benchmark comes from 127.0.0.1; the limit is the product's, its cost is a cache
increment, and refusing 95 % of the submissions would measure the refusal, not the submission).
"""
from config.settings.base import *  # noqa: F401,F403
from config.settings.base import STATIC_ROOT, VAR_DIR

DEBUG = False
SECRET_KEY = "bench-only-not-secret-rpms-load-0123456789-abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.load_urls"
RPMS_SUGGESTION_RATE = (1_000_000_000, 600)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

VAR_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it
