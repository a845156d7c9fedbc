from ninja import Router, Schema

from .services import api_token_issue, credentials_check

router = Router(tags=["认证"])
# Mounted at /api/v1/accounts: self-registration of planner accounts (issue #3).
register_router = Router(tags=["账户注册"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    expires_at: str
    username: str
    role: str


class ErrorOut(Schema):
    code: str
    message: str


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut}, summary="获取接口令牌")
def token_obtain(request, payload: TokenIn):
    """用户名密码换取 Bearer 令牌；连续 5 次失败锁定 15 分钟。"""
    user = credentials_check(username=payload.username, password=payload.password)
    raw, token = api_token_issue(user=user)
    return {"token": raw, "expires_at": token.expires_at.isoformat(), "username": user.username, "role": user.role}
