"""A team keeps its membership current (issue #17 item 8; B18 a team and its leader, B19(7) / P4 its core members).

The team's leader (the account linked to the team's record) or the city administrator adds and removes members,
changes a member's core status and hands the leadership to another member; the core-member cap of the city's
policy (B19(7): "原则上不超过8人") holds after every change — a change that would break it is refused in Chinese
(adding a core member beyond an in-principle cap may still carry an exception: `services.team_member_add`).

Members may have their own accounts, made the way every planner's account is made (self-registration): the
leader or the city administrator makes a one-time invitation link for a member (7 days; only its SHA-256 digest
is stored), and the member, signed in with their own planner account of the same city, accepts it — the
account is then linked to the member's row. A member signed in sees the team's page.

Each change writes a dossier row on the team's record and on the affected member's own record (where the
member's account is linked to one in the city), and one audit row citing the article."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction

from rpms.accounts.models import Role
from rpms.cities.articles import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound

from .dossier import dossier_event_record
from .models import DossierEventKind, Planner, PlannerKind, TeamMember
from .selectors import can_manage_team, can_read_team, is_leader, require_team_manager  # noqa: F401  (re-exported)

INVITE_DAYS = 7


def team_get(*, user, pk) -> Planner:
    """A team the user may see (its leader, its members with an account, the city's administrators and auditors)."""
    try:
        team = (Planner.objects.select_related("city__policy", "user").filter(pk=int(pk), kind=PlannerKind.TEAM).first())
    except (TypeError, ValueError):
        team = None
    if team is None or not can_read_team(user, team):
        raise NotFound()
    return team


def teams_of(user) -> list[Planner]:
    """The teams the user leads or belongs to (for their profile page)."""
    if not getattr(user, "is_authenticated", False):
        return []
    led = Planner.objects.filter(kind=PlannerKind.TEAM, user=user)
    member_of = Planner.objects.filter(kind=PlannerKind.TEAM, members__user=user)
    return list((led | member_of).distinct().select_related("city").order_by("name", "id"))


def member_rows(team: Planner) -> list[TeamMember]:
    return list(team.members.select_related("user").order_by("sort_order", "id"))


def _lock(team: Planner) -> Planner:
    return Planner.objects.select_for_update(of=("self",)).select_related("city__policy").get(pk=team.pk)


def _member(team: Planner, member_id) -> TeamMember:
    try:
        member = TeamMember.objects.select_related("user").filter(planner=team, pk=int(member_id)).first()
    except (TypeError, ValueError):
        member = None
    if member is None:
        raise NotFound("该团队没有这名成员。")
    return member


def _own_record(team: Planner, user) -> Planner | None:
    """The member's own record in the city's registry (an individual planner), where the account is linked to one."""
    if user is None:
        return None
    return Planner.objects.filter(city=team.city, user=user).exclude(pk=team.pk).first()


def _record(*, actor, team: Planner, kind: str, article: str, summary: str, users=(), data=None) -> None:
    """The dossier rows of one team change: the team's, and each affected member's own record."""
    dossier_event_record(planner=team, kind=kind, article=article, actor=actor, summary=summary, data=data or {})
    for user in users:
        own = _own_record(team, user)
        if own is not None:
            dossier_event_record(planner=own, kind=kind, article=article, actor=actor,
                                 summary=f"{team.name}：{summary}", data={**(data or {}), "team": team.pk})


def _is_leader_row(team: Planner, member: TeamMember) -> bool:
    if team.user_id and member.user_id == team.user_id:
        return True
    return bool(team.leader_name) and member.name == team.leader_name and not (team.user_id and member.user_id)


@transaction.atomic
def team_member_remove(*, actor, team: Planner, member_id) -> Planner:
    """Removes a member (not the leader: hand the leadership over first). The row goes; the dossier keeps it."""
    team = _lock(team)
    require_team_manager(actor, team)
    member = _member(team, member_id)
    if _is_leader_row(team, member):
        raise Conflict(f"{member.name}是团队负责人，不能移除；请先将负责人变更为其他成员。", code="leader_not_removable")
    article = policy_article(team.city, "team_core_cap")
    snapshot = {"name": member.name, "specialty": member.specialty, "is_core": member.is_core, "user": member.user_id}
    user = member.user
    member.delete()
    _record(actor=actor, team=team, kind=DossierEventKind.MEMBER_REMOVED, article=article, users=[user] if user else [],
            summary=f"移除团队成员 {snapshot['name']}" + ("（核心成员）" if snapshot["is_core"] else ""), data=snapshot)
    audit_log(actor=actor, action="registry.team_member_remove", obj=team, before=snapshot, after=None, article=article,
              summary=f"{team.name} 移除团队成员 {snapshot['name']}"[:255])
    return team


@transaction.atomic
def team_member_core_set(*, actor, team: Planner, member_id, is_core: bool) -> TeamMember:
    """Makes a member core or not; the policy's core-member cap (B19(7)) holds after the change."""
    from .services import core_member_cap_check

    team = _lock(team)
    require_team_manager(actor, team)
    member = _member(team, member_id)
    is_core = bool(is_core)
    if member.is_core == is_core:
        raise DomainError(f"{member.name}已{'是' if is_core else '不是'}核心成员，无需调整。", code="no_change")
    members = [{"is_core": (is_core if m.pk == member.pk else m.is_core)} for m in team.members.all()]
    core_member_cap_check(policy=team.city.policy, members=members)
    member.is_core = is_core
    member.full_clean()
    member.save(update_fields=["is_core"])
    article = policy_article(team.city, "team_core_cap")
    text = f"{member.name}{'列为核心成员' if is_core else '不再列为核心成员'}"
    _record(actor=actor, team=team, kind=DossierEventKind.MEMBER_CORE_CHANGED, article=article,
            users=[member.user] if member.user_id else [], summary=text,
            data={"member": member.pk, "name": member.name, "is_core": is_core})
    audit_log(actor=actor, action="registry.team_member_core_set", obj=member, object_repr=f"{team.name}：{member.name}",
              before={"is_core": not is_core}, after={"is_core": is_core}, article=article,
              summary=f"{team.name}：{text}"[:255], city_code=team.city.code)
    return member


@transaction.atomic
def team_leader_change(*, actor, team: Planner, member_id) -> Planner:
    """Hands the team's leadership to one of its members (B18: the leader is who the eligibility rules read).
    The team's login account follows: it becomes the new leader's account where the member has one not linked
    to another record; otherwise the team has no account until the new leader accepts an invitation."""
    from .profiles import eligibility_article

    team = _lock(team)
    require_team_manager(actor, team)
    member = _member(team, member_id)
    if _is_leader_row(team, member):
        raise Conflict(f"{member.name}已是团队负责人。", code="already_leader")
    before = {"leader_name": team.leader_name, "user": team.user_id}
    new_user = member.user
    if new_user is not None and Planner.objects.filter(user=new_user).exclude(pk=team.pk).exists():
        new_user = None  # the member's account already serves their own record (one record per account)
    old_user = team.user
    team.leader_name = member.name
    team.user = new_user
    team.full_clean()
    team.save(update_fields=["leader_name", "user", "updated_at"])
    article = eligibility_article(team.city)
    summary = f"团队负责人由{before['leader_name'] or '（未登记）'}变更为{member.name}"
    if new_user is None:
        summary += "（新负责人接受邀请、关联账户后方可登录办理团队事务）"
    users = [u for u in (member.user, old_user) if u is not None]
    _record(actor=actor, team=team, kind=DossierEventKind.LEADER_CHANGED, article=article, users=users, summary=summary,
            data={"member": member.pk, "before": before["leader_name"], "after": member.name})
    audit_log(actor=actor, action="registry.team_leader_change", obj=team, before=before,
              after={"leader_name": team.leader_name, "user": team.user_id}, article=article, summary=f"{team.name}：{summary}"[:255])
    return team


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def team_member_invite(*, actor, team: Planner, member_id) -> tuple[TeamMember, str]:
    """A one-time link for a member to link their own account (valid INVITE_DAYS days). Returns (member, token):
    the token is shown once and only its digest is kept; a new invitation replaces the previous one."""
    team = _lock(team)
    require_team_manager(actor, team)
    member = _member(team, member_id)
    if member.user_id is not None:
        raise Conflict(f"{member.name}已关联登录账户。", code="account_already_linked")
    token = secrets.token_urlsafe(32)
    member.invite_digest = _digest(token)
    member.invite_expires_at = clock.now() + timedelta(days=INVITE_DAYS)
    member.save(update_fields=["invite_digest", "invite_expires_at"])
    audit_log(actor=actor, action="registry.team_member_invite", obj=member, object_repr=f"{team.name}：{member.name}",
              after={"expires_at": member.invite_expires_at}, article=policy_article(team.city, "team_core_cap"),
              summary=f"{team.name}：为成员{member.name}生成账户关联邀请", city_code=team.city.code)
    return member, token


def invitation_get(token: str) -> TeamMember:
    """The member row a valid invitation link is for; an unknown, used or expired link: 404 in Chinese."""
    token = (token or "").strip()
    member = None
    if 20 <= len(token) <= 100:
        member = (TeamMember.objects.select_related("planner__city", "planner__user")
                  .filter(invite_digest=_digest(token), planner__isnull=False).first())
    if member is None or member.invite_expires_at is None or member.invite_expires_at <= clock.now():
        raise NotFound("邀请链接无效或已过期，请联系团队负责人重新生成。", code="invitation_invalid")
    return member


@transaction.atomic
def team_member_join(*, actor, token: str) -> TeamMember:
    """The invited member, signed in with their own planner account of the team's city, links it to their row."""
    if not getattr(actor, "is_authenticated", False) or actor.role != Role.PLANNER:
        raise Forbidden("请使用责任规划师账户登录后接受邀请；尚无账户的请先注册。")
    member = invitation_get(token)
    member = TeamMember.objects.select_for_update(of=("self",)).select_related("planner__city", "planner__user").get(pk=member.pk)
    team = member.planner
    if member.user_id is not None:
        raise Conflict(f"{member.name}已关联登录账户。", code="account_already_linked")
    if actor.city_id != team.city_id:
        raise Conflict(f"该团队属于{team.city.name}，请使用{team.city.name}的责任规划师账户接受邀请。", code="wrong_city")
    if team.members.filter(user=actor).exists() or team.user_id == actor.pk:
        raise Conflict("您的账户已关联该团队。", code="already_member")
    member.user = actor
    member.invite_digest = ""
    member.invite_expires_at = None
    member.save(update_fields=["user", "invite_digest", "invite_expires_at"])
    article = policy_article(team.city, "team_core_cap")
    _record(actor=actor, team=team, kind=DossierEventKind.MEMBER_ACCOUNT_LINKED, article=article, users=[actor],
            summary=f"团队成员{member.name}关联本人登录账户", data={"member": member.pk})
    audit_log(actor=actor, action="registry.team_member_join", obj=member, object_repr=f"{team.name}：{member.name}",
              after={"user": actor.pk}, article=article, summary=f"{team.name}：成员{member.name}关联登录账户",
              city_code=team.city.code)
    return member


def team_json(team: Planner, user=None) -> dict:
    policy = team.city.policy
    members = member_rows(team)
    return {
        "id": team.pk,
        "name": team.name,
        "city": team.city.code,
        "leader_name": team.leader_name,
        "has_account": team.user_id is not None,
        "core_members": sum(1 for m in members if m.is_core),
        "core_cap": policy.max_core_team_members,
        "can_manage": can_manage_team(user, team) if user is not None else False,
        "members": [{"id": m.pk, "name": m.name, "specialty": m.specialty,
                     "specialty_label": policy.specialty_label(m.specialty) if m.specialty else "",
                     "is_core": m.is_core, "is_leader": _is_leader_row(team, m), "has_account": m.user_id is not None}
                    for m in members],
    }
