"""Issue #17 item 7: an officer names a colleague to act for them for a period; during it the delegate's scope,
records, permissions and to-do list include the delegator's (and not before or after), its acts are audited on
behalf of the delegator, and the delegator or the city administrator revokes it early."""
import datetime as dt

import pytest
from django.test import Client

from rpms.accounts import delegation as services
from rpms.accounts.models import Delegation, Role
from rpms.accounts.scoping import can_manage_district, visible_district_ids
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.models import ActionLog
from rpms.core.pending import pending_items
from rpms.testing.builders import unit_of, user_build

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 2)


@pytest.fixture
def today(clock):
    clock.set(MONDAY)
    return MONDAY


@pytest.fixture
def leave(today, district_chaoyang, district_haidian):
    """Chaoyang's officer is away Tuesday to Thursday; Haidian's officer acts for them."""
    return services.delegation_create(actor=district_chaoyang, delegate=district_haidian, starts_on=MONDAY + dt.timedelta(1),
                                      ends_on=MONDAY + dt.timedelta(3), reason="年休假")


def _districts(user):
    return set(user.districts.values_list("code", flat=True))


def test_scope_follows_the_delegation_in_its_period_only(leave, clock, district_haidian, haidian, chaoyang, beijing):
    assert _districts(district_haidian) == {"110108"}  # Monday: not yet
    assert not can_manage_district(district_haidian, chaoyang)
    clock.set(MONDAY + dt.timedelta(1))
    assert _districts(district_haidian) == {"110108", "110105"}
    assert visible_district_ids(district_haidian, beijing) == {haidian.pk, chaoyang.pk}
    assert can_manage_district(district_haidian, chaoyang)
    clock.set(MONDAY + dt.timedelta(3))
    assert _districts(district_haidian) == {"110108", "110105"}  # the end day is included
    clock.set(MONDAY + dt.timedelta(4))
    assert _districts(district_haidian) == {"110108"}
    assert not can_manage_district(district_haidian, chaoyang)
    assert set(district_haidian.districts.own().values_list("code", flat=True)) == {"110108"}


def test_the_delegator_keeps_its_own_scope_and_it_is_not_passed_on(leave, clock, district_chaoyang, district_haidian,
                                                                   beijing, haidian):
    third = user_build("t_district_third", Role.DISTRICT_OFFICER, beijing, districts=[beijing.districts.get(code="110102")])
    services.delegation_create(actor=district_haidian, delegate=third, starts_on=MONDAY + dt.timedelta(1),
                               ends_on=MONDAY + dt.timedelta(2), reason="出差")
    clock.set(MONDAY + dt.timedelta(1))
    assert _districts(district_chaoyang) == {"110105"}
    assert _districts(third) == {"110102", "110108"}  # Haidian's own district, not what Chaoyang delegated to it


def test_writing_the_scope_during_a_delegation_keeps_the_delegated_district_out(leave, clock, district_haidian,
                                                                                haidian, city_admin):
    from rpms.accounts.city_accounts import city_account_update

    clock.set(MONDAY + dt.timedelta(2))
    district_haidian.districts.set([haidian])
    city_account_update(actor=city_admin, user=district_haidian, display_name="海淀专班", role=Role.DISTRICT_OFFICER,
                        districts=[haidian.pk])
    assert set(district_haidian.districts.own().values_list("code", flat=True)) == {"110108"}
    clock.set(MONDAY + dt.timedelta(10))
    assert _districts(district_haidian) == {"110108"}


