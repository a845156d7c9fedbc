"""Dispatch API (mounted at the API root, /api/v1/; paths are written in full):

- POST /cities/{code}/dispatch-requests {"district"?, "role", "specialties", "slots_per_unit", "units", "service_focus", "note"}
  (district officer, own district only) → 201
- GET  /cities/{code}/dispatch-requests?status= (city-wide readers: all; district officer: own districts)
- GET  /dispatch-requests/{id}
- POST /dispatch-requests/{id}/accept | /return {"reason"} (city administrator) | /withdraw {"note"} (district)
- POST /cities/{code}/matching {"requests": [ids]} (optional; all accepted requests when absent)
- GET  /matching-runs/{id}
- POST /proposals/{id}/confirm {"start"} → 201 {"appointment": id, ...}
- POST /proposals/{id}/replace {"planner", "reason"} → 201, the new proposal
- POST /conflicts {"planner", "unit" | "district", "kind", "note"} → 201; GET /conflicts?planner=;
  POST /conflicts/{id}/withdraw
- GET  /dispatch/replacement-proposals?unit=&role=&exclude=&start= (P6(5) replacement alternatives)
"""
from typing import Any

from ninja import Router, Schema, Status

from rpms.cities.selectors import city_get
from rpms.core.api import auth_required, json_object_body
from rpms.core.errors import DomainError, NotFound
from rpms.core.params import limit_offset
from rpms.geography.models import District, ResponsibilityUnit
from rpms.registry.models import Planner

from . import selectors, services
from .permissions import officer_district_ids

router = Router(tags=["统筹选派"])


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class RequestIn(Schema):
    district: str | None = None
    role: str
    specialties: list[str] = []
    slots_per_unit: int = 1
    units: list[int]
    service_focus: str = ""
    note: str = ""


class ReasonIn(Schema):
    reason: str = ""


class NoteIn(Schema):
    note: str = ""


class ConfirmIn(Schema):
    start: str = ""


class ReplaceIn(Schema):
    planner: int
    reason: str = ""


class ConflictIn(Schema):
    planner: int
    unit: int | None = None
    district: str | None = None  # district code (a conflict with every unit of the district)
    kind: str
    note: str = ""


def run_json(run, proposals) -> dict:
    return {
        "run": run.pk,
        "city": run.city.code,
        "created_at": run.created_at.isoformat(),
        "requests": sorted(r.pk for r in run.requests.all()),
        "proposals": [selectors.proposal_json(p) for p in proposals],
        "unfilled": [
            {"request": u["request"], "unit": u["unit"], "unit_name": u.get("unit_name", ""), "role": u["role"],
             "reason_code": u["reason_code"], "reason": u["reason"]}
            for u in run.unfilled
        ],
        "objective": run.objective,
        "optimal": run.optimal,
        "seconds": run.seconds,
        "method": run.method,
        "slots": run.slot_count,
        "candidates": run.candidate_count,
        "input_digest": run.input_digest,
    }


def _request(request, pk: int):
    return selectors.request_get(user=request.user, pk=pk)


@router.post("/cities/{code}/dispatch-requests", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="提交派驻申请")
def request_submit(request, code: str, payload: RequestIn):
    """区级工作人员为本区的责任单元申请派驻（P6(1)）：角色（政策 roles 代码）、所需专业领域、每单元人数（1–3）、
    责任单元编号、服务重点。其他区的单元返回 403。"""
    city = city_get(code)
    user = request.user
    if payload.district:
        district = District.objects.filter(city=city, code=payload.district).first()
        if district is None:
            raise NotFound(f"{city.name}没有区划代码为“{payload.district}”的区。", code="district_not_found")
    else:
        own = list(District.objects.filter(city=city, pk__in=officer_district_ids(user)))
        if len(own) != 1:
            raise DomainError("请用 district 指明申请派驻的区（区划代码）。", code="district_required")
        district = own[0]
    created = services.dispatch_request_submit(
        actor=user, city=city, district=district, role=payload.role, units=payload.units,
        specialties=payload.specialties, slots_per_unit=payload.slots_per_unit,
        service_focus=payload.service_focus, note=payload.note,
    )
    return Status(201, selectors.request_json(selectors.request_get(user=user, pk=created.pk)))


@router.get("/cities/{code}/dispatch-requests", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="派驻申请列表")
def request_list(request, code: str, status: str = "", limit: int = 200, offset: int = 0):
    """市级管理员、审计员看到本市全部申请；区级工作人员只看到本区的申请（含退回理由）。最新的在前。
    分页：limit（每页条数，默认 200，最多 1000）、offset（起始位置，默认 0）；count 为符合条件的总数。"""
    city = city_get(code)
    limit, offset = limit_offset(limit, offset, max_limit=1000)
    rows = selectors.request_list(user=request.user, city=city, status=status or None)
    items = [selectors.request_json(r) for r in rows[offset: offset + limit]]
    return {"count": rows.count(), "limit": limit, "offset": offset, "items": items}


