"""Recruitment API (mounted at the API root, /api/v1/):

- POST /cities/{code}/calls (city administrator) · GET /cities/{code}/calls (public) · GET /calls/{id}
- POST /calls/{id}/eligibility-check (anyone; nothing saved)
- GET /calls/{id}/application-defaults (planner) → the form's starting values from their registry record
- POST /calls/{id}/applications (planner) → 201 {"id","status","eligibility":{"eligible","rules":[...]},"changes"}
- GET /applications/{id} · POST /applications/{id}/proofs · GET /applications/{id}/proofs/{pid}
- POST /applications/{id}/review {"decision","reason","scores","exception_reason"?} — an ineligible application is
  approved only with "exception_reason" where the city marks its eligibility rules in principle (B18; an approved
  exception, rpms.registry.limits); a strict rule (P4) → 409 limit_strict
- POST /calls/{id}/notices {"start","working_days","evidence_url","title"} → the notice (201). working_days
  defaults to the policy's minimum, fewer → 400; a start before today records a notice published
  elsewhere and needs evidence_url (http/https) or a scan → 400 evidence_required without it.
  POST /calls/{id}/notices/recorded — the same as multipart/form-data with the scan as `scan` (PDF/JPEG/PNG).
  GET /notices/{id} (public: "recorded_afterwards", "evidence", "recomputations")
  GET /notices/{id}/evidence — the scan (city administrators and auditors of the city)
- POST /notices/{id}/objections (anonymous, rate-limited) → 201 in the window, 409 outside
- POST /objections/{id}/resolve {"upheld","finding"} · POST /notices/{id}/close → admitted entries

No answer carries a full ID number or mobile; objectors' contact details are never returned."""
from datetime import date
from typing import Any

from django.conf import settings
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from rpms.accounts.models import Role
from rpms.cities.selectors import city_get
from rpms.core.api import auth_required, public_answer, require_role
from rpms.core.errors import NotFound
from rpms.core.masking import mask_id_number, mask_mobile
from rpms.core.params import limit_offset
from rpms.core.ratelimit import client_key, rate_limit_hit

from rpms.registry import limits
from rpms.registry.models import LimitException

from . import selectors, services
from .models import SCORE_KEYS, CallKind

# Mounted at the API root (/api/v1/): paths are written in full, e.g. "/cities/{code}/calls".
router = Router(tags=["征集与入库"])

OBJECTION_RATE = (10, 3600)  # per client address: 10 objections an hour


def objection_rate() -> tuple[int, int]:
    """(limit, window seconds) for objections; settings.RPMS_OBJECTION_RATE overrides the default."""
    return tuple(getattr(settings, "RPMS_OBJECTION_RATE", OBJECTION_RATE))


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# --- schemas ----------------------------------------------------------------------------------------


class CallIn(Schema):
    title: str
    kind: str = CallKind.OPEN
    requirements: str = ""
    specialties: list[str] = []
    deadline: date
    publish: bool = True


class MemberIn(Schema):
    name: str
    specialty: str = ""
    is_core: bool = False


class ApplicationIn(Schema):
    """Fields left out are taken from the applicant's record in the city's registry, if they have one
    (a planner applying again starts from the dossier's data); otherwise from these defaults."""

    kind: str = "individual"
    team_name: str = ""
    name: str = ""
    id_number: str = ""
    mobile: str = ""
    email: str = ""
    employer: str = ""
    degree: str = "none"
    major: str = ""
    degree_field: str = ""
    title_level: str = "none"
    title_field: str = ""
    registrations: list[str] = []
    experience_years: int = 0
    specialties: list[str] = []
    districts: list[str] = []
    declarations: list[str] = []
    members: list[MemberIn] = []


class FactsIn(Schema):
    degree: str = "none"
    degree_field: str = ""
    title_level: str = "none"
    title_field: str = ""
    registrations: list[str] = []
    experience_years: int = 0
    declarations: list[str] = []


