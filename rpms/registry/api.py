"""Registry API (mounted at the API root, /api/v1/):

- GET /cities/{code}/pool?specialty=&status=&district=&title=&experience_min=&q=&limit=&offset=
  (city administrators and auditors: full rows with masked identifiers; district officers: public fields)
- GET /pool/{id} — a planner's record and dossier (个人档案)
- POST /pool/{id}/remove {"ground": CODE, "note"} — removal on a policy ground (P5(4))
- POST /pool/{id}/leave {"note"} — the planner asks to leave (P5(4) item 4)
- POST /pool/{id}/members {"name","specialty","is_core","exception_reason"?} — a team's member (B19(7) cap;
  beyond an in-principle cap only with `exception_reason`, granted by the city administrator)
- POST /cities/{code}/pool/commission — direct commission (B19(1)) where the pool needs no notice; the
  eligibility rules (B18) are checked on the facts and `declarations`: 400 `ineligible` with every failed
  rule, unless the city marks eligibility in principle and `exception_reason` is given
- Exceptions to in-principle limits (B18, B19(2), B19(7), rpms.registry.limits): GET /exceptions?status=&limit=
  (scoped) · GET /exceptions/{id} · POST /exceptions/{id}/approve {"note"?} (the waiting act is performed)
  · POST /exceptions/{id}/refuse {"reason"} — the city administrator
"""
from typing import Any

from ninja import Router, Schema, Status

from rpms.accounts.models import Role
from rpms.cities.selectors import city_get
from rpms.core.api import auth_required, require_role
from rpms.core.errors import DomainError, Forbidden
from rpms.core.params import limit_offset
from rpms.geography.models import District

from . import limits, selectors, services
from .models import LimitException

# Mounted at the API root (/api/v1/): paths are written in full, e.g. "/cities/{code}/pool".
router = Router(tags=["资源库"])


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class RemoveIn(Schema):
    ground: str
    note: str = ""


class LeaveIn(Schema):
    note: str


class MemberIn(Schema):
    name: str
    specialty: str = ""
    is_core: bool = False
    exception_reason: str = ""


class CommissionIn(Schema):
    reason: str
    name: str
    kind: str = "individual"
    leader_name: str = ""
    id_number: str = ""
    mobile: str = ""
    email: str = ""
    employer: str = ""
    degree: str = "none"
    major: str = ""
    title_level: str = "none"
    title_field: str = ""
    registrations: list[str] = []
    experience_years: int = 0
    major_field: str = ""
    specialties: list[str] = []
    districts: list[str] = []
    members: list[MemberIn] = []
    declarations: list[str] = []
    exception_reason: str = ""


def dossier_json(planner) -> dict:
    row = selectors.planner_row(planner, selectors.FULL)
    row["members"] = [{"name": m.name, "specialty": m.specialty, "is_core": m.is_core} for m in planner.members.all()]
    row["removal_note"] = planner.removal_note
    # Exceptions to in-principle limits this record was admitted or served under (B18, B19(2), B19(7)).
    row["limit_exceptions"] = [limits.limit_exception_json(e) for e in limits.exceptions_for_planner(planner)]
    row["events"] = [
        {"kind": e.kind, "label": e.get_kind_display(), "occurred_at": e.occurred_at.isoformat(), "article": e.article,
         "summary": e.summary, "actor": e.actor_repr}
        for e in selectors.dossier_events(planner)
    ]
    return row


@router.get("/cities/{code}/pool", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="资源库")
def pool(request, code: str, limit: int = 100, offset: int = 0):
    """市级管理员、审计员看到完整信息（身份证号、手机号为掩码）；区级工作人员只看到公开信息。
    筛选：specialty（专业领域代码）、status（active 在库〔默认〕、removed 已调出、candidate 待入库、all 全部）、district（熟悉的区的区划代码）、
    title（职称等级下限）、experience_min（工作年限下限）、q（姓名或单位）。"""
    city = city_get(code)
    access = selectors.pool_access(request.user, city)
    limit, offset = limit_offset(limit, offset, max_limit=selectors.POOL_PAGE_MAX)
    filters = selectors.pool_filters_parse(request.GET)
    queryset = selectors.pool_list(user=request.user, city=city, filters=filters)
    count = queryset.count()
    items = [selectors.planner_row(p, access) for p in selectors.pool_page(queryset, offset, offset + limit)]
    return {"count": count, "access": access, "filters": filters.as_query(), "items": items}


