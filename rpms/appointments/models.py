"""Appointments (派驻聘任): a planner or team serving a responsibility unit in a role, its terms,
the signed contract and its filing (`SignedContract`, `Appointment.contract_state`; B19(3), P6(3)),
the local selection that precedes it where the policy says so (`SelectionProposal`; B2, B19(1)(5)),
termination and withdrawal requests, and the district chief planner (B6, B8, B19, B25, P6).

Whether an appointment is in force is computed from its dates (CONVENTIONS: no cron job flips
statuses): `Appointment.objects.active(on=day)` is the one definition used everywhere. The stored
status only records what an act decided (TERMINATED), or a lazily settled ENDED / WITHDRAWN once the
dates have passed (so that the partial unique constraint frees the planner-unit pair)."""
import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from rpms.core import clock
from rpms.core.models import SpreadsheetImport, TimeStampedModel
from rpms.core.states import StatusTransitions



class AppointmentStatus(models.TextChoices):
    ACTIVE = "active", "在任"
    ENDED = "ended", "期满离任"
    TERMINATED = "terminated", "已解除"
    WITHDRAWN = "withdrawn", "已退出"
    REMOVED = "removed", "因调出资源库终止"


class EndKind(models.TextChoices):
    """How an appointment ended before its term (with `ended_on`, its last day). Expiry needs no
    record: a term that runs out without renewal ends on `end`."""

    TERMINATION = "termination", "解除聘用合同"
    WITHDRAWAL = "withdrawal", "退出派驻"
    REMOVAL = "removal", "调出资源库"


# The stored status an early ending settles into once its last day has passed.
END_KIND_STATUS = {
    EndKind.TERMINATION: AppointmentStatus.TERMINATED,
    EndKind.WITHDRAWAL: AppointmentStatus.WITHDRAWN,
    EndKind.REMOVAL: AppointmentStatus.REMOVED,
}
# Stored statuses that mean "over" (the appointment no longer runs, whatever its dates say).
OVER_STATUSES = (
    AppointmentStatus.ENDED, AppointmentStatus.TERMINATED, AppointmentStatus.WITHDRAWN, AppointmentStatus.REMOVED,
)


# Labels of the computed state (AppointmentStatus plus "not started yet").
UPCOMING = "upcoming"
STATE_LABELS = {**dict(AppointmentStatus.choices), UPCOMING: "待到任"}


class ContractState(models.TextChoices):
    """Where the appointment's signed contract stands. Filing (and with it public disclosure, B19(7))
    follows a submitted signed contract; where the policy names no filing body (contract_filer "none",
    Pingdingshan P6(3): the bureau signs itself), the bureau's submission is the record and files at once."""

    UNSIGNED = "unsigned", "待签订上传"
    SUBMITTED = "submitted", "已提交待备案"
    RETURNED = "returned", "备案退回"
    FILED = "filed", "已备案"


class AppointmentQuerySet(models.QuerySet):
    def with_last_day(self):
        """`last_day`: the last day of service (the withdrawal leave date, or the term's end)."""
        return self.annotate(last_day=Coalesce("ended_on", "end"))

    def active(self, on: dt.date | None = None):
        """In force on `on` (default today): not terminated or settled as over, started, and its last
        day (leave date or term end) not passed."""
        on = on or clock.today()
        return self.filter(status=AppointmentStatus.ACTIVE, start__lte=on).filter(
            Q(ended_on__isnull=True, end__gte=on) | Q(ended_on__isnull=False, ended_on__gte=on)
        )

    def not_over(self, on: dt.date | None = None):
        """In force on `on` or starting later (what the public and the cap still count)."""
        on = on or clock.today()
        return self.filter(status=AppointmentStatus.ACTIVE).filter(
            Q(ended_on__isnull=True, end__gte=on) | Q(ended_on__isnull=False, ended_on__gte=on)
        )

    def expiring(self, *, within_days: int, on: dt.date | None = None):
        """In force, no leave date set, the term ending within `within_days` days from `on`."""
        on = on or clock.today()
        return self.active(on=on).filter(ended_on__isnull=True, end__lte=on + dt.timedelta(days=within_days))