def test_the_delegate_sees_the_delegators_records_and_to_do_and_acts_on_behalf(leave, clock, beijing, district_haidian,
                                                                              district_chaoyang):
    from rpms.suggestions import selectors as suggestion_selectors
    from rpms.suggestions import services as suggestion_services

    unit = unit_of(beijing, "110105001")  # 建外街道, Chaoyang: no planner serves it → the district handles it
    suggestion = suggestion_services.suggestion_submit(actor=None, unit=unit, category="problem",
                                                       content="小区东门外人行道的路灯坏了，晚上很暗。")
    vacant_title = "无在任责任规划师单元收到的意见建议（由区级办理）"

    def sees():
        listed = suggestion_selectors.suggestion_list(user=district_haidian)
        return suggestion.pk in {s.pk for s in listed}, vacant_title in {i.title for i in pending_items(district_haidian)}

    assert sees() == (False, False)
    assert vacant_title in {i.title for i in pending_items(district_chaoyang)}
    clock.set(MONDAY + dt.timedelta(1))
    assert sees() == (True, True)
    assert f"代{district_chaoyang}办理（年休假）" in {i.title for i in pending_items(district_haidian)}
    suggestion_services.suggestion_reply(actor=district_haidian, suggestion=suggestion, text="已通知物业维修路灯。")
    row = ActionLog.objects.filter(action="suggestions.suggestion_reply").latest("pk")
    assert row.actor_id == district_haidian.pk
    assert row.after["on_behalf_of"] == [{"id": district_chaoyang.pk, "username": district_chaoyang.username,
                                          "name": str(district_chaoyang)}]
    assert f"代{district_chaoyang}办理" in row.summary
    clock.set(MONDAY + dt.timedelta(4))
    assert sees() == (False, False)


def test_an_act_in_the_delegates_own_district_is_not_on_behalf(leave, clock, beijing, district_haidian):
    from rpms.suggestions import services as suggestion_services

    clock.set(MONDAY + dt.timedelta(1))
    suggestion = suggestion_services.suggestion_submit(actor=None, unit=unit_of(beijing, "110108001"), category="problem",
                                                       content="万寿路边的垃圾桶满了，请及时清运。")
    suggestion_services.suggestion_reply(actor=district_haidian, suggestion=suggestion, text="已联系环卫清运。")
    row = ActionLog.objects.filter(action="suggestions.suggestion_reply").latest("pk")
    assert "on_behalf_of" not in row.after and "代" not in row.summary


def test_creation_is_audited_with_the_article(leave, district_chaoyang, district_haidian):
    row = ActionLog.objects.filter(action="accounts.delegation_create").latest("pk")
    assert row.actor_id == district_chaoyang.pk and row.article == "B5、B6" and row.city_code == "beijing"
    assert row.after["delegate"] == district_haidian.username and "年休假" == row.after["reason"]


@pytest.mark.parametrize("case, code", [
    ("self", "delegate_self"), ("other_city", "delegate_other_city"), ("other_role", "delegate_other_role"),
    ("past_end", "period_past"), ("past_start", "period_past"), ("reversed", "invalid_period"),
    ("too_long", "period_too_long"), ("no_reason", "reason_required"),
])
def test_refused_cases(today, case, code, district_chaoyang, district_haidian, street_office, pingdingshan):
    delegate, start, end, reason = district_haidian, today, today + dt.timedelta(2), "出差"
    if case == "self":
        delegate = district_chaoyang
    elif case == "other_city":
        delegate = user_build("pds_o", Role.DISTRICT_OFFICER, pingdingshan, districts=[pingdingshan.districts.first()])
    elif case == "other_role":
        delegate = street_office
    elif case == "past_end":
        start, end = today - dt.timedelta(5), today - dt.timedelta(1)
    elif case == "past_start":
        start = today - dt.timedelta(1)
    elif case == "reversed":
        start, end = today + dt.timedelta(3), today + dt.timedelta(1)
    elif case == "too_long":
        end = today + dt.timedelta(400)
    elif case == "no_reason":
        reason = "  "
    with pytest.raises(DomainError) as caught:
        services.delegation_create(actor=district_chaoyang, delegate=delegate, starts_on=start, ends_on=end, reason=reason)
    assert caught.value.code == code
    assert not Delegation.objects.exists()


