from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from rpms.core.models import TimeStampedModel


class City(TimeStampedModel):
    code = models.SlugField("城市代码", max_length=32, unique=True)
    name = models.CharField("城市名称", max_length=50)
    division_code = models.CharField("统计区划代码", max_length=12, blank=True, help_text="如北京 1101")
    rulebook_title = models.CharField("制度文件", max_length=200, blank=True)
    article_prefix = models.CharField("条款前缀", max_length=4, blank=True, help_text="如 B、P")
    bureau_name = models.CharField("市级主管部门", max_length=100, blank=True)
    scope_note = models.CharField("适用范围", max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "城市"
        verbose_name_plural = "城市"
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class ContractSigner(models.TextChoices):
    HIRING_ENTITY = "hiring_entity", "聘任主体（街道、乡镇、园区）"
    CITY_BUREAU = "city_bureau", "市级主管部门"


class ContractFiler(models.TextChoices):
    DISTRICT_WORK_TEAM = "district_work_team", "区级责任规划师工作专班"
    NONE = "none", "不另行备案（市级主管部门签订）"


class AppointmentMode(models.TextChoices):
    LOCAL_SELECTION = "local_selection", "聘任主体会同区规划自然资源部门选聘"
    CITY_DISPATCH = "city_dispatch", "市级部门从资源库统筹选派"


class PartialCycleRule(models.TextChoices):
    PRO_RATA_DAYS = "pro_rata_days", "按实际服务天数折算"
    FULL = "full", "按整周期支付"
    NONE = "none", "不足一个周期不支付"


class PolicyProfile(TimeStampedModel):
    """A city's rule book as data. Scalar rules are typed columns (so the database can check them);
    lists are JSON validated against `rpms.cities.schemas`."""

    city = models.OneToOneField(City, verbose_name="城市", on_delete=models.CASCADE, related_name="policy")
    version = models.PositiveIntegerField("版本", default=1)

    notice_working_days = models.PositiveSmallIntegerField("公示期（工作日）", default=5)
    # P6(5): a planner may leave on written notice of N working days. Empty where the rules give no
    # unilateral withdrawal (B25: only by the hiring entity's consent, unless the contract says otherwise).
    withdrawal_notice_working_days = models.PositiveSmallIntegerField(
        "退出申请提前期（工作日）", null=True, blank=True, default=15,
        help_text="留空表示本市不允许责任规划师单方提前退出（须聘任主体同意解除）",
    )
    # B25 "除合同另有约定外": whether a contract may carry its own withdrawal-notice clause.
    contract_notice_clause_allowed = models.BooleanField("合同可另行约定退出提前期", default=False)
    first_term_years = models.PositiveSmallIntegerField("首任聘期（年）", default=1)
    renewal_years_min = models.PositiveSmallIntegerField("续聘期下限（年）", default=1)
    renewal_years_max = models.PositiveSmallIntegerField("续聘期上限（年）", default=3)
    max_units_per_planner = models.PositiveSmallIntegerField("每人（团队）服务责任单元上限", null=True, blank=True)
    max_core_team_members = models.PositiveSmallIntegerField("团队核心成员上限", null=True, blank=True)
    allowance_yuan_per_person_year = models.PositiveIntegerField("交通通讯补贴（元/人·年）", null=True, blank=True)
    allowance_partial_cycle = models.CharField(
        "不足周期补贴规则", max_length=20, choices=PartialCycleRule.choices, default=PartialCycleRule.PRO_RATA_DAYS
    )
    pool_requires_notice = models.BooleanField("入库须经公示", default=False)
    teams_allowed = models.BooleanField("允许团队受聘", default=True)
    contract_signer = models.CharField("聘用合同签订方", max_length=20, choices=ContractSigner.choices)
    appointment_mode = models.CharField("聘任方式", max_length=20, choices=AppointmentMode.choices)
    suggestion_response_working_days = models.PositiveSmallIntegerField("意见建议答复时限（工作日）", default=10)
    contract_expiry_warning_days = models.PositiveSmallIntegerField("合同到期提醒（天）", default=30)
    # B19(3): the signed contract is submitted to the district work team, which files it; P6(3): the
    # bureau signs itself and nobody files.
    contract_filer = models.CharField("聘用合同备案机构", max_length=24, choices=ContractFiler.choices,
                                      default=ContractFiler.DISTRICT_WORK_TEAM)
    # B5/B6: district work teams exist (Beijing); Pingdingshan has none, so documents may not name one.
    district_work_teams = models.BooleanField("设区级责任规划师工作专班", default=True)
    # P6(4): 聘期届满前……综合评议……不合格的不予续聘 — renewal waits for the term's graded review.
    renewal_requires_review = models.BooleanField("续聘须经本聘期考核评议", default=False)
    # P6(4) 聘期届满前……综合评议 / B20 年度考核: the grade is given in the last N days of the service year
    # (or later), never earlier; empty: no window (graded whenever the inputs are in).
    review_window_days = models.PositiveSmallIntegerField(
        "考核评议窗口（服务周期结束前天数）", null=True, blank=True, default=30,
        help_text="服务周期（聘期年度）结束前多少天内方可评定考核等次；留空表示不限",
    )
    # The planner's 述职 and the hiring entity's 属地反馈 (the inputs the criteria name, `inputs` of each
    # assessment criterion) are asked for when the review opens; a party silent past this many working
    # days may be recorded as absent by the assessing body, and the review then goes on without it.
    review_input_working_days = models.PositiveSmallIntegerField(
        "述职、属地反馈提交期限（工作日）", default=10,
        help_text="自考核评议开始（启动考核与评议窗口开启中较晚者）次日起算的工作日数",
    )
    # PIPL art. 28–29: a city may review residents' suggestions before they are published; the planner
    # and the district receive them at once either way.
    suggestions_premoderated = models.BooleanField(
        "居民意见建议审核后公开", default=False,
        help_text="开启后，意见建议须经区级主管部门或市级主管部门审核放行后才在公开页面、公开接口和开放数据中显示",
    )

    # Rules that used to be constants in code (#14). Neither rule book fixes these numbers; today's values
    # are the defaults and both cities keep them (data/cities/README.md says where each text is silent).
    # B19(3) / P6(3) have contracts filed, not within how many days: the district assessment (B20) counts a
    # contract filed within this many days of its term's start as filed on time.
    contract_filing_days = models.PositiveSmallIntegerField(
        "聘用合同按时备案期限（天）", default=30,
        help_text="区级制度执行评估（B20）中，聘期开始后多少天内备案计为按时备案；制度文件（B19(3)、P6(3)）未规定天数，默认 30 天",
    )
    # B20 / P6(4): the assessing body is reminded of a service year ending within this many days that has
    # no review yet.
    assessment_due_reminder_days = models.PositiveSmallIntegerField(
        "年度考核待开展提醒（天）", default=30,
        help_text="服务年度结束前多少天起提醒考核主体组织考核（B20、P6(4)）；制度文件未规定天数，默认 30 天",
    )
    # P6(2) 按照专业匹配、能力适配的原则 / P5(1) 专业背景、职称资历、实践经验、属地熟悉度: the weights of the
    # matching score's four terms (rpms.matching), integers summing to 100.
    matching_weight_specialty = models.PositiveSmallIntegerField(
        "统筹选派评分权重：专业匹配", default=40, help_text="四项权重均为整数，合计 100（P6(2)、P5(1)）")
    matching_weight_familiarity = models.PositiveSmallIntegerField("统筹选派评分权重：属地熟悉度", default=25)
    matching_weight_experience = models.PositiveSmallIntegerField("统筹选派评分权重：从业经验", default=20)
    matching_weight_grade = models.PositiveSmallIntegerField("统筹选派评分权重：既往考核", default=15)
    # B24(1): the districts nominate 区级优秀责任规划师 and the city selects 市级优秀责任规划师 among them; the
    # record (nomination, then selection) carries this title.
    honour_title = models.CharField(
        "荣誉称号", max_length=100, default="优秀责任规划师",
        help_text="区级推选、市级评选的表彰称号（B24(1)）；写入推选记录、公开名单和荣誉证书",
    )

    grades = models.JSONField("考核等次", default=list)
    removal_grounds = models.JSONField("调出情形", default=list)
    duty_categories = models.JSONField("工作职责类别", default=list)
    zone_types = models.JSONField("功能区类型", default=list, blank=True)
    specialties = models.JSONField("专业领域", default=list)
    registrations = models.JSONField("执业资格", default=list, blank=True)
    eligibility_rules = models.JSONField("选聘条件", default=dict)
    contract_clauses = models.JSONField("合同必备条款", default=list)
    assessment_criteria = models.JSONField("考核评议内容", default=list, blank=True)
    roles = models.JSONField("派驻角色", default=list, blank=True)
    # The kinds of violation a district may record (B16 in Beijing; P5(4) items 1–2 in Pingdingshan),
    # each citing the city's own article; empty: the city lists none.
    violation_kinds = models.JSONField("违规情形", default=list, blank=True)
    # B18, B19(2), B19(7) say "原则上": a city marks each limit strict or in_principle (rpms.cities.limits);
    # exceeding an in-principle limit needs an approved exception (rpms.registry.limits). Unnamed: strict.
    limit_strictness = models.JSONField(
        "限制的执行方式", default=dict, blank=True,
        help_text="各项限制（unit_cap 同时服务责任单元上限、core_team_members 团队核心成员上限、eligibility 选聘条件）"
                  "为 strict（硬性）或 in_principle（原则上，经市级主管部门批准可例外）；未列出的按 strict 执行",
    )
    articles = models.JSONField(
        "各环节条款依据", default=dict, blank=True,
        help_text="每个办理环节引用的本市条款，键见 rpms.cities.articles.ARTICLE_STEPS",
    )

    class Meta:
        verbose_name = "政策配置"
        verbose_name_plural = "政策配置"
        constraints = [
            models.CheckConstraint(
                condition=Q(renewal_years_min__lte=F("renewal_years_max")), name="policy_renewal_min_lte_max"
            ),
            models.CheckConstraint(condition=Q(notice_working_days__gte=1), name="policy_notice_days_positive"),
            models.CheckConstraint(condition=Q(first_term_years__gte=1), name="policy_first_term_positive"),
            models.CheckConstraint(condition=Q(renewal_years_min__gte=1), name="policy_renewal_min_positive"),
            models.CheckConstraint(condition=Q(review_input_working_days__gte=1), name="policy_review_input_days_positive"),
            models.CheckConstraint(condition=Q(review_window_days__isnull=True) | Q(review_window_days__gte=1),
                                   name="policy_review_window_positive"),
            models.CheckConstraint(  # the four matching weights sum to 100
                condition=Q(matching_weight_specialty=100 - F("matching_weight_familiarity") - F("matching_weight_experience")
                            - F("matching_weight_grade")),
                name="policy_matching_weights_sum_100",
            ),
        ]

    def __str__(self):
        return f"{self.city.name} 政策配置 v{self.version}"

    def clean(self):
        from .schemas import validate_policy_lists

        errors = {}
        if self.renewal_years_min and self.renewal_years_max and self.renewal_years_min > self.renewal_years_max:
            errors["renewal_years_min"] = "续聘期下限不得大于上限。"
        weights = self.matching_weights()
        if all(isinstance(v, int) for v in weights.values()) and sum(weights.values()) != 100:
            errors["matching_weight_specialty"] = f"统筹选派评分的四项权重之和须为 100，当前为 {sum(weights.values())}。"
        try:
            validate_policy_lists(self)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

    # Lookups used by other contexts; the lists stay the single source of truth.
    def _by_code(self, items, code):
        return next((item for item in items if item.get("code") == code), None)

    def zone_type(self, code):
        return self._by_code(self.zone_types, code)

    def removal_ground(self, code):
        return self._by_code(self.removal_grounds, code)

    def violation_kind(self, code):
        return self._by_code(self.violation_kinds or [], code)

    def limit_in_principle(self, limit: str) -> bool:
        """Whether `limit` (rpms.cities.limits.LIMITS) may be exceeded with an approved exception."""
        from .limits import is_in_principle

        return is_in_principle(self, limit)

    def matching_weights(self) -> dict[str, int]:
        """The matching score's weights (rpms.matching.engine.Weights' keyword arguments)."""
        return {"specialty": self.matching_weight_specialty, "familiarity": self.matching_weight_familiarity,
                "experience": self.matching_weight_experience, "grade": self.matching_weight_grade}

    def grade(self, code):
        return self._by_code(self.grades, code)

    def review_inputs(self) -> list[str]:
        """The review inputs (述职 `self_report`, 属地反馈 `entity_feedback`) the assessment criteria name,
        in the order of REVIEW_INPUT_CODES; grading waits for each (or its recorded absence)."""
        from .schemas import REVIEW_INPUT_CODES

        named = {code for c in self.assessment_criteria or [] for code in (c.get("inputs") or [])}
        return [code for code in REVIEW_INPUT_CODES if code in named]

    def duty_category(self, code):
        return self._by_code(self.duty_categories, code)

    def specialty_label(self, code):
        item = self._by_code(self.specialties, code)
        return item["label"] if item else code

    def contract_clause(self, code):
        return self._by_code(self.contract_clauses, code)

    def clauses_binding_planner(self) -> list[dict]:
        """B25: the clauses whose breach by the planner lets the hiring entity end the contract (those
        binding the planner alone or both parties); a clause binding only the entity is never a ground."""
        from .schemas import CLAUSE_BINDS_PLANNER

        return [c for c in self.contract_clauses or [] if c.get("binds") in CLAUSE_BINDS_PLANNER]