@router.get("/pool/{planner_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="个人档案")
def dossier(request, planner_id: int):
    """责任规划师的入库信息与个人档案（每一事项及其依据条款）；本市市级管理员、审计员和本人可查看。"""
    return dossier_json(selectors.planner_get(user=request.user, planner_id=planner_id))


@router.post("/pool/{planner_id}/remove", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="调出资源库")
def remove(request, planner_id: int, payload: RemoveIn):
    """按本市规定的调出情形（政策配置 removal_grounds 的代码）调出，立即生效；未知情形返回 400。"""
    require_role(request, Role.CITY_ADMIN)
    planner = selectors.planner_get(user=request.user, planner_id=planner_id, write=True)
    planner = services.planner_remove(actor=request.user, planner=planner, ground=payload.ground, note=payload.note)
    return {"id": planner.pk, "pool_status": planner.pool_status, "removal_ground": planner.removal_ground,
            "removed_at": planner.removed_at.isoformat()}


@router.post("/pool/{planner_id}/leave", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="申请退出资源库")
def leave(request, planner_id: int, payload: LeaveIn):
    """责任规划师本人申请退出（调出情形第 4 项），由市级管理员办理调出。"""
    planner = selectors.planner_get(user=request.user, planner_id=planner_id)
    if planner.user_id != request.user.pk:
        raise Forbidden("只有责任规划师本人可以申请退出。")
    services.planner_leave_request(actor=request.user, planner=planner, note=payload.note)
    return {"id": planner.pk, "leave_requested": True}


@router.post("/pool/{planner_id}/members", auth=auth_required, response={201: dict[str, Any], 202: dict[str, Any], **ERRORS},
             summary="登记团队成员")
def member_add(request, planner_id: int, payload: MemberIn):
    """团队核心成员不超过政策规定人数（北京 8 人，B19(7)）。"""
    require_role(request, Role.CITY_ADMIN)
    planner = selectors.planner_get(user=request.user, planner_id=planner_id, write=True)
    member = services.team_member_add(actor=request.user, planner=planner, name=payload.name,
                                      specialty=payload.specialty, is_core=payload.is_core,
                                      exception_reason=payload.exception_reason)
    if isinstance(member, LimitException):  # pragma: no cover - only the city administrator adds members
        return Status(202, {"status": "exception_pending", "exception": limits.limit_exception_json(member)})
    used = limits.exceptions_for_result(member)
    return Status(201, {"id": member.pk, "name": member.name, "specialty": member.specialty, "is_core": member.is_core,
                        "limit_exceptions": [limits.limit_exception_json(e) for e in used]})


class ExceptionDecisionIn(Schema):
    note: str = ""


class ExceptionRefuseIn(Schema):
    reason: str = ""


@router.get("/exceptions", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="原则性规定的例外（列表）")
def exception_list(request, status: str = "", limit: str = ""):
    """市级管理员看本市全部，区级工作人员看本区的和本人提出的，其他人看本人提出的。status：pending 待审批、approved 已批准、
    refused 未批准；limit：unit_cap、core_team_members、eligibility。"""
    rows = list(limits.limit_exception_list(user=request.user, status=status, limit=limit))
    return {"count": len(rows), "results": [limits.limit_exception_json(e) for e in rows]}


@router.get("/exceptions/{exception_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="原则性规定的例外（详情）")
def exception_detail(request, exception_id: int):
    return limits.limit_exception_json(limits.limit_exception_get(user=request.user, pk=exception_id))


@router.post("/exceptions/{exception_id}/approve", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="批准例外（并办理所申请的事项）")
def exception_approve(request, exception_id: int, payload: ExceptionDecisionIn | None = None):
    """市级管理员批准后，按原申请办理所等待的事项（其他规定仍逐项核验，不符合的不予办理并说明原因）。"""
    record = limits.limit_exception_get(user=request.user, pk=exception_id)
    record = limits.limit_exception_approve(actor=request.user, exception=record, note=payload.note if payload else "")
    return limits.limit_exception_json(record)


@router.post("/exceptions/{exception_id}/refuse", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="不予批准例外")
def exception_refuse(request, exception_id: int, payload: ExceptionRefuseIn):
    """市级管理员不予批准，须写明理由；所等待的事项不予办理。"""
    record = limits.limit_exception_get(user=request.user, pk=exception_id)
    record = limits.limit_exception_refuse(actor=request.user, exception=record, reason=payload.reason)
    return limits.limit_exception_json(record)


@router.post("/cities/{code}/pool/commission", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="定向委托入库")
def commission(request, code: str, payload: CommissionIn):
    """入库无须公示的城市（如北京）可定向委托责任规划师（B19(1)），须写明理由。"""
    require_role(request, Role.CITY_ADMIN)
    city = city_get(code)
    selectors.require_pool_manager(request.user, city)
    data = payload.dict()
    codes = data.pop("districts")
    districts = list(District.objects.filter(city=city, code__in=codes))
    if len(districts) != len(set(codes)):
        raise DomainError("熟悉的区须为本市的区。", code="invalid_district")
    reason = data.pop("reason")
    name = data.pop("name")
    members = [{k: v for k, v in m.items() if k != "exception_reason"} for m in data.pop("members")]
    planner = services.planner_commission(actor=request.user, city=city, reason=reason, name=name,
                                          familiar_districts=districts, members=members,
                                          declarations=data.pop("declarations"),
                                          exception_reason=data.pop("exception_reason"), **data)
    return Status(201, dossier_json(selectors.planner_get(user=request.user, planner_id=planner.pk)))


# --- roster import (名册导入) ---------------------------------------------------------------------------
# POST /cities/{code}/pool/imports (multipart "file") → the validation report (nothing imported yet)
# GET  /pool/imports/{id} → the report and progress
# POST /pool/imports/{id}/run {"only_valid": bool} → runs every step; 409 for 全部导入 while the file has errors


class ImportRunIn(Schema):
    only_valid: bool = False


@router.post("/cities/{code}/pool/imports", auth=auth_required, response={201: dict[str, Any], **ERRORS, 413: ErrorOut},
             summary="上传名册（校验）")
def roster_import_upload(request, code: str):
    """multipart/form-data，字段 file 为按模板填写的 .xlsx 名册。逐行按入库申请的同一规则校验，返回校验报告（按行、列列出中文错误），
    此时尚未导入。文件不是 .xlsx、表头不对、没有数据行、超过 20000 行或 10 MB 时返回 4xx，不保存任何内容。"""
    from . import roster_import as roster

    require_role(request, Role.CITY_ADMIN)
    city = city_get(code)
    selectors.require_pool_manager(request.user, city)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        raise DomainError("请以 multipart/form-data 上传名册文件（字段名 file）。", code="import_file_missing")
    roster_import = roster.roster_import_upload(actor=request.user, city=city, uploaded_file=uploaded)
    return Status(201, roster.roster_import_report(roster_import))


@router.get("/pool/imports/{import_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="名册导入报告")
def roster_import_detail(request, import_id: int):
    """校验报告与导入进度；仅本市市级管理员可查看（其他城市 404，其他角色 403）。"""
    from . import roster_import as roster

    return roster.roster_import_report(roster.roster_import_get(user=request.user, import_id=import_id))


@router.post("/pool/imports/{import_id}/run", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="执行名册导入")
def roster_import_run(request, import_id: int, payload: ImportRunIn):
    """only_valid=false 为“全部导入”（名册有错误时返回 409，不导入任何行）；only_valid=true 为“只导入无误的行”。
    导入在后台任务中分批进行（每批一个事务）：返回导入报告和 job（后台任务）。生产环境中返回时通常 status 仍为
    importing，可用 GET /api/v1/jobs/{job.id} 或 GET /api/v1/pool/imports/{id} 查询进度，完成后 status 为 done。"""
    from rpms.core.jobs import job_json

    from . import roster_import as roster

    roster_import = roster.roster_import_get(user=request.user, import_id=import_id)
    if roster_import.status != roster.RosterImportStatus.IMPORTING:
        roster_import = roster.roster_import_start(actor=request.user, roster_import=roster_import,
                                                   only_valid=payload.only_valid)
    job = roster.roster_import_enqueue(actor=request.user, roster_import=roster_import)
    job.refresh_from_db()
    roster_import = roster.roster_import_get(user=request.user, import_id=import_id)
    return {**roster.roster_import_report(roster_import), "job": job_json(job)}
