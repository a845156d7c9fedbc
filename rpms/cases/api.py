"""Outstanding cases API (mounted at the API root, /api/v1/).

Public (no account; published cases only):
- GET  /cases?city=&district=&zone_type=&duty_category=&limit=&offset=
- GET  /cases/{id}
Staff (bearer token or session):
- GET  /case-submissions?status=&limit=&offset=   (planner: own; district officer: district; city, auditor: city)
- GET  /case-submissions/{id}
- POST /case-submissions          (planner) JSON {"unit","title","duty_category","summary","body"} or
                                  multipart/form-data with the same fields plus "photos" (JPEG/PNG) → 201
- POST /case-submissions/{id}/revise   (the author, a returned case) same fields (+ "remove_photos" ids)
- POST /case-submissions/{id}/review   (city administrator) {"decision": "return"|"publish"|"reject", "comment"}
- POST /case-submissions/{id}/unpublish (city administrator) {"reason"}"""
from typing import Any

from django.urls import reverse
from ninja import Router, Schema, Status

from rpms.core.api import auth_required, json_object_body, public_answer, require_role
from rpms.core.errors import DomainError, NotFound
from rpms.core.params import is_digits, limit_offset
from rpms.geography.models import ResponsibilityUnit

from . import selectors, services
from .models import Case

router = Router(tags=["优秀案例"])

LIST_LIMIT_MAX = 100
FIELDS = ("unit", "title", "duty_category", "summary", "body")


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class ReviewIn(Schema):
    decision: str
    comment: str = ""


class ReasonIn(Schema):
    reason: str


def _photos(case: Case) -> list[dict]:
    return [
        {"id": p.pk, "caption": p.caption, "width": p.width, "height": p.height,
         "url": reverse("cases:photo", args=[case.pk, p.pk])}
        for p in case.photos.all()
    ]


def public_item(case: Case, *, full: bool = False) -> dict:
    data = {
        "id": case.pk,
        "city": case.city.code,
        "city_name": case.city.name,
        "district": case.district.code,
        "district_name": case.district.name,
        "unit": case.unit.name,
        "zone_type": case.zone_type,
        "zone_type_label": case.zone_type_label,
        "duty_category": case.duty_category,
        "duty_category_label": case.duty_category_label,
        "planner": case.planner.name,
        "title": case.title,
        "summary": case.summary,
        "published_at": case.published_at.isoformat() if case.published_at else None,
        "url": reverse("cases:public_detail", args=[case.pk]),
        "photos": _photos(case),
    }
    if full:
        data["body"] = case.body
    return data


def staff_item(case: Case, *, full: bool = False) -> dict:
    data = public_item(case, full=full)
    data.update({
        "unit_id": case.unit_id,
        "status": case.status,
        "status_label": case.get_status_display(),
        "submitted_at": case.submitted_at.isoformat(),
        "decided_at": case.decided_at.isoformat() if case.decided_at else None,
        "review_comment": case.review_comment,
        "unpublished_at": case.unpublished_at.isoformat() if case.unpublished_at else None,
        "unpublish_reason": case.unpublish_reason,
        "url": reverse("cases:manage_detail", args=[case.pk]),
    })
    return data


def _page(limit: int, offset: int) -> tuple[int, int]:
    return limit_offset(limit, offset, max_limit=LIST_LIMIT_MAX, clamp=True)


@router.get("/cases", auth=None, response={200: dict[str, Any], **ERRORS}, summary="优秀案例（公开）")
@public_answer
def public_list(request, city: str = "", district: str = "", zone_type: str = "", duty_category: str = "",
                limit: int = 20, offset: int = 0):
    """已推荐发布的优秀案例，可按城市、区（代码）、功能区类型、工作职责类别筛选。"""
    limit, offset = _page(limit, offset)
    filters = selectors.public_filters_parse(
        {"city": city, "district": district, "zone_type": zone_type, "duty_category": duty_category})
    if (city and filters.city is None) or (district and filters.district is None):
        return {"count": 0, "limit": limit, "offset": offset, "items": []}
    queryset = selectors.public_case_list(filters)
    return {"count": queryset.count(), "limit": limit, "offset": offset,
            "items": [public_item(c) for c in queryset[offset:offset + limit]]}


