"""What happens elsewhere when a year's official schedule changes.

A working-day deadline computed while a year was provisional (Monday–Friday) may be wrong once the
State Council's schedule for that year is entered, replaced or removed. workdays is a low layer and
knows nothing of the apps whose deadlines it computed, so those apps register a listener here at
`ready()` (CONVENTIONS: providers registered downward, never an upward import):

    from rpms.workdays.hooks import SCHEDULE_CHANGED_LISTENERS
    SCHEDULE_CHANGED_LISTENERS.append(my_listener)

A listener is called inside the transaction that changed the schedule, as
`listener(actor=..., year=..., reason=...)`, and returns the effects it had (`ScheduleEffect`), which
the page that entered the schedule shows to the administrator. A listener that fails rolls the entry
back: a schedule is never saved with deadlines left computed on the old one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduleEffect:
    """One record a schedule change altered, as the administrator is told of it."""

    title: str  # "《某某拟入库人员公示》截止日期重新计算"
    detail: str = ""  # "原截止 2027-10-08，现截止 2027-10-14"
    url: str = ""  # where to see it


SCHEDULE_CHANGED_LISTENERS: list[Callable[..., list[ScheduleEffect]]] = []


def schedule_changed(*, actor, year: int, reason: str) -> list[ScheduleEffect]:
    """Run every registered listener for a change of `year`'s schedule; their effects, in order."""
    effects: list[ScheduleEffect] = []
    for listener in list(SCHEDULE_CHANGED_LISTENERS):
        effects.extend(listener(actor=actor, year=year, reason=reason) or [])
    return effects
