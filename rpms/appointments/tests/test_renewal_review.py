"""Renewal after review (issue #11 item 5). Pingdingshan, P6(4): 聘期届满前……综合评议……不合格的不予续聘 —
the policy's `renewal_requires_review`: no renewal until the current term's review is graded; an opened but
ungraded review blocks too. Beijing, B20: the grade is a reference (the entity may make it a condition),
renewal needs no review."""
import datetime as dt
import json

import pytest

from rpms.appointments import services
from rpms.appointments.models import AppointmentTerm
from rpms.core.errors import Conflict
from rpms.testing.builders import appointment_build

from .conftest import review

pytestmark = pytest.mark.django_db


def renew(client, bearer, user, appointment, years=1):
    return client.post(f"/api/v1/appointments/{appointment.pk}/renew", data=json.dumps({"years": years}),
                       content_type="application/json", **bearer(user))


@pytest.fixture
def pds_appointment(pds_admin, pds_planner, pds_unit, clock):
    appointment = services.appointment_create(actor=pds_admin, planner=pds_planner, unit=pds_unit,
                                              role="responsible_planner", start=clock.today)
    clock.set(appointment.end - dt.timedelta(days=10))
    return appointment


def test_pingdingshan_renewal_waits_for_the_terms_graded_review(pingdingshan, pds_admin, pds_appointment, client,
                                                                bearer):
    assert pingdingshan.policy.renewal_requires_review
    missing = renew(client, bearer, pds_admin, pds_appointment)
    assert missing.status_code == 409
    body = missing.json()
    assert body["code"] == "renewal_review_missing"
    assert "综合评议" in body["detail"] and "P6(4)" in body["detail"]
    assert f"{pds_appointment.start} 至 {pds_appointment.end}" in body["detail"]

    assessment = review(pds_appointment, pds_admin)  # opened and scored, not graded
    pending = renew(client, bearer, pds_admin, pds_appointment)
    assert pending.status_code == 409 and pending.json()["code"] == "renewal_review_pending"
    assert "尚未评定等次" in pending.json()["detail"]
    assert AppointmentTerm.objects.filter(appointment=pds_appointment).count() == 1

    from rpms.assessments import services as assessments

    assessments.assessment_grade(actor=pds_admin, assessment=assessment, grade="qualified")
    done = renew(client, bearer, pds_admin, pds_appointment)
    assert done.status_code == 200, done.content.decode()
    assert done.json()["term_no"] == 2


def test_an_excellent_grade_also_allows_renewal(pds_admin, pds_appointment):
    review(pds_appointment, pds_admin, grade="excellent")
    renewed = services.appointment_renew(actor=pds_admin, appointment=pds_appointment, years=1)
    assert renewed.term_no == 2


def test_an_unqualified_grade_is_still_refused(pds_admin, pds_appointment):
    review(pds_appointment, pds_admin, grade="unqualified")
    with pytest.raises(Conflict) as refused:
        services.appointment_renew(actor=pds_admin, appointment=pds_appointment, years=1)
    # P6(4) 不合格: 不予续聘 and removed from the pool, which has already ended the posting (P5(4))
    assert refused.value.code == "appointment_over"
    assert services.latest_grade(pds_appointment) == "unqualified"
    assert AppointmentTerm.objects.filter(appointment=pds_appointment).count() == 1


def test_an_older_terms_review_does_not_count_for_the_next_renewal(pds_admin, pds_appointment, clock):
    review(pds_appointment, pds_admin, grade="qualified")
    services.appointment_renew(actor=pds_admin, appointment=pds_appointment, years=1)
    pds_appointment.refresh_from_db()
    clock.set(pds_appointment.end - dt.timedelta(days=10))
    with pytest.raises(Conflict) as refused:
        services.appointment_renew(actor=pds_admin, appointment=pds_appointment, years=1)
    assert refused.value.code == "renewal_review_missing"
    assert str(pds_appointment.end) in refused.value.message
    second = review(pds_appointment, pds_admin, grade="qualified")
    term = AppointmentTerm.objects.get(appointment=pds_appointment, term_no=2)
    assert (second.period_start, second.period_end) == (term.start, term.end)
    assert services.appointment_renew(actor=pds_admin, appointment=pds_appointment, years=1).term_no == 3


def test_beijing_renews_without_any_review(beijing, city_admin, street_office, wanshou, bj_planner, clock, client,
                                           bearer):
    assert not beijing.policy.renewal_requires_review
    appointment = appointment_build(unit=wanshou, planner=bj_planner, start=clock.today)
    clock.set(appointment.end - dt.timedelta(days=5))
    response = renew(client, bearer, street_office, appointment, years=2)
    assert response.status_code == 200, response.content.decode()
    assert response.json()["term_no"] == 2


def test_beijing_renews_while_a_review_is_still_open(city_admin, district_haidian, street_office, wanshou,
                                                     bj_planner, clock):
    appointment = appointment_build(unit=wanshou, planner=bj_planner, start=clock.today)
    clock.set(appointment.end - dt.timedelta(days=5))
    review(appointment, district_haidian)  # B20: the district's review, not graded yet
    assert services.appointment_renew(actor=street_office, appointment=appointment, years=1).term_no == 2
