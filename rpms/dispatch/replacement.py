"""Replacement proposals composed for the pages that show them (the withdrawal and the removal pages of
rpms.appointments): the matching engine's ranked candidates (services.replacement_proposals, P6(5)) with
a Chinese note when there are none."""
from __future__ import annotations

import datetime as dt

from rpms.appointments.models import Appointment, Withdrawal
from rpms.core.errors import DomainError

from . import services


def replacement_proposals(*, user, withdrawal: Withdrawal) -> tuple[list[dict], str]:
    """Proposals from the matching engine for the unit and role of a withdrawal (dispatch context),
    and an explanation if there are none."""
    return posting_replacement_proposals(user=user, appointment=withdrawal.appointment,
                                         start=withdrawal.leave_date + dt.timedelta(days=1))


def posting_replacement_proposals(*, user, appointment: Appointment, start: dt.date) -> tuple[list[dict], str]:
    """Proposals for whoever takes over `appointment`'s unit and role from `start` (a withdrawal, a removal)."""
    try:
        proposals = services.replacement_proposals(
            actor=user, unit=appointment.unit, role=appointment.role,
            exclude_planner_ids=(appointment.planner_id,), start=start,
        )
    except DomainError as exc:
        return [], exc.message
    return list(proposals or []), "" if proposals else "资源库中暂无符合条件的补位人选。"
