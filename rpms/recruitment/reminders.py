"""Daily reminders of recruitment (rpms.notifications.reminders): notices ending (公示), objections unresolved —
to the city administrators (P5(2), B19(7))."""
from __future__ import annotations

import datetime as dt

from rpms.notifications import recipients
from rpms.notifications.reminders import Reminder, register
from rpms.notifications.reminders import day_label as _d
from rpms.notifications.reminders import safe_reverse as _safe_reverse
from rpms.workdays.selectors import add_working_days

from .models import Objection, PublicNotice


def notice_end_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Notices ending by the next working day, or ended and not closed: the city must close them
    (admit the candidates) once the period is over (P5(2))."""
    next_working_day = add_working_days(today + dt.timedelta(days=1), 1).end
    notices = list(
        PublicNotice.objects.filter(city=city, closed_at__isnull=True, end__lte=next_working_day).order_by("end", "pk")
    )
    if not notices:
        return []
    admins = tuple(recipients.city_admins(city))
    result = []
    for notice in notices:
        if notice.end < today:
            title = f"公示期已满，待办理入库：{notice.title}"
            body = f"公示“{notice.title}”已于{_d(notice.end)}期满，请处理异议并结束公示、办理入库。"
        else:
            title = f"公示即将结束：{notice.title}"
            body = f"公示“{notice.title}”将于{_d(notice.end)}结束（{notice.working_days}个工作日），请及时处理异议并办理入库。"
        result.append(Reminder(
            kind="notice_end", item=f"notice:{notice.pk}", deadline=notice.end, users=admins, title=title, body=body,
            url=_safe_reverse("recruitment:manage_notice", notice.pk), city=city,
        ))
    return result


def objection_reminders(*, city, today: dt.date) -> list[Reminder]:
    """Objections not yet resolved; the deadline is the end of their notice (P5(2))."""
    objections = list(
        Objection.objects.filter(notice__city=city, resolution="")
        .select_related("notice", "entry__application")
        .order_by("received_at", "pk")
    )
    if not objections:
        return []
    admins = tuple(recipients.city_admins(city))
    result = []
    for objection in objections:
        notice = objection.notice
        result.append(Reminder(
            kind="objection", item=f"objection:{objection.pk}", deadline=notice.end, users=admins,
            title=f"公示异议待处理：{notice.title}",
            body=(
                f"{_d(objection.received_at.date())}收到对公示人选“{objection.entry.application.name}”的异议，"
                f"请在公示期满（{_d(notice.end)}）前核查处理并公布结果。"
            ),
            url=_safe_reverse("recruitment:manage_notice", notice.pk), city=city,
        ))
    return result


def register_providers() -> None:
    """Called from the app's AppConfig.ready(): the daily run (rpms.notifications.reminders) asks these."""
    register(notice_end_reminders, objection_reminders)
