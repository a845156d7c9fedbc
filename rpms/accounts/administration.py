"""The three separated administrators (三权分立; GB/T 22239-2019 level 3, 8.1.5 安全管理中心) and the account
management they do through the pages under /accounts/manage/.

- 系统管理员 (8.1.5.1 系统管理): opens accounts, edits their profile, deactivates and reactivates them, resets a
  forgotten password; cannot give roles or scopes, cannot unlock, cannot read the audit trail.
- 安全管理员 (8.1.5.3 安全管理): gives an account its institution role and its scopes (city, districts,
  subdistricts), lifts login locks, resets a lost second factor (another page); cannot open accounts.
- 审计管理员 (8.1.5.2 审计管理): reads and exports the audit trail (rpms.core), nothing here.

No account holds two of these: the role field holds one role, an administrator is never a Django superuser or
staff member (a CheckConstraint on accounts.User), and the administrator roles are given only at installation
(`manage.py create_administrators` → `administrator_install`), never through these pages. An administrator
account and a superuser are outside what the pages change (an administrator cannot change its own role or
scopes, nor another administrator's). Every act is one transaction with one audit row citing its article;
no row carries a password or its hash."""
from __future__ import annotations

import secrets
import string

from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from rpms.core import clock
from rpms.core.audit import audit_log
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.roles import ADMIN_ROLES

from .models import ApiToken, Role, User
from .services import email_clean, user_unlock, username_clean

# The articles the audit rows cite (GB/T 22239-2019, 8.1.5 安全管理中心).
ARTICLE_SYSTEM = "GB/T 22239-2019 8.1.5.1"  # 系统管理
ARTICLE_AUDIT = "GB/T 22239-2019 8.1.5.2"  # 审计管理
ARTICLE_SECURITY = "GB/T 22239-2019 8.1.5.3"  # 安全管理
ROLE_ARTICLES = {Role.SYSTEM_ADMIN: ARTICLE_SYSTEM, Role.AUDIT_ADMIN: ARTICLE_AUDIT, Role.SECURITY_ADMIN: ARTICLE_SECURITY}

# The roles the security administrator gives: the institution's own (never an administrator role).
INSTITUTION_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER, Role.AUDITOR)
# Roles that work in one city, and the scope each needs besides it.
ROLES_NEEDING_CITY = (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER)

MANAGERS = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)  # who reads the account list

GENERATED_PASSWORD_LENGTH = 16


# --- who may act ----------------------------------------------------------------------------------------------

