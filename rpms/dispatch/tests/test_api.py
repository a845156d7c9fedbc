"""Dispatch API: requests (scoped), accept/return, matching, confirm (201 / 409), hand replacement,
conflicts, replacement proposals; Chinese errors; constant query counts on the request list."""
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rpms.appointments.models import Appointment
from rpms.testing.builders import appointment_build
from rpms.dispatch.models import DispatchRequest, Proposal, ProposalStatus

from .conftest import ROLE, make_member, today, units_of

pytestmark = pytest.mark.django_db


def post(client, url, headers, data=None):
    body = json.dumps(data) if data is not None else ""
    return client.post(url, data=body, content_type="application/json", **headers)


def has_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def api():
    return Client()


def test_a_district_officer_posts_a_request_for_its_own_district(api, bearer, district_haidian, haidian):
    units = units_of(haidian, 2)
    response = post(api, "/api/v1/cities/beijing/dispatch-requests", bearer(district_haidian), {
        "role": ROLE, "specialties": ["urban_design"], "slots_per_unit": 2, "units": [u.pk for u in units],
        "service_focus": "街区更新",
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["district"] == "110108" and body["status"] == "submitted" and body["slots_per_unit"] == 2
    assert sorted(u["id"] for u in body["units"]) == sorted(u.pk for u in units)
    assert body["role_label"] == "责任规划师" and body["specialty_labels"] == ["城市设计"]


def test_another_districts_units_are_refused_with_a_chinese_detail(api, bearer, district_haidian, chaoyang):
    foreign = units_of(chaoyang, 1)
    response = post(api, "/api/v1/cities/beijing/dispatch-requests", bearer(district_haidian),
                    {"role": ROLE, "units": [foreign[0].pk]})
    # Another district's ids lie outside the officer's scope: 404 (#14), with the Chinese detail.
    assert response.status_code == 404 and has_chinese(response.json()["detail"])
    assert response.json()["code"] == "unit_not_in_district"
    response = post(api, "/api/v1/cities/beijing/dispatch-requests", bearer(district_haidian),
                    {"district": "110105", "role": ROLE, "units": [foreign[0].pk]})
    assert response.status_code == 404 and "本区" in response.json()["detail"]
    assert response.json()["code"] == "not_own_district"
    assert not DispatchRequest.objects.exists()


def test_bad_input_gets_a_4xx_in_chinese(api, bearer, district_haidian, haidian, city_admin):
    headers = bearer(district_haidian)
    response = post(api, "/api/v1/cities/beijing/dispatch-requests", headers, {"role": ROLE})
    assert response.status_code == 422 and has_chinese(response.json()["detail"])
    response = post(api, "/api/v1/cities/beijing/dispatch-requests", headers,
                    {"role": ROLE, "units": [units_of(haidian, 1)[0].pk], "slots_per_unit": 9})
    assert response.status_code == 400 and "1 至 3" in response.json()["detail"]
    response = api.post("/api/v1/cities/beijing/matching", data="{not json", content_type="application/json",
                        **bearer(city_admin))
    assert response.status_code == 400 and has_chinese(response.json()["detail"])
    response = post(api, "/api/v1/cities/beijing/matching", bearer(city_admin), {"requests": "all"})
    assert response.status_code == 400


def test_the_request_list_is_scoped_and_its_query_count_constant(api, bearer, beijing, haidian, chaoyang,
                                                                  district_haidian, district_chaoyang, city_admin):
    from rpms.dispatch.services import dispatch_request_submit

    def submit(officer, district, unit, role=ROLE):
        return dispatch_request_submit(actor=officer, city=beijing, district=district, role=role, units=[unit])

    hd = units_of(haidian, 8)
    cy = units_of(chaoyang, 2)
    submit(district_haidian, haidian, hd[0])
    submit(district_chaoyang, chaoyang, cy[0])
    admin_headers, officer_headers = bearer(city_admin), bearer(district_haidian)
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/v1/cities/beijing/dispatch-requests", **admin_headers).json()["count"] == 2
    for unit in hd[1:]:
        submit(district_haidian, haidian, unit)
        submit(district_haidian, haidian, unit, role="responsible_architect")
    with CaptureQueriesContext(connection) as many:
        body = api.get("/api/v1/cities/beijing/dispatch-requests", **admin_headers).json()
    assert body["count"] == 16
    assert len(many.captured_queries) == len(few.captured_queries)
    own = api.get("/api/v1/cities/beijing/dispatch-requests", **officer_headers).json()
    assert own["count"] == 15 and {i["district"] for i in own["items"]} == {"110108"}
    chaoyang_request = DispatchRequest.objects.get(district=chaoyang)
    assert api.get(f"/api/v1/dispatch-requests/{chaoyang_request.pk}", **officer_headers).status_code == 404


def test_accept_and_return_through_the_api(api, bearer, beijing, haidian, district_haidian, city_admin):
    from rpms.dispatch.services import dispatch_request_submit

    units = units_of(haidian, 2)
    first = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=units[:1])
    second = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=units[1:])
    assert post(api, f"/api/v1/dispatch-requests/{first.pk}/accept", bearer(district_haidian)).status_code == 403
    response = post(api, f"/api/v1/dispatch-requests/{first.pk}/accept", bearer(city_admin))
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    response = post(api, f"/api/v1/dispatch-requests/{second.pk}/return", bearer(city_admin), {"reason": ""})
    assert response.status_code == 400 and "退回理由" in response.json()["detail"]
    response = post(api, f"/api/v1/dispatch-requests/{second.pk}/return", bearer(city_admin), {"reason": "单元划分调整中"})
    assert response.status_code == 200
    seen = api.get(f"/api/v1/dispatch-requests/{second.pk}", **bearer(district_haidian)).json()
    assert seen["status"] == "returned" and seen["return_reason"] == "单元划分调整中"


