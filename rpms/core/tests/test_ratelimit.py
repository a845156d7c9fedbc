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


def _break_the_cache(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("add", "incr", "get", "set"):
        monkeypatch.setattr(ratelimit.cache, name, broken)


def test_a_cache_failure_lets_the_attempt_through_when_failing_open(clock, monkeypatch, settings):
    settings.RPMS_RATELIMIT_FAIL_CLOSED = False
    _break_the_cache(monkeypatch)
    for _ in range(5):
        rate_limit_hit("k", limit=1, window_seconds=60)
        ratelimit.rate_limit_check("k", limit=1, window_seconds=60)


def test_a_cache_failure_refuses_with_503_when_failing_closed(clock, monkeypatch, settings):
    settings.RPMS_RATELIMIT_FAIL_CLOSED = True
    _break_the_cache(monkeypatch)
    for call in (rate_limit_hit, ratelimit.rate_limit_check):
        with pytest.raises(DomainError) as info:
            call("accounts.login:ip:10.0.0.1", limit=5, window_seconds=60)
        assert info.value.status == 503
        assert info.value.code == "rate_limit_unavailable"
        assert "稍后再试" in info.value.message
        assert info.value.details["retry_after_seconds"] > 0


def test_check_refuses_once_the_limit_was_counted_without_counting_itself(clock):
    for _ in range(10):
        ratelimit.rate_limit_check("k", limit=2, window_seconds=60)  # asking counts nothing
    rate_limit_hit("k", limit=2, window_seconds=60)
    ratelimit.rate_limit_check("k", limit=2, window_seconds=60)
    rate_limit_hit("k", limit=2, window_seconds=60)
    with pytest.raises(DomainError) as info:
        ratelimit.rate_limit_check("k", limit=2, window_seconds=60)
    assert info.value.status == 429
    clock["t"] += 60
    ratelimit.rate_limit_check("k", limit=2, window_seconds=60)


@pytest.mark.parametrize("limit,window", [(0, 60), (1, 0), (-1, 60)])
def test_nonsense_limits_are_a_programming_error(limit, window):
    with pytest.raises(ValueError):
        rate_limit_hit("k", limit=limit, window_seconds=window)


def test_client_key_uses_the_remote_address_and_the_scope():
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_key(request, "accounts.register") == "accounts.register:ip:203.0.113.7"
    assert client_key(request, "recruitment.objection") != client_key(request, "accounts.register")


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(settings):
    settings.RPMS_TRUSTED_PROXIES = []
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7", HTTP_X_REAL_IP="198.51.100.1",
                                    HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert client_key(request, "s") == "s:ip:203.0.113.7"

    settings.RPMS_TRUSTED_PROXIES = ["127.0.0.1"]  # a client that is not the proxy cannot name itself
    assert client_key(request, "s") == "s:ip:203.0.113.7"


def test_a_trusted_proxy_names_the_client_in_x_real_ip(settings):
    settings.RPMS_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="198.51.100.1",
                                    HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1")
    assert client_key(request, "s") == "s:ip:198.51.100.1"
    request = RequestFactory().post("/", REMOTE_ADDR="::1", HTTP_X_REAL_IP="2001:db8::7")
    assert client_key(request, "s") == "s:ip:2001:db8::7"


def test_without_x_real_ip_x_forwarded_for_is_read_from_the_right(settings):
    # The client forged the left part; the last hop not a trusted proxy is the real client.
    settings.RPMS_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9, 10.0.0.5")
    assert client_key(request, "s") == "s:ip:198.51.100.9"


def test_a_unix_socket_peer_is_trusted_only_when_listed(settings):
    request = RequestFactory().post("/", REMOTE_ADDR="", HTTP_X_REAL_IP="198.51.100.1")
    settings.RPMS_TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_key(request, "s") == "s:ip:unknown"
    settings.RPMS_TRUSTED_PROXIES = ["unix"]
    assert client_key(request, "s") == "s:ip:198.51.100.1"


def test_a_malformed_x_real_ip_is_not_used_as_the_address(settings):
    settings.RPMS_TRUSTED_PROXIES = ["127.0.0.1"]
    request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="not-an-address")
    assert client_key(request, "s") == "s:ip:127.0.0.1"


def test_client_key_without_an_address_still_gives_a_key():
    request = RequestFactory().post("/")
    request.META.pop("REMOTE_ADDR", None)
    assert client_key(request, "s") == "s:ip:unknown"
