"""API of issue #17 item 7 (rpms.accounts.city_accounts, rpms.accounts.delegation).

Mounted at /api/v1/accounts (the city administrator's accounts of its city) and /api/v1/delegations (officers'
delegations). The services check the actor: another role is 403, an account or delegation outside the actor's
city or reach is 404."""
from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status

from rpms.core.api import auth_required
from rpms.core.params import int_param, page_number

from . import city_accounts as services
from . import delegation as delegations

accounts_router = Router(tags=["本市机构账户"], auth=auth_required)
delegations_router = Router(tags=["工作委托"], auth=auth_required)


class ErrorOut(Schema):
    code: str
    detail: str
    message: str


class AccountOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    role: str
    role_label: str
    districts: list[str]
    subdistricts: list[str]
    is_active: bool
    password_must_change: bool
    last_login: str | None
    date_joined: str


class AccountCreatedOut(AccountOut):
    temporary_password: str


class AccountPageOut(Schema):
    count: int
    page: int
    page_size: int
    results: list[AccountOut]


class AccountIn(Schema):
    username: str
    display_name: str
    role: str
    email: str = ""
    districts: list[str] = []
    subdistricts: list[str] = []


class AccountPatch(Schema):
    display_name: str | None = None
    email: str | None = None
    role: str | None = None
    districts: list[str] | None = None
    subdistricts: list[str] | None = None


class PasswordResetOut(Schema):
    id: int
    username: str
    temporary_password: str
    password_must_change: bool


def _account(user) -> dict:
    return {
        "id": user.pk, "username": user.username, "display_name": user.display_name, "email": user.email,
        "role": user.role, "role_label": user.get_role_display(),
        "districts": [d.code for d in user.districts.own()],
        "subdistricts": [s.code for s in user.subdistricts.own()],
        "is_active": user.is_active, "password_must_change": user.password_must_change,
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "date_joined": user.date_joined.isoformat(),
    }


def _by_code(actor, role: str, districts, subdistricts) -> tuple[list, list]:
    """District and subdistrict codes (as the API names them) → ids; an unknown code is refused by the service."""
    from rpms.core.errors import DomainError

    if role not in services.CITY_MANAGED_ROLES:
        return [], []  # the service refuses the role itself
    if role == services.Role.DISTRICT_OFFICER:
        codes = list(districts or [])
        found = dict(services.city_districts(actor).filter(code__in=codes).values_list("code", "pk"))
        missing = [c for c in codes if c not in found]
        if missing:
            raise DomainError(f"区代码不存在或不属于{actor.city.name}：{'、'.join(missing)}。", code="district_outside_city")
        return [found[c] for c in codes], []
    codes = list(subdistricts or [])
    found = dict(services.city_subdistricts(actor).filter(code__in=codes).values_list("code", "pk"))
    missing = [c for c in codes if c not in found]
    if missing:
        raise DomainError(f"街道乡镇代码不存在或不属于{actor.city.name}：{'、'.join(missing)}。",
                          code="subdistrict_outside_city")
    return [], [found[c] for c in codes]


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@accounts_router.get("", response={200: AccountPageOut, **ERRORS}, summary="本市机构账户列表")
def account_list(request, q: str = "", role: str = "", district: str = "", status: str = "", page: int = 1,
                 page_size: int = 50):
    """市级管理员：本市区级工作人员（district_officer）和聘任主体（hiring_entity）的账户，可按用户名或姓名
    （q）、角色（role）、区（district：区的编号）和状态（status：active / inactive）筛选，分页返回（含最近登录时间）。"""
    rows = services.city_account_list(actor=request.user, q=q, role=role, district=district, status=status)
    page = page_number(page)
    page_size = int_param(page_size, label="每页条数 page_size ", minimum=1, maximum=200)
    total = rows.count()
    chunk = rows[(page - 1) * page_size: page * page_size]
    return {"count": total, "page": page, "page_size": page_size, "results": [_account(u) for u in chunk]}


@accounts_router.post("", response={201: AccountCreatedOut, **ERRORS}, summary="开设本市机构账户")
def account_create(request, payload: AccountIn):
    """市级管理员开设本市区级工作人员账户（districts：本市区代码，至少一个）或聘任主体账户（subdistricts：
    本市街道乡镇代码，至少一个）。返回只显示一次的临时密码（temporary_password），首次登录须修改。"""
    services.require_city_admin(request.user)
    districts, subdistricts = _by_code(request.user, payload.role, payload.districts, payload.subdistricts)
    user, password = services.city_account_create(
        actor=request.user, username=payload.username, display_name=payload.display_name, role=payload.role,
        email=payload.email, districts=districts, subdistricts=subdistricts)
    return Status(201, {**_account(user), "temporary_password": password})


@accounts_router.get("/{account_id}", response={200: AccountOut, **ERRORS}, summary="本市机构账户详情")
def account_detail(request, account_id: int):
    return _account(services.city_account_get(actor=request.user, pk=account_id))


