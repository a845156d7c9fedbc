"""One clock (issue #14, item 2): every "now" and "today" of the system is read through rpms.core.clock, and
the root `clock` fixture moves all of it at once — every app, Django's automatic timestamps, the audit
trail and API tokens.

- `test_one_move_reaches_every_app`: one `clock.set` is seen by cases, training, reports, notifications,
  suggestions, the audit trail and API tokens; `clock.advance` moves them on together.
- `test_no_module_reads_the_wall_clock_but_the_clock`: no non-test module (rpms/, config/, bench/) outside
  rpms/core/clock.py calls timezone.now(), timezone.localdate(), timezone.localtime() without a value,
  date.today(), datetime.now(), datetime.today(), datetime.utcnow() or time.time() (an AST walk, so that a
  re-added call fails here)."""
from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def _unit(city, code="110108001"):
    from rpms.geography.models import ResponsibilityUnit

    return ResponsibilityUnit.objects.filter(
        city=city, dissolved_at__isnull=True, memberships__subdistrict__code=code, memberships__left_at__isnull=True,
    ).select_related("city__policy", "district").distinct().get()


@pytest.mark.django_db
def test_one_move_reaches_every_app(clock, beijing, planner_user):
    from rpms.accounts.services import api_token_issue
    from rpms.appointments.models import Appointment
    from rpms.cases.selectors import planner_units
    from rpms.core import clock as core_clock
    from rpms.core.models import ActionLog
    from rpms.notifications.models import Notification
    from rpms.notifications.reminders import reminders_send
    from rpms.registry.models import Planner
    from rpms.reports.selectors import _today as reports_today
    from rpms.suggestions.services import suggestion_submit
    from rpms.training.services import today as training_today

    real_today = core_clock.today()
    day = dt.date(2031, 5, 20)  # years away from the real day, so nothing can pass by accident
    moment = clock.set(day, hour=15)
    assert core_clock.localtime(moment).date() == day and clock.today == day and core_clock.today() == day

    # training and reports
    assert training_today() == day and reports_today() == day

    # notifications: a reminder run is dated today; its audit row (ActionLog.at, Django's default) too
    run = reminders_send(city=beijing, providers=[])
    assert run.today == day
    assert core_clock.localdate(ActionLog.objects.latest("id").at) == day

    # suggestions: received today, at the moved moment; the handler is notified at that time
    unit = _unit(beijing)
    suggestion = suggestion_submit(actor=None, unit=unit, category="suggestion", content="建议在街角增设座椅。")
    assert suggestion.received_on == day and core_clock.localdate(suggestion.received_at) == day
    assert all(core_clock.localdate(n.created_at) == day for n in Notification.objects.all())

    # cases: the units a planner may write a case for are those served from today on
    planner = Planner.objects.get(user=planner_user)
    Appointment.objects.create(city=beijing, unit=unit, planner=planner, role="responsible_planner",
                               start=day + dt.timedelta(days=1), end=day + dt.timedelta(days=3 * 365),
                               party_a="测试街道办事处")
    assert planner_units(planner_user) == []
    clock.advance(days=1)
    assert clock.today == core_clock.today() == day + dt.timedelta(days=1)
    assert [u.pk for u in planner_units(planner_user)] == [unit.pk]
    assert training_today() == reports_today() == day + dt.timedelta(days=1)

    # API tokens are issued and expire on the same clock
    _, token = api_token_issue(user=planner_user)
    assert core_clock.localdate(token.created_at) == day + dt.timedelta(days=1)

    # a context move nests and restores the fixture's time
    with core_clock.moved_to(dt.date(2030, 1, 2)):
        assert training_today() == dt.date(2030, 1, 2)
    assert training_today() == day + dt.timedelta(days=1)

    assert real_today != day


def test_the_fixture_puts_the_real_time_back(clock):
    from rpms.core import clock as core_clock

    clock.set(dt.date(2031, 5, 20))
    assert core_clock.is_moved()
    core_clock.restore(None)
    assert not core_clock.is_moved()
    assert abs((core_clock.now() - dt.datetime.now(dt.UTC)).total_seconds()) < 60


# --- nobody but the clock reads the wall clock ------------------------------------------------------------

FORBIDDEN = {
    ("timezone", "now"): "timezone.now()",
    ("timezone", "localdate"): "timezone.localdate()",
    ("date", "today"): "date.today()",
    ("datetime", "now"): "datetime.now()",
    ("datetime", "today"): "datetime.today()",
    ("datetime", "utcnow"): "datetime.utcnow()",
    ("time", "time"): "time.time()",
}


def _is_test_module(path: Path) -> bool:
    parts = path.relative_to(BASE_DIR).parts
    return (parts[0] == "tests" or "tests" in parts or path.name.startswith("test_") or path.name == "conftest.py")


def _wall_clock_calls(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        attr = node.func.attr
        owner = node.func.value
        # timezone.now(), dt.date.today(), datetime.datetime.now(), time.time() ...
        name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
        if (name, attr) in FORBIDDEN:
            found.append((node.lineno, FORBIDDEN[(name, attr)]))
        elif (name, attr) == ("timezone", "localtime") and not node.args and not node.keywords:
            found.append((node.lineno, "timezone.localtime()"))
    return found


def _modules():
    # scripts/ is left out: its smoke test is a client of a running server and keeps to real time
    for top in ("rpms", "config", "bench"):
        for path in sorted((BASE_DIR / top).rglob("*.py")):
            if "migrations" in path.parts or _is_test_module(path) or path == BASE_DIR / "rpms/core/clock.py":
                continue
            yield path


def test_no_module_reads_the_wall_clock_but_the_clock():
    offenders = [f"{path.relative_to(BASE_DIR)}:{line}: {call}"
                 for path in _modules() for line, call in _wall_clock_calls(path.read_text(encoding="utf-8"))]
    assert offenders == [], "read the time through rpms.core.clock instead:\n" + "\n".join(offenders)


@pytest.mark.parametrize("source", [
    "from django.utils import timezone\nx = timezone.now()\n",
    "from django.utils import timezone\nx = timezone.localdate()\n",
    "from django.utils import timezone\nx = timezone.localdate(value)\n",
    "from django.utils import timezone\nx = timezone.localtime()\n",
    "import datetime as dt\nx = dt.date.today()\n",
    "import datetime\nx = datetime.datetime.now()\n",
    "from datetime import datetime\nx = datetime.now(tz)\n",
    "from datetime import date\nx = date.today()\n",
    "import time\nx = time.time()\n",
])
def test_the_check_catches_each_way_of_reading_the_wall_clock(source):
    assert _wall_clock_calls(source)


def test_the_check_lets_conversions_and_the_clock_pass():
    source = ("from django.utils import timezone\nfrom rpms.core import clock\n"
              "a = clock.now()\nb = clock.today()\nc = timezone.localtime(value)\nd = clock.localdate(value)\n"
              "class M:\n    at = models.DateTimeField(default=timezone.now)\n")
    assert _wall_clock_calls(source) == []