@pytest.fixture
def accepted(beijing, haidian, district_haidian, city_admin, accepted_request):
    make_member(beijing, "甲", districts=[haidian], experience_years=12)
    make_member(beijing, "乙", experience_years=3)
    return accepted_request(district_haidian, city_admin, units_of(haidian, 3), specialties=["urban_rural_planning"])


def test_matching_returns_proposals_with_explanations_and_unfilled_slots(api, bearer, city_admin, accepted):
    response = post(api, "/api/v1/cities/beijing/matching", bearer(city_admin))
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {"run", "proposals", "unfilled", "objective", "optimal", "seconds"}
    assert body["optimal"] is True and len(body["proposals"]) == 3 and body["unfilled"] == []
    proposal = body["proposals"][0]
    assert set(proposal) >= {"id", "request", "unit", "unit_name", "planner", "planner_name", "role", "score", "explanation"}
    assert proposal["request"] == accepted.pk and proposal["role"] == ROLE
    assert proposal["explanation"]["terms"] and proposal["explanation"]["checks"] and proposal["explanation"]["summary"]
    assert body["objective"] == sum(p["score"] for p in body["proposals"])
    again = post(api, "/api/v1/cities/beijing/matching", bearer(city_admin), {"requests": [accepted.pk]})
    assert [(p["unit"], p["planner"]) for p in again.json()["proposals"]] == [(p["unit"], p["planner"]) for p in body["proposals"]]
    assert api.get(f"/api/v1/matching-runs/{body['run']}", **bearer(city_admin)).json()["run"] == body["run"]


def test_matching_is_for_the_city_administrator(api, bearer, district_haidian, pds_admin, accepted):
    assert post(api, "/api/v1/cities/beijing/matching", bearer(district_haidian)).status_code == 403
    assert post(api, "/api/v1/cities/beijing/matching", bearer(pds_admin)).status_code == 404


def test_confirm_gives_201_with_the_appointment_and_409_when_stale(api, bearer, dispatching_beijing, beijing, chaoyang, city_admin, accepted):
    body = post(api, "/api/v1/cities/beijing/matching", bearer(city_admin)).json()
    first, second = body["proposals"][0], body["proposals"][1]
    response = post(api, f"/api/v1/proposals/{first['id']}/confirm", bearer(city_admin), {"start": today().isoformat()})
    assert response.status_code == 201, response.content
    assert Appointment.objects.get(pk=response.json()["appointment"]).planner_id == first["planner"]
    again = post(api, f"/api/v1/proposals/{first['id']}/confirm", bearer(city_admin), {"start": today().isoformat()})
    assert again.status_code == 409 and has_chinese(again.json()["detail"])
    assert post(api, f"/api/v1/proposals/{second['id']}/confirm", bearer(city_admin), {"start": "明天"}).status_code == 400
    # the second proposal's planner reaches the cap elsewhere after the run
    from rpms.registry.models import Planner

    planner = Planner.objects.get(pk=second["planner"])
    held = Appointment.objects.filter(planner=planner).count()
    for unit in units_of(chaoyang, 3 - held):
        appointment_build(unit=unit, planner=planner, role=ROLE, start=today(), actor=city_admin)
    stale = post(api, f"/api/v1/proposals/{second['id']}/confirm", bearer(city_admin), {"start": today().isoformat()})
    assert stale.status_code == 409 and "不得超过 3 个" in stale.json()["detail"]


