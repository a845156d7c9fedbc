"""One way to move every clock of the system at once, for tests and the demo's history.

Each app reads "now" and "today" through its own small clock module (rpms.<app>.clock), and Django dates its
automatic timestamps; all of them read `django.utils.timezone.now`. `clock_at(moment)` makes it read
`moment` plus the real time elapsed since entering, so that what is done inside is dated then, in order —
audit rows, dossier events, deadlines computed from "today" — exactly as if it had been done on that day.
The tests' per-app clock fixtures (monkeypatching one app's `today`) still take precedence for that app."""
from __future__ import annotations

import contextlib
import datetime as dt

from django.utils import timezone


@contextlib.contextmanager
def clock_at(moment: dt.datetime | dt.date, *, hour: int = 10):
    """Every clock reads `moment` (a date: that day at `hour` o'clock, local time) for the duration."""
    if not isinstance(moment, dt.datetime):
        moment = timezone.make_aware(dt.datetime.combine(moment, dt.time(hour, 0)))
    original = timezone.now
    offset = moment - original()

    def now():
        return original() + offset

    timezone.now = now
    try:
        yield moment
    finally:
        timezone.now = original
