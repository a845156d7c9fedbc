"""Applications: eligibility for both rule sets rule by rule (B18 incl. team leaders, P4), the
core-member cap (B19(7)), and refusals that leave nothing behind."""
import datetime as dt

import pytest

from rpms.core.errors import Conflict, DomainError
from rpms.core.models import ActionLog
from rpms.recruitment import services
from rpms.recruitment.models import Application, ApplicationStatus
from rpms.registry.models import Planner, PoolStatus, TeamMember

from .factories import applicant, beijing_data, fictional_id_number, open_call, pingdingshan_data

pytestmark = pytest.mark.django_db


def failed_articles(application):
    return [r["article"] for r in application.eligibility["rules"] if not r["passed"]]


def top(application, code):
    return next(r for r in application.eligibility["rules"] if r["rule"] == code)


@pytest.fixture
def bj_call(city_admin, beijing):
    return open_call(city_admin, beijing)


@pytest.fixture
def pds_call(pds_admin, pingdingshan):
    return open_call(pds_admin, pingdingshan)


# --- Beijing, B18 -------------------------------------------------------------------------------------


def test_beijing_registered_planner_with_three_years_is_eligible(bj_call, beijing):
    application = services.application_submit(actor=applicant("a1", beijing), call=bj_call,
                                              data=beijing_data(experience_years=3))
    assert application.eligible is True
    assert application.eligibility["article"] == "B18"
    assert [r["article"] for r in application.eligibility["rules"]] == ["B18(1)", "B18(2)", "B18(3)", "B18(4)"]
    assert application.status == ApplicationStatus.SUBMITTED and application.submitted_at is not None


def test_beijing_senior_title_in_landscape_without_registration_is_eligible(bj_call, beijing):
    application = services.application_submit(actor=applicant("a1", beijing), call=bj_call, data=beijing_data(
        registrations=[], title_level="deputy_senior", title_field="landscape"))
    assert application.eligible is True
    assert [c["passed"] for c in top(application, "qualification")["children"]] == [True, False]


def test_beijing_two_years_fails_b18_3_only(bj_call, beijing):
    application = services.application_submit(actor=applicant("a1", beijing), call=bj_call,
                                              data=beijing_data(experience_years=2))
    assert application.eligible is False
    assert failed_articles(application) == ["B18(3)"]
    assert "要求不少于 3 年" in top(application, "experience")["reason"]


def test_beijing_missing_declarations_fail_b18_2_and_b18_4(bj_call, beijing):
    application = services.application_submit(actor=applicant("a1", beijing), call=bj_call,
                                              data=beijing_data(declarations=[]))
    assert failed_articles(application) == ["B18(2)", "B18(4)"]


def test_an_ineligible_application_is_accepted_and_marked(bj_call, beijing):
    application = services.application_submit(actor=applicant("a1", beijing), call=bj_call,
                                              data=beijing_data(registrations=[], title_level="intermediate"))
    assert application.pk and application.eligible is False
    assert failed_articles(application) == ["B18(1)"]
    row = ActionLog.objects.get(action="recruitment.application_submit")
    assert row.article == "B18" and row.after["eligible"] is False and row.after["failed_rules"] == ["qualification"]


def test_a_team_is_judged_on_its_leader(bj_call, beijing):
    members = [{"name": "资深成员", "specialty": "architecture", "is_core": True}]
    # The leader lacks a qualification; members' qualifications do not count (B18: 团队负责人).
    application = services.application_submit(actor=applicant("a1", beijing), call=bj_call, data=beijing_data(
        kind="team", team_name="虚构团队", registrations=[], title_level="intermediate", members=members))
    assert application.eligible is False and failed_articles(application) == ["B18(1)"]
    assert application.display_name == f"虚构团队（负责人：{application.name}）"
    assert list(application.members.values_list("name", "is_core")) == [("资深成员", True)]


def test_eight_core_members_are_accepted_in_beijing(bj_call, beijing):
    members = [{"name": f"成员{i}", "specialty": "architecture", "is_core": True} for i in range(8)]
    members.append({"name": "一般成员", "specialty": "", "is_core": False})
    application = services.application_submit(actor=applicant("a1", beijing), call=bj_call,
                                              data=beijing_data(kind="team", team_name="八人团队", members=members))
    assert application.members.filter(is_core=True).count() == 8