def is_administrator(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", "") in ADMIN_ROLES


def can_manage_accounts(user) -> bool:
    """System and security administrators read the account list; nobody else (superusers included: the
    Django superuser is for installation only)."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and user.role in MANAGERS


def _require(actor, role: str, message: str) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.is_active or actor.role != role:
        raise Forbidden(message)


def require_manager(actor) -> None:
    if not can_manage_accounts(actor):
        raise Forbidden("只有系统管理员和安全管理员可以查看账户管理页面。")


def require_system_admin(actor) -> None:
    _require(actor, Role.SYSTEM_ADMIN, "只有系统管理员可以开设、修改、停用账户和重置密码。")


def require_security_admin(actor) -> None:
    _require(actor, Role.SECURITY_ADMIN, "只有安全管理员可以分配角色和管辖范围、解除账户锁定。")


# --- reads ----------------------------------------------------------------------------------------------------

def managed_accounts():
    """The accounts the pages show: every account but the Django superusers (installation only)."""
    return User.objects.filter(is_superuser=False)


def account_list(*, actor, q: str = "", role: str = "", status: str = ""):
    """The account list for a system or security administrator: searched by `q` (username, name or e-mail),
    filtered by `role` ("none" for accounts without one) and `status` ("active", "inactive", "locked")."""
    require_manager(actor)
    accounts = managed_accounts().select_related("city")
    q = (q or "").strip()
    if q:
        accounts = accounts.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(email__icontains=q))
    if role == "none":
        accounts = accounts.filter(role="")
    elif role in Role.values:
        accounts = accounts.filter(role=role)
    if status == "active":
        accounts = accounts.filter(is_active=True)
    elif status == "inactive":
        accounts = accounts.filter(is_active=False)
    elif status == "locked":
        accounts = accounts.filter(locked_until__gt=clock.now())
    return accounts.order_by("username", "id")


def account_get(*, actor, pk) -> User:
    require_manager(actor)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("账户不存在。") from None
    user = managed_accounts().select_related("city").prefetch_related("districts", "subdistricts__district").filter(pk=pk).first()
    if user is None:
        raise NotFound("账户不存在。")
    return user


def _city_model():
    # By the app registry, as User.city names its model: accounts sits below cities and geography.
    return apps.get_model("cities", "City")


def assignable_cities():
    return _city_model().objects.filter(is_active=True).order_by("sort_order", "code")


def assignable_districts():
    return apps.get_model("geography", "District").objects.filter(city__is_active=True).select_related("city").order_by(
        "city__sort_order", "city__code", "sort_order", "code")


def assignable_subdistricts():
    return apps.get_model("geography", "Subdistrict").objects.filter(district__city__is_active=True).select_related(
        "district__city").order_by("district__city__sort_order", "district__city__code", "district__sort_order",
                                   "district__code", "code")


# --- helpers of the writes -------------------------------------------------------------------------------------

def generate_password() -> str:
    """A random password that passes the password rules (12+ characters of at least three classes)."""
    alphabet = string.ascii_letters + string.digits + "-_!@#%"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(GENERATED_PASSWORD_LENGTH))
        classes = sum(any(c in group for c in password) for group in
                      (string.ascii_lowercase, string.ascii_uppercase, string.digits, "-_!@#%"))
        if classes >= 3:
            return password


def _password_check(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), code="weak_password") from exc


def _target(actor, user, *, administrators_too: bool = False) -> User:
    """The account `actor` acts on, locked for the change: never a superuser (404: not managed here), never
    the actor itself, and an administrator only where `administrators_too` (an unlock)."""
    pk = getattr(user, "pk", user)
    target = User.objects.select_for_update(no_key=True).filter(pk=pk, is_superuser=False).first()
    if target is None:
        raise NotFound("账户不存在。")
    check_changeable(actor, target, administrators_too=administrators_too)
    return target


def check_changeable(actor, target: User, *, administrators_too: bool = False) -> None:
    """Refuses (403) an act on one's own account, or on an administrator's unless `administrators_too`; the
    pages ask it before showing a form, the services again when they act."""
    if target.pk == actor.pk:
        raise Forbidden("不能在此更改自己的账户（角色、范围和状态）。", code="own_account")
    if target.role in ADMIN_ROLES and not administrators_too:
        raise Forbidden("管理员账户只能在系统安装时由 create_administrators 命令设置，不能在此更改。",
                        code="administrator_account")


def _scope_picture(user: User) -> dict:
    return {
        "role": user.role,
        "city": user.city.code if user.city_id else None,
        "districts": sorted(user.districts.own().values_list("code", flat=True)),
        "subdistricts": sorted(user.subdistricts.own().values_list("code", flat=True)),
    }


def _profile_picture(user: User) -> dict:
    return {"display_name": user.display_name, "email": user.email}


def _clean_display_name(display_name: str) -> str:
    display_name = (display_name or "").strip()
    if not display_name:
        raise DomainError("请填写姓名或机构名称。", code="invalid_display_name")
    if len(display_name) > 100:
        raise DomainError("姓名或机构名称不能超过 100 个字符。", code="invalid_display_name")
    return display_name


def _revoke_tokens(user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=clock.now())


# --- the system administrator (8.1.5.1) -------------------------------------------------------------------------

@transaction.atomic
def account_create(*, actor, username: str, display_name: str, email: str = "", city=None,
                   password: str | None = None) -> tuple[User, str | None]:
    """Opens an account without a role (the security administrator gives it one). `password` None → a
    generated one, returned once (shown once on the page) and never stored in clear or audited.
    Returns (account, the generated password or None)."""
    require_system_admin(actor)
    username = username_clean(username)
    display_name = _clean_display_name(display_name)
    email = email_clean(email)
    if city is not None and not isinstance(city, _city_model()):
        city = assignable_cities().filter(pk=city).first() or _refuse_city()
    if city is not None and not city.is_active:
        _refuse_city()
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("该用户名已被使用，请换一个用户名。", code="username_taken")
    user = User(username=username, display_name=display_name, email=email, city=city, role="")
    generated = None
    if password is None or password == "":
        generated = password = generate_password()
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
    audit_log(
        actor=actor, action="accounts.account_create", obj=user, article=ARTICLE_SYSTEM,
        after={"username": username, "display_name": display_name, "email": email,
               "city": city.code if city else None, "is_active": True, "password_generated": generated is not None},
        summary=f"开设账户 {username}",
    )
    return user, generated


def _refuse_city():
    raise DomainError("所选城市不存在或未启用。", code="invalid_city")


@transaction.atomic
def account_profile_update(*, actor, user, display_name: str, email: str = "") -> User:
    """The account's name and e-mail (its city is a scope: the security administrator's)."""
    require_system_admin(actor)
    user = _target(actor, user)
    before = _profile_picture(user)
    user.display_name = _clean_display_name(display_name)
    user.email = email_clean(email)
    after = _profile_picture(user)
    if after == before:
        raise DomainError("没有修改任何内容。", code="unchanged")
    user.save(update_fields=["display_name", "email"])
    changed = [k for k in after if after[k] != before[k]]
    audit_log(actor=actor, action="accounts.account_update", obj=user, article=ARTICLE_SYSTEM,
              before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
              summary=f"修改账户资料：{user.username}")
    return user


@transaction.atomic
def account_deactivate(*, actor, user) -> User:
    """Stops an account signing in (its sessions end; its API tokens are revoked). Its records stay."""
    require_system_admin(actor)
    user = _target(actor, user)
    if not user.is_active:
        raise Conflict("该账户已经停用。", code="already_inactive")
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = _revoke_tokens(user)
    audit_log(actor=actor, action="accounts.account_deactivate", obj=user, article=ARTICLE_SYSTEM,
              before={"is_active": True}, after={"is_active": False, "api_tokens_revoked": revoked},
              summary=f"停用账户：{user.username}")
    return user


@transaction.atomic
def account_reactivate(*, actor, user) -> User:
    require_system_admin(actor)
    user = _target(actor, user)
    if user.is_active:
        raise Conflict("该账户已处于启用状态。", code="already_active")
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_log(actor=actor, action="accounts.account_reactivate", obj=user, article=ARTICLE_SYSTEM,
              before={"is_active": False}, after={"is_active": True}, summary=f"重新启用账户：{user.username}")
    return user


@transaction.atomic
def account_password_reset(*, actor, user) -> tuple[User, str]:
    """A forgotten password: a new generated one, returned once to be handed over and changed at the next
    login (`password_must_change`); the account's API tokens are revoked. The audit row says that it happened, never the password."""
    require_system_admin(actor)
    user = _target(actor, user)
    password = generate_password()
    _password_check(password, user)
    user.set_password(password)
    user.password_must_change = True  # a password someone else knows: changed at the next login (issue #17 item 7)
    user.save(update_fields=["password", "password_must_change"])
    revoked = _revoke_tokens(user)
    audit_log(actor=actor, action="accounts.password_reset", obj=user, article=ARTICLE_SYSTEM,
              after={"password_generated": True, "password_must_change": True, "api_tokens_revoked": revoked},
              summary=f"重置登录密码：{user.username}")
    return user, password


