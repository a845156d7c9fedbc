"""Registry services: removal on a policy ground (P5(4)), direct commission (B19(1)), team
members and the core-member cap (B19(7)), a planner's request to leave; audit and dossier rows."""
import pytest

from rpms.core.errors import Conflict, DomainError
from rpms.core.models import ActionLog
from rpms.registry import services
from rpms.registry.models import DossierEvent, Planner, PoolStatus, TeamMember
from rpms.registry.selectors import dispatchable_planners, pending_leave_requests

from .factories import fictional_id_number, pool_member

pytestmark = pytest.mark.django_db


def test_removal_on_a_policy_ground_takes_effect_at_once(pingdingshan, pds_admin):
    planner = pool_member(pingdingshan, "待调出者")
    assert planner in dispatchable_planners(city=pingdingshan)
    services.planner_remove(actor=pds_admin, planner=planner, ground="refusal_to_serve", note="连续半年未参与服务")
    planner.refresh_from_db()
    assert planner.pool_status == PoolStatus.REMOVED and planner.removed_at is not None
    assert planner.removal_ground == "refusal_to_serve" and planner.removal_note == "连续半年未参与服务"
    assert planner not in dispatchable_planners(city=pingdingshan)
    event = DossierEvent.objects.get(planner=planner, kind="removed")
    assert event.article == "P5(4)3" and "无正当理由长期拒绝服务" in event.summary
    row = ActionLog.objects.get(action="registry.planner_remove")
    assert row.article == "P5(4)3" and row.before["pool_status"] == "active" and row.after["pool_status"] == "removed"


def test_the_ground_article_comes_from_the_citys_policy(beijing, city_admin):
    planner = pool_member(beijing, "北京调出者")
    services.planner_remove(actor=city_admin, planner=planner, ground="violation")
    assert DossierEvent.objects.get(planner=planner, kind="removed").article == "B16、B17"


def test_an_unknown_ground_is_refused_and_nothing_changes(pingdingshan, pds_admin):
    planner = pool_member(pingdingshan, "在库者")
    with pytest.raises(DomainError) as refused:
        services.planner_remove(actor=pds_admin, planner=planner, ground="disliked")
    assert refused.value.status == 400 and refused.value.code == "unknown_ground"
    assert "disliked" in refused.value.message and "voluntary_withdrawal" in refused.value.message
    planner.refresh_from_db()
    assert planner.pool_status == PoolStatus.ACTIVE
    assert not DossierEvent.objects.filter(kind="removed").exists()
    assert not ActionLog.objects.filter(action="registry.planner_remove").exists()


def test_removing_someone_not_in_the_pool_is_a_conflict(pingdingshan, pds_admin):
    planner = pool_member(pingdingshan, "已调出者", status=PoolStatus.REMOVED)
    with pytest.raises(Conflict):
        services.planner_remove(actor=pds_admin, planner=planner, ground="violation")


def test_only_the_planner_asks_to_leave_and_another_planners_record_is_not_revealed(pingdingshan, pds_admin, city_admin):
    """The service checks its actor itself (#14): another planner or another city's administrator → 404
    (the record lies outside their scope); the city's own administrator → 403 (in scope, not their act)."""
    from rpms.accounts.models import Role, User
    from rpms.core.errors import Forbidden, NotFound

    owner = User.objects.create_user(username="stayer", password="x-Pass-2026!", role=Role.PLANNER, city=pingdingshan)
    other = User.objects.create_user(username="meddler", password="x-Pass-2026!", role=Role.PLANNER, city=pingdingshan)
    planner = pool_member(pingdingshan, "被代申请者")
    services.planner_link_user(actor=None, planner=planner, user=owner)
    for outsider in (other, city_admin):
        with pytest.raises(NotFound):
            services.planner_leave_request(actor=outsider, planner=planner, note="代为申请")
    with pytest.raises(Forbidden):
        services.planner_leave_request(actor=pds_admin, planner=planner, note="代为申请")
    assert not planner.events.filter(kind="leave_requested").exists()
    assert not ActionLog.objects.filter(action="registry.planner_leave_request").exists()