class Appointment(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {
        # The stored status records an end once its day has come (`state()` reads the dates before that).
        "status": {
            AppointmentStatus.ACTIVE: {AppointmentStatus.ENDED, AppointmentStatus.TERMINATED, AppointmentStatus.WITHDRAWN,
                                       AppointmentStatus.REMOVED},
            AppointmentStatus.ENDED: set(),
            AppointmentStatus.TERMINATED: set(),
            AppointmentStatus.WITHDRAWN: set(),
            AppointmentStatus.REMOVED: set(),
        },
        # B19(3): submitted for filing, returned for correction, filed (at once where nobody files).
        "contract_state": {
            ContractState.UNSIGNED: {ContractState.SUBMITTED, ContractState.FILED},
            ContractState.SUBMITTED: {ContractState.FILED, ContractState.RETURNED},
            ContractState.RETURNED: {ContractState.SUBMITTED, ContractState.FILED},
            ContractState.FILED: set(),
        },
    }

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="appointments")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="appointments"
    )
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师（团队）", on_delete=models.PROTECT, related_name="appointments"
    )
    role = models.CharField("派驻角色", max_length=50, help_text="城市政策配置 roles 中的代码")
    start = models.DateField("聘期开始")
    end = models.DateField("本聘期结束", help_text="当前聘期的最后一天")
    status = models.CharField("状态", max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.ACTIVE)
    ended_on = models.DateField("提前结束日", null=True, blank=True, help_text="解除、退出或调出时的最后服务日")
    end_kind = models.CharField("提前结束方式", max_length=16, choices=EndKind.choices, blank=True)
    end_reason = models.TextField("提前结束原因", blank=True)
    # P6(5) 补位: the appointment that took over this one's unit and role after it ended early (a removal
    # from the pool; a withdrawal keeps its own on Withdrawal.replacement). Empty while the unit waits.
    replacement = models.ForeignKey(
        "self", verbose_name="补位聘任", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_postings"
    )
    term_no = models.PositiveSmallIntegerField("聘期序号", default=1)
    # B25 "除合同另有约定外": the contract's own withdrawal notice, only where the policy allows such a
    # clause (contract_notice_clause_allowed); empty = the city's rule applies.
    contract_withdrawal_notice_working_days = models.PositiveSmallIntegerField(
        "合同约定的退出提前期（工作日）", null=True, blank=True,
        help_text="留空表示合同未另行约定，按本市规定（无单方退出的城市须经聘任主体同意解除）",
    )
    party_a = models.CharField("甲方（聘任主体）", max_length=300)
    fee_yuan = models.PositiveIntegerField("服务费用（元）", null=True, blank=True)
    fee_note = models.CharField("费用说明", max_length=500, blank=True)
    service_focus = models.TextField("服务重点", blank=True)
    source = models.CharField("来源", max_length=50, blank=True, help_text="如 matching、replacement、manual")
    note = models.TextField("备注", blank=True)
    filed_at = models.DateTimeField("备案时间", null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="备案经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    disclosed = models.BooleanField("已公开", default=False)
    # B19(3) / P6(3): the signed contract's way to filing (ContractState, below); `filed_at` is the filing.
    contract_state = models.CharField("聘用合同签订备案状态", max_length=16, choices=ContractState.choices,
                                      default=ContractState.UNSIGNED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="聘任经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = "派驻聘任"
        verbose_name_plural = "派驻聘任"
        ordering = ["-start", "-id"]
        indexes = [
            models.Index(fields=["city", "status", "end"], name="appointment_city_status_idx"),
            models.Index(fields=["unit", "status"], name="appointment_unit_status_idx"),
        ]
        constraints = [
            # B8 allows several roles per unit, but one planner serves a unit once at a time.
            models.UniqueConstraint(
                fields=["planner", "unit"], condition=Q(status="active"), name="one_active_appointment_per_planner_unit"
            ),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("start") - dt.timedelta(days=1)),
                name="appointment_ended_on_after_start",
            ),
            models.CheckConstraint(condition=Q(term_no__gte=1), name="appointment_term_no_positive"),
            # An early ending always says how (and a stored early-end status always has its last day).
            models.CheckConstraint(
                condition=Q(end_kind="") | Q(ended_on__isnull=False), name="appointment_end_kind_has_date"
            ),
        ]

    def __str__(self):
        return f"{self.planner} · {self.unit} · {self.role_label}"

    @property
    def role_label(self) -> str:
        for item in getattr(getattr(self.city, "policy", None), "roles", None) or []:
            if item.get("code") == self.role:
                return item["label"]
        return self.role

    @property
    def last_day(self) -> dt.date:
        return self.ended_on or self.end

    def state(self, on: dt.date | None = None) -> str:
        """The computed status on `on` (default today): active / upcoming / ended / terminated / withdrawn."""
        on = on or clock.today()
        if self.status != AppointmentStatus.ACTIVE:
            return self.status
        if self.ended_on is not None and self.ended_on < on:
            return END_KIND_STATUS.get(self.end_kind, AppointmentStatus.WITHDRAWN)
        if self.end < on:
            return AppointmentStatus.ENDED
        if self.start > on:
            return UPCOMING
        return AppointmentStatus.ACTIVE

    def state_label(self, on: dt.date | None = None) -> str:
        return STATE_LABELS[self.state(on)]

    def is_active(self, on: dt.date | None = None) -> bool:
        return self.state(on) == AppointmentStatus.ACTIVE

    @property
    def ending_label(self) -> str:
        """How it ended (or ends): the early ending's label, or 期满 once the term has run out."""
        if self.end_kind:
            return EndKind(self.end_kind).label
        return "聘期届满" if self.state() == AppointmentStatus.ENDED else ""

    @property
    def is_filed(self) -> bool:
        return self.filed_at is not None

    def withdrawal_notice(self) -> tuple[int | None, str]:
        """(working days of notice, "contract" | "policy") for the planner's unilateral withdrawal: the
        contract's own clause where the policy allows one (B25 "除合同另有约定外"), else the city's rule
        (P6(5): 15 working days). None: no unilateral withdrawal (B25: only with the entity's consent)."""
        policy = self.city.policy
        if policy.contract_notice_clause_allowed and self.contract_withdrawal_notice_working_days is not None:
            return self.contract_withdrawal_notice_working_days, "contract"
        return policy.withdrawal_notice_working_days, "policy"


