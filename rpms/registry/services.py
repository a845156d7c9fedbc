"""Registry writes. Issue #3 adds applications, admission and removal; this holds the basic
creation of a planner record (used by demo data and by admission)."""
from django.db import transaction

from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import DomainError

from .models import Planner


@transaction.atomic
def planner_create(*, actor, city, name: str, familiar_districts=(), article: str = "", summary: str = "", **fields) -> Planner:
    specialties = fields.get("specialties", [])
    known = {s["code"] for s in city.policy.specialties}
    unknown = [s for s in specialties if s not in known]
    if unknown:
        raise DomainError(f"未知的专业领域：{'、'.join(unknown)}", code="unknown_specialty")
    planner = Planner(city=city, name=name, **fields)
    planner.full_clean()
    planner.save()
    if familiar_districts:
        planner.familiar_districts.set(familiar_districts)
    audit_log(
        actor=actor, action="registry.planner_create", obj=planner, after=snapshot(planner),
        article=article, summary=summary or f"登记责任规划师 {name}",
    )
    return planner


@transaction.atomic
def planner_link_user(*, actor, planner: Planner, user) -> Planner:
    """Links a planner record to the login account the planner uses."""
    if Planner.objects.filter(user=user).exclude(pk=planner.pk).exists():
        raise DomainError("该账户已关联其他责任规划师。", code="account_already_linked")
    before = {"user": planner.user_id}
    planner.user = user
    planner.full_clean()
    planner.save(update_fields=["user", "updated_at"])
    audit_log(actor=actor, action="registry.planner_link_user", obj=planner, before=before, after={"user": user.pk},
              summary=f"关联登录账户 {user.username}")
    return planner
