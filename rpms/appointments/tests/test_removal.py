"""A removal from the pool ends the planner's postings (P5(4); issue #11 item 4): in one act, through the
registry's removal service and the PLANNER_REMOVED hook. The posting stops counting at once (active
appointments, coverage, public pages and open data), the unit waits for a replacement (P6(5) 调整补位)
until one is appointed, the allowance of the running cycle is cut pro rata, and every act is audited."""
import datetime as dt
import json

import pytest
from django.utils import timezone

from rpms.appointments import removal, selectors
from rpms.appointments.models import Appointment, AppointmentStatus
from rpms.cities.selectors import policy_article
from rpms.core.errors import Conflict, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.geography.selectors import coverage_summary
from rpms.registry import services as registry_services
from rpms.registry.models import DossierEvent, DossierEventKind, PoolStatus
from rpms.testing.builders import appoint, appointment_build

from .conftest import make_planner, units_of

pytestmark = pytest.mark.django_db


def disclose(appointment):
    """Filed and on the public site. (Filing itself is tested in test_lifecycle; it is being reworked in
    parallel, so this test sets the outcome directly: it is about what a removal does to it.)"""
    Appointment.objects.filter(pk=appointment.pk).update(filed_at=timezone.now(), disclosed=True)


def post(client, path, user, bearer, data=None):
    return client.post(path, data=json.dumps(data or {}), content_type="application/json", **bearer(user))


@pytest.fixture
def pds(pingdingshan, pds_admin, pds_district, pds_planner, clock):
    """A Pingdingshan planner serving one unit (filed and public) and appointed to a second one that has not
    begun yet, 100 days into the first posting."""
    first_unit, second_unit = units_of(pds_district, 2)
    start = clock.today
    serving = appoint(pds_admin, pds_planner, first_unit, start)
    disclose(serving)
    clock.set(start + dt.timedelta(days=99))
    upcoming = appoint(pds_admin, pds_planner, second_unit, clock.today + dt.timedelta(days=10))
    return {"city": pingdingshan, "admin": pds_admin, "planner": pds_planner, "serving": serving,
            "upcoming": upcoming, "unit": first_unit, "other_unit": second_unit}


def test_removing_a_serving_pingdingshan_planner_ends_every_posting_in_one_audited_act(pds, clock, anon):
    city, planner, serving, upcoming = pds["city"], pds["planner"], pds["serving"], pds["upcoming"]
    today = clock.today
    covered_before = coverage_summary(city)["covered"]
    assert Appointment.objects.active().filter(planner=planner).count() == 1
    assert planner.name in [r["planner"] for r in anon.get(f"/api/v1/public/appointments.json?city={city.code}").json()["rows"]]

    registry_services.planner_remove(actor=pds["admin"], planner=planner, ground="refusal_to_serve",
                                     note="连续半年无正当理由拒绝服务")

    planner.refresh_from_db()
    serving.refresh_from_db()
    upcoming.refresh_from_db()
    assert planner.pool_status == PoolStatus.REMOVED
    # no posting left: neither in force nor waiting to begin
    assert not Appointment.objects.active().filter(planner=planner).exists()
    assert not Appointment.objects.not_over().filter(planner=planner).exists()
    ground = city.policy.removal_ground("refusal_to_serve")["label"]
    assert (serving.status, serving.end_kind, serving.ended_on, serving.end_reason) == (
        AppointmentStatus.REMOVED, "removal", today, ground)
    assert serving.state() == AppointmentStatus.REMOVED and serving.state_label() == "因调出资源库终止"
    # the upcoming one ends before it begins
    assert (upcoming.status, upcoming.ended_on) == (AppointmentStatus.REMOVED, upcoming.start - dt.timedelta(days=1))
    # the unit is shown uncovered and flagged for a replacement
    summary = coverage_summary(city)
    assert summary["covered"] == covered_before - 1 and pds["unit"] in summary["uncovered"]
    flagged = selectors.removed_posting_list(user=pds["admin"], pending_only=True)
    assert [a.pk for a in flagged] == [serving.pk, upcoming.pk]
    assert selectors.awaits_replacement(serving)
    assert "调出资源库后待调整补位的责任单元" in [i.title for i in selectors.pending_items(pds["admin"])]
    # one audit row per act: the removal (its ground's article), and each posting ended (the city's removal article)
    [removed_row] = ActionLog.objects.filter(action="registry.planner_remove")
    assert removed_row.article == "P5(4)3"
    ended_rows = list(ActionLog.objects.filter(action="appointments.appointment_end_removal").order_by("id"))
    assert [r.object_id for r in ended_rows] == [str(serving.pk), str(upcoming.pk)]
    assert all(r.article == policy_article(city, "removal") == "P5(4)" for r in ended_rows)
    assert ended_rows[0].before["status"] == "active" and ended_rows[0].after["status"] == "removed"
    assert ended_rows[0].after["ended_on"] == today.isoformat() and ended_rows[0].after["ground"] == "refusal_to_serve"
    # a dossier row per posting ended
    events = list(DossierEvent.objects.filter(planner=planner, kind=DossierEventKind.POSTING_ENDED).order_by("id"))
    assert [e.source_id for e in events] == [str(serving.pk), str(upcoming.pk)]
    assert str(today) in events[0].summary and "调出资源库" in events[0].summary and events[0].article == "P5(4)"


