"""Cached public pages (issue #15): a public page is rendered once per (city, what was asked, day) and served
from the shared cache (rpms.core.pubcache) until an act bumps the city's public scope
(rpms.publicinfo.invalidation).

Only what every visitor sees alike is kept: the HTML of an anonymous visitor's page without a pending
message (a signed-in user's page carries their name and menu, and is rendered each time, from cached data
where the page has it). A page that carries a CSRF token or sets a cookie is never kept."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from django.http import HttpResponse

from rpms.core import clock, pubcache

from .invalidation import CITIES_SCOPE


def city_scopes(city_ids: Iterable) -> list[str]:
    return [pubcache.public_scope(city_id) for city_id in city_ids]


def _full_key(scopes: list[str], key: str) -> str:
    """The key within the first scope: the generations of the other scopes and today's date are part of it
    (what is in force changes at midnight without any act)."""
    suffix = ".".join(str(pubcache.generation(scope)) for scope in scopes[1:])
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()  # what visitors typed never reaches the cache's keys
    return f"{clock.today().isoformat()}:{suffix}:{digest}"


def get_or_build(scopes: list[str], key: str, builder: Callable, *, timeout: int | None = pubcache.DEFAULT_TIMEOUT):
    """pubcache.get_or_build over several scopes: stale when any of them is bumped."""
    return pubcache.get_or_build(scopes[0], _full_key(scopes, key), builder, timeout=timeout)


def store(scopes: list[str], key: str, value, *, timeout: int | None = pubcache.DEFAULT_TIMEOUT) -> None:
    """Keep `value` under `key` in the scopes' current generations (what get_or_build would read)."""
    from django.core.cache import cache

    try:
        cache.set(pubcache.key_for(scopes[0], _full_key(scopes, key)), value, timeout=timeout)
    except Exception:  # noqa: BLE001 — a cache outage: the next request generates again
        pass


def anonymous_without_messages(request) -> bool:
    user = getattr(request, "user", None)
    if user is None or user.is_authenticated:
        return False
    storage = getattr(request, "_messages", None)
    try:
        return not (storage is not None and len(storage))
    except Exception:  # noqa: BLE001 — unreadable message storage: do not cache
        return False


def _keepable(response) -> bool:
    return (response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False)
            and b"csrfmiddlewaretoken" not in response.content)


def cached_page(request, *, scopes: list[str], key: str, render: Callable[[], HttpResponse]) -> HttpResponse:
    """The page `render()` makes, kept for anonymous visitors under `key` (with the request path) in `scopes`."""
    if not anonymous_without_messages(request):
        return render()
    rendered: list[HttpResponse] = []

    def build():
        response = render()
        rendered.append(response)
        if not _keepable(response):
            return None
        return (response.content, response["Content-Type"])

    full_key = f"page:{request.path}:{key}"
    value = get_or_build([*scopes, CITIES_SCOPE], full_key, build)
    if rendered:  # built by this request: answer with what was rendered (cookies, headers and all)
        if value is None:
            # nothing kept: drop the empty entry so that the next request renders again
            _forget([*scopes, CITIES_SCOPE], full_key)
        return rendered[0]
    if value is None:
        return render()
    content, content_type = value
    return HttpResponse(content, content_type=content_type)


def _forget(scopes: list[str], key: str) -> None:
    from django.core.cache import cache

    try:
        cache.delete(pubcache.key_for(scopes[0], _full_key(scopes, key)))
    except Exception:  # noqa: BLE001
        pass



def _city_id_of(kind: str, ident, lookup: Callable):
    """A record's city id, kept once found (a district or a unit never changes city); None is not kept."""
    key = f"city_of:{kind}:{ident}"
    value = get_or_build([CITIES_SCOPE], key, lambda: lookup() or 0)
    if not value:
        _forget([CITIES_SCOPE], key)
        return None
    return value


def district_city_id(code: str):
    """The city of the district with this code, or None."""
    from rpms.geography.models import District

    return _city_id_of("district", code, lambda: District.objects.filter(code=code).values_list("city_id", flat=True).first())


def unit_city_id(pk):
    """The city of the unit with this id, or None."""
    from rpms.geography.models import ResponsibilityUnit

    return _city_id_of("unit", pk, lambda: ResponsibilityUnit.objects.filter(pk=pk).values_list("city_id", flat=True).first())
