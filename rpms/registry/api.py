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


# --- issue #17 item 8: profiles and teams kept current -------------------------------------------------------
# GET  /planners/me/profile — the signed-in planner's own record as they keep it current (and what waits)
# PATCH /planners/me/profile {"mobile"?, "email"?, "employer"?, "bio"?, "specialties"?, "districts"?, …} — what the
#   eligibility rules do not read applies at once; a field they read (B18 / P4) needs proof: 400 `proof_required`
#   (submit it with POST /profile-changes, multipart with the file `proof`)
# POST /profile-changes (multipart: the same fields, repeated for lists, `note`, file `proof`) — held for verification
# GET  /profile-changes?status=pending|approved|rejected · GET /profile-changes/{id} · GET /profile-changes/{id}/proof
# POST /profile-changes/{id}/approve {"note"?} · POST /profile-changes/{id}/reject {"reason"} — the city administrator
# GET  /teams/{id} · PATCH /teams/{id} {"leader_member": id} · POST /teams/{id}/members {"name","specialty","is_core",
#   "exception_reason"?} · PATCH /teams/{id}/members/{member_id} {"is_core"} · DELETE /teams/{id}/members/{member_id}
# POST /teams/{id}/members/{member_id}/invite → {"url"} (shown once) · POST /team-invitations/accept {"token"} — the team's leader
#   or the city administrator (the invited member joins with their own planner account)

from . import profiles as _profiles  # noqa: E402
from . import teams as _teams  # noqa: E402
from .models import ProfileChangeStatus  # noqa: E402


class ProfilePatchIn(Schema):
    mobile: str | None = None
    email: str | None = None
    employer: str | None = None
    bio: str | None = None
    specialties: list[str] | None = None
    districts: list[str] | None = None
    degree: str | None = None
    major: str | None = None
    major_field: str | None = None
    title_level: str | None = None
    title_field: str | None = None
    registrations: list[str] | None = None
    experience_years: int | None = None
    note: str = ""


def _profile_answer(result) -> dict:
    planner = _profiles.my_planner(result.planner.user)
    return {**_profiles.profile_json(planner), "applied": result.applied,
            "change": _profiles.profile_change_json(result.change) if result.change is not None else None}


@router.get("/planners/me/profile", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="我的信息")
def my_profile(request):
    """已入库（或待入库）责任规划师本人的信息；verified_fields 为须经市级主管部门核实的项目（由本市选聘条件决定）。"""
    return _profiles.profile_json(_profiles.my_planner(request.user))


@router.patch("/planners/me/profile", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="更新我的信息")
def my_profile_update(request, payload: ProfilePatchIn):
    """只提交要变更的项目。选聘条件不涉及的项目（手机号码、电子邮箱、工作单位、个人简介、擅长领域、熟悉的区）立即生效；
    选聘条件涉及的项目须附证明材料，请用 POST /api/v1/profile-changes（multipart）提交，此处返回 400 proof_required。"""
    data = payload.dict(exclude_none=True)
    note = data.pop("note", "")
    result = _profiles.profile_update(actor=request.user, planner=_profiles.my_planner(request.user), data=data, note=note)
    return _profile_answer(result)


@router.post("/profile-changes", auth=auth_required, response={201: dict[str, Any], 200: dict[str, Any], **ERRORS, 413: ErrorOut},
             summary="提交资格信息变更（附证明材料）")
def profile_change_submit(request):
    """multipart/form-data：要变更的项目（列表项重复字段名）、note（说明）和文件 proof（PDF、JPG 或 PNG）。
    选聘条件涉及的项目提交市级主管部门核实（201，change 为申请）；同时提交的其他项目立即生效。"""
    planner = _profiles.my_planner(request.user)
    post = request.POST
    data = {}
    for name in _profiles.FIELD_LABELS:
        if name in post:
            data[name] = post.getlist(name) if name in _profiles.LIST_FIELDS else post.get(name)
    result = _profiles.profile_update(actor=request.user, planner=planner, data=data, proof=request.FILES.get("proof"),
                                      note=post.get("note", ""))
    return Status(201 if result.change is not None else 200, _profile_answer(result))


@router.get("/profile-changes", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="资格信息变更申请（列表）")
def profile_change_list(request, status: str = "", limit: int = 50, offset: int = 0):
    """市级管理员、审计员看本市的，责任规划师看本人的；status：pending 待核实、approved 已核准、rejected 未核准。最早提交的在前。"""
    limit, offset = limit_offset(limit, offset, max_limit=200)
    queryset = _profiles.profile_change_list(user=request.user, status=status)
    return {"count": queryset.count(), "results": [_profiles.profile_change_json(c) for c in queryset[offset:offset + limit]]}


