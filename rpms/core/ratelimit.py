"""A small fixed-window rate limiter on Django's cache, for anonymous writes (registration,
objections, suggestions), failed logins per client address, and other acts worth throttling.

Each `rate_limit_hit(key, limit=N, window_seconds=W)` counts one attempt in the current window
(windows are aligned time buckets of W seconds); the (N+1)-th attempt in a window raises
`DomainError("操作过于频繁，请稍后再试。", code="rate_limited", status=429)`. Refused attempts are
counted too, so hammering does not help. A fixed window may let up to 2N attempts through across a
bucket boundary; that is acceptable for abuse control. `rate_limit_check` asks without counting: it
refuses once N attempts were counted (used to count only failures, e.g. failed logins).

Storage: the default cache. Development and tests use a per-process LocMemCache (no Redis needed).
Production (config/settings/production.py) uses Redis through django-redis, shared by every gunicorn
worker and surviving restarts; a system check (rpms.core.checks, rpms.E010) refuses to start production
with a process-local cache.

A cache outage never answers 500. What happens instead is a setting, `RPMS_RATELIMIT_FAIL_CLOSED`:
- on (production's default): the limited act is refused with 503, code `rate_limit_unavailable`, a
  Chinese message and `retry_after_seconds` — a login attempt or an anonymous write is not let through
  unlimited while nobody counts. The rest of the site keeps working (sessions are in the database, and
  the per-account login lockout is stored in the database too).
- off (development): the attempt is let through and the outage logged as an error.

Client addresses behind a reverse proxy: see `rpms.core.context.client_ip` (RPMS_TRUSTED_PROXIES).
"""

import hashlib
import logging
import math

from django.conf import settings
from django.core.cache import cache

from . import clock
from .context import client_ip
from .errors import DomainError

logger = logging.getLogger(__name__)

RATE_LIMITED_MESSAGE = "操作过于频繁，请稍后再试。"
UNAVAILABLE_MESSAGE = "系统暂时无法核验访问频率，该操作暂不能办理，请稍后再试。"
UNAVAILABLE_RETRY_SECONDS = 30


def _now() -> float:
    # One seam for tests (monkeypatch); the system's clock (rpms.core.clock) otherwise.
    return clock.timestamp()


def _cache_key(key: str, window_seconds: int, bucket: int) -> str:
    # Hashed: keys may hold IPv6 addresses, user input or non-ASCII text; memcached wants short ASCII.
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"rpms:ratelimit:{window_seconds}:{bucket}:{digest}"


def _refusal(now: float, bucket: int, window_seconds: int) -> DomainError:
    retry_after = max(1, math.ceil((bucket + 1) * window_seconds - now))
    return DomainError(
        RATE_LIMITED_MESSAGE, code="rate_limited", status=429, details={"retry_after_seconds": retry_after}
    )


def _cache_unavailable(key: str, exc: Exception) -> None:
    """The cache failed: refuse (503) when RPMS_RATELIMIT_FAIL_CLOSED, else let the attempt through."""
    scope = key.split(":", 1)[0]
    if getattr(settings, "RPMS_RATELIMIT_FAIL_CLOSED", False):
        logger.error("rate limiter cache unavailable (%s: %s); refusing %s", type(exc).__name__, exc, scope)
        raise DomainError(
            UNAVAILABLE_MESSAGE, code="rate_limit_unavailable", status=503,
            details={"retry_after_seconds": UNAVAILABLE_RETRY_SECONDS},
        ) from None
    logger.error("rate limiter cache unavailable (%s: %s); letting %s through", type(exc).__name__, exc, scope)


def _check_args(limit: int, window_seconds: int) -> None:
    if limit < 1 or window_seconds < 1:
        raise ValueError("limit and window_seconds must be positive")


def rate_limit_hit(key: str, *, limit: int, window_seconds: int) -> None:
    """Counts one attempt for `key`; raises DomainError(status=429, code="rate_limited") once more
    than `limit` attempts fall in the current window of `window_seconds`."""
    _check_args(limit, window_seconds)
    now = _now()
    bucket = int(now // window_seconds)
    cache_key = _cache_key(key, window_seconds, bucket)
    timeout = window_seconds + 1
    try:
        cache.add(cache_key, 0, timeout=timeout)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.set(cache_key, 1, timeout=timeout)
            count = 1
    except Exception as exc:  # noqa: BLE001 - a cache outage is decided by _cache_unavailable, never a 500
        _cache_unavailable(key, exc)
        return
    if count > limit:
        raise _refusal(now, bucket, window_seconds)


def rate_limit_check(key: str, *, limit: int, window_seconds: int) -> None:
    """Raises the same 429 as `rate_limit_hit` if `limit` attempts were already counted for `key` in the
    current window, without counting this one (the caller counts with `rate_limit_hit` when it should)."""
    _check_args(limit, window_seconds)
    now = _now()
    bucket = int(now // window_seconds)
    try:
        count = cache.get(_cache_key(key, window_seconds, bucket)) or 0
    except Exception as exc:  # noqa: BLE001
        _cache_unavailable(key, exc)
        return
    if int(count) >= limit:
        raise _refusal(now, bucket, window_seconds)


def client_key(request, scope: str) -> str:
    """A rate-limit key for this client's address within `scope` (e.g. "accounts.register")."""
    return f"{scope}:ip:{client_ip(request) or 'unknown'}"