# --- the security administrator (8.1.5.3) -----------------------------------------------------------------------

@transaction.atomic
def account_role_assign(*, actor, user, role: str, city=None, districts=(), subdistricts=()) -> User:
    """Gives an account one institution role and its scopes: a city (required for every role but the auditor,
    whom no city means "all cities"), districts (a district officer's; at least one) and subdistricts (a
    hiring entity's; at least one), all of that city. `role` "" takes the role away. Administrator roles are
    never given here."""
    require_security_admin(actor)
    user = _target(actor, user)
    role = (role or "").strip()
    if role in ADMIN_ROLES:
        raise Forbidden("系统管理员、安全管理员和审计管理员只能在系统安装时设置，不能在此分配。", code="administrator_role")
    if role and role not in INSTITUTION_ROLES:
        raise DomainError("所选角色不存在。", code="invalid_role")
    if city is not None and not isinstance(city, _city_model()):
        city = assignable_cities().filter(pk=city).first() or _refuse_city()
    districts, subdistricts = list(districts), list(subdistricts)
    if role in ROLES_NEEDING_CITY and city is None:
        raise DomainError(f"{Role(role).label}必须属于一个城市，请选择所属城市。", code="city_required")
    if (districts or subdistricts) and city is None:
        raise DomainError("选择了区或街道乡镇时，必须同时选择所属城市。", code="city_required")
    foreign = [d.name for d in districts if d.city_id != city.pk] if districts else []
    if foreign:
        raise DomainError(f"所选的区不属于{city.name}：{'、'.join(foreign)}。", code="district_outside_city")
    foreign = [s.name for s in subdistricts if s.district.city_id != city.pk] if subdistricts else []
    if foreign:
        raise DomainError(f"所选的街道乡镇不属于{city.name}：{'、'.join(foreign)}。", code="subdistrict_outside_city")
    if role == Role.DISTRICT_OFFICER and not districts:
        raise DomainError("区级工作人员须至少选择一个负责的区。", code="district_required")
    if role == Role.HIRING_ENTITY and not subdistricts:
        raise DomainError("聘任主体须至少选择一个所属街道乡镇。", code="subdistrict_required")
    before = _scope_picture(user)
    user.role = role
    user.city = city
    try:
        user.full_clean()
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), code="invalid_account") from exc
    user.save(update_fields=["role", "city"])
    user.districts.set(districts)
    user.subdistricts.set(subdistricts)
    after = _scope_picture(user)
    if after == before:
        raise DomainError("角色和管辖范围没有变化。", code="unchanged")
    audit_log(actor=actor, action="accounts.role_assign", obj=user, article=ARTICLE_SECURITY, before=before, after=after,
              summary=f"分配角色和管辖范围：{user.username}（{Role(role).label if role else '无角色'}）")
    return user


