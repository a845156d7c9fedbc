"""The pending-work registry (待办事项): how every app puts its lines on the role home pages without the
portal importing the apps or the apps importing the portal (CONVENTIONS, layers).

An app registers its provider in its AppConfig.ready()::

    pending.register(pending_items)

A provider takes the user and returns its PendingItems (empty when nothing is waiting); the portal shows
`pending_items(user)`: every provider's lines in registration order."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PendingItem:
    """One line of the "待办事项" panel: what is waiting, how many, and where to act on it."""

    title: str
    url: str
    count: int = 1
    due: str = ""  # e.g. "公示期至 2026-03-12"
    level: str = "info"  # info / warn (shown as .badge / .badge.warn)


PENDING_PROVIDERS: list[Callable[[object], list[PendingItem]]] = []


def register(provider: Callable[[object], list[PendingItem]]) -> None:
    """Adds `provider` (once: `ready()` may run more than once in tests)."""
    if provider not in PENDING_PROVIDERS:
        PENDING_PROVIDERS.append(provider)


def pending_items(user) -> list[PendingItem]:
    items: list[PendingItem] = []
    for provider in PENDING_PROVIDERS:
        items.extend(provider(user))
    return items