class ReviewIn(Schema):
    decision: str
    reason: str = ""
    scores: dict[str, Any] = {}
    exception_reason: str = ""


class NoticeIn(Schema):
    start: date | None = None
    working_days: int | None = None
    evidence_url: str = ""
    title: str = ""


class ObjectionIn(Schema):
    application: int
    content: str
    contact_name: str
    contact_phone: str


class ResolveIn(Schema):
    upheld: bool
    finding: str


# --- serialisers ------------------------------------------------------------------------------------


def _rule(outcome: dict) -> dict:
    return {
        "rule": outcome["rule"],
        "label": outcome.get("label", ""),
        "passed": outcome["passed"],
        "reason": outcome["reason"],
        "article": outcome["article"],
        "children": [_rule(child) for child in outcome.get("children", [])],
    }


def eligibility_json(result: dict) -> dict:
    return {"eligible": bool(result.get("eligible")), "article": result.get("article", ""),
            "rules": [_rule(o) for o in result.get("rules", [])]}


def call_json(call) -> dict:
    policy = call.city.policy
    return {
        "id": call.pk,
        "city": call.city.code,
        "title": call.title,
        "kind": call.kind,
        "kind_label": call.get_kind_display(),
        "article": call.article,
        "requirements": call.requirements,
        "specialties": list(call.specialties),
        "specialty_labels": [policy.specialty_label(c) for c in call.specialties],
        "deadline": call.deadline.isoformat(),
        "status": call.status,
        "published_at": call.published_at.isoformat() if call.published_at else None,
        "open": call.accepts_applications(),
    }


def application_json(application) -> dict:
    """The applicant's / reviewers' view; identifiers masked in every API answer."""
    return {
        "id": application.pk,
        "call": application.call_id,
        "kind": application.kind,
        "team_name": application.team_name,
        "name": application.name,
        "id_number_masked": mask_id_number(application.id_number),
        "mobile_masked": mask_mobile(application.mobile),
        "employer": application.employer,
        "degree": application.degree,
        "major": application.major,
        "degree_field": application.degree_field,
        "title_level": application.title_level,
        "title_field": application.title_field,
        "registrations": application.registrations,
        "experience_years": application.experience_years,
        "specialties": application.specialties,
        "districts": [d.code for d in application.familiar_districts.all()],
        "members": [{"name": m.name, "specialty": m.specialty, "is_core": m.is_core} for m in application.members.all()],
        "proofs": [{"id": p.pk, "label": p.label, "name": p.original_name, "kind": p.kind, "size": p.size}
                   for p in application.proofs.all()],
        "status": application.status,
        "status_label": application.get_status_display(),
        "eligibility": eligibility_json(application.eligibility or {}),
        "scores": application.scores,
        "decision_reason": application.decision_reason,
        "submitted_at": application.submitted_at.isoformat() if application.submitted_at else None,
        "decided_at": application.decided_at.isoformat() if application.decided_at else None,
        "planner": application.planner_id,
        # A re-application: the registry record it was compared with and every change (old → new).
        "prior_planner": application.prior_planner_id,
        "changes": changes_json(application),
    }


def changes_json(application) -> list[dict]:
    return [{"field": c["field"], "label": c["label"], "before": c["before"], "after": c["after"],
             "before_value": c.get("before_value"), "after_value": c.get("after_value")}
            for c in (application.changes or [])]


def notice_evidence_json(notice) -> dict | None:
    """What the public sees of a recorded (补录) notice's evidence: the original's address, and of a scan
    only its reference (the file itself is kept for the city's staff)."""
    if not (notice.evidence_url or notice.evidence_path):
        return None
    scan = None
    if notice.evidence_path:
        scan = {"name": notice.evidence_name, "kind": notice.evidence_kind, "size": notice.evidence_size,
                "sha256": notice.evidence_sha256}
    return {"url": notice.evidence_url, "scan": scan}


