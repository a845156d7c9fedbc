"""Daily reminders of money (rpms.notifications.reminders): allowances due and unpaid (P6(3)), service-fee
installments overdue (B21)."""
from __future__ import annotations

import datetime as dt

from rpms.notifications import recipients
from rpms.notifications.reminders import Reminder, register
from rpms.notifications.reminders import day_label as _d
from rpms.notifications.reminders import safe_reverse as _url

from .models import Allowance, FeeInstallment


def allowance_due_reminders(*, city, today: dt.date):
    """P6(3): an allowance due (its cycle ended) and not paid → the city administrators (the finance role)."""
    allowances = list(
        Allowance.objects.filter(city=city, status="due", due_on__lte=today)
        .select_related("planner", "unit").order_by("due_on", "pk")
    )
    if not allowances:
        return []
    admins = tuple(recipients.city_admins(city))
    result = []
    for allowance in allowances:
        result.append(Reminder(
            kind="allowance_due", item=f"allowance:{allowance.pk}", deadline=allowance.due_on, users=admins,
            title=f"交通通讯补贴待支付：{allowance.planner.name}",
            body=(
                f"{allowance.planner.name}（{allowance.unit.name}）第 {allowance.cycle_no} 个服务周期的交通通讯补贴"
                f" {allowance.amount_yuan} 元已于{_d(allowance.due_on)}到期，尚未支付，请及时办理。"
            ),
            url=_url("finance:allowance_list") or _url("finance:allowances"), city=city,
        ))
    return result


def fee_overdue_reminders(*, city, today: dt.date):
    """B21: a service-fee installment not fully paid by its last day of payment → the district officers
    (who supervise payment) and the hiring entity of the unit (who pays)."""
    installments = list(
        FeeInstallment.objects.filter(city=city, pay_by__lt=today).exclude(status="paid")
        .select_related("appointment__planner", "appointment__unit__district").order_by("pay_by", "pk")
    )
    if not installments:
        return []
    officers = recipients.district_officers_by_district(city)
    entities = recipients.hiring_entities_by_unit(city, {i.appointment.unit_id for i in installments})
    result = []
    for installment in installments:
        appointment = installment.appointment
        result.append(Reminder(
            kind="fee_overdue", item=f"fee_installment:{installment.pk}", deadline=installment.pay_by,
            users=(*officers.get(installment.district_id, []), *entities.get(appointment.unit_id, [])),
            title=f"服务费用逾期未付：{appointment.planner.name} · {appointment.unit.name}",
            body=(
                f"{appointment.unit.name}第 {installment.term_no} 聘期第 {installment.seq} 期服务费用"
                f" {installment.amount_yuan} 元（已付 {installment.paid_yuan} 元）最迟应于{_d(installment.pay_by)}支付，"
                "现已逾期，请及时支付。"
            ),
            url=_url("appointments:detail", appointment.pk), city=city,
        ))
    return result


def register_providers() -> None:
    """Called from the app's AppConfig.ready(): the daily run (rpms.notifications.reminders) asks these."""
    register(allowance_due_reminders, fee_overdue_reminders)
