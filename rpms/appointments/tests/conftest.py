"""Fixtures for appointments: pool members of both cities (with fictional but well-formed ID numbers
and mobiles, so that tests can prove they never reach a public page), and units
(tests move time with the root `clock` fixture)."""
from functools import partial

import pytest

from rpms.accounts.models import Role
from rpms.testing.builders import planner_build, unit_of, units_of, user_build as make_user

PASSWORD = "Test-pass-2026!"

make_planner = partial(planner_build, name_format="测试规划师{n:03d}", username_prefix="ap_planner", id_number="1101081990010{n:04d}X", mobile="139{n:08d}")


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    """Evidence files (B25) and signed contract scans are written under a temporary private root."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def wanshou(beijing):
    """Beijing's unit of 万寿路街道 (Haidian), whose hiring entity is the `street_office` persona."""
    return unit_of(beijing, "110108001")


@pytest.fixture
def bj_planner(beijing):
    return make_planner(beijing, "林清源", employer="虚构城市规划设计研究院", id_number="110108199003071234",
                        mobile="13912345678", specialties=[])


@pytest.fixture
def bj_team(beijing):
    return make_planner(
        beijing, "虚构街区更新工作室", kind="team", leader_name="周明远",
        id_number="110105198807154321", mobile="13887654321",
        members=[
            {"name": "周明远", "specialty": "", "is_core": True},
            {"name": "吴晓岚", "specialty": "", "is_core": True},
            {"name": "非核心成员甲", "specialty": "", "is_core": False},
        ],
    )


@pytest.fixture
def pds_district(pingdingshan):
    return pingdingshan.districts.order_by("code").first()


@pytest.fixture
def pds_unit(pds_district):
    return units_of(pds_district, 1)[0]


@pytest.fixture
def pds_planner(pingdingshan):
    return make_planner(pingdingshan, "韩若溪", employer="虚构平顶山规划设计院", id_number="410402199205061234",
                        mobile="13698765432")


@pytest.fixture
def pds_officer(pingdingshan, pds_district):
    return make_user("ap_pds_officer", Role.DISTRICT_OFFICER, pingdingshan, districts=[pds_district],
                     display_name=f"{pds_district.name}工作专班（测试）")


def review(appointment, lead, grade=None):
    """Opens the assessment (review) of the appointment's current service year as `lead` (the assessing
    body: Pingdingshan's city administrator, Beijing's district officer), scores every criterion as that
    body and, with `grade`, grades it (rpms.assessments, P6(4) / B20)."""
    from rpms.assessments import services as assessments

    assessment = assessments.assessment_open(actor=lead, appointment=appointment)
    criteria = [c["code"] for c in appointment.city.policy.assessment_criteria]
    assessments.assessment_score(actor=lead, assessment=assessment, scores={c: 85 for c in criteria})
    # issue #12: the review waits for the 述职 and the 属地反馈 (rpms.testing.builders); callers move the
    # clock into the review window (the last policy `review_window_days` days of the service year)
    from rpms.testing.builders import review_inputs_build

    assessment = review_inputs_build(assessment=assessment)
    if grade:
        assessment = assessments.assessment_grade(actor=lead, assessment=assessment, grade=grade)
    return assessment
