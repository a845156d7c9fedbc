"""Daily reminders of residents' suggestions past their reply deadline (B11(2), P3(3)) → the district officers
of the district and the planners serving the unit (rpms.notifications.reminders)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from rpms.appointments.models import Appointment
from rpms.notifications import recipients
from rpms.notifications.reminders import Reminder, register
from rpms.notifications.reminders import day_label as _d
from rpms.notifications.reminders import safe_reverse as _safe_reverse

from .models import Suggestion
from .selectors import overdue_q


def serving_planner_users_by_unit(city, unit_ids, *, on) -> dict[int, list]:
    """Unit id → the accounts of the planners (or teams) whose appointment is in force there on `on`."""
    unit_ids = set(unit_ids)
    if not unit_ids:
        return {}
    rows = (
        Appointment.objects.active(on=on)
        .filter(city=city, unit_id__in=unit_ids, planner__user__isnull=False)
        .select_related("planner__user")
        .order_by("unit_id", "pk")
    )
    result: dict[int, list] = defaultdict(list)
    for appointment in rows:
        user = appointment.planner.user
        if user.is_active and user not in result[appointment.unit_id]:
            result[appointment.unit_id].append(user)
    return result


def suggestion_overdue_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Residents' suggestions past their reply deadline, unanswered (B11(2), P3(3))."""
    suggestions = list(
        Suggestion.objects.filter(city=city).filter(overdue_q(today)).select_related("unit", "district")
        .order_by("due_on", "pk")
    )
    if not suggestions:
        return []
    officers = recipients.district_officers_by_district(city)
    planners = serving_planner_users_by_unit(city, {s.unit_id for s in suggestions}, on=today)
    result = []
    for suggestion in suggestions:
        result.append(Reminder(
            kind="suggestion_overdue", item=f"suggestion:{suggestion.pk}", deadline=suggestion.due_on,
            users=(*officers.get(suggestion.district_id, []), *planners.get(suggestion.unit_id, [])),
            title=f"群众意见建议超期未答复：{suggestion.tracking_code}",
            body=(
                f"{suggestion.district.name}{suggestion.unit.name}收到的意见建议（查询码 {suggestion.tracking_code}）"
                f"答复期限为{_d(suggestion.due_on)}，现已超期，请尽快答复或转交。"
            ),
            url=_safe_reverse("suggestions:manage_detail", suggestion.pk), city=city,
        ))
    return result


def register_providers() -> None:
    """Called from the app's AppConfig.ready(): the daily run (rpms.notifications.reminders) asks these."""
    register(suggestion_overdue_reminders)
