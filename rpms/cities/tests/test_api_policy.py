import json

import pytest

from rpms.accounts.models import Role, User
from rpms.core.models import ActionLog

pytestmark = pytest.mark.django_db


def get_policy(client, code):
    response = client.get(f"/api/v1/cities/{code}/policy")
    assert response.status_code == 200
    return response.json()


def test_cities_endpoint_lists_both_shipped_cities(client, policy_cities):
    response = client.get("/api/v1/cities")
    assert response.status_code == 200
    codes = [c["code"] for c in response.json()]
    assert codes == ["beijing", "pingdingshan"]
    assert response.json()[0]["name"] == "北京市"


def test_beijing_policy_carries_every_number_of_the_rule_book(client, policy_cities):
    p = get_policy(client, "beijing")
    assert p["notice_working_days"] == 5
    # B25: no unilateral withdrawal (only the hiring entity's consent), unless the contract says otherwise
    assert p["withdrawal_notice_working_days"] is None
    assert p["contract_notice_clause_allowed"] is True
    assert p["first_term_years"] == 1
    assert (p["renewal_years_min"], p["renewal_years_max"]) == (1, 3)  # B19(2)
    assert p["max_units_per_planner"] == 3  # B19(2)
    assert p["max_core_team_members"] == 8  # B19(7)
    assert p["allowance_yuan_per_person_year"] is None
    assert p["pool_requires_notice"] is False
    assert p["contract_signer"] == "hiring_entity"  # B19(3)
    assert [g["label"] for g in p["grades"]] == ["优秀", "合格", "不合格"]
    assert len(p["removal_grounds"]) == 5
    assert len(p["duty_categories"]) == 6  # B11
    assert [d["article"] for d in p["duty_categories"]] == [f"B11({i})" for i in range(1, 7)]
    assert [z["code"] for z in p["zone_types"]] == ["core", "central", "sub_centre", "multi_point", "eco_conservation"]
    assert all(z["focus"] for z in p["zone_types"])
    assert "老城整体保护" in p["zone_types"][0]["focus"]
    assert p["eligibility_rules"]["article"] == "B18"
    assert {c["code"] for c in p["contract_clauses"]} >= {"service_content", "rights_responsibilities", "service_mode", "service_time", "remuneration"}


def test_pingdingshan_policy_carries_every_number_of_the_rule_book(client, policy_cities):
    p = get_policy(client, "pingdingshan")
    assert p["notice_working_days"] == 5  # P5(2)
    assert p["withdrawal_notice_working_days"] == 15  # P6(5)
    assert p["contract_notice_clause_allowed"] is False
    assert p["first_term_years"] == 1  # P6(4)
    assert (p["renewal_years_min"], p["renewal_years_max"]) == (1, 1)
    assert p["max_units_per_planner"] is None
    assert p["allowance_yuan_per_person_year"] == 5000  # P6(3)
    assert p["pool_requires_notice"] is True  # P5(2)
    assert p["contract_signer"] == "city_bureau"  # P6(3)
    assert [g["code"] for g in p["removal_grounds"]] == [
        "violation", "misconduct", "refusal_to_serve", "voluntary_withdrawal", "other_unsuitable"
    ]
    assert [g["article"] for g in p["removal_grounds"]] == [f"P5(4){i}" for i in range(1, 6)]
    assert [d["article"] for d in p["duty_categories"]] == ["P3(1)", "P3(2)", "P3(3)", "P3(4)"]
    unqualified = next(g for g in p["grades"] if g["label"] == "不合格")
    assert unqualified["renewal"] == "refused" and unqualified["remove_from_pool"] is True  # P6(4)
    assert p["eligibility_rules"]["article"] == "P4"
    assert {c["code"] for c in p["contract_clauses"]} == {
        "work_tasks", "service_mode", "service_fee", "scope", "rights_obligations", "assessment", "liability"
    }
    assert [c["label"] for c in p["assessment_criteria"]] == ["工作成效", "工作时长", "服务态度", "专业能力", "属地反馈"]


