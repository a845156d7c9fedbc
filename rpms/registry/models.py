from django.conf import settings
from django.db import models
from django.db.models import Q

from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core.fields import BlindIndexedModel, BlindIndexField, EncryptedCharField, EncryptedJSONField
from rpms.core.models import ImportStatus, SpreadsheetImport, TimeStampedModel
from rpms.core.states import StatusTransitions


class PlannerKind(models.TextChoices):
    INDIVIDUAL = "individual", "个人"
    TEAM = "team", "团队"


class PoolStatus(models.TextChoices):
    CANDIDATE = "candidate", "待入库"
    ACTIVE = "active", "在库"
    REMOVED = "removed", "已调出"


class PlannerSource(models.TextChoices):
    MANUAL = "manual", "手工登记"
    APPLICATION = "application", "公开征集入库"
    COMMISSION = "commission", "定向委托"
    IMPORT = "import", "名册导入"


class Planner(BlindIndexedModel, StatusTransitions, TimeStampedModel):
    """A responsible planner (individual) or team in a city's registry / resource pool.

    Personal data (ID number, mobile) is never shown on public pages; see rpms.core.masking. Both are stored
    SM4-encrypted (rpms.core.fields); the ID number is looked up through its blind index `id_number_index`."""

    TRANSITIONS = {"pool_status": {
        PoolStatus.CANDIDATE: {PoolStatus.ACTIVE},
        PoolStatus.ACTIVE: {PoolStatus.REMOVED},
        PoolStatus.REMOVED: {PoolStatus.ACTIVE},  # admitted again through a new call and notice
    }}


    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="planners")
    kind = models.CharField("类型", max_length=16, choices=PlannerKind.choices, default=PlannerKind.INDIVIDUAL)
    name = models.CharField("姓名/团队名称", max_length=100)
    leader_name = models.CharField("团队负责人", max_length=100, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="登录账户", null=True, blank=True, on_delete=models.SET_NULL, related_name="planner"
    )
    id_number = EncryptedCharField("身份证号", max_length=18, blank=True)
    id_number_index = BlindIndexField("身份证号检索索引", source="id_number")
    mobile = EncryptedCharField("手机号", max_length=11, blank=True)
    email = models.EmailField("电子邮箱", blank=True)
    employer = models.CharField("工作单位", max_length=200, blank=True)
    degree = models.CharField("学历", max_length=20, choices=DegreeLevel.choices, default=DegreeLevel.NONE)
    major = models.CharField("专业", max_length=100, blank=True)
    major_field = models.CharField("专业领域代码", max_length=50, blank=True)
    title_level = models.CharField("职称等级", max_length=20, choices=TitleLevel.choices, default=TitleLevel.NONE)
    title_field = models.CharField("职称专业领域代码", max_length=50, blank=True)
    registrations = models.JSONField("执业资格", default=list, blank=True)
    experience_years = models.PositiveSmallIntegerField("相关工作年限", default=0)
    specialties = models.JSONField("擅长专业领域", default=list, blank=True)
    bio = models.TextField("个人简介", blank=True)  # issue #17 item 8: kept current by the planner
    familiar_districts = models.ManyToManyField(
        "geography.District", verbose_name="熟悉的区", blank=True, related_name="familiar_planners"
    )
    pool_status = models.CharField("入库状态", max_length=16, choices=PoolStatus.choices, default=PoolStatus.CANDIDATE)
    source = models.CharField("入库来源", max_length=16, choices=PlannerSource.choices, default=PlannerSource.MANUAL)
    admitted_at = models.DateTimeField("入库时间", null=True, blank=True)
    removed_at = models.DateTimeField("调出时间", null=True, blank=True)
    removal_ground = models.CharField("调出情形代码", max_length=50, blank=True)
    removal_note = models.TextField("调出说明", blank=True)
    is_fictional = models.BooleanField("演示数据（虚构）", default=False)

    class Meta:
        verbose_name = "责任规划师"
        verbose_name_plural = "责任规划师"
        ordering = ["city", "name", "id"]
        indexes = [models.Index(fields=["city", "pool_status"], name="planner_city_status_idx"),
                   # the pool page's order within a city and status (issue #15: the LIMIT without a sort)
                   models.Index(fields=["city", "pool_status", "name", "id"], name="planner_pool_order_idx")]
        constraints = [
            # One record per person in a city's registry (removed records stay as history): the services
            # refuse a duplicate with a Chinese message; this holds even when two acts race.
            models.UniqueConstraint(
                fields=["city", "id_number_index"], condition=~Q(id_number_index="") & ~Q(pool_status="removed"),
                name="planner_one_record_per_person_per_city",
                violation_error_message="该身份证号已在本市责任规划师库中登记，不能重复登记。",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_dispatchable(self) -> bool:
        """Only planners in the pool may be dispatched; removal takes effect at once (P5(3))."""
        return self.pool_status == PoolStatus.ACTIVE


class TeamMember(models.Model):
    """A member of a team (B18): recorded on an application, then on the admitted team in the pool.
    No more core members than the policy's max_core_team_members (B19(7))."""

    application = models.ForeignKey(
        "recruitment.Application", verbose_name="申请", null=True, blank=True, on_delete=models.CASCADE, related_name="members"
    )
    planner = models.ForeignKey(
        Planner, verbose_name="团队", null=True, blank=True, on_delete=models.CASCADE, related_name="members"
    )
    name = models.CharField("姓名", max_length=100)
    specialty = models.CharField("专业领域代码", max_length=50, blank=True)
    is_core = models.BooleanField("核心成员", default=False)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    # Issue #17 item 8: a member's own login account, linked when the member accepts the team's invitation
    # (rpms.registry.teams): only the digest of the one-time link is kept, never the link itself.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登录账户", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="team_memberships")
    invite_digest = models.CharField("邀请链接摘要", max_length=64, blank=True)
    invite_expires_at = models.DateTimeField("邀请链接有效期至", null=True, blank=True)

    class Meta:
        verbose_name = "团队成员"
        verbose_name_plural = "团队成员"
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(application__isnull=False, planner__isnull=True) | Q(application__isnull=True, planner__isnull=False)),
                name="team_member_belongs_to_one",
            )
        ]

    def __str__(self):
        return self.name


