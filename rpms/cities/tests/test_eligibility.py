import pytest

from rpms.cities.eligibility import eligibility_check

pytestmark = pytest.mark.django_db

BJ_DECLARED = ["familiarity", "commitment"]
PDS_DECLARED = ["political", "familiarity", "good_record"]


def outcome(result, code):
    return next(o for o in result.outcomes if o.code == code)


def test_beijing_senior_title_in_a_listed_field_qualifies(policy_cities):
    result = eligibility_check(
        policy=policy_cities["beijing"].policy,
        facts={"title_level": "deputy_senior", "title_field": "landscape", "experience_years": 3, "declarations": BJ_DECLARED},
    )
    assert result.eligible is True


def test_beijing_registration_is_an_alternative_to_a_senior_title(policy_cities):
    result = eligibility_check(
        policy=policy_cities["beijing"].policy,
        facts={"title_level": "intermediate", "title_field": "architecture", "registrations": ["registered_architect_1"],
               "experience_years": 5, "declarations": BJ_DECLARED},
    )
    assert result.eligible is True
    qualification = outcome(result, "qualification")
    assert [c.passed for c in qualification.children] == [False, True]


def test_beijing_intermediate_title_without_registration_fails_b18_1(policy_cities):
    result = eligibility_check(
        policy=policy_cities["beijing"].policy,
        facts={"title_level": "intermediate", "title_field": "architecture", "experience_years": 10, "declarations": BJ_DECLARED},
    )
    assert result.eligible is False
    assert [o.article for o in result.failed()] == ["B18(1)"]


def test_beijing_senior_title_in_an_unrelated_field_fails(policy_cities):
    result = eligibility_check(
        policy=policy_cities["beijing"].policy,
        facts={"title_level": "senior", "title_field": "farmland_protection", "experience_years": 10, "declarations": BJ_DECLARED},
    )
    assert outcome(result, "qualification").passed is False


def test_beijing_less_than_three_years_fails_b18_3(policy_cities):
    result = eligibility_check(
        policy=policy_cities["beijing"].policy,
        facts={"registrations": ["registered_planner"], "experience_years": 2, "declarations": BJ_DECLARED},
    )
    assert [o.article for o in result.failed()] == ["B18(3)"]


def test_undeclared_statements_are_not_assumed(policy_cities):
    result = eligibility_check(
        policy=policy_cities["beijing"].policy,
        facts={"registrations": ["registered_planner"], "experience_years": 5},
    )
    assert {o.code for o in result.failed()} == {"familiarity", "commitment"}


def test_pingdingshan_bachelor_with_intermediate_title_qualifies(policy_cities):
    result = eligibility_check(
        policy=policy_cities["pingdingshan"].policy,
        facts={"degree": "bachelor", "degree_field": "urban_rural_planning", "title_level": "intermediate",
               "title_field": "urban_rural_planning", "experience_years": 1, "declarations": PDS_DECLARED},
    )
    assert result.eligible is True


def test_pingdingshan_ten_years_is_an_alternative_to_degree_and_title(policy_cities):
    facts = {"degree": "junior_college", "degree_field": "architecture", "experience_years": 10, "declarations": PDS_DECLARED}
    assert eligibility_check(policy=policy_cities["pingdingshan"].policy, facts=facts).eligible is True
    facts["experience_years"] = 9
    result = eligibility_check(policy=policy_cities["pingdingshan"].policy, facts=facts)
    assert result.eligible is False
    assert [o.article for o in result.failed()] == ["P4(2)"]


def test_pingdingshan_bachelor_without_title_or_registration_fails(policy_cities):
    result = eligibility_check(
        policy=policy_cities["pingdingshan"].policy,
        facts={"degree": "master", "degree_field": "architecture", "title_level": "primary", "title_field": "architecture",
               "experience_years": 3, "declarations": PDS_DECLARED},
    )
    assert result.eligible is False
    assert "要求中级及以上" in str(result.as_dict())
