"""Residents' suggestions (意见建议, B11(2), B22, P3(3)) and the planners' work proposals built on them.

A resident sends a suggestion or a problem about a responsibility unit from the public site, without an
account. It is delivered to the planners serving the unit on the day it arrives (one
`SuggestionRecipient` row each, written at submission), or, when nobody serves the unit, to the
district (`unit_vacant`). The planner replies in public, may forward it to a department and record the
department's answer, and may group several suggestions into a work proposal to the hiring entity
(B11(2): 收集群众诉求并形成工作建议).

The reply deadline is a date (`due_on`, the policy's working days counted from the day of receipt by
rpms.workdays); "overdue" is computed from it and today's date, never flipped by a job. Moderation
hides, it never deletes: no row of this app is ever deleted (service, API or admin)."""
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from rpms.core.fields import EncryptedCharField
from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions


class SuggestionCategory(models.TextChoices):
    SUGGESTION = "suggestion", "意见建议"
    PROBLEM = "problem", "问题反映"


class SuggestionStatus(models.TextChoices):
    RECEIVED = "received", "已受理，待答复"
    ANSWERED = "answered", "已答复"
    FORWARDED = "forwarded", "已转交相关部门"
    CLOSED = "closed", "已办结"


class Suggestion(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": {
        # reply → answered (a further reply keeps it answered); forward once; close after a public reply or
        # when hidden (the guards on replies and hiding stay in rpms.suggestions.services)
        SuggestionStatus.RECEIVED: {SuggestionStatus.ANSWERED, SuggestionStatus.FORWARDED, SuggestionStatus.CLOSED},
        SuggestionStatus.ANSWERED: {SuggestionStatus.ANSWERED, SuggestionStatus.FORWARDED, SuggestionStatus.CLOSED},
        SuggestionStatus.FORWARDED: {SuggestionStatus.ANSWERED, SuggestionStatus.CLOSED},
        SuggestionStatus.CLOSED: set(),
    }}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="suggestions")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="suggestions"
    )
    # The unit's district when the suggestion arrived: scoping and the district's overdue list use it.
    district = models.ForeignKey(
        "geography.District", verbose_name="所属区", on_delete=models.PROTECT, related_name="suggestions"
    )
    subdistrict = models.ForeignKey(
        "geography.Subdistrict", verbose_name="街道乡镇", null=True, blank=True, on_delete=models.PROTECT,
        related_name="suggestions", help_text="居民查找时选择的街道乡镇",
    )
    tracking_code = models.CharField("查询码", max_length=16, unique=True, editable=False)
    category = models.CharField("类别", max_length=16, choices=SuggestionCategory.choices)
    content = models.TextField("内容", max_length=2000)
    # Personal information: shown to the staff who handle the suggestion, never on a public page.
    # Stored SM4-encrypted (rpms.core.fields; GB/T 39786-2021).
    contact_name = EncryptedCharField("联系人", max_length=50, blank=True)
    contact_phone = EncryptedCharField("联系电话", max_length=11, blank=True)
    received_at = models.DateTimeField("受理时间")
    received_on = models.DateField("受理日期")
    due_on = models.DateField("答复期限", help_text="受理日起按工作日计算的答复时限届满日")
    response_working_days = models.PositiveSmallIntegerField("答复时限（工作日）", help_text="受理时本市政策规定的天数")
    due_provisional = models.BooleanField("期限暂定", default=False, help_text="计算期限时节假日安排尚未公布")
    unit_vacant = models.BooleanField("单元暂无在任责任规划师", default=False)
    status = models.CharField("状态", max_length=16, choices=SuggestionStatus.choices, default=SuggestionStatus.RECEIVED)
    replied_at = models.DateTimeField("首次答复时间", null=True, blank=True)
    department = models.ForeignKey(
        "geography.Department", verbose_name="转交部门", null=True, blank=True, on_delete=models.PROTECT,
        related_name="suggestions",
    )
    forward_note = models.TextField("转交说明", blank=True, max_length=2000)
    forwarded_at = models.DateTimeField("转交时间", null=True, blank=True)
    forwarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="转交人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    department_answer = models.TextField("部门答复", blank=True, max_length=4000)
    department_answered_on = models.DateField("部门答复日期", null=True, blank=True)
    department_answer_recorded_at = models.DateTimeField("部门答复登记时间", null=True, blank=True)
    department_answer_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="部门答复登记人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="办结人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_note = models.TextField("办结说明", blank=True, max_length=2000)
    hidden_at = models.DateTimeField("隐藏时间", null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="隐藏操作人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    hidden_reason = models.CharField("隐藏原因", max_length=500, blank=True)
    # The city's policy `suggestions_premoderated` when it arrived: if on, the public sees it only once a
    # district officer or city administrator has released it; otherwise it is released on arrival.
    premoderated = models.BooleanField("须审核后公开", default=False)
    released_at = models.DateTimeField("公开时间", null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核放行人", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "意见建议"
        verbose_name_plural = "意见建议"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "received_at"], name="suggestion_unit_idx"),
            models.Index(fields=["district", "status", "due_on"], name="suggestion_district_due_idx"),
            models.Index(fields=["city", "status"], name="suggestion_city_status_idx"),
            # The staff list, newest first, of a city or a district (issue #15).
            models.Index(fields=["city", "-received_at", "-id"], name="suggestion_city_recv_idx"),
            models.Index(fields=["district", "-received_at", "-id"], name="suggestion_district_recv_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gte=F("received_on")), name="suggestion_due_after_receipt"),
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""), name="suggestion_hidden_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(forwarded_at__isnull=True) | Q(department__isnull=False),
                name="suggestion_forward_has_department",
            ),
        ]

    def __str__(self):
        return f"{self.tracking_code} · {self.unit_id}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def awaiting_release(self) -> bool:
        """Held for review before publication (policy `suggestions_premoderated`)."""
        return self.premoderated and self.released_at is None

    @property
    def is_closed(self) -> bool:
        return self.status == SuggestionStatus.CLOSED

    def is_overdue(self, today) -> bool:
        """Unanswered in public after the last day of the reply period (the period ends at the end of
        `due_on`). Closed and hidden suggestions are not overdue."""
        return (
            self.replied_at is None
            and self.status != SuggestionStatus.CLOSED
            and self.hidden_at is None
            and today > self.due_on
        )


