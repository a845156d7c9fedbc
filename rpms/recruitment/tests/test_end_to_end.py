"""Issue #3, first acceptance bullet, for both cities, through the JSON API:

call → applications (one ineligible; one eligible only through P4's 10-year path; a Beijing team
whose leader qualifies) → review → notice → objection in the window (upheld for one candidate,
not upheld for another) → objection after the window refused → close refused before the end →
close refused with an objection unresolved → close after → the pool holds exactly the right
people, each with a dossier listing every step with its article. Every act leaves its audit row,
and no public answer shows an ID number or mobile."""
import datetime as dt
import json

import pytest

from rpms.cities.selectors import policy_window_end
from rpms.core.models import ActionLog
from rpms.registry.models import Planner, PoolStatus

from .factories import applicant, beijing_data, pingdingshan_data

pytestmark = pytest.mark.django_db

# A Monday before National Day 2026: the five working days are 28, 29, 30 September, 8 and 9 October.
PDS_START = dt.date(2026, 9, 28)
# An ordinary week in Beijing: Monday 2 to Friday 6 November 2026.
BJ_START = dt.date(2026, 11, 2)


def post(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def apply(anon, headers, call_id, data):
    response = post(anon, f"/api/v1/calls/{call_id}/applications", data, headers)
    assert response.status_code == 201, response.content.decode()
    return response.json()


def rule(eligibility, code):
    return next(r for r in eligibility["rules"] if r["rule"] == code)


def assert_no_identifiers(text: str, people: list[dict]):
    for person in people:
        assert person["id_number"] not in text
        assert person["mobile"] not in text


def walk(anon, clock, *, city, admin_headers, start, people, expect_rules):
    """Runs the whole flow for a city. `people`: list of (key, user, data); keys 'eligible', 'long',
    'ineligible', 'objected', 'team' (optional). Returns the state the assertions need."""
    code = city.code
    clock.set(start - dt.timedelta(days=7))
    response = post(anon, f"/api/v1/cities/{code}/calls", {
        "title": f"{city.name}责任规划师公开征集", "kind": "open", "requirements": "相关专业背景",
        "specialties": ["urban_rural_planning"], "deadline": (start - dt.timedelta(days=1)).isoformat(),
    }, admin_headers)
    assert response.status_code == 201, response.content.decode()
    call_id = response.json()["id"]
    listed = anon.get(f"/api/v1/cities/{code}/calls").json()
    assert [c["id"] for c in listed] == [call_id]

    ids = {}
    for key, (user_headers, data) in people.items():
        answer = apply(anon, user_headers, call_id, data)
        assert answer["status"] == "submitted"
        assert set(answer["eligibility"]) >= {"eligible", "rules"}
        for r in answer["eligibility"]["rules"]:
            assert set(r) >= {"rule", "passed", "reason", "article"}
        expect_rules[key](answer["eligibility"])
        ids[key] = answer["id"]

    # Review and selection (P5(1)).
    scores = {"background": 80, "title": 70, "experience": 90, "local_familiarity": 60}
    for key in [k for k in ids if k != "ineligible"]:
        response = post(anon, f"/api/v1/applications/{ids[key]}/review",
                        {"decision": "approve", "reason": "专业背景扎实", "scores": scores}, admin_headers)
        assert response.status_code == 200, response.content.decode()
        assert response.json()["status"] == "approved"
    refused = post(anon, f"/api/v1/applications/{ids['ineligible']}/review",
                   {"decision": "approve", "scores": scores}, admin_headers)
    assert refused.status_code == 400 and refused.json()["code"] == "ineligible"
    response = post(anon, f"/api/v1/applications/{ids['ineligible']}/review",
                    {"decision": "reject", "reason": "不具备规定的职称或执业资格"}, admin_headers)
    assert response.json()["status"] == "rejected"
    seen = anon.get(f"/api/v1/applications/{ids['ineligible']}", **people["ineligible"][0]).json()
    assert seen["decision_reason"] == "不具备规定的职称或执业资格"

    # Public notice (P5(2)).
    clock.set(start)
    response = post(anon, f"/api/v1/calls/{call_id}/notices", {"start": start.isoformat()}, admin_headers)
    assert response.status_code == 201, response.content.decode()
    notice = response.json()
    expected_end = policy_window_end(city=city, rule="notice_working_days", start=start).end
    assert notice["start"] == start.isoformat() and notice["end"] == expected_end.isoformat()
    on_notice = {c["application"] for c in notice["candidates"]}
    assert on_notice == {ids[k] for k in ids if k != "ineligible"}
    assert_no_identifiers(response.content.decode(), [d for _, d in people.values()])
    notice_id = notice["id"]

    # Objections in the window: upheld for one, not upheld for another.
    objection_ids = {}
    for key in ("objected", "eligible"):
        response = post(anon, f"/api/v1/notices/{notice_id}/objections", {
            "application": ids[key], "content": "反映其工作年限与实际不符", "contact_name": "王先生",
            "contact_phone": "13700000000"}, {})
        assert response.status_code == 201, response.content.decode()
        objection_ids[key] = response.json()["id"]

    closed_early = post(anon, f"/api/v1/notices/{notice_id}/close", {}, admin_headers)
    assert closed_early.status_code == 409 and closed_early.json()["code"] == "notice_not_ended"
    assert "期满" in closed_early.json()["detail"]

    response = post(anon, f"/api/v1/objections/{objection_ids['objected']}/resolve",
                    {"upheld": True, "finding": "经查证，所报工作年限不实，取消入库资格。"}, admin_headers)
    assert response.status_code == 200 and response.json()["cancelled"] is True

    # After the window: objections are refused; closing waits for the last objection.
    clock.set(expected_end + dt.timedelta(days=1))
    late = post(anon, f"/api/v1/notices/{notice_id}/objections", {
        "application": ids["long"], "content": "迟到的异议", "contact_name": "李女士", "contact_phone": "13800000000"}, {})
    assert late.status_code == 409
    assert late.json()["detail"] == f"公示期已于 {expected_end:%Y-%m-%d} 结束，不再受理异议。"
    unresolved = post(anon, f"/api/v1/notices/{notice_id}/close", {}, admin_headers)
    assert unresolved.status_code == 409 and unresolved.json()["code"] == "objections_unresolved"
    response = post(anon, f"/api/v1/objections/{objection_ids['eligible']}/resolve",
                    {"upheld": False, "finding": "经核实，其工作经历属实，异议不成立。"}, admin_headers)
    assert response.json()["resolution"] == "rejected"

    public = anon.get(f"/api/v1/notices/{notice_id}")
    assert_no_identifiers(public.content.decode(), [d for _, d in people.values()])
    for page in (f"/recruitment/notices/{notice_id}/", f"/recruitment/calls/{call_id}/", "/recruitment/"):
        response = anon.get(page)
        assert response.status_code == 200
        assert_no_identifiers(response.content.decode(), [d for _, d in people.values()])
        assert "13700000000" not in response.content.decode()
    assert "13700000000" not in public.content.decode() and "王先生" not in public.content.decode()
    cancelled = {c["application"]: c for c in public.json()["candidates"]}
    assert cancelled[ids["objected"]]["cancelled"] is True
    assert cancelled[ids["objected"]]["findings"][0]["finding"] == "经查证，所报工作年限不实，取消入库资格。"

    closed = post(anon, f"/api/v1/notices/{notice_id}/close", {}, admin_headers)
    assert closed.status_code == 200, closed.content.decode()
    return {"call": call_id, "ids": ids, "notice": notice_id, "admitted": closed.json()["admitted"],
            "objections": objection_ids}


# Each city's own article for each step (policy `articles`): a Beijing dossier cites Beijing's rules.
ARTICLES = {
    "pingdingshan": {"call": "P5(1)", "review": "P5(1)", "notice": "P5(2)", "objection": "P5(2)", "admission": "P5(2)"},
    "beijing": {"call": "B19(1)", "review": "B18、B19(5)", "notice": "B19(7)", "objection": "B19(7)", "admission": "B19(1)"},
}


def check_pool_and_dossiers(anon, admin_headers, city, state, *, admitted_keys, eligibility_article):
    articles = ARTICLES[city.code]
    ids = state["ids"]
    pool = anon.get(f"/api/v1/cities/{city.code}/pool", **admin_headers).json()
    pooled = {item["id"] for item in pool["items"]}
    admitted = {a["application"]: a["planner"] for a in state["admitted"]}
    assert set(admitted) == {ids[k] for k in admitted_keys}
    assert pooled == set(admitted.values())
    assert Planner.objects.filter(city=city, pool_status=PoolStatus.ACTIVE).count() == len(admitted_keys)
    for key in admitted_keys:
        dossier = anon.get(f"/api/v1/pool/{admitted[ids[key]]}", **admin_headers).json()
        steps = [(e["kind"], e["article"]) for e in dossier["events"]]
        expected = [("applied", eligibility_article), ("reviewed", articles["review"]), ("on_notice", articles["notice"])]
        if key == "eligible":
            expected.append(("objection", articles["objection"]))
        expected.append(("admitted", articles["admission"]))
        assert steps == expected, (key, steps)
        assert all(e["summary"] for e in dossier["events"])


def check_audit(city, state):
    rows = ActionLog.objects.filter(city_code=city.code)
    by_action = {}
    for row in rows:
        by_action.setdefault(row.action, []).append(row)
    assert len(by_action["recruitment.call_create"]) == 1
    articles = ARTICLES[city.code]
    assert by_action["recruitment.call_create"][0].article == articles["call"]
    assert len(by_action["recruitment.application_submit"]) == len(state["ids"])
    assert len(by_action["recruitment.application_review"]) == len(state["ids"])  # the refused approval left none
    assert [r.article for r in by_action["recruitment.notice_publish"]] == [articles["notice"]]
    assert {r.article for r in by_action["recruitment.objection_resolve"]} == {articles["objection"]}
    assert [r.article for r in by_action["recruitment.notice_close"]] == [articles["admission"]]
    assert {r.article for r in by_action["recruitment.application_review"]} == {articles["review"]}
    assert len(by_action["recruitment.objection_submit"]) == 2  # the late one was refused, no row
    assert len(by_action["recruitment.objection_resolve"]) == 2
    assert len(by_action["recruitment.notice_close"]) == 1
    assert all(r.article for rs in by_action.values() for r in rs if r.action.startswith("recruitment."))


def test_pingdingshan_end_to_end(anon, clock, pingdingshan, pds_admin, bearer):
    users = {key: applicant(f"pds_{key}", pingdingshan) for key in ("eligible", "long", "ineligible", "objected")}
    people = {
        "eligible": (bearer(users["eligible"]), pingdingshan_data(name="张平")),
        # Junior college, no title or registration, but 12 years in the field: eligible only through P4(2)'s 10-year path.
        "long": (bearer(users["long"]), pingdingshan_data(
            name="李从业", degree="junior_college", degree_field="architecture", title_level="none", title_field="",
            experience_years=12)),
        "ineligible": (bearer(users["ineligible"]), pingdingshan_data(
            name="王不符", degree="junior_college", degree_field="architecture", title_level="none", title_field="",
            experience_years=6)),
        "objected": (bearer(users["objected"]), pingdingshan_data(name="赵异议")),
    }

    def only_ten_year_path(eligibility):
        assert eligibility["eligible"] is True
        professional = rule(eligibility, "professional")
        assert professional["passed"] is True and professional["article"] == "P4(2)"
        paths = {c["rule"]: c["passed"] for c in professional["children"]}
        assert paths == {"degree_and_title": False, "long_experience": True}

    def ineligible(eligibility):
        assert eligibility["eligible"] is False
        assert [r["article"] for r in eligibility["rules"] if not r["passed"]] == ["P4(2)"]

    expect = {"eligible": lambda e: e["eligible"] is True or pytest.fail(e), "long": only_ten_year_path,
              "ineligible": ineligible, "objected": lambda e: e["eligible"] is True or pytest.fail(e)}
    admin = bearer(pds_admin)
    state = walk(anon, clock, city=pingdingshan, admin_headers=admin, start=PDS_START, people=people, expect_rules=expect)
    # National Day: the notice of Monday 28 September ends on Friday 9 October.
    assert anon.get(f"/api/v1/notices/{state['notice']}").json()["end"] == "2026-10-09"
    check_pool_and_dossiers(anon, admin, pingdingshan, state, admitted_keys=["eligible", "long"],
                            eligibility_article="P4")
    check_audit(pingdingshan, state)


def test_beijing_end_to_end_with_a_team_led_by_a_qualified_leader(anon, clock, beijing, city_admin, bearer):
    users = {key: applicant(f"bj_{key}", beijing) for key in ("eligible", "long", "ineligible", "objected")}
    members = [{"name": f"成员{i}", "specialty": "architecture", "is_core": i <= 8} for i in range(1, 11)]
    people = {
        "eligible": (bearer(users["eligible"]), beijing_data(name="陈北京")),
        # A team: the leader holds a first-class architect registration and 5 years (B18 applies to the leader).
        "long": (bearer(users["long"]), beijing_data(
            kind="team", team_name="虚构社区营造团队", name="周队长", title_level="intermediate",
            registrations=["registered_architect_1"], experience_years=5, members=members)),
        # An intermediate title without registration fails B18(1).
        "ineligible": (bearer(users["ineligible"]), beijing_data(name="吴不符", registrations=[], experience_years=10)),
        "objected": (bearer(users["objected"]), beijing_data(name="郑异议")),
    }

    def team_leader(eligibility):
        assert eligibility["eligible"] is True
        assert [c["passed"] for c in rule(eligibility, "qualification")["children"]] == [False, True]

    def ineligible(eligibility):
        assert eligibility["eligible"] is False
        assert [r["article"] for r in eligibility["rules"] if not r["passed"]] == ["B18(1)"]

    expect = {"eligible": lambda e: e["eligible"] is True or pytest.fail(e), "long": team_leader,
              "ineligible": ineligible, "objected": lambda e: e["eligible"] is True or pytest.fail(e)}
    admin = bearer(city_admin)
    state = walk(anon, clock, city=beijing, admin_headers=admin, start=BJ_START, people=people, expect_rules=expect)
    assert anon.get(f"/api/v1/notices/{state['notice']}").json()["end"] == "2026-11-06"
    check_pool_and_dossiers(anon, admin, beijing, state, admitted_keys=["eligible", "long"],
                            eligibility_article="B18")
    check_audit(beijing, state)
    team = Planner.objects.get(name="虚构社区营造团队")
    assert team.kind == "team" and team.leader_name == "周队长"
    assert team.members.count() == 10 and team.members.filter(is_core=True).count() == 8
