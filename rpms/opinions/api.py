"""Written opinions API (mounted at the API root, /api/v1/; B11(3), P3(2), B16):

- GET  /opinions                      opinions the caller may see (?status=&unit=&mine=1), a page of them: limit
                                      (default 50, at most 500; more counts as 500) from offset (default 0);
                                      still a bare list — fewer than limit rows means the end
- POST /opinions                      a draft (planner serving the unit; 403 otherwise) → 201
- GET  /opinions/inbox                "收到的书面意见" of the hiring entity / district officer, with read state
                                      (limit/offset as GET /opinions)
- GET  /opinions/{id}                 detail (drafts: author only; out of scope: 404)
- PATCH /opinions/{id}                change a draft (author only); an issued opinion → 409 (no update exists)
- DELETE /opinions/{id}               discard a draft (author only); an issued opinion → 409
- POST /opinions/{id}/declaration     {"has_conflict", "note"}: the declaration of interests (B16)
- POST /opinions/{id}/issue           freeze, hash, number, verification code; a declared conflict is refused
- POST /opinions/{id}/supersede       {"reason"}: drafts the corrected version n+1 → 201
- GET  /opinions/{id}.pdf             the issued document as PDF
- POST /opinions/{id}/response        design unit's response / a department's answer
- POST /opinions/{id}/read            the recipient's read receipt
- POST /opinions/{id}/attachments     upload a reviewed document (multipart: file, title) on a draft
- GET  /opinions/{id}/attachments/{aid}  download (whoever may see the opinion)
- DELETE /opinions/{id}/attachments/{aid} remove from a draft
Opinions are not public: there is no anonymous endpoint (the document's public check is /verify/)."""
from datetime import date
from typing import Any

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from rpms.core.api import auth_required, json_object_body
from rpms.core.errors import Conflict, NotFound
from rpms.core.params import limit_offset
from rpms.geography.models import ResponsibilityUnit

from . import permissions, selectors, services
from .models import OpinionStatus

router = Router(tags=["书面意见"])


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class OpinionIn(Schema):
    unit: int
    subject: str
    subject_kind: str
    title: str = ""
    developer: str = ""
    design_unit: str = ""
    reviewed_documents: list[str] = []
    findings: str = ""
    recommendations: str = ""
    departments: list[int] = []


class DeclarationIn(Schema):
    has_conflict: bool
    note: str = ""


class SupersedeIn(Schema):
    reason: str


class ResponseIn(Schema):
    responder: str
    outcome: str
    reasons: str = ""
    responded_on: date | None = None
    department: int | None = None


# --- serialisers ------------------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value else None


def opinion_row(opinion) -> dict:
    """A list row (uses only what the list selectors load)."""
    document = opinion.document
    return {
        "id": opinion.pk,
        "city": opinion.city.code,
        "unit": {"id": opinion.unit_id, "name": opinion.unit.name, "district": opinion.unit.district.name},
        "title": opinion.title,
        "subject": opinion.subject,
        "subject_kind": opinion.subject_kind,
        "subject_kind_label": opinion.get_subject_kind_display(),
        "planner": opinion.planner.name,
        "version": opinion.version,
        "status": opinion.status,
        "status_label": opinion.get_status_display(),
        "issued_at": _iso(opinion.issued_at),
        "document_number": document.number if document else None,
        "verification_code": document.formatted_code if document else None,
        "content_hash": opinion.content_hash or None,
        "supersedes": opinion.supersedes_id,
        "superseded_by": getattr(opinion.newer_version(), "pk", None),
    }


def opinion_json(opinion, user) -> dict:
    data = opinion_row(opinion)
    data.update({
        "developer": opinion.developer,
        "design_unit": opinion.design_unit,
        "reviewed_documents": list(opinion.reviewed_documents or []),
        "findings": opinion.findings,
        "recommendations": opinion.recommendations,
        "correction_reason": opinion.correction_reason,
        "recipients": {
            "hiring_entity": opinion.hiring_entity_name,
            "departments": [{"id": d.pk, "name": d.name} for d in opinion.departments.all()],
        },
        "declaration": {
            "state": opinion.interest_declaration or "none",
            "state_label": opinion.get_interest_declaration_display(),
            "has_conflict": opinion.has_conflict,
            "note": opinion.interest_note,
            "declared_at": _iso(opinion.interest_declared_at),
        },
        "attachments": [
            {"id": a.pk, "title": a.title, "name": a.original_name, "kind": a.kind, "size": a.size, "sha256": a.sha256}
            for a in opinion.attachments.all()
        ],
        "responses": [
            {"id": r.pk, "responder": r.responder, "responder_label": r.get_responder_display(),
             "department": r.department_id, "responder_name": r.responder_name, "outcome": r.outcome,
             "outcome_label": r.get_outcome_display(), "reasons": r.reasons,
             "responded_on": r.responded_on.isoformat(), "recorded_at": _iso(r.recorded_at)}
            for r in opinion.responses.all()
        ],
        "can_edit": permissions.can_edit(user, opinion),
    })
    if opinion.status != OpinionStatus.DRAFT:
        data["content"] = opinion.content
        data["document_status"] = opinion.document.status
        data["verify_path"] = opinion.document.verify_path()
        # Who of the recipients has read it: for the author, the city and the district.
        if permissions.is_author(user, opinion) or not permissions.is_hiring_entity_of(user, opinion.unit):
            data["receipts"] = [
                {"user": r.user.display_name or r.user.username, "role": r.user.get_role_display(),
                 "read_at": _iso(r.read_at)}
                for r in opinion.receipts.all()
            ]
    return data


