"""Dispatch records: a district's request for planners (派驻申请, P6(1)), declared conflicts of
interest, a city-wide matching run (统筹选派, P6(2)) and the proposals it makes.

State is a TextChoices field plus a timestamp per decision; the allowed transitions are the tables
below, read by the services (`can_*` predicates)."""
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions

SLOTS_PER_UNIT_MAX = 3


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", "待受理"
    ACCEPTED = "accepted", "已受理"
    RETURNED = "returned", "已退回"
    FULFILLED = "fulfilled", "已派驻"
    WITHDRAWN = "withdrawn", "已撤回"


class DispatchRequest(StatusTransitions, TimeStampedModel):
    """A district officer asks for planners for units of its own district (P6(1)): role, wanted
    specialties, how many per unit, service focus. The city administrator accepts or returns it."""

    TRANSITIONS = {"status": {
        RequestStatus.SUBMITTED: {RequestStatus.ACCEPTED, RequestStatus.RETURNED, RequestStatus.WITHDRAWN},
        RequestStatus.ACCEPTED: {RequestStatus.FULFILLED, RequestStatus.WITHDRAWN},
        RequestStatus.RETURNED: set(),
        RequestStatus.FULFILLED: set(),
        RequestStatus.WITHDRAWN: set(),
    }}


    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="dispatch_requests")
    district = models.ForeignKey(
        "geography.District", verbose_name="申请区", on_delete=models.PROTECT, related_name="dispatch_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField("派驻角色", max_length=64, help_text="取自城市政策配置 roles 的代码")
    specialties = models.JSONField("所需专业领域", default=list, blank=True)
    slots_per_unit = models.PositiveSmallIntegerField(
        "每个单元人数", default=1, validators=[MinValueValidator(1), MaxValueValidator(SLOTS_PER_UNIT_MAX)]
    )
    units = models.ManyToManyField("geography.ResponsibilityUnit", verbose_name="责任单元", related_name="dispatch_requests")
    service_focus = models.TextField("服务重点", blank=True, max_length=2000)
    note = models.TextField("备注", blank=True, max_length=2000)
    status = models.CharField("状态", max_length=16, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED)
    return_reason = models.TextField("退回理由", blank=True, max_length=2000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="受理人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("受理/退回时间", null=True, blank=True)
    fulfilled_at = models.DateTimeField("派驻完成时间", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)

    class Meta:
        verbose_name = "派驻申请"
        verbose_name_plural = "派驻申请"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["city", "status"], name="dispatch_req_city_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(slots_per_unit__gte=1) & Q(slots_per_unit__lte=SLOTS_PER_UNIT_MAX),
                name="dispatch_request_slots_1_to_3",
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(return_reason=""), name="dispatch_request_return_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.district.name}派驻申请 #{self.pk}"

    # Guard predicates read the table (TRANSITIONS, P6(1)).
    def can_decide(self) -> bool:
        return self.can_transition(RequestStatus.ACCEPTED)

    def can_match(self) -> bool:
        return self.can_transition(RequestStatus.FULFILLED)

    def can_withdraw(self) -> bool:
        return self.can_transition(RequestStatus.WITHDRAWN)


class ConflictKind(models.TextChoices):
    EMPLOYER_INVOLVED = "employer_involved", "所在单位参与该单元项目"
    RELATION = "relation", "存在亲属或其他利害关系"
    OTHER = "other", "其他利益冲突"


class ConflictDeclaration(models.Model):
    """A declared conflict of interest (P6(2)): the planner may not be dispatched to the unit (or to
    any unit of the district). Declared by the planner, or recorded by a city administrator or the
    unit's district officer. Withdrawn, not deleted."""

    planner = models.ForeignKey("registry.Planner", verbose_name="责任规划师", on_delete=models.CASCADE, related_name="conflicts")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    district = models.ForeignKey(
        "geography.District", verbose_name="区", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("冲突类型", max_length=32, choices=ConflictKind.choices)
    note = models.TextField("说明", max_length=2000)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申报/登记人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("申报时间", auto_now_add=True)
    withdrawn_at = models.DateTimeField("撤销时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="撤销人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "利益冲突申报"
        verbose_name_plural = "利益冲突申报"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False, district__isnull=True) | Q(unit__isnull=True, district__isnull=False)),
                name="conflict_names_unit_or_district",
            )
        ]

    def __str__(self):
        target = self.unit or self.district
        return f"{self.planner} 与 {target} 的利益冲突"

    @property
    def city(self):
        return self.planner.city

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None

    @property
    def target_label(self) -> str:
        if self.unit_id:
            return f"{self.unit.district.name}·{self.unit.name}"
        return f"{self.district.name}（全区）"


