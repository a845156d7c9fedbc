"""Suggestions API (mounted at the API root, /api/v1/).

Public (no account):
- GET  /public/units/{id}/suggestions?page=&page_size= → the unit's visible suggestions with replies
- POST /public/units/{id}/suggestions → 201 {"tracking_code", ...}; JSON {"category","content",
  "contact_name","contact_phone","street"} or multipart/form-data with the same fields plus "photos"
  (JPEG/PNG); rate-limited per client address (429)
- GET  /public/suggestions/{tracking_code} → status, due date and public replies (rate-limited)
Public answers never carry contact details, photos, recipients, the department's answer or hidden content;
a suggestion held for review (policy `suggestions_premoderated`) is not listed until released, and its
tracking answer gives its status only. Free text in public answers is masked (rpms.core.masking).

Staff (bearer token or session):
- GET  /suggestions?status=&overdue=&pending=&vacant=&hidden=&unit=&district=&q=&limit=&offset=
- GET  /suggestions/{id} · GET /suggestions/{id}/photos/{photo_id}
- POST /suggestions/{id}/reply {"text"} · /forward {"department_id","note"}
  · /department-answer {"text","answered_on"} · /close {"note"}
- POST /suggestions/{id}/hide {"reason"} · /unhide {"reason"} (city administrator)
- POST /suggestions/{id}/release (district officer of its district, city administrator): publishes a
  suggestion held for review
- GET/POST /work-proposals · GET /work-proposals/{id} · POST /work-proposals/{id}/acknowledge {"note"}"""
from datetime import date
from typing import Any

from ninja import Router, Schema, Status

from rpms.accounts.models import Role
from rpms.core import clock
from rpms.core.api import auth_required, json_object_body, public_answer, require_role
from rpms.core.errors import DomainError, NotFound
from rpms.core.masking import mask_mobile
from rpms.core.params import limit_offset, page_number
from rpms.core.uploads import proof_response
from rpms.geography.models import Department, ResponsibilityUnit

from . import permissions, selectors, services
from .throttle import lookup_rate_hit, submit_rate_hit

router = Router(tags=["居民意见建议"])

STAFF_ROLES = (Role.PLANNER, Role.DISTRICT_OFFICER, Role.CITY_ADMIN, Role.AUDITOR)
LIST_LIMIT_MAX = 200


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class ReplyIn(Schema):
    text: str


class ForwardIn(Schema):
    department_id: int
    note: str = ""


class DepartmentAnswerIn(Schema):
    text: str
    answered_on: date


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str


class ProposalIn(Schema):
    unit_id: int
    title: str
    analysis: str
    recommendation: str
    suggestion_ids: list[int]


# --- output -------------------------------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value else None


def _replies(suggestion) -> list[dict]:
    return [{"text": r.text, "author": r.author_label, "replied_at": _iso(r.replied_at)} for r in suggestion.public_replies]


def public_item(suggestion) -> dict:
    """What anyone may see of a visible suggestion."""
    return {
        "id": suggestion.pk,
        "category": suggestion.category,
        "category_label": suggestion.get_category_display(),
        "content": suggestion.content,
        "subdistrict": suggestion.subdistrict.name if suggestion.subdistrict_id else None,
        "received_on": _iso(suggestion.received_on),
        "due_on": _iso(suggestion.due_on),
        "status": suggestion.status,
        "status_label": suggestion.get_status_display(),
        "forwarded_to": suggestion.department.name if suggestion.department_id else None,
        "forwarded_on": _iso(clock.localdate(suggestion.forwarded_at)) if suggestion.forwarded_at else None,
        "closed_on": _iso(clock.localdate(suggestion.closed_at)) if suggestion.closed_at else None,
        "replies": _replies(suggestion),
    }