def _unit(unit_id: int) -> ResponsibilityUnit:
    unit = ResponsibilityUnit.objects.select_related("city__policy", "district").filter(pk=unit_id).first()
    if unit is None:
        raise NotFound("责任单元不存在。")
    return unit


def _detail(request, opinion_id: int) -> dict:
    return opinion_json(selectors.opinion_get(user=request.user, pk=opinion_id), request.user)


# --- endpoints --------------------------------------------------------------------------------------


@router.get("/opinions", auth=auth_required, response={200: list[dict[str, Any]], **ERRORS}, summary="书面意见列表")
def opinion_list(request, status: str = "", unit: int | None = None, mine: bool = False, limit: str = "",
                 offset: str = ""):
    """责任规划师：本人起草和出具的意见，以及所服务责任单元已出具的意见；聘任主体、区、市：权限范围内已出具的意见。

    分页参数：limit 每页条数（默认 50，最多 500，更大的值按 500 计），offset 起始位置（默认 0）；返回数组，
    不足 limit 条即已到末尾。"""
    limit, offset = limit_offset(limit or selectors.API_LIMIT, offset, max_limit=selectors.API_MAX, clamp=True)
    opinions = selectors.opinion_list(user=request.user, status=status, unit_id=unit, mine=mine)
    return [opinion_row(o) for o in opinions[offset:offset + limit]]


@router.post("/opinions", auth=auth_required, response={201: dict[str, Any], **ERRORS}, summary="起草书面意见")
def opinion_create(request, payload: OpinionIn):
    """只有在该责任单元履职的责任规划师可以起草（否则 403）。subject_kind：plan 规划编制方案、design_scheme
    建设工程设计方案、implementation_scheme 实施方案、project 建设项目。"""
    data = payload.dict()
    unit = _unit(data.pop("unit"))
    opinion = services.opinion_create(actor=request.user, unit=unit, **data)
    return Status(201, _detail(request, opinion.pk))


@router.get("/opinions/inbox", auth=auth_required, response={200: list[dict[str, Any]], **ERRORS},
            summary="收到的书面意见")
def opinion_inbox(request, unread: bool = False, limit: str = "", offset: str = ""):
    """聘任主体和区级工作人员收到的书面意见（权限范围内），read_at 为本人阅读时间（未读为 null）。

    分页参数同书面意见列表：limit（默认 50，最多 500），offset（默认 0）。"""
    limit, offset = limit_offset(limit or selectors.API_LIMIT, offset, max_limit=selectors.API_MAX, clamp=True)
    rows = []
    for opinion in selectors.opinion_inbox(user=request.user, unread_only=unread)[offset:offset + limit]:
        row = opinion_row(opinion)
        row["read_at"] = _iso(opinion.my_read_at)
        rows.append(row)
    return rows


@router.get("/opinions/{int:opinion_id}.pdf", auth=auth_required, response={**ERRORS}, summary="书面意见 PDF")
def opinion_pdf(request, opinion_id: int):
    from rpms.documents.rendering import document_pdf_response

    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    if opinion.document is None:
        raise Conflict("草稿尚未出具，没有 PDF 文书。", code="opinion_not_issued")
    return document_pdf_response(opinion.document, filename=f"{opinion.title}-第{opinion.version}版-{opinion.document.number}.pdf")


