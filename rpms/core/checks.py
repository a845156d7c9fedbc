"""System checks of the production stack (issue #13).

rpms.E010 — where `RPMS_REQUIRE_SHARED_CACHE` is on (production settings), the default cache must be shared
by every process: rate limits are counted in it (rpms.core.ratelimit), and with a per-process cache each
gunicorn worker would count on its own and a restart would forget. LocMemCache, DummyCache and
FileBasedCache are refused. The check runs with `manage.py check` (and `check --deploy`) and when the WSGI
application starts (config/wsgi.py), so production refuses to start with such a cache.
"""
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
)


def process_local_cache(backend: str) -> bool:
    """True if the cache backend `backend` (a dotted path) keeps its data per process or per machine."""
    try:
        cls = import_string(backend)
    except ImportError:
        return False  # Django's own cache check reports a backend that does not import
    return any(issubclass(cls, import_string(local)) for local in PROCESS_LOCAL_CACHES)


@register(Tags.caches)
def check_shared_cache(app_configs, **kwargs):
    if not getattr(settings, "RPMS_REQUIRE_SHARED_CACHE", False):
        return []
    backend = (getattr(settings, "CACHES", {}).get("default") or {}).get("BACKEND", "")
    if backend and not process_local_cache(backend):
        return []
    return [Error(
        f"生产环境的默认缓存（{backend or '未配置'}）只在单个进程内有效：访问频率限制会在各工作进程中分别计数，"
        "重启后清零。请使用 Redis 共享缓存（the default cache must be shared by all processes in production: "
        "use django_redis.cache.RedisCache).",
        hint="设置环境变量 REDIS_URL（例如 redis://127.0.0.1:6379/0），并使用 config.settings.production 中的 CACHES 配置。",
        id="rpms.E010",
    )]


@register(Tags.security, deploy=False)
def check_data_key(app_configs, **kwargs):
    """rpms.E020 — where `RPMS_REQUIRE_DATA_KEY` is on (production settings), personal data must be encrypted
    under a key from the environment (RPMS_DATA_KEY, GB/T 39786-2021): not missing, not short, not the
    development key that is public in the repository."""
    if not getattr(settings, "RPMS_REQUIRE_DATA_KEY", False):
        return []
    from .crypto import MIN_KEY_CHARS

    key = (getattr(settings, "RPMS_DATA_KEY", "") or "").strip()
    if not key:
        problem = "未设置数据加密密钥 RPMS_DATA_KEY"
    elif key == getattr(settings, "RPMS_DEVELOPMENT_DATA_KEY", None):
        problem = "RPMS_DATA_KEY 使用的是开发环境的公开密钥"
    elif len(key) < MIN_KEY_CHARS:
        problem = f"RPMS_DATA_KEY 少于 {MIN_KEY_CHARS} 个字符"
    else:
        return []
    return [Error(
        f"{problem}：身份证号、手机号等个人信息须以 SM4 加密存储（GB/T 39786-2021），生产环境拒绝启动"
        "（RPMS_DATA_KEY must be set from the environment in production: 32+ random characters, not the development key）.",
        hint='生成密钥：python -c "import secrets; print(secrets.token_hex(32))"，写入环境变量 RPMS_DATA_KEY 并妥善保管。',
        id="rpms.E020",
    )]