def tracking_item(suggestion) -> dict:
    data = {
        "tracking_code": suggestion.tracking_code,
        "city": suggestion.city.name,
        "district": suggestion.district.name,
        "unit": {"id": suggestion.unit_id, "name": suggestion.unit.name},
        "hidden": suggestion.hidden_at is not None,
        "awaiting_release": suggestion.awaiting_release,
    }
    if suggestion.hidden_at is not None or suggestion.awaiting_release:
        # Hidden or awaiting review: the status (and the city's reason), not the text or the replies.
        data.update({
            "category": suggestion.category, "received_on": _iso(suggestion.received_on),
            "due_on": _iso(suggestion.due_on),
            "status": suggestion.status, "status_label": suggestion.get_status_display(),
            "hidden_reason": suggestion.hidden_reason, "replies": [],
        })
        return data
    data.update(public_item(suggestion))
    data.pop("id")
    data["response_working_days"] = suggestion.response_working_days
    return data


def staff_item(suggestion, *, today) -> dict:
    return {
        "id": suggestion.pk,
        "tracking_code": suggestion.tracking_code,
        "city": suggestion.city.code,
        "district": {"id": suggestion.district_id, "name": suggestion.district.name},
        "unit": {"id": suggestion.unit_id, "name": suggestion.unit.name},
        "subdistrict": suggestion.subdistrict.name if suggestion.subdistrict_id else None,
        "category": suggestion.category,
        "content": suggestion.content,
        "received_at": _iso(suggestion.received_at),
        "received_on": _iso(suggestion.received_on),
        "due_on": _iso(suggestion.due_on),
        "due_provisional": suggestion.due_provisional,
        "overdue": bool(getattr(suggestion, "overdue", suggestion.is_overdue(today))),
        "status": suggestion.status,
        "status_label": suggestion.get_status_display(),
        "unit_vacant": suggestion.unit_vacant,
        "hidden": suggestion.hidden_at is not None,
        "hidden_reason": suggestion.hidden_reason,
        "awaiting_release": suggestion.awaiting_release,
        "released_at": _iso(suggestion.released_at),
        "replied_at": _iso(suggestion.replied_at),
        "forwarded_to": {"id": suggestion.department_id, "name": suggestion.department.name} if suggestion.department_id else None,
        "has_contact": bool(suggestion.contact_name or suggestion.contact_phone),
    }


def staff_detail(suggestion, *, user, today) -> dict:
    data = staff_item(suggestion, today=today)
    full = permissions.sees_full_contact(user, suggestion, on=today)
    data.update({
        "contact_name": suggestion.contact_name,
        "contact_phone": suggestion.contact_phone if full else mask_mobile(suggestion.contact_phone),
        "recipients": [{"planner_id": r.planner_id, "name": r.planner.name, "delivered_at": _iso(r.delivered_at)}
                       for r in suggestion.recipients.all()],
        "photos": [{"id": p.pk, "name": p.original_name, "kind": p.kind, "size": p.size} for p in suggestion.photos.all()],
        "replies": _replies(suggestion),
        "forwarded_at": _iso(suggestion.forwarded_at),
        "forward_note": suggestion.forward_note,
        "department_answer": suggestion.department_answer or None,
        "department_answered_on": _iso(suggestion.department_answered_on),
        "closed_at": _iso(suggestion.closed_at),
        "close_note": suggestion.close_note,
        "hidden_at": _iso(suggestion.hidden_at),
        "proposals": [{"id": p.pk, "title": p.title, "status": p.status} for p in suggestion.proposals.all()],
        "can_handle": full,
        "can_moderate": permissions.can_moderate(user, suggestion),
        "can_release": suggestion.awaiting_release and permissions.can_release(user, suggestion),
    })
    return data


def proposal_item(proposal) -> dict:
    return {
        "id": proposal.pk,
        "city": proposal.city.code,
        "unit": {"id": proposal.unit_id, "name": proposal.unit.name},
        "district": {"id": proposal.district_id, "name": proposal.district.name},
        "planner": {"id": proposal.planner_id, "name": proposal.planner.name},
        "title": proposal.title,
        "status": proposal.status,
        "status_label": proposal.get_status_display(),
        "submitted_at": _iso(proposal.submitted_at),
        "acknowledged_at": _iso(proposal.acknowledged_at),
    }


