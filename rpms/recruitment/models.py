"""Recruitment records: calls (P5(1), P5(3)), applications with proofs and their eligibility
(B18, P4), review (P5(1)), public notices with objections and admission (P5(2))."""
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core import clock
from rpms.core.fields import BlindIndexedModel, BlindIndexField, EncryptedCharField
from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions



class CallKind(models.TextChoices):
    OPEN = "open", "公开征集"
    TARGETED = "targeted", "定向补充"


class CallStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class OpenCall(StatusTransitions, TimeStampedModel):
    """公开征集 (P5(1)) or 定向补充 (P5(3)): requirements, wanted specialties and a deadline.
    Whether it still accepts applications is computed from the deadline, not flipped by a job."""

    TRANSITIONS = {"status": {
        CallStatus.DRAFT: {CallStatus.PUBLISHED, CallStatus.WITHDRAWN},
        CallStatus.PUBLISHED: {CallStatus.WITHDRAWN},
        CallStatus.WITHDRAWN: set(),
    }}


    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="calls")
    title = models.CharField("标题", max_length=200)
    kind = models.CharField("类型", max_length=16, choices=CallKind.choices, default=CallKind.OPEN)
    requirements = models.TextField("征集要求", blank=True)
    specialties = models.JSONField("需求专业领域", default=list, blank=True)
    deadline = models.DateField("报名截止日期")
    status = models.CharField("状态", max_length=16, choices=CallStatus.choices, default=CallStatus.DRAFT)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "征集公告"
        verbose_name_plural = "征集公告"
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["city", "status"], name="call_city_status_idx")]

    def __str__(self):
        return self.title

    @property
    def article(self) -> str:
        from rpms.cities.selectors import policy_article

        return policy_article(self.city, "call_targeted" if self.kind == CallKind.TARGETED else "call_open")

    @property
    def is_published(self) -> bool:
        return self.status == CallStatus.PUBLISHED

    def accepts_applications(self, today=None) -> bool:
        today = today or clock.today()
        return self.is_published and today <= self.deadline


class ApplicationKind(models.TextChoices):
    INDIVIDUAL = "individual", "个人"
    TEAM = "team", "团队"


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交，待审核"
    APPROVED = "approved", "审核通过，待公示"
    REJECTED = "rejected", "未通过审核"
    ON_NOTICE = "on_notice", "公示中"
    CANCELLED = "cancelled", "已取消入库资格"
    ADMITTED = "admitted", "已入库"


# The transitions services may make (CONVENTIONS: an explicit table of allowed transitions).
APPLICATION_TRANSITIONS = {
    ApplicationStatus.DRAFT: {ApplicationStatus.SUBMITTED},
    ApplicationStatus.SUBMITTED: {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED},
    ApplicationStatus.APPROVED: {ApplicationStatus.ON_NOTICE},
    ApplicationStatus.ON_NOTICE: {ApplicationStatus.CANCELLED, ApplicationStatus.ADMITTED},
    ApplicationStatus.REJECTED: set(),
    ApplicationStatus.CANCELLED: set(),
    ApplicationStatus.ADMITTED: set(),
}

SCORE_KEYS = {
    "background": "专业背景",
    "title": "职称资历",
    "experience": "实践经验",
    "local_familiarity": "属地熟悉度",
}
SCORE_MAX = 100