class DossierEventKind(models.TextChoices):
    APPLIED = "applied", "提交入库申请"
    REVIEWED = "reviewed", "审核遴选"
    ON_NOTICE = "on_notice", "入库公示"
    OBJECTION = "objection", "公示异议"
    ADMITTED = "admitted", "正式入库"
    COMMISSIONED = "commissioned", "定向委托"
    IMPORTED = "imported", "名册导入"
    MEMBER_ADDED = "member_added", "团队成员登记"
    LEAVE_REQUESTED = "leave_requested", "申请退出"
    REMOVED = "removed", "调出资源库"
    APPOINTED = "appointed", "派驻聘任"
    CONTRACT_FILED = "contract_filed", "聘用合同备案"
    RENEWED = "renewed", "续聘"
    TERMINATION_REQUESTED = "termination_requested", "申请解除聘用"
    TERMINATED = "terminated", "解除聘用"
    TERMINATION_REFUSED = "termination_refused", "解除申请未获同意"
    TERMINATION_WITHDRAWN = "termination_withdrawn", "撤回解除申请"
    TERMINATION_EVIDENCE = "termination_evidence", "解除证据材料"
    TERMINATION_STATEMENT = "termination_statement", "对解除的陈述"
    CONTRACT_AMENDED = "contract_amended", "聘用合同补充约定"
    WITHDRAWAL_REQUESTED = "withdrawal_requested", "申请退出派驻"
    WITHDRAWN = "withdrawn", "退出派驻"
    POSTING_ENDED = "posting_ended", "派驻终止（调出资源库）"
    ASSESSED = "assessed", "年度考核"
    VIOLATION = "violation", "违规记录"
    HONOURED = "honoured", "表彰"
    TRAINING = "training", "继续教育"
    LIMIT_EXCEPTION = "limit_exception", "原则性规定的例外"
    # Issue #17 item 8: profiles and teams kept current.
    PROFILE_UPDATED = "profile_updated", "个人信息更新"
    PROFILE_CHANGE_REQUESTED = "profile_change_requested", "资格信息变更申请"
    PROFILE_CHANGE_APPROVED = "profile_change_approved", "资格信息变更核准"
    PROFILE_CHANGE_REJECTED = "profile_change_rejected", "资格信息变更未获核准"
    MEMBER_REMOVED = "member_removed", "团队成员移除"
    MEMBER_CORE_CHANGED = "member_core_changed", "团队核心成员调整"
    LEADER_CHANGED = "leader_changed", "团队负责人变更"
    MEMBER_ACCOUNT_LINKED = "member_account_linked", "团队成员账户关联"


