"""Failed logins per client address (issue #13), beside the per-account lockout of `LockoutModelBackend`
and `services.credentials_check` (5 failures lock the account for 15 minutes, stored in the database).

The lockout stops guessing one account's password; this limit stops one address guessing across many
accounts (password spraying) and a locked account being hammered. Our login page, the Django admin login
(both through `LockoutModelBackend`) and `POST /api/v1/auth/token` count into one counter per address:
at most `RPMS_LOGIN_ADDRESS_LIMIT` failures (default 20) per `RPMS_LOGIN_ADDRESS_WINDOW_SECONDS` (900).
Once reached, further attempts from that address are refused with 429 and a Chinese message until the
window ends — the right password included, so guessing cannot continue. Successful logins are not counted.
The count lives in the shared cache (rpms.core.ratelimit; Redis in production); the address is
`rpms.core.context.client_ip` (X-Real-IP from a trusted proxy)."""
import math

from django.conf import settings

from rpms.core.errors import DomainError
from rpms.core.ratelimit import client_key, rate_limit_check, rate_limit_hit

SCOPE = "accounts.login"


def login_address_rate() -> tuple[int, int]:
    """(failures, seconds) allowed per client address."""
    return int(settings.RPMS_LOGIN_ADDRESS_LIMIT), int(settings.RPMS_LOGIN_ADDRESS_WINDOW_SECONDS)


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def login_address_check(request) -> None:
    """Refuses (429, code "rate_limited") a login attempt from an address that has used up its failures."""
    if request is None:
        return
    limit, window = login_address_rate()
    try:
        rate_limit_check(client_key(request, SCOPE), limit=limit, window_seconds=window)
    except DomainError as exc:
        if exc.code != "rate_limited":
            raise  # e.g. 503 when the shared cache is down and the limiter fails closed
        retry = (exc.details or {}).get("retry_after_seconds", window)
        raise DomainError(
            f"登录失败次数过多：同一网络地址每 {_minutes(window)} 分钟最多可登录失败 {limit} 次，"
            f"请约 {_minutes(retry)} 分钟后再试。如忘记密码，请联系系统管理员。",
            code="rate_limited", status=429, details=exc.details,
        ) from None


def login_address_failure(request) -> None:
    """Counts one failed login for the request's address (the refusal comes with the next attempt)."""
    if request is None:
        return
    limit, window = login_address_rate()
    try:
        rate_limit_hit(client_key(request, SCOPE), limit=limit, window_seconds=window)
    except DomainError as exc:
        if exc.code != "rate_limited":
            raise