def test_replace_through_the_api(api, bearer, beijing, city_admin, accepted):
    body = post(api, "/api/v1/cities/beijing/matching", bearer(city_admin)).json()
    target = body["proposals"][0]
    newcomer = make_member(beijing, "丙")
    lacking = make_member(beijing, "丁", specialties=["landscape"])
    refused = post(api, f"/api/v1/proposals/{target['id']}/replace", bearer(city_admin),
                   {"planner": lacking.pk, "reason": "调整"})
    assert refused.status_code == 409 and "专业" in refused.json()["detail"]
    response = post(api, f"/api/v1/proposals/{target['id']}/replace", bearer(city_admin),
                    {"planner": newcomer.pk, "reason": "原人选另有任务"})
    assert response.status_code == 201
    new = response.json()
    assert new["planner"] == newcomer.pk and new["replaces"] == target["id"] and new["replacement_reason"] == "原人选另有任务"
    assert Proposal.objects.get(pk=target["id"]).status == ProposalStatus.REPLACED


def test_conflicts_through_the_api(api, bearer, beijing, haidian, planner_user, city_admin, district_chaoyang):
    from rpms.registry.models import Planner

    planner = Planner.objects.get(user=planner_user)
    unit = units_of(haidian, 1)[0]
    response = post(api, "/api/v1/conflicts", bearer(planner_user),
                    {"planner": planner.pk, "unit": unit.pk, "kind": "employer_involved", "note": "单位承担该街道项目"})
    assert response.status_code == 201 and response.json()["target"].endswith(unit.name)
    response = post(api, "/api/v1/conflicts", bearer(district_chaoyang),
                    {"planner": planner.pk, "unit": unit.pk, "kind": "relation", "note": "x"})
    assert response.status_code == 404 and has_chinese(response.json()["detail"])  # another district's unit (#14)
    listed = api.get(f"/api/v1/conflicts?planner={planner.pk}", **bearer(city_admin)).json()
    assert listed["count"] == 1 and listed["items"][0]["kind_label"] == "所在单位参与该单元项目"
    assert api.get("/api/v1/conflicts", **bearer(district_chaoyang)).json()["count"] == 0
    withdrawn = post(api, f"/api/v1/conflicts/{listed['items'][0]['id']}/withdraw", bearer(planner_user))
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]


def test_replacement_proposals_through_the_api(api, bearer, beijing, haidian, city_admin):
    unit = units_of(haidian, 1)[0]
    leaving = make_member(beijing, "退出者", experience_years=15)
    appointment_build(unit=unit, planner=leaving, role=ROLE, start=today())
    other = make_member(beijing, "补位者")
    response = api.get(f"/api/v1/dispatch/replacement-proposals?unit={unit.pk}&role={ROLE}&exclude={leaving.pk}",
                       **bearer(city_admin))
    assert response.status_code == 200
    assert [i["planner"] for i in response.json()["items"]] == [other.pk]
    bad = api.get(f"/api/v1/dispatch/replacement-proposals?unit={unit.pk}&role=astronaut", **bearer(city_admin))
    assert bad.status_code == 400


def test_the_request_list_pages_on_the_site_and_in_the_api(api, bearer, beijing, haidian, district_haidian, city_admin,
                                                           monkeypatch):
    # issue #15: both lists are bounded; the page's query count does not grow with the rows
    from rpms.dispatch import views as dispatch_views
    from rpms.dispatch.services import dispatch_request_submit

    monkeypatch.setattr(dispatch_views, "REQUEST_PAGE_SIZE", 3)
    units = units_of(haidian, 7)
    made = [dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE, units=[units[0]])]
    site = Client()
    site.force_login(city_admin)
    site.get("/dispatch/requests/")
    with CaptureQueriesContext(connection) as few:
        assert site.get("/dispatch/requests/").status_code == 200
    for unit in units[1:]:
        made.append(dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE,
                                            units=[unit]))
    with CaptureQueriesContext(connection) as many:
        first = site.get("/dispatch/requests/")
    assert len(many.captured_queries) == len(few.captured_queries)
    newest = [r.pk for r in reversed(made)]
    assert [r.pk for r in first.context["rows"]] == newest[:3] and first.context["total"] == 7
    assert [r.pk for r in site.get("/dispatch/requests/?page=2").context["rows"]] == newest[3:6]
    for past in ("3", "99", "x"):
        response = site.get(f"/dispatch/requests/?page={past}")
        assert response.status_code == 200
    assert [r.pk for r in site.get("/dispatch/requests/?page=99").context["rows"]] == newest[6:]
    assert [r.pk for r in site.get("/dispatch/requests/?page=x").context["rows"]] == newest[:3]
    headers = bearer(city_admin)
    body = api.get("/api/v1/cities/beijing/dispatch-requests?limit=2&offset=2", **headers).json()
    assert body["count"] == 7 and [i["id"] for i in body["items"]] == newest[2:4]
    refused = api.get("/api/v1/cities/beijing/dispatch-requests?limit=1001", **headers)
    assert refused.status_code == 400 and "每页条数" in refused.json()["detail"]
