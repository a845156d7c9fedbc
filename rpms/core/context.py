"""The current request's actor metadata, for audit rows written deep inside services."""
from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


def client_ip(request) -> str | None:
    # Behind a reverse proxy set RPMS_TRUST_X_FORWARDED_FOR; otherwise REMOTE_ADDR is authoritative.
    from django.conf import settings

    if getattr(settings, "RPMS_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None
