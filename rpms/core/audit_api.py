"""GET /api/v1/audit: the audit trail for the audit administrator (every city), city administrators (their city)
and auditors; GET /api/v1/audit/verify: the check of its tamper-evident chain (audit administrator, auditors).
The Django superuser reads neither (issue #16 item 2)."""
from typing import Any

from django.utils import timezone
from ninja import Query, Router, Schema

from .api import auth_required, require_role
from .audit_chain import verify
from .errors import Forbidden
from .paging import capped_count
from .params import limit_offset
from .selectors import AUDIT_READER_ROLES, AUDIT_VERIFIER_ROLES, action_log_list, parse_action_log_filters

router = Router(tags=["操作日志"])

AUDIT_API_MAX_LIMIT = 200


class AuditQuery(Schema):
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    article: str = ""
    since: str = ""
    until: str = ""
    limit: int = 50
    offset: int = 0


class ActionLogOut(Schema):
    id: int
    at: str
    actor: str
    ip: str | None
    action: str
    object_type: str
    object_id: str
    object_repr: str
    city_code: str
    article: str
    summary: str
    before: Any = None
    after: Any = None


class ActionLogPage(Schema):
    count: int  # at most COUNT_CAP (10000): see count_capped
    count_capped: bool = False  # more than `count` rows match: narrow the filters
    has_more: bool = False  # there are rows after this page
    items: list[ActionLogOut]


class ErrorOut(Schema):
    code: str
    message: str
    detail: str = ""


class VerifyOut(Schema):
    ok: bool
    rows: int
    first_bad: int | None = None


def _require_reader(request, roles):
    """Deny by default, and the superuser too (require_role lets superusers pass; the audit trail does not)."""
    if request.user.is_superuser:
        raise Forbidden("超级管理员账号仅用于系统安装，不能查看操作日志。")
    return require_role(request, *roles)


@router.get(
    "/verify",
    auth=auth_required,
    response={200: VerifyOut, 401: ErrorOut, 403: ErrorOut},
    summary="校验操作日志防篡改链",
)
def audit_verify(request):
    """审计管理员、审计员：逐条重算操作日志的 SM3-HMAC 校验链（GB/T 22239-2019 8.1.4.3）。ok 为 false 时 first_bad 为
    第一条校验不通过的记录编号（被改动的记录本身；被删除记录之后的第一条）；rows 为记录总数。"""
    _require_reader(request, AUDIT_VERIFIER_ROLES)
    return verify()


@router.get(
    "",
    auth=auth_required,
    response={200: ActionLogPage, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
    summary="查询操作日志",
)
def audit_list(request, params: Query[AuditQuery]):
    """审计管理员查看全部城市记录；市级管理员查看本市记录；审计员查看所属城市（未关联城市则全部）记录。超级管理员不能查看。
    日期为北京时间，含起止当日。

    count 为符合条件的条数，至多计到 10000（count_capped 为 true 表示超过 10000 条，请缩小条件）；has_more 表示
    本页之后还有记录（offset 加上 limit 取下一页）。"""
    user = _require_reader(request, AUDIT_READER_ROLES)
    limit, offset = limit_offset(params.limit, params.offset, max_limit=AUDIT_API_MAX_LIMIT)
    filters = parse_action_log_filters(params.dict())
    queryset = action_log_list(user=user, filters=filters)
    # Counted up to COUNT_CAP rows (never a whole city's million rows); beyond it count_capped is true.
    count, count_capped = capped_count(queryset)
    rows = list(queryset[offset : offset + limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {
        "count": count,
        "count_capped": count_capped,
        "has_more": has_more,
        "items": [
            {
                "id": row.pk,
                "at": timezone.localtime(row.at).isoformat(),
                "actor": row.actor_repr,
                "ip": row.ip,
                "action": row.action,
                "object_type": row.object_type,
                "object_id": row.object_id,
                "object_repr": row.object_repr,
                "city_code": row.city_code,
                "article": row.article,
                "summary": row.summary,
                "before": row.before,
                "after": row.after,
            }
            for row in rows
        ],
    }
