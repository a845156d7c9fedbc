"""Annual assessment (B20, P6(4)) and its consequences, violations (B16, B17), replacement flags,
the city's assessment of districts (B20 second paragraph) and honours (B24).

Who assesses is read from the policy, not from the city's name (`assessing_body_for`):

- where the city bureau dispatches planners or signs their contracts (Pingdingshan: appointment_mode
  city_dispatch, contract_signer city_bureau; P6(4) "由市自然资源和规划局联合属地政府开展综合评议"), the
  city administrator opens and grades, and the district officer adds the district's scores;
- otherwise (Beijing: local selection, the hiring entity signs; B20 "区级责任规划师工作专班应建立责任规划师
  年度考核机制") the district officer of the unit's district opens and grades.

In both, the hiring entity of the unit gives local feedback (属地反馈) and the planner files a report
(述职). An assessment covers one service year (cycle) of one appointment: the cycles run from the
appointment's start, one year each, the last one cut at the appointment's last day; `year` is the
calendar year in which the cycle ends (the "考核年度" that honours and district assessments count)."""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions


class AssessingBody(models.TextChoices):
    DISTRICT = "district", "区级责任规划师工作专班"
    CITY_WITH_DISTRICT = "city_with_district", "市级主管部门联合属地政府"


class AssessmentStatus(models.TextChoices):
    OPEN = "open", "评议中"
    GRADED = "graded", "已评定"


# Allowed transitions: a graded assessment is final (a correction would be a new act, not an edit).
STATUS_TRANSITIONS = {
    AssessmentStatus.OPEN: {AssessmentStatus.GRADED},
    AssessmentStatus.GRADED: set(),
}


class ScoreSource(models.TextChoices):
    ENTITY = "entity", "聘任主体（属地反馈）"
    DISTRICT = "district", "区级工作专班"
    CITY = "city", "市级主管部门"


