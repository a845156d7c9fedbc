"""Reminders that read contexts built alongside this one (rpms.assessments, rpms.finance), read-only.

Each provider first checks that the other app's model exists and returns nothing otherwise, so the daily
run never fails because one of them is missing. The URLs are looked up by name and left empty if the
page does not exist."""
from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.urls import NoReverseMatch, reverse


def _model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _d(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def service_year_end(appointment, today: dt.date) -> tuple[int, dt.date, dt.date]:
    """(n, first day, last day) of the service year of `appointment` containing `today` (or its last one
    if it is over): year n runs from start + (n-1) years to the day before start + n years, cut at the
    appointment's last day (a leave date, or the term's end) — the cycles rpms.assessments assesses."""
    last = getattr(appointment, "ended_on", None) or appointment.end
    n = 1
    while True:
        start = _add_years(appointment.start, n - 1)
        end = _add_years(appointment.start, n) - dt.timedelta(days=1)
        if end >= today or end >= last:
            return n, start, min(end, last)
        n += 1


def assessment_due_reminders(*, city, today: dt.date):
    """B20, P6(4): an appointment whose service year ends within the city's `assessment_due_reminder_days` (30 by
    default) and has no assessment of that year
    → the assessing body: the district work team of the unit's district, or where the city bureau leads
    (rpms.assessments.permissions.assessing_body_for) the city administrators and the district officers
    who add the district's scores."""
    Assessment = _model("assessments", "Assessment")
    if Assessment is None:
        return []
    from rpms.appointments.models import Appointment

    from . import recipients
    from .reminders import Reminder

    horizon = today + dt.timedelta(days=city.policy.assessment_due_reminder_days)
    due = []
    for appointment in (
        Appointment.objects.active(on=today).filter(city=city).select_related("unit__district", "planner").order_by("pk")
    ):
        n, start, end = service_year_end(appointment, today)
        if today <= end <= horizon:
            due.append((appointment, n, start, end))
    if not due:
        return []
    opened = set(
        Assessment.objects.filter(appointment_id__in=[a.pk for a, *_ in due]).values_list("appointment_id", "period_start")
    )
    try:
        from rpms.assessments.models import AssessingBody
        from rpms.assessments.permissions import assessing_body_for

        city_leads = assessing_body_for(city) == AssessingBody.CITY_WITH_DISTRICT
    except ImportError:
        city_leads = False
    officers = recipients.district_officers_by_district(city)
    admins = recipients.city_admins(city) if city_leads else []
    result = []
    for appointment, n, start, end in due:
        if (appointment.pk, start) in opened:
            continue
        result.append(Reminder(
            kind="assessment_due", item=f"appointment:{appointment.pk}:cycle{n}", deadline=end,
            users=(*admins, *officers.get(appointment.unit.district_id, [])),
            title=f"年度考核待开展：{appointment.planner.name} · {appointment.unit.name}",
            body=(
                f"{appointment.planner.name}在{appointment.unit.district.name}{appointment.unit.name}的第 {n} 个服务年度"
                f"（{_d(start)}至{_d(end)}）即将结束，尚未启动考核评议，请按时组织考核。"
            ),
            url=_url("appointments:detail", appointment.pk), city=city,
        ))
    return result


def allowance_due_reminders(*, city, today: dt.date):
    """P6(3): an allowance due (its cycle ended) and not paid → the city administrators (the finance role)."""
    Allowance = _model("finance", "Allowance")
    if Allowance is None:
        return []
    from . import recipients
    from .reminders import Reminder

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
    FeeInstallment = _model("finance", "FeeInstallment")
    if FeeInstallment is None:
        return []
    from . import recipients
    from .reminders import Reminder

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
