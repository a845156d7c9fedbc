"""Generation-keyed caching (issue #15): a bump makes a scope's entries stale at once; scopes are independent."""

from rpms.core import pubcache


def test_entries_are_kept_until_their_scope_is_bumped():
    built = []

    def builder():
        built.append(1)
        return len(built)

    assert pubcache.get_or_build("public:1", "page", builder) == 1
    assert pubcache.get_or_build("public:1", "page", builder) == 1
    assert pubcache.get_or_build("public:2", "page", builder) == 2  # another scope: its own entry
    pubcache.bump("public:1")
    assert pubcache.get_or_build("public:1", "page", builder) == 3
    assert pubcache.get_or_build("public:2", "page", builder) == 2  # untouched by the other scope's bump


def test_a_bump_before_any_read_still_invalidates(db):
    pubcache.bump("public:9")
    first = pubcache.generation("public:9")
    pubcache.bump("public:9")
    assert pubcache.generation("public:9") > first


def test_a_broken_cache_builds_uncached(monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)
    assert pubcache.get_or_build("public:1", "page", lambda: "fresh") == "fresh"

