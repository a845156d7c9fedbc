"""GET /api/v1/audit: the audit trail for city administrators (their city) and auditors."""
from typing import Any

from django.utils import timezone
from ninja import Query, Router, Schema

from rpms.accounts.models import Role

from .api import auth_required, require_role
from .paging import capped_count
from .params import limit_offset
from .selectors import action_log_list, parse_action_log_filters

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


@router.get(
    "",
    auth=auth_required,
    response={200: ActionLogPage, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
    summary="查询操作日志",
)
def audit_list(request, params: Query[AuditQuery]):
    """市级管理员查看本市记录；审计员查看所属城市（未关联城市则全部）记录。日期为北京时间，含起止当日。

    count 为符合条件的条数，至多计到 10000（count_capped 为 true 表示超过 10000 条，请缩小条件）；has_more 表示
    本页之后还有记录（offset 加上 limit 取下一页）。"""
    user = require_role(request, Role.CITY_ADMIN, Role.AUDITOR)
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
