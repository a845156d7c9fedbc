"""Issue #15: the districts' figures (B20) are kept in the shared cache and recomputed as soon as an input of the
year changes (rpms.reports raises the city's statistics scopes on every such write)."""
import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.assessments import selectors
from rpms.testing.builders import planner_build as make_planner

from .conftest import bare_appointment, suggestion


def _suggestions(figures):
    metric = next(m for m in figures["metrics"] if m["code"] == "suggestions")
    return metric["numerator"], metric["denominator"]


def test_kept_figures_follow_a_late_suggestion_and_not_another_years(beijing, haidian, wanshou):
    appointment = bare_appointment(planner=make_planner(beijing), unit=wanshou, start=dt.date(2025, 1, 1))
    suggestion(appointment, received_on=dt.date(2025, 3, 2), due_on=dt.date(2025, 3, 16), replied_on=dt.date(2025, 3, 16))
    today = dt.date(2026, 1, 5)
    assert _suggestions(selectors.district_metrics(district=haidian, year=2025, today=today)) == (1, 1)
    with CaptureQueriesContext(connection) as kept:
        assert _suggestions(selectors.district_metrics(district=haidian, year=2025, today=today)) == (1, 1)
    assert len(kept) == 0

    suggestion(appointment, received_on=dt.date(2024, 5, 2), due_on=dt.date(2024, 5, 16))  # another year
    with CaptureQueriesContext(connection) as still_kept:
        selectors.district_metrics(district=haidian, year=2025, today=today)
    assert len(still_kept) == 0

    suggestion(appointment, received_on=dt.date(2025, 5, 2), due_on=dt.date(2025, 5, 16))  # late, overdue
    assert _suggestions(selectors.district_metrics(district=haidian, year=2025, today=today)) == (1, 2)
    # another day is another count (figures run up to today)
    assert _suggestions(selectors.district_metrics(district=haidian, year=2025, today=dt.date(2025, 5, 10))) == (1, 1)


def test_an_appointment_change_recomputes_every_year(beijing, haidian, wanshou):
    today = dt.date(2026, 1, 5)
    before = selectors.district_metrics(district=haidian, year=2025, today=today)
    coverage = next(m for m in before["metrics"] if m["code"] == "coverage")
    bare_appointment(planner=make_planner(beijing), unit=wanshou, start=dt.date(2025, 1, 1))
    after = selectors.district_metrics(district=haidian, year=2025, today=today)
    assert next(m for m in after["metrics"] if m["code"] == "coverage")["numerator"] == coverage["numerator"] + 1