@accounts_router.patch("/{account_id}", response={200: AccountOut, **ERRORS}, summary="修改本市机构账户")
def account_update(request, account_id: int, payload: AccountPatch):
    """修改姓名（display_name）、电子邮箱（email）、角色（role）和管辖范围（districts / subdistricts 代码）；
    未提供的字段保持不变。"""
    user = services.city_account_get(actor=request.user, pk=account_id)
    role = payload.role if payload.role is not None else user.role
    districts = payload.districts if payload.districts is not None else [d.code for d in user.districts.own()]
    subdistricts = (payload.subdistricts if payload.subdistricts is not None
                    else [s.code for s in user.subdistricts.own()])
    district_ids, subdistrict_ids = _by_code(request.user, role, districts, subdistricts)
    user = services.city_account_update(
        actor=request.user, user=user, role=role,
        display_name=payload.display_name if payload.display_name is not None else user.display_name,
        email=payload.email if payload.email is not None else user.email,
        districts=district_ids, subdistricts=subdistrict_ids)
    return _account(user)


@accounts_router.post("/{account_id}/deactivate", response={200: AccountOut, **ERRORS}, summary="停用本市机构账户")
def account_deactivate(request, account_id: int):
    """停用后不能登录，接口令牌作废，尚未结束的工作委托撤销。"""
    user = services.city_account_get(actor=request.user, pk=account_id)
    return _account(services.city_account_deactivate(actor=request.user, user=user))


@accounts_router.post("/{account_id}/reactivate", response={200: AccountOut, **ERRORS}, summary="重新启用本市机构账户")
def account_reactivate(request, account_id: int):
    user = services.city_account_get(actor=request.user, pk=account_id)
    return _account(services.city_account_reactivate(actor=request.user, user=user))


@accounts_router.post("/{account_id}/reset-password", response={200: PasswordResetOut, **ERRORS},
                      summary="重置本市机构账户密码")
def account_password_reset(request, account_id: int):
    """生成只显示一次的临时密码；账户使用人下次登录时须先修改密码，原有接口令牌作废。"""
    user = services.city_account_get(actor=request.user, pk=account_id)
    user, password = services.city_account_password_reset(actor=request.user, user=user)
    return {"id": user.pk, "username": user.username, "temporary_password": password, "password_must_change": True}


# --- delegations -------------------------------------------------------------------------------------------------------

class PersonOut(Schema):
    id: int
    username: str
    name: str


class DelegationOut(Schema):
    id: int
    delegator: PersonOut
    delegate: PersonOut
    starts_on: dt.date
    ends_on: dt.date
    reason: str
    status: str
    status_label: str
    revoked_at: str | None


class DelegationIn(Schema):
    delegate_id: int
    starts_on: str
    ends_on: str
    reason: str


def _person(user) -> dict:
    return {"id": user.pk, "username": user.username, "name": str(user)}


def _delegation(d) -> dict:
    return {"id": d.pk, "delegator": _person(d.delegator), "delegate": _person(d.delegate), "starts_on": d.starts_on,
            "ends_on": d.ends_on, "reason": d.reason, "status": d.status(), "status_label": d.status_label,
            "revoked_at": d.revoked_at.isoformat() if d.revoked_at else None}


@delegations_router.get("", response={200: list[DelegationOut], **ERRORS}, summary="工作委托列表")
def delegation_list(request):
    """区级工作人员、聘任主体：本人委托和受托的工作委托；市级管理员：本市全部工作委托。status 为
    scheduled（未开始）、active（生效中）、ended（已结束）、revoked（已撤销）。"""
    return [_delegation(d) for d in delegations.delegation_list(actor=request.user)[:500]]


@delegations_router.post("", response={201: DelegationOut, **ERRORS}, summary="委托同事代为办理")
def delegation_create(request, payload: DelegationIn):
    """区级工作人员或聘任主体委托本市同一角色的同事（delegate_id）在 starts_on 至 ends_on（含，YYYY-MM-DD）
    期间代为办理：其间代理人的管辖范围、办理权限和待办事项包括委托人的，每项操作记录“代…办理”。
    不能委托自己、不能跨城市或跨角色、开始日期不早于今天、同一委托人的委托期间不能重叠（409）。"""
    found = delegations.delegation_create(actor=request.user, delegate=payload.delegate_id,
                                          starts_on=payload.starts_on, ends_on=payload.ends_on,
                                          reason=payload.reason)
    return Status(201, _delegation(found))


@delegations_router.post("/{delegation_id}/revoke", response={200: DelegationOut, **ERRORS}, summary="撤销工作委托")
def delegation_revoke(request, delegation_id: int):
    """委托人本人或本市市级管理员提前撤销尚未结束的委托。"""
    found = delegations.delegation_get(actor=request.user, pk=delegation_id)
    return _delegation(delegations.delegation_revoke(actor=request.user, delegation=found))
