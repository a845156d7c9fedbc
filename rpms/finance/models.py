"""Money owed to planners.

- `Allowance` (交通、通讯费用补贴, P6(3) "每年 5000 元/人"): the PERSON's allowance for one of their service
  cycles (issue #12): one row per planner and cycle (`kind` cycle), covering every appointment that
  served in it (`appointments`), pro rata to the union of the days served — plus, rarely, a supplementary
  row (`kind` supplement) when more days of an already-settled cycle were served later, and the paid
  per-appointment rows from before issue #12 (`kind` legacy), kept with their `reconciliation`. Generated
  from the dates once the cycle's last day served has been reached (see `rpms.finance.cycles`). Its state
  is `due` until the city bureau records the payment (`paid`, with the date and the voucher number);
  "overdue" is not stored: it is computed from `due_on` (unpaid and the due date passed).
- `AllowanceReconciliation`: one per person and cycle where the per-appointment rows of before issue #12
  did not match the person's allowance (duplicates for two units in one cycle, or another amount): what
  was paid (kept, never deleted), what is due per person, the difference, and a Chinese note.
- `FeeInstallment` / `FeePayment` (服务费用, B21): the contract fee's payment schedule (each installment a
  due date and an amount, the schedule summing to the contract fee) and the payments recorded against
  it. An installment is overdue when it is not fully paid and its last day of payment (`pay_by`: the
  due date plus the contract's grace period in working days) has passed.
"""
import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from rpms.cities.models import PartialCycleRule
from rpms.core import clock
from rpms.core.models import TimeStampedModel
from rpms.core.states import StatusTransitions


# --- allowances (P6(3)) ---------------------------------------------------------------------------


class AllowanceStatus(models.TextChoices):
    DUE = "due", "待支付"
    PAID = "paid", "已支付"


# The computed states shown to users (the stored status plus "overdue").
ALLOWANCE_OVERDUE = "overdue"
ALLOWANCE_STATE_LABELS = {AllowanceStatus.DUE: "待支付", AllowanceStatus.PAID: "已支付", ALLOWANCE_OVERDUE: "已逾期"}


class AllowanceQuerySet(models.QuerySet):
    def paid(self):
        return self.filter(status=AllowanceStatus.PAID)

    def unpaid(self):
        return self.filter(status=AllowanceStatus.DUE)

    def overdue(self, on: dt.date | None = None):
        """Unpaid and the due date passed (due on the cycle's last day, P6(3) 每个服务周期末支付)."""
        on = on or clock.today()
        return self.filter(status=AllowanceStatus.DUE, due_on__lt=on)

    def due_not_overdue(self, on: dt.date | None = None):
        on = on or clock.today()
        return self.filter(status=AllowanceStatus.DUE, due_on__gte=on)


class AllowanceKind(models.TextChoices):
    CYCLE = "cycle", "本周期补贴"
    SUPPLEMENT = "supplement", "补记差额"
    LEGACY = "legacy", "按聘任计发的历史记录"


