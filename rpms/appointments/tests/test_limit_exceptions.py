"""Issue #12 item 4 — "in principle" limits (B19(2) "原则上不超过3个"): the unit cap is exceeded only with
an exception approved by the city administrator, which is shown where the appointment is shown; a
strict cap (Pingdingshan, P6(2)) refuses even with a justification. Through services, API and pages."""
import json

import pytest

from rpms.appointments.models import Appointment, SelectionProposal, SelectionStatus
from rpms.core.models import ActionLog
from rpms.registry.models import DossierEvent, DossierEventKind, ExceptionStatus, LimitException
from rpms.testing.builders import appointment_build

from .conftest import make_planner, units_of

pytestmark = pytest.mark.django_db

REASON = "该街道历史街区更新项目正处关键阶段，林清源长期参与前期工作，短期内无人可替代。"


def post(client, path, headers, data=None):
    return client.post(path, data=json.dumps(data or {}), content_type="application/json", **headers)


@pytest.fixture
def at_cap(haidian, wanshou, bj_planner, clock):
    """bj_planner already serves three Haidian units (Beijing's cap, B19(2)); wanshou would be the fourth."""
    for unit in [u for u in units_of(haidian, 4) if u.pk != wanshou.pk][:3]:
        appointment_build(unit=unit, planner=bj_planner, start=clock.today)
    return bj_planner


def _propose(client, headers, planner, unit, clock, **extra):
    return post(client, "/api/v1/appointments/proposals", headers,
                {"planner": planner.pk, "unit": unit.pk, "role": "responsible_planner", "start": clock.today.isoformat(),
                 **extra})


def _pending_request(client, bearer, street_office, district_haidian, at_cap, wanshou, clock):
    proposal = _propose(client, bearer(street_office), at_cap, wanshou, clock, exception_reason="街道急需：" + REASON)
    assert proposal.status_code == 201, proposal.content.decode()
    response = post(client, f"/api/v1/appointments/proposals/{proposal.json()['id']}/approve", bearer(district_haidian),
                    {"exception_reason": REASON})
    assert response.status_code == 202, response.content.decode()
    return proposal.json()["id"], response.json()["exception"]


def test_beijing_over_the_cap_is_refused_without_a_justification_as_before(client, bearer, street_office, at_cap,
                                                                           wanshou, clock):
    refused = _propose(client, bearer(street_office), at_cap, wanshou, clock)
    assert refused.status_code == 409 and refused.json()["code"] == "unit_cap_reached"
    detail = refused.json()["detail"]
    assert "不得超过 3 个" in detail and "B19(2)" in detail and "原则性规定" in detail and "理由" in detail
    assert not SelectionProposal.objects.filter(unit=wanshou).exists() and not LimitException.objects.exists()


