"""The cache-backed rate limiter: a limit per key and window, refusals with 429 in Chinese."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from rpms.core import ratelimit
from rpms.core.errors import DomainError
from rpms.core.ratelimit import client_key, rate_limit_hit


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """A controllable clock for the limiter (the cache's own expiry is not involved)."""
    now = {"t": 1_800_000_000.0}  # a bucket boundary for 60 s and 3600 s windows
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    return now


def test_attempts_up_to_the_limit_pass_and_the_next_is_refused_with_429(clock):
    for _ in range(3):
        rate_limit_hit("objection:ip:10.0.0.1", limit=3, window_seconds=60)
    with pytest.raises(DomainError) as info:
        rate_limit_hit("objection:ip:10.0.0.1", limit=3, window_seconds=60)
    error = info.value
    assert error.status == 429
    assert error.code == "rate_limited"
    assert error.message == "操作过于频繁，请稍后再试。"
    assert error.as_dict()["detail"] == "操作过于频繁，请稍后再试。"
    assert error.details == {"retry_after_seconds": 60}


def test_refusals_keep_being_refused_within_the_window(clock):
    rate_limit_hit("k", limit=1, window_seconds=60)
    for _ in range(5):
        with pytest.raises(DomainError):
            rate_limit_hit("k", limit=1, window_seconds=60)


def test_a_different_key_is_unaffected(clock):
    for _ in range(2):
        rate_limit_hit("register:ip:10.0.0.1", limit=2, window_seconds=60)
    with pytest.raises(DomainError):
        rate_limit_hit("register:ip:10.0.0.1", limit=2, window_seconds=60)
    rate_limit_hit("register:ip:10.0.0.2", limit=2, window_seconds=60)
    rate_limit_hit("objection:ip:10.0.0.1", limit=2, window_seconds=60)


def test_the_count_starts_afresh_when_the_window_has_passed(clock):
    rate_limit_hit("k", limit=2, window_seconds=60)
    clock["t"] += 30
    rate_limit_hit("k", limit=2, window_seconds=60)
    with pytest.raises(DomainError) as info:
        rate_limit_hit("k", limit=2, window_seconds=60)
    assert info.value.details == {"retry_after_seconds": 30}
    clock["t"] += 30  # the next window begins
    rate_limit_hit("k", limit=2, window_seconds=60)
    rate_limit_hit("k", limit=2, window_seconds=60)
    with pytest.raises(DomainError):
        rate_limit_hit("k", limit=2, window_seconds=60)


def test_the_same_key_with_another_window_length_counts_separately(clock):
    rate_limit_hit("k", limit=1, window_seconds=60)
    rate_limit_hit("k", limit=1, window_seconds=3600)
    with pytest.raises(DomainError):
        rate_limit_hit("k", limit=1, window_seconds=60)


def test_keys_with_any_characters_work(clock):
    key = "objection:ip:2001:db8::1 中文 " + "x" * 400
    rate_limit_hit(key, limit=1, window_seconds=60)
    with pytest.raises(DomainError):
        rate_limit_hit(key, limit=1, window_seconds=60)


def test_a_cache_failure_lets_the_attempt_through(clock, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(ratelimit.cache, "add", broken)
    for _ in range(5):
        rate_limit_hit("k", limit=1, window_seconds=60)


@pytest.mark.parametrize("limit,window", [(0, 60), (1, 0), (-1, 60)])
def test_nonsense_limits_are_a_programming_error(limit, window):
    with pytest.raises(ValueError):
        rate_limit_hit("k", limit=limit, window_seconds=window)


def test_client_key_uses_the_remote_address_and_the_scope():
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_key(request, "accounts.register") == "accounts.register:ip:203.0.113.7"
    assert client_key(request, "recruitment.objection") != client_key(request, "accounts.register")


def test_client_key_trusts_x_forwarded_for_only_when_configured(settings):
    settings.RPMS_TRUST_X_FORWARDED_FOR = True
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 10.0.0.1")
    assert client_key(request, "s") == "s:ip:198.51.100.1"


def test_client_key_without_an_address_still_gives_a_key():
    request = RequestFactory().post("/")
    request.META.pop("REMOTE_ADDR", None)
    assert client_key(request, "s") == "s:ip:unknown"