class AllowanceReconciliation(TimeStampedModel):
    """Issue #12: the per-appointment allowance rows of one person's service cycle, reconciled with the
    person's allowance (P6(3) 每年 5000 元/人). Paid rows are kept (kind legacy, linked here); unpaid ones
    were replaced by the person's allowance. `difference_yuan` = paid − due: above 0 was overpaid, below
    0 is still owed (generated as the person's allowance for the cycle, less what was paid)."""

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="+")
    planner = models.ForeignKey("registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT,
                                related_name="allowance_reconciliations")
    district = models.ForeignKey("geography.District", verbose_name="计入的区", on_delete=models.PROTECT, related_name="+")
    cycle_no = models.PositiveSmallIntegerField("服务周期序号")
    cycle_start = models.DateField("周期开始")
    cycle_end = models.DateField("周期结束")
    days_served = models.PositiveIntegerField("按人服务天数")
    due_yuan = models.PositiveIntegerField("按人应付（元）")
    paid_yuan = models.PositiveIntegerField("已付（元）")
    difference_yuan = models.IntegerField("差额（元，已付 − 应付）")
    legacy_count = models.PositiveSmallIntegerField("原按聘任记录（条）")
    removed_unpaid_count = models.PositiveSmallIntegerField("删除的未付记录（条）", default=0)
    removed_unpaid_yuan = models.PositiveIntegerField("删除的未付金额（元）", default=0)
    cycle_closed = models.BooleanField("核对时周期已结束", default=True)
    note = models.TextField("核对说明")
    reconciled_on = models.DateField("核对日期")

    class Meta:
        verbose_name = "交通通讯补贴核对"
        verbose_name_plural = "交通通讯补贴核对"
        ordering = ["cycle_start", "planner_id"]
        constraints = [
            models.UniqueConstraint(fields=["planner", "cycle_start"], name="one_reconciliation_per_person_cycle"),
            models.CheckConstraint(condition=Q(difference_yuan=F("paid_yuan") - F("due_yuan")),
                                   name="reconciliation_difference_is_paid_minus_due"),
        ]

    def __str__(self):
        return f"{self.planner} 第 {self.cycle_no} 服务周期补贴核对"

    @property
    def difference_label(self) -> str:
        if self.difference_yuan > 0:
            return f"多付 {self.difference_yuan} 元"
        if self.difference_yuan < 0:
            return f"少付 {-self.difference_yuan} 元"
        return "一致"


