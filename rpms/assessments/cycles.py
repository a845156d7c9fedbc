"""The service years an appointment is assessed in (rpms.core.dates.service_years) and the one an assessment
opens for. Below the assessments' selectors and services, which both need it."""
from __future__ import annotations

import datetime as dt

from rpms.appointments.models import Appointment
from rpms.core.dates import service_years
from rpms.core.errors import Conflict, DomainError


def _date(value, *, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(f"{label}格式应为 YYYY-MM-DD。", code="invalid_date") from None


def service_cycles(appointment: Appointment) -> list[tuple[dt.date, dt.date]]:
    """The appointment's service years: one year each from its start, the last cut at its last day
    (a withdrawal's leave date, a termination, or the end of the current term)."""
    return service_years(appointment.start, appointment.ended_on or appointment.end)


def cycle_for(appointment: Appointment, *, today: dt.date, cycle_start=None) -> tuple[dt.date, dt.date]:
    """The cycle to assess: the one beginning on `cycle_start` if given, else the one containing today,
    else (the appointment is over) its last cycle. A cycle not yet begun cannot be assessed."""
    cycles = service_cycles(appointment)
    if not cycles:
        raise Conflict("该聘任没有可考核的服务期。", code="no_cycle")
    if cycle_start not in (None, ""):
        wanted = _date(cycle_start, label="考核期开始日期")
        match = next((c for c in cycles if c[0] == wanted), None)
        if match is None:
            starts = "、".join(c[0].isoformat() for c in cycles)
            raise DomainError(f"考核期应为聘任的某一服务年度（开始日期可选：{starts}）。", code="invalid_cycle")
    else:
        match = next((c for c in cycles if c[0] <= today <= c[1]), None) or (cycles[-1] if today > cycles[-1][1] else cycles[0])
    if match[0] > today:
        raise Conflict(f"该服务年度自 {match[0]} 开始，尚未开始，不能启动考核。", code="cycle_not_started")
    return match
