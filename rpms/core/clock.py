"""The one clock of the system: every "now" and "today" of every app is read here.

- `now()`: the current moment, aware (UTC inside, like Django's timestamps);
- `today()`: the local date (settings.TIME_ZONE, Asia/Shanghai) — the day every dated rule counts from;
- `localdate(value)` / `localtime(value)`: the local date / time of a stored moment.

One override point moves all of it at once: `moved_to(moment)` (a context manager) and `move_to(moment)` /
`restore(state)` (for the tests' `clock` fixture in the root conftest.py). While moved, the system reads
`moment` plus the real time elapsed since the move, so that what is done afterwards is dated then, in order:
this module, Django's automatic timestamps (`auto_now`, `default=timezone.now`), sessions and API tokens
all read the same moved time — the override replaces the `datetime` that `django.utils.timezone.now`
reads, so every reader of `timezone.now`, even one holding a reference to the function, follows.

No other module outside tests reads the wall clock (timezone.now(), date.today(), datetime.now(),
timezone.localdate()); tests/test_one_clock.py keeps it so.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass

from django.utils import timezone as dj_timezone

_REAL_DATETIME = dt.datetime


def now() -> dt.datetime:
    """The current moment (aware)."""
    return dj_timezone.now()


def today() -> dt.date:
    """Today's date in local time (settings.TIME_ZONE)."""
    return dj_timezone.localdate(now())


def localdate(value: dt.datetime) -> dt.date:
    """The local date of a stored (aware) moment."""
    return dj_timezone.localdate(value)


def localtime(value: dt.datetime | None = None) -> dt.datetime:
    """A stored moment (by default now) in local time."""
    return dj_timezone.localtime(now() if value is None else value)


def timestamp() -> float:
    """Seconds since the epoch (for counters such as the rate limiter)."""
    return now().timestamp()


# --- the override ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Moved:
    moment: dt.datetime  # aware
    since: float  # time.monotonic() when the clock was moved


_state: _Moved | None = None


def _moved_now(tz: dt.tzinfo | None = None) -> dt.datetime:
    if _state is None:
        return _REAL_DATETIME.now(tz)
    current = _state.moment + dt.timedelta(seconds=time.monotonic() - _state.since)
    return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)


class _SameDatetime(type):
    """`isinstance(x, <moved datetime>)` answers as for the real datetime (django.utils.timezone checks it)."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, _REAL_DATETIME)

    def __subclasscheck__(cls, subclass):
        return issubclass(subclass, _REAL_DATETIME)


class _MovedDatetime(_REAL_DATETIME, metaclass=_SameDatetime):
    """The datetime class django.utils.timezone reads while the clock is moved: only `now()` differs."""

    @classmethod
    def now(cls, tz=None):
        return _moved_now(tz)


def _aware(moment: dt.datetime | dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    if isinstance(moment, dt.datetime):
        return moment if dj_timezone.is_aware(moment) else dj_timezone.make_aware(moment)
    return dj_timezone.make_aware(dt.datetime.combine(moment, dt.time(hour, minute)))


def is_moved() -> bool:
    return _state is not None


def move_to(moment: dt.datetime | dt.date, *, hour: int = 10, minute: int = 0) -> _Moved | None:
    """Moves every clock of the system to `moment` (a date: that day at `hour` o'clock, local time); time
    runs on from there. Returns the previous state, for `restore`."""
    global _state
    previous = _state
    _state = _Moved(moment=_aware(moment, hour, minute), since=time.monotonic())
    dj_timezone.datetime = _MovedDatetime
    return previous


def restore(previous: _Moved | None) -> None:
    """Puts the clock back as `move_to` found it (None: the real time)."""
    global _state
    _state = previous
    dj_timezone.datetime = _MovedDatetime if previous is not None else _REAL_DATETIME


@contextlib.contextmanager
def moved_to(moment: dt.datetime | dt.date, *, hour: int = 10, minute: int = 0):
    """Every clock reads `moment` (a date: that day at `hour` o'clock, local time), running on, for the
    duration; yields the aware moment."""
    previous = move_to(moment, hour=hour, minute=minute)
    try:
        yield _state.moment
    finally:
        restore(previous)
