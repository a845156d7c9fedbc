"""Reads of the inbox: a user sees only their own notifications."""
from rpms.core.errors import NotFound

from .models import Notification

INBOX_PAGE_SIZE = 30


def inbox_list(*, user, unread_only: bool = False):
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    queryset = Notification.objects.filter(recipient=user).select_related("city")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get(*, user, pk) -> Notification:
    note = Notification.objects.filter(pk=pk, recipient=user).first() if getattr(user, "is_authenticated", False) else None
    if note is None:
        raise NotFound("提醒不存在或您无权查看。")
    return note
