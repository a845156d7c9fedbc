"""Rate limits for the public side (per client address, in the shared cache; see rpms.core.ratelimit).

Submitting: 5 suggestions per 10 minutes by default (settings.RPMS_SUGGESTION_RATE = (limit, seconds)).
Tracking-code lookups: 30 per 10 minutes (RPMS_SUGGESTION_LOOKUP_RATE), so codes cannot be enumerated.
A refused attempt is a 429 with a Chinese message; what was accepted before stays saved."""
import math

from django.conf import settings

from rpms.core.errors import DomainError
from rpms.core.ratelimit import client_key, rate_limit_hit

SUBMIT_RATE = (5, 600)
LOOKUP_RATE = (30, 600)


def submit_rate() -> tuple[int, int]:
    return tuple(getattr(settings, "RPMS_SUGGESTION_RATE", SUBMIT_RATE))


def lookup_rate() -> tuple[int, int]:
    return tuple(getattr(settings, "RPMS_SUGGESTION_LOOKUP_RATE", LOOKUP_RATE))


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def submit_rate_hit(request) -> None:
    limit, window = submit_rate()
    try:
        rate_limit_hit(client_key(request, "suggestions.submit"), limit=limit, window_seconds=window)
    except DomainError as exc:
        if exc.code != "rate_limited":
            raise
        retry = (exc.details or {}).get("retry_after_seconds", window)
        raise DomainError(
            f"提交过于频繁：同一网络每 {_minutes(window)} 分钟最多提交 {limit} 条意见建议，请约 {_minutes(retry)} 分钟后再试。"
            "此前已成功提交的意见建议均已保存，可凭查询码查看办理情况。",
            code="rate_limited", status=429, details=exc.details,
        ) from None


def lookup_rate_hit(request) -> None:
    limit, window = lookup_rate()
    try:
        rate_limit_hit(client_key(request, "suggestions.lookup"), limit=limit, window_seconds=window)
    except DomainError as exc:
        if exc.code != "rate_limited":
            raise
        retry = (exc.details or {}).get("retry_after_seconds", window)
        raise DomainError(
            f"查询过于频繁，请约 {_minutes(retry)} 分钟后再试。", code="rate_limited", status=429, details=exc.details
        ) from None
