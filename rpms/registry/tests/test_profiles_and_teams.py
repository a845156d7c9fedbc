"""Issue #17 item 8: a planner keeps their record current (changes the eligibility rules read wait for the city's
verification with proof), and a team's leader or the city administrator keeps the membership current (B19(7))."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rpms.core.audit import ActionLog
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.notifications.models import Notification
from rpms.registry import profiles, services, teams
from rpms.registry.models import DossierEvent, Planner, PlannerKind, ProfileChange, ProfileChangeStatus, TeamMember
from rpms.testing.builders import planner_build, planner_login, signed_pdf, user_build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def me(beijing):
    return planner_build(beijing, "资料测试规划师", title_level="intermediate", title_field="urban_rural_planning",
                         experience_years=5, mobile="13900000001")


def proof():
    return signed_pdf("职称证书.pdf")


# --- what the rules read -------------------------------------------------------------------------------------


def test_the_fields_held_for_verification_are_those_the_city_rules_read(beijing, pingdingshan):
    beijing_fields = profiles.eligibility_fields(beijing.policy)
    assert {"title_level", "title_field", "registrations", "experience_years"} <= beijing_fields
    assert "degree" not in beijing_fields  # B18 reads no degree
    assert {"degree", "major_field", "title_level", "registrations", "experience_years"} <= profiles.eligibility_fields(
        pingdingshan.policy)  # P4(2) reads the degree and its field
    assert not {"mobile", "email", "employer", "bio"} & beijing_fields


# --- direct changes ---------------------------------------------------------------------------------------------


def test_a_contact_change_applies_at_once_with_a_dossier_row_and_one_audit_row(me):
    user = me.user
    result = profiles.profile_update(actor=user, planner=me, data={"mobile": "139 0000 0002", "employer": "新的设计院（虚构）",
                                                                   "bio": "从事街区更新十年。"})
    me.refresh_from_db()
    assert me.mobile == "13900000002" and me.employer == "新的设计院（虚构）" and me.bio == "从事街区更新十年。"
    assert result.change is None and set(result.applied) == {"mobile", "employer", "bio"}
    event = DossierEvent.objects.get(planner=me, kind="profile_updated")
    assert event.article == "B19(6)" and "工作单位" in event.summary
    assert "13900000002" not in event.summary  # the dossier shows the mobile masked
    row = ActionLog.objects.get(action="registry.profile_update")
    assert row.article == "B19(6)" and "13900000002" not in json.dumps(row.after)
    # Stored encrypted at rest: the column does not hold the number in clear.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT mobile FROM registry_planner WHERE id = %s", [me.pk])
        assert "13900000002" not in str(cursor.fetchone()[0])


def test_nothing_changed_is_refused(me):
    with pytest.raises(DomainError) as refused:
        profiles.profile_update(actor=me.user, planner=me, data={"employer": me.employer})
    assert refused.value.code == "no_change"


def test_a_bad_mobile_is_refused_in_chinese(me):
    with pytest.raises(DomainError) as refused:
        profiles.profile_update(actor=me.user, planner=me, data={"mobile": "12345"})
    assert "手机号码" in refused.value.message
    assert not DossierEvent.objects.filter(planner=me).exists()


def test_a_planner_cannot_edit_another_planners_profile(beijing, me):
    other = planner_build(beijing, "另一位规划师")
    with pytest.raises(NotFound):
        profiles.profile_update(actor=other.user, planner=me, data={"employer": "冒名单位"})
    me.refresh_from_db()
    assert me.employer != "冒名单位"


# --- changes held for verification ---------------------------------------------------------------------------


def test_a_title_change_needs_proof(me):
    with pytest.raises(DomainError) as refused:
        profiles.profile_update(actor=me.user, planner=me, data={"title_level": "deputy_senior"})
    assert refused.value.code == "proof_required" and "B18" in refused.value.message
    me.refresh_from_db()
    assert me.title_level == "intermediate"


def test_a_title_change_is_held_until_approved_then_applied(me, city_admin):
    result = profiles.profile_update(actor=me.user, planner=me, proof=proof(), note="新取得高级职称",
                                     data={"title_level": "deputy_senior", "registrations": ["registered_planner"],
                                           "email": "me@example.com"})
    me.refresh_from_db()
    assert me.title_level == "intermediate" and me.registrations == []  # held
    assert me.email == "me@example.com"  # applied at once
    change = result.change
    assert change.status == ProfileChangeStatus.PENDING and change.article == "B18"
    assert change.changes == {"title_level": "deputy_senior", "registrations": ["registered_planner"]}
    assert DossierEvent.objects.filter(planner=me, kind="profile_change_requested").count() == 1
    assert ActionLog.objects.get(action="registry.profile_change_request").article == "B18"

    profiles.profile_change_approve(actor=city_admin, change=change, note="证书核对无误")
    me.refresh_from_db()
    change.refresh_from_db()
    assert me.title_level == "deputy_senior" and me.registrations == ["registered_planner"]
    assert change.status == ProfileChangeStatus.APPROVED and change.decided_by == city_admin
    event = DossierEvent.objects.get(planner=me, kind="profile_change_approved")
    assert event.article == "B18" and "副高级" in event.summary
    row = ActionLog.objects.get(action="registry.profile_change_approve")
    assert row.article == "B18" and row.after["title_level"] == "deputy_senior"
    note = Notification.objects.get(recipient=me.user)
    assert "已核准" in note.title


def test_a_rejected_change_is_not_applied_and_the_planner_is_told_why(me, city_admin):
    change = profiles.profile_update(actor=me.user, planner=me, proof=proof(), data={"experience_years": 12}).change
    with pytest.raises(DomainError) as refused:
        profiles.profile_change_reject(actor=city_admin, change=change, reason="")
    assert refused.value.code == "reason_required"
    profiles.profile_change_reject(actor=city_admin, change=change, reason="证明材料与申请不符")
    me.refresh_from_db()
    change.refresh_from_db()
    assert me.experience_years == 5
    assert change.status == ProfileChangeStatus.REJECTED and change.decision_note == "证明材料与申请不符"
    assert DossierEvent.objects.get(planner=me, kind="profile_change_rejected").article == "B18"
    assert ActionLog.objects.get(action="registry.profile_change_reject").after["reason"] == "证明材料与申请不符"
    note = Notification.objects.get(recipient=me.user)
    assert "未获核准" in note.title and "证明材料与申请不符" in note.body
    with pytest.raises(Conflict):
        profiles.profile_change_approve(actor=city_admin, change=change)


def test_pingdingshan_cites_p4(pingdingshan, pds_admin):
    planner = planner_build(pingdingshan, "平顶山资料测试", degree="bachelor", major_field="urban_rural_planning")
    change = profiles.profile_update(actor=planner.user, planner=planner, proof=proof(), data={"degree": "master"}).change
    assert change.article == "P4"
    profiles.profile_change_approve(actor=pds_admin, change=change)
    planner.refresh_from_db()
    assert planner.degree == "master"
    assert ActionLog.objects.get(action="registry.profile_change_approve").article == "P4"


def test_one_request_waits_at_a_time(me):
    profiles.profile_update(actor=me.user, planner=me, proof=proof(), data={"experience_years": 9})
    with pytest.raises(Conflict) as refused:
        profiles.profile_update(actor=me.user, planner=me, proof=proof(), data={"title_level": "senior"})
    assert refused.value.code == "change_pending"


def test_a_file_that_is_not_a_proof_is_refused_and_nothing_applies(me):
    fake = SimpleUploadedFile("证书.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    with pytest.raises(DomainError):
        profiles.profile_update(actor=me.user, planner=me, proof=fake, data={"title_level": "senior", "employer": "X院"})
    me.refresh_from_db()
    assert me.employer != "X院" and not ProfileChange.objects.exists()


def test_another_citys_administrator_cannot_verify(me, pds_admin, district_haidian):
    change = profiles.profile_update(actor=me.user, planner=me, proof=proof(), data={"experience_years": 9}).change
    with pytest.raises(NotFound):
        profiles.profile_change_approve(actor=pds_admin, change=change)
    with pytest.raises(Forbidden):
        profiles.profile_change_approve(actor=district_haidian, change=change)
    with pytest.raises(NotFound):
        profiles.profile_change_get(user=pds_admin, pk=change.pk)
    change.refresh_from_db()
    assert change.status == ProfileChangeStatus.PENDING


def test_the_pending_request_is_on_the_city_administrators_to_do(me, city_admin, pds_admin):
    from rpms.core.pending import pending_items

    profiles.profile_update(actor=me.user, planner=me, proof=proof(), data={"experience_years": 9})
    titles = {item.title: item for item in pending_items(city_admin)}
    assert titles["责任规划师资格信息变更待核实"].count == 1
    assert "最早提交于" in titles["责任规划师资格信息变更待核实"].due
    assert "责任规划师资格信息变更待核实" not in {item.title for item in pending_items(pds_admin)}


# --- pages ---------------------------------------------------------------------------------------------------


def test_the_profile_page_keeps_what_was_typed_when_refused(me, login):
    client = login(me.user)
    page = client.get("/pool/mine/profile/")
    assert page.status_code == 200 and "我的信息" in page.content.decode()
    response = client.post("/pool/mine/profile/", {"mobile": "13900000009", "employer": "保留的单位（虚构）",
                                                   "bio": "保留的简介", "title_level": "senior",
                                                   "title_field": "urban_rural_planning", "experience_years": "5",
                                                   "degree": "none", "registrations": ["registered_planner"]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "证明材料" in html and "保留的单位（虚构）" in html and "保留的简介" in html
    assert 'value="senior" selected' in html and 'value="registered_planner" checked' in html
    me.refresh_from_db()
    assert me.employer != "保留的单位（虚构）"


def test_the_profile_page_submits_a_change_with_proof_and_the_city_verifies_it_in_pages(me, login, city_admin):
    client = login(me.user)
    data = profiles.current_values(me)
    form = {k: v for k, v in data.items() if k not in profiles.LIST_FIELDS}
    form.update({"experience_years": "11", "specialties": data["specialties"], "proof": proof()})
    response = client.post("/pool/mine/profile/", form)
    assert response.status_code == 302
    change = ProfileChange.objects.get(planner=me)
    admin = login(city_admin)
    queue = admin.get("/pool/profile-changes/")
    assert queue.status_code == 200 and me.name in queue.content.decode()
    detail = admin.get(f"/pool/profile-changes/{change.pk}/")
    assert "按变更后的信息核对选聘条件" in detail.content.decode()
    assert admin.get(f"/pool/profile-changes/{change.pk}/proof/").status_code == 200
    refused = admin.post(f"/pool/profile-changes/{change.pk}/reject/", {"reason": "写下的理由"})
    assert refused.status_code == 400 and "写下的理由" in refused.content.decode()  # confirmation missing, kept
    done = admin.post(f"/pool/profile-changes/{change.pk}/approve/", {"confirm": "1"})
    assert done.status_code == 302
    me.refresh_from_db()
    assert me.experience_years == 11


def test_another_city_cannot_open_the_request_page(me, login, pds_admin):
    change = profiles.profile_update(actor=me.user, planner=me, proof=proof(), data={"experience_years": 9}).change
    assert login(pds_admin).get(f"/pool/profile-changes/{change.pk}/").status_code == 404


# --- API -----------------------------------------------------------------------------------------------------


def test_api_profile_patch_and_change_approval(me, client, bearer, city_admin, pds_admin):
    headers = bearer(me.user)
    got = client.get("/api/v1/planners/me/profile", **headers)
    assert got.status_code == 200 and "title_level" in got.json()["verified_fields"]
    patched = client.patch("/api/v1/planners/me/profile", data={"employer": "接口单位（虚构）"},
                           content_type="application/json", **headers)
    assert patched.status_code == 200 and patched.json()["applied"] == ["employer"]
    held = client.patch("/api/v1/planners/me/profile", data={"title_level": "senior"}, content_type="application/json",
                        **headers)
    assert held.status_code == 400 and held.json()["code"] == "proof_required"
    submitted = client.post("/api/v1/profile-changes", {"title_level": "senior", "proof": proof()}, **headers)
    assert submitted.status_code == 201
    change_id = submitted.json()["change"]["id"]
    listed = client.get("/api/v1/profile-changes?status=pending", **bearer(city_admin)).json()
    assert [c["id"] for c in listed["results"]] == [change_id]
    assert client.get("/api/v1/profile-changes?status=pending", **bearer(pds_admin)).json()["count"] == 0
    assert client.post(f"/api/v1/profile-changes/{change_id}/approve", data={}, content_type="application/json",
                       **bearer(pds_admin)).status_code == 404
    assert client.post(f"/api/v1/profile-changes/{change_id}/approve", data={}, content_type="application/json",
                       **headers).status_code == 403
    approved = client.post(f"/api/v1/profile-changes/{change_id}/approve", data={"note": "核对无误"},
                           content_type="application/json", **bearer(city_admin))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    me.refresh_from_db()
    assert me.title_level == "senior"


def test_api_reject_needs_a_reason(me, client, bearer, city_admin):
    change = profiles.profile_update(actor=me.user, planner=me, proof=proof(), data={"experience_years": 9}).change
    answer = client.post(f"/api/v1/profile-changes/{change.pk}/reject", data={"reason": ""},
                         content_type="application/json", **bearer(city_admin))
    assert answer.status_code == 400 and answer.json()["code"] == "reason_required"
    answer = client.post(f"/api/v1/profile-changes/{change.pk}/reject", data={"reason": "材料不清晰"},
                         content_type="application/json", **bearer(city_admin))
    assert answer.status_code == 200 and answer.json()["status"] == "rejected"


# --- teams ---------------------------------------------------------------------------------------------------


@pytest.fixture
def team(beijing):
    return planner_build(beijing, "街区更新团队（虚构）", kind=PlannerKind.TEAM, leader_name="甲负责人", members=[
        {"name": "甲负责人", "is_core": True}, {"name": "乙成员", "is_core": True}, {"name": "丙成员", "is_core": False},
    ])


def member(team, name):
    return TeamMember.objects.get(planner=team, name=name)


def test_the_leader_adds_and_removes_a_member_with_dossier_and_audit(team):
    leader = team.user
    row = services.team_member_add(actor=leader, planner=team, name="丁成员", specialty="architecture")
    assert row.pk and DossierEvent.objects.filter(planner=team, kind="member_added").exists()
    teams.team_member_remove(actor=leader, team=team, member_id=row.pk)
    assert not TeamMember.objects.filter(pk=row.pk).exists()
    event = DossierEvent.objects.get(planner=team, kind="member_removed")
    assert event.article == "B19(7)" and "丁成员" in event.summary
    assert ActionLog.objects.get(action="registry.team_member_remove").article == "B19(7)"


def test_the_leader_cannot_be_removed(team):
    with pytest.raises(Conflict) as refused:
        teams.team_member_remove(actor=team.user, team=team, member_id=member(team, "甲负责人").pk)
    assert refused.value.code == "leader_not_removable"


def test_core_status_cannot_exceed_the_cap(beijing, team):
    cap = beijing.policy.max_core_team_members
    for i in range(cap - 2):
        TeamMember.objects.create(planner=team, name=f"核心{i}", is_core=True, sort_order=10 + i)
    with pytest.raises(DomainError) as refused:
        teams.team_member_core_set(actor=team.user, team=team, member_id=member(team, "丙成员").pk, is_core=True)
    assert refused.value.code == "too_many_core_members" and f"不得超过 {cap} 人" in refused.value.message
    assert not member(team, "丙成员").is_core
    with pytest.raises(DomainError) as refused:
        services.team_member_add(actor=team.user, planner=team, name="再一名核心", is_core=True)
    assert refused.value.code in ("too_many_core_members", "limit_hint") or "不得超过" in refused.value.message
    assert not TeamMember.objects.filter(planner=team, name="再一名核心").exists()


def test_core_status_change_is_recorded(team):
    teams.team_member_core_set(actor=team.user, team=team, member_id=member(team, "丙成员").pk, is_core=True)
    assert member(team, "丙成员").is_core
    assert DossierEvent.objects.get(planner=team, kind="member_core_changed").article == "B19(7)"
    assert ActionLog.objects.get(action="registry.team_member_core_set").after == {"is_core": True}


def test_leader_change_moves_the_team_account_to_the_new_leader(beijing, team):
    old_leader = team.user
    newcomer = user_build("t_team_newcomer", "planner", beijing, display_name="乙成员")
    TeamMember.objects.filter(planner=team, name="乙成员").update(user=newcomer)
    teams.team_leader_change(actor=old_leader, team=team, member_id=member(team, "乙成员").pk)
    team.refresh_from_db()
    assert team.leader_name == "乙成员" and team.user == newcomer
    event = DossierEvent.objects.get(planner=team, kind="leader_changed")
    assert event.article == "B18" and "甲负责人" in event.summary and "乙成员" in event.summary
    assert ActionLog.objects.get(action="registry.team_leader_change").after["leader_name"] == "乙成员"
    # The former leader no longer manages the team.
    with pytest.raises(NotFound):
        teams.team_member_remove(actor=old_leader, team=team, member_id=member(team, "丙成员").pk)


def test_a_member_who_is_also_a_planner_gets_the_change_in_their_own_dossier(beijing, team, city_admin):
    own = planner_build(beijing, "丙成员")
    TeamMember.objects.filter(planner=team, name="丙成员").update(user=own.user)
    teams.team_member_core_set(actor=city_admin, team=team, member_id=member(team, "丙成员").pk, is_core=True)
    assert DossierEvent.objects.filter(planner=own, kind="member_core_changed").exists()


def test_a_planner_cannot_change_a_team_they_do_not_lead(beijing, team):
    outsider = planner_build(beijing, "局外规划师")
    with pytest.raises(NotFound):
        teams.team_member_remove(actor=outsider.user, team=team, member_id=member(team, "丙成员").pk)
    with pytest.raises(NotFound):
        services.team_member_add(actor=outsider.user, planner=team, name="冒名成员")
    joined = user_build("t_team_member_only", "planner", beijing)
    TeamMember.objects.filter(planner=team, name="丙成员").update(user=joined)
    with pytest.raises(Forbidden):  # a member sees the team but does not manage it
        teams.team_member_remove(actor=joined, team=team, member_id=member(team, "乙成员").pk)
    assert TeamMember.objects.filter(planner=team).count() == 3


def test_another_citys_administrator_cannot_change_the_team(team, pds_admin):
    with pytest.raises(NotFound):
        teams.team_leader_change(actor=pds_admin, team=team, member_id=member(team, "乙成员").pk)


def test_a_member_gets_their_own_account_through_an_invitation(beijing, pingdingshan, team):
    row, token = teams.team_member_invite(actor=team.user, team=team, member_id=member(team, "丙成员").pk)
    assert row.invite_digest and token not in row.invite_digest  # only the digest is stored
    elsewhere = user_build("t_team_pds", "planner", pingdingshan)
    with pytest.raises(Conflict):
        teams.team_member_join(actor=elsewhere, token=token)
    account = user_build("t_team_bing", "planner", beijing, display_name="丙成员")
    teams.team_member_join(actor=account, token=token)
    row.refresh_from_db()
    assert row.user == account and row.invite_digest == ""
    assert DossierEvent.objects.filter(planner=team, kind="member_account_linked").exists()
    assert ActionLog.objects.filter(action="registry.team_member_join").exists()
    assert teams.team_get(user=account, pk=team.pk) == team  # the member now sees the team
    with pytest.raises(NotFound):  # the link was used once
        teams.team_member_join(actor=account, token=token)


def test_team_api(beijing, team, client, bearer, pds_admin):
    headers = bearer(team.user)
    got = client.get(f"/api/v1/teams/{team.pk}", **headers)
    assert got.status_code == 200 and {m["name"] for m in got.json()["members"]} == {"甲负责人", "乙成员", "丙成员"}
    added = client.post(f"/api/v1/teams/{team.pk}/members", data={"name": "戊成员"}, content_type="application/json", **headers)
    assert added.status_code == 201
    mid = added.json()["id"]
    assert client.patch(f"/api/v1/teams/{team.pk}/members/{mid}", data={"is_core": True}, content_type="application/json",
                        **headers).json()["is_core"] is True
    invite = client.post(f"/api/v1/teams/{team.pk}/members/{mid}/invite", **headers)
    assert invite.status_code == 201 and "/pool/teams/join/" in invite.json()["url"]
    account = user_build("t_team_api_member", "planner", beijing, display_name="戊成员")
    joined = client.post("/api/v1/team-invitations/accept", data={"token": invite.json()["token"]},
                         content_type="application/json", **bearer(account))
    assert joined.status_code == 200 and TeamMember.objects.get(pk=mid).user == account
    assert client.get(f"/api/v1/teams/{team.pk}", **bearer(account)).status_code == 200
    assert client.delete(f"/api/v1/teams/{team.pk}/members/{mid}", **headers).status_code == 200
    assert client.get(f"/api/v1/teams/{team.pk}", **bearer(pds_admin)).status_code == 404
    moved = client.patch(f"/api/v1/teams/{team.pk}", data={"leader_member": member(team, "乙成员").pk},
                         content_type="application/json", **headers)
    assert moved.status_code == 200 and moved.json()["leader_name"] == "乙成员"


def test_team_page_and_refusal_keeps_the_typed_member(beijing, team, login):
    client = login(team.user)
    page = client.get(f"/pool/teams/{team.pk}/")
    assert page.status_code == 200 and "变更团队负责人" in page.content.decode()
    refused = client.post(f"/pool/teams/{team.pk}/members/", {"name": "键入的成员", "specialty": "no_such_field"})
    assert refused.status_code == 400 and "键入的成员" in refused.content.decode()
    removed = client.post(f"/pool/teams/{team.pk}/members/{member(team, '丙成员').pk}/remove/", {"confirm": "1"})
    assert removed.status_code == 302 and not TeamMember.objects.filter(planner=team, name="丙成员").exists()
    invite = client.post(f"/pool/teams/{team.pk}/members/{member(team, '乙成员').pk}/invite/")
    assert invite.status_code == 200 and "/pool/teams/join/" in invite.content.decode()


def test_the_profile_page_needs_a_linked_record(login, city_admin):
    assert login(city_admin).get("/pool/mine/profile/").status_code == 404


def test_planner_login_helper_links_an_account(beijing):
    record = Planner.objects.create(city=beijing, name="无账户规划师", is_fictional=True)
    user = planner_login(record)
    assert profiles.my_planner(user) == record


def test_a_member_with_an_account_sees_the_team_page_without_its_management_or_dossier_link(beijing, team, login):
    account = user_build("t_team_page_member", "planner", beijing, display_name="丙成员")
    TeamMember.objects.filter(planner=team, name="丙成员").update(user=account)
    page = login(account).get(f"/pool/teams/{team.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "丙成员" in html
    assert "变更团队负责人" not in html and f"/pool/{team.pk}/\"" not in html
    leader_page = login(team.user).get(f"/pool/teams/{team.pk}/").content.decode()
    assert f'href="/pool/{team.pk}/"' in leader_page
    assert login(account).post(f"/pool/teams/{team.pk}/members/{member(team, '乙成员').pk}/remove/",
                               {"confirm": "1"}).status_code == 403
    assert TeamMember.objects.filter(planner=team, name="乙成员").exists()