class Application(BlindIndexedModel, StatusTransitions, TimeStampedModel):
    """An application to a call, as an individual or for a team (the fields are the leader's, B18)."""

    TRANSITIONS = {"status": APPLICATION_TRANSITIONS}


    call = models.ForeignKey(OpenCall, verbose_name="征集公告", on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请账户", on_delete=models.PROTECT, related_name="applications"
    )
    kind = models.CharField("申请类型", max_length=16, choices=ApplicationKind.choices, default=ApplicationKind.INDIVIDUAL)
    team_name = models.CharField("团队名称", max_length=100, blank=True)
    name = models.CharField("姓名（团队为负责人）", max_length=100)
    id_number = EncryptedCharField("身份证号", max_length=18)
    id_number_index = BlindIndexField("身份证号检索索引", source="id_number")
    mobile = EncryptedCharField("手机号", max_length=11)
    email = models.EmailField("电子邮箱", blank=True)
    employer = models.CharField("工作单位", max_length=200, blank=True)
    degree = models.CharField("学历", max_length=20, choices=DegreeLevel.choices, default=DegreeLevel.NONE)
    major = models.CharField("所学专业", max_length=100, blank=True)
    degree_field = models.CharField("学历专业领域代码", max_length=50, blank=True)
    title_level = models.CharField("职称等级", max_length=20, choices=TitleLevel.choices, default=TitleLevel.NONE)
    title_field = models.CharField("职称专业领域代码", max_length=50, blank=True)
    registrations = models.JSONField("执业资格", default=list, blank=True)
    experience_years = models.PositiveSmallIntegerField("相关工作年限", default=0)
    specialties = models.JSONField("擅长专业领域", default=list, blank=True)
    familiar_districts = models.ManyToManyField(
        "geography.District", verbose_name="熟悉的区", blank=True, related_name="+"
    )
    declarations = models.JSONField("申请人声明", default=list, blank=True)
    eligibility = models.JSONField("资格审查结果", default=dict, blank=True)
    eligible = models.BooleanField("符合选聘条件", default=False)
    status = models.CharField("状态", max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT)
    scores = models.JSONField("评分", default=dict, blank=True)
    decision_reason = models.TextField("审核意见", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    noticed_at = models.DateTimeField("公示时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    admitted_at = models.DateTimeField("入库时间", null=True, blank=True)
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="入库记录", null=True, blank=True, on_delete=models.SET_NULL, related_name="applications"
    )
    # A person already in the city's registry who applies again: the record compared and what changed
    # (the form starts from the dossier; the reviewer sees every change, old → new).
    prior_planner = models.ForeignKey(
        "registry.Planner", verbose_name="资源库中的原档案", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="reapplications",
    )
    changes = models.JSONField("与原档案相比的变化", default=list, blank=True)

    class Meta:
        verbose_name = "入库申请"
        verbose_name_plural = "入库申请"
        ordering = ["call", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "applicant"], name="application_one_per_applicant"),
            models.UniqueConstraint(fields=["call", "id_number_index"], name="application_one_per_id_number"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.kind == ApplicationKind.TEAM and self.team_name:
            return f"{self.team_name}（负责人：{self.name}）"
        return self.name

    @property
    def city(self):
        return self.call.city

    @property
    def score_total(self):
        values = [v for v in (self.scores or {}).values() if isinstance(v, (int, float))]
        return sum(values) if values else None

    def can_move_to(self, status) -> bool:
        return self.can_transition(status)


class Proof(models.Model):
    """An uploaded proof (PDF/JPEG/PNG), stored outside the web root (rpms.core.uploads)."""

    application = models.ForeignKey(Application, verbose_name="申请", on_delete=models.CASCADE, related_name="proofs")
    label = models.CharField("材料名称", max_length=100, blank=True)
    path = models.CharField("存储路径", max_length=500)
    original_name = models.CharField("原文件名", max_length=255)
    kind = models.CharField("文件类型", max_length=10)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "证明材料"
        verbose_name_plural = "证明材料"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class PublicNotice(TimeStampedModel):
    """公示 (P5(2)): the approved candidates of a call, from `start` to `end` (start + the policy's
    notice_working_days working days, computed by rpms.workdays; the explanation is kept).

    Open, ended and closed are computed from the dates and `closed_at`."""

    call = models.ForeignKey(OpenCall, verbose_name="征集公告", on_delete=models.PROTECT, related_name="notices")
    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("标题", max_length=200)
    start = models.DateField("公示开始日期")
    end = models.DateField("公示截止日期")
    working_days = models.PositiveSmallIntegerField("公示期（工作日）")
    explanation = models.JSONField("截止日期计算说明", default=list, blank=True)
    provisional = models.BooleanField("按暂定日历计算", default=False)
    backdated = models.BooleanField("补录（开始日期早于发布日）", default=False)
    # A backdated notice records one published elsewhere: the original's address and/or its scan.
    evidence_url = models.URLField("原公示网址", max_length=500, blank=True)
    evidence_path = models.CharField("原公示扫描件存储路径", max_length=500, blank=True)
    evidence_name = models.CharField("原公示扫描件文件名", max_length=255, blank=True)
    evidence_kind = models.CharField("原公示扫描件类型", max_length=10, blank=True)
    evidence_size = models.PositiveIntegerField("原公示扫描件大小（字节）", null=True, blank=True)
    evidence_sha256 = models.CharField("原公示扫描件 SHA-256", max_length=64, blank=True)
    published_at = models.DateTimeField("发布时间")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="结束人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "入库公示"
        verbose_name_plural = "入库公示"
        ordering = ["-start", "-id"]
        constraints = [models.CheckConstraint(condition=Q(start__lte=F("end")), name="notice_start_lte_end")]

    def __str__(self):
        return self.title

    def is_open(self, today=None) -> bool:
        today = today or clock.today()
        return self.closed_at is None and self.start <= today <= self.end

    def has_ended(self, today=None) -> bool:
        today = today or clock.today()
        return today > self.end

    def not_started(self, today=None) -> bool:
        today = today or clock.today()
        return today < self.start

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def has_evidence_scan(self) -> bool:
        return bool(self.evidence_path)

    def state_label(self, today=None) -> str:
        if self.is_closed:
            return "已结束，已办理入库"
        if self.not_started(today):
            return "尚未开始"
        if self.is_open(today):
            return "公示中"
        return "公示期已满，待办理入库"


class NoticeRecomputation(models.Model):
    """A notice's end recomputed because a year's holiday schedule was entered, replaced or removed
    after the end was computed (rpms.workdays.hooks). Shown on the notice; never edited."""

    notice = models.ForeignKey(PublicNotice, verbose_name="公示", on_delete=models.CASCADE, related_name="recomputations")
    year = models.PositiveSmallIntegerField("变动的年度")
    reason = models.CharField("原因", max_length=300)
    old_end = models.DateField("原截止日期")
    new_end = models.DateField("新截止日期")
    old_working_days = models.PositiveSmallIntegerField("原公示期（工作日）")
    new_working_days = models.PositiveSmallIntegerField("新公示期（工作日）")
    old_provisional = models.BooleanField("原按暂定日历计算", default=False)
    recomputed_at = models.DateTimeField("重新计算时间")
    recomputed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "公示期重新计算"
        verbose_name_plural = "公示期重新计算"
        ordering = ["recomputed_at", "id"]

    def __str__(self):
        return f"{self.notice}：{self.old_end:%Y-%m-%d} → {self.new_end:%Y-%m-%d}"

    @property
    def describe(self) -> str:
        text = f"原截止日期 {self.old_end:%Y-%m-%d}，现截止日期 {self.new_end:%Y-%m-%d}"
        if self.old_end == self.new_end:
            text = f"截止日期 {self.new_end:%Y-%m-%d} 不变"
        if self.old_working_days != self.new_working_days:
            text += f"（公示期由 {self.old_working_days} 个工作日计为 {self.new_working_days} 个工作日）"
        return text


class NoticeEntry(models.Model):
    notice = models.ForeignKey(PublicNotice, verbose_name="公示", on_delete=models.CASCADE, related_name="entries")
    application = models.OneToOneField(
        Application, verbose_name="申请", on_delete=models.PROTECT, related_name="notice_entry"
    )
    cancelled = models.BooleanField("已取消入库资格", default=False)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)

    class Meta:
        verbose_name = "公示人选"
        verbose_name_plural = "公示人选"
        ordering = ["notice", "id"]

    def __str__(self):
        return str(self.application)


