"""A city administrator manages the institution accounts of its own city (issue #17 item 7): district officers
(scope: districts of the city) and hiring-entity users (scope: subdistricts of the city). It opens them, edits
their name, e-mail, role and scope, deactivates and reactivates them (API tokens revoked, delegations ended),
and resets a password: a generated temporary one, shown once, that must be changed at the next login.

Only within its city and only these two roles: administrators are installed, city administrators and auditors
given by the security administrator, planners' accounts made by registration; an account of another city or
role is NotFound here. Every act is one transaction with one audit row citing the city's article for the team
concerned (`account_article`); no row carries a password."""
from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from rpms.core import clock, pubcache
from rpms.core.audit import audit_export, audit_log
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.params import id_param

from .administration import _clean_display_name, _password_check, _revoke_tokens, generate_password
from .models import Delegation, Role, User
from .services import email_clean, username_clean

# The roles a city administrator manages.
CITY_MANAGED_ROLES = (Role.DISTRICT_OFFICER, Role.HIRING_ENTITY)

# The article an act on an account of `role` cites, by the city's rule book (its article prefix): Beijing's
# 市级工作专班 builds the information system and manages the district teams (B5), the district team is B6, the
# hiring entity B7; Pingdingshan's districts act through 属地 requests (P6(1)). A city's policy may name its own
# in `articles["account_district_officer" | "account_hiring_entity"]`; else the national rule on accounts and
# rights (GB/T 22239-2019 8.1.4.2 a): 应对登录的用户分配账户和权限).
DEFAULT_ARTICLE = "GB/T 22239-2019 8.1.4.2"
_ARTICLES_BY_PREFIX = {
    "B": {Role.DISTRICT_OFFICER: "B5、B6", Role.HIRING_ENTITY: "B5、B7"},
    "P": {Role.DISTRICT_OFFICER: "P6(1)", Role.HIRING_ENTITY: "P6(1)"},
}


def account_article(city, role: str) -> str:
    policy = getattr(city, "policy", None) if city is not None else None
    named = ((getattr(policy, "articles", None) or {}).get(f"account_{role}") or "") if policy else ""
    if named:
        return named
    return _ARTICLES_BY_PREFIX.get(getattr(city, "article_prefix", "") or "", {}).get(role, DEFAULT_ARTICLE)


# --- who may act --------------------------------------------------------------------------------------------------

def is_city_account_manager(user) -> bool:
    return (bool(getattr(user, "is_authenticated", False)) and user.is_active and user.role == Role.CITY_ADMIN
            and user.city_id is not None)


def require_city_admin(actor) -> None:
    if not is_city_account_manager(actor):
        raise Forbidden("只有市级管理员可以管理本市区级工作人员和聘任主体的账户。")


# --- reads ----------------------------------------------------------------------------------------------------------

def city_accounts(actor):
    """The accounts `actor` manages: the district officers and hiring-entity users of its city."""
    require_city_admin(actor)
    return User.objects.filter(city_id=actor.city_id, role__in=CITY_MANAGED_ROLES, is_superuser=False)


STATUS_CHOICES = (("active", "启用"), ("inactive", "已停用"))


def city_account_list(*, actor, q: str = "", role: str = "", district: str | int | None = None, status: str = ""):
    """Searched by `q` (username or name), filtered by `role`, `district` (an officer responsible for it or a
    hiring entity of one of its subdistricts; own scope, not delegated) and `status` ("active"/"inactive")."""
    accounts = city_accounts(actor).select_related("city")
    q = (q or "").strip()
    if q:
        accounts = accounts.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if role in CITY_MANAGED_ROLES:
        accounts = accounts.filter(role=role)
    district = id_param(district, label="区 district ")
    if district is not None:
        through_d = User.districts.through.objects.filter(district_id=district).values("user_id")
        through_s = User.subdistricts.through.objects.filter(subdistrict__district_id=district).values("user_id")
        accounts = accounts.filter(Q(pk__in=through_d) | Q(pk__in=through_s))
    if status == "active":
        accounts = accounts.filter(is_active=True)
    elif status == "inactive":
        accounts = accounts.filter(is_active=False)
    return accounts.prefetch_related("districts", "subdistricts").order_by("role", "username", "id")


def city_account_get(*, actor, pk) -> User:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("账户不存在。") from None
    found = city_accounts(actor).select_related("city").prefetch_related("districts", "subdistricts__district").filter(
        pk=pk).first()
    if found is None:
        raise NotFound("账户不存在。")
    return found


