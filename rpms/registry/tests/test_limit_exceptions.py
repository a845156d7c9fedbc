"""Issue #12 item 4 in the registry: how firmly each limit holds is policy data (Beijing "原则上" B18,
B19(2), B19(7); Pingdingshan strict, P4); a core team member beyond the cap (B19(7)) and a direct
commission of someone who does not meet the eligibility rules (B18) only with an exception the city
administrator grants, written into the dossier; the commission runs the eligibility rules like an
application."""
import json

import pytest
from django.test import Client

from rpms.cities.limits import IN_PRINCIPLE, STRICT, limit_article, limit_strictness, limits_described
from rpms.core.errors import DomainError, Forbidden
from rpms.core.models import ActionLog
from rpms.registry import limits, services
from rpms.registry.models import DossierEvent, DossierEventKind, LimitException, Planner, TeamMember

from .factories import fictional_id_number

pytestmark = pytest.mark.django_db

REASON = "团队承担全区城市体检，需增设交通与市政专业核心成员。"
DECLARED = ["familiarity", "commitment"]


def post(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


# --- the policy ---------------------------------------------------------------------------------------------


def test_each_city_marks_its_limits_with_their_articles(beijing, pingdingshan):
    for code, article in (("unit_cap", "B19(2)"), ("core_team_members", "B19(7)"), ("eligibility", "B18")):
        assert limit_strictness(beijing.policy, code) == IN_PRINCIPLE
        assert limit_article(beijing, code) == article
        assert limit_strictness(pingdingshan.policy, code) == STRICT
    assert limit_article(pingdingshan, "eligibility") == "P4"
    described = {row["code"]: row for row in limits_described(beijing)}
    assert "原则上不超过3个" in described["unit_cap"]["basis"]
    # A limit the map does not name holds strictly.
    beijing.policy.limit_strictness = {}
    assert limit_strictness(beijing.policy, "unit_cap") == STRICT


def test_the_strictness_map_is_validated(beijing, city_admin):
    from rpms.cities.services import policy_update

    with pytest.raises(DomainError) as unknown:
        policy_update(actor=city_admin, city=beijing, changes={"limit_strictness": {"unit_cap": "mostly"}})
    assert unknown.value.code == "invalid_policy" and "限制的执行方式" in unknown.value.message
    with pytest.raises(DomainError) as bad_key:
        policy_update(actor=city_admin, city=beijing, changes={"limit_strictness": {"tea_breaks": "strict"}})
    assert "未知的限制" in bad_key.value.message
    policy_update(actor=city_admin, city=beijing, changes={"limit_strictness": {"unit_cap": "strict"}})
    beijing.policy.refresh_from_db()
    assert limit_strictness(beijing.policy, "unit_cap") == STRICT
    assert limit_strictness(beijing.policy, "eligibility") == STRICT  # no longer named


def test_the_policy_api_shows_the_strictness(client, beijing):
    body = client.get("/api/v1/cities/beijing/policy").json()
    assert body["limit_strictness"]["core_team_members"]["strictness"] == "in_principle"


# --- B19(7): core team members --------------------------------------------------------------------------------


@pytest.fixture
def full_team(beijing, city_admin):
    members = [{"name": f"核心{i}", "specialty": "urban_rural_planning", "is_core": True} for i in range(8)]
    return services.planner_commission(
        actor=city_admin, city=beijing, reason="团队委托", name="满员团队", kind="team", members=members,
        registrations=["registered_planner"], experience_years=12, declarations=DECLARED,
    )


def test_a_ninth_core_member_only_with_the_administrators_exception(client, bearer, beijing, city_admin, full_team):
    url = f"/api/v1/pool/{full_team.pk}/members"
    refused = post(client, url, {"name": "第九名", "is_core": True}, bearer(city_admin))
    assert refused.status_code == 400 and refused.json()["code"] == "too_many_core_members"
    assert "原则性规定" in refused.json()["detail"] and "B19(7)" in refused.json()["detail"]

    granted = post(client, url, {"name": "第九名", "specialty": "municipal_transport", "is_core": True,
                                 "exception_reason": REASON}, bearer(city_admin))
    assert granted.status_code == 201, granted.content.decode()
    [exception] = granted.json()["limit_exceptions"]
    assert (exception["limit"], exception["value"], exception["limit_value"]) == ("core_team_members", 9, 8)
    assert exception["status"] == "approved" and exception["article"] == "B19(7)"
    assert full_team.members.filter(is_core=True).count() == 9
    record = LimitException.objects.get()
    assert record.result_type == "registry.teammember" and record.planner == full_team
    event = DossierEvent.objects.get(planner=full_team, kind=DossierEventKind.LIMIT_EXCEPTION)
    assert event.article == "B19(7)" and REASON in event.summary and "9 人（上限 8 人）" in event.summary
    assert ActionLog.objects.get(action="registry.limit_exception_grant").article == "B19(7)"
    assert ActionLog.objects.get(action="registry.team_member_add").after["limit_exceptions"] == [record.pk]
    # The team's page (its dossier) shows it, and so does the dossier API.
    page = logged_in(city_admin).get(f"/pool/{full_team.pk}/").content.decode()
    assert "经批准的例外" in page and REASON in page
    dossier = client.get(f"/api/v1/pool/{full_team.pk}", **bearer(city_admin)).json()
    assert [e["limit"] for e in dossier["limit_exceptions"]] == ["core_team_members"]


def test_only_the_city_administrator_records_team_members(beijing, district_haidian, full_team):
    with pytest.raises(Forbidden):
        services.team_member_add(actor=district_haidian, planner=full_team, name="某人", is_core=True,
                                 exception_reason=REASON)
    assert not LimitException.objects.exists()


def test_a_strict_core_member_cap_refuses_even_with_a_reason(beijing, city_admin, full_team):
    policy = beijing.policy
    policy.limit_strictness = {**policy.limit_strictness, "core_team_members": "strict"}
    policy.save()
    with pytest.raises(DomainError) as refused:
        services.team_member_add(actor=city_admin, planner=full_team, name="第九名", is_core=True, exception_reason=REASON)
    assert refused.value.code == "limit_strict" and refused.value.status == 409 and "硬性要求" in refused.value.message
    assert full_team.members.filter(is_core=True).count() == 8 and not LimitException.objects.exists()


def test_the_member_form_keeps_the_justification_and_grants(beijing, city_admin, full_team):
    client = logged_in(city_admin)
    page = client.get(f"/pool/{full_team.pk}/").content.decode()
    assert 'name="exception_reason"' in page and "原则上不超过 8 人" in page
    refused = client.post(f"/pool/{full_team.pk}/members/", {"name": "第九名", "is_core": "on"})
    assert refused.status_code == 400 and "原则性规定" in refused.content.decode()
    done = client.post(f"/pool/{full_team.pk}/members/", {"name": "第九名", "is_core": "on", "exception_reason": REASON})
    assert done.status_code == 302 and TeamMember.objects.filter(planner=full_team, is_core=True).count() == 9


# --- B18 / B19(1): direct commission runs the eligibility rules ----------------------------------------------


def commission(actor, city, **fields):
    values = {"reason": "街道急需历史文化保护力量", "name": "委托人选", "id_number": fictional_id_number(7),
              "employer": "虚构大学", "title_level": "intermediate", "title_field": "architecture",
              "experience_years": 2, "specialties": ["historic_conservation"]}
    values.update(fields)
    return services.planner_commission(actor=actor, city=city, **values)


def test_an_ineligible_commission_is_refused_with_every_rule_explained(beijing, city_admin):
    with pytest.raises(DomainError) as refused:
        commission(city_admin, beijing)
    error = refused.value
    assert error.code == "ineligible" and error.status == 400
    for article in ("B18(1)", "B18(2)", "B18(3)", "B18(4)"):
        assert article in error.message
    assert "相关工作年限：2 年；要求不少于 3 年" in error.message and "原则性规定" in error.message
    assert error.details["eligibility"]["eligible"] is False
    assert not Planner.objects.exists() and not LimitException.objects.exists()


def test_an_eligible_commission_needs_the_declarations(beijing, city_admin):
    qualified = {"title_level": "senior", "experience_years": 10}
    with pytest.raises(DomainError) as refused:
        commission(city_admin, beijing, **qualified)
    assert "B18(2)" in refused.value.message and "B18(1)" not in refused.value.message
    with pytest.raises(DomainError) as unknown:
        commission(city_admin, beijing, declarations=["loyalty"], **qualified)
    assert unknown.value.code == "invalid_declaration"
    planner = commission(city_admin, beijing, declarations=DECLARED, **qualified)
    assert planner.pool_status == "active" and not LimitException.objects.exists()
    event = planner.events.get(kind=DossierEventKind.COMMISSIONED)
    assert "符合选聘条件" in event.summary and event.data["eligible"] is True


def test_an_ineligible_commission_with_the_administrators_exception(client, bearer, beijing, city_admin):
    body = {"reason": "街道急需历史文化保护力量", "name": "非遗匠师", "title_level": "none", "experience_years": 30,
            "specialties": ["historic_conservation"], "declarations": DECLARED,
            "exception_reason": "长期从事古建修缮，虽无职称和注册资格，实践经验丰富。"}
    response = post(client, "/api/v1/cities/beijing/pool/commission", body, bearer(city_admin))
    assert response.status_code == 201, response.content.decode()
    [exception] = response.json()["limit_exceptions"]
    assert (exception["limit"], exception["article"], exception["status"]) == ("eligibility", "B18", "approved")
    assert any("B18(1)" in line for line in exception["shortfall"])
    kinds = [e["kind"] for e in response.json()["events"]]
    assert kinds == ["commissioned", "limit_exception"]
    row = ActionLog.objects.get(action="registry.planner_commission")
    assert row.after["eligible"] is False and row.after["limit_exceptions"] == [exception["id"]]
    assert ActionLog.objects.get(action="registry.limit_exception_grant").article == "B18"


def test_commission_through_the_form_asks_for_declarations_and_explains_refusals(beijing, city_admin):
    client = logged_in(city_admin)
    page = client.get("/pool/commission/").content.decode()
    assert 'name="declarations"' in page and 'name="exception_reason"' in page and "B18(2)" in page
    form = {"name": "表单委托", "kind": "individual", "reason": "急需", "specialties": ["urban_design"],
            "experience_years": "1", "title_level": "senior", "title_field": "urban_design", "degree": "none",
            "declarations": DECLARED}
    refused = client.post("/pool/commission/", form)
    assert refused.status_code == 400 and "B18(3)" in refused.content.decode()
    assert 'value="familiarity" checked' in refused.content.decode()  # what was chosen is kept
    done = client.post("/pool/commission/", {**form, "exception_reason": "青年骨干，已在本街道开展两年陪伴式规划。"})
    assert done.status_code == 302
    planner = Planner.objects.get(name="表单委托")
    assert planner.limit_exceptions.get().limit == "eligibility"


def test_commission_is_the_city_administrators_act(beijing, district_haidian):
    with pytest.raises(Forbidden):
        commission(district_haidian, beijing, exception_reason="理由")
    assert not LimitException.objects.exists()


# --- pending requests on the home page ----------------------------------------------------------------------


def test_pending_requests_reach_the_city_administrators_home_page(beijing, haidian, city_admin, district_haidian,
                                                                  pds_admin):
    LimitException.objects.create(
        city=beijing, limit="unit_cap", article="B19(2)", limit_value=3, value=4, act="selection_approve",
        subject="appointment", subject_label="某人 → 某单元", district=haidian, reason="理由",
        requested_by=district_haidian, requested_at=limits.timezone.now())
    from rpms.registry.selectors import pending_items

    [item] = pending_items(city_admin)
    assert item.count == 1 and "例外申请待审批" in item.title and item.url.endswith("?status=pending")
    assert pending_items(pds_admin) == [] and pending_items(district_haidian) == []