def test_the_public_pages_and_open_data_no_longer_list_the_removed_planner(pds, anon):
    city, planner, unit = pds["city"], pds["planner"], pds["unit"]
    assert [c["planner_name"] for c in anon.get(f"/api/v1/public/units/{unit.pk}").json()["appointments"]] == [planner.name]
    [before] = [r for r in anon.get(f"/api/v1/public/units.json?city={city.code}").json()["rows"] if r["unit_id"] == unit.pk]
    assert before["covered"] == "是" and before["planners"] == planner.name
    covered_before = sum(r["covered"] for r in anon.get(f"/api/v1/public/coverage.json?city={city.code}").json()["rows"])

    registry_services.planner_remove(actor=pds["admin"], planner=planner, ground="violation")

    assert anon.get(f"/api/v1/public/units/{unit.pk}").json()["appointments"] == []
    assert planner.name not in anon.get(f"/appointments/units/{unit.pk}/").content.decode()
    rows = anon.get(f"/api/v1/public/appointments.json?city={city.code}").json()["rows"]
    assert planner.name not in [r["planner"] for r in rows]
    assert planner.name not in anon.get(f"/api/v1/public/appointments.csv?city={city.code}").content.decode("utf-8-sig")
    [after] = [r for r in anon.get(f"/api/v1/public/units.json?city={city.code}").json()["rows"] if r["unit_id"] == unit.pk]
    assert after["covered"] == "否" and after["planners"] == "" and after["status"] == "空缺"
    covered_after = sum(r["covered"] for r in anon.get(f"/api/v1/public/coverage.json?city={city.code}").json()["rows"])
    assert covered_after == covered_before - 1


def test_the_allowance_of_the_running_cycle_is_cut_pro_rata_to_the_removal_date(pds, clock):
    from rpms.finance.models import Allowance
    from rpms.finance.services import allowances_generate

    serving = pds["serving"]
    registry_services.planner_remove(actor=pds["admin"], planner=pds["planner"], ground="refusal_to_serve")
    [row] = allowances_generate(actor=pds["admin"], city=pds["city"], on=clock.today)
    days_in_cycle = (serving.end - serving.start).days + 1
    assert row.appointment_id == serving.pk and row.partial
    assert row.served_until == clock.today and row.days_served == 100 and row.days_in_cycle == days_in_cycle
    assert row.amount_yuan == round(5000 * 100 / days_in_cycle)
    # the posting that never began earns nothing, now or at its would-be cycle end
    clock.set(pds["upcoming"].end)
    assert allowances_generate(actor=pds["admin"], city=pds["city"], on=clock.today) == []
    assert not Allowance.objects.filter(appointment=pds["upcoming"]).exists()


