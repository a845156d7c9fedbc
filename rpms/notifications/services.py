"""Delivering notifications: inbox rows inside the caller's transaction, e-mail after commit.

`notify()` is called by other apps' services for events and by the daily `send_reminders` command for
deadlines. It writes no audit row of its own: the act that caused it is audited by its service, and a
notification is a consequence of that act, not a change of state decided by anyone.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from rpms.core.errors import DomainError, NotFound

from .models import Notification

logger = logging.getLogger(__name__)

_SUBJECT_PREFIX = "【责任规划师管理信息系统】"


def _unique_users(users) -> list:
    seen, result = set(), []
    for user in users or []:
        if user is None or user.pk is None or user.pk in seen:
            continue
        seen.add(user.pk)
        result.append(user)
    return result


@transaction.atomic
def notify(
    *,
    users: Iterable,
    event: str,
    title: str,
    body: str = "",
    url: str = "",
    key: str,
    city=None,
) -> list[Notification]:
    """Put one inbox item per user; e-mail those with an address once the caller's transaction commits.

    Returns only the notifications created by this call: a user who already has an item with this key
    gets nothing new (and no second e-mail). Inactive users are skipped.
    """
    if not key:
        raise DomainError("提醒缺少去重键。", code="notification_key_missing")
    if not event or not title:
        raise DomainError("提醒缺少事件或标题。", code="notification_incomplete")
    recipients = [u for u in _unique_users(users) if getattr(u, "is_active", True)]
    if not recipients:
        return []
    key = key[:200]
    already = set(
        Notification.objects.filter(recipient__in=[u.pk for u in recipients], key=key).values_list(
            "recipient_id", flat=True
        )
    )
    created: list[Notification] = []
    for user in recipients:
        if user.pk in already:
            continue
        note = Notification(
            recipient=user,
            event=event[:64],
            title=title[:200],
            body=body,
            url=url[:500],
            key=key,
            city=city,
        )
        note.full_clean(validate_unique=False, validate_constraints=False)
        # A savepoint per row: a concurrent notify() that won the race for (recipient, key) makes
        # this insert fail on the unique constraint, and we simply skip that recipient.
        try:
            with transaction.atomic():
                note.save(force_insert=True)
        except IntegrityError:
            continue
        created.append(note)
    to_mail = [n.pk for n in created if (n.recipient.email or "").strip()]
    if to_mail:
        transaction.on_commit(lambda: send_notification_emails(to_mail))
    return created


def _email_for(note: Notification) -> EmailMessage:
    lines = [note.body.strip()] if note.body.strip() else []
    if note.url:
        base = getattr(settings, "RPMS_PUBLIC_BASE_URL", "")
        link = note.url if note.url.startswith("http") else f"{base}{note.url}"
        lines.append(f"详情：{link}")
    lines.append("")
    lines.append("此邮件由责任规划师管理信息系统自动发送，请登录系统查看站内提醒。")
    return EmailMessage(
        subject=f"{_SUBJECT_PREFIX}{note.title}",
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[note.recipient.email],
    )


def send_notification_emails(notification_ids: list[int]) -> int:
    """Send the e-mail of each given notification not yet e-mailed; mark each emailed_at. Returns sent count.

    Runs after commit. A failing mail server does not undo the inbox items: they stay un-e-mailed
    (emailed_at empty), and the failure is logged.
    """
    sent = 0
    notes = (
        Notification.objects.select_related("recipient")
        .filter(pk__in=notification_ids, emailed_at__isnull=True)
        .order_by("pk")
    )
    try:
        connection = get_connection(fail_silently=False)
        connection.open()
    except Exception:
        logger.exception("notifications: cannot open the mail connection")
        return 0
    try:
        for note in notes:
            if not (note.recipient.email or "").strip():
                continue
            message = _email_for(note)
            message.connection = connection
            try:
                message.send()
            except Exception:
                logger.exception("notifications: e-mail to %s failed", note.recipient_id)
                continue
            # Claim only if still un-e-mailed, so two workers never both mark the same row.
            Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
            sent += 1
    finally:
        try:
            connection.close()
        except Exception:
            logger.warning("notifications: closing the mail connection failed", exc_info=True)
    return sent


# Reading one's own inbox is not an act on the institution's records: the three functions below change
# only the reader's own read_at and write no audit row (one per click would bury the trail).


@transaction.atomic
def notification_mark_read(*, actor, notification_id: int) -> Notification:
    """Mark one of the actor's own inbox items read (someone else's → 404)."""
    note = (
        Notification.objects.select_for_update(of=("self",))
        .filter(pk=notification_id, recipient=actor)
        .first()
    )
    if note is None:
        raise NotFound()
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    return note


@transaction.atomic
def notification_mark_all_read(*, actor) -> int:
    """Mark every unread item of the actor read; returns how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def notification_mark_many_read(*, actor, notification_ids: list[int]) -> int:
    """Mark the given items of the actor read (ids of other people's items are ignored); returns how many."""
    ids = [int(i) for i in notification_ids][:1000]
    return Notification.objects.filter(recipient=actor, pk__in=ids, read_at__isnull=True).update(read_at=timezone.now())