@router.get("/dispatch-requests/{request_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="派驻申请详情")
def request_detail(request, request_id: int):
    return selectors.request_json(_request(request, request_id))


@router.post("/dispatch-requests/{request_id}/accept", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="受理派驻申请")
def request_accept(request, request_id: int):
    found = _request(request, request_id)
    services.dispatch_request_accept(actor=request.user, request=found)
    return selectors.request_json(_request(request, request_id))


@router.post("/dispatch-requests/{request_id}/return", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="退回派驻申请")
def request_return(request, request_id: int, payload: ReasonIn):
    """须写明退回理由，申请区可见。"""
    found = _request(request, request_id)
    services.dispatch_request_return(actor=request.user, request=found, reason=payload.reason)
    return selectors.request_json(_request(request, request_id))


@router.post("/dispatch-requests/{request_id}/withdraw", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="撤回派驻申请")
def request_withdraw(request, request_id: int, payload: NoteIn):
    found = _request(request, request_id)
    services.dispatch_request_withdraw(actor=request.user, request=found, note=payload.note)
    return selectors.request_json(_request(request, request_id))


@router.post("/cities/{code}/matching", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="统筹选派")
def matching(request, code: str):
    """对已受理的派驻申请统筹选派（P6(2)）。请求体 {"requests": [编号]} 可省略（默认全部已受理申请）。
    返回每条建议（含得分与说明：评分项和已核验的硬性规则）和未满足的岗位及原因。"""
    city = city_get(code)
    data = json_object_body(request) if (request.body or b"").strip() else {}
    ids = data.get("requests")
    if ids is not None and not isinstance(ids, list):
        raise DomainError("requests 应为派驻申请编号的列表。", code="invalid_request_ids")
    run = services.matching_run(actor=request.user, city=city, request_ids=ids)
    run = selectors.run_get(user=request.user, pk=run.pk)
    return Status(201, run_json(run, selectors.run_proposals(run)))


@router.get("/matching-runs/{run_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="统筹选派结果")
def matching_run_detail(request, run_id: int):
    run = selectors.run_get(user=request.user, pk=run_id)
    return run_json(run, selectors.run_proposals(run))


@router.post("/proposals/{proposal_id}/confirm", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="确认选派建议")
def proposal_confirm(request, proposal_id: int, payload: ConfirmIn):
    """按建议办理聘任（生成派驻通知、聘任证书和聘用合同）。超过服务单元上限、不在库、已在该单元任职时返回 409。"""
    proposal = selectors.proposal_get(user=request.user, pk=proposal_id)
    appointment = services.proposal_confirm(actor=request.user, proposal=proposal, start=payload.start)
    proposal.refresh_from_db()
    proposal.request.refresh_from_db()
    return Status(201, {"appointment": appointment.pk, "proposal": proposal.pk, "status": proposal.status,
                        "request_status": proposal.request.status, "start": appointment.start.isoformat(),
                        "end": appointment.end.isoformat()})


@router.post("/proposals/{proposal_id}/replace", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="人工替换选派建议")
def proposal_replace(request, proposal_id: int, payload: ReplaceIn):
    """须写明理由；新人选须同样满足全部硬性规则，否则返回 409 并说明原因。"""
    proposal = selectors.proposal_get(user=request.user, pk=proposal_id)
    planner = Planner.objects.filter(pk=payload.planner, city=proposal.run.city).first()
    if planner is None:
        raise NotFound("该责任规划师不在本市资源库中。", code="planner_not_found")
    new = services.proposal_replace(actor=request.user, proposal=proposal, planner=planner, reason=payload.reason)
    return Status(201, selectors.proposal_json(selectors.proposal_get(user=request.user, pk=new.pk)))


@router.post("/conflicts", auth=auth_required, response={201: dict[str, Any], **ERRORS}, summary="登记利益冲突")
def conflict_declare(request, payload: ConflictIn):
    """责任规划师本人申报，或市级管理员、该单元所在区的工作人员登记；unit（责任单元编号）与 district（区划代码）二选一。"""
    planner = Planner.objects.select_related("city__policy").filter(pk=payload.planner).first()
    if planner is None:
        raise NotFound("责任规划师不存在。", code="planner_not_found")
    unit = district = None
    if payload.unit is not None:
        unit = ResponsibilityUnit.objects.select_related("district").filter(pk=payload.unit).first()
        if unit is None:
            raise NotFound("责任单元不存在。", code="unit_not_found")
    if payload.district:
        district = District.objects.filter(code=payload.district).first()
        if district is None:
            raise NotFound("区不存在。", code="district_not_found")
    declaration = services.conflict_declare(actor=request.user, planner=planner, unit=unit, district=district,
                                            kind=payload.kind, note=payload.note)
    return Status(201, selectors.conflict_json(selectors.conflict_get(user=request.user, pk=declaration.pk)))


@router.get("/conflicts", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="利益冲突申报")
def conflict_list(request, planner: int | None = None, active: bool = False):
    rows = selectors.conflict_list(user=request.user, planner_id=planner, include_withdrawn=not active)
    items = [selectors.conflict_json(c) for c in rows[:500]]
    return {"count": len(items), "items": items}


@router.post("/conflicts/{conflict_id}/withdraw", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="撤销利益冲突申报")
def conflict_withdraw(request, conflict_id: int):
    declaration = selectors.conflict_get(user=request.user, pk=conflict_id)
    services.conflict_withdraw(actor=request.user, declaration=declaration)
    return selectors.conflict_json(selectors.conflict_get(user=request.user, pk=conflict_id))


@router.get("/dispatch/replacement-proposals", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="补位建议")
def replacement(request, unit: int, role: str, exclude: str = "", start: str = ""):
    """某责任单元某角色的补位人选（按匹配得分排序，最多 5 名）；exclude 为逗号分隔的需排除的规划师编号（如退出者）。"""
    found = ResponsibilityUnit.objects.select_related("city__policy", "district").filter(pk=unit).first()
    if found is None:
        raise NotFound("责任单元不存在。", code="unit_not_found")
    try:
        excluded = [int(x) for x in exclude.split(",") if x.strip()]
    except ValueError:
        raise DomainError("exclude 应为逗号分隔的规划师编号。", code="invalid_exclude") from None
    items = services.replacement_proposals(actor=request.user, unit=found, role=role, exclude_planner_ids=excluded,
                                           start=start or None)
    return {"unit": found.pk, "role": role, "items": items}
