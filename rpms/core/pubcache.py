"""Generation-keyed caching in the shared cache (issue #15).

What public pages, open datasets, finished years' statistics and the policy profile show is kept in the shared
cache (#10: Redis in production, the process-local cache in development and tests) under a *scope*, e.g.
``public:<city id>``. Every key of a scope carries the scope's generation number; an act that changes what the
scope shows calls :func:`bump` and every entry of the scope is stale at once (nothing has to be found and
deleted, and the old entries expire on their own).

``bump`` raises the generation immediately (so the same request and a test's transaction see the change) and
again after the transaction commits (so a reader that cached the old content between the two — it could not
yet see the uncommitted change — is overtaken). When the cache cannot be reached, builders run uncached and
bumps are skipped: the page is slower, never wrong for longer than the entries' timeout.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

# Entries live at most this long even if nothing bumps their scope (a safety net, not the mechanism).
DEFAULT_TIMEOUT = 6 * 3600
_GEN_TIMEOUT = None  # generation counters never expire (an expired counter would restart at 1 and revive old keys)
_MISSING = object()


def _gen_key(scope: str) -> str:
    return f"pubcache:gen:{scope}"


def generation(scope: str) -> int:
    """The scope's current generation (1 for a scope never bumped)."""
    key = _gen_key(scope)
    value = cache.get(key)
    if value is None:
        cache.add(key, 1, timeout=_GEN_TIMEOUT)
        value = cache.get(key) or 1
    return int(value)


def _incr(scope: str) -> None:
    key = _gen_key(scope)
    try:
        try:
            cache.incr(key)
        except ValueError:  # never read yet: start above the implicit 1 that readers may have used
            if not cache.add(key, 2, timeout=_GEN_TIMEOUT):
                cache.incr(key)
    except Exception:  # noqa: BLE001 — a cache outage must not fail the act that changed the data
        logger.exception("pubcache: could not bump %s", scope)


def bump_now(*scopes: str) -> None:
    """Raise these scopes' generations now only (for a caller that bumps again itself once its work commits)."""
    for scope in scopes:
        _incr(scope)


def bump(*scopes: str) -> None:
    """Make every cached entry of these scopes stale: now, and again when the current transaction commits."""
    for scope in scopes:
        _incr(scope)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: [_incr(scope) for scope in scopes])


def key_for(scope: str, key: str) -> str:
    return f"pubcache:{scope}:{generation(scope)}:{key}"


def get_or_build(scope: str, key: str, builder: Callable[[], Any], *, timeout: int | None = DEFAULT_TIMEOUT) -> Any:
    """The cached value of ``key`` in ``scope``'s current generation, built (and kept) when missing."""
    try:
        full_key = key_for(scope, key)
        value = cache.get(full_key, _MISSING)
    except Exception:  # noqa: BLE001
        logger.exception("pubcache: cache unavailable, building %s:%s uncached", scope, key)
        return builder()
    if value is not _MISSING:
        return value
    value = builder()
    try:
        cache.set(full_key, value, timeout=timeout)
    except Exception:  # noqa: BLE001
        logger.exception("pubcache: could not store %s:%s", scope, key)
    return value


def public_scope(city_id: int | None) -> str:
    """The scope of everything the public sees of one city (pages, open data, the map)."""
    return f"public:{city_id}"


def statistics_scope(city_id, year: int | None = None) -> str:
    """The scope of a city's figures (rpms.reports bumps it when an input of them changes: every year of the city
    without `year`, or that year's); lower apps key their own yearly figures on it."""
    return f"statistics:{city_id}" if year is None else f"statistics:{city_id}:{year}"