def test_a_failure_while_ending_a_posting_leaves_nothing_changed(pds, monkeypatch):
    planner, serving = pds["planner"], pds["serving"]
    calls = []
    original = removal.dossier_event_record

    def broken(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(**kwargs)

    monkeypatch.setattr(removal, "dossier_event_record", broken)
    with pytest.raises(RuntimeError):
        registry_services.planner_remove(actor=pds["admin"], planner=planner, ground="violation")
    planner.refresh_from_db()
    serving.refresh_from_db()
    assert planner.pool_status == PoolStatus.ACTIVE and planner.removed_at is None
    assert serving.status == AppointmentStatus.ACTIVE and serving.ended_on is None and serving.end_kind == ""
    assert Appointment.objects.active().filter(planner=planner).exists()
    assert not ActionLog.objects.filter(action__in=["registry.planner_remove", "appointments.appointment_end_removal"]).exists()
    assert not DossierEvent.objects.filter(planner=planner, kind__in=["removed", "posting_ended"]).exists()


def test_only_the_citys_pool_manager_removes(pds, pds_officer, city_admin):
    with pytest.raises(Forbidden):
        registry_services.planner_remove(actor=pds_officer, planner=pds["planner"], ground="violation")
    with pytest.raises(NotFound):
        registry_services.planner_remove(actor=city_admin, planner=pds["planner"], ground="violation")
    assert Appointment.objects.active().filter(planner=pds["planner"]).exists()


def test_removal_and_replacement_through_the_api_in_pingdingshan(pds, client, bearer, clock):
    city, admin, planner, serving = pds["city"], pds["admin"], pds["planner"], pds["serving"]
    response = post(client, f"/api/v1/pool/{planner.pk}/remove", admin, bearer, {"ground": "misconduct"})
    assert response.status_code == 200, response.content.decode()
    detail = client.get(f"/api/v1/appointments/{serving.pk}", **bearer(admin)).json()
    assert detail["status"] == "removed" and detail["status_label"] == "因调出资源库终止"
    assert detail["ended_on"] == clock.today.isoformat()
    removed = client.get("/api/v1/appointments?status=removed", **bearer(admin)).json()
    assert {r["id"] for r in removed["results"]} == {serving.pk, pds["upcoming"].pk}

    pending = client.get("/api/v1/removals?pending=true", **bearer(admin)).json()["results"]
    assert [r["appointment"] for r in pending] == [serving.pk, pds["upcoming"].pk]
    assert pending[0]["reason"] == city.policy.removal_ground("misconduct")["label"] and pending[0]["replacement"] is None
    proposals = client.get(f"/api/v1/removals/{serving.pk}/proposals", **bearer(admin))
    assert proposals.status_code == 200 and proposals.json()["removal"]["appointment"] == serving.pk

    successor = make_planner(city, "补位规划师")
    # the removed planner cannot take the post back
    again = post(client, f"/api/v1/removals/{serving.pk}/replacement", admin, bearer, {"planner": planner.pk})
    assert again.status_code == 409 and again.json()["detail"]
    made = post(client, f"/api/v1/removals/{serving.pk}/replacement", admin, bearer, {"planner": successor.pk})
    assert made.status_code == 201, made.content.decode()
    body = made.json()
    assert body["planner"]["name"] == "补位规划师" and body["start"] == (clock.today + dt.timedelta(days=1)).isoformat()
    twice = post(client, f"/api/v1/removals/{serving.pk}/replacement", admin, bearer, {"planner": make_planner(city).pk})
    assert twice.status_code == 409 and twice.json()["code"] == "already_replaced"
    pending = client.get("/api/v1/removals?pending=true", **bearer(admin)).json()["results"]
    assert [r["appointment"] for r in pending] == [pds["upcoming"].pk]
    serving.refresh_from_db()
    assert serving.replacement_id == body["id"] and not selectors.awaits_replacement(serving)
    # covered again from the replacement's first day
    clock.advance(days=1)
    assert pds["unit"] not in coverage_summary(city)["uncovered"]
    [row] = ActionLog.objects.filter(action="appointments.removal_replace")
    assert row.article == f"{policy_article(city, 'replacement')}、{policy_article(city, 'appointment')}"
    assert row.after["replaces"] == serving.pk


def test_removal_ends_a_beijing_posting_too_and_the_replacement_is_proposed_and_approved(
        beijing, city_admin, street_office, district_haidian, district_chaoyang, wanshou, bj_planner, clock, client,
        bearer):
    appointment = appoint(city_admin, bj_planner, wanshou, clock.today)
    clock.advance(days=30)
    response = post(client, f"/api/v1/pool/{bj_planner.pk}/remove", city_admin, bearer, {"ground": "violation"})
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.REMOVED and appointment.ended_on == clock.today
    [row] = ActionLog.objects.filter(action="appointments.appointment_end_removal")
    assert row.article == policy_article(beijing, "removal") == "B20、B25"
    assert wanshou in coverage_summary(beijing)["uncovered"]
    # out of the Chaoyang officer's scope
    assert client.get("/api/v1/removals", **bearer(district_chaoyang)).json()["results"] == []
    assert post(client, f"/api/v1/removals/{appointment.pk}/replacement", district_chaoyang, bearer,
                {"planner": make_planner(beijing).pk}).status_code == 404
    # B2, B19(1)(5): nobody appoints the replacement alone — not the Haidian officer, the city or the street office
    successor = make_planner(beijing, "海淀补位者")
    for user in (district_haidian, city_admin, street_office):
        alone = post(client, f"/api/v1/removals/{appointment.pk}/replacement", user, bearer, {"planner": successor.pk})
        assert alone.status_code == 403 and alone.json()["code"] == "local_selection_required", user
        assert "选聘提名" in alone.json()["detail"] and "补位" in alone.json()["detail"]
    appointment.refresh_from_db()
    assert appointment.replacement_id is None and selectors.awaits_replacement(appointment)
    # the street office proposes for the unit and role, the Haidian district approves: that is the replacement
    proposed = post(client, "/api/v1/appointments/proposals", street_office, bearer, {
        "planner": successor.pk, "unit": wanshou.pk, "role": appointment.role,
        "start": removal.replacement_start(appointment).isoformat()})
    assert proposed.status_code == 201, proposed.content.decode()
    made = post(client, f"/api/v1/appointments/proposals/{proposed.json()['id']}/approve", district_haidian, bearer)
    assert made.status_code == 201, made.content.decode()
    assert made.json()["unit"]["id"] == wanshou.pk and made.json()["planner"]["name"] == "海淀补位者"
    appointment.refresh_from_db()
    assert appointment.replacement_id == made.json()["id"] and not selectors.awaits_replacement(appointment)
    assert selectors.removed_posting_list(user=district_haidian, pending_only=True) == []
    [approval] = ActionLog.objects.filter(action="appointments.selection_approve", object_id=str(made.json()["id"]))
    assert approval.article == "B2、B19(1)、B19(5)、B4" and approval.after["replaces"] == appointment.pk
    assert "调整补位" in approval.summary and not ActionLog.objects.filter(action="appointments.removal_replace")
    clock.advance(days=1)
    assert wanshou not in coverage_summary(beijing)["uncovered"]
    # a replaced posting is not filled twice: the next proposal for the unit is an ordinary appointment
    other = appointment_build(unit=wanshou, planner=make_planner(beijing, "另一位"), start=clock.today)
    appointment.refresh_from_db()
    assert appointment.replacement_id == made.json()["id"] and "接替" not in other.note


def test_a_hiring_entity_cannot_appoint_the_replacement(beijing, city_admin, street_office, district_haidian, wanshou,
                                                        bj_planner, clock):
    appointment = appoint(city_admin, bj_planner, wanshou, clock.today)
    registry_services.planner_remove(actor=city_admin, planner=bj_planner, ground="violation")
    appointment.refresh_from_db()
    with pytest.raises(Forbidden) as refused:
        removal.removal_replace(actor=street_office, appointment=appointment, planner=make_planner(beijing))
    assert refused.value.code == "local_selection_required"  # it proposes instead
    # … nor the district or the city alone (B2, B19(1)(5))
    for actor in (district_haidian, city_admin):
        with pytest.raises(Forbidden) as refused:
            removal.removal_replace(actor=actor, appointment=appointment, planner=make_planner(beijing))
        assert refused.value.code == "local_selection_required"
    appointment.refresh_from_db()
    assert appointment.replacement_id is None


def test_only_a_posting_that_a_removal_ended_is_replaced_here(pds, city_admin, wanshou, bj_planner, clock):
    serving = pds["serving"]
    with pytest.raises(Conflict) as refused:
        removal.removal_replace(actor=pds["admin"], appointment=serving, planner=make_planner(pds["city"]))
    assert refused.value.code == "not_removed"
    with pytest.raises(NotFound):
        selectors.removed_posting_get(user=pds["admin"], pk=serving.pk)
    # in Beijing nobody replaces alone at all; and a posting still running is no removed posting either
    running = appoint(city_admin, bj_planner, wanshou, clock.today)
    with pytest.raises(Forbidden):
        removal.removal_replace(actor=city_admin, appointment=running, planner=make_planner(running.city))
    with pytest.raises(NotFound):
        selectors.removed_posting_get(user=city_admin, pk=running.pk)


def test_a_planner_without_postings_is_removed_with_one_audit_row(pingdingshan, pds_admin, pds_planner):
    last = ActionLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    registry_services.planner_remove(actor=pds_admin, planner=pds_planner, ground="voluntary_withdrawal")
    assert list(ActionLog.objects.filter(id__gt=last).values_list("action", flat=True)) == ["registry.planner_remove"]


def test_the_replacement_pages_show_the_removed_posting_and_appoint_a_replacement(pds, login, clock):
    city, admin, serving = pds["city"], pds["admin"], pds["serving"]
    registry_services.planner_remove(actor=admin, planner=pds["planner"], ground="refusal_to_serve")
    client = login(admin)
    listing = client.get("/appointments/withdrawals/").content.decode()
    assert "因调出资源库终止的派驻" in listing and pds["unit"].name in listing and "调整补位" in listing
    detail = client.get(f"/appointments/{serving.pk}/").content.decode()
    assert "因调出资源库终止" in detail and f"/appointments/removals/{serving.pk}/" in detail
    page = client.get(f"/appointments/removals/{serving.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "已列入待调整补位" in html and "csrfmiddlewaretoken" in html
    # a refusal keeps the choice and says why, in Chinese
    refused = client.post(f"/appointments/removals/{serving.pk}/replace/", {"planner": ""})
    assert refused.status_code == 400 and "请选择补位责任规划师" in refused.content.decode()
    successor = make_planner(city, "页面补位者")
    done = client.post(f"/appointments/removals/{serving.pk}/replace/", {"planner": successor.pk})
    assert done.status_code == 302
    serving.refresh_from_db()
    assert serving.replacement.planner == successor
    assert "页面补位者" in client.get("/appointments/withdrawals/").content.decode()


def test_the_removed_posting_list_keeps_a_constant_query_count(pingdingshan, pds_admin, pds_district, clock,
                                                               django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    units = units_of(pds_district, 6)

    def removed_posting(unit):
        planner = make_planner(pingdingshan)
        appoint(pds_admin, planner, unit, clock.today)
        registry_services.planner_remove(actor=pds_admin, planner=planner, ground="violation")

    removed_posting(units[0])
    with CaptureQueriesContext(connection) as few:
        assert len(selectors.removed_posting_list(user=pds_admin)) == 1
    for unit in units[1:]:
        removed_posting(unit)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rows = selectors.removed_posting_list(user=pds_admin)
        assert len(rows) == 6 and all(r.unit.district.name and r.role_label for r in rows)


def test_the_removed_posting_api_pages_with_a_count(pingdingshan, pds_admin, pds_district, clock, client, bearer):
    units = units_of(pds_district, 3)
    for unit in units:
        planner = make_planner(pingdingshan)
        appoint(pds_admin, planner, unit, clock.today)
        registry_services.planner_remove(actor=pds_admin, planner=planner, ground="violation")
    first = client.get("/api/v1/removals?limit=2", **bearer(pds_admin)).json()
    rest = client.get("/api/v1/removals?limit=2&offset=2", **bearer(pds_admin)).json()
    assert (first["count"], first["limit"], len(first["results"])) == (3, 2, 2)
    assert (rest["offset"], len(rest["results"])) == (2, 1)
    seen = [r["appointment"] for r in first["results"] + rest["results"]]
    assert len(set(seen)) == 3
    assert client.get("/api/v1/removals?limit=0", **bearer(pds_admin)).status_code == 400