class DossierEvent(models.Model):
    """The planner's file (个人档案, P5(2)): every event of the planner's history with its article.
    Written only by services, never edited."""

    planner = models.ForeignKey(Planner, verbose_name="责任规划师", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("事项", max_length=32, choices=DossierEventKind.choices)
    occurred_at = models.DateTimeField("发生时间", db_index=True)
    article = models.CharField("依据条款", max_length=64, blank=True)
    summary = models.CharField("摘要", max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_repr = models.CharField("经办人名称", max_length=150, blank=True)
    source_type = models.CharField("来源对象类型", max_length=100, blank=True)
    source_id = models.CharField("来源对象编号", max_length=64, blank=True)
    data = models.JSONField("详情", default=dict, blank=True)
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = "档案记录"
        verbose_name_plural = "档案记录"
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.planner} {self.get_kind_display()}"


# The roster import's states are those of every spreadsheet import.
RosterImportStatus = ImportStatus


class RosterImport(SpreadsheetImport):
    """One upload of an existing roster (名册导入): the file's rows checked with the rules of an
    application, its errors per row and column, then the valid rows imported into the pool in steps
    (rpms.core.models.SpreadsheetImport). The validated rows wait in RosterImportBatch rows, one per
    import step."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="roster_imports")
    declarations = models.JSONField("经办人确认的声明事项", default=list, blank=True)

    class Meta(SpreadsheetImport.Meta):
        verbose_name = "名册导入"
        verbose_name_plural = "名册导入"
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=models.F("valid_rows")), name="roster_import_processed_within_valid"
            ),
            models.CheckConstraint(
                condition=Q(valid_rows__lte=models.F("total_rows")), name="roster_import_valid_within_total"
            ),
        ]

    def __str__(self):
        return f"名册导入 #{self.pk} {self.file_name}"


class RosterImportBatch(models.Model):
    """One step's worth of validated rows of a roster import, waiting to be imported (deleted once done).
    Kept apart so that a step reads only its own rows, not the whole file."""

    roster_import = models.ForeignKey(RosterImport, verbose_name="名册导入", on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField("批次序号")
    rows = EncryptedJSONField("待导入的行", default=list)  # ID numbers and mobiles: SM4-encrypted at rest

    class Meta:
        verbose_name = "名册导入待导入批次"
        verbose_name_plural = "名册导入待导入批次"
        ordering = ["roster_import", "index"]
        constraints = [models.UniqueConstraint(fields=["roster_import", "index"], name="roster_import_batch_unique_index")]

    def __str__(self):
        return f"{self.roster_import_id}#{self.index}"


class LimitCode(models.TextChoices):
    """The limits a city's rules set (rpms.cities.limits): B19(2), B19(7), B18 / P4."""

    UNIT_CAP = "unit_cap", "同时服务责任单元上限"
    CORE_TEAM_MEMBERS = "core_team_members", "团队核心成员上限"
    ELIGIBILITY = "eligibility", "选聘条件"


class ExceptionAct(models.TextChoices):
    """The acts that may exceed an in-principle limit with an approved exception."""

    APPOINTMENT_CREATE = "appointment_create", "聘任（派驻）"
    SELECTION_APPROVE = "selection_approve", "审核同意选聘提名"
    TEAM_MEMBER_ADD = "team_member_add", "登记团队核心成员"
    APPLICATION_APPROVE = "application_approve", "审核通过入库申请"
    COMMISSION = "commission", "定向委托入库"


class ExceptionSubject(models.TextChoices):
    APPOINTMENT = "appointment", "聘任"
    TEAM = "team", "团队"
    APPLICATION = "application", "入库申请"
    COMMISSION = "commission", "定向委托"


class ExceptionStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "未批准"
    # The record the request was made on was returned or withdrawn meanwhile: nothing is left to approve.
    LAPSED = "lapsed", "已撤销"


class LimitException(StatusTransitions, TimeStampedModel):
    """An exception to an in-principle limit (B18 "原则上", B19(2) "原则上不超过3个", B19(7) "原则上不超过8人"):
    who asked and why, which limit, the value the act reaches against the limit, the act and its subject,
    who approved or refused it and when. The city administrator grants one by acting with a justification
    (approved at once); anyone else's act waits as a pending request, performed through the act's own
    service when approved (rpms.registry.limits). Written only by services."""

    TRANSITIONS = {"status": {
        ExceptionStatus.PENDING: {ExceptionStatus.APPROVED, ExceptionStatus.REFUSED, ExceptionStatus.LAPSED},
        ExceptionStatus.APPROVED: set(),
        ExceptionStatus.REFUSED: set(),
        ExceptionStatus.LAPSED: set(),
    }}


    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="limit_exceptions")
    limit = models.CharField("限制", max_length=32, choices=LimitCode.choices)
    article = models.CharField("依据条款", max_length=64, blank=True)
    limit_value = models.PositiveIntegerField("规定上限", null=True, blank=True)
    value = models.PositiveIntegerField("办理后的数值", null=True, blank=True)
    shortfall = models.JSONField("超出或不符合的情况", default=list, blank=True)
    act = models.CharField("事项", max_length=32, choices=ExceptionAct.choices)
    subject = models.CharField("对象类型", max_length=16, choices=ExceptionSubject.choices)
    subject_label = models.CharField("对象", max_length=300)
    payload = models.JSONField("办理内容", default=dict, blank=True)
    planner = models.ForeignKey(Planner, verbose_name="责任规划师（团队）", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="limit_exceptions")
    unit = models.ForeignKey("geography.ResponsibilityUnit", verbose_name="责任单元", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    district = models.ForeignKey("geography.District", verbose_name="区", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    # The record the act was asked on (a selection proposal, an application) and the one it produced.
    source_type = models.CharField("申请所涉记录类型", max_length=100, blank=True)
    source_id = models.CharField("申请所涉记录编号", max_length=64, blank=True)
    result_type = models.CharField("办理结果记录类型", max_length=100, blank=True)
    result_id = models.CharField("办理结果记录编号", max_length=64, blank=True)
    reason = models.TextField("例外理由")
    status = models.CharField("状态", max_length=16, choices=ExceptionStatus.choices, default=ExceptionStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField("申请时间")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)
    performed_at = models.DateTimeField("办理时间", null=True, blank=True)

    class Meta:
        verbose_name = "原则性规定的例外"
        verbose_name_plural = "原则性规定的例外"
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["city", "status"], name="limit_exception_city_status"),
            models.Index(fields=["result_type", "result_id"], name="limit_exception_result"),
            models.Index(fields=["source_type", "source_id"], name="limit_exception_source"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False), name="limit_exception_decided_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(decision_note=""), name="limit_exception_refusal_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.get_limit_display()}例外：{self.subject_label}"

    @property
    def figures(self) -> str:
        """"4 个（上限 3 个）"-style text of the value against the limit, or "" (eligibility)."""
        if self.limit_value is None or self.value is None:
            return ""
        unit = "人" if self.limit == LimitCode.CORE_TEAM_MEMBERS else "个"
        return f"{self.value} {unit}（上限 {self.limit_value} {unit}）"