def test_an_overlapping_period_is_refused(leave, district_chaoyang, beijing):
    other = user_build("t_district_other", Role.DISTRICT_OFFICER, beijing, districts=[beijing.districts.get(code="110102")])
    with pytest.raises(DomainError) as caught:
        services.delegation_create(actor=district_chaoyang, delegate=other, starts_on=MONDAY + dt.timedelta(3),
                                   ends_on=MONDAY + dt.timedelta(5), reason="出差")
    assert caught.value.code == "period_overlaps" and caught.value.status == 409
    services.delegation_create(actor=district_chaoyang, delegate=other, starts_on=MONDAY + dt.timedelta(4),
                               ends_on=MONDAY + dt.timedelta(5), reason="出差")  # the day after is free


def test_roles_that_may_not_delegate(today, city_admin, planner_user, district_haidian):
    for actor in (city_admin, planner_user):
        with pytest.raises(Forbidden):
            services.delegation_create(actor=actor, delegate=district_haidian, starts_on=today, ends_on=today, reason="x")


def test_revoking_early_ends_the_scope_and_only_the_delegator_or_city_admin_may(
        leave, clock, district_haidian, district_chaoyang, city_admin, pds_admin):
    clock.set(MONDAY + dt.timedelta(1))
    with pytest.raises(Forbidden):
        services.delegation_revoke(actor=district_haidian, delegation=leave)
    with pytest.raises(NotFound):
        services.delegation_revoke(actor=pds_admin, delegation=leave)
    services.delegation_revoke(actor=city_admin, delegation=leave)
    assert _districts(district_haidian) == {"110108"}
    row = ActionLog.objects.filter(action="accounts.delegation_revoke").latest("pk")
    assert row.actor_id == city_admin.pk and row.after["status"] == "revoked"
    with pytest.raises(DomainError) as caught:
        services.delegation_revoke(actor=district_chaoyang, delegation=leave)
    assert caught.value.code == "already_revoked"


def test_deactivating_the_delegator_ends_the_delegation(leave, clock, city_admin, district_chaoyang, district_haidian):
    from rpms.accounts.city_accounts import city_account_deactivate

    clock.set(MONDAY + dt.timedelta(1))
    city_account_deactivate(actor=city_admin, user=district_chaoyang)
    assert _districts(district_haidian) == {"110108"}
    leave.refresh_from_db()
    assert leave.revoked_at is not None


def test_hiring_entity_delegation_follows_subdistricts(today, clock, street_office, beijing):
    other_street = beijing.districts.get(code="110105").subdistricts.get(code="110105001")
    colleague = user_build("t_street_2", Role.HIRING_ENTITY, beijing, subdistricts=[other_street])
    services.delegation_create(actor=colleague, delegate=street_office, starts_on=today, ends_on=today, reason="外出培训")
    assert set(street_office.subdistricts.values_list("code", flat=True)) == {"110108001", "110105001"}
    clock.set(today + dt.timedelta(1))
    assert set(street_office.subdistricts.values_list("code", flat=True)) == {"110108001"}


# --- pages and API ---------------------------------------------------------------------------------------------------