def released_q(prefix: str = "") -> Q:
    """Suggestions the public may see as far as review goes: not held for review, or released. (Hidden
    ones are excluded separately.) `prefix` for lookups through a relation, e.g. "suggestion__"."""
    return Q(**{f"{prefix}premoderated": False}) | Q(**{f"{prefix}released_at__isnull": False})


def awaiting_release_q() -> Q:
    return Q(premoderated=True, released_at__isnull=True)


class SuggestionRecipient(models.Model):
    """A planner the suggestion was delivered to: those serving the unit on the day of receipt."""

    suggestion = models.ForeignKey(Suggestion, verbose_name="意见建议", on_delete=models.PROTECT, related_name="recipients")
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="suggestions_received"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登录账户", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivered_at = models.DateTimeField("送达时间")

    class Meta:
        verbose_name = "意见建议接收人"
        verbose_name_plural = "意见建议接收人"
        ordering = ["suggestion", "id"]
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "planner"], name="suggestion_recipient_unique"),
        ]

    def __str__(self):
        return f"{self.suggestion_id} → {self.planner}"


class SuggestionPhoto(models.Model):
    """An image the resident attached, stored outside the web root (rpms.core.uploads); shown only to
    the staff who may see the suggestion."""

    suggestion = models.ForeignKey(Suggestion, verbose_name="意见建议", on_delete=models.PROTECT, related_name="photos")
    path = models.CharField("存储路径", max_length=300, editable=False)
    original_name = models.CharField("原文件名", max_length=200)
    kind = models.CharField("格式", max_length=8)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        verbose_name = "意见建议图片"
        verbose_name_plural = "意见建议图片"
        ordering = ["suggestion", "id"]

    def __str__(self):
        return self.original_name


class SuggestionReply(models.Model):
    """A public reply (what was done, or why not). Replies are appended, never edited."""

    suggestion = models.ForeignKey(Suggestion, verbose_name="意见建议", on_delete=models.PROTECT, related_name="replies")
    text = models.TextField("答复内容", max_length=4000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="答复人账户", on_delete=models.PROTECT, related_name="+"
    )
    author_label = models.CharField("答复人（公开显示）", max_length=200)
    replied_at = models.DateTimeField("答复时间")

    class Meta:
        verbose_name = "意见建议答复"
        verbose_name_plural = "意见建议答复"
        ordering = ["suggestion", "replied_at", "id"]

    def __str__(self):
        return f"{self.suggestion_id} · {self.replied_at:%Y-%m-%d}"


class WorkProposalStatus(models.TextChoices):
    SUBMITTED = "submitted", "已提交，待聘任主体签收"
    ACKNOWLEDGED = "acknowledged", "聘任主体已签收"


class WorkProposal(StatusTransitions, TimeStampedModel):
    """B11(2): a planner's work proposal to the hiring entity, built from residents' suggestions."""

    TRANSITIONS = {"status": {
        WorkProposalStatus.SUBMITTED: {WorkProposalStatus.ACKNOWLEDGED},
        WorkProposalStatus.ACKNOWLEDGED: set(),
    }}


    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="work_proposals")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="work_proposals"
    )
    district = models.ForeignKey(
        "geography.District", verbose_name="所属区", on_delete=models.PROTECT, related_name="work_proposals"
    )
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="work_proposals"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提交账户", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("标题", max_length=200)
    analysis = models.TextField("问题分析", max_length=8000)
    recommendation = models.TextField("工作建议", max_length=8000)
    suggestions = models.ManyToManyField(Suggestion, verbose_name="所涉意见建议", related_name="proposals")
    status = models.CharField(
        "状态", max_length=16, choices=WorkProposalStatus.choices, default=WorkProposalStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField("提交时间")
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="签收人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledgement_note = models.TextField("签收意见", blank=True, max_length=4000)

    class Meta:
        verbose_name = "工作建议"
        verbose_name_plural = "工作建议"
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["unit", "status"], name="proposal_unit_status_idx")]

    def __str__(self):
        return self.title
