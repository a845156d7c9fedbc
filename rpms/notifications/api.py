"""Notifications API (mounted at the API root, /api/v1/). Every signed-in user, own items only.

- GET  /notifications?unread=1&limit=&offset= → {"count", "unread", "limit", "offset", "items": [...]}
- POST /notifications/read               → mark all read; body {"ids": [..]} marks only those → {"marked"}
- POST /notifications/{id}/read          → the item, marked read (someone else's → 404)"""
from typing import Any

from ninja import Router, Schema

from rpms.core.api import auth_required, json_object_body
from rpms.core.errors import DomainError
from rpms.core.params import limit_offset

from . import selectors, services
from .models import Notification

router = Router(tags=["工作提醒"])

LIST_LIMIT_MAX = 200


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def item(note: Notification) -> dict:
    return {
        "id": note.pk,
        "event": note.event,
        "title": note.title,
        "body": note.body,
        "url": note.url,
        "city": note.city.code if note.city_id else None,
        "created_at": note.created_at.isoformat(),
        "read_at": note.read_at.isoformat() if note.read_at else None,
        "emailed_at": note.emailed_at.isoformat() if note.emailed_at else None,
    }


@router.get("/notifications", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="我的工作提醒")
def notification_list(request, unread: str = "", limit: int = 50, offset: int = 0):
    """本人的站内提醒，最新在前；unread=1 只看未读。"""
    if unread not in ("", "0", "1"):
        raise DomainError("unread 参数应为 1 或 0。", code="invalid_filter")
    limit, offset = limit_offset(limit, offset, max_limit=LIST_LIMIT_MAX, clamp=True)
    queryset = selectors.inbox_list(user=request.user, unread_only=unread == "1")
    rows = list(queryset[offset:offset + limit])
    return {
        "count": queryset.count(), "unread": selectors.unread_count(request.user), "limit": limit, "offset": offset,
        "items": [item(n) for n in rows],
    }


@router.post("/notifications/read", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="标为已读（全部或指定）")
def notification_read_all(request):
    """请求体为空（或非 JSON）或不带 ids：本人全部未读提醒标为已读；{"ids": [...]}：只标这些（不属于本人的忽略）。"""
    ids = None
    if (request.content_type or "").endswith("json") and request.body.strip():
        ids = json_object_body(request).get("ids")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)):
            raise DomainError("ids 应为提醒编号（整数）列表。", code="invalid_input")
    if ids is None:
        marked = services.notification_mark_all_read(actor=request.user)
    else:
        marked = services.notification_mark_many_read(actor=request.user, notification_ids=ids)
    return {"marked": marked, "unread": selectors.unread_count(request.user)}


@router.post("/notifications/{notification_id}/read", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="标为已读")
def notification_read(request, notification_id: int):
    return item(services.notification_mark_read(actor=request.user, notification_id=notification_id))
