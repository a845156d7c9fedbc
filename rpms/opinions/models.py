"""Written opinions (书面意见, B11(3), P3(2)).

A planner serving a unit drafts an independent written opinion on a plan, a design scheme or a
project, declares that it has no conflict of interest with the project's parties (B16), and issues
it. Issuing freezes the content as canonical JSON with its SHA-256 hash and an issued document
(rpms.documents: number, verification code, PDF). From then on the opinion is immutable: the
services refuse any change, and this module refuses it too (save(), queryset update/delete, the
recipient departments and the attachments), so no path — page, API, admin, shell — can alter what
was issued. A correction is a new version that supersedes the old one; both are kept."""
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from rpms.core.errors import Conflict
from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions


class OpinionStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    ISSUED = "issued", "已出具"
    SUPERSEDED = "superseded", "已被更正版本替代"


# The only moves an opinion makes; everything else is refused (services and model guard).
STATUS_TRANSITIONS = {
    OpinionStatus.DRAFT: {OpinionStatus.ISSUED},
    OpinionStatus.ISSUED: {OpinionStatus.SUPERSEDED},
    OpinionStatus.SUPERSEDED: set(),
}


class SubjectKind(models.TextChoices):
    # B11(3): 规划编制和建设项目 … 规划、设计、实施方案审查; P3(2): 规划编制方案、建设工程设计方案.
    PLAN = "plan", "规划编制方案"
    DESIGN_SCHEME = "design_scheme", "建设工程设计方案"
    IMPLEMENTATION_SCHEME = "implementation_scheme", "实施方案"
    PROJECT = "project", "建设项目"


class InterestDeclaration(models.TextChoices):
    NONE_MADE = "", "尚未声明"
    NO_CONFLICT = "no_conflict", "无利益冲突"
    CONFLICT = "conflict", "存在利益冲突"


class ResponseOutcome(models.TextChoices):
    ADOPTED = "adopted", "采纳"
    PARTLY_ADOPTED = "partly_adopted", "部分采纳"
    NOT_ADOPTED = "not_adopted", "未采纳"


class Responder(models.TextChoices):
    DESIGN_UNIT = "design_unit", "设计单位"
    DEPARTMENT = "department", "相关部门"


class OpinionImmutable(Conflict):
    """An issued (or superseded) opinion is never changed: a correction is a new version."""

    default_code = "opinion_immutable"

    def __init__(self, message: str = "书面意见出具后不得修改；如需更正，请出具更正版本（新版本替代原意见，两者均保留）。", **kwargs):
        super().__init__(message, **kwargs)


# Everything that makes up what was issued. After issuing none of these may change.
FROZEN_FIELDS = (
    "city_id", "unit_id", "author_id", "planner_id", "appointment_id", "version", "supersedes_id",
    "correction_reason", "title", "subject", "subject_kind", "developer", "design_unit",
    "reviewed_documents", "findings", "recommendations", "hiring_entity_name", "interest_declaration",
    "interest_note", "interest_declared_at", "content", "content_hash", "document_id", "issued_at", "issued_by_id",
)


class WrittenOpinionQuerySet(models.QuerySet):
    def issued_or_superseded(self):
        return self.exclude(status=OpinionStatus.DRAFT)

    def update(self, **kwargs):
        # A bulk update bypasses save(); refuse it for anything already issued unless it only
        # moves issued → superseded (the one change the supersede act makes).
        allowed = {"status", "superseded_at", "updated_at"}
        touches_frozen = bool(set(kwargs) - allowed)
        wrong_status = "status" in kwargs and kwargs["status"] != OpinionStatus.SUPERSEDED
        if (touches_frozen or wrong_status) and self.exclude(status=OpinionStatus.DRAFT).exists():
            raise OpinionImmutable()
        return super().update(**kwargs)

    def delete(self):
        if self.exclude(status=OpinionStatus.DRAFT).exists():
            raise OpinionImmutable("已出具的书面意见不得删除。")
        return super().delete()