def proposal_detail(proposal) -> dict:
    data = proposal_item(proposal)
    data.update({
        "analysis": proposal.analysis,
        "recommendation": proposal.recommendation,
        "acknowledgement_note": proposal.acknowledgement_note,
        "suggestions": [{**public_item(s), "tracking_code": s.tracking_code, "hidden": s.hidden_at is not None}
                        for s in proposal.suggestions.all()],
    })
    return data


# --- public -------------------------------------------------------------------------------------------------


def _page_args(page, page_size):
    page_size, _ = limit_offset(page_size, 0, max_limit=selectors.PAGE_SIZE_MAX, clamp=True)
    return page_number(page), page_size


@router.get("/public/units/{unit_id}/suggestions", auth=None, response={200: dict[str, Any], **ERRORS},
            summary="责任单元的公开意见建议（公开）")
@public_answer
def public_unit_suggestions(request, unit_id: int, page: int = 1, page_size: int = selectors.PUBLIC_PAGE_SIZE):
    """本单元未被隐藏的意见建议及其公开答复，按受理时间倒序；不含任何联系方式。"""
    unit = selectors.public_unit_get(unit_id)
    page, page_size = _page_args(page, page_size)
    items, total = selectors.public_unit_suggestions(unit, page=page, page_size=page_size)
    return {
        "unit": {"id": unit.pk, "name": unit.name, "district": unit.district.name, "city": unit.city.name,
                 "subdistricts": [m.subdistrict.name for m in unit.active_memberships]},
        "count": total, "page": page, "page_size": page_size,
        "items": [public_item(s) for s in items],
    }


def _submission(request) -> tuple[dict, list]:
    content_type = request.content_type or ""
    if content_type.startswith("multipart/form-data") or content_type == "application/x-www-form-urlencoded":
        return {k: request.POST.get(k, "") for k in ("category", "content", "contact_name", "contact_phone", "street")}, \
            request.FILES.getlist("photos")
    data = json_object_body(request)
    for key in ("category", "content", "contact_name", "contact_phone", "street"):
        value = data.get(key, "")
        if value is not None and not isinstance(value, (str, int)):
            raise DomainError(f"字段 {key} 应为文本。", code="invalid_input")
    return {k: str(data.get(k) or "") for k in ("category", "content", "contact_name", "contact_phone", "street")}, []


@router.post("/public/units/{unit_id}/suggestions", auth=None, response={201: dict[str, Any], **ERRORS},
             summary="提交意见建议（匿名）")
def public_submit(request, unit_id: int):
    """无需登录。JSON 或 multipart/form-data：category（suggestion 意见建议 / problem 问题反映）、content、
    可选 contact_name、contact_phone（手机号）、street（街道乡镇代码）、photos（JPEG/PNG 图片）。
    同一来源 10 分钟内最多 5 条，超出返回 429（已提交的不受影响）。返回查询码。"""
    submit_rate_hit(request)
    unit = selectors.public_unit_get(unit_id)
    data, photos = _submission(request)
    street = None
    if data["street"]:
        street = next((m.subdistrict for m in unit.active_memberships if m.subdistrict.code == data["street"]), None)
        if street is None:
            raise DomainError("所选街道乡镇不属于该责任单元。", code="subdistrict_not_in_unit")
    suggestion = services.suggestion_submit(
        actor=None, unit=unit, subdistrict=street, category=data["category"], content=data["content"],
        contact_name=data["contact_name"], contact_phone=data["contact_phone"], photos=photos,
    )
    return Status(201, {
        "tracking_code": suggestion.tracking_code, "status": suggestion.status, "received_on": _iso(suggestion.received_on),
        "due_on": _iso(suggestion.due_on), "unit_vacant": suggestion.unit_vacant,
    })


@router.get("/public/suggestions/{tracking_code}", auth=None, response={200: dict[str, Any], **ERRORS},
            summary="凭查询码查询办理进度（公开）")
