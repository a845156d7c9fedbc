"""Daily reminders of assessments due (B20, P6(4)), read by rpms.notifications.reminders: a service year
(rpms.core.dates, the same years the assessments open) ending soon without its assessment."""
from __future__ import annotations

import datetime as dt

from rpms.appointments.models import Appointment
from rpms.core.dates import service_year_containing
from rpms.notifications import recipients
from rpms.notifications.reminders import Reminder, register
from rpms.notifications.reminders import day_label as _d
from rpms.notifications.reminders import safe_reverse as _url

from .models import AssessingBody, Assessment
from .permissions import assessing_body_for


def service_year_end(appointment, today: dt.date) -> tuple[int, dt.date, dt.date]:
    """(n, first day, last day) of the service year of `appointment` containing `today` (or its last one
    if it is over): year n runs from start + (n-1) years to the day before start + n years, cut at the
    appointment's last day (a leave date, or the term's end) — the cycles rpms.assessments assesses."""
    last = getattr(appointment, "ended_on", None) or appointment.end
    return service_year_containing(appointment.start, last, today)


def assessment_due_reminders(*, city, today: dt.date):
    """B20, P6(4): an appointment whose service year ends within the city's `assessment_due_reminder_days` (30 by
    default) and has no assessment of that year
    → the assessing body: the district work team of the unit's district, or where the city bureau leads
    (rpms.assessments.permissions.assessing_body_for) the city administrators and the district officers
    who add the district's scores."""
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
    city_leads = assessing_body_for(city) == AssessingBody.CITY_WITH_DISTRICT
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


def register_providers() -> None:
    """Called from the app's AppConfig.ready(): the daily run (rpms.notifications.reminders) asks these."""
    register(assessment_due_reminders)
