"""Development settings: embedded SQLite under var/, console e-mail, DEBUG on."""
import os

from .base import *  # noqa: F401,F403
from .base import VAR_DIR, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production-rpms"  # noqa: F405
VAR_DIR.mkdir(parents=True, exist_ok=True)

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise expects it)
WHITENOISE_USE_FINDERS = True

# The development server (`make run`) answers each request in a thread of its own: a persistent database
# connection would outlive its thread, and on PostgreSQL they pile up until the server refuses clients ("too
# many clients already", tests/test_concurrency_live.py). Django's advice: none in development.
if "DB_CONN_MAX_AGE" not in os.environ:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# Two-factor authentication stays off in development: the demo accounts sign in with their password only.
RPMS_REQUIRE_2FA = env_bool("RPMS_REQUIRE_2FA", False)
