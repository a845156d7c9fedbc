"""Public information records (B22): announcements (公示公告) with attachments, and interpretations of the
rule book (政策文件解读) linked to the articles they explain.

The rule books themselves are files (data/policies, parsed by `rpms.publicinfo.policies`), not rows:
an interpretation names its articles by code ("B19(3)"), checked against the parsed rule book when it
is saved.

State follows CONVENTIONS: a status plus one timestamp per milestone. Whether a published announcement
is visible is computed from its publish date (`publish_on` may lie ahead: scheduled), never flipped by a
job."""
import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions


class AnnouncementKind(models.TextChoices):
    CALL = "call", "征集公告"
    NOTICE = "notice", "公示"
    APPOINTMENT_LIST = "appointment_list", "聘任名单"
    HONOURS = "honours", "表彰名单"
    OTHER = "other", "其他公告"


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


# Published once, withdrawn once; a withdrawn record stays as it was (a new one is written instead).
PUBLICATION_TRANSITIONS = {
    PublicationStatus.DRAFT: {PublicationStatus.PUBLISHED},
    PublicationStatus.PUBLISHED: {PublicationStatus.WITHDRAWN},
    PublicationStatus.WITHDRAWN: set(),
}


class Announcement(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": PUBLICATION_TRANSITIONS}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="announcements")
    kind = models.CharField("类别", max_length=20, choices=AnnouncementKind.choices)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文", max_length=20000)
    publish_on = models.DateField("发布日期", null=True, blank=True, help_text="发布时确定；可晚于今天（定时公开）")
    record_url = models.CharField(
        "相关记录链接", max_length=300, blank=True, help_text="本系统内的页面地址，以 / 开头，如 /recruitment/calls/3/"
    )
    record_label = models.CharField("相关记录名称", max_length=100, blank=True)
    status = models.CharField("状态", max_length=16, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="起草人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField("发布操作时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="撤回人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdraw_reason = models.CharField("撤回原因", max_length=500, blank=True)

    class Meta:
        verbose_name = "公示公告"
        verbose_name_plural = "公示公告"
        ordering = ["-publish_on", "-id"]
        indexes = [models.Index(fields=["city", "status", "publish_on"], name="announcement_public_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(published_at__isnull=False) & Q(publish_on__isnull=False)),
                name="announcement_published_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | (Q(withdrawn_at__isnull=False) & ~Q(withdraw_reason="")),
                name="announcement_withdrawn_has_reason",
            ),
        ]

    def __str__(self):
        return self.title

    def is_public(self, today: dt.date) -> bool:
        return self.status == PublicationStatus.PUBLISHED and self.publish_on is not None and self.publish_on <= today

    def get_absolute_url(self) -> str:
        return reverse("publicinfo:announcement_detail", args=[self.pk])


class AnnouncementAttachment(models.Model):
    """A PDF or image attached to an announcement, stored outside the web root (rpms.core.uploads) and
    downloadable by anyone once the announcement is public."""

    announcement = models.ForeignKey(
        Announcement, verbose_name="公告", on_delete=models.CASCADE, related_name="attachments"
    )
    label = models.CharField("附件名称", max_length=100, blank=True)
    path = models.CharField("存储路径", max_length=500)
    original_name = models.CharField("原文件名", max_length=255)
    kind = models.CharField("文件类型", max_length=10)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "公告附件"
        verbose_name_plural = "公告附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.label or self.original_name

    @property
    def display_name(self) -> str:
        return self.label or self.original_name

    def get_absolute_url(self) -> str:
        return reverse("publicinfo:attachment_download", args=[self.announcement_id, self.pk])


class Interpretation(StatusTransitions, TimeStampedModel):
    """政策文件解读: the city's explanation of one or more articles of its rule book (B22)."""

    TRANSITIONS = {"status": PUBLICATION_TRANSITIONS}


    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="interpretations")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("解读内容", max_length=20000)
    articles = models.JSONField("所解读的条款", default=list, help_text="条款代码，如 B19(3)、P5(2)")
    status = models.CharField("状态", max_length=16, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="起草人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="撤回人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdraw_reason = models.CharField("撤回原因", max_length=500, blank=True)

    class Meta:
        verbose_name = "政策文件解读"
        verbose_name_plural = "政策文件解读"
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["city", "status"], name="interpretation_city_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="interpretation_published_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | (Q(withdrawn_at__isnull=False) & ~Q(withdraw_reason="")),
                name="interpretation_withdrawn_has_reason",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status == PublicationStatus.PUBLISHED