def test_my_delegations_page_creates_lists_revokes_and_keeps_input(today, login, district_chaoyang, district_haidian,
                                                                   street_office):
    client = login(district_chaoyang)
    page = client.get("/accounts/delegations/").content.decode()
    assert district_haidian.display_name in page and street_office.display_name not in page  # colleagues only
    response = client.post("/accounts/delegations/", {"delegate": district_haidian.pk, "starts_on": "2026-03-03",
                                                      "ends_on": "2026-03-01", "reason": "年休假调休"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "结束日期不能早于开始日期" in page and "年休假调休" in page and 'value="2026-03-03"' in page
    response = client.post("/accounts/delegations/", {"delegate": district_haidian.pk, "starts_on": "2026-03-03",
                                                      "ends_on": "2026-03-05", "reason": "年休假调休"})
    assert response.status_code == 302
    found = Delegation.objects.get()
    page = client.get("/accounts/delegations/").content.decode()
    assert "未开始" in page and "年休假调休" in page
    assert client.post(f"/accounts/delegations/{found.pk}/revoke/").status_code == 302
    found.refresh_from_db()
    assert found.revoked_by_id == district_chaoyang.pk
    assert login(district_haidian).post(f"/accounts/delegations/{found.pk}/revoke/").status_code == 403  # the delegate
    assert "已撤销" in login(district_haidian).get("/accounts/delegations/").content.decode()


def test_other_roles_are_refused_the_page(login, planner_user):
    assert login(planner_user).get("/accounts/delegations/").status_code == 403


def test_api_create_list_revoke(today, bearer, district_chaoyang, district_haidian, city_admin):
    client = Client()
    headers = bearer(district_chaoyang)
    response = client.post("/api/v1/delegations", {"delegate_id": district_haidian.pk, "starts_on": "2026-03-02",
                                                   "ends_on": "2026-03-04", "reason": "出差"},
                           content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active" and body["delegate"]["id"] == district_haidian.pk
    again = client.post("/api/v1/delegations", {"delegate_id": district_haidian.pk, "starts_on": "2026-03-03",
                                                "ends_on": "2026-03-04", "reason": "出差"},
                        content_type="application/json", **headers)
    assert again.status_code == 409 and again.json()["code"] == "period_overlaps"
    bad = client.post("/api/v1/delegations", {"delegate_id": district_haidian.pk, "starts_on": "明天",
                                              "ends_on": "2026-03-04", "reason": "出差"},
                      content_type="application/json", **headers)
    assert bad.status_code == 400 and "开始日期" in bad.json()["message"]
    listed = client.get("/api/v1/delegations", **bearer(district_haidian)).json()
    assert [d["id"] for d in listed] == [body["id"]]
    assert client.post(f"/api/v1/delegations/{body['id']}/revoke", **bearer(district_haidian)).status_code == 403
    revoked = client.post(f"/api/v1/delegations/{body['id']}/revoke", **bearer(city_admin))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"


def test_the_city_administrator_sees_the_citys_delegations_and_revokes_in_pages(leave, login, city_admin, pds_admin,
                                                                               district_chaoyang):
    client = login(city_admin)
    page = client.get("/accounts/delegations/").content.decode()
    assert "本市的工作委托" in page and "年休假" in page and "委托同事代为办理" not in page  # no form of its own
    assert "年休假" in client.get(f"/accounts/city/{district_chaoyang.pk}/").content.decode()
    assert login(pds_admin).post(f"/accounts/delegations/{leave.pk}/revoke/").status_code == 404
    assert client.post(f"/accounts/delegations/{leave.pk}/revoke/").status_code == 302
    leave.refresh_from_db()
    assert leave.revoked_by_id == city_admin.pk


def test_messages_for_the_delegators_people_reach_the_delegate_in_the_period_only(
        leave, clock, district_chaoyang, district_haidian, beijing, chaoyang):
    """The reminders and appointment messages for a district's officers also reach the colleague acting for them
    (their records and to-do follow the delegate; the messages about them must too)."""
    from rpms.notifications.appointment_events import _district_users
    from rpms.notifications.recipients import district_officers_by_district

    unit = unit_of(beijing, "110105001")  # a unit of 朝阳区
    assert unit.district_id == chaoyang.pk
    assert district_haidian not in _district_users(unit)  # before the period
    clock.set(MONDAY + dt.timedelta(1))
    assert _district_users(unit) == [district_chaoyang, district_haidian]
    assert district_officers_by_district(beijing)[chaoyang.pk] == [district_chaoyang, district_haidian]
    clock.set(MONDAY + dt.timedelta(4))  # after it
    assert district_haidian not in _district_users(unit)
    assert district_haidian not in district_officers_by_district(beijing)[chaoyang.pk]