def recomputation_json(recomputation) -> dict:
    return {
        "year": recomputation.year,
        "reason": recomputation.reason,
        "old_end": recomputation.old_end.isoformat(),
        "new_end": recomputation.new_end.isoformat(),
        "old_working_days": recomputation.old_working_days,
        "new_working_days": recomputation.new_working_days,
        "old_provisional": recomputation.old_provisional,
        "recomputed_at": recomputation.recomputed_at.isoformat(),
        "description": recomputation.describe,
    }


def notice_json(notice) -> dict:
    policy = notice.city.policy
    candidates = []
    for entry in notice.entries.all():
        row = selectors.public_candidate(entry, policy)
        objections = getattr(entry, "published_objections", None)
        if objections is None:
            objections = [o for o in entry.objections.all() if o.finding_published_at]
        row["findings"] = [
            {"resolution": o.resolution, "resolution_label": o.get_resolution_display(), "finding": o.finding,
             "published_at": o.finding_published_at.isoformat()}
            for o in objections
        ]
        candidates.append(row)
    return {
        "id": notice.pk,
        "call": notice.call_id,
        "city": notice.city.code,
        "title": notice.title,
        "start": notice.start.isoformat(),
        "end": notice.end.isoformat(),
        "working_days": notice.working_days,
        "explanation": list(notice.explanation),
        "minimum_working_days": policy.notice_working_days,
        "provisional": notice.provisional,
        "backdated": notice.backdated,
        "recorded_afterwards": notice.backdated,
        "evidence": notice_evidence_json(notice),
        "recomputations": [recomputation_json(r) for r in notice.recomputations.all()],
        "state": notice.state_label(),
        "open": notice.is_open(),
        "closed": notice.is_closed,
        "candidates": candidates,
    }


# --- calls ------------------------------------------------------------------------------------------


@router.post("/cities/{code}/calls", auth=auth_required, response={201: dict[str, Any], **ERRORS}, summary="发布征集")
def call_create(request, code: str, payload: CallIn):
    """市级管理员发布公开征集（P5(1)）或定向补充（P5(3)，须列明紧缺专业领域）。"""
    require_role(request, Role.CITY_ADMIN)
    city = city_get(code)
    selectors.require_city_admin(request.user, city)
    call = services.call_create(actor=request.user, city=city, title=payload.title, kind=payload.kind,
                                requirements=payload.requirements, specialties=payload.specialties,
                                deadline=payload.deadline, publish=payload.publish)
    return Status(201, call_json(call))


@router.get("/cities/{code}/calls", auth=None, response={200: list[dict[str, Any]], 404: ErrorOut}, summary="征集列表（公开）")
@public_answer
def call_list(request, code: str):
    """已发布的征集，最新在前；open 表示仍在报名期内。"""
    city = city_get(code)
    return [call_json(call) for call in selectors.public_call_list(city=city).select_related("city__policy")]


@router.get("/calls/{call_id}", auth=None, response={200: dict[str, Any], 404: ErrorOut}, summary="征集详情（公开）")
@public_answer
def call_detail(request, call_id: int):
    call = selectors.public_call_get(call_id)
    data = call_json(call)
    data["notices"] = [{"id": n.pk, "title": n.title, "start": n.start.isoformat(), "end": n.end.isoformat()}
                       for n in selectors.call_notices(call)]
    return data


@router.post("/calls/{call_id}/eligibility-check", auth=None, response={200: dict[str, Any], **ERRORS},
             summary="提交前检查选聘条件")
def call_eligibility(request, call_id: int, facts: FactsIn):
    """按征集所在城市的选聘条件逐条检查（B18、P4），不保存任何数据。"""
    call = selectors.public_call_get(call_id)
    return eligibility_json(services.eligibility_preview(call=call, data=facts.dict()).as_dict())


# --- applications -----------------------------------------------------------------------------------