class TermKind(models.TextChoices):
    FIRST = "first", "首聘"
    RENEWAL = "renewal", "续聘"


class AppointmentTerm(models.Model):
    """One term of an appointment: the first and each renewal (B19(2)), with its contract."""

    appointment = models.ForeignKey(Appointment, verbose_name="派驻聘任", on_delete=models.CASCADE, related_name="terms")
    term_no = models.PositiveSmallIntegerField("聘期序号")
    kind = models.CharField("类型", max_length=16, choices=TermKind.choices)
    start = models.DateField("开始")
    end = models.DateField("结束")
    years = models.PositiveSmallIntegerField("年数")
    contract_number = models.CharField("聘用合同文书编号", max_length=64, blank=True)
    # A running contract entered with its history (rpms.appointments.existing): the paper original.
    paper_contract_number = models.CharField("纸质合同编号", max_length=64, blank=True)
    signed_on = models.DateField("合同签订日期", null=True, blank=True)
    created_at = models.DateTimeField("记录时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "聘期"
        verbose_name_plural = "聘期"
        ordering = ["appointment", "term_no"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "term_no"], name="one_term_per_number"),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="term_end_after_start"),
        ]

    def __str__(self):
        return f"第 {self.term_no} 聘期 {self.start}—{self.end}"


class TerminationInitiator(models.TextChoices):
    PLANNER = "planner", "责任规划师申请"
    ENTITY = "entity", "聘任主体解除"


class TerminationStatus(models.TextChoices):
    """B25. A planner's request: pending → consented (with its effective date) / refused / withdrawn.
    An entity's termination for a planner's breach: pending (its evidence not yet attached) → consented
    (decided, with evidence) / withdrawn. "Effective" is consented with the effective date reached:
    computed from the date (`TerminationRequest.state`), stored at once when that date is today."""

    PENDING = "pending", "待处理"
    CONSENTED = "consented", "已同意解除（待生效）"
    REFUSED = "refused", "聘任主体不同意"
    WITHDRAWN = "withdrawn", "已撤回"
    EFFECTIVE = "effective", "已解除"