def test_a_ninth_core_member_is_refused_and_nothing_is_saved(bj_call, beijing):
    members = [{"name": f"成员{i}", "specialty": "architecture", "is_core": True} for i in range(9)]
    with pytest.raises(DomainError) as refused:
        services.application_submit(actor=applicant("a1", beijing), call=bj_call,
                                    data=beijing_data(kind="team", team_name="九人团队", members=members))
    assert refused.value.code == "too_many_core_members" and refused.value.status == 400
    assert "8 人" in refused.value.message and "B19(7)" in refused.value.message
    assert Application.objects.count() == 0 and TeamMember.objects.count() == 0
    assert not ActionLog.objects.filter(action="recruitment.application_submit").exists()


def test_a_team_without_members_is_refused(bj_call, beijing):
    with pytest.raises(DomainError) as refused:
        services.application_submit(actor=applicant("a1", beijing), call=bj_call,
                                    data=beijing_data(kind="team", team_name="空团队", members=[]))
    assert refused.value.code == "members_required"


# --- Pingdingshan, P4 ---------------------------------------------------------------------------------


def test_pingdingshan_degree_with_registration_instead_of_title_is_eligible(pds_call, pingdingshan):
    application = services.application_submit(actor=applicant("p1", pingdingshan), call=pds_call, data=pingdingshan_data(
        title_level="none", title_field="", registrations=["registered_civil_engineer"]))
    assert application.eligible is True
    professional = top(application, "professional")
    degree_and_title = professional["children"][0]
    assert degree_and_title["passed"] is True


def test_pingdingshan_ten_years_without_degree_or_title_is_eligible_and_nine_is_not(pds_call, pingdingshan):
    data = {"degree": "junior_college", "degree_field": "architecture", "title_level": "none", "title_field": ""}
    ten = services.application_submit(actor=applicant("p1", pingdingshan), call=pds_call,
                                      data=pingdingshan_data(experience_years=10, **data))
    nine = services.application_submit(actor=applicant("p2", pingdingshan), call=pds_call,
                                       data=pingdingshan_data(experience_years=9, **data))
    assert ten.eligible is True
    assert {c["rule"]: c["passed"] for c in top(ten, "professional")["children"]} == {
        "degree_and_title": False, "long_experience": True}
    assert nine.eligible is False and failed_articles(nine) == ["P4(2)"]


def test_pingdingshan_bachelor_in_an_unrelated_field_fails_p4_2(pds_call, pingdingshan):
    application = services.application_submit(actor=applicant("p1", pingdingshan), call=pds_call,
                                              data=pingdingshan_data(degree_field="farmland_protection", experience_years=3))
    assert application.eligible is False and failed_articles(application) == ["P4(2)"]


def test_pingdingshan_missing_good_record_declaration_fails_p4_4(pds_call, pingdingshan):
    application = services.application_submit(actor=applicant("p1", pingdingshan), call=pds_call,
                                              data=pingdingshan_data(declarations=["political", "familiarity"]))
    assert failed_articles(application) == ["P4(4)"]


def test_pingdingshan_refuses_team_applications(pds_call, pingdingshan):
    with pytest.raises(DomainError) as refused:
        services.application_submit(actor=applicant("p1", pingdingshan), call=pds_call, data=pingdingshan_data(
            kind="team", team_name="团队", members=[{"name": "甲", "is_core": True}]))
    assert refused.value.code == "teams_not_allowed" and "个人" in refused.value.message


# --- refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, code", [
    ("110108198501010010", "invalid_id_number"),  # wrong check digit
    ("11010819850101001", "invalid_id_number"),  # 17 characters
])
def test_an_invalid_id_number_is_refused_in_chinese(bj_call, beijing, bad, code):
    with pytest.raises(DomainError) as refused:
        services.application_submit(actor=applicant("a1", beijing), call=bj_call, data=beijing_data(id_number=bad))
    assert refused.value.code == code and refused.value.status == 400
    assert "身份证号码" in refused.value.message
    assert Application.objects.count() == 0