class Assessment(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": STATUS_TRANSITIONS}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="assessments")
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", on_delete=models.PROTECT, related_name="assessments"
    )
    planner = models.ForeignKey("registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="assessments")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="assessments"
    )
    district = models.ForeignKey("geography.District", verbose_name="区", on_delete=models.PROTECT, related_name="assessments")
    year = models.PositiveSmallIntegerField("考核年度", db_index=True)
    period_start = models.DateField("考核期开始")
    period_end = models.DateField("考核期结束")
    assessing_body = models.CharField("考核主体", max_length=20, choices=AssessingBody.choices)
    status = models.CharField("状态", max_length=16, choices=AssessmentStatus.choices, default=AssessmentStatus.OPEN)
    opened_at = models.DateTimeField("启动时间")
    # The day the review opened by the system's clock (the review inputs' deadline counts from it).
    opened_on = models.DateField("启动日期", null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="启动人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # 述职: the planner's own report and optional self-score (shown, not counted in the total).
    self_report = models.TextField("述职报告", blank=True, max_length=8000)
    self_score = models.DecimalField("自评分", max_digits=5, decimal_places=1, null=True, blank=True)
    self_reported_at = models.DateTimeField("述职时间", null=True, blank=True)
    # 属地反馈 (P6(4)): the hiring entity's written feedback on the planner's service (its scores on the
    # criteria are AssessmentScore rows of source ENTITY).
    entity_feedback = models.TextField("属地反馈意见", blank=True, max_length=4000)
    entity_feedback_at = models.DateTimeField("属地反馈时间", null=True, blank=True)
    entity_feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="属地反馈人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # B20: the hiring entity may make the result a condition of renewal.
    renewal_conditional = models.BooleanField("聘任主体将考核结果纳入续聘条件", default=False)
    renewal_condition_note = models.CharField("续聘条件说明", max_length=500, blank=True)
    renewal_condition_set_at = models.DateTimeField("续聘条件登记时间", null=True, blank=True)
    # The result.
    grade = models.CharField("考核等次代码", max_length=50, blank=True)
    grade_label = models.CharField("考核等次", max_length=100, blank=True)
    total_score = models.DecimalField("加权总分", max_digits=5, decimal_places=1, null=True, blank=True)
    grade_comment = models.TextField("评定意见", blank=True, max_length=4000)
    inputs = models.JSONField("系统数据快照", default=dict, blank=True, help_text="评定时冻结的履职、意见、建议、培训和违规数据")
    consequences = models.JSONField("结果运用", default=list, blank=True)
    graded_at = models.DateTimeField("评定时间", null=True, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="评定人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result_document = models.OneToOneField(
        "documents.IssuedDocument", verbose_name="考核结果通知", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "年度考核"
        verbose_name_plural = "年度考核"
        ordering = ["-year", "-period_end", "-id"]
        indexes = [
            models.Index(fields=["city", "year", "status"], name="assessment_city_year_idx"),
            models.Index(fields=["district", "year"], name="assessment_district_year_idx"),
            models.Index(fields=["planner", "status", "period_end"], name="assessment_planner_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "period_start"], name="one_assessment_per_appointment_cycle"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="assessment_period_end_after_start"),
            models.CheckConstraint(
                condition=Q(status="open") | (Q(graded_at__isnull=False) & ~Q(grade="")),
                name="assessment_graded_has_grade_and_date",
            ),
            models.CheckConstraint(
                condition=Q(self_score__isnull=True) | (Q(self_score__gte=0) & Q(self_score__lte=100)),
                name="assessment_self_score_0_100",
            ),
        ]

    def __str__(self):
        return f"{self.planner} · {self.unit} · {self.year} 年度考核"

    @property
    def is_open(self) -> bool:
        return self.status == AssessmentStatus.OPEN

    def can_become(self, status: str) -> bool:
        return self.can_transition(status)


class ReviewInput(models.TextChoices):
    """The inputs a review waits for when the city's criteria name them (policy criterion `inputs`)."""

    SELF_REPORT = "self_report", "述职报告"
    ENTITY_FEEDBACK = "entity_feedback", "属地反馈"


# Who owes each input.
REVIEW_INPUT_PARTY = {
    ReviewInput.SELF_REPORT: "责任规划师",
    ReviewInput.ENTITY_FEEDBACK: "聘任主体（属地）",
}


class ReviewInputAbsence(models.Model):
    """A review input not given by its deadline, recorded by the assessing body so that the review can be
    graded without it (shown on the result: page, API, result notice). Final: the party can no longer
    submit that input for this review."""

    assessment = models.ForeignKey(Assessment, verbose_name="年度考核", on_delete=models.CASCADE,
                                   related_name="absences")
    input = models.CharField("缺失的评议材料", max_length=20, choices=ReviewInput.choices)
    party = models.CharField("应提交方", max_length=50)
    requested_from = models.DateField("评议开始日期")
    deadline = models.DateField("提交期限")
    working_days = models.PositiveSmallIntegerField("期限（工作日）")
    note = models.CharField("说明", max_length=500, blank=True)
    recorded_at = models.DateTimeField("记录时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by_name = models.CharField("记录人（显示名）", max_length=150, blank=True)

    class Meta:
        verbose_name = "评议材料缺失记录"
        verbose_name_plural = "评议材料缺失记录"
        ordering = ["assessment", "input"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "input"], name="one_absence_per_review_input"),
            models.CheckConstraint(condition=Q(deadline__gte=F("requested_from")), name="absence_deadline_after_request"),
        ]

    def __str__(self):
        return f"{self.assessment} · {self.get_input_display()}逾期未提交"

    def as_dict(self) -> dict:
        from django.utils import timezone

        return {
            "input": self.input,
            "label": self.get_input_display(),
            "party": self.party,
            "requested_from": self.requested_from.isoformat(),
            "deadline": self.deadline.isoformat(),
            "working_days": self.working_days,
            "note": self.note,
            "recorded_at": timezone.localtime(self.recorded_at).isoformat(timespec="seconds"),
            "recorded_by": self.recorded_by_name,
        }


class AssessmentScore(models.Model):
    """One body's score (0–100) on one of the policy's criteria (assessment_criteria), with a comment."""

    assessment = models.ForeignKey(Assessment, verbose_name="年度考核", on_delete=models.CASCADE, related_name="scores")
    source = models.CharField("评分方", max_length=16, choices=ScoreSource.choices)
    criterion = models.CharField("考核内容代码", max_length=50)
    score = models.DecimalField("得分", max_digits=5, decimal_places=1)
    comment = models.CharField("评语", max_length=1000, blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="评分人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scored_at = models.DateTimeField("评分时间")

    class Meta:
        verbose_name = "考核评分"
        verbose_name_plural = "考核评分"
        ordering = ["assessment", "source", "id"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "source", "criterion"], name="one_score_per_source_criterion"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="assessment_score_0_100"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.criterion} {self.score}"


# --- violations (B16, B17) ---------------------------------------------------------------------------


class Violation(TimeStampedModel):
    """A violation recorded against a planner by the district (or the city). B17: the district work team
    informs the city work team (done by the system when recorded: the city administrators are notified)
    and the planner's employer (recorded by `violation_report_employer`: to whom, when, how); the
    violation counts in the planner's assessment."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="violations")
    planner = models.ForeignKey("registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="violations")
    district = models.ForeignKey(
        "geography.District", verbose_name="记录的区", null=True, blank=True, on_delete=models.PROTECT, related_name="violations"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="相关派驻聘任", null=True, blank=True, on_delete=models.PROTECT,
        related_name="violations",
    )
    # A code of the city's policy `violation_kinds` (B16's four in Beijing, P5(4) items 1–2 in
    # Pingdingshan): the label and the article shown come from the city's own rules.
    kind = models.CharField("违规情形", max_length=50)
    description = models.TextField("情况说明", max_length=4000)
    occurred_on = models.DateField("发生（查实）日期")
    recorded_at = models.DateTimeField("记录时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_city_at = models.DateTimeField("告知市级工作专班时间", null=True, blank=True)
    reported_employer_at = models.DateTimeField("告知所在单位时间", null=True, blank=True)
    reported_employer_name = models.CharField("告知的所在单位", max_length=200, blank=True)
    reported_employer_method = models.CharField("告知方式", max_length=200, blank=True)
    reported_employer_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="告知经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "违规记录"
        verbose_name_plural = "违规记录"
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["planner", "occurred_on"], name="violation_planner_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(reported_employer_at__isnull=True) | ~Q(reported_employer_name=""),
                name="violation_employer_report_names_employer",
            ),
        ]

    def __str__(self):
        return f"{self.planner} {self.kind_short[:20]}（{self.occurred_on}）"

    @property
    def kind_item(self) -> dict:
        """The city's policy entry for this kind ({"code","label","article"}), or {} if it lists none."""
        policy = getattr(self.city, "policy", None)
        return (policy.violation_kind(self.kind) if policy is not None else None) or {}

    @property
    def kind_short(self) -> str:
        return self.kind_item.get("label") or self.kind

    @property
    def kind_article(self) -> str:
        return self.kind_item.get("article", "")

    @property
    def kind_label(self) -> str:
        """The label with the city's own article, e.g. "…（B16(1)）" or "…（P5(4)2）"; no article: none."""
        return f"{self.kind_short}（{self.kind_article}）" if self.kind_article else self.kind_short


# --- replacement flags -------------------------------------------------------------------------------


class FlagStatus(models.TextChoices):
    OPEN = "open", "待调整补位"
    RESOLVED = "resolved", "已处理"


class ReplacementFlag(StatusTransitions, TimeStampedModel):
    """A unit flagged for a replacement planner because of an assessment grade (policy grade field
    flag_unit_for_replacement). The city sees the open flags on its pending list; the dispatch and
    withdrawal pages read them (selectors.open_replacement_flags / replacement_flag_for_unit)."""

    TRANSITIONS = {"status": {
        FlagStatus.OPEN: {FlagStatus.RESOLVED},
        FlagStatus.RESOLVED: set(),
    }}


    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="replacement_flags")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="replacement_flags"
    )
    district = models.ForeignKey("geography.District", verbose_name="区", on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", on_delete=models.PROTECT, related_name="replacement_flags"
    )
    planner = models.ForeignKey("registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="+")
    assessment = models.OneToOneField(
        Assessment, verbose_name="依据的考核", on_delete=models.PROTECT, related_name="replacement_flag"
    )
    reason = models.CharField("原因", max_length=300)
    status = models.CharField("状态", max_length=16, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.CharField("处理说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "待调整补位的责任单元"
        verbose_name_plural = "待调整补位的责任单元"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["city", "status"], name="replacement_flag_city_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | (Q(resolved_at__isnull=False) & ~Q(resolution_note="")),
                name="replacement_flag_resolved_has_date_and_note",
            ),
        ]

    def __str__(self):
        return f"{self.unit} 待调整补位"


# --- the city's assessment of districts (B20 second paragraph) -----------------------------------------


class DistrictAssessment(TimeStampedModel):
    """The city's yearly evaluation of a district's execution of the system, from the system's own data
    (`metrics`, frozen when recorded) plus the city's score and comments."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="district_assessments")
    district = models.ForeignKey(
        "geography.District", verbose_name="区", on_delete=models.PROTECT, related_name="district_assessments"
    )
    year = models.PositiveSmallIntegerField("年度")
    metrics = models.JSONField("系统数据", default=dict, blank=True)
    computed_score = models.DecimalField("系统测算分", max_digits=5, decimal_places=1, null=True, blank=True)
    score = models.DecimalField("评估得分", max_digits=5, decimal_places=1)
    comment = models.TextField("市级评估意见", max_length=4000)
    assessed_at = models.DateTimeField("评估时间")
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="评估人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "区级制度执行评估"
        verbose_name_plural = "区级制度执行评估"
        ordering = ["-year", "district__sort_order", "district__code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "year"], name="one_district_assessment_per_year"),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="district_assessment_score_0_100"),
        ]

    def __str__(self):
        return f"{self.district} {self.year} 年度制度执行评估"


# --- honours (B24) -----------------------------------------------------------------------------------


class HonourStatus(models.TextChoices):
    NOMINATED = "nominated", "区级推选，待市级评选"
    SELECTED = "selected", "市级评选通过"
    NOT_SELECTED = "not_selected", "未获评选"


class Honour(StatusTransitions, TimeStampedModel):
    """B24: each district nominates outstanding planners of the year from its assessed ones (grade
    honour_eligible); the city selects; the selected list is published (published_at) on the public site."""

    TRANSITIONS = {"status": {
        # decided, and decided again, until the year's list is published (then the service refuses)
        HonourStatus.NOMINATED: {HonourStatus.SELECTED, HonourStatus.NOT_SELECTED},
        HonourStatus.SELECTED: {HonourStatus.SELECTED, HonourStatus.NOT_SELECTED},
        HonourStatus.NOT_SELECTED: {HonourStatus.SELECTED, HonourStatus.NOT_SELECTED},
    }}


    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="honours")
    year = models.PositiveSmallIntegerField("年度")
    district = models.ForeignKey("geography.District", verbose_name="推选的区", on_delete=models.PROTECT, related_name="honours")
    planner = models.ForeignKey("registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="honours")
    assessment = models.ForeignKey(Assessment, verbose_name="依据的考核", on_delete=models.PROTECT, related_name="honours")
    title = models.CharField("荣誉称号", max_length=100)
    reason = models.TextField("推选理由（主要事迹）", max_length=4000)
    status = models.CharField("状态", max_length=16, choices=HonourStatus.choices, default=HonourStatus.NOMINATED)
    nominated_at = models.DateTimeField("推选时间")
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="推选经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("评选时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="评选经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.CharField("评选说明", max_length=500, blank=True)
    published_at = models.DateTimeField("公布时间", null=True, blank=True)
    certificate = models.OneToOneField(
        "documents.IssuedDocument", verbose_name="荣誉证书", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "优秀责任规划师"
        verbose_name_plural = "优秀责任规划师"
        ordering = ["-year", "district__sort_order", "district__code", "planner__name", "id"]
        indexes = [models.Index(fields=["city", "year", "status"], name="honour_city_year_idx")]
        constraints = [
            models.UniqueConstraint(fields=["city", "year", "planner"], name="one_honour_per_planner_year"),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(status="selected"), name="honour_published_only_if_selected"
            ),
            models.CheckConstraint(
                condition=Q(status="nominated") | Q(decided_at__isnull=False), name="honour_decided_has_date"
            ),
        ]

    def __str__(self):
        return f"{self.year} 年度{self.title} {self.planner}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


SCORE_MIN = Decimal(0)
SCORE_MAX = Decimal(100)
