"""Writes to the working-day calendar: an administrator enters (or replaces, or removes) the State
Council's schedule for a year. Each call is one transaction with one audit row."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from rpms.accounts.models import Role
from rpms.core import clock, hooks
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound

from .hooks import ScheduleEffect, schedule_changed
from .models import MAX_YEAR, MIN_YEAR, CalendarDay, CalendarYear
from .parser import ParsedNotice, parse_notice


def can_manage_calendar(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.CITY_ADMIN))


def _require_admin(actor) -> None:
    if not can_manage_calendar(actor):
        raise Forbidden("只有市级管理员可以录入或删除节假日安排。")


def _check_year(year) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise DomainError(f"年度应在 {MIN_YEAR} 到 {MAX_YEAR} 之间。", code="invalid_year")
    return year


def _picture(calendar_year: CalendarYear) -> dict:
    data = snapshot(calendar_year, fields=["year", "source", "entered_by", "entered_at"])
    data["days"] = [
        {"date": d.isoformat(), "kind": kind, "name": name}
        for d, kind, name in calendar_year.days.order_by("date").values_list("date", "kind", "name")
    ]
    return data


def calendar_year_preview(*, year: int, notice_text: str) -> ParsedNotice:
    """What `calendar_year_enter` would save, without saving (for the confirm step)."""
    _check_year(year)
    return parse_notice(notice_text, year=year)


@transaction.atomic
def calendar_year_enter(*, actor, year: int, source: str, notice_text: str) -> CalendarYear:
    """Enter the State Council notice for `year`; replaces what was entered for that year before.
    An entered year overrides the holidays package for that year. Deadlines computed on the year's
    former schedule (e.g. a provisional Monday–Friday) are recomputed by the apps that registered a
    listener (rpms.workdays.hooks); what they changed is on `calendar_year.effects`."""
    _require_admin(actor)
    _check_year(year)
    source = (source or "").strip()
    if not source:
        raise DomainError("请填写依据文件（如“国办发明电〔2026〕X号”）。", code="source_required")
    parsed = parse_notice(notice_text, year=year)

    existing = CalendarYear.objects.select_for_update().filter(year=year).first()
    before = _picture(existing) if existing else None
    new_days = [(d, CalendarDay.Kind.HOLIDAY, name) for d, name in parsed.holidays] + [
        (d, CalendarDay.Kind.WORKDAY, name) for d, name in parsed.workdays
    ]
    taken = (
        CalendarDay.objects.filter(date__in=[d for d, _, _ in new_days])
        .exclude(calendar_year__year=year)
        .select_related("calendar_year")
        .order_by("date")
        .first()
    )
    if taken is not None:
        raise Conflict(
            f"{taken.date:%Y-%m-%d} 已列入 {taken.calendar_year.year} 年度录入的安排，不能重复录入。",
            code="day_already_entered",
        )

    calendar_year = existing or CalendarYear(year=year)
    calendar_year.source = source
    calendar_year.notice_text = notice_text
    calendar_year.entered_by = actor
    calendar_year.entered_at = clock.now()
    try:
        calendar_year.full_clean()
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), code="invalid_calendar_year") from None
    calendar_year.save()
    calendar_year.days.all().delete()
    rows = []
    for day, kind, name in new_days:
        row = CalendarDay(calendar_year=calendar_year, date=day, kind=kind, name=name[:50])
        # Uniqueness of the dates was checked above in one query, not once per row.
        row.full_clean(validate_unique=False)
        rows.append(row)
    CalendarDay.objects.bulk_create(rows)
    hooks.rows_written_in_bulk(CalendarDay)

    audit_log(
        actor=actor,
        action="workdays.year_enter",
        obj=calendar_year,
        before=before,
        after=_picture(calendar_year),
        summary=(
            f"{'重新' if existing else ''}录入 {year} 年节假日安排（{source}）："
            f"放假 {len(parsed.holidays)} 天，调休上班 {len(parsed.workdays)} 天"
        ),
    )
    calendar_year.effects = schedule_changed(
        actor=actor, year=year, reason=f"{'重新' if existing else ''}录入 {year} 年节假日安排（{source}）"
    )
    return calendar_year


@transaction.atomic
def calendar_year_delete(*, actor, year: int) -> list[ScheduleEffect]:
    """Remove an entered year; the year falls back to the holidays package, or to provisional Mon–Fri.
    Returns what the registered listeners recomputed (rpms.workdays.hooks)."""
    _require_admin(actor)
    calendar_year = CalendarYear.objects.select_for_update().filter(year=year).first()
    if calendar_year is None:
        raise NotFound(f"{year} 年没有录入的节假日安排。")
    before = _picture(calendar_year)
    object_id, label = calendar_year.pk, str(calendar_year)
    calendar_year.delete()
    audit_log(
        actor=actor,
        action="workdays.year_delete",
        object_type=CalendarYear._meta.label_lower,
        object_id=object_id,
        object_repr=label,
        before=before,
        after=None,
        summary=f"删除录入的 {year} 年节假日安排",
    )
    return schedule_changed(actor=actor, year=year, reason=f"删除录入的 {year} 年节假日安排（{label}）")