class WrittenOpinion(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": STATUS_TRANSITIONS}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="opinions")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="opinions"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="起草人（账户）", on_delete=models.PROTECT, related_name="authored_opinions"
    )
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师（团队）", on_delete=models.PROTECT, related_name="opinions"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="出具时所依据的派驻聘任", null=True, blank=True,
        on_delete=models.PROTECT, related_name="opinions",
    )
    version = models.PositiveSmallIntegerField("版本", default=1)
    supersedes = models.OneToOneField(
        "self", verbose_name="所更正的原意见", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_reason = models.TextField("更正说明", blank=True)
    title = models.CharField("标题", max_length=200)
    subject = models.CharField("审查对象（规划、方案或项目名称）", max_length=200)
    subject_kind = models.CharField("审查对象类型", max_length=32, choices=SubjectKind.choices)
    developer = models.CharField("建设单位（项目单位）", max_length=200, blank=True)
    design_unit = models.CharField("设计单位", max_length=200, blank=True)
    reviewed_documents = models.JSONField("审查的文件", default=list, blank=True)
    findings = models.TextField("审查意见（发现的问题）", blank=True)
    recommendations = models.TextField("优化建议和修改方向", blank=True)
    hiring_entity_name = models.CharField("聘任主体", max_length=300, blank=True, help_text="出具时自动取自派驻聘任")
    departments = models.ManyToManyField(
        "geography.Department", verbose_name="抄送相关部门", blank=True, related_name="opinions"
    )
    interest_declaration = models.CharField(
        "利益冲突声明", max_length=16, choices=InterestDeclaration.choices, blank=True, default=InterestDeclaration.NONE_MADE
    )
    interest_note = models.TextField("声明说明", blank=True)
    interest_declared_at = models.DateTimeField("声明时间", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=OpinionStatus.choices, default=OpinionStatus.DRAFT)
    content = models.JSONField("出具内容（冻结）", default=dict, blank=True)
    content_hash = models.CharField("内容摘要（SHA-256）", max_length=64, blank=True)
    document = models.OneToOneField(
        "documents.IssuedDocument", verbose_name="文书", null=True, blank=True, on_delete=models.PROTECT,
        related_name="written_opinion",
    )
    issued_at = models.DateTimeField("出具时间", null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="出具人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    superseded_at = models.DateTimeField("被替代时间", null=True, blank=True)

    objects = WrittenOpinionQuerySet.as_manager()

    class Meta:
        verbose_name = "书面意见"
        verbose_name_plural = "书面意见"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["city", "status"], name="opinion_city_status_idx"),
            models.Index(fields=["unit", "status"], name="opinion_unit_status_idx"),
            # The lists, newest issued first (drafts, not issued yet, first): everything / a city / a unit; the
            # inbox by (issued_at, id) (issue #15).
            models.Index(fields=["-issued_at", "-created_at", "-id"], name="opinion_issued_idx"),
            models.Index(fields=["city", "-issued_at", "-created_at", "-id"], name="opinion_city_issued_idx"),
            models.Index(fields=["unit", "-issued_at", "-created_at", "-id"], name="opinion_unit_issued_idx"),
            models.Index(fields=["-issued_at", "-id"], name="opinion_inbox_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="opinion_version_positive"),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(issued_at__isnull=False) & Q(document__isnull=False) & ~Q(content_hash="")),
                name="opinion_issued_has_document_and_hash",
            ),
            models.CheckConstraint(
                condition=~Q(status="superseded") | Q(superseded_at__isnull=False),
                name="opinion_superseded_has_date",
            ),
            models.CheckConstraint(
                condition=(Q(version=1) & Q(supersedes__isnull=True)) | (Q(version__gt=1) & Q(supersedes__isnull=False)),
                name="opinion_version_matches_supersedes",
            ),
        ]

    def __str__(self):
        return f"{self.title}（第 {self.version} 版）"

    # --- state ---------------------------------------------------------------------------------

    @property
    def is_draft(self) -> bool:
        return self.status == OpinionStatus.DRAFT

    @property
    def is_issued(self) -> bool:
        return self.status == OpinionStatus.ISSUED

    def can_become(self, status: str) -> bool:
        return self.can_transition(status)

    def newer_version(self, *, include_draft: bool = False):
        """The version that corrects this one (None if none; a draft correction only if asked)."""
        try:
            newer = self.superseded_by
        except ObjectDoesNotExist:
            return None
        if newer is not None and newer.status == OpinionStatus.DRAFT and not include_draft:
            return None
        return newer

    @property
    def declaration_made(self) -> bool:
        return self.interest_declaration in (InterestDeclaration.NO_CONFLICT, InterestDeclaration.CONFLICT)

    @property
    def has_conflict(self) -> bool:
        return self.interest_declaration == InterestDeclaration.CONFLICT

    # --- the immutability guard ------------------------------------------------------------------

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk is not None:
            stored = (
                type(self).objects.filter(pk=self.pk).values("status", *FROZEN_FIELDS).first()
            )
            if stored is not None and stored["status"] != OpinionStatus.DRAFT:
                changed = [name for name in FROZEN_FIELDS if stored[name] != getattr(self, name)]
                if changed:
                    raise OpinionImmutable()
                if self.status != stored["status"] and self.status not in STATUS_TRANSITIONS[OpinionStatus(stored["status"])]:
                    raise OpinionImmutable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk is not None and type(self).objects.filter(pk=self.pk).exclude(status=OpinionStatus.DRAFT).exists():
            raise OpinionImmutable("已出具的书面意见不得删除。")
        return super().delete(*args, **kwargs)


