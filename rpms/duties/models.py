"""Duties: what an appointed planner does in its units and what it is owed.

- DutyRecord (履职记录, B11 / P3): a day's work in one unit under the city's duty categories, with the
  zone-type focus it served (B13), evidence files, and the hiring entity's confirmation or query.
  Once confirmed it is locked: the model refuses to change or delete it.
- DataRequest (B14(3)): the planner asks the hiring entity or a department for status data or plans;
  delivered with materials (each public or non-public, B16(1)) or refused with a reason.
- WorkCertificate (B14(4)): issued by the hiring entity from CONFIRMED records only, as a document
  with a verification code (rpms.documents).
- ExtraWork (B12): work under a separate contract, recorded against the appointment.
- MonitoringFeedback (B11(6)): an issue found in plan implementation or the city health check, filed
  to the district (or a department) and tracked to an answer.

States are TextChoices with one timestamp per milestone and explicit transition tables."""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions


class LockedRecordError(Exception):
    """Raised when anything tries to change or delete a confirmed duty record outside the services."""


# --- duty records ----------------------------------------------------------------------------------


class DutyStatus(models.TextChoices):
    SUBMITTED = "submitted", "待确认"
    QUERIED = "queried", "有疑问待答复"
    CONFIRMED = "confirmed", "已确认"


DUTY_TRANSITIONS = {
    DutyStatus.SUBMITTED: {DutyStatus.CONFIRMED, DutyStatus.QUERIED},
    DutyStatus.QUERIED: {DutyStatus.SUBMITTED},  # the planner answers (and may edit), then resubmits
    DutyStatus.CONFIRMED: set(),  # locked
}

MAX_HOURS_PER_RECORD = Decimal(24)


class DutyRecordQuerySet(models.QuerySet):
    def delete(self):
        if self.filter(status=DutyStatus.CONFIRMED).exists():
            raise LockedRecordError("已确认的履职记录已锁定，不能删除。")
        return super().delete()

    def update(self, **kwargs):
        # Status changes go through the services; a bulk update must not touch a confirmed record.
        if self.filter(status=DutyStatus.CONFIRMED).exists():
            raise LockedRecordError("已确认的履职记录已锁定，不能修改。")
        cities = set(self.order_by().values_list("city_id", flat=True).distinct())
        result = super().update(**kwargs)
        _bump_summaries(cities)
        return result

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        _bump_summaries({obj.city_id for obj in created})
        return created


def _bump_summaries(city_ids) -> None:
    """The cached hours summaries of these cities are stale (selectors.summary_cache_scope)."""
    from rpms.core import pubcache

    pubcache.bump(*(f"duties:{city_id}" for city_id in city_ids if city_id))