def city_districts(actor):
    require_city_admin(actor)
    return apps.get_model("geography", "District").objects.filter(city_id=actor.city_id).order_by("sort_order", "code")


def city_subdistricts(actor):
    require_city_admin(actor)
    return apps.get_model("geography", "Subdistrict").objects.filter(district__city_id=actor.city_id).select_related(
        "district").order_by("district__sort_order", "district__code", "code")


# --- helpers ----------------------------------------------------------------------------------------------------------

def _ids(values) -> list[int]:
    ids = []
    for value in values or ():
        value = getattr(value, "pk", value)
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise DomainError("所选的区或街道乡镇不存在。", code="invalid_scope") from None
    return ids


def _scope(actor, role: str, districts, subdistricts) -> tuple[list, list]:
    """The districts (a district officer's) or subdistricts (a hiring entity's) given, checked against the
    actor's city: (districts, subdistricts), the other list empty."""
    if role not in CITY_MANAGED_ROLES:
        raise DomainError("角色只能是区级工作人员或聘任主体。", code="invalid_role")
    city = actor.city
    if role == Role.DISTRICT_OFFICER:
        ids = set(_ids(districts))
        if not ids:
            raise DomainError("区级工作人员须至少选择一个负责的区。", code="district_required")
        found = list(apps.get_model("geography", "District").objects.filter(pk__in=ids).select_related("city"))
        foreign = [d.name for d in found if d.city_id != city.pk]
        if foreign or len(found) != len(ids):
            names = "、".join(foreign) if foreign else "所选的区"
            raise DomainError(f"所选的区不属于{city.name}：{names}。", code="district_outside_city")
        return sorted(found, key=lambda d: (d.sort_order, d.code)), []
    ids = set(_ids(subdistricts))
    if not ids:
        raise DomainError("聘任主体须至少选择一个所属街道乡镇。", code="subdistrict_required")
    found = list(apps.get_model("geography", "Subdistrict").objects.filter(pk__in=ids).select_related("district"))
    foreign = [s.name for s in found if s.district.city_id != city.pk]
    if foreign or len(found) != len(ids):
        names = "、".join(foreign) if foreign else "所选的街道乡镇"
        raise DomainError(f"所选的街道乡镇不属于{city.name}：{names}。", code="subdistrict_outside_city")
    return [], sorted(found, key=lambda s: s.code)


def _picture(user: User) -> dict:
    return {
        "display_name": user.display_name, "email": user.email, "role": user.role,
        "districts": sorted(user.districts.own().values_list("code", flat=True)),
        "subdistricts": sorted(user.subdistricts.own().values_list("code", flat=True)),
    }


def _locked_target(actor, user) -> User:
    target = city_accounts(actor).select_for_update(no_key=True).filter(pk=getattr(user, "pk", user)).first()
    if target is None:
        raise NotFound("账户不存在。")
    return target


def _end_delegations(user: User, actor) -> int:
    """A deactivated account neither acts for anyone nor lets anyone act for it: its delegations not yet over
    are revoked (counted in the deactivation's audit row)."""
    today = clock.today()
    ended = Delegation.objects.filter(Q(delegator=user) | Q(delegate=user), revoked_at__isnull=True,
                                      ends_on__gte=today).update(revoked_at=clock.now(), revoked_by=actor)
    if ended:
        pubcache.bump(f"duties:{user.city_id}")  # as rpms.accounts.delegation.scope_changed
    return ended


# --- the acts -----------------------------------------------------------------------------------------------------

@transaction.atomic
def city_account_create(*, actor, username: str, display_name: str, role: str, email: str = "",
                        districts=(), subdistricts=()) -> tuple[User, str]:
    """Opens a district officer's or hiring entity's account in the actor's city with a generated temporary
    password (returned once, to be handed over; it must be changed at the first login)."""
    require_city_admin(actor)
    username = username_clean(username)
    display_name = _clean_display_name(display_name)
    email = email_clean(email)
    districts, subdistricts = _scope(actor, role, districts, subdistricts)
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("该用户名已被使用，请换一个用户名。", code="username_taken")
    user = User(username=username, display_name=display_name, email=email, city=actor.city, role=role,
                password_must_change=True)
    password = generate_password()
    _password_check(password, user)
    user.set_password(password)
    try:
        user.full_clean()
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent creation took the name between the check and the insert
        raise Conflict("该用户名已被使用，请换一个用户名。", code="username_taken") from None
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), code="invalid_account") from exc
    user.districts.set(districts)
    user.subdistricts.set(subdistricts)
    audit_log(actor=actor, action="accounts.city_account_create", obj=user, article=account_article(actor.city, role),
              after={**_picture(user), "username": username, "is_active": True, "password_must_change": True},
              summary=f"开设{Role(role).label}账户：{display_name}（{username}）")
    return user, password