def test_an_invalid_mobile_is_refused(bj_call, beijing):
    with pytest.raises(DomainError) as refused:
        services.application_submit(actor=applicant("a1", beijing), call=bj_call, data=beijing_data(mobile="12345"))
    assert refused.value.code == "invalid_mobile"


def test_unknown_specialty_and_foreign_district_are_refused(bj_call, beijing):
    user = applicant("a1", beijing)
    with pytest.raises(DomainError) as unknown:
        services.application_submit(actor=user, call=bj_call, data=beijing_data(specialties=["astrology"]))
    assert unknown.value.code == "unknown_specialty"
    with pytest.raises(DomainError) as foreign:
        services.application_submit(actor=user, call=bj_call, data=beijing_data(districts=["410402"]))
    assert foreign.value.code == "invalid_district" and "410402" in foreign.value.message


def test_applying_twice_or_with_the_same_id_number_is_a_conflict(bj_call, beijing):
    user = applicant("a1", beijing)
    data = beijing_data()
    services.application_submit(actor=user, call=bj_call, data=data)
    with pytest.raises(Conflict) as twice:
        services.application_submit(actor=user, call=bj_call, data=beijing_data())
    assert twice.value.code == "already_applied"
    with pytest.raises(Conflict) as same_person:
        services.application_submit(actor=applicant("a2", beijing), call=bj_call, data=beijing_data(id_number=data["id_number"]))
    assert same_person.value.code == "duplicate_id_number"
    assert Application.objects.count() == 1


def test_a_planner_already_in_the_pool_cannot_apply_again(bj_call, beijing):
    id_number = fictional_id_number(777)
    Planner.objects.create(city=beijing, name="在库者", id_number=id_number, pool_status=PoolStatus.ACTIVE)
    with pytest.raises(Conflict) as refused:
        services.application_submit(actor=applicant("a1", beijing), call=bj_call, data=beijing_data(id_number=id_number))
    assert refused.value.code == "already_in_pool"


def test_applying_after_the_deadline_is_refused(bj_call, beijing, clock):
    clock.set(bj_call.deadline + dt.timedelta(days=1))
    with pytest.raises(Conflict) as refused:
        services.application_submit(actor=applicant("a1", beijing), call=bj_call, data=beijing_data())
    assert refused.value.code == "call_closed" and bj_call.deadline.isoformat() in refused.value.message


def test_a_targeted_call_must_name_the_specialties_in_short_supply(city_admin, beijing):
    with pytest.raises(DomainError) as refused:
        open_call(city_admin, beijing, kind="targeted", specialties=[])
    assert refused.value.code == "specialties_required" and "B19(1)" in refused.value.message
    call = open_call(city_admin, beijing, kind="targeted", specialties=["farmland_protection", "land_use_control"])
    assert ActionLog.objects.get(action="recruitment.call_create", object_id=str(call.pk)).article == "B19(1)"  # Beijing's own article


def test_review_requires_scores_to_approve_and_a_reason_to_reject(bj_call, beijing, city_admin):
    application = services.application_submit(actor=applicant("a1", beijing), call=bj_call, data=beijing_data())
    with pytest.raises(DomainError) as no_scores:
        services.application_review(actor=city_admin, application=application, decision="approve", scores={"background": 80})
    assert no_scores.value.code == "scores_required"
    with pytest.raises(DomainError) as no_reason:
        services.application_review(actor=city_admin, application=application, decision="reject", reason=" ")
    assert no_reason.value.message == "请填写审核意见。"
    with pytest.raises(DomainError) as out_of_range:
        services.application_review(actor=city_admin, application=application, decision="approve",
                                    scores={"background": 101, "title": 1, "experience": 1, "local_familiarity": 1})
    assert out_of_range.value.code == "invalid_scores"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    reviewed = services.application_review(actor=city_admin, application=application, decision="reject", reason="名额已满")
    assert reviewed.status == ApplicationStatus.REJECTED and reviewed.decision_reason == "名额已满"
    with pytest.raises(Conflict):
        services.application_review(actor=city_admin, application=application, decision="reject", reason="再次")
