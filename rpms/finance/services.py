"""Finance writes: allowances generated per person and service cycle and paid by the city bureau (P6(3)); the
contract fee's payment schedule and its payments (B21).

Each service is one act: one transaction and one audit row citing the city's own article for the step
(`policy_article(city, "allowance")` / `"fee"`). A generation that finds nothing new changes nothing
and writes no audit row. The planner is notified after commit when money is paid."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max, Prefetch, Sum
from django.urls import reverse

from rpms.appointments.models import Appointment
from rpms.cities.models import PolicyProfile
from rpms.cities.selectors import policy_article
from rpms.core import clock, hooks
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.registry.services import full_clean_or_refuse

from . import permissions
from .cycles import person_allowance_amount, person_cycles, persons_for, service_spans
from .models import (
    Allowance,
    AllowanceKind,
    AllowanceReconciliation,
    AllowanceStatus,
    FeeInstallment,
    FeePayment,
    InstallmentStatus,
)

MAX_INSTALLMENTS = 24
MAX_GRACE_WORKING_DAYS = 60
# A schedule's due dates lie between two months before the term starts (an advance on signing) and a
# year after it ends (a final payment after acceptance).
SCHEDULE_EARLIEST_DAYS_BEFORE_TERM = 60
SCHEDULE_LATEST_DAYS_AFTER_TERM = 366
VOUCHER_MAX_LENGTH = 64


# --- small helpers ------------------------------------------------------------------------------------


def parse_date(value, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise DomainError(f"{label}格式不正确，应为 YYYY-MM-DD。", code="invalid_date") from None


def parse_yuan(value, label: str) -> int:
    if isinstance(value, bool):
        raise DomainError(f"{label}应为正整数（元）。", code="invalid_amount")
    try:
        text = str(value).strip().replace(",", "")
        amount = int(text)
    except (TypeError, ValueError):
        raise DomainError(f"{label}应为正整数（元）。", code="invalid_amount") from None
    if amount < 1:
        raise DomainError(f"{label}应为正整数（元）。", code="invalid_amount")
    return amount


def _voucher(value) -> str:
    voucher = str(value or "").strip()
    if not voucher:
        raise DomainError("请填写支付凭证号。", code="voucher_required")
    if len(voucher) > VOUCHER_MAX_LENGTH:
        raise DomainError(f"凭证号不能超过 {VOUCHER_MAX_LENGTH} 个字符。", code="voucher_too_long")
    return voucher


def _paid_on(value, *, not_before: dt.date | None = None, not_before_label: str = "") -> dt.date:
    paid_on = parse_date(value, "支付日期")
    if paid_on > clock.today():
        raise DomainError("支付日期不能晚于今天。", code="paid_on_in_future")
    if not_before is not None and paid_on < not_before:
        raise DomainError(f"支付日期不能早于{not_before_label}（{not_before.isoformat()}）。", code="paid_on_too_early")
    return paid_on


def _notify_planner(planner, *, event: str, title: str, body: str, url: str, key: str, city) -> None:
    from rpms.notifications.services import notify

    if planner.user_id is None:
        return
    notify(users=[planner.user], event=event, title=title, body=body, url=url, key=key, city=city)


# --- allowances (P6(3)) -------------------------------------------------------------------------------

_ALLOWANCE_FKS = ["city", "appointment", "planner", "district", "unit", "paid_by", "reconciliation"]


@transaction.atomic
def allowances_generate(*, actor, city, on=None) -> list[Allowance]:
    """Records the PERSON's allowance (P6(3): 每年 5000 元/人; issue #12) for every service cycle of a planner
    of the city whose last day served has been reached by `on` (default today; a future date is refused):
    one allowance per planner and cycle, covering all their appointments, pro rata to the union of the
    days served (rpms.finance.cycles.person_cycles). Idempotent: what a cycle earns is computed from the
    dates and compared with what is already recorded for it (its rows, and the paid per-appointment rows
    of before issue #12 kept by the reconciliation); only a shortfall is recorded — the cycle's allowance
    the first time, a supplement if more days were served later. Running twice creates nothing new. A city
    whose policy sets no allowance gets none. `actor` None is the system (the management command); a user
    must be the city's finance officer (CITY_ADMIN). One audit row when rows were created."""
    if actor is not None and not permissions.is_finance_officer(actor, city):
        if not getattr(actor, "is_authenticated", False):
            raise Forbidden("请先登录。")
        if permissions.can_read_allowances(actor) and getattr(actor, "city_id", None) == city.pk:
            raise Forbidden("只有市级主管部门（财务经办）可以生成补贴应付记录。")
        raise NotFound()
    today = clock.today()
    on = parse_date(on, "计算日期") if on not in (None, "") else today
    if on > today:
        raise DomainError("计算日期不能晚于今天：只为已经结束的服务周期生成应付记录。", code="date_in_future")
    # Serialises generators of the same city (the unique constraint is the last line of defence).
    policy = PolicyProfile.objects.select_for_update().get(city=city)
    rate = policy.allowance_yuan_per_person_year
    if not rate:
        return []
    article = policy_article(city, "allowance")
    # Every appointment of the city's planners, upcoming ones included: a later appointment in the same
    # cycle keeps the cycle open (one allowance at its end, not one per stretch).
    appointments = (
        Appointment.objects.filter(city=city)
        .select_related("planner", "unit__district")
        .prefetch_related("terms", "planner__members")
        .order_by("planner_id", "start", "id")
    )
    recorded: dict[tuple[int, dt.date], dict] = {
        (r["planner_id"], r["cycle_start"]): r
        for r in Allowance.objects.filter(city=city).exclude(kind=AllowanceKind.LEGACY).order_by()
        .values("planner_id", "cycle_start").annotate(total=Sum("amount_yuan"), last_seq=Max("seq"))
    }
    paid_before = dict(
        ((planner_id, start), paid) for planner_id, start, paid in
        AllowanceReconciliation.objects.filter(city=city).values_list("planner_id", "cycle_start", "paid_yuan")
    )
    by_planner: dict[int, list[Appointment]] = {}
    for appointment in appointments:
        by_planner.setdefault(appointment.planner_id, []).append(appointment)
    rows: list[Allowance] = []
    covers: list[list[int]] = []
    for planner_id, mine in by_planner.items():
        planner = mine[0].planner
        index = {a.pk: a for a in mine}
        cycles = person_cycles([(a.pk, service_spans(a, list(a.terms.all()))) for a in mine])
        persons = None
        for cycle in cycles:
            if not cycle.closed(on):
                continue
            already = recorded.get((planner_id, cycle.start), {})
            earlier = (already.get("total") or 0) + paid_before.get((planner_id, cycle.start), 0)
            if persons is None:
                persons = persons_for(planner, policy, planner.members.all())
            units = "、".join(dict.fromkeys(index[key].unit.name for key in cycle.appointment_keys))
            computed = person_allowance_amount(cycle, rate_yuan=rate, persons=persons,
                                               partial_rule=policy.allowance_partial_cycle, article=article, units=units)
            if computed is None or computed.amount_yuan <= earlier:
                continue
            amount = computed.amount_yuan - earlier
            basis = computed.basis
            if earlier:
                basis += f"此前本周期已记 {earlier:,} 元，本次补记 {amount:,} 元。"
            counted = index[cycle.counted_under()]
            row = Allowance(
                city=city, appointment=counted, planner=planner, district=counted.unit.district, unit=counted.unit,
                kind=AllowanceKind.SUPPLEMENT if earlier else AllowanceKind.CYCLE,
                seq=(already.get("last_seq") or 0) + 1, cycle_no=cycle.no, cycle_start=cycle.start,
                cycle_end=cycle.end, served_until=cycle.served_until, days_served=cycle.days_served,
                days_in_cycle=cycle.days_in_cycle, partial=cycle.partial, partial_rule=computed.partial_rule,
                persons=persons, rate_yuan=rate, amount_yuan=amount, basis=basis, due_on=cycle.due_on,
                status=AllowanceStatus.DUE,
            )
            # Field checks here; the foreign keys come from rows just read, and uniqueness and the check
            # constraints are the database's (one INSERT, not N validation queries).
            full_clean_or_refuse(row, exclude=_ALLOWANCE_FKS, validate_unique=False, validate_constraints=False)
            rows.append(row)
            covers.append(cycle.appointment_keys)
    if not rows:
        return []
    created = Allowance.objects.bulk_create(rows)
    hooks.rows_written_in_bulk(Allowance, city_id=city.pk, years={row.due_on.year for row in created})
    Through = Allowance.appointments.through
    Through.objects.bulk_create([Through(allowance_id=row.pk, appointment_id=key)
                                 for row, keys in zip(created, covers) for key in keys])
    total = sum(r.amount_yuan for r in created)
    audit_log(
        actor=actor, action="finance.allowances_generate", object_type="finance.allowance",
        object_repr=f"{city.name}交通通讯补贴应付记录", city_code=city.code,
        after={"on": on, "created": len(created), "total_yuan": total,
               "rows": [{"id": r.pk, "planner": r.planner_id, "cycle_no": r.cycle_no, "cycle_start": r.cycle_start,
                         "kind": r.kind, "appointments": keys, "days_served": r.days_served,
                         "amount_yuan": r.amount_yuan, "due_on": r.due_on} for r, keys in zip(created, covers)]},
        article=article,
        summary=f"按人生成 {len(created)} 条交通通讯补贴应付记录，合计 {total} 元（截至 {on.isoformat()} 已结束的服务周期）",
    )
    return created


def _lock_allowance(allowance) -> Allowance:
    pk = getattr(allowance, "pk", allowance)
    if not Allowance.objects.select_for_update(of=("self",)).filter(pk=pk).exists():
        raise NotFound()
    return (
        Allowance.objects.select_related("city__policy", "planner__user", "district", "unit", "appointment")
        .prefetch_related(Prefetch("appointments", queryset=Appointment.objects.select_related("unit"))).get(pk=pk)
    )


@transaction.atomic
def allowance_pay(*, actor, allowance, paid_on, voucher_no) -> Allowance:
    """P6(3): the city bureau records the payment of an allowance (date and voucher number). The
    planner is notified."""
    allowance = _lock_allowance(allowance)
    if not permissions.can_view_allowance(actor, allowance):
        raise NotFound()
    if not permissions.is_finance_officer(actor, allowance.city):
        raise Forbidden("只有市级主管部门（财务经办）可以登记补贴支付。")
    if allowance.status == AllowanceStatus.PAID:
        raise Conflict(
            f"该补贴已于 {allowance.paid_on.isoformat()} 支付（凭证号 {allowance.voucher_no}），不能重复登记。",
            code="allowance_already_paid",
        )
    paid_on = _paid_on(paid_on, not_before=allowance.cycle_start, not_before_label="服务周期开始日期")
    voucher = _voucher(voucher_no)
    before = snapshot(allowance, ["status", "paid_on", "voucher_no"])
    allowance.move_to(AllowanceStatus.PAID)
    allowance.paid_on = paid_on
    allowance.voucher_no = voucher
    allowance.paid_at = clock.now()
    allowance.paid_by = actor
    full_clean_or_refuse(allowance, validate_unique=False, validate_constraints=False)
    allowance.save(update_fields=["status", "paid_on", "voucher_no", "paid_at", "paid_by", "updated_at"])
    city = allowance.city
    audit_log(
        actor=actor, action="finance.allowance_pay", obj=allowance, before=before,
        after={**snapshot(allowance, ["status", "paid_on", "voucher_no"]), "amount_yuan": allowance.amount_yuan},
        article=policy_article(city, "allowance"),
        summary=(f"支付{allowance.planner.name}第 {allowance.cycle_no} 个服务周期交通通讯补贴 {allowance.amount_yuan} 元，"
                 f"凭证号 {voucher}"),
    )
    _notify_planner(
        allowance.planner, event="finance.allowance_paid", city=city,
        title=f"交通通讯补贴 {allowance.amount_yuan} 元已支付",
        body=(f"您第 {allowance.cycle_no} 个服务周期（{allowance.cycle_start.isoformat()} 至 "
              f"{allowance.served_until.isoformat()}，服务 {allowance.days_served} 天）的交通通讯补贴"
              f"{'（补记差额）' if allowance.kind == AllowanceKind.SUPPLEMENT else ''} {allowance.amount_yuan} 元已于 "
              f"{paid_on.isoformat()} 支付，凭证号 {voucher}。"),
        url=reverse("finance:allowance_detail", args=[allowance.pk]),
        key=f"finance.allowance_paid:{allowance.pk}",
    )
    return allowance


# --- service fees (B21) -------------------------------------------------------------------------------


def _lock_appointment(appointment) -> Appointment:
    pk = getattr(appointment, "pk", appointment)
    if not Appointment.objects.select_for_update(of=("self",)).filter(pk=pk).exists():
        raise NotFound()
    return Appointment.objects.select_related("city__policy", "unit__district", "unit__city__policy", "planner__user").get(pk=pk)


def term_bounds(appointment: Appointment, term_no: int) -> tuple[dt.date, dt.date]:
    term = appointment.terms.filter(term_no=term_no).first()
    if term is not None:
        return term.start, term.end
    if term_no == appointment.term_no or term_no == 1:
        return appointment.start, appointment.end
    raise DomainError(f"该聘任没有第 {term_no} 聘期。", code="unknown_term")


def pay_by_for(due_on: dt.date, grace_working_days: int) -> tuple[dt.date, list[str]]:
    """The last day of payment: the due date itself, or the grace period's last working day counted
    from the day after the due date (the due date is not counted), per the working-day calendar."""
    if grace_working_days <= 0:
        return due_on, [f"约定支付日期 {due_on.isoformat()}，未约定宽限期，当日为最迟支付日期。"]
    from rpms.workdays.selectors import add_working_days

    result = add_working_days(due_on + dt.timedelta(days=1), grace_working_days)
    explanation = [
        f"约定支付日期 {due_on.isoformat()}，宽限期 {grace_working_days} 个工作日，自次日（{(due_on + dt.timedelta(days=1)).isoformat()}）起算。",
        *result.explanation,
        f"最迟支付日期为 {result.end.isoformat()}，此后未付清即为逾期。",
    ]
    return result.end, explanation


def _schedule_rows(installments, *, term_start: dt.date, term_end: dt.date) -> list[dict]:
    if not isinstance(installments, (list, tuple)) or not installments:
        raise DomainError("请至少填写一期付款计划。", code="fee_schedule_empty")
    if len(installments) > MAX_INSTALLMENTS:
        raise DomainError(f"付款计划最多 {MAX_INSTALLMENTS} 期。", code="fee_schedule_too_long")
    earliest = term_start - dt.timedelta(days=SCHEDULE_EARLIEST_DAYS_BEFORE_TERM)
    latest = term_end + dt.timedelta(days=SCHEDULE_LATEST_DAYS_AFTER_TERM)
    rows = []
    for index, item in enumerate(installments, start=1):
        if not isinstance(item, dict):
            raise DomainError(f"第 {index} 期付款计划格式不正确。", code="invalid_installment")
        due_on = parse_date(item.get("due_on"), f"第 {index} 期支付日期")
        if not earliest <= due_on <= latest:
            raise DomainError(
                f"第 {index} 期支付日期 {due_on.isoformat()} 超出范围：应在 {earliest.isoformat()} 至 {latest.isoformat()} 之间"
                f"（聘期 {term_start.isoformat()} 至 {term_end.isoformat()}）。",
                code="installment_date_out_of_range",
            )
        amount = parse_yuan(item.get("amount_yuan"), f"第 {index} 期金额")
        note = str(item.get("note") or "").strip()
        if len(note) > 200:
            raise DomainError(f"第 {index} 期说明不能超过 200 个字符。", code="note_too_long")
        rows.append({"due_on": due_on, "amount_yuan": amount, "note": note})
    rows.sort(key=lambda r: r["due_on"])
    return rows


def _installment_brief(item: FeeInstallment) -> dict:
    return {"seq": item.seq, "due_on": item.due_on, "amount_yuan": item.amount_yuan, "pay_by": item.pay_by,
            "grace_working_days": item.grace_working_days, "note": item.note}


@transaction.atomic
def fee_schedule_set(*, actor, appointment, installments, grace_working_days=0, term_no=None) -> list[FeeInstallment]:
    """B21: sets (or replaces) the payment schedule of a contract's service fee for a term (default: the
    current term). The installments' amounts must add up to the contract fee (`appointment.fee_yuan`).
    A schedule on which a payment has been recorded can no longer be replaced. `grace_working_days`
    (the contract's payment term) gives each installment its last day of payment in working days."""
    appointment = _lock_appointment(appointment)
    if not permissions.can_set_fee_schedule(actor, appointment):
        if permissions.can_view_fees(actor, appointment):
            raise Forbidden("付款计划由聘任主体（合同甲方）或区级工作专班制定。")
        raise NotFound()
    city = appointment.city
    article = policy_article(city, "fee")
    fee = appointment.fee_yuan
    if not fee:
        raise DomainError("该聘用合同未约定服务费用（金额为空或为 0），无需制定付款计划。", code="no_contract_fee")
    try:
        term_no = int(term_no) if term_no not in (None, "") else appointment.term_no
    except (TypeError, ValueError):
        raise DomainError("聘期序号应为整数。", code="invalid_term") from None
    if not 1 <= term_no <= appointment.term_no:
        raise DomainError(f"该聘任没有第 {term_no} 聘期。", code="unknown_term")
    try:
        grace = int(grace_working_days or 0)
    except (TypeError, ValueError):
        raise DomainError("宽限期应为整数（工作日）。", code="invalid_grace") from None
    if not 0 <= grace <= MAX_GRACE_WORKING_DAYS:
        raise DomainError(f"宽限期应在 0 至 {MAX_GRACE_WORKING_DAYS} 个工作日之间。", code="invalid_grace")
    term_start, term_end = term_bounds(appointment, term_no)
    rows = _schedule_rows(installments, term_start=term_start, term_end=term_end)
    total = sum(r["amount_yuan"] for r in rows)
    if total != fee:
        raise DomainError(
            f"各期金额合计 {total} 元，与聘用合同约定的服务费用 {fee} 元不一致（{article}）。",
            code="fee_schedule_sum_mismatch", details={"fee_yuan": fee, "sum_yuan": total},
        )
    old = list(FeeInstallment.objects.select_for_update().filter(appointment=appointment, term_no=term_no).order_by("seq"))
    if any(item.paid_yuan for item in old):
        raise Conflict("该聘期的付款计划已有付款记录，不能再修改。", code="fee_schedule_has_payments")
    before = [_installment_brief(item) for item in old]
    FeeInstallment.objects.filter(pk__in=[item.pk for item in old]).delete()
    created = []
    for seq, row in enumerate(rows, start=1):
        pay_by, explanation = pay_by_for(row["due_on"], grace)
        item = FeeInstallment(
            city=city, appointment=appointment, district=appointment.unit.district, term_no=term_no, seq=seq,
            due_on=row["due_on"], amount_yuan=row["amount_yuan"], grace_working_days=grace, pay_by=pay_by,
            pay_by_explanation=explanation, note=row["note"], status=InstallmentStatus.UNPAID, created_by=actor,
        )
        full_clean_or_refuse(item, validate_unique=False, validate_constraints=False)
        item.save()
        created.append(item)
    audit_log(
        actor=actor, action="finance.fee_schedule_set", obj=appointment, before={"installments": before} if before else None,
        after={"term_no": term_no, "fee_yuan": fee, "grace_working_days": grace,
               "installments": [_installment_brief(item) for item in created]},
        article=article,
        summary=(f"{'修改' if before else '制定'}服务费用付款计划：{appointment.planner.name} · {appointment.unit.name}"
                 f" 第 {term_no} 聘期，{len(created)} 期，合计 {fee} 元"),
    )
    return created


def _lock_installment(installment) -> FeeInstallment:
    pk = getattr(installment, "pk", installment)
    if not FeeInstallment.objects.select_for_update(of=("self",)).filter(pk=pk).exists():
        raise NotFound()
    return FeeInstallment.objects.select_related(
        "city__policy", "appointment__city__policy", "appointment__unit__district", "appointment__unit__city__policy",
        "appointment__planner__user",
    ).get(pk=pk)


@transaction.atomic
def fee_payment_record(*, actor, installment, paid_on, amount_yuan, voucher_no) -> FeePayment:
    """B21: the hiring entity (party A) records a payment (date, amount, voucher) against an installment;
    several payments may settle one installment, never more than it is owed."""
    installment = _lock_installment(installment)
    appointment = installment.appointment
    if not permissions.can_view_fees(actor, appointment):
        raise NotFound()
    if not permissions.can_record_fee_payment(actor, appointment):
        raise Forbidden("服务费用由聘任主体（合同甲方）支付并登记。")
    if installment.status == InstallmentStatus.PAID:
        raise Conflict("该期服务费已付清。", code="installment_already_paid")
    paid_on = _paid_on(paid_on)
    amount = parse_yuan(amount_yuan, "支付金额")
    remaining = installment.remaining_yuan
    if amount > remaining:
        raise DomainError(f"支付金额 {amount} 元超过该期未付金额 {remaining} 元。", code="payment_exceeds_remaining",
                          details={"remaining_yuan": remaining})
    voucher = _voucher(voucher_no)
    city = installment.city
    before = snapshot(installment, ["status", "paid_yuan", "settled_on"])
    payment = FeePayment(city=city, installment=installment, paid_on=paid_on, amount_yuan=amount, voucher_no=voucher,
                         recorded_by=actor)
    full_clean_or_refuse(payment, validate_unique=False, validate_constraints=False)
    payment.save()
    installment.paid_yuan += amount
    if installment.paid_yuan == installment.amount_yuan:
        installment.move_to(InstallmentStatus.PAID)
        latest = max(installment.payments.values_list("paid_on", flat=True))
        installment.settled_on = latest
    else:
        installment.move_to(InstallmentStatus.PARTIAL)
    full_clean_or_refuse(installment, validate_unique=False, validate_constraints=False)
    installment.save(update_fields=["status", "paid_yuan", "settled_on", "updated_at"])
    on_time = installment.paid_on_time
    audit_log(
        actor=actor, action="finance.fee_payment_record", obj=installment, before=before,
        after={**snapshot(installment, ["status", "paid_yuan", "settled_on"]), "payment": payment.pk, "paid_on": paid_on,
               "amount_yuan": amount, "voucher_no": voucher, "paid_on_time": on_time},
        article=policy_article(city, "fee"), city_code=city.code,
        summary=(f"登记服务费支付 {amount} 元（第 {installment.term_no} 聘期第 {installment.seq} 期，凭证号 {voucher}）："
                 f"{appointment.planner.name} · {appointment.unit.name}"),
    )
    _notify_planner(
        appointment.planner, event="finance.fee_paid", city=city,
        title=f"服务费用 {amount} 元已支付",
        body=(f"{appointment.party_a}已于 {paid_on.isoformat()} 支付{appointment.unit.name}服务费用第 {installment.seq} 期 "
              f"{amount} 元（凭证号 {voucher}）。"),
        url=reverse("finance:fee_schedule", args=[appointment.pk]),
        key=f"finance.fee_paid:{payment.pk}",
    )
    return payment