@router.get("/cases/{case_id}", auth=None, response={200: dict[str, Any], **ERRORS}, summary="优秀案例详情（公开）")
@public_answer
def public_detail(request, case_id: int):
    return public_item(selectors.public_case_get(case_id), full=True)


@router.get("/case-submissions", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="案例提交与审核列表")
def staff_list(request, status: str = "", limit: int = 30, offset: int = 0):
    require_role(request, *selectors.STAFF_ROLES)
    limit, offset = _page(limit, offset)
    queryset = selectors.case_list(user=request.user, status=status)
    return {"count": queryset.count(), "limit": limit, "offset": offset,
            "items": [staff_item(c) for c in queryset[offset:offset + limit]]}


@router.get("/case-submissions/{case_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="案例详情（含审核信息）")
def staff_detail(request, case_id: int):
    require_role(request, *selectors.STAFF_ROLES)
    return staff_item(selectors.case_get(user=request.user, pk=case_id), full=True)


def _submission(request) -> tuple[dict, list, list]:
    content_type = request.content_type or ""
    if content_type.startswith("multipart/form-data") or content_type == "application/x-www-form-urlencoded":
        data = {k: request.POST.get(k, "") for k in FIELDS}
        return data, request.FILES.getlist("photos"), request.POST.getlist("remove_photos")
    body = json_object_body(request)
    data = {}
    for key in FIELDS:
        value = body.get(key, "")
        if value is not None and not isinstance(value, (str, int)):
            raise DomainError(f"字段 {key} 应为文本。", code="invalid_input")
        data[key] = str(value if value is not None else "")
    remove = body.get("remove_photos") or []
    if not isinstance(remove, list):
        raise DomainError("remove_photos 应为图片编号列表。", code="invalid_input")
    return data, [], remove


@router.post("/case-submissions", auth=auth_required, response={201: dict[str, Any], **ERRORS}, summary="提交优秀案例")
def submit(request):
    """责任规划师提交本人（本团队）服务过的责任单元的案例。"""
    data, photos, _ = _submission(request)
    raw = data["unit"].strip()
    unit = ResponsibilityUnit.objects.select_related("district", "city__policy").filter(pk=int(raw)).first() if is_digits(raw) and len(raw) < 10 else None
    if raw and unit is None:
        raise NotFound("责任单元不存在。", code="unit_not_found")
    case = services.case_submit(
        actor=request.user, unit=unit, title=data["title"], duty_category=data["duty_category"],
        summary=data["summary"], body=data["body"], photos=photos,
    )
    return Status(201, staff_item(selectors.case_get(user=request.user, pk=case.pk), full=True))


@router.post("/case-submissions/{case_id}/revise", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="修改后重新提交")
def revise(request, case_id: int):
    require_role(request, *selectors.STAFF_ROLES)
    case = selectors.case_get(user=request.user, pk=case_id)
    data, photos, remove = _submission(request)
    services.case_revise(
        actor=request.user, case=case, title=data["title"], duty_category=data["duty_category"],
        summary=data["summary"], body=data["body"], photos=photos, remove_photo_ids=remove,
    )
    return staff_item(selectors.case_get(user=request.user, pk=case_id), full=True)


@router.post("/case-submissions/{case_id}/review", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="审核：退回修改 / 推荐并发布 / 不予推荐")
def review(request, case_id: int, payload: ReviewIn):
    require_role(request, *selectors.STAFF_ROLES)
    case = selectors.case_get(user=request.user, pk=case_id)
    services.case_review(actor=request.user, case=case, decision=payload.decision, comment=payload.comment)
    return staff_item(selectors.case_get(user=request.user, pk=case_id), full=True)


@router.post("/case-submissions/{case_id}/unpublish", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="撤下已发布的案例")
def unpublish(request, case_id: int, payload: ReasonIn):
    require_role(request, *selectors.STAFF_ROLES)
    case = selectors.case_get(user=request.user, pk=case_id)
    services.case_unpublish(actor=request.user, case=case, reason=payload.reason)
    return staff_item(selectors.case_get(user=request.user, pk=case_id), full=True)
