"""Development settings: embedded SQLite under var/, console e-mail, DEBUG on."""
from .base import *  # noqa: F401,F403
from .base import VAR_DIR, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production-rpms"  # noqa: F405
VAR_DIR.mkdir(parents=True, exist_ok=True)

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise expects it)
WHITENOISE_USE_FINDERS = True
