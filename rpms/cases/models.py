"""Outstanding cases (优秀案例推荐, P3(4), B22): a planner's write-up of its work in a unit it serves or
served; the city reviews it and recommends and publishes the good ones on the public site.

State is a status with one timestamp per milestone (submitted, decided, published, unpublished) and an
explicit transition table. Only PUBLISHED cases are ever public."""
from django.conf import settings
from django.db import models
from django.db.models import Q

from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "退回修改"
    PUBLISHED = "published", "已推荐发布"
    REJECTED = "rejected", "未予推荐"
    WITHDRAWN = "withdrawn", "已撤下"


# Who may move a case where: the planner (re)submits; the city returns, publishes or rejects a submitted
# case, and may take a published case down again.
STATUS_TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.SUBMITTED: {CaseStatus.RETURNED, CaseStatus.PUBLISHED, CaseStatus.REJECTED},
    CaseStatus.RETURNED: {CaseStatus.SUBMITTED},
    CaseStatus.PUBLISHED: {CaseStatus.WITHDRAWN},
    CaseStatus.REJECTED: set(),
    CaseStatus.WITHDRAWN: set(),
}


class CaseQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=CaseStatus.PUBLISHED, published_at__isnull=False)


class Case(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": STATUS_TRANSITIONS}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="cases")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="cases"
    )
    district = models.ForeignKey("geography.District", verbose_name="区", on_delete=models.PROTECT, related_name="cases")
    # From the unit when submitted (policy zone_types code; empty where the city has none).
    zone_type = models.CharField("功能区类型", max_length=32, blank=True, db_index=True)
    duty_category = models.CharField("工作职责类别", max_length=50, help_text="城市政策配置 duty_categories 中的代码")
    planner = models.ForeignKey("registry.Planner", verbose_name="责任规划师（团队）", on_delete=models.PROTECT, related_name="cases")
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提交账户", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("标题", max_length=120)
    summary = models.CharField("摘要", max_length=300)
    body = models.TextField("正文", max_length=20000)
    status = models.CharField("状态", max_length=16, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED)
    submitted_at = models.DateTimeField("提交时间")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_comment = models.TextField("审核意见", blank=True, max_length=2000)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    unpublished_at = models.DateTimeField("撤下时间", null=True, blank=True)
    unpublish_reason = models.CharField("撤下原因", max_length=500, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = "优秀案例"
        verbose_name_plural = "优秀案例"
        ordering = ["-published_at", "-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["city", "status", "published_at"], name="case_city_status_idx"),
            models.Index(fields=["district", "status"], name="case_district_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False), name="case_published_has_date"
            ),
            models.CheckConstraint(
                condition=Q(status="submitted") | Q(decided_at__isnull=False), name="case_decided_has_date"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status == CaseStatus.PUBLISHED and self.published_at is not None

    def can_become(self, status: str) -> bool:
        return self.can_transition(status)

    def _policy_label(self, attribute: str, code: str) -> str:
        for item in getattr(getattr(self.city, "policy", None), attribute, None) or []:
            if item.get("code") == code:
                return item.get("label") or "未命名的类别"
        return "本市政策中已无此类别"  # never the code (issue #17 item 3)

    @property
    def zone_type_label(self) -> str:
        return self._policy_label("zone_types", self.zone_type) if self.zone_type else ""

    @property
    def duty_category_label(self) -> str:
        return self._policy_label("duty_categories", self.duty_category)


class CasePhoto(models.Model):
    """A photo of the case (JPEG/PNG), stored privately (rpms.core.uploads) re-encoded without its
    metadata (no GPS position of the photographer), served by our view: to anyone once the case is
    published, before that only to its author and the city."""

    case = models.ForeignKey(Case, verbose_name="案例", on_delete=models.CASCADE, related_name="photos")
    path = models.CharField("存储路径", max_length=300, editable=False)
    original_name = models.CharField("原文件名", max_length=200)
    kind = models.CharField("格式", max_length=8)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    width = models.PositiveIntegerField("宽（像素）", default=0)
    height = models.PositiveIntegerField("高（像素）", default=0)
    caption = models.CharField("图片说明", max_length=100, blank=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "案例图片"
        verbose_name_plural = "案例图片"
        ordering = ["case", "sort_order", "id"]

    def __str__(self):
        return self.caption or self.original_name