def test_a_planner_asks_to_leave_and_is_removed_on_ground_four(pingdingshan, pds_admin):
    from rpms.accounts.models import Role, User

    user = User.objects.create_user(username="leaver", password="x-Pass-2026!", role=Role.PLANNER, city=pingdingshan)
    planner = pool_member(pingdingshan, "想退出者")
    services.planner_link_user(actor=None, planner=planner, user=user)
    Planner.objects.filter(pk=planner.pk).update(admitted_at=planner.created_at)
    planner.refresh_from_db()
    services.planner_leave_request(actor=user, planner=planner, note="工作调动")
    assert planner.pk in pending_leave_requests(city=pingdingshan)
    with pytest.raises(Conflict):
        services.planner_leave_request(actor=user, planner=planner, note="再次申请")
    services.planner_remove(actor=pds_admin, planner=planner, ground="voluntary_withdrawal", note="本人申请")
    kinds = list(planner.events.values_list("kind", "article"))
    assert kinds == [("leave_requested", "P5(4)4"), ("removed", "P5(4)4")]


def test_direct_commission_in_beijing_records_its_reason(beijing, city_admin, haidian):
    planner = services.planner_commission(
        actor=city_admin, city=beijing, reason="街道急需历史文化保护专业力量", name="定向委托人",
        id_number=fictional_id_number(5), mobile="13600000005", employer="虚构大学", title_level="senior",
        title_field="architecture", experience_years=20, specialties=["historic_conservation"],
        familiar_districts=[haidian], declarations=["familiarity", "commitment"],  # B18 checked (issue #12)
    )
    assert planner.pool_status == PoolStatus.ACTIVE and planner.source == "commission" and planner.admitted_at
    [event] = planner.events.all()
    assert event.kind == "commissioned" and event.article == "B19(1)" and "街道急需历史文化保护专业力量" in event.summary
    row = ActionLog.objects.get(action="registry.planner_commission")
    assert row.article == "B19(1)" and row.after["reason"] == "街道急需历史文化保护专业力量"


def test_direct_commission_needs_a_reason(beijing, city_admin):
    with pytest.raises(DomainError) as refused:
        services.planner_commission(actor=city_admin, city=beijing, reason=" ", name="无理由")
    assert refused.value.code == "reason_required"
    assert not Planner.objects.exists()


def test_a_city_whose_pool_requires_a_notice_cannot_commission(pingdingshan, pds_admin):
    with pytest.raises(Conflict) as refused:
        services.planner_commission(actor=pds_admin, city=pingdingshan, reason="急需", name="跳过公示者")
    assert refused.value.code == "commission_not_allowed" and "公示" in refused.value.message
    assert not Planner.objects.exists()


def test_a_commissioned_team_keeps_at_most_eight_core_members(beijing, city_admin):
    members = [{"name": f"成员{i}", "specialty": "landscape", "is_core": True} for i in range(9)]
    with pytest.raises(DomainError) as refused:
        services.planner_commission(actor=city_admin, city=beijing, reason="团队委托", name="大团队", kind="team",
                                    members=members)
    assert refused.value.code == "too_many_core_members"
    assert not Planner.objects.exists() and not TeamMember.objects.exists()
    team = services.planner_commission(actor=city_admin, city=beijing, reason="团队委托", name="大团队", kind="team",
                                       members=members[:8], registrations=["registered_planner"], experience_years=10,
                                       declarations=["familiarity", "commitment"])  # the leader meets B18
    assert team.members.filter(is_core=True).count() == 8
    services.team_member_add(actor=city_admin, planner=team, name="一般成员", specialty="", is_core=False)
    with pytest.raises(DomainError) as ninth:
        services.team_member_add(actor=city_admin, planner=team, name="第九名核心", specialty="", is_core=True)
    assert ninth.value.code == "too_many_core_members"
    assert team.members.count() == 9 and team.members.filter(is_core=True).count() == 8
    assert ActionLog.objects.filter(action="registry.team_member_add").count() == 1


def test_commission_refuses_an_invalid_id_number(beijing, city_admin):
    with pytest.raises(DomainError) as refused:
        services.planner_commission(actor=city_admin, city=beijing, reason="委托", name="某人", id_number="110108198001010000")
    assert refused.value.code == "invalid_id_number"
