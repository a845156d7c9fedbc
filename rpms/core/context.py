"""The current request's actor metadata, for audit rows written deep inside services, and the client's
address as rate limits and audit rows see it."""
import ipaddress
from contextvars import ContextVar
from functools import lru_cache

current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)

UNIX_SOCKET = "unix"


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[tuple, bool]:
    networks, unix = [], False
    for entry in entries:
        entry = entry.strip()
        if entry.lower() == UNIX_SOCKET:
            unix = True
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # a typo names no proxy: nothing is trusted by it
    return tuple(networks), unix


def _address(text: str):
    text = (text or "").strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: str, entries) -> bool:
    networks, unix = _networks(tuple(entries))
    if not address:
        return unix  # gunicorn on a Unix socket gives an empty REMOTE_ADDR
    parsed = _address(address)
    return parsed is not None and any(parsed in network for network in networks)


def client_ip(request) -> str | None:
    """The client's address. The peer (REMOTE_ADDR) is the client unless it is one of
    settings.RPMS_TRUSTED_PROXIES; then the proxy's `X-Real-IP` header names the client (nginx:
    `proxy_set_header X-Real-IP $remote_addr;`, which overwrites whatever the client sent), or, without it,
    `X-Forwarded-For` read from the right, skipping trusted proxies (the left part is the client's to forge).
    Headers from any other peer are ignored: a client cannot choose its own rate-limit key."""
    from django.conf import settings

    peer = request.META.get("REMOTE_ADDR", "") or ""
    trusted = getattr(settings, "RPMS_TRUSTED_PROXIES", ()) or ()
    if trusted and _trusted(peer, trusted):
        real = _address(request.META.get("HTTP_X_REAL_IP", ""))
        if real is not None:
            return str(real)
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            parsed = _address(hop)
            if parsed is None:
                break  # garbage from here on was written by the client
            if not _trusted(str(parsed), trusted):
                return str(parsed)
    return peer or None