class Allowance(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": {
        AllowanceStatus.DUE: {AllowanceStatus.PAID},
        AllowanceStatus.PAID: set(),
    }}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="allowances")
    # The person's allowance covers every appointment that served in the cycle (`appointments`); it is
    # counted under the one that served most days of it (its unit and district: per-district figures).
    # A legacy row's own appointment.
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="计入的派驻聘任", on_delete=models.PROTECT, related_name="allowances"
    )
    appointments = models.ManyToManyField(
        "appointments.Appointment", verbose_name="覆盖的派驻聘任", related_name="covering_allowances", blank=True
    )
    kind = models.CharField("类型", max_length=12, choices=AllowanceKind.choices, default=AllowanceKind.CYCLE)
    seq = models.PositiveSmallIntegerField("同周期序号", default=1)
    reconciliation = models.ForeignKey(
        AllowanceReconciliation, verbose_name="核对记录", null=True, blank=True, on_delete=models.PROTECT,
        related_name="legacy_rows",
    )
    planner = models.ForeignKey(
        "registry.Planner", verbose_name="责任规划师", on_delete=models.PROTECT, related_name="allowances"
    )
    district = models.ForeignKey("geography.District", verbose_name="区", on_delete=models.PROTECT, related_name="allowances")
    unit = models.ForeignKey(
        "geography.ResponsibilityUnit", verbose_name="责任单元", on_delete=models.PROTECT, related_name="allowances"
    )
    cycle_no = models.PositiveSmallIntegerField("服务周期序号")
    cycle_start = models.DateField("周期开始")
    cycle_end = models.DateField("整周期结束", help_text="满一年时周期的最后一天")
    served_until = models.DateField("本周期最后服务日")
    days_served = models.PositiveIntegerField("服务天数")
    days_in_cycle = models.PositiveIntegerField("整周期天数")
    partial = models.BooleanField("不足一个周期", default=False)
    partial_rule = models.CharField(
        "不足周期计算规则", max_length=20, choices=PartialCycleRule.choices, blank=True,
        help_text="不足一个周期时适用的政策规则；整周期为空",
    )
    persons = models.PositiveSmallIntegerField("计补人数", default=1)
    rate_yuan = models.PositiveIntegerField("补贴标准（元/人·年）")
    amount_yuan = models.PositiveIntegerField("应付金额（元）")
    basis = models.TextField("计算说明")
    due_on = models.DateField("应付日期", db_index=True)
    status = models.CharField("状态", max_length=8, choices=AllowanceStatus.choices, default=AllowanceStatus.DUE)
    paid_on = models.DateField("支付日期", null=True, blank=True)
    voucher_no = models.CharField("凭证号", max_length=64, blank=True)
    paid_at = models.DateTimeField("支付登记时间", null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="支付登记人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AllowanceQuerySet.as_manager()

    class Meta:
        verbose_name = "交通通讯补贴"
        verbose_name_plural = "交通通讯补贴"
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["city", "status", "due_on"], name="allowance_city_status_idx"),
            models.Index(fields=["district", "status"], name="allowance_district_idx"),
            models.Index(fields=["planner", "status"], name="allowance_planner_idx"),
        ]
        constraints = [
            # One person's cycle: its allowance (seq 1) and any supplement (2, 3 …); legacy rows apart.
            models.UniqueConstraint(fields=["planner", "cycle_start", "seq"], condition=~Q(kind="legacy"),
                                    name="one_allowance_per_person_cycle_seq"),
            models.CheckConstraint(condition=Q(served_until__gte=F("cycle_start")), name="allowance_served_after_start"),
            models.CheckConstraint(condition=Q(cycle_end__gte=F("served_until")), name="allowance_served_within_cycle"),
            models.CheckConstraint(condition=Q(days_served__lte=F("days_in_cycle")), name="allowance_days_within_cycle"),
            models.CheckConstraint(condition=Q(persons__gte=1), name="allowance_persons_positive"),
            models.CheckConstraint(
                condition=(Q(status="due", paid_on__isnull=True)
                           | (Q(status="paid", paid_on__isnull=False) & ~Q(voucher_no=""))),
                name="allowance_paid_has_date_and_voucher",
            ),
        ]

    def __str__(self):
        suffix = "" if self.kind == AllowanceKind.CYCLE else f"·{self.get_kind_display()}"
        return f"{self.planner} 第 {self.cycle_no} 服务周期补贴{suffix}（{self.cycle_start}—{self.served_until}）"

    def state(self, on: dt.date | None = None) -> str:
        if self.status == AllowanceStatus.PAID:
            return AllowanceStatus.PAID
        on = on or clock.today()
        return ALLOWANCE_OVERDUE if self.due_on < on else AllowanceStatus.DUE

    def state_label(self, on: dt.date | None = None) -> str:
        return ALLOWANCE_STATE_LABELS[self.state(on)]

    @property
    def is_paid(self) -> bool:
        return self.status == AllowanceStatus.PAID


# --- service fees (B21) ---------------------------------------------------------------------------


class InstallmentStatus(models.TextChoices):
    UNPAID = "unpaid", "未支付"
    PARTIAL = "partial", "部分支付"
    PAID = "paid", "已付清"


INSTALLMENT_OVERDUE = "overdue"


class FeeInstallmentQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=InstallmentStatus.PAID)

    def overdue(self, on: dt.date | None = None):
        """Not fully paid and the last day of payment (due date + grace in working days) has passed."""
        on = on or clock.today()
        return self.exclude(status=InstallmentStatus.PAID).filter(pay_by__lt=on)