@router.get("/profile-changes/{change_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="资格信息变更申请（详情）")
def profile_change_detail(request, change_id: int):
    change = _profiles.profile_change_get(user=request.user, pk=change_id)
    answer = _profiles.profile_change_json(change)
    if change.status == ProfileChangeStatus.PENDING:
        answer["eligibility_after"] = _profiles.eligibility_after(change).as_dict()
    return answer


@router.get("/profile-changes/{change_id}/proof", auth=auth_required, response={200: None, **ERRORS},
            summary="下载资格信息变更的证明材料")
def profile_change_proof(request, change_id: int):
    from rpms.core.uploads import proof_response

    change = _profiles.profile_change_get(user=request.user, pk=change_id)
    return proof_response(change.proof_path, download_name=change.proof_name, reader=request.user, obj=change)


class ChangeApproveIn(Schema):
    note: str = ""


class ChangeRejectIn(Schema):
    reason: str = ""


@router.post("/profile-changes/{change_id}/approve", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="核准资格信息变更")
def profile_change_approve(request, change_id: int, payload: ChangeApproveIn | None = None):
    """本市市级管理员核对证明材料后核准，变更即生效并记入个人档案，通知本人。"""
    change = _profiles.profile_change_get(user=request.user, pk=change_id)
    change = _profiles.profile_change_approve(actor=request.user, change=change, note=payload.note if payload else "")
    return _profiles.profile_change_json(change)


@router.post("/profile-changes/{change_id}/reject", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="不予核准资格信息变更")
def profile_change_reject(request, change_id: int, payload: ChangeRejectIn):
    """须写明理由；档案信息不变，通知本人。"""
    change = _profiles.profile_change_get(user=request.user, pk=change_id)
    change = _profiles.profile_change_reject(actor=request.user, change=change, reason=payload.reason)
    return _profiles.profile_change_json(change)


class TeamPatchIn(Schema):
    leader_member: int


class TeamMemberPatchIn(Schema):
    is_core: bool


class JoinIn(Schema):
    token: str


@router.get("/teams/{team_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="团队及其成员")
def team_detail(request, team_id: int):
    """团队负责人、已关联账户的成员、本市市级管理员和审计员可查看。"""
    return _teams.team_json(_teams.team_get(user=request.user, pk=team_id), request.user)


@router.patch("/teams/{team_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="变更团队负责人")
def team_update(request, team_id: int, payload: TeamPatchIn):
    """leader_member：成为负责人的成员编号。团队负责人或本市市级管理员办理；团队账户随负责人变更。"""
    team = _teams.team_get(user=request.user, pk=team_id)
    team = _teams.team_leader_change(actor=request.user, team=team, member_id=payload.leader_member)
    return _teams.team_json(team, request.user)


@router.post("/teams/{team_id}/members", auth=auth_required, response={201: dict[str, Any], 202: dict[str, Any], **ERRORS},
             summary="团队登记成员")
def team_member_create(request, team_id: int, payload: MemberIn):
    """团队负责人或本市市级管理员登记成员；核心成员不超过本市规定（北京 8 人，B19(7)）。负责人超出原则性上限时写明
    exception_reason，提交市级主管部门审批（202）。"""
    team = _teams.team_get(user=request.user, pk=team_id)
    member = services.team_member_add(actor=request.user, planner=team, name=payload.name, specialty=payload.specialty,
                                      is_core=payload.is_core, exception_reason=payload.exception_reason)
    if isinstance(member, LimitException):
        return Status(202, {"status": "exception_pending", "exception": limits.limit_exception_json(member)})
    return Status(201, {"id": member.pk, "name": member.name, "specialty": member.specialty, "is_core": member.is_core})


@router.patch("/teams/{team_id}/members/{member_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
              summary="调整核心成员")
def team_member_update(request, team_id: int, member_id: int, payload: TeamMemberPatchIn):
    team = _teams.team_get(user=request.user, pk=team_id)
    member = _teams.team_member_core_set(actor=request.user, team=team, member_id=member_id, is_core=payload.is_core)
    return {"id": member.pk, "name": member.name, "is_core": member.is_core}


@router.delete("/teams/{team_id}/members/{member_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
               summary="移除团队成员")
def team_member_delete(request, team_id: int, member_id: int):
    """不能移除团队负责人（请先变更负责人）。"""
    team = _teams.team_get(user=request.user, pk=team_id)
    team = _teams.team_member_remove(actor=request.user, team=team, member_id=member_id)
    return _teams.team_json(team, request.user)


@router.post("/teams/{team_id}/members/{member_id}/invite", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="生成成员账户关联邀请")
def team_member_invite(request, team_id: int, member_id: int):
    """返回一次性邀请链接（7 日内有效，系统只保存其摘要）；成员用本人的责任规划师账户登录后打开链接或调用 POST /api/v1/team-invitations/accept。"""
    from django.urls import reverse

    team = _teams.team_get(user=request.user, pk=team_id)
    member, token = _teams.team_member_invite(actor=request.user, team=team, member_id=member_id)
    return Status(201, {"member": member.pk, "token": token,
                        "url": request.build_absolute_uri(reverse("registry:team_join", args=[token])),
                        "expires_at": member.invite_expires_at.isoformat()})


@router.post("/team-invitations/accept", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="接受团队邀请（关联成员账户）")
def team_join(request, payload: JoinIn):
    member = _teams.team_member_join(actor=request.user, token=payload.token)
    return {"team": member.planner_id, "member": member.pk, "name": member.name}