TERMINATION_TRANSITIONS = {
    TerminationStatus.PENDING: {TerminationStatus.CONSENTED, TerminationStatus.EFFECTIVE, TerminationStatus.REFUSED,
                                TerminationStatus.WITHDRAWN},
    TerminationStatus.CONSENTED: {TerminationStatus.EFFECTIVE},
    TerminationStatus.REFUSED: set(),
    TerminationStatus.WITHDRAWN: set(),
    TerminationStatus.EFFECTIVE: set(),
}
# What each side sees, by initiator and state (the stored status' label is the neutral one).
_TERMINATION_LABELS = {
    ("planner", "pending"): "待聘任主体同意",
    ("planner", "consented"): "聘任主体已同意，待生效",
    ("entity", "pending"): "待上传证据材料（未生效）",
    ("entity", "consented"): "聘任主体已决定解除，待生效",
}


class TerminationRequest(StatusTransitions, models.Model):
    """B25: neither side ends the contract at will. A planner's written request takes effect only
    with the hiring entity's consent (which may be refused, with a reason); the entity may end it only
    for the planner's breach of a clause binding the planner, stating the facts with evidence, and the
    planner's statement in reply is recorded."""

    TRANSITIONS = {"status": TERMINATION_TRANSITIONS}


    appointment = models.ForeignKey(
        Appointment, verbose_name="派驻聘任", on_delete=models.CASCADE, related_name="termination_requests"
    )
    initiator = models.CharField("提出方", max_length=16, choices=TerminationInitiator.choices)
    reason = models.TextField("理由（聘任主体解除时为违约事实）")
    breach = models.CharField("违约条款", max_length=50, blank=True, help_text="合同条款代码（聘任主体解除时必填）")
    breach_label = models.CharField("违约条款名称", max_length=100, blank=True)
    status = models.CharField("状态", max_length=16, choices=TerminationStatus.choices)
    requested_at = models.DateTimeField("提出时间", default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提出人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    consented_at = models.DateTimeField("同意（决定）时间", null=True, blank=True)
    consented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="同意人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    effective_on = models.DateField("解除生效日", null=True, blank=True, help_text="聘用合同解除之日（最后服务日）")
    refused_at = models.DateTimeField("不同意时间", null=True, blank=True)
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="不同意经办人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    refusal_reason = models.TextField("不同意的理由", blank=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    statement = models.TextField("责任规划师的陈述", blank=True)
    statement_at = models.DateTimeField("陈述时间", null=True, blank=True)

    class Meta:
        verbose_name = "解除聘用"
        verbose_name_plural = "解除聘用"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(status="pending"), name="one_pending_termination_per_appointment"
            ),
            models.CheckConstraint(
                condition=Q(initiator="planner") | ~Q(breach=""), name="entity_termination_names_breach"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["consented", "effective"]) | Q(effective_on__isnull=False),
                name="termination_decided_has_effective_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""), name="termination_refusal_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.appointment} {self.get_initiator_display()}"

    def can_become(self, status: str) -> bool:
        return self.can_transition(status)

    def state(self, on: dt.date | None = None) -> str:
        """The stored status, with "consented" read as "effective" once the effective date is reached."""
        on = on or clock.today()
        if self.status == TerminationStatus.CONSENTED and self.effective_on is not None and self.effective_on <= on:
            return TerminationStatus.EFFECTIVE
        return self.status

    def state_label(self, on: dt.date | None = None) -> str:
        state = self.state(on)
        return _TERMINATION_LABELS.get((self.initiator, state), TerminationStatus(state).label)

    @property
    def is_pending(self) -> bool:
        return self.status == TerminationStatus.PENDING