class DutyRecord(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": DUTY_TRANSITIONS}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="duty_records")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="duty_records"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", on_delete=models.PROTECT, related_name="duty_records"
    )
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="duty_records"
    )
    category = models.CharField("工作职责类别", max_length=50, help_text="城市政策配置 duty_categories 中的代码")
    date = models.DateField("日期", db_index=True)
    hours = models.DecimalField("时长（小时）", max_digits=4, decimal_places=1)
    place = models.CharField("地点", max_length=200)
    participants = models.CharField("参与人员", max_length=500, blank=True)
    description = models.TextField("工作内容")
    focus = models.JSONField("服务的工作重点", default=list, blank=True, help_text="本单元功能区类型的工作重点（B13）")
    status = models.CharField("状态", max_length=16, choices=DutyStatus.choices, default=DutyStatus.SUBMITTED)
    submitted_at = models.DateTimeField("提交时间")
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = DutyRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "履职记录"
        verbose_name_plural = "履职记录"
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["planner", "date"], name="duty_planner_date_idx"),
            models.Index(fields=["unit", "status"], name="duty_unit_status_idx"),
            # The records list, newest first (issue #15): everything / a district's units / a city / a unit.
            models.Index(fields=["-date", "-id"], name="duty_date_id_idx"),
            models.Index(fields=["city", "-date", "-id"], name="duty_city_date_idx"),
            models.Index(fields=["unit", "-date", "-id"], name="duty_unit_date_idx"),
            # A city's day and category totals over a month or year (calendar, summaries) read from the index
            # alone on PostgreSQL (an index-only scan; `include` is ignored elsewhere).
            models.Index(fields=["city", "date"], include=["id", "hours", "status", "category"],
                         name="duty_city_date_hours_idx"),
            models.Index(fields=["unit", "date"], include=["id", "city", "planner", "hours", "status", "category"],
                         name="duty_unit_date_hours_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0) & Q(hours__lte=24), name="duty_hours_0_24"),
            models.CheckConstraint(
                condition=Q(status="confirmed", confirmed_at__isnull=False) | ~Q(status="confirmed"),
                name="duty_confirmed_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.planner} · {self.unit}"

    @property
    def is_locked(self) -> bool:
        return self.status == DutyStatus.CONFIRMED

    def can_become(self, status: str) -> bool:
        return self.can_transition(status)

    def category_label(self, policy=None) -> str:
        policy = policy or self.city.policy
        item = policy.duty_category(self.category)
        # A category the city's policy no longer lists is not shown by its code (issue #17 item 3).
        return item["label"] if item else "本市政策中已无此类别"

    def _stored_status(self):
        if self.pk is None:
            return None
        return type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()

    def save(self, *args, **kwargs):
        # Defence in depth behind the services and the read-only admin: a confirmed record is locked.
        if self._stored_status() == DutyStatus.CONFIRMED:
            raise LockedRecordError("已确认的履职记录已锁定，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_status() == DutyStatus.CONFIRMED:
            raise LockedRecordError("已确认的履职记录已锁定，不能删除。")
        return super().delete(*args, **kwargs)


class DutyQuery(models.Model):
    """A question the hiring entity (or district officer) asked about a record, and the planner's answer."""

    record = models.ForeignKey(DutyRecord, verbose_name="履职记录", on_delete=models.CASCADE, related_name="queries")
    question = models.TextField("疑问")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提出人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked_at = models.DateTimeField("提出时间")
    answer = models.TextField("答复", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="答复人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)

    class Meta:
        verbose_name = "履职记录疑问"
        verbose_name_plural = "履职记录疑问"
        ordering = ["asked_at", "id"]

    def __str__(self):
        return self.question[:50]


class StoredFile(models.Model):
    """A file kept by rpms.core.uploads outside the web root (the path is relative to it)."""

    label = models.CharField("名称", max_length=100, blank=True)
    path = models.CharField("存储路径", max_length=500)
    original_name = models.CharField("原文件名", max_length=255)
    kind = models.CharField("文件类型", max_length=10)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.label or self.original_name

    @property
    def is_image(self) -> bool:
        return self.kind in ("jpeg", "png")


class DutyEvidence(StoredFile):
    record = models.ForeignKey(DutyRecord, verbose_name="履职记录", on_delete=models.CASCADE, related_name="evidence")

    class Meta(StoredFile.Meta):
        verbose_name = "履职佐证材料"
        verbose_name_plural = "履职佐证材料"


# --- data requests ---------------------------------------------------------------------------------


class Addressee(models.TextChoices):
    ENTITY = "entity", "聘任主体"
    DEPARTMENT = "department", "政府相关部门"


class DataRequestStatus(models.TextChoices):
    SUBMITTED = "submitted", "已提交待答复"
    DELIVERED = "delivered", "已提供"
    REFUSED = "refused", "不予提供"


DATA_REQUEST_TRANSITIONS = {
    DataRequestStatus.SUBMITTED: {DataRequestStatus.DELIVERED, DataRequestStatus.REFUSED},
    DataRequestStatus.DELIVERED: set(),
    DataRequestStatus.REFUSED: set(),
}


class DataRequest(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": DATA_REQUEST_TRANSITIONS}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="data_requests")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="data_requests"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", on_delete=models.PROTECT, related_name="data_requests"
    )
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="data_requests"
    )
    addressee = models.CharField("申请对象", max_length=16, choices=Addressee.choices)
    department = models.ForeignKey(
        "geography.Department", verbose_name="相关部门", null=True, blank=True, on_delete=models.PROTECT,
        related_name="data_requests",
    )
    title = models.CharField("所需资料", max_length=200)
    content = models.TextField("资料内容及范围")
    purpose = models.TextField("用途", blank=True)
    needed_by = models.DateField("希望提供日期", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=DataRequestStatus.choices, default=DataRequestStatus.SUBMITTED)
    submitted_at = models.DateTimeField("提交时间")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="答复人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivery_note = models.TextField("提供说明", blank=True)
    refusal_reason = models.TextField("不予提供理由", blank=True)

    class Meta:
        verbose_name = "资料申请"
        verbose_name_plural = "资料申请"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(addressee="entity", department__isnull=True)
                | Q(addressee="department", department__isnull=False),
                name="data_request_addressee_department",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""), name="data_request_refusal_has_reason"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def addressee_name(self) -> str:
        if self.addressee == Addressee.DEPARTMENT and self.department_id:
            return self.department.name
        return "聘任主体（街道/乡镇/园区）"

    def can_become(self, status: str) -> bool:
        return self.can_transition(status)


class DataMaterial(StoredFile):
    request = models.ForeignKey(DataRequest, verbose_name="资料申请", on_delete=models.PROTECT, related_name="materials")
    is_public = models.BooleanField("可公开", default=False, help_text="未公开的材料仅申请人、聘任主体和区级工作人员可下载（B16(1)）")

    class Meta(StoredFile.Meta):
        verbose_name = "提供的资料"
        verbose_name_plural = "提供的资料"


class DownloadLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LockedRecordError("下载记录只能追加，不能修改。")

    def delete(self):
        raise LockedRecordError("下载记录只能追加，不能删除。")


class DownloadLog(models.Model):
    """Each download of a delivered material (B16(1)): who, when, from where. Append-only."""

    material = models.ForeignKey(DataMaterial, verbose_name="资料", on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="下载人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    user_repr = models.CharField("下载人名称", max_length=150)
    at = models.DateTimeField("时间", db_index=True)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    is_public = models.BooleanField("当时是否可公开")

    objects = DownloadLogQuerySet.as_manager()

    class Meta:
        verbose_name = "资料下载记录"
        verbose_name_plural = "资料下载记录"
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LockedRecordError("下载记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LockedRecordError("下载记录只能追加，不能删除。")


# --- work certificates -----------------------------------------------------------------------------


class WorkCertificate(TimeStampedModel):
    """B14(4): issued by the hiring entity for a period from the CONFIRMED records of its units."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="work_certificates")
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="work_certificates"
    )
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间结束")
    issuer_name = models.CharField("出具单位", max_length=200)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("出具时间")
    units = models.ManyToManyField("geography.ResponsibilityUnit", verbose_name="责任单元", related_name="work_certificates")
    records = models.ManyToManyField(DutyRecord, verbose_name="依据的履职记录", related_name="work_certificates")
    record_count = models.PositiveIntegerField("履职记录数")
    total_hours = models.DecimalField("合计时长（小时）", max_digits=8, decimal_places=1)
    summary = models.JSONField("按类别汇总", default=list)
    document = models.OneToOneField(
        "documents.IssuedDocument", verbose_name="文书", null=True, blank=True, on_delete=models.PROTECT,
        related_name="work_certificate", help_text="与证明在同一事务中出具",
    )

    class Meta:
        verbose_name = "工作证明"
        verbose_name_plural = "工作证明"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="work_certificate_period_order"),
        ]

    def __str__(self):
        return f"{self.planner} 工作证明 {self.period_start}—{self.period_end}"


# --- extra contracted work (B12) -------------------------------------------------------------------


class ExtraWorkKind(models.TextChoices):
    SPECIAL_STUDY = "special_study", "专题研究"
    FEASIBILITY = "feasibility", "可行性分析"
    PLAN_MAKING = "plan_making", "规划编制"
    DESIGN = "design", "方案设计"
    HEALTH_CHECK = "health_check", "体检评估"
    OTHER = "other", "其他"


class ExtraWorkStatus(models.TextChoices):
    SIGNED = "signed", "已签订合同"
    IN_PROGRESS = "in_progress", "实施中"
    COMPLETED = "completed", "已完成"
    TERMINATED = "terminated", "已终止"


EXTRA_WORK_TRANSITIONS = {
    ExtraWorkStatus.SIGNED: {ExtraWorkStatus.IN_PROGRESS, ExtraWorkStatus.COMPLETED, ExtraWorkStatus.TERMINATED},
    ExtraWorkStatus.IN_PROGRESS: {ExtraWorkStatus.COMPLETED, ExtraWorkStatus.TERMINATED},
    ExtraWorkStatus.COMPLETED: set(),
    ExtraWorkStatus.TERMINATED: set(),
}


class ExtraWork(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": EXTRA_WORK_TRANSITIONS}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="extra_works")
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", on_delete=models.PROTECT, related_name="extra_works"
    )
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="extra_works"
    )
    planner = models.ForeignKey("registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="extra_works")
    kind = models.CharField("工作类型", max_length=20, choices=ExtraWorkKind.choices)
    title = models.CharField("项目名称", max_length=200)
    scope = models.TextField("工作内容及范围")
    fee_yuan = models.DecimalField("合同经费（元）", max_digits=12, decimal_places=2)
    party_a = models.CharField("委托方", max_length=200)
    contract_number = models.CharField("合同编号", max_length=100)
    contract_date = models.DateField("签订日期")
    start = models.DateField("开始日期", null=True, blank=True)
    end = models.DateField("结束日期", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=ExtraWorkStatus.choices, default=ExtraWorkStatus.SIGNED)
    status_note = models.TextField("状态说明", blank=True)
    status_changed_at = models.DateTimeField("状态变更时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "另行签约工作"
        verbose_name_plural = "另行签约工作"
        ordering = ["-contract_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(fee_yuan__gte=0), name="extra_work_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(start__isnull=True) | Q(end__isnull=True) | Q(end__gte=F("start")), name="extra_work_period_order"
            ),
            models.UniqueConstraint(fields=["city", "contract_number"], name="extra_work_contract_number_unique"),
        ]

    def __str__(self):
        return self.title

    def can_become(self, status: str) -> bool:
        return self.can_transition(status)


# --- monitoring feedback (B11(6)) ------------------------------------------------------------------


class FeedbackSource(models.TextChoices):
    PLAN_IMPLEMENTATION = "plan_implementation", "规划实施"
    HEALTH_CHECK = "health_check", "城市体检评估"
    OTHER = "other", "其他"


class FeedbackStatus(models.TextChoices):
    SUBMITTED = "submitted", "已提交待答复"
    ANSWERED = "answered", "已答复"


class MonitoringFeedback(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": {
        FeedbackStatus.SUBMITTED: {FeedbackStatus.ANSWERED},
        FeedbackStatus.ANSWERED: set(),
    }}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="monitoring_feedback")
    district = models.ForeignKey("geography.District", verbose_name="区", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="monitoring_feedback"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", on_delete=models.PROTECT, related_name="monitoring_feedback"
    )
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="monitoring_feedback"
    )
    source = models.CharField("问题来源", max_length=32, choices=FeedbackSource.choices)
    addressee = models.CharField("反馈对象", max_length=16, choices=[("district", "区级主管部门"), ("department", "政府相关部门")])
    department = models.ForeignKey(
        "geography.Department", verbose_name="相关部门", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("问题", max_length=200)
    description = models.TextField("问题描述")
    location = models.CharField("位置", max_length=200, blank=True)
    suggestion = models.TextField("处理建议", blank=True)
    status = models.CharField("状态", max_length=16, choices=FeedbackStatus.choices, default=FeedbackStatus.SUBMITTED)
    submitted_at = models.DateTimeField("提交时间")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer = models.TextField("答复", blank=True)
    answer_source = models.CharField("答复单位", max_length=200, blank=True)
    answered_on = models.DateField("答复日期", null=True, blank=True)
    answered_at = models.DateTimeField("登记时间", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "实施监督反馈"
        verbose_name_plural = "实施监督反馈"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(addressee="district", department__isnull=True)
                | Q(addressee="department", department__isnull=False),
                name="feedback_addressee_department",
            ),
            models.CheckConstraint(
                condition=~Q(status="answered") | (~Q(answer="") & Q(answered_at__isnull=False)),
                name="feedback_answered_has_answer",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def addressee_name(self) -> str:
        if self.addressee == "department" and self.department_id:
            return self.department.name
        return f"{self.district.name}规划自然资源主管部门"