@transaction.atomic
def city_account_update(*, actor, user, display_name: str, role: str, email: str = "", districts=(),
                        subdistricts=()) -> User:
    """Changes the name, e-mail, role (between district officer and hiring entity) and scope."""
    require_city_admin(actor)
    user = _locked_target(actor, user)
    before = _picture(user)
    display_name = _clean_display_name(display_name)
    email = email_clean(email)
    districts, subdistricts = _scope(actor, role, districts, subdistricts)
    user.display_name, user.email, user.role = display_name, email, role
    try:
        user.full_clean()
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), code="invalid_account") from exc
    user.save(update_fields=["display_name", "email", "role"])
    user.districts.set(districts)
    user.subdistricts.set(subdistricts)
    after = _picture(user)
    if after == before:
        raise DomainError("没有修改任何内容。", code="unchanged")
    changed = [k for k in after if after[k] != before[k]]
    audit_log(actor=actor, action="accounts.city_account_update", obj=user, article=account_article(actor.city, role),
              before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
              summary=f"修改账户资料和管辖范围：{user.display_name}（{user.username}）")
    return user


@transaction.atomic
def city_account_deactivate(*, actor, user) -> User:
    """Stops the account signing in; its API tokens are revoked and its running or planned delegations end."""
    require_city_admin(actor)
    user = _locked_target(actor, user)
    if not user.is_active:
        raise Conflict("该账户已经停用。", code="already_inactive")
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = _revoke_tokens(user)
    ended = _end_delegations(user, actor)
    audit_log(actor=actor, action="accounts.city_account_deactivate", obj=user,
              article=account_article(actor.city, user.role), before={"is_active": True},
              after={"is_active": False, "api_tokens_revoked": revoked, "delegations_revoked": ended},
              summary=f"停用账户：{user.display_name}（{user.username}）")
    return user


@transaction.atomic
def city_account_reactivate(*, actor, user) -> User:
    require_city_admin(actor)
    user = _locked_target(actor, user)
    if user.is_active:
        raise Conflict("该账户已处于启用状态。", code="already_active")
    user.is_active = True
    user.save(update_fields=["is_active"])
    revoked = _revoke_tokens(user)  # none should remain; a reactivated account signs in afresh
    audit_log(actor=actor, action="accounts.city_account_reactivate", obj=user,
              article=account_article(actor.city, user.role), before={"is_active": False},
              after={"is_active": True, "api_tokens_revoked": revoked},
              summary=f"重新启用账户：{user.display_name}（{user.username}）")
    return user


@transaction.atomic
def city_account_password_reset(*, actor, user) -> tuple[User, str]:
    """A generated temporary password, returned once; the user must change it at the next login (every page
    leads to the password change page until then); API tokens are revoked. The row never holds the password."""
    require_city_admin(actor)
    user = _locked_target(actor, user)
    password = generate_password()
    _password_check(password, user)
    user.set_password(password)
    user.password_must_change = True
    user.save(update_fields=["password", "password_must_change"])
    revoked = _revoke_tokens(user)
    audit_log(actor=actor, action="accounts.city_password_reset", obj=user,
              article=account_article(actor.city, user.role),
              after={"password_generated": True, "password_must_change": True, "api_tokens_revoked": revoked},
              summary=f"重置登录密码（下次登录须修改）：{user.display_name}（{user.username}）")
    return user, password


EXPORT_MAX_ROWS = 50_000


def city_account_export_record(*, actor, rows: int, filters: dict) -> None:
    """The export of the account list (names and e-mail addresses: personal data) is a sensitive read: one audit
    row of its own (rpms.core.audit.audit_export, GB/T 22239-2019 8.1.4.3)."""
    require_city_admin(actor)
    if rows > EXPORT_MAX_ROWS:
        raise DomainError(f"筛选结果共 {rows} 个账户，超过单次导出上限 {EXPORT_MAX_ROWS} 个，请增加筛选条件后再导出。",
                          code="export_too_large")
    audit_export(actor=actor, what=f"本市机构账户列表（{rows} 个）", object_type="accounts.user",
                 filters=filters, city_code=actor.city.code)
