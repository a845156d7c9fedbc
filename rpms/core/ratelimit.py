"""A small fixed-window rate limiter on Django's cache, for anonymous writes (registration,
objections) and other acts worth throttling.

Each `rate_limit_hit(key, limit=N, window_seconds=W)` counts one attempt in the current window
(windows are aligned time buckets of W seconds); the (N+1)-th attempt in a window raises
`DomainError("操作过于频繁，请稍后再试。", code="rate_limited", status=429)`. Refused attempts are
counted too, so hammering does not help. A fixed window may let up to 2N attempts through across a
bucket boundary; that is acceptable for abuse control.

Storage: the default cache. The settings configure no CACHES, so Django uses a per-process
LocMemCache — correct for one process (development, tests) but each worker process then counts on
its own. **Production with several processes or hosts should configure a shared cache** (Redis or
Memcached, or Django's DatabaseCache) in CACHES["default"]. A cache outage does not block users:
the limiter then lets the attempt through.

Behind a reverse proxy set RPMS_TRUST_X_FORWARDED_FOR so `client_key` sees the real client address
(see `rpms.core.context.client_ip`).
"""

import hashlib
import logging
import math
import time

from django.core.cache import cache

from .context import client_ip
from .errors import DomainError

logger = logging.getLogger(__name__)

RATE_LIMITED_MESSAGE = "操作过于频繁，请稍后再试。"


def _now() -> float:
    # One seam for tests (monkeypatch) instead of patching time.time for the whole process.
    return time.time()


def _cache_key(key: str, window_seconds: int, bucket: int) -> str:
    # Hashed: keys may hold IPv6 addresses, user input or non-ASCII text; memcached wants short ASCII.
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"rpms:ratelimit:{window_seconds}:{bucket}:{digest}"


def rate_limit_hit(key: str, *, limit: int, window_seconds: int) -> None:
    """Counts one attempt for `key`; raises DomainError(status=429, code="rate_limited") once more
    than `limit` attempts fall in the current window of `window_seconds`."""
    if limit < 1 or window_seconds < 1:
        raise ValueError("limit and window_seconds must be positive")
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
    except Exception:  # noqa: BLE001 - a cache outage must not lock everyone out
        logger.exception("rate limiter cache unavailable; letting the attempt through")
        return
    if count > limit:
        retry_after = max(1, math.ceil((bucket + 1) * window_seconds - now))
        raise DomainError(
            RATE_LIMITED_MESSAGE, code="rate_limited", status=429, details={"retry_after_seconds": retry_after}
        )


def client_key(request, scope: str) -> str:
    """A rate-limit key for this client's address within `scope` (e.g. "accounts.register")."""
    return f"{scope}:ip:{client_ip(request) or 'unknown'}"
