"""In-app inbox items. One row per (recipient, key): the same event is never delivered twice."""
from django.conf import settings
from django.db import models
from django.utils import timezone


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def for_user(self, user):
        return self.filter(recipient=user)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="收件人", on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField("事件", max_length=64, db_index=True)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=500, blank=True)
    # Stable identity of what is announced (e.g. "reminder:contract_expiry:42:2026-06-30"): a second
    # notify() with the same key for the same person creates nothing and sends nothing.
    key = models.CharField("去重键", max_length=200)
    city = models.ForeignKey(
        "cities.City", verbose_name="城市", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)
    # E-mail delivery (a background job with retries, rpms.notifications.services.send_notification_emails):
    # attempts made, the last failure, and when the retries ran out (then `send_pending_emails --failed`).
    email_attempts = models.PositiveSmallIntegerField("邮件发送尝试次数", default=0)
    email_error = models.CharField("邮件发送失败原因", max_length=500, blank=True)
    email_failed_at = models.DateTimeField("邮件放弃重试时间", null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = "提醒"
        verbose_name_plural = "提醒"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_recipient_key"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox_idx")]

    def __str__(self):
        return f"{self.recipient} · {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def email_state(self) -> str:
        """"sent" | "failed" (retries ran out) | "retrying" (an attempt failed) | "pending" | "none" (no address)."""
        if self.emailed_at:
            return "sent"
        if self.email_failed_at:
            return "failed"
        if self.email_attempts:
            return "retrying"
        return "pending" if (self.recipient.email or "").strip() else "none"