@transaction.atomic
def account_unlock(*, actor, user) -> User:
    """Lifts a login lock before it runs out (any account but one's own, administrators' too)."""
    require_security_admin(actor)
    user = _target(actor, user, administrators_too=True)
    if not user.is_locked() and not user.failed_login_count:
        raise Conflict("该账户当前没有被锁定。", code="not_locked")
    return user_unlock(actor=actor, user=user, article=ARTICLE_SECURITY)


# --- both: the account list exported ---------------------------------------------------------------------------

EXPORT_MAX_ROWS = 50_000


@transaction.atomic
def account_export_record(*, actor, rows: int, filters: dict) -> None:
    """An export of the account list (names and e-mail addresses: personal data) is audited."""
    require_manager(actor)
    if rows > EXPORT_MAX_ROWS:
        raise DomainError(f"筛选结果共 {rows} 个账户，超过单次导出上限 {EXPORT_MAX_ROWS} 个，请增加筛选条件后再导出。",
                          code="export_too_large")
    article = ARTICLE_SYSTEM if actor.role == Role.SYSTEM_ADMIN else ARTICLE_SECURITY
    audit_log(actor=actor, action="accounts.account_export", object_type="accounts.user", article=article,
              after={"rows": rows, "filters": {k: v for k, v in filters.items() if v}}, summary=f"导出账户列表 {rows} 个")


# --- installation: the three administrators ----------------------------------------------------------------------

@transaction.atomic
def administrator_install(*, role: str, username: str, password: str | None = None, display_name: str = "",
                          email: str = "") -> tuple[User, str]:
    """Creates or updates the account of one administrator role at installation (`create_administrators`,
    the demo seed). Refuses an account that holds another role (an institution role or another
    administrator's), a superuser or a staff member. Returns (account, "created" | "updated" | "unchanged");
    a run that changes nothing writes no audit row."""
    if role not in ADMIN_ROLES:
        raise DomainError("只能设置系统管理员、安全管理员或审计管理员。", code="invalid_role")
    username = username_clean(username)
    label = Role(role).label
    display_name = (display_name or "").strip()  # empty: the role's name for a new account, unchanged otherwise
    email = email_clean(email)  # empty: none for a new account, unchanged otherwise
    user = User.objects.select_for_update(no_key=True).filter(username__iexact=username).first()
    article = ROLE_ARTICLES[role]
    if user is None:
        if not password:
            raise DomainError(f"请为{label}账户 {username} 提供初始密码。", code="password_required")
        display_name = display_name or label
        user = User(username=username, role=role, display_name=display_name, email=email)
        _password_check(password, user)
        user.set_password(password)
        try:
            user.full_clean()
        except ValidationError as exc:
            raise DomainError("；".join(exc.messages), code="invalid_account") from exc
        user.save()
        audit_log(actor=None, action="accounts.administrator_install", obj=user, article=article,
                  after={"username": username, "role": role, "display_name": display_name, "email": email},
                  summary=f"安装时开设{label}账户 {username}")
        return user, "created"
    if user.is_superuser or user.is_staff:
        raise Conflict(f"账户 {user.username} 是 Django 超级用户或后台人员，不能兼任{label}。", code="superuser_account")
    if user.role != role:
        held = Role(user.role).label if user.role in Role.values else "（无角色的业务账户）"
        raise Conflict(f"账户 {user.username} 已是{held}，一个账户不能兼任两种角色；请为{label}另设账户。",
                       code="role_taken")
    before = {"display_name": user.display_name, "email": user.email, "is_active": user.is_active}
    changes = {}
    if display_name and display_name != user.display_name:
        changes["display_name"] = user.display_name = display_name
    if email and email != user.email:
        changes["email"] = user.email = email
    if not user.is_active:
        changes["is_active"] = user.is_active = True
    password_changed = bool(password) and not user.check_password(password)
    if password_changed:
        _password_check(password, user)
        user.set_password(password)
    if not changes and not password_changed:
        return user, "unchanged"
    user.save()
    if password_changed:
        _revoke_tokens(user)
    audit_log(actor=None, action="accounts.administrator_install", obj=user, article=article,
              before={k: before[k] for k in changes}, after={**changes, "password_changed": password_changed},
              summary=f"安装时更新{label}账户 {user.username}")
    return user, "updated"