@router.get("/opinions/{int:opinion_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="书面意见详情")
def opinion_detail(request, opinion_id: int):
    return _detail(request, opinion_id)


@router.patch("/opinions/{int:opinion_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
              summary="修改书面意见草稿")
def opinion_update(request, opinion_id: int):
    """仅起草人可修改草稿；已出具的意见不可修改（409），更正须出具新版本（/supersede）。
    可修改：title、subject、subject_kind、developer、design_unit、reviewed_documents、findings、recommendations、departments。"""
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    services.opinion_update(actor=request.user, opinion=opinion, data=json_object_body(request))
    return _detail(request, opinion_id)


@router.delete("/opinions/{int:opinion_id}", auth=auth_required, response={204: None, **ERRORS}, summary="删除草稿")
def opinion_discard(request, opinion_id: int):
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    services.opinion_discard(actor=request.user, opinion=opinion)
    return Status(204, None)


@router.post("/opinions/{int:opinion_id}/declaration", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="利益冲突声明")
def opinion_declaration(request, opinion_id: int, payload: DeclarationIn):
    """has_conflict 为 true 表示与项目建设单位、设计单位存在利害关系（须在 note 中说明），此时不得出具（B16）。"""
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    services.opinion_interest_declare(actor=request.user, opinion=opinion, has_conflict=payload.has_conflict,
                                      note=payload.note)
    return _detail(request, opinion_id)


@router.post("/opinions/{int:opinion_id}/issue", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="出具书面意见")
def opinion_issue(request, opinion_id: int):
    """冻结内容并计算 SHA-256 摘要，生成文书编号、核验码和 PDF；此后不可修改。未声明或声明存在利益冲突的，拒绝出具。"""
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    services.opinion_issue(actor=request.user, opinion=opinion)
    return _detail(request, opinion_id)


@router.post("/opinions/{int:opinion_id}/supersede", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="起草更正版本")
def opinion_supersede(request, opinion_id: int, payload: SupersedeIn):
    """以已出具的意见为底稿起草第 n+1 版（草稿）；新版本出具后原意见状态变为“已被更正版本替代”，两者均保留。"""
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    draft = services.opinion_supersede(actor=request.user, opinion=opinion, reason=payload.reason)
    return Status(201, _detail(request, draft.pk))


@router.post("/opinions/{int:opinion_id}/response", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="记录采纳反馈")
def opinion_response(request, opinion_id: int, payload: ResponseIn):
    """responder：design_unit（设计单位）或 department（抄送部门，须给 department 编号）；outcome：adopted、
    partly_adopted、not_adopted（后两者须写 reasons）；responded_on 默认今天。"""
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    response = services.opinion_response_record(
        actor=request.user, opinion=opinion, responder=payload.responder, outcome=payload.outcome,
        reasons=payload.reasons, responded_on=payload.responded_on, department_id=payload.department,
    )
    return Status(201, {"id": response.pk, "responder": response.responder, "responder_name": response.responder_name,
                        "outcome": response.outcome, "outcome_label": response.get_outcome_display(),
                        "reasons": response.reasons, "responded_on": response.responded_on.isoformat()})


@router.post("/opinions/{int:opinion_id}/read", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="阅读回执")
def opinion_read(request, opinion_id: int):
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    receipt = services.opinion_mark_read(actor=request.user, opinion=opinion)
    return {"opinion": opinion.pk, "read_at": receipt.read_at.isoformat()}


@router.post("/opinions/{int:opinion_id}/attachments", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="上传审查文件")
def attachment_upload(request, opinion_id: int, file: File[UploadedFile], title: Form[str] = ""):
    """PDF、JPEG 或 PNG（按文件内容识别）；仅起草人，在出具前上传。"""
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    attachment = services.opinion_attachment_add(actor=request.user, opinion=opinion, file=file, title=title)
    return Status(201, {"id": attachment.pk, "title": attachment.title, "name": attachment.original_name,
                        "kind": attachment.kind, "size": attachment.size, "sha256": attachment.sha256})


@router.get("/opinions/{int:opinion_id}/attachments/{int:attachment_id}", auth=auth_required, response={**ERRORS},
            summary="下载审查文件")
def attachment_download(request, opinion_id: int, attachment_id: int):
    from rpms.core.uploads import proof_response

    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    attachment = next((a for a in opinion.attachments.all() if a.pk == attachment_id), None)
    if attachment is None:
        raise NotFound("附件不存在。")
    return proof_response(attachment.path, download_name=attachment.original_name, reader=request.user, obj=attachment)


@router.delete("/opinions/{int:opinion_id}/attachments/{int:attachment_id}", auth=auth_required,
               response={204: None, **ERRORS}, summary="删除审查文件")
def attachment_remove(request, opinion_id: int, attachment_id: int):
    opinion = selectors.opinion_get(user=request.user, pk=opinion_id)
    services.opinion_attachment_remove(actor=request.user, opinion=opinion, attachment_id=attachment_id)
    return Status(204, None)
