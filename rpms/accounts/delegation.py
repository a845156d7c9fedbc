"""Delegation (工作委托, issue #17 item 7): an officer names a colleague to act for them for a period.

- Who: a district officer names another district officer, a hiring-entity user another hiring-entity user,
  both active and of the same city. A district officer's colleague may be of ANY district of the city (a
  neighbouring district's officer often covers a leave; the city administrator sees every delegation of the
  city and may revoke it). Not oneself; delegation is not passed on (a delegate acts with the delegator's
  OWN scope, never with what was delegated to the delegator).
- When: from `starts_on` to `ends_on` inclusive, local dates (rpms.core.clock): not starting in the past, at most
  DELEGATION_MAX_DAYS long; one delegator has at most one delegation at a time (no overlapping periods).
- What follows: the delegate's scope — hence its records, permissions and to-do list — is its own plus the
  delegator's during the period (rpms.accounts.scope_fields, the one place); every act the delegate does in
  that period is audited with the delegator named (`on_behalf_of` in the row's after, "代…办理" in its summary;
  `audit_note` below, registered into rpms.core.audit).
- Revoking: the delegator or the city administrator of the city, before the end.
Every act is one transaction with one audit row citing the article of the delegator's team."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q

from rpms.core import clock, pubcache
from rpms.core.audit import audit_log
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound

from .city_accounts import CITY_MANAGED_ROLES, account_article, is_city_account_manager
from .models import Delegation, Role, User

DELEGATION_MAX_DAYS = 366
REASON_MAX = 200


def can_delegate(user) -> bool:
    return (bool(getattr(user, "is_authenticated", False)) and user.is_active and user.role in CITY_MANAGED_ROLES
            and user.city_id is not None)


def may_use_delegations(user) -> bool:
    """Who sees the delegation pages: officers (their own) and city administrators (their city's)."""
    return can_delegate(user) or is_city_account_manager(user)


# --- reads ----------------------------------------------------------------------------------------------------------

def delegation_list(*, actor):
    """Officers: the delegations they gave or received; city administrator: every delegation of its city."""
    if not may_use_delegations(actor):
        raise Forbidden("只有区级工作人员、聘任主体和市级管理员可以查看工作委托。")
    rows = Delegation.objects.select_related("delegator", "delegate", "created_by", "revoked_by")
    if actor.role == Role.CITY_ADMIN:
        rows = rows.filter(delegator__city_id=actor.city_id)
    else:
        rows = rows.filter(Q(delegator=actor) | Q(delegate=actor))
    return rows.order_by("-starts_on", "-id")


def delegation_get(*, actor, pk) -> Delegation:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("工作委托不存在。") from None
    found = delegation_list(actor=actor).filter(pk=pk).first()
    if found is None:
        raise NotFound("工作委托不存在。")
    return found


def colleagues(actor):
    """Whom `actor` may name: active accounts of its role and city, itself excepted."""
    if not can_delegate(actor):
        return User.objects.none()
    return User.objects.filter(city_id=actor.city_id, role=actor.role, is_active=True).exclude(pk=actor.pk).order_by(
        "display_name", "username")


def delegators_of(user, today=None) -> list[User]:
    """The accounts that delegate to `user` today (active delegations), for notes and the home page."""
    if getattr(user, "role", "") not in CITY_MANAGED_ROLES or not getattr(user, "is_authenticated", False):
        return []
    today = today or clock.today()
    return list(User.objects.filter(
        delegations_given__delegate=user, delegations_given__revoked_at__isnull=True,
        delegations_given__starts_on__lte=today, delegations_given__ends_on__gte=today,
        is_active=True, role=user.role).distinct().prefetch_related("districts", "subdistricts"))


def delegates_today(users, today=None) -> dict[int, list[User]]:
    """Delegator id → its active delegates acting for it today (same role, active accounts), in one query: the
    people a message for `users` must reach too, since their records and to-do follow the delegate."""
    ids = [u.pk for u in users if getattr(u, "role", "") in CITY_MANAGED_ROLES]
    if not ids:
        return {}
    today = today or clock.today()
    rows = (Delegation.objects.filter(
        delegator_id__in=ids, revoked_at__isnull=True, starts_on__lte=today, ends_on__gte=today,
        delegator__is_active=True, delegate__is_active=True)
        .select_related("delegate", "delegator").order_by("delegate_id"))
    result: dict[int, list[User]] = {}
    for row in rows:
        if row.delegate.role == row.delegator.role:
            result.setdefault(row.delegator_id, []).append(row.delegate)
    return result


def with_delegates(users) -> list[User]:
    """`users` and, after them, the colleagues acting for any of them today (each once)."""
    users = list(users)
    seen = {u.pk for u in users}
    for delegates in delegates_today(users).values():
        for delegate in delegates:
            if delegate.pk not in seen:
                seen.add(delegate.pk)
                users.append(delegate)
    return users


def scope_changed(city_id) -> None:
    """A delegation began, ended early or was planned: what is cached per officer of the city is stale (the
    duty summaries, keyed by officer and day; rpms.duties.selectors.summary_cache_scope)."""
    pubcache.bump(f"duties:{city_id}")


# --- acts ------------------------------------------------------------------------------------------------------------

def _date(value, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise DomainError(f"请填写有效的{label}（格式如 2026-03-01）。", code="invalid_date") from None


@transaction.atomic
def delegation_create(*, actor, delegate, starts_on, ends_on, reason: str) -> Delegation:
    """`actor` (a district officer or hiring-entity user) names `delegate` to act for it from `starts_on` to
    `ends_on`."""
    if not can_delegate(actor):
        raise Forbidden("只有区级工作人员和聘任主体可以委托同事代为办理。")
    starts_on, ends_on = _date(starts_on, "开始日期"), _date(ends_on, "结束日期")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写委托事由。", code="reason_required")
    if len(reason) > REASON_MAX:
        raise DomainError(f"委托事由不能超过 {REASON_MAX} 个字符。", code="reason_required")
    pk = getattr(delegate, "pk", delegate)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise DomainError("请选择代理人。", code="delegate_required") from None
    if pk == actor.pk:
        raise DomainError("不能委托给自己，请选择一位同事。", code="delegate_self")
    delegate = User.objects.filter(pk=pk).first()
    if delegate is None or delegate.city_id != actor.city_id:
        raise DomainError("代理人须是本市的同事。", code="delegate_other_city")
    if delegate.role != actor.role:
        raise DomainError(f"代理人须与您同为{Role(actor.role).label}。", code="delegate_other_role")
    if not delegate.is_active:
        raise DomainError("代理人的账户已停用。", code="delegate_inactive")
    today = clock.today()
    if ends_on < starts_on:
        raise DomainError("结束日期不能早于开始日期。", code="invalid_period")
    if ends_on < today:
        raise DomainError("结束日期已过，不能设置已经结束的委托。", code="period_past")
    if starts_on < today:
        raise DomainError("开始日期不能早于今天。", code="period_past")
    if (ends_on - starts_on).days + 1 > DELEGATION_MAX_DAYS:
        raise DomainError(f"一次委托最长 {DELEGATION_MAX_DAYS} 天，请缩短期限。", code="period_too_long")
    # One delegation of a delegator at a time (locked so that two concurrent requests cannot both pass).
    User.objects.select_for_update(no_key=True).filter(pk=actor.pk).first()
    clash = Delegation.objects.filter(delegator=actor, revoked_at__isnull=True, starts_on__lte=ends_on,
                                      ends_on__gte=starts_on).select_related("delegate").first()
    if clash is not None:
        raise Conflict(f"与已有委托（{clash.delegate}，{clash.starts_on:%Y-%m-%d} 至 {clash.ends_on:%Y-%m-%d}）"
                       "时间重叠，请先撤销该委托或调整日期。", code="period_overlaps")
    delegation = Delegation(delegator=actor, delegate=delegate, starts_on=starts_on, ends_on=ends_on, reason=reason,
                            created_by=actor, created_at=clock.now())
    delegation.full_clean()
    delegation.save()
    scope_changed(actor.city_id)
    audit_log(actor=actor, action="accounts.delegation_create", obj=delegation, city_code=actor.city.code,
              article=account_article(actor.city, actor.role),
              after={"delegator": actor.username, "delegate": delegate.username, "starts_on": starts_on,
                     "ends_on": ends_on, "reason": reason},
              summary=f"委托{delegate}代为办理（{starts_on:%Y-%m-%d} 至 {ends_on:%Y-%m-%d}）")
    return delegation


@transaction.atomic
def delegation_revoke(*, actor, delegation) -> Delegation:
    """The delegator or the city administrator of the city ends a delegation before its end."""
    pk = getattr(delegation, "pk", delegation)
    found = Delegation.objects.select_for_update(no_key=True).filter(pk=pk).first()
    visible = found is not None and may_use_delegations(actor) and (
        found.delegator_id == actor.pk or found.delegate_id == actor.pk
        or (actor.role == Role.CITY_ADMIN and found.delegator.city_id == actor.city_id))
    if not visible:
        raise NotFound("工作委托不存在。")
    if found.delegator_id != actor.pk and not is_city_account_manager(actor):
        raise Forbidden("只有委托人本人或市级管理员可以撤销委托。")
    status = found.status()
    if status == "revoked":
        raise Conflict("该委托已经撤销。", code="already_revoked")
    if status == "ended":
        raise Conflict("该委托已经结束，无需撤销。", code="already_ended")
    found.revoked_at = clock.now()
    found.revoked_by = actor
    found.save(update_fields=["revoked_at", "revoked_by"])
    delegator = found.delegator
    scope_changed(delegator.city_id)
    audit_log(actor=actor, action="accounts.delegation_revoke", obj=found, city_code=delegator.city.code,
              article=account_article(delegator.city, delegator.role),
              before={"status": status}, after={"status": "revoked", "revoked_at": found.revoked_at},
              summary=f"撤销委托：{delegator}委托{found.delegate}")
    return found


# --- the audit note: acts done as a delegate -------------------------------------------------------------------------

def _districts_of(obj) -> set[int] | None:
    """The district(s) a record lies in, when the record says so (district, unit, subdistrict); None if not."""
    if obj is None:
        return None
    for path in ("district_id", "unit.district_id", "subdistrict.district_id", "appointment.unit.district_id",
                 "request.unit.district_id"):
        value = obj
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except Exception:  # noqa: BLE001 - a record without that path
            continue
        if isinstance(value, int):
            return {value}
    return None


def audit_note(*, actor, obj) -> dict | None:
    """For rpms.core.audit: when `actor` holds delegations today, the delegators its act is done for — those
    whose scope holds the record's district and the actor's own scope does not; every active delegator when
    the record does not say its district (the act may be theirs). None otherwise (no note)."""
    delegators = delegators_of(actor)
    if not delegators:
        return None
    if obj is not None and obj._meta.label_lower in ("accounts.delegation", "accounts.user"):
        return None  # acts on delegations and accounts are the actor's own
    districts = _districts_of(obj)
    if districts is not None:
        if actor.role == Role.DISTRICT_OFFICER:
            own = set(actor.districts.own().values_list("pk", flat=True))
            if districts <= own:
                return None
            on_behalf = [d for d in delegators if districts & {x.pk for x in d.districts.all()}]
        else:
            own = set(actor.subdistricts.own().values_list("district_id", flat=True))
            if districts <= own:
                return None
            on_behalf = [d for d in delegators if districts & {s.district_id for s in d.subdistricts.all()}]
        if not on_behalf:
            return None
    else:
        on_behalf = delegators
    return {"on_behalf_of": [{"id": d.pk, "username": d.username, "name": str(d)} for d in on_behalf],
            "names": "、".join(str(d) for d in on_behalf)}


# --- the to-do line of a delegate -------------------------------------------------------------------------------------

def pending_items(user) -> list:
    """On a delegate's home page, first among its to-do lines: for whom it acts today and until when (the
    delegators' own to-do lines follow through the scope)."""
    from django.urls import reverse

    from rpms.core.pending import PendingItem

    if getattr(user, "role", "") not in CITY_MANAGED_ROLES or not getattr(user, "is_authenticated", False):
        return []
    today = clock.today()
    rows = Delegation.objects.filter(delegate=user, revoked_at__isnull=True, starts_on__lte=today, ends_on__gte=today,
                                     delegator__is_active=True, delegator__role=user.role).select_related("delegator")
    return [PendingItem(title=f"代{d.delegator}办理（{d.reason}）", url=reverse("accounts:delegation_list"),
                        due=f"委托至 {d.ends_on:%Y-%m-%d}") for d in rows.order_by("ends_on", "pk")]