class TerminationEvidence(models.Model):
    """B25: evidence of the planner's breach the hiring entity attaches to its termination (PDF, JPEG or
    PNG, checked by content, stored outside the web root by rpms.core.uploads)."""

    request = models.ForeignKey(TerminationRequest, verbose_name="解除聘用", on_delete=models.CASCADE,
                                related_name="evidence")
    path = models.CharField("存储路径", max_length=300)
    original_name = models.CharField("原文件名", max_length=200)
    kind = models.CharField("类型", max_length=8)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "解除证据材料"
        verbose_name_plural = "解除证据材料"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class Withdrawal(models.Model):
    """P6(5): a planner's written withdrawal, with a leave date at least N working days later."""

    appointment = models.ForeignKey(Appointment, verbose_name="派驻聘任", on_delete=models.CASCADE, related_name="withdrawals")
    requested_on = models.DateField("申请日期")
    leave_date = models.DateField("离任日期")
    earliest = models.DateField("最早可离任日期")
    explanation = models.JSONField("最早日期计算说明", default=list, blank=True)
    reason = models.TextField("理由")
    requested_at = models.DateTimeField("提交时间", default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replacement = models.ForeignKey(
        Appointment, verbose_name="补位聘任", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )

    class Meta:
        verbose_name = "退出派驻"
        verbose_name_plural = "退出派驻"
        ordering = ["leave_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appointment"], name="one_withdrawal_per_appointment"),
            models.CheckConstraint(condition=Q(leave_date__gte=F("earliest")), name="withdrawal_leave_after_earliest"),
        ]

    def __str__(self):
        return f"{self.appointment} 退出（{self.leave_date}）"


class DistrictChiefStatus(models.TextChoices):
    ACTIVE = "active", "在任"
    ENDED = "ended", "已卸任"


class DistrictChief(StatusTransitions, TimeStampedModel):
    """B6: a district's chief planner (区级总责任规划师)."""

    TRANSITIONS = {"status": {
        DistrictChiefStatus.ACTIVE: {DistrictChiefStatus.ENDED},
        DistrictChiefStatus.ENDED: set(),
    }}


    district = models.ForeignKey("geography.District", verbose_name="区", on_delete=models.PROTECT, related_name="chiefs")
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师（团队）", on_delete=models.PROTECT, related_name="chief_posts"
    )
    start = models.DateField("任期开始")
    end = models.DateField("任期结束")
    status = models.CharField("状态", max_length=16, choices=DistrictChiefStatus.choices, default=DistrictChiefStatus.ACTIVE)
    note = models.TextField("备注", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "区级总责任规划师"
        verbose_name_plural = "区级总责任规划师"
        ordering = ["district", "-start"]
        constraints = [
            models.UniqueConstraint(fields=["district"], condition=Q(status="active"), name="one_active_chief_per_district"),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="district_chief_end_after_start"),
        ]

    def __str__(self):
        return f"{self.district} 总责任规划师 {self.planner}"


class AppointmentImport(SpreadsheetImport):
    """One upload of running appointments (既有聘任导入, rpms.appointments.existing_import): each row an
    appointment already signed on paper, checked with every rule of an entry, then entered in steps.
    A district officer's import covers the units of the officer's districts."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="appointment_imports")

    class Meta(SpreadsheetImport.Meta):
        verbose_name = "既有聘任导入"
        verbose_name_plural = "既有聘任导入"
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=F("valid_rows")), name="appointment_import_processed_within_valid"
            ),
            models.CheckConstraint(
                condition=Q(valid_rows__lte=F("total_rows")), name="appointment_import_valid_within_total"
            ),
        ]

    def __str__(self):
        return f"既有聘任导入 #{self.pk} {self.file_name}"


class AppointmentImportBatch(models.Model):
    """One step's worth of validated rows of an appointment import (deleted once entered)."""

    appointment_import = models.ForeignKey(
        AppointmentImport, verbose_name="既有聘任导入", on_delete=models.CASCADE, related_name="batches"
    )
    index = models.PositiveIntegerField("批次序号")
    rows = models.JSONField("待导入的行", default=list)

    class Meta:
        verbose_name = "既有聘任导入待导入批次"
        verbose_name_plural = "既有聘任导入待导入批次"
        ordering = ["appointment_import", "index"]
        constraints = [
            models.UniqueConstraint(fields=["appointment_import", "index"], name="appointment_import_batch_unique_index")
        ]

    def __str__(self):
        return f"{self.appointment_import_id}#{self.index}"


# --- the signed contract and its filing (B19(3), P6(3)) --------------------------------------------


class SignedContractStatus(models.TextChoices):
    SUBMITTED = "submitted", "待备案"
    RETURNED = "returned", "已退回"
    FILED = "filed", "已备案"