def test_unknown_city_is_404_in_chinese(client, policy_cities):
    response = client.get("/api/v1/cities/atlantis/policy")
    assert response.status_code == 404
    assert "不存在" in response.json()["message"]


def _admin(city, username="policy_admin", role=Role.CITY_ADMIN):
    return User.objects.create_user(username=username, password="Test-pass-2026!", role=role, city=city)


def test_city_admin_edits_policy_and_it_is_audited(client, policy_cities, bearer):
    headers = bearer(_admin(policy_cities["beijing"]))
    before = ActionLog.objects.count()
    response = client.patch(
        "/api/v1/cities/beijing/policy", data=json.dumps({"notice_working_days": 7}),
        content_type="application/json", **headers,
    )
    assert response.status_code == 200, response.content
    assert response.json()["notice_working_days"] == 7
    assert response.json()["version"] == 2
    rows = ActionLog.objects.filter(action="cities.policy_update")
    assert ActionLog.objects.count() == before + 1 and rows.count() == 1
    assert rows.get().before == {"notice_working_days": 5} and rows.get().after == {"notice_working_days": 7}


def test_renewal_minimum_above_maximum_is_refused_and_nothing_changes(client, policy_cities, bearer):
    admin = _admin(policy_cities["beijing"])
    headers = bearer(admin)
    before = ActionLog.objects.count()
    response = client.patch(
        "/api/v1/cities/beijing/policy", data=json.dumps({"renewal_years_min": 4, "notice_working_days": 9}),
        content_type="application/json", **headers,
    )
    assert response.status_code == 400
    assert "续聘期下限不得大于上限" in response.json()["message"]
    assert ActionLog.objects.count() == before
    assert get_policy(client, "beijing")["notice_working_days"] == 5


def test_grade_pointing_at_an_unknown_removal_ground_is_refused(client, policy_cities, bearer):
    admin = _admin(policy_cities["pingdingshan"])
    grades = get_policy(client, "pingdingshan")["grades"]
    grades[2]["removal_ground"] = "no_such_ground"
    response = client.patch(
        "/api/v1/cities/pingdingshan/policy", data=json.dumps({"grades": grades}),
        content_type="application/json", **bearer(admin),
    )
    assert response.status_code == 400
    assert "no_such_ground" in response.json()["message"]


def test_unknown_policy_key_is_refused(client, policy_cities, bearer):
    admin = _admin(policy_cities["beijing"])
    response = client.patch(
        "/api/v1/cities/beijing/policy", data=json.dumps({"notice_days": 3}),
        content_type="application/json", **bearer(admin),
    )
    assert response.status_code == 400
    assert "未知" in response.json()["message"]


def test_other_roles_and_other_cities_admins_may_not_edit(client, policy_cities, bearer):
    officer = _admin(policy_cities["beijing"], "officer", Role.DISTRICT_OFFICER)
    pds_admin = _admin(policy_cities["pingdingshan"], "pds")
    body = json.dumps({"notice_working_days": 6})
    for user in (officer, pds_admin):
        response = client.patch("/api/v1/cities/beijing/policy", data=body, content_type="application/json", **bearer(user))
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert client.patch("/api/v1/cities/beijing/policy", data=body, content_type="application/json").status_code == 401
    assert get_policy(client, "beijing")["notice_working_days"] == 5


def test_eligibility_endpoint_explains_rule_by_rule(client, policy_cities):
    response = client.post(
        "/api/v1/cities/beijing/eligibility-check",
        data=json.dumps({"title_level": "intermediate", "title_field": "architecture", "experience_years": 2}),
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["eligible"] is False
    experience = next(r for r in body["rules"] if r["code"] == "experience")
    assert experience["article"] == "B18(3)" and experience["passed"] is False
    assert "2 年" in experience["detail"]