@router.get("/calls/{call_id}/application-defaults", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="申请表的预填内容")
def application_defaults(request, call_id: int):
    """已在本市资源库中登记（含待入库、已调出）的责任规划师再次申请时，申请表从其档案的资料开始；
    prefilled 为 false 表示没有档案。身份证号和手机号仅显示掩码，提交时省略的字段按档案填写。"""
    require_role(request, Role.PLANNER)
    call = selectors.public_call_get(call_id)
    prior = selectors.prior_planner(city=call.city, user=request.user)
    if prior is None:
        return {"prefilled": False, "planner": None, "pool_status": None, "data": {}}
    data = selectors.application_defaults(prior)
    data["id_number_masked"] = mask_id_number(data.pop("id_number"))
    data["mobile_masked"] = mask_mobile(data.pop("mobile"))
    return {"prefilled": True, "planner": prior.pk, "pool_status": prior.pool_status,
            "pool_status_label": prior.get_pool_status_display(), "data": data}


@router.post("/calls/{call_id}/applications", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="提交入库申请")
def application_submit(request, call_id: int, payload: ApplicationIn):
    """责任规划师账户提交申请（个人或团队；团队的选聘条件按负责人检查，B18）。返回资格审查逐条结果；
    不符合条件的申请也会受理，并标记为不符合。已在本市资源库登记的，省略的字段按档案填写，与档案不同之处
    列在 changes 中供审核人员查看（GET /applications/{id} 同）。"""
    require_role(request, Role.PLANNER)
    call = selectors.public_call_get(call_id)
    data = payload.dict()
    prior = selectors.prior_planner(city=call.city, user=request.user, id_number=str(data.get("id_number") or "").strip())
    if prior is not None and prior.user_id in (None, request.user.pk):
        data = {**selectors.application_defaults(prior), **payload.dict(exclude_unset=True)}
    application = services.application_submit(actor=request.user, call=call, data=data)
    return Status(201, {"id": application.pk, "status": application.status,
                        "eligibility": eligibility_json(application.eligibility),
                        "prior_planner": application.prior_planner_id, "changes": changes_json(application)})