class ProfileChangeStatus(models.TextChoices):
    PENDING = "pending", "待核实"
    APPROVED = "approved", "已核准"
    REJECTED = "rejected", "未核准"


class ProfileChange(StatusTransitions, TimeStampedModel):
    """A planner's change of the facts the city's eligibility rules read (B18, P4: title, registrations,
    degree, experience; which ones is read from the rules, rpms.registry.profiles), held until the city
    administrator verifies it against the proof: approved → applied to the record; rejected with a reason →
    nothing changes and the planner is told. Changes the rules do not read apply at once and leave only a
    dossier row. Written only by services (rpms.registry.profiles)."""

    TRANSITIONS = {"status": {
        ProfileChangeStatus.PENDING: {ProfileChangeStatus.APPROVED, ProfileChangeStatus.REJECTED},
        ProfileChangeStatus.APPROVED: set(),
        ProfileChangeStatus.REJECTED: set(),
    }}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="profile_changes")
    planner = models.ForeignKey(Planner, verbose_name="责任规划师", on_delete=models.CASCADE, related_name="profile_changes")
    changes = models.JSONField("申请变更的内容", default=dict)
    before = models.JSONField("变更前的内容", default=dict, blank=True)
    note = models.TextField("变更说明", blank=True)
    article = models.CharField("依据条款", max_length=64, blank=True)
    proof_path = models.CharField("证明材料存储路径", max_length=255)
    proof_name = models.CharField("证明材料文件名", max_length=255)
    proof_kind = models.CharField("证明材料类型", max_length=8)
    proof_size = models.PositiveIntegerField("证明材料大小")
    proof_sha256 = models.CharField("证明材料摘要", max_length=64)
    status = models.CharField("状态", max_length=16, choices=ProfileChangeStatus.choices, default=ProfileChangeStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="核实人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("核实时间", null=True, blank=True)
    decision_note = models.TextField("核实意见", blank=True)

    class Meta:
        verbose_name = "资格信息变更申请"
        verbose_name_plural = "资格信息变更申请"
        ordering = ["requested_at", "id"]
        indexes = [models.Index(fields=["city", "status", "requested_at"], name="profile_change_queue")]
        constraints = [
            models.CheckConstraint(condition=Q(status="pending") | Q(decided_at__isnull=False),
                                   name="profile_change_decided_has_date"),
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(decision_note=""),
                                   name="profile_change_rejection_has_reason"),
            # One request waiting per planner: a second one would be decided against stale facts.
            models.UniqueConstraint(fields=["planner"], condition=Q(status="pending"),
                                    name="profile_change_one_pending_per_planner",
                                    violation_error_message="您已有一项资格信息变更申请待核实，请等待市级主管部门核实后再提交。"),
        ]

    def __str__(self):
        return f"{self.planner} 资格信息变更申请 #{self.pk}"