@public_answer
def public_track(request, tracking_code: str):
    """办理状态、答复期限和公开答复；不含联系方式。被隐藏的只返回状态和隐藏原因。"""
    lookup_rate_hit(request)
    return tracking_item(selectors.public_suggestion_by_code(tracking_code))


# --- staff --------------------------------------------------------------------------------------------------


def _flag(value: str | None):
    if value in (None, ""):
        return None
    if value in ("1", "true", "True"):
        return True
    if value in ("0", "false", "False"):
        return False
    raise DomainError("筛选参数应为 1 或 0。", code="invalid_filter")


@router.get("/suggestions", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="意见建议列表（按职责范围）")
def suggestion_list(request, status: str = "", overdue: str = "", pending: str = "", vacant: str = "", hidden: str = "",
                    unit: int | None = None, district: int | None = None, q: str = "", limit: int = 50, offset: int = 0,
                    awaiting_release: str = ""):
    """责任规划师：当前服务的单元；区级：本区；市级与审计：本市。overdue=1 只看超期未答复的。"""
    require_role(request, *STAFF_ROLES)
    limit, offset = limit_offset(limit, offset, max_limit=LIST_LIMIT_MAX, clamp=True)
    queryset = selectors.suggestion_list(
        user=request.user, status=status, overdue=_flag(overdue), pending=_flag(pending), vacant=_flag(vacant),
        hidden=_flag(hidden), unit_id=unit, district_id=district, q=q, awaiting_release=_flag(awaiting_release),
    )
    today = clock.today()
    rows = list(queryset[offset:offset + limit])
    return {"count": queryset.count(), "limit": limit, "offset": offset,
            "items": [staff_item(s, today=today) for s in rows]}


def _get(request, suggestion_id):
    require_role(request, *STAFF_ROLES)
    return selectors.suggestion_get(user=request.user, pk=suggestion_id)


def _detail(request, suggestion_id):
    suggestion = selectors.suggestion_get(user=request.user, pk=suggestion_id)
    return staff_detail(suggestion, user=request.user, today=clock.today())


