"""Delivering notifications: inbox rows inside the caller's transaction, e-mail after commit.

`notify()` is called by other apps' services for events and by the daily `send_reminders` command for
deadlines. It writes no audit row of its own: the act that caused it is audited by its service, and a
notification is a consequence of that act, not a change of state decided by anyone.

E-mail is a background job (rpms.core.jobs), queued once the caller's transaction commits: the request never
waits for the mail server, and a failure is retried with back-off (settings.RPMS_EMAIL_RETRY_INTERVALS,
seconds, default 60, 300, 900, 3600; env RPMS_EMAIL_RETRY_INTERVALS="60,300,900,3600"). Each notification
records its delivery: `emailed_at`, `email_attempts`, `email_error`, and `email_failed_at` once the retries
ran out. What was never sent (retries ran out, or the queue was down when the act committed) is queued again
by `manage.py send_pending_emails` — the daily `send_reminders` runs it too.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from rpms.core import clock
from rpms.core.errors import DomainError, NotFound
from rpms.core.jobs import enqueue, final_attempt

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
        emails_enqueue(to_mail)
    return created


def email_retry_intervals() -> list[int]:
    return [int(s) for s in getattr(settings, "RPMS_EMAIL_RETRY_INTERVALS", [60, 300, 900, 3600])]


def emails_enqueue(notification_ids: list[int]) -> None:
    """One job that e-mails these notifications once the current transaction commits, retried with back-off."""
    enqueue(send_notification_emails, list(notification_ids), retry_intervals=email_retry_intervals())


class EmailDeliveryFailed(Exception):
    """Raised by the e-mail job when a message could not be sent, so that the queue tries again."""


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


def _error_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _record_failure(notes, exc: Exception, *, final: bool) -> None:
    fields = {"email_attempts": F("email_attempts") + 1, "email_error": _error_text(exc)}
    if final:
        fields["email_failed_at"] = clock.now()
    Notification.objects.filter(pk__in=[n.pk for n in notes], emailed_at__isnull=True).update(**fields)


def send_notification_emails(notification_ids: list[int]) -> int:
    """The e-mail job: sends each given notification not yet e-mailed and marks it `emailed_at`; returns how
    many were sent. A failure is recorded on the notification (attempts, error) and raised as
    EmailDeliveryFailed so the queue retries the job; the retry sends only what is still unsent. On the
    last attempt the notification is marked `email_failed_at`. The inbox items stay whatever happens."""
    notes = [
        note for note in Notification.objects.select_related("recipient")
        .filter(pk__in=notification_ids, emailed_at__isnull=True, email_failed_at__isnull=True).order_by("pk")
        if (note.recipient.email or "").strip()
    ]
    if not notes:
        return 0
    final = final_attempt()
    try:
        connection = get_connection(fail_silently=False)
        connection.open()
    except Exception as exc:
        logger.warning("notifications: cannot open the mail connection (%s)", _error_text(exc))
        _record_failure(notes, exc, final=final)
        raise EmailDeliveryFailed(f"mail server unavailable: {_error_text(exc)}") from exc
    sent, failed = 0, 0
    try:
        for note in notes:
            message = _email_for(note)
            message.connection = connection
            try:
                message.send()
            except Exception as exc:
                logger.warning("notifications: e-mail to user %s failed (%s)", note.recipient_id, _error_text(exc))
                _record_failure([note], exc, final=final)
                failed += 1
                continue
            # Claim only if still un-e-mailed, so two workers never both mark the same row.
            Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(
                emailed_at=clock.now(), email_attempts=F("email_attempts") + 1, email_error="",
            )
            sent += 1
    finally:
        try:
            connection.close()
        except Exception:
            logger.warning("notifications: closing the mail connection failed", exc_info=True)
    if failed:
        raise EmailDeliveryFailed(f"{failed} of {len(notes)} e-mails failed")
    return sent


def pending_emails_requeue(*, older_than_minutes: int = 10, include_failed: bool = False, days: int = 7) -> int:
    """Queues again the e-mails of the last `days` days that were never attempted — their job could not be
    queued (Redis down at commit) — and, with `include_failed`, those whose retries ran out. E-mails between
    retries belong to their job and are left alone (no second copy). Returns how many notifications."""
    now = clock.now()
    pending = Notification.objects.filter(
        emailed_at__isnull=True, created_at__gte=now - timedelta(days=days),
        created_at__lte=now - timedelta(minutes=older_than_minutes),
    ).exclude(recipient__email="").filter(recipient__is_active=True)
    never_tried = Q(email_attempts=0, email_failed_at__isnull=True)
    pending = pending.filter(never_tried | Q(email_failed_at__isnull=False) if include_failed else never_tried)
    ids = list(pending.order_by("pk").values_list("pk", flat=True)[:5000])
    if not ids:
        return 0
    with transaction.atomic():
        Notification.objects.filter(pk__in=ids).update(email_failed_at=None)
        for start in range(0, len(ids), 100):
            emails_enqueue(ids[start:start + 100])
    return len(ids)


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
        note.read_at = clock.now()
        note.save(update_fields=["read_at"])
    return note


@transaction.atomic
def notification_mark_all_read(*, actor) -> int:
    """Mark every unread item of the actor read; returns how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=clock.now())


@transaction.atomic
def notification_mark_many_read(*, actor, notification_ids: list[int]) -> int:
    """Mark the given items of the actor read (ids of other people's items are ignored); returns how many."""
    ids = [int(i) for i in notification_ids][:1000]
    return Notification.objects.filter(recipient=actor, pk__in=ids, read_at__isnull=True).update(read_at=clock.now())
