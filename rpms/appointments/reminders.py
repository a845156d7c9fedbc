"""Daily reminders of appointments (rpms.notifications.reminders): contracts expiring, postings ended by
expiry, withdrawals without a replacement (B19(2), P6(4), P6(5), B25)."""
from __future__ import annotations

import datetime as dt

from rpms.cities.models import ContractSigner
from rpms.notifications import recipients
from rpms.notifications.reminders import Reminder, register
from rpms.notifications.reminders import day_label as _d
from rpms.notifications.reminders import safe_reverse as _safe_reverse

from .models import Appointment, AppointmentStatus, Withdrawal


def _contract_parties(city, appointments):
    """(appointment, its contract's parties): the district officers of the unit's district, the hiring
    entity of the unit, the planner, and the city administrators where the bureau signs (contract_signer).
    A fixed number of queries for any number of appointments."""
    officers = recipients.district_officers_by_district(city)
    entities = recipients.hiring_entities_by_unit(city, {a.unit_id for a in appointments})
    admins = recipients.city_admins(city) if city.policy.contract_signer != ContractSigner.HIRING_ENTITY else []
    for appointment in appointments:
        people = [*officers.get(appointment.unit.district_id, []), *entities.get(appointment.unit_id, []), *admins]
        if appointment.planner.user is not None:
            people.append(appointment.planner.user)
        yield appointment, tuple(people)


def contract_expiry_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Terms ending within the policy's warning period: renew or arrange a replacement (B19(2), P6(4))."""
    days = city.policy.contract_expiry_warning_days
    appointments = list(
        Appointment.objects.expiring(within_days=days, on=today)
        .filter(city=city)
        .select_related("unit__district", "planner__user")
        .order_by("end", "pk")
    )
    if not appointments:
        return []
    result = []
    for appointment, people in _contract_parties(city, appointments):
        result.append(Reminder(
            kind="contract_expiry", item=f"appointment:{appointment.pk}", deadline=appointment.end, users=people,
            title=f"聘用合同即将到期：{appointment.planner.name} · {appointment.unit.name}",
            body=(
                f"{appointment.planner.name}在{appointment.unit.district.name}{appointment.unit.name}的聘期将于"
                f"{_d(appointment.end)}届满（提前 {days} 天提醒），请及时办理续聘或调整补位。"
            ),
            url=_safe_reverse("appointments:detail", appointment.pk), city=city,
        ))
    return result


# A posting's end by expiry is announced on the daily runs of the week after its last day (once: the key
# names the last day), so a missed run (a holiday, an outage) still announces it.
POSTING_ENDED_LOOKBACK_DAYS = 7


def posting_ended_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Terms that ran out without renewal: the posting has ended (B19(2), P6(4))."""
    earliest = today - dt.timedelta(days=POSTING_ENDED_LOOKBACK_DAYS)
    appointments = list(
        Appointment.objects.filter(
            city=city, status__in=[AppointmentStatus.ACTIVE, AppointmentStatus.ENDED], ended_on__isnull=True,
            end__gte=earliest, end__lt=today,
        )
        .select_related("unit__district", "planner__user")
        .order_by("end", "pk")
    )
    if not appointments:
        return []
    result = []
    for appointment, people in _contract_parties(city, appointments):
        result.append(Reminder(
            kind="posting_ended", item=f"appointment:{appointment.pk}", deadline=appointment.end, users=people,
            title=f"聘期届满，派驻结束：{appointment.planner.name} · {appointment.unit.name}",
            body=(
                f"{appointment.planner.name}在{appointment.unit.district.name}{appointment.unit.name}的聘期已于"
                f"{_d(appointment.end)}届满，未办理续聘，派驻结束；责任单元如需继续服务，请办理聘任或调整补位。"
            ),
            url=_safe_reverse("appointments:detail", appointment.pk), city=city,
        ))
    return result


def withdrawal_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Withdrawals whose leave date comes within the warning period and whose unit has no replacement
    yet (P6(5), B25)."""
    horizon = today + dt.timedelta(days=city.policy.contract_expiry_warning_days)
    withdrawals = list(
        Withdrawal.objects.filter(
            appointment__city=city, appointment__status=AppointmentStatus.ACTIVE, replacement__isnull=True,
            leave_date__gte=today, leave_date__lte=horizon,
        )
        .select_related("appointment__unit__district", "appointment__planner")
        .order_by("leave_date", "pk")
    )
    if not withdrawals:
        return []
    admins = recipients.city_admins(city)
    officers = recipients.district_officers_by_district(city)
    result = []
    for withdrawal in withdrawals:
        appointment = withdrawal.appointment
        result.append(Reminder(
            kind="withdrawal", item=f"withdrawal:{withdrawal.pk}", deadline=withdrawal.leave_date,
            users=(*admins, *officers.get(appointment.unit.district_id, [])),
            title=f"责任规划师退出离任：{appointment.planner.name} · {appointment.unit.name}",
            body=(
                f"{appointment.planner.name}申请退出{appointment.unit.district.name}{appointment.unit.name}的派驻，"
                f"离任日期为{_d(withdrawal.leave_date)}，尚未安排补位，请及时调整补位。"
            ),
            url=_safe_reverse("appointments:withdrawal_detail", withdrawal.pk), city=city,
        ))
    return result


def register_providers() -> None:
    """Called from the app's AppConfig.ready(): the daily run (rpms.notifications.reminders) asks these."""
    register(contract_expiry_reminders, posting_ended_reminders, withdrawal_reminders)