@router.get("/suggestions/{suggestion_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="意见建议详情")
def suggestion_detail(request, suggestion_id: int):
    require_role(request, *STAFF_ROLES)
    return _detail(request, suggestion_id)


@router.get("/suggestions/{suggestion_id}/photos/{photo_id}", auth=auth_required, response={**ERRORS}, summary="下载意见建议图片")
def suggestion_photo(request, suggestion_id: int, photo_id: int):
    suggestion = _get(request, suggestion_id)
    photo = next((p for p in suggestion.photos.all() if p.pk == photo_id), None)
    if photo is None:
        raise NotFound("图片不存在或您无权查看。")
    return proof_response(photo.path, download_name=photo.original_name, reader=request.user, obj=photo)


@router.post("/suggestions/{suggestion_id}/reply", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="公开答复")
def suggestion_reply(request, suggestion_id: int, payload: ReplyIn):
    """当前在本单元服务的责任规划师或本区主管部门公开答复（说明已采取的措施或不能采纳的理由）→ 已答复。"""
    services.suggestion_reply(actor=request.user, suggestion=_get(request, suggestion_id), text=payload.text)
    return _detail(request, suggestion_id)


@router.post("/suggestions/{suggestion_id}/forward", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="转交相关部门")
def suggestion_forward(request, suggestion_id: int, payload: ForwardIn):
    suggestion = _get(request, suggestion_id)
    department = Department.objects.filter(pk=payload.department_id).first()
    services.suggestion_forward(actor=request.user, suggestion=suggestion, department=department, note=payload.note)
    return _detail(request, suggestion_id)


@router.post("/suggestions/{suggestion_id}/department-answer", auth=auth_required,
             response={200: dict[str, Any], **ERRORS}, summary="登记部门答复")
def suggestion_department_answer(request, suggestion_id: int, payload: DepartmentAnswerIn):
    services.suggestion_department_answer_record(
        actor=request.user, suggestion=_get(request, suggestion_id), text=payload.text, answered_on=payload.answered_on)
    return _detail(request, suggestion_id)


@router.post("/suggestions/{suggestion_id}/close", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="办结")
def suggestion_close(request, suggestion_id: int, payload: NoteIn):
    services.suggestion_close(actor=request.user, suggestion=_get(request, suggestion_id), note=payload.note)
    return _detail(request, suggestion_id)


@router.post("/suggestions/{suggestion_id}/hide", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="隐藏不适宜公开的内容（市级）")
def suggestion_hide(request, suggestion_id: int, payload: ReasonIn):
    """须填写原因；记录保留，公开页面和公开接口不再显示，工作人员可见并标为已隐藏。"""
    require_role(request, Role.CITY_ADMIN)
    services.suggestion_hide(actor=request.user, suggestion=_get(request, suggestion_id), reason=payload.reason)
    return _detail(request, suggestion_id)


@router.post("/suggestions/{suggestion_id}/unhide", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="恢复公开显示（市级）")
def suggestion_unhide(request, suggestion_id: int, payload: ReasonIn):
    require_role(request, Role.CITY_ADMIN)
    services.suggestion_unhide(actor=request.user, suggestion=_get(request, suggestion_id), reason=payload.reason)
    return _detail(request, suggestion_id)


@router.post("/suggestions/{suggestion_id}/release", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="审核放行，公开显示（区级、市级）")
def suggestion_release(request, suggestion_id: int):
    """本市规定意见建议须审核后公开时（政策 suggestions_premoderated），本区主管部门或市级主管部门审核放行；
    放行前公开页面、公开接口和开放数据均不显示。已公开的返回 409。"""
    require_role(request, Role.DISTRICT_OFFICER, Role.CITY_ADMIN)
    services.suggestion_release(actor=request.user, suggestion=_get(request, suggestion_id))
    return _detail(request, suggestion_id)


# --- work proposals -----------------------------------------------------------------------------------------


@router.get("/work-proposals", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="工作建议列表")
def work_proposal_list(request, status: str = "", limit: int = 50, offset: int = 0):
    limit, offset = limit_offset(limit, offset, max_limit=LIST_LIMIT_MAX, clamp=True)
    queryset = selectors.work_proposal_list(user=request.user, status=status)
    return {"count": queryset.count(), "limit": limit, "offset": offset,
            "items": [proposal_item(p) for p in queryset[offset:offset + limit]]}


@router.post("/work-proposals", auth=auth_required, response={201: dict[str, Any], **ERRORS}, summary="提出工作建议")
def work_proposal_submit(request, payload: ProposalIn):
    """责任规划师把本单元的若干意见建议归纳成工作建议，提交聘任主体（B11(2) 形成工作建议）。"""
    require_role(request, Role.PLANNER)
    unit = ResponsibilityUnit.objects.select_related("city__policy", "district").filter(pk=payload.unit_id).first()
    if unit is None:
        raise NotFound("责任单元不存在。", code="unit_not_found")
    proposal = services.work_proposal_submit(
        actor=request.user, unit=unit, title=payload.title, analysis=payload.analysis,
        recommendation=payload.recommendation, suggestions=payload.suggestion_ids,
    )
    return Status(201, proposal_detail(selectors.work_proposal_get(user=request.user, pk=proposal.pk)))


@router.get("/work-proposals/{proposal_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="工作建议详情")
def work_proposal_detail(request, proposal_id: int):
    return proposal_detail(selectors.work_proposal_get(user=request.user, pk=proposal_id))


@router.post("/work-proposals/{proposal_id}/acknowledge", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="聘任主体签收工作建议")
def work_proposal_acknowledge(request, proposal_id: int, payload: NoteIn):
    proposal = selectors.work_proposal_get(user=request.user, pk=proposal_id)
    services.work_proposal_acknowledge(actor=request.user, proposal=proposal, note=payload.note)
    return proposal_detail(selectors.work_proposal_get(user=request.user, pk=proposal_id))