class MatchingRun(models.Model):
    """One run of the matching engine over accepted requests (P6(2)), with what it could not fill."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="matching_runs")
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="运行人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requests = models.ManyToManyField(DispatchRequest, verbose_name="派驻申请", related_name="runs")
    created_at = models.DateTimeField("运行时间", auto_now_add=True)
    objective = models.BigIntegerField("目标值", default=0)
    optimal = models.BooleanField("已证明最优", default=False)
    seconds = models.FloatField("求解耗时（秒）", default=0)
    method = models.CharField("求解方法", max_length=32, blank=True)
    slot_count = models.PositiveIntegerField("岗位数", default=0)
    candidate_count = models.PositiveIntegerField("候选人数", default=0)
    unfilled = models.JSONField("未满足岗位", default=list, blank=True)
    weights = models.JSONField("评分权重", default=dict, blank=True)
    input_digest = models.CharField("输入摘要", max_length=64, blank=True)

    class Meta:
        verbose_name = "统筹选派运行"
        verbose_name_plural = "统筹选派运行"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"统筹选派 #{self.pk}"

    @property
    def method_label(self) -> str:
        return {"min_cost_flow": "最小费用流", "cp_sat": "约束规划（CP-SAT）"}.get(self.method, self.method)


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "待确认"
    CONFIRMED = "confirmed", "已确认聘任"
    REPLACED = "replaced", "已人工替换"
    DISCARDED = "discarded", "已作废"


class Proposal(StatusTransitions, models.Model):
    """The engine's (or the administrator's) proposal of one planner for one slot of a request."""

    TRANSITIONS = {"status": {
        ProposalStatus.PROPOSED: {ProposalStatus.CONFIRMED, ProposalStatus.REPLACED, ProposalStatus.DISCARDED},
        ProposalStatus.CONFIRMED: set(),
        ProposalStatus.REPLACED: set(),
        ProposalStatus.DISCARDED: set(),
    }}


    run = models.ForeignKey(MatchingRun, verbose_name="运行", on_delete=models.CASCADE, related_name="proposals")
    request = models.ForeignKey(DispatchRequest, verbose_name="派驻申请", on_delete=models.CASCADE, related_name="proposals")
    unit = models.ForeignKey("geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="+")
    role = models.CharField("派驻角色", max_length=64)
    planner = models.ForeignKey("registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="proposals")
    slot_key = models.CharField("岗位", max_length=100, blank=True)
    score = models.FloatField("匹配得分", default=0)
    explanation = models.JSONField("匹配说明", default=dict, blank=True)
    status = models.CharField("状态", max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED)
    replaces = models.ForeignKey(
        "self", verbose_name="替换的建议", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )
    replacement_reason = models.TextField("人工替换理由", blank=True, max_length=2000)
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="聘任记录", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "选派建议"
        verbose_name_plural = "选派建议"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(replaces__isnull=True) | ~Q(replacement_reason=""), name="proposal_replacement_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.unit} ← {self.planner}"

    @property
    def city(self):
        return self.run.city

    @property
    def is_open(self) -> bool:
        return self.status == ProposalStatus.PROPOSED
