"""Who serves where, for the contexts that act on a planner's service (duties, opinions, suggestions).

A planner acts through its account: an individual's own user, or a team's account (the team's Planner
row has the user the leader logs in with). Only an appointment in force on the day counts."""
from __future__ import annotations

import datetime as dt

from .models import Appointment


def serving_appointments(user, *, on: dt.date | None = None):
    """The appointments in force on `on` (default today) of the planner or team acting as `user`."""
    if not getattr(user, "is_authenticated", False):
        return Appointment.objects.none()
    return Appointment.objects.active(on=on).filter(planner__user=user).select_related("unit__district", "planner", "city")


def serving_appointment(*, user, unit, on: dt.date | None = None) -> Appointment | None:
    """The user's appointment in force in `unit` on `on`, or None (then the user may not act there)."""
    unit_id = getattr(unit, "pk", unit)
    return serving_appointments(user, on=on).filter(unit_id=unit_id).order_by("start", "id").first()


def unit_appointments(unit, *, on: dt.date | None = None):
    """The appointments in force in `unit` on `on`: whom a resident's suggestion reaches."""
    unit_id = getattr(unit, "pk", unit)
    return Appointment.objects.active(on=on).filter(unit_id=unit_id).select_related("planner__user").order_by("role", "id")