class SignedContract(StatusTransitions, models.Model):
    """One submission of the signed, sealed contract scan (PDF, stored privately under
    PRIVATE_MEDIA_ROOT; never public): its signing date, the fee agreed in it, who submitted it, and
    what the filing body did with it (filed, or returned with a reason — then a new submission follows)."""

    TRANSITIONS = {"status": {
        SignedContractStatus.SUBMITTED: {SignedContractStatus.RETURNED, SignedContractStatus.FILED},
        SignedContractStatus.RETURNED: set(),  # a correction is a new submission (a new row)
        SignedContractStatus.FILED: set(),
    }}


    appointment = models.ForeignKey(
        Appointment, verbose_name="派驻聘任", on_delete=models.CASCADE, related_name="signed_contracts"
    )
    term_no = models.PositiveSmallIntegerField("聘期序号", default=1)
    signed_on = models.DateField("签订日期")
    fee_yuan = models.PositiveIntegerField("约定服务费用（元）")
    path = models.CharField("存储路径", max_length=300)
    original_name = models.CharField("原文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    status = models.CharField("状态", max_length=16, choices=SignedContractStatus.choices,
                              default=SignedContractStatus.SUBMITTED)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提交人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("备案或退回时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="备案或退回经办人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    return_reason = models.TextField("退回理由", blank=True)

    class Meta:
        verbose_name = "签订的聘用合同"
        verbose_name_plural = "签订的聘用合同"
        ordering = ["appointment", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(status="submitted"), name="one_submitted_contract_per_appointment"
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(return_reason=""), name="returned_contract_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.appointment} 签订合同（{self.signed_on}）"


# --- local selection (B2, B19(1)(5)) ------------------------------------------------------------------


class SelectionStatus(models.TextChoices):
    PENDING = "pending", "待区级审核"
    APPROVED = "approved", "已同意聘任"
    RETURNED = "returned", "已退回"
    WITHDRAWN = "withdrawn", "已撤回"


class SelectionProposal(StatusTransitions, TimeStampedModel):
    """B2, B19(1)(5): where the policy's appointment_mode is local selection, the street / town / park
    office (the unit's hiring entity) proposes a planner for its own unit, and the district officer of
    the unit's district approves it — only then is the appointment made — or returns it with a reason.
    Neither alone appoints."""

    TRANSITIONS = {"status": {
        SelectionStatus.PENDING: {SelectionStatus.APPROVED, SelectionStatus.RETURNED, SelectionStatus.WITHDRAWN},
        SelectionStatus.APPROVED: set(),
        SelectionStatus.RETURNED: set(),  # a new proposal is made instead
        SelectionStatus.WITHDRAWN: set(),
    }}


    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="selection_proposals"
    )
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师（团队）", on_delete=models.PROTECT, related_name="selection_proposals"
    )
    role = models.CharField("派驻角色", max_length=50)
    start = models.DateField("拟聘期开始")
    fee_yuan = models.PositiveIntegerField("拟定服务费用（元）", null=True, blank=True)
    fee_note = models.CharField("费用说明", max_length=500, blank=True)
    service_focus = models.TextField("服务重点", blank=True)
    status = models.CharField("状态", max_length=16, choices=SelectionStatus.choices, default=SelectionStatus.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提名人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField("提名时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("审核或撤回时间", null=True, blank=True)
    return_reason = models.TextField("退回理由", blank=True)
    # B19(2) "原则上不超过3个": the entity's written justification for proposing a planner at the cap (the
    # district then asks the city administrator for the exception, rpms.registry.limits).
    exception_reason = models.TextField("超出原则性上限的理由", blank=True)
    appointment = models.OneToOneField(
        Appointment, verbose_name="聘任", null=True, blank=True, on_delete=models.PROTECT, related_name="selection_proposal"
    )

    class Meta:
        verbose_name = "选聘提名"
        verbose_name_plural = "选聘提名"
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["planner", "unit"], condition=Q(status="pending"), name="one_pending_selection_per_planner_unit"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(appointment__isnull=False), name="approved_selection_has_appointment"
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(return_reason=""), name="returned_selection_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.unit} 提名 {self.planner}"

    @property
    def role_label(self) -> str:
        for item in getattr(getattr(self.city, "policy", None), "roles", None) or []:
            if item.get("code") == self.role:
                return item["label"]
        return self.role
