"""Fixtures for assessments: a planner appointed in each city (Beijing: 万寿路街道 in Haidian, whose hiring
entity is the `street_office` persona; Pingdingshan: the first unit of its first district), the people who
take part in an assessment there, and builders for the system's
rows an assessment reads (duty records, opinions, suggestions)."""
import datetime as dt
import itertools
from decimal import Decimal
from functools import partial

import pytest
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.testing.builders import planner_build, unit_of, units_of, user_build as make_user

PASSWORD = "Test-pass-2026!"
_seq = itertools.count(1)

make_planner = partial(planner_build, name_format="考核测试规划师{n:03d}", username_prefix="as_planner")


def bare_appointment(*, planner, unit, start, years=1, **fields):
    """An appointment row without the act's documents (for list and figure tests only)."""
    from rpms.appointments.models import Appointment
    from rpms.appointments.services import term_end

    return Appointment.objects.create(
        city=unit.city, unit=unit, planner=planner, role="responsible_planner", start=start,
        end=term_end(start, years), party_a="虚构聘任主体", **fields,
    )


def duty_record(appointment, *, day, hours, category=None, confirmed=True):
    from rpms.duties.models import DutyRecord

    category = category or appointment.city.policy.duty_categories[0]["code"]
    now = timezone.now()
    return DutyRecord.objects.create(
        city=appointment.city, unit=appointment.unit, appointment=appointment, planner=appointment.planner,
        category=category, date=day, hours=Decimal(hours), place="社区活动室", description="调研走访",
        status="confirmed" if confirmed else "submitted", submitted_at=now, confirmed_at=now if confirmed else None,
    )


def suggestion(appointment, *, received_on, due_on, replied_on=None):
    from rpms.suggestions.models import Suggestion, SuggestionRecipient

    n = next(_seq)
    aware = lambda day: timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
    row = Suggestion.objects.create(
        city=appointment.city, unit=appointment.unit, district=appointment.unit.district, tracking_code=f"AS{n:010d}",
        category="suggestion", content="建议增设口袋公园", received_at=aware(received_on), received_on=received_on,
        due_on=due_on, response_working_days=10, status="answered" if replied_on else "received",
        replied_at=aware(replied_on) if replied_on else None,
    )
    SuggestionRecipient.objects.create(suggestion=row, planner=appointment.planner, appointment=appointment,
                                       user=appointment.planner.user, delivered_at=aware(received_on))
    return row


@pytest.fixture
def wanshou(beijing):
    return unit_of(beijing, "110108001")


@pytest.fixture
def pds_district(pingdingshan):
    return pingdingshan.districts.order_by("code").first()


@pytest.fixture
def pds_unit(pds_district):
    return units_of(pds_district, 1)[0]


@pytest.fixture
def pds_officer(pingdingshan, pds_district):
    return make_user("as_pds_officer", Role.DISTRICT_OFFICER, pingdingshan, districts=[pds_district],
                     display_name=f"{pds_district.name}工作专班（测试）")


@pytest.fixture
def pds_entity(pingdingshan, pds_unit):
    return make_user("as_pds_entity", Role.HIRING_ENTITY, pingdingshan, subdistricts=pds_unit.current_subdistricts,
                     display_name="平顶山属地街道（测试）")


@pytest.fixture
def bj_case(beijing, city_admin, district_haidian, street_office, wanshou):
    """Beijing: the district work team assesses (B20); the street office gives local feedback."""
    return {
        "city": beijing, "unit": wanshou, "appointer": city_admin, "lead": district_haidian,
        "scorers": [street_office, district_haidian], "entity": street_office, "signer": street_office,
        "planner": make_planner(beijing, "林清源"),
    }


@pytest.fixture
def pds_case(pingdingshan, pds_admin, pds_officer, pds_entity, pds_unit):
    """Pingdingshan: the city bureau with the local government (P6(4)); the district adds its score."""
    return {
        "city": pingdingshan, "unit": pds_unit, "appointer": pds_admin, "lead": pds_admin,
        "scorers": [pds_entity, pds_officer, pds_admin], "entity": pds_entity, "signer": pds_admin,
        "planner": make_planner(pingdingshan, "韩若溪"),
    }


@pytest.fixture(params=["beijing", "pingdingshan"])
def case(request):
    return request.getfixturevalue("bj_case" if request.param == "beijing" else "pds_case")


def appoint(case, clock):
    """Through the city's path (rpms.testing.builders): Beijing's street office proposes and the district
    approves; Pingdingshan's bureau (`appointer`) appoints."""
    from rpms.testing.builders import appointment_build

    return appointment_build(unit=case["unit"], planner=case["planner"], start=clock.today, actor=case["appointer"],
                             entity_user=case["entity"])


def score_all(case, assessment, value=80):
    from rpms.assessments import services

    criteria = [c["code"] for c in case["city"].policy.assessment_criteria]
    for user in case["scorers"]:
        services.assessment_score(actor=user, assessment=assessment, scores={c: value for c in criteria},
                                  comment="服务认真")


def inputs_in(case, assessment):
    """The review's inputs (issue #12): the planner's 述职 and the hiring entity's 属地反馈."""
    from rpms.testing.builders import review_inputs_build

    return review_inputs_build(assessment=assessment, planner_user=case["planner"].user, entity_user=case["entity"])


def into_window(clock, assessment, days_before_end=5):
    """Moves the clock into the review window (the last `review_window_days` days of the service year)
    if it is not there yet."""
    from rpms.assessments.review import window_opens

    if clock.today < window_opens(assessment):
        clock.set(assessment.period_end - dt.timedelta(days=days_before_end))