def test_beijing_cap_exceeded_only_once_the_city_administrator_approves(client, bearer, street_office,
                                                                        district_haidian, city_admin, at_cap, wanshou,
                                                                        clock, login):
    proposal = _propose(client, bearer(street_office), at_cap, wanshou, clock, exception_reason="街道急需：" + REASON)
    assert proposal.status_code == 201 and proposal.json()["exception_reason"].startswith("街道急需")
    proposal_id = proposal.json()["id"]
    approve_url = f"/api/v1/appointments/proposals/{proposal_id}/approve"

    # The district's approval without a justification is refused as today.
    bare = post(client, approve_url, bearer(district_haidian))
    assert bare.status_code == 409 and bare.json()["code"] == "unit_cap_reached"

    # With one, the approval becomes a request to the city administrator; nothing is appointed yet.
    waiting = post(client, approve_url, bearer(district_haidian), {"exception_reason": REASON})
    assert waiting.status_code == 202 and waiting.json()["status"] == "exception_pending"
    exception = waiting.json()["exception"]
    assert (exception["status"], exception["limit"], exception["article"]) == ("pending", "unit_cap", "B19(2)")
    assert (exception["value"], exception["limit_value"], exception["act"]) == (4, 3, "selection_approve")
    assert exception["reason"] == REASON and exception["requested_by"] == district_haidian.display_name
    assert "市级主管部门" in waiting.json()["detail"]
    assert not Appointment.objects.filter(unit=wanshou).exists()
    assert SelectionProposal.objects.get(pk=proposal_id).status == SelectionStatus.PENDING
    # Asking twice for the same act is refused while the first request waits.
    again = post(client, approve_url, bearer(district_haidian), {"exception_reason": REASON})
    assert again.status_code == 409 and again.json()["code"] == "exception_pending"

    # The district officer cannot approve his own request; the city administrator approves it.
    mine = post(client, f"/api/v1/exceptions/{exception['id']}/approve", bearer(district_haidian))
    assert mine.status_code == 403 and "市级主管部门" in mine.json()["detail"]
    approved = post(client, f"/api/v1/exceptions/{exception['id']}/approve", bearer(city_admin), {"note": "同意"})
    assert approved.status_code == 200, approved.content.decode()
    body = approved.json()
    assert body["status"] == "approved" and body["decided_by"] == city_admin.display_name and body["performed_at"]

    # The appointment is made through the proposal's own approval, as the district officer.
    appointment = Appointment.objects.get(unit=wanshou, planner=at_cap)
    proposal_row = SelectionProposal.objects.get(pk=proposal_id)
    assert proposal_row.status == SelectionStatus.APPROVED and proposal_row.appointment == appointment
    assert proposal_row.decided_by == district_haidian
    assert body["result"] == {"type": "appointments.appointment", "id": str(appointment.pk)}
    assert Appointment.objects.filter(planner=at_cap).count() == 4

    # Visible where the appointment is shown: the API answer and the detail page …
    detail = client.get(f"/api/v1/appointments/{appointment.pk}", **bearer(district_haidian)).json()
    [shown] = detail["limit_exceptions"]
    assert (shown["id"], shown["reason"], shown["figures"]) == (exception["id"], REASON, "4 个（上限 3 个）")
    page = login(city_admin).get(f"/appointments/{appointment.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and "例外批准" in text and REASON in text and "4 个（上限 3 个）" in text
    # … and the planner's dossier.
    event = DossierEvent.objects.get(planner=at_cap, kind=DossierEventKind.LIMIT_EXCEPTION)
    assert event.article == "B19(2)" and REASON in event.summary
    dossier = client.get(f"/api/v1/pool/{at_cap.pk}", **bearer(city_admin)).json()
    assert [e["id"] for e in dossier["limit_exceptions"]] == [exception["id"]]

    # Every act audited with its article.
    rows = {row.action: row for row in ActionLog.objects.filter(action__in=[
        "registry.limit_exception_request", "registry.limit_exception_approve", "appointments.selection_approve"])}
    assert rows["registry.limit_exception_request"].actor == district_haidian
    assert rows["registry.limit_exception_request"].article == "B19(2)"
    assert rows["registry.limit_exception_approve"].actor == city_admin
    assert rows["registry.limit_exception_approve"].article == "B19(2)"
    approval = ActionLog.objects.filter(action="appointments.selection_approve", object_id=str(appointment.pk)).get()
    assert approval.actor == district_haidian and "B19(2)" in approval.article
    assert approval.after["limit_exceptions"] == [exception["id"]]


def test_a_refused_request_leaves_the_proposal_waiting_and_nothing_appointed(client, bearer, street_office,
                                                                             district_haidian, city_admin, at_cap,
                                                                             wanshou, clock):
    proposal_id, exception = _pending_request(client, bearer, street_office, district_haidian, at_cap, wanshou, clock)
    url = f"/api/v1/exceptions/{exception['id']}/refuse"
    no_reason = post(client, url, bearer(city_admin), {"reason": " "})
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"
    refused = post(client, url, bearer(city_admin), {"reason": "该区另有合适人选，请重新提名。"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert refused.json()["decision_note"] == "该区另有合适人选，请重新提名。"
    assert not Appointment.objects.filter(unit=wanshou).exists()
    assert SelectionProposal.objects.get(pk=proposal_id).status == SelectionStatus.PENDING
    late = post(client, f"/api/v1/exceptions/{exception['id']}/approve", bearer(city_admin))
    assert late.status_code == 409 and late.json()["code"] == "exception_not_pending"
    row = ActionLog.objects.get(action="registry.limit_exception_refuse")
    assert row.actor == city_admin and row.article == "B19(2)"
    # The requester sees the refusal and its reason.
    mine = client.get("/api/v1/exceptions", **bearer(district_haidian)).json()["results"]
    assert [(e["id"], e["status"], e["decision_note"]) for e in mine] == [
        (exception["id"], "refused", "该区另有合适人选，请重新提名。")]
    # The district may then return the proposal as usual.
    returned = post(client, f"/api/v1/appointments/proposals/{proposal_id}/return", bearer(district_haidian),
                    {"reason": "例外未获批准"})
    assert returned.status_code == 200 and returned.json()["status"] == "returned"


def test_an_approval_that_another_rule_now_refuses_is_not_approved(client, bearer, street_office, district_haidian,
                                                                   city_admin, at_cap, wanshou, clock):
    from rpms.registry.services import planner_remove

    _, exception = _pending_request(client, bearer, street_office, district_haidian, at_cap, wanshou, clock)
    planner_remove(actor=city_admin, planner=at_cap, ground="other_unsuitable", note="不宜继续担任")
    refused = post(client, f"/api/v1/exceptions/{exception['id']}/approve", bearer(city_admin))
    assert refused.status_code == 409 and "不能批准" in refused.json()["detail"]
    assert "资源库" in refused.json()["detail"] and refused.json()["code"] == "planner_not_in_pool"
    assert LimitException.objects.get(pk=exception["id"]).status == ExceptionStatus.PENDING
    assert not Appointment.objects.filter(unit=wanshou).exists()
    assert not ActionLog.objects.filter(action="registry.limit_exception_approve").exists()


def test_a_withdrawn_proposal_takes_its_pending_request_with_it(client, bearer, street_office, district_haidian,
                                                                city_admin, at_cap, wanshou, clock):
    proposal_id, exception = _pending_request(client, bearer, street_office, district_haidian, at_cap, wanshou, clock)
    withdrawn = post(client, f"/api/v1/appointments/proposals/{proposal_id}/withdraw", bearer(street_office))
    assert withdrawn.status_code == 200
    record = LimitException.objects.get(pk=exception["id"])
    assert record.status == ExceptionStatus.LAPSED and "撤回" in record.decision_note
    late = post(client, f"/api/v1/exceptions/{exception['id']}/approve", bearer(city_admin))
    assert late.status_code == 409 and late.json()["code"] == "exception_not_pending"
    row = ActionLog.objects.get(action="appointments.selection_withdraw")
    assert row.after["limit_exceptions_lapsed"] == [exception["id"]]


def test_exceptions_are_listed_in_scope(client, bearer, street_office, district_haidian, district_chaoyang,
                                       city_admin, pds_admin, at_cap, wanshou, clock):
    _, exception = _pending_request(client, bearer, street_office, district_haidian, at_cap, wanshou, clock)

    def ids(user, query=""):
        response = client.get(f"/api/v1/exceptions{query}", **bearer(user))
        assert response.status_code == 200
        return [e["id"] for e in response.json()["results"]]

    assert ids(city_admin) == ids(district_haidian) == ids(city_admin, "?status=pending") == [exception["id"]]
    assert ids(city_admin, "?status=approved") == [] and ids(city_admin, "?limit=eligibility") == []
    assert ids(district_chaoyang) == ids(pds_admin) == ids(street_office) == []
    assert client.get(f"/api/v1/exceptions/{exception['id']}", **bearer(district_chaoyang)).status_code == 404
    assert post(client, f"/api/v1/exceptions/{exception['id']}/approve", bearer(pds_admin)).status_code == 404
    bad = client.get("/api/v1/exceptions?status=maybe", **bearer(city_admin))
    assert bad.status_code == 400 and "未知的状态" in bad.json()["detail"]


def test_the_city_administrator_decides_on_the_pages_with_confirmation(client, bearer, street_office, district_haidian,
                                                                       city_admin, at_cap, wanshou, clock, login):
    _, exception = _pending_request(client, bearer, street_office, district_haidian, at_cap, wanshou, clock)
    admin = login(city_admin)
    listing = admin.get("/pool/exceptions/?status=pending")
    assert listing.status_code == 200 and f"#{exception['id']}" in listing.content.decode()
    assert "待审批" in listing.content.decode() and "审批" in listing.content.decode()
    home = admin.get(f"/pool/exceptions/{exception['id']}/")
    assert home.status_code == 200 and 'name="confirm"' in home.content.decode() and REASON in home.content.decode()

    unconfirmed = admin.post(f"/pool/exceptions/{exception['id']}/refuse/", {"reason": "理由甲"})
    assert unconfirmed.status_code == 400 and "请勾选确认" in unconfirmed.content.decode()
    assert "理由甲" in unconfirmed.content.decode()  # what was typed is kept
    empty = admin.post(f"/pool/exceptions/{exception['id']}/refuse/", {"reason": "", "confirm": "1"})
    assert empty.status_code == 400 and "请写明不予批准的理由" in empty.content.decode()

    done = admin.post(f"/pool/exceptions/{exception['id']}/approve/", {"confirm": "1", "note": "确有必要"})
    assert done.status_code == 302
    appointment = Appointment.objects.get(unit=wanshou, planner=at_cap)
    page = admin.get(f"/appointments/{appointment.pk}/").content.decode()
    assert "例外批准" in page and REASON in page
    proposal_page = login(district_haidian).get(f"/appointments/proposals/{appointment.selection_proposal.pk}/")
    assert "超出原则性上限的例外申请" in proposal_page.content.decode()


def test_the_district_approves_over_the_cap_on_its_page(street_office, district_haidian, at_cap, wanshou, clock, login):
    from rpms.appointments import proposals

    proposal = proposals.proposal_submit(actor=street_office, planner=at_cap, unit=wanshou, role="responsible_planner",
                                         start=clock.today, exception_reason="街道急需")
    officer = login(district_haidian)
    page = officer.get(f"/appointments/proposals/{proposal.pk}/").content.decode()
    assert 'name="exception_reason"' in page and "街道急需" in page  # prefilled with the entity's justification
    refused = officer.post(f"/appointments/proposals/{proposal.pk}/approve/", {"confirm": "1", "exception_reason": ""})
    assert refused.status_code == 409 and "不得超过 3 个" in refused.content.decode()
    asked = officer.post(f"/appointments/proposals/{proposal.pk}/approve/", {"confirm": "1", "exception_reason": REASON})
    assert asked.status_code == 302
    assert LimitException.objects.get().status == ExceptionStatus.PENDING
    assert "已报市级主管部门审批" in officer.get(f"/appointments/proposals/{proposal.pk}/").content.decode()


def test_the_exceptions_list_keeps_a_constant_query_count(client, bearer, beijing, haidian, city_admin,
                                                          district_haidian, clock, django_assert_max_num_queries):
    from rpms.cities.limits import UNIT_CAP
    from rpms.registry import limits

    def make(n):
        for i in range(n):
            planner = make_planner(beijing, f"例外对象{i}")
            unit = units_of(haidian, 1)[0]
            record = LimitException.objects.create(
                city=beijing, limit=UNIT_CAP, article="B19(2)", limit_value=3, value=4, act="selection_approve",
                subject="appointment", subject_label=f"{planner.name} → {unit.name}", planner=planner, unit=unit,
                district=haidian, reason="测试理由", requested_by=district_haidian,
                requested_at=limits.timezone.now())
            assert record.pk

    headers = bearer(city_admin)
    make(1)
    with django_assert_max_num_queries(50) as few:
        assert client.get("/api/v1/exceptions", **headers).status_code == 200
    make(6)
    with django_assert_max_num_queries(50) as many:
        assert len(client.get("/api/v1/exceptions", **headers).json()["results"]) == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_exceptions_page_keeps_a_constant_query_count(beijing, haidian, city_admin, district_haidian, login,
                                                          django_assert_max_num_queries):
    from rpms.cities.limits import UNIT_CAP
    from rpms.registry import limits

    admin = login(city_admin)

    def make(n):
        for i in range(n):
            planner = make_planner(beijing)
            LimitException.objects.create(
                city=beijing, limit=UNIT_CAP, article="B19(2)", limit_value=3, value=4, act="selection_approve",
                subject="appointment", subject_label=planner.name, planner=planner, district=haidian,
                reason="测试理由", requested_by=district_haidian, requested_at=limits.timezone.now())

    make(1)
    with django_assert_max_num_queries(60) as few:
        assert admin.get("/pool/exceptions/").status_code == 200
    make(6)
    with django_assert_max_num_queries(60) as many:
        assert admin.get("/pool/exceptions/").status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Pingdingshan: a strict cap (P6(2)), and a city-dispatch city whose cap is in principle -------------------


def _cap(city, cap: int, strictness: str | None = None):
    policy = city.policy
    policy.max_units_per_planner = cap
    if strictness:
        policy.limit_strictness = {**(policy.limit_strictness or {}), "unit_cap": strictness}
    policy.full_clean()
    policy.save()


def test_pingdingshan_strict_cap_refuses_even_with_a_justification(client, bearer, pingdingshan, pds_admin, pds_district,
                                                                  pds_planner, clock):
    _cap(pingdingshan, 1)  # a cap set by the city; its policy marks every limit strict
    first, second = units_of(pds_district, 2)
    appointment_build(unit=first, planner=pds_planner, start=clock.today)
    body = {"planner": pds_planner.pk, "unit": second.pk, "role": "responsible_planner", "start": clock.today.isoformat()}

    bare = post(client, "/api/v1/appointments", bearer(pds_admin), body)
    assert bare.status_code == 409 and bare.json()["code"] == "unit_cap_reached"
    assert "原则性规定" not in bare.json()["detail"]
    justified = post(client, "/api/v1/appointments", bearer(pds_admin), {**body, "exception_reason": REASON})
    assert justified.status_code == 409 and justified.json()["code"] == "limit_strict"
    detail = justified.json()["detail"]
    assert "硬性要求" in detail and "P6(2)" in detail and "不能以例外理由办理" in detail
    assert Appointment.objects.filter(planner=pds_planner).count() == 1
    assert not LimitException.objects.exists()
    assert not ActionLog.objects.filter(action__startswith="registry.limit_exception").exists()


def test_a_dispatching_city_administrator_grants_an_in_principle_cap_with_the_act(client, bearer, pingdingshan,
                                                                                  pds_admin, pds_district,
                                                                                  pds_planner, clock):
    _cap(pingdingshan, 1, "in_principle")  # rules as data: the same code serves a city that says "原则上"
    first, second = units_of(pds_district, 2)
    appointment_build(unit=first, planner=pds_planner, start=clock.today)
    response = post(client, "/api/v1/appointments", bearer(pds_admin),
                    {"planner": pds_planner.pk, "unit": second.pk, "role": "responsible_planner",
                     "start": clock.today.isoformat(), "exception_reason": REASON})
    assert response.status_code == 201, response.content.decode()
    [granted] = response.json()["limit_exceptions"]
    assert granted["status"] == "approved" and granted["requested_by"] == granted["decided_by"] == pds_admin.display_name
    assert (granted["value"], granted["limit_value"], granted["article"]) == (2, 1, "P6(2)")
    record = LimitException.objects.get()
    assert record.result_id == str(response.json()["id"]) and record.planner == pds_planner
    grant = ActionLog.objects.get(action="registry.limit_exception_grant")
    assert grant.actor == pds_admin and grant.article == "P6(2)"
    act = ActionLog.objects.get(action="appointments.appointment_create", object_id=str(response.json()["id"]))
    assert act.after["limit_exceptions"] == [record.pk]
    assert DossierEvent.objects.filter(planner=pds_planner, kind=DossierEventKind.LIMIT_EXCEPTION).count() == 1


def test_the_entity_proposes_a_planner_at_the_cap_with_a_justification_on_its_page(login, street_office, at_cap,
                                                                                   wanshou, clock):
    entity = login(street_office)
    search = entity.get("/appointments/proposals/new/", {"unit": wanshou.pk, "q": "林清源"}).content.decode()
    # The planner held back by the in-principle cap alone stays selectable, with the field for the reason.
    assert f'value="{at_cap.pk}" required' in search and 'name="exception_reason"' in search
    form = {"unit": wanshou.pk, "q": "林清源", "planner": at_cap.pk, "role": "responsible_planner",
            "start": clock.today.isoformat()}
    refused = entity.post("/appointments/proposals/new/", form)
    assert refused.status_code == 409 and "原则性规定" in refused.content.decode()
    made = entity.post("/appointments/proposals/new/", {**form, "exception_reason": "街道急需"})
    assert made.status_code == 302
    assert SelectionProposal.objects.get(unit=wanshou).exception_reason == "街道急需"
    assert not LimitException.objects.exists()  # the district asks for the exception when it approves
