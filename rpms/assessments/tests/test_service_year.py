"""Reminders and assessments count the same service years (rpms.core.dates, issue #14 item 7): for an
appointment beginning on 29 February, the district opening the second year's assessment is not reminded
of it again (the reminders once ended year 1 on 27 February, the assessments on 28 February)."""
import datetime as dt

import pytest

from rpms.assessments.reminders import assessment_due_reminders, service_year_end
from rpms.assessments.services import assessment_open, service_cycles

from .conftest import bare_appointment, make_planner

pytestmark = pytest.mark.django_db

D = dt.date


def test_an_opened_second_year_of_an_appointment_from_29_february_is_not_reminded(
    beijing, wanshou, district_haidian
):
    appointment = bare_appointment(planner=make_planner(beijing), unit=wanshou, start=D(2024, 2, 29), years=2)
    assert service_cycles(appointment) == [(D(2024, 2, 29), D(2025, 2, 28)), (D(2025, 3, 1), D(2026, 2, 28))]
    day = D(2026, 2, 10)
    assert service_year_end(appointment, day) == (2, D(2025, 3, 1), D(2026, 2, 28))
    assert [r.item for r in assessment_due_reminders(city=beijing, today=day)] == [f"appointment:{appointment.pk}:cycle2"]

    assessment = assessment_open(actor=district_haidian, appointment=appointment, cycle_start="2025-03-01")
    assert (assessment.period_start, assessment.period_end) == (D(2025, 3, 1), D(2026, 2, 28))
    assert assessment_due_reminders(city=beijing, today=day) == []
