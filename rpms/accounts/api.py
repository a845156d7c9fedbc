from ninja import Router, Schema, Status

from rpms.core.errors import Forbidden
from rpms.core.ratelimit import client_key, rate_limit_hit

from .middleware import PASSWORD_CHANGE_REQUIRED_API

from .services import AuthenticationFailed, api_token_issue, planner_account_register, register_rate
from .throttle import login_address_check, login_address_failure
from .twofactor import token_credentials_check

router = Router(tags=["认证"])
# Mounted at /api/v1/accounts: self-registration of planner accounts (issue #3).
register_router = Router(tags=["账户注册"])


class TokenIn(Schema):
    username: str
    password: str
    otp: str | int | None = None


class TokenOut(Schema):
    token: str
    expires_at: str
    username: str
    role: str


class ErrorOut(Schema):
    code: str
    detail: str
    message: str


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut, 503: ErrorOut},
             summary="获取接口令牌")
def token_obtain(request, payload: TokenIn):
    """用户名密码换取 Bearer 令牌。

    市级管理员、区级工作人员、审计员和系统/安全/审计管理员在启用两步验证时（生产环境），须在 `otp` 中提供
    认证器应用当前的 6 位动态验证码或一个未使用的恢复码：缺少时返回 401 `otp_required`，错误时返回 401
    `otp_invalid`，尚未绑定认证器时返回 401 `otp_not_enrolled`。用户名不存在、密码错误和账户被锁定一律返回
    401 `invalid_credentials`“用户名或密码错误，或账户已被临时锁定”。同一账户连续 5 次失败（含验证码错误）
    锁定 15 分钟；同一网络地址登录失败次数过多时（默认每 15 分钟 20 次，与登录页面合计）返回 429。
    密码由市级管理员重置后须先在网页修改，此前返回 403 `password_change_required`。"""
    login_address_check(request)
    try:
        otp = f"{payload.otp:06d}" if isinstance(payload.otp, int) else payload.otp  # 012345 sent as a number
        user = token_credentials_check(username=payload.username, password=payload.password, otp=otp)
    except AuthenticationFailed as exc:
        if exc.code != "otp_required" and exc.code != "otp_not_enrolled":
            login_address_failure(request)  # a missing code is a question, not a guess
        raise
    if user.password_must_change:
        # A temporary password (reset by the city administrator) opens nothing until it is changed on the page.
        raise Forbidden(PASSWORD_CHANGE_REQUIRED_API, code="password_change_required")
    raw, token = api_token_issue(user=user)
    return {"token": raw, "expires_at": token.expires_at.isoformat(), "username": user.username, "role": user.role}


class RegisterIn(Schema):
    username: str
    password: str
    display_name: str
    email: str = ""
    mobile: str
    city: str


class RegisterOut(Schema):
    id: int
    username: str
    role: str
    city: str


class RegisterErrorOut(Schema):
    code: str
    detail: str
    message: str


@register_router.post(
    "/register",
    auth=None,
    response={201: RegisterOut, 400: RegisterErrorOut, 409: RegisterErrorOut, 429: RegisterErrorOut},
    summary="注册责任规划师账户",
)
def account_register(request, payload: RegisterIn):
    """申请人自助注册责任规划师账户（角色为责任规划师），随后可登录并提交入库申请。

    同一 IP 每小时最多尝试 10 次，超出返回 429。用户名不区分大小写唯一，重复返回 409；
    密码须符合系统密码规则，手机号须为 11 位中国大陆手机号，城市填城市代码（如 beijing、pingdingshan）。
    """
    limit, window = register_rate()
    rate_limit_hit(client_key(request, "accounts.register"), limit=limit, window_seconds=window)
    user = planner_account_register(
        username=payload.username,
        password=payload.password,
        display_name=payload.display_name,
        email=payload.email,
        mobile=payload.mobile,
        city=payload.city,
    )
    return Status(201, {"id": user.pk, "username": user.username, "role": user.role, "city": user.city.code})