@router.get("/applications/{application_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="申请详情")
def application_detail(request, application_id: int):
    """申请人本人、本市市级管理员和审计员可查看；身份证号和手机号仅显示掩码。"""
    return application_json(selectors.application_get(user=request.user, application_id=application_id))


APPLICATION_PAGE_MAX = 1000


@router.get("/calls/{call_id}/applications", auth=auth_required, response={200: list[dict[str, Any]], **ERRORS},
            summary="征集的申请列表")
def application_list(request, call_id: int, limit: int = APPLICATION_PAGE_MAX, offset: int = 0):
    """按提交时间排序的申请（不含草稿）。分页：limit（每页条数，默认且最多 1000）、offset（起始位置，默认 0）；
    返回的仍是列表，条数达到 limit 时请以 offset 继续读取下一页。"""
    call = selectors.call_get_for_admin(user=request.user, call_id=call_id, write=False)
    limit, offset = limit_offset(limit, offset, max_limit=APPLICATION_PAGE_MAX)
    return [
        {"id": a.pk, "name": a.display_name, "kind": a.kind, "employer": a.employer, "status": a.status,
         "eligible": a.eligible, "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
         "scores": a.scores}
        for a in selectors.call_applications(call=call)[offset: offset + limit]
    ]


@router.post("/applications/{application_id}/proofs", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="上传证明材料")
def proof_upload(request, application_id: int, file: File[UploadedFile], label: Form[str] = ""):
    """PDF、JPEG 或 PNG（按文件内容识别），大小受限；仅申请人本人，在审核前上传。"""
    application = selectors.application_get(user=request.user, application_id=application_id)
    proof = services.proof_add(actor=request.user, application=application, file=file, label=label)
    return Status(201, {"id": proof.pk, "label": proof.label, "name": proof.original_name, "kind": proof.kind,
                        "size": proof.size, "sha256": proof.sha256})


@router.get("/applications/{application_id}/proofs/{proof_id}", auth=auth_required, response={**ERRORS},
            summary="下载证明材料")
def proof_download(request, application_id: int, proof_id: int):
    """仅申请人本人、本市市级管理员和审计员可下载。"""
    from rpms.core.uploads import proof_response

    application = selectors.application_get(user=request.user, application_id=application_id)
    if not selectors.can_download_proof(request.user, application):
        raise NotFound()
    proof = next((p for p in application.proofs.all() if p.pk == proof_id), None)
    if proof is None:
        raise NotFound("证明材料不存在。")
    return proof_response(proof.path, download_name=proof.original_name, reader=request.user, obj=proof)


@router.post("/applications/{application_id}/review", auth=auth_required,
             response={200: dict[str, Any], 202: dict[str, Any], **ERRORS},
             summary="审核遴选")
def application_review(request, application_id: int, payload: ReviewIn):
    """审核遴选（P5(1)）：decision 为 approve 或 reject；reason 为申请人可见的意见（不通过时必填）；
    scores 含 background（专业背景）、title（职称资历）、experience（实践经验）、local_familiarity（属地熟悉度），
    每项 0–100，审核通过时必填。"""
    require_role(request, Role.CITY_ADMIN)
    application = selectors.application_get(user=request.user, application_id=application_id, write=True)
    application = services.application_review(actor=request.user, application=application, decision=payload.decision,
                                               reason=payload.reason, scores=payload.scores,
                                               exception_reason=payload.exception_reason)
    if isinstance(application, LimitException):  # pragma: no cover - only the city administrator reviews
        return Status(202, {"status": "exception_pending", "exception": limits.limit_exception_json(application)})
    return {"id": application.pk, "status": application.status, "decision_reason": application.decision_reason,
            "scores": application.scores, "score_keys": SCORE_KEYS,
            "decided_at": application.decided_at.isoformat(),
            "limit_exceptions": [limits.limit_exception_json(e) for e in limits.exceptions_for_source(application)]}


# --- notices ----------------------------------------------------------------------------------------


@router.post("/calls/{call_id}/notices", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="发布入库公示")
def notice_publish(request, call_id: int, payload: NoticeIn | None = None):
    """公示本次征集全部审核通过且尚未公示的人选（P5(2)）。截止日期 = 开始日期起第 N 个工作日，并给出计算说明；
    working_days 为 N，不填按本市规定的公示期，少于规定返回 400，可以更长。start 早于今天表示补录已在别处发布的
    公示，须同时提供 evidence_url（原公示网址，http/https）；需附扫描件时用 POST /calls/{id}/notices/recorded。"""
    require_role(request, Role.CITY_ADMIN)
    call = selectors.call_get_for_admin(user=request.user, call_id=call_id)
    payload = payload or NoticeIn()
    notice = services.notice_publish(actor=request.user, call=call, start=payload.start, title=payload.title,
                                     working_days=payload.working_days, evidence_url=payload.evidence_url)
    return Status(201, notice_json(selectors.public_notice_get(notice.pk)))


@router.post("/calls/{call_id}/notices/recorded", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="发布入库公示（附原公示扫描件，multipart/form-data）")
def notice_publish_with_scan(request, call_id: int, start: Form[date | None] = None, working_days: Form[int | None] = None,
                             evidence_url: Form[str] = "", title: Form[str] = "", scan: File[UploadedFile] = None):
    """与 POST /calls/{id}/notices 相同，以表单提交，scan 为原公示的扫描件（PDF、JPEG 或 PNG，按文件内容识别）。
    补录（start 早于今天）须提供 scan 或 evidence_url 之一。扫描件不公开，公示页面显示其文件名和 SHA-256。"""
    require_role(request, Role.CITY_ADMIN)
    call = selectors.call_get_for_admin(user=request.user, call_id=call_id)
    notice = services.notice_publish(actor=request.user, call=call, start=start, title=title,
                                     working_days=working_days, evidence_url=evidence_url, evidence_file=scan)
    return Status(201, notice_json(selectors.public_notice_get(notice.pk)))


@router.get("/notices/{notice_id}/evidence", auth=auth_required, response={**ERRORS}, summary="下载原公示扫描件")
def notice_evidence(request, notice_id: int):
    """补录公示所附的原公示扫描件：仅本市市级管理员和审计员可下载。"""
    from rpms.core.uploads import proof_response

    notice = selectors.notice_get_for_admin(user=request.user, notice_id=notice_id, write=False)
    if not notice.evidence_path:
        raise NotFound("该公示没有附扫描件。")
    return proof_response(notice.evidence_path, download_name=notice.evidence_name, reader=request.user, obj=notice)


@router.get("/notices/{notice_id}", auth=None, response={200: dict[str, Any], 404: ErrorOut}, summary="公示详情（公开）")
@public_answer
def notice_detail(request, notice_id: int):
    """公开：人选的姓名、工作单位、职称和专业领域，以及已公布的异议核查结果；不含身份证号、手机号。"""
    return notice_json(selectors.public_notice_get(notice_id))


@router.post("/notices/{notice_id}/objections", auth=None, response={201: dict[str, Any], **ERRORS},
             summary="对公示人选提出异议")
def objection_submit(request, notice_id: int, payload: ObjectionIn):
    """任何人可在公示期内提出异议（须留联系人和电话，仅供核查，不公开）；公示期外返回 409。
    同一来源每小时最多 10 次，超出返回 429。"""
    limit, window = objection_rate()
    rate_limit_hit(client_key(request, "recruitment.objection"), limit=limit, window_seconds=window)
    notice = selectors.public_notice_get(notice_id)
    objection = services.objection_submit(
        notice=notice, application_id=payload.application, content=payload.content,
        contact_name=payload.contact_name, contact_phone=payload.contact_phone,
        actor=request.user if getattr(request.user, "is_authenticated", False) else None,
    )
    return Status(201, {"id": objection.pk, "notice": notice.pk, "application": objection.entry.application_id,
                        "received_at": objection.received_at.isoformat(), "status": "received"})


@router.post("/objections/{objection_id}/resolve", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="处理异议")
def objection_resolve(request, objection_id: int, payload: ResolveIn):
    """upheld 为 true 表示异议成立，取消该人选入库资格（P5(2)）；核查结果将在公示页公布。"""
    require_role(request, Role.CITY_ADMIN)
    objection = selectors.objection_get_for_admin(user=request.user, objection_id=objection_id)
    objection = services.objection_resolve(actor=request.user, objection=objection, upheld=payload.upheld,
                                           finding=payload.finding)
    return {"id": objection.pk, "resolution": objection.resolution, "upheld": objection.upheld,
            "finding": objection.finding, "cancelled": objection.entry.cancelled,
            "resolved_at": objection.resolved_at.isoformat()}


@router.post("/notices/{notice_id}/close", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="公示期满办理入库")
def notice_close(request, notice_id: int):
    """公示期满且异议均已处理后，未被取消的人选全部入库并建立个人档案；期满前或有未处理异议时返回 409。"""
    require_role(request, Role.CITY_ADMIN)
    notice = selectors.notice_get_for_admin(user=request.user, notice_id=notice_id)
    planners = services.notice_close(actor=request.user, notice=notice)
    by_planner = {a.planner_id: a.pk for a in notice.call.applications.filter(planner__in=planners)}
    return {
        "notice": notice.pk,
        "admitted": [{"planner": p.pk, "application": by_planner.get(p.pk), "name": p.name, "pool_status": p.pool_status}
                     for p in planners],
    }