class ObjectionResolution(models.TextChoices):
    UPHELD = "upheld", "异议成立"
    REJECTED = "rejected", "异议不成立"


class Objection(models.Model):
    """An objection raised while a notice is open (P5(2)). The contact details are for the bureau
    only and are never shown publicly; the finding is published."""

    notice = models.ForeignKey(PublicNotice, verbose_name="公示", on_delete=models.PROTECT, related_name="objections")
    entry = models.ForeignKey(NoticeEntry, verbose_name="被反映人选", on_delete=models.PROTECT, related_name="objections")
    content = models.TextField("反映内容")
    contact_name = EncryptedCharField("联系人", max_length=50)  # SM4-encrypted at rest (rpms.core.fields)
    contact_phone = EncryptedCharField("联系电话", max_length=20)
    received_at = models.DateTimeField("收到时间")
    resolution = models.CharField("处理结论", max_length=16, choices=ObjectionResolution.choices, blank=True)
    finding = models.TextField("核查结果", blank=True)
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finding_published_at = models.DateTimeField("结果公布时间", null=True, blank=True)

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["received_at", "id"]

    def __str__(self):
        return f"对 {self.entry} 的异议"

    @property
    def is_resolved(self) -> bool:
        return bool(self.resolution)

    @property
    def upheld(self) -> bool:
        return self.resolution == ObjectionResolution.UPHELD
