import logging

from django.db import DataError
from django.shortcuts import render

from .context import client_ip, current_ip
from .errors import DomainError, bad_input_error

logger = logging.getLogger("rpms.requests")


class RequestContextMiddleware:
    """Makes the client IP available to audit rows written by services."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class DomainErrorMiddleware:
    """Pages: a refused act becomes a Chinese error page with its 4xx status, never a 500. So does bad input
    that surfaced as an exception in a view (a number no database holds, text that is not UTF-8: see
    rpms.core.errors.bad_input_error); parser errors raised before the view reach rpms.core.views.bad_request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OverflowError, DataError, UnicodeDecodeError)):
            logger.warning("Bad input on %s: %r", request.path, exception)
            exception = bad_input_error(exception)
        if isinstance(exception, DomainError):
            return render(
                request,
                "core/error.html",
                {"status": exception.status, "code": exception.code, "message": exception.message},
                status=exception.status,
            )
        return None


# --- Headers and sessions (issue #16 item 5: 等保 2.0 level 3) ----------------------------------------------------

# Browser features the system never uses: a page (or anything injected into one) cannot turn them on.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "browsing-topics", "camera",
        "display-capture", "encrypted-media", "gamepad", "geolocation", "gyroscope", "hid", "idle-detection",
        "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get",
        "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
)
# Answers that hand out a credential, whoever asks (POST /api/v1/auth/token).
_ALWAYS_NO_STORE_PREFIXES = ("/api/v1/auth/",)
SESSION_STARTED_KEY = "rpms_session_started"
SESSION_ENDED_MESSAGE = "您已连续登录超过 {hours} 小时，为保障账户安全已自动退出，请重新登录。"


class SecurityHeadersMiddleware:
    """Every answer carries Permissions-Policy; every answer to an authenticated request (a session or an API
    token, pages and API alike) carries `Cache-Control: no-store`, so no browser or proxy cache keeps a page
    with personal data after logout. Answers to anonymous requests keep their own caching (public pages)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith(_ALWAYS_NO_STORE_PREFIXES):
            response["Cache-Control"] = "private, no-store"
            response.headers.pop("Expires", None)
        return response


def session_absolute_seconds() -> int:
    from django.conf import settings

    return int(getattr(settings, "RPMS_SESSION_ABSOLUTE_SECONDS", 8 * 3600))


class SessionLifetimeMiddleware:
    """An absolute session lifetime (RPMS_SESSION_ABSOLUTE_SECONDS, 8 hours) besides the idle timeout
    (SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST, 30 minutes): a login session older than that ends
    whatever its activity. The session records when it was first seen logged in (the answer to the login
    itself); a later request past the limit is logged out — a page is sent to the login page with a Chinese
    message, an API call goes on as anonymous (its endpoint answers 401)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.contrib import messages
        from django.contrib.auth import logout
        from django.contrib.auth.views import redirect_to_login

        from . import clock

        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            started = session.get(SESSION_STARTED_KEY)
            limit = session_absolute_seconds()
            if isinstance(started, (int, float)) and clock.timestamp() - started >= limit:
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.warning(request, SESSION_ENDED_MESSAGE.format(hours=f"{limit / 3600:g}"))
                    return redirect_to_login(request.get_full_path())
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if (session is not None and user is not None and user.is_authenticated
                and SESSION_STARTED_KEY not in session and not _token_request(request)):
            session[SESSION_STARTED_KEY] = clock.timestamp()
        return response


def _token_request(request) -> bool:
    return request.headers.get("Authorization", "").lower().startswith("bearer ")