@receiver(m2m_changed, sender=WrittenOpinion.departments.through)
def _refuse_recipient_change_after_issue(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    if reverse:
        # From a department's side: `pk_set` names the opinions (None when clearing all of them).
        touched = WrittenOpinion.objects.filter(departments=instance) if pk_set is None else (
            WrittenOpinion.objects.filter(pk__in=pk_set)
        )
        if touched.exclude(status=OpinionStatus.DRAFT).exists():
            raise OpinionImmutable()
        return
    if WrittenOpinion.objects.filter(pk=instance.pk).exclude(status=OpinionStatus.DRAFT).exists():
        raise OpinionImmutable()


class OpinionAttachment(models.Model):
    """An uploaded reviewed document (PDF/JPEG/PNG via rpms.core.uploads), stored outside the web
    root; its SHA-256 is part of the issued content."""

    opinion = models.ForeignKey(WrittenOpinion, verbose_name="书面意见", on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField("文件名称", max_length=200)
    path = models.CharField("存储路径", max_length=300)
    original_name = models.CharField("原文件名", max_length=200)
    kind = models.CharField("类型", max_length=8)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "审查文件附件"
        verbose_name_plural = "审查文件附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.title

    def _opinion_frozen(self) -> bool:
        return WrittenOpinion.objects.filter(pk=self.opinion_id).exclude(status=OpinionStatus.DRAFT).exists()

    def save(self, *args, **kwargs):
        if self._opinion_frozen():
            raise OpinionImmutable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._opinion_frozen():
            raise OpinionImmutable()
        return super().delete(*args, **kwargs)


class OpinionResponse(models.Model):
    """The design unit's response (adopted / partly / not, with reasons) or a department's answer,
    recorded by the planner or the hiring entity who received it (departments do not log in)."""

    opinion = models.ForeignKey(WrittenOpinion, verbose_name="书面意见", on_delete=models.PROTECT, related_name="responses")
    responder = models.CharField("反馈方", max_length=16, choices=Responder.choices)
    department = models.ForeignKey(
        "geography.Department", verbose_name="部门", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responder_name = models.CharField("反馈单位名称", max_length=200)
    outcome = models.CharField("采纳情况", max_length=16, choices=ResponseOutcome.choices)
    reasons = models.TextField("理由或说明", blank=True)
    responded_on = models.DateField("反馈日期")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "书面意见反馈"
        verbose_name_plural = "书面意见反馈"
        ordering = ["responded_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opinion"], condition=Q(responder="design_unit"), name="opinion_one_design_unit_response"
            ),
            models.UniqueConstraint(
                fields=["opinion", "department"], condition=Q(responder="department"), name="opinion_one_answer_per_department"
            ),
            models.CheckConstraint(
                condition=(Q(responder="department") & Q(department__isnull=False))
                | (Q(responder="design_unit") & Q(department__isnull=True)),
                name="opinion_response_department_matches_responder",
            ),
        ]

    def __str__(self):
        return f"{self.responder_name}：{self.get_outcome_display()}"


class OpinionReceipt(models.Model):
    """A read receipt: who of the recipients (hiring entity, district) opened the opinion, and when."""

    opinion = models.ForeignKey(WrittenOpinion, verbose_name="书面意见", on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="阅读人", on_delete=models.PROTECT, related_name="+")
    read_at = models.DateTimeField("阅读时间")

    class Meta:
        verbose_name = "阅读回执"
        verbose_name_plural = "阅读回执"
        ordering = ["read_at", "id"]
        constraints = [models.UniqueConstraint(fields=["opinion", "user"], name="opinion_one_receipt_per_user")]

    def __str__(self):
        return f"{self.user} {self.read_at:%Y-%m-%d %H:%M}"