class FeeInstallment(StatusTransitions, TimeStampedModel):
    TRANSITIONS = {"status": {
        InstallmentStatus.UNPAID: {InstallmentStatus.PARTIAL, InstallmentStatus.PAID},
        InstallmentStatus.PARTIAL: {InstallmentStatus.PARTIAL, InstallmentStatus.PAID},  # a further part payment
        InstallmentStatus.PAID: set(),
    }}

    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="fee_installments")
    appointment = models.ForeignKey(
        "appointments.Appointment", verbose_name="派驻聘任", on_delete=models.PROTECT, related_name="fee_installments"
    )
    district = models.ForeignKey(
        "geography.District", verbose_name="区", on_delete=models.PROTECT, related_name="fee_installments"
    )
    term_no = models.PositiveSmallIntegerField("聘期序号")
    seq = models.PositiveSmallIntegerField("期次")
    due_on = models.DateField("约定支付日期")
    amount_yuan = models.PositiveIntegerField("金额（元）")
    grace_working_days = models.PositiveSmallIntegerField("支付宽限期（工作日）", default=0)
    pay_by = models.DateField("最迟支付日期", db_index=True, help_text="约定支付日期加宽限期（按工作日计算）")
    pay_by_explanation = models.JSONField("最迟支付日期计算说明", default=list, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    status = models.CharField("状态", max_length=8, choices=InstallmentStatus.choices, default=InstallmentStatus.UNPAID)
    paid_yuan = models.PositiveIntegerField("已付金额（元）", default=0)
    settled_on = models.DateField("付清日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="制定人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = FeeInstallmentQuerySet.as_manager()

    class Meta:
        verbose_name = "服务费用付款计划"
        verbose_name_plural = "服务费用付款计划"
        ordering = ["appointment", "term_no", "seq"]
        indexes = [
            models.Index(fields=["city", "status", "pay_by"], name="fee_city_status_idx"),
            # the district's list and its sums (issue #15)
            models.Index(fields=["district", "status", "pay_by"], name="fee_district_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "term_no", "seq"], name="one_fee_installment_per_seq"),
            models.CheckConstraint(condition=Q(amount_yuan__gte=1), name="fee_installment_amount_positive"),
            models.CheckConstraint(condition=Q(paid_yuan__lte=F("amount_yuan")), name="fee_installment_not_overpaid"),
            models.CheckConstraint(condition=Q(pay_by__gte=F("due_on")), name="fee_installment_pay_by_after_due"),
            models.CheckConstraint(
                condition=(Q(status="paid", settled_on__isnull=False, paid_yuan=F("amount_yuan"))
                           | (~Q(status="paid") & Q(settled_on__isnull=True))),
                name="fee_installment_settled_when_paid",
            ),
        ]

    def __str__(self):
        return f"{self.appointment} 第 {self.term_no} 聘期第 {self.seq} 期服务费"

    @property
    def remaining_yuan(self) -> int:
        return self.amount_yuan - self.paid_yuan

    def state(self, on: dt.date | None = None) -> str:
        if self.status == InstallmentStatus.PAID:
            return InstallmentStatus.PAID
        on = on or clock.today()
        return INSTALLMENT_OVERDUE if self.pay_by < on else self.status

    def state_label(self, on: dt.date | None = None) -> str:
        state = self.state(on)
        if state == INSTALLMENT_OVERDUE:
            return "已逾期" + ("（部分支付）" if self.status == InstallmentStatus.PARTIAL else "")
        return InstallmentStatus(state).label

    @property
    def paid_on_time(self) -> bool | None:
        """True/False once paid; None while open."""
        if self.settled_on is None:
            return None
        return self.settled_on <= self.pay_by


class FeePayment(TimeStampedModel):
    city = models.ForeignKey("cities.City", verbose_name="城市", on_delete=models.PROTECT, related_name="fee_payments")
    installment = models.ForeignKey(FeeInstallment, verbose_name="付款期次", on_delete=models.PROTECT, related_name="payments")
    paid_on = models.DateField("支付日期")
    amount_yuan = models.PositiveIntegerField("金额（元）")
    voucher_no = models.CharField("凭证号", max_length=64)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "服务费用支付记录"
        verbose_name_plural = "服务费用支付记录"
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_yuan__gte=1), name="fee_payment_amount_positive"),
            models.CheckConstraint(condition=~Q(voucher_no=""), name="fee_payment_has_voucher"),
        ]

    def __str__(self):
        return f"{self.paid_on} 支付 {self.amount_yuan} 元（凭证 {self.voucher_no}）"
