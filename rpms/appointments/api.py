"""Appointments API (mounted at the API root, /api/v1/; paths written in full).

Signed-in (bearer token or session), scoped (out of scope → 404):
- POST /appointments {"planner", "unit", "role", "start", "fee_yuan"?, "fee_note"?, "service_focus"?,
  "withdrawal_notice_working_days"?, "exception_reason"?} → 201 (409 over the unit cap, not in the pool, already
  in that unit, unknown role, unit dissolved, a contract notice clause where the policy allows none). Over an
  in-principle cap (B19(2)) with "exception_reason": the city administrator's act is granted as an exception
  (201, `limit_exceptions` in the answer); anyone else's → 202 {"status": "exception_pending", "exception"}
  (approved at POST /exceptions/{id}/approve); a strict cap → 409 `limit_strict`
- POST /appointments {"existing": true, "planner", "unit", "role", "start" (any past date), "contract_number",
  "signed_on", "terms"?: [{"start", "end"}], "fee_yuan"?, …} → 201: a running contract entered with its history
  (rpms.appointments.existing); 400 with `details.field` for a wrong date, term or paper detail
- POST /cities/{code}/appointments/imports (multipart "file") · GET /appointments/imports/{id}
  · POST /appointments/imports/{id}/run {"only_valid"} — the bulk form (rpms.appointments.existing_import)
- GET /appointments?unit=&planner=&district=&status= · GET /appointments/{id}
- GET /appointments/{id}/certificate.pdf · /dispatch-notice.pdf · /contract.pdf
- POST /appointments/{id}/file · /renew {"years"} · /withdrawal-notice {"working_days"} (the contract's own
  withdrawal notice, by the contract signer, B25) · /withdrawal {"leave_date","reason"} (409
  withdrawal_not_allowed where there is no unilateral withdrawal)
- Termination (B25): POST /appointments/{id}/terminate {"initiator": "planner", "reason"} → pending, or
  {"initiator": "entity", "breach", "facts", "effective_date"} (JSON, or multipart with evidence `file`s);
  /terminate/evidence (multipart `file`) · /terminate/consent {"effective_date"?} · /terminate/refuse
  {"reason"} · /terminate/withdraw · /terminate/statement {"statement"} · GET
  /terminate/evidence/{id} (download). The requests, with state and dates, are in GET /appointments/{id}.
- POST /appointments/{id}/signed-contract (multipart: file PDF, signed_on, fee_yuan) by the contract signer → 201
  (Pingdingshan, contract_filer "none": filed and disclosed at once) · GET …/signed-contract (latest scan, parties
  only) · GET …/signed-contracts/{sid}
- POST /appointments/{id}/file (409 `contract_not_submitted` without a submitted signed contract)
  · /file/return {"reason"} by the filing body (district officer of the unit's district, or city admin)
- Local selection (B2, B19(1)(5)): POST /appointments/proposals {"planner","unit","role","start","fee_yuan"?,
  "fee_note"?,"service_focus"?} by the unit's hiring entity → 201 · GET /appointments/proposals?status=
  · GET /appointments/proposals/{id} · POST …/{id}/approve {"start"?, "exception_reason"?} (district officer → 201
  with the appointment; over an in-principle cap with "exception_reason" → 202 with the pending exception, the
  appointment made when the city administrator approves it; "exception_reason" also on the entity's proposal) · …/{id}/return {"reason"} · …/{id}/withdraw (the entity) · GET /appointments/selection/candidates
  ?unit=&q=&role= (registry search with eligibility and cap status). In a local-selection city POST /appointments
  answers 403 `local_selection_required`.
- GET /withdrawals · GET /withdrawals/{id}/proposals · POST /withdrawals/{id}/replacement {"planner"}
- GET /removals?pending= · GET /removals/{appointment id}/proposals · POST /removals/{appointment id}/replacement
  {"planner"} (postings a removal from the pool ended, P5(4), and their replacement, P6(5))
  In a local-selection city both replacement posts answer 403 `local_selection_required`: the entity proposes
  for the unit and role and the district's approval is recorded as the replacement (`"replaces"` in its audit).
- POST /districts/{id}/chief {"planner", "start", "end"?, "note"?}
Public (anonymous):
- GET /public/units/{id} (the open data /public/appointments.* is served by rpms.publicinfo.opendata)
"""

from ninja import File, Router, Status
from ninja.files import UploadedFile

from rpms.core.api import auth_required, json_object_body, public_answer
from rpms.core.errors import DomainError, NotFound
from rpms.core.params import is_digits, limit_offset
from rpms.dispatch import replacement
from rpms.geography.models import District
from rpms.registry import limits
from rpms.registry.models import LimitException

from . import proposals, removal, selectors, services, signing
from .models import Appointment, Withdrawal

router = Router(tags=["派驻聘任"])

PDF_KINDS = {
    "certificate": services.KIND_CERTIFICATE,
    "dispatch-notice": services.KIND_DISPATCH_NOTICE,
    "contract": services.KIND_CONTRACT,
}


def _int(data: dict, name: str, label: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or value in (None, ""):
        raise DomainError(f"请提供{label}（{name}）。", code="missing_field")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DomainError(f"{label}（{name}）应为整数编号。", code="invalid_field") from None


def _str(data: dict, name: str, *, max_length: int = 2000) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, (str, int)):
        raise DomainError(f"字段 {name} 应为文字。", code="invalid_field")
    value = str(value).strip()
    if len(value) > max_length:
        raise DomainError(f"字段 {name} 过长（不超过 {max_length} 字）。", code="invalid_field")
    return value


def _appointment(request, appointment_id: int) -> Appointment:
    return selectors.appointment_get(user=request.user, pk=appointment_id)


def _exception_pending(exception: LimitException):
    """202: the act waits for the city administrator's approval of the exception (rpms.registry.limits)."""
    return Status(202, {
        "status": "exception_pending",
        "detail": f"已超出{exception.get_limit_display()}（{exception.article}），例外申请 #{exception.pk} 已提交，"
                  f"待{exception.city.name}市级主管部门审批；批准后即办理。",
        "exception": limits.limit_exception_json(exception),
    })


@router.post("/appointments", auth=auth_required, summary="聘任（派驻）", response={201: dict, 202: dict})
def appointment_create(request):
    data = json_object_body(request)
    if data.get("existing") is True:
        return Status(201, _existing_enter(request, data))
    planner = _int(data, "planner", "责任规划师编号")
    unit = _int(data, "unit", "责任单元编号")
    role = _str(data, "role", max_length=50) or "responsible_planner"
    start = _str(data, "start", max_length=10)
    if not start:
        raise DomainError("请提供聘期开始日期（start，YYYY-MM-DD）。", code="missing_field")
    fee = data.get("fee_yuan")
    appointment = services.appointment_create(
        actor=request.user, planner=planner, unit=unit, role=role, start=start,
        fee_yuan=None if fee in (None, "") else fee, fee_note=_str(data, "fee_note", max_length=500),
        service_focus=_str(data, "service_focus"), source=_str(data, "source", max_length=50) or "api",
        withdrawal_notice_working_days=data.get("withdrawal_notice_working_days"),
        exception_reason=_str(data, "exception_reason"),
    )
    if isinstance(appointment, LimitException):
        return _exception_pending(appointment)
    return Status(201, selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk)))


def _existing_enter(request, data: dict) -> dict:
    """A running contract with its history (`"existing": true`)."""
    from . import existing

    start = _str(data, "start", max_length=10)
    if not start:
        raise DomainError("请提供聘期开始日期（start，YYYY-MM-DD）。", code="missing_field")
    terms = data.get("terms")
    if terms is not None and not isinstance(terms, (list, str)):
        raise DomainError('聘期（terms）应为列表：[{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}, …]。', code="invalid_terms")
    appointment = existing.appointment_existing_enter(
        actor=request.user, planner=_int(data, "planner", "责任规划师编号"), unit=_int(data, "unit", "责任单元编号"),
        role=_str(data, "role", max_length=50), start=start,
        contract_number=_str(data, "contract_number", max_length=200), signed_on=_str(data, "signed_on", max_length=20),
        terms=terms, fee_yuan=data.get("fee_yuan"), fee_note=_str(data, "fee_note", max_length=500),
        service_focus=_str(data, "service_focus"), note=_str(data, "note"),
    )
    return selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk))


# --- running contracts in bulk (既有聘任导入, like the roster import) ----------------------------------------


@router.post("/cities/{code}/appointments/imports", auth=auth_required, response={201: dict}, summary="上传既有聘任表（校验）")
def existing_import_upload(request, code: str):
    """multipart/form-data，字段 file 为按模板填写的 .xlsx。逐行按补录既有聘任的同一规则校验，返回校验报告（按行、列列出中文错误），
    此时尚未导入。市级管理员；属地选聘的城市中区级工作专班也可导入本区责任单元的既有聘任。"""
    from rpms.cities.selectors import city_get

    from . import existing_import as bulk

    city = city_get(code)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        raise DomainError("请以 multipart/form-data 上传既有聘任表（字段名 file）。", code="import_file_missing")
    spreadsheet_import = bulk.existing_import_upload(actor=request.user, city=city, uploaded_file=uploaded)
    return Status(201, bulk.existing_import_report(spreadsheet_import))


@router.get("/appointments/imports/{int:import_id}", auth=auth_required, summary="既有聘任导入报告")
def existing_import_detail(request, import_id: int):
    from . import existing_import as bulk

    return bulk.existing_import_report(bulk.existing_import_get(user=request.user, import_id=import_id))


@router.post("/appointments/imports/{int:import_id}/run", auth=auth_required, summary="执行既有聘任导入")
def existing_import_run(request, import_id: int):
    """{"only_valid": false} 为“全部导入”（有错误时 409，不导入任何行）；{"only_valid": true} 为“只导入无误的行”。
    导入在后台任务中分批进行：返回导入报告和 job（后台任务）。生产环境中返回时通常 status 仍为 importing，
    可用 GET /api/v1/jobs/{job.id} 或 GET /api/v1/appointments/imports/{id} 查询进度，完成后 status 为 done。"""
    from rpms.core.jobs import job_json
    from rpms.core.models import ImportStatus

    from . import existing_import as bulk

    data = json_object_body(request)
    only_valid = data.get("only_valid", False)
    if not isinstance(only_valid, bool):
        raise DomainError("only_valid 应为 true 或 false。", code="invalid_field")
    spreadsheet_import = bulk.existing_import_get(user=request.user, import_id=import_id)
    if spreadsheet_import.status != ImportStatus.IMPORTING:
        spreadsheet_import = bulk.existing_import_start(actor=request.user, spreadsheet_import=spreadsheet_import,
                                                        only_valid=only_valid)
    job = bulk.existing_import_enqueue(actor=request.user, spreadsheet_import=spreadsheet_import)
    job.refresh_from_db()
    report = bulk.existing_import_report(bulk.existing_import_get(user=request.user, import_id=import_id))
    return {**report, "job": job_json(job)}


@router.get("/appointments", auth=auth_required, summary="聘任列表")
def appointment_list(request, limit: int = selectors.LIST_PAGE_SIZE, offset: int = 0):
    """您有权查看的聘任，按所在区、责任单元排序。筛选：unit、planner（编号）、district（区的编号或区划代码）、status。
    分页：limit（每页条数，默认 200，最多 1000）、offset（起始位置，默认 0）；count 为符合条件的总数。"""
    filters = selectors.filters_parse(request.GET)
    limit, offset = limit_offset(limit, offset, max_limit=1000)
    queryset = selectors.appointment_list(user=request.user, filters=filters)
    total = queryset.count()
    rows = [selectors.appointment_row(a) for a in selectors.page_rows(queryset, offset, offset + limit)]
    return {"count": total, "limit": limit, "offset": offset, "results": rows}


@router.get("/appointments/{int:appointment_id}", auth=auth_required, summary="聘任详情")
def appointment_detail(request, appointment_id: int):
    return selectors.appointment_detail(_appointment(request, appointment_id))


def _pdf(request, appointment_id: int, kind: str):
    from rpms.documents.rendering import document_pdf_response

    _, document = selectors.appointment_document(user=request.user, pk=appointment_id, kind=kind)
    return document_pdf_response(document)


@router.get("/appointments/{int:appointment_id}/certificate.pdf", auth=auth_required, summary="聘任证书 PDF")
def certificate_pdf(request, appointment_id: int):
    return _pdf(request, appointment_id, services.KIND_CERTIFICATE)


@router.get("/appointments/{int:appointment_id}/dispatch-notice.pdf", auth=auth_required, summary="派驻通知 PDF")
def dispatch_notice_pdf(request, appointment_id: int):
    return _pdf(request, appointment_id, services.KIND_DISPATCH_NOTICE)


@router.get("/appointments/{int:appointment_id}/contract.pdf", auth=auth_required, summary="聘用合同 PDF")
def contract_pdf(request, appointment_id: int):
    return _pdf(request, appointment_id, services.KIND_CONTRACT)


@router.post("/appointments/{int:appointment_id}/file", auth=auth_required, summary="合同备案并公开")
def appointment_file(request, appointment_id: int):
    appointment = services.appointment_file(actor=request.user, appointment=_appointment(request, appointment_id))
    return selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk))


# --- the signed contract and its filing (B19(3), P6(3)) ----------------------------------------------


@router.post("/appointments/{int:appointment_id}/signed-contract", auth=auth_required, summary="上传签订的聘用合同",
             response={200: dict, 201: dict})
def signed_contract_submit(request, appointment_id: int):
    """multipart：file（签字盖章的聘用合同扫描件，PDF）、signed_on（YYYY-MM-DD）、fee_yuan（元）。
    由合同甲方（政策 contract_signer）提交；不另行备案的城市（contract_filer 为 none）提交即备案并公开。"""
    appointment = _appointment(request, appointment_id)
    row = signing.signed_contract_submit(
        actor=request.user, appointment=appointment, file=request.FILES.get("file"),
        signed_on=request.POST.get("signed_on", ""), fee_yuan=request.POST.get("fee_yuan", ""),
    )
    detail = selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment_id))
    return Status(201, {"signed_contract": signing.signed_contract_json(row), "appointment": detail})


@router.get("/appointments/{int:appointment_id}/signed-contract", auth=auth_required, summary="下载签订的聘用合同（最新）")
def signed_contract_latest(request, appointment_id: int):
    return signing.signed_contract_response(signing.signed_contract_get(user=request.user, appointment_pk=appointment_id),
                                       reader=request.user)


@router.get("/appointments/{int:appointment_id}/signed-contracts/{int:contract_id}", auth=auth_required,
            summary="下载签订的聘用合同")
def signed_contract_download(request, appointment_id: int, contract_id: int):
    row = signing.signed_contract_get(user=request.user, appointment_pk=appointment_id, pk=contract_id)
    return signing.signed_contract_response(row, reader=request.user)


@router.post("/appointments/{int:appointment_id}/file/return", auth=auth_required, summary="退回报备的聘用合同")
def signed_contract_return(request, appointment_id: int):
    data = json_object_body(request)
    signing.signed_contract_return(actor=request.user, appointment=_appointment(request, appointment_id),
                                   reason=_str(data, "reason"))
    return selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment_id))


# --- local selection (B2, B19(1)(5)) ---------------------------------------------------------------


@router.post("/appointments/proposals", auth=auth_required, summary="选聘提名（聘任主体）", response={201: dict})
def proposal_submit(request):
    data = json_object_body(request)
    start = _str(data, "start", max_length=10)
    if not start:
        raise DomainError("请提供拟聘期开始日期（start，YYYY-MM-DD）。", code="missing_field")
    fee = data.get("fee_yuan")
    proposal = proposals.proposal_submit(
        actor=request.user, planner=_int(data, "planner", "责任规划师编号"), unit=_int(data, "unit", "责任单元编号"),
        role=_str(data, "role", max_length=50) or "responsible_planner", start=start,
        fee_yuan=None if fee in (None, "") else fee, fee_note=_str(data, "fee_note", max_length=500),
        service_focus=_str(data, "service_focus"), exception_reason=_str(data, "exception_reason"),
    )
    return Status(201, proposals.proposal_json(proposals.proposal_get(user=request.user, pk=proposal.pk)))


@router.get("/appointments/proposals", auth=auth_required, summary="选聘提名列表")
def proposal_list(request, status: str = "", limit: int = selectors.LIST_PAGE_SIZE, offset: int = 0):
    """您有权查看的选聘提名，最新的在前。筛选：status。分页：limit（每页条数，默认 200，最多 1000）、offset（起始位置，
    默认 0）；count 为符合条件的总数。"""
    limit, offset = limit_offset(limit, offset, max_limit=1000)
    queryset = proposals.proposal_list(user=request.user, status=status)
    return {"count": queryset.count(), "limit": limit, "offset": offset,
            "results": [proposals.proposal_json(p) for p in selectors.proposal_page(queryset, offset, offset + limit)]}


@router.get("/appointments/proposals/{int:proposal_id}", auth=auth_required, summary="选聘提名详情")
def proposal_detail(request, proposal_id: int):
    proposal = proposals.proposal_get(user=request.user, pk=proposal_id)
    [facts] = proposals.planner_selection_facts(planners=[proposal.planner], unit=proposal.unit, role=proposal.role,
                                                start=proposal.start)
    return {**proposals.proposal_json(proposal), "eligibility": facts["eligibility"], "cap": facts["cap"],
            "limit_exceptions": [limits.limit_exception_json(e) for e in limits.exceptions_for_source(proposal)]}


@router.get("/appointments/selection/candidates", auth=auth_required, summary="选聘提名：检索资源库（含资格与上限）")
def selection_candidates(request, unit: str = "", q: str = "", role: str = ""):
    if not is_digits(unit.strip()):
        raise DomainError("请提供责任单元编号（unit）。", code="missing_field")
    unit_obj = services._load_unit(int(unit))
    rows = proposals.selection_candidates(user=request.user, unit=unit_obj, q=q, role=role)
    return {"results": [{k: v for k, v in row.items() if k != "planner"} for row in rows]}


@router.post("/appointments/proposals/{int:proposal_id}/approve", auth=auth_required, summary="审核同意选聘提名",
             response={201: dict, 202: dict})
def proposal_approve(request, proposal_id: int):
    data = json_object_body(request) if request.body else {}
    proposal = proposals.proposal_get(user=request.user, pk=proposal_id)
    appointment = proposals.proposal_approve(actor=request.user, proposal=proposal,
                                             start=_str(data, "start", max_length=10) or None,
                                             exception_reason=_str(data, "exception_reason"))
    if isinstance(appointment, LimitException):
        return _exception_pending(appointment)
    return Status(201, selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk)))


@router.post("/appointments/proposals/{int:proposal_id}/return", auth=auth_required, summary="退回选聘提名")
def proposal_return(request, proposal_id: int):
    data = json_object_body(request)
    proposal = proposals.proposal_get(user=request.user, pk=proposal_id)
    proposal = proposals.proposal_return(actor=request.user, proposal=proposal, reason=_str(data, "reason"))
    return proposals.proposal_json(proposals.proposal_get(user=request.user, pk=proposal.pk))


@router.post("/appointments/proposals/{int:proposal_id}/withdraw", auth=auth_required, summary="撤回选聘提名")
def proposal_withdraw(request, proposal_id: int):
    proposal = proposals.proposal_get(user=request.user, pk=proposal_id)
    proposal = proposals.proposal_withdraw(actor=request.user, proposal=proposal)
    return proposals.proposal_json(proposals.proposal_get(user=request.user, pk=proposal.pk))


@router.post("/appointments/{int:appointment_id}/renew", auth=auth_required, summary="续聘")
def appointment_renew(request, appointment_id: int):
    data = json_object_body(request)
    if "years" not in data:
        raise DomainError("请提供续聘年数（years）。", code="missing_field")
    appointment = services.appointment_renew(actor=request.user, appointment=_appointment(request, appointment_id),
                                             years=data.get("years"))
    return selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk))


def _body(request) -> dict:
    """A JSON object, or the fields of a form (multipart, with files), or {} for an empty body."""
    content_type = (request.content_type or "").lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return {key: request.POST.get(key) for key in request.POST}
    if not (request.body or b"").strip():
        return {}
    return json_object_body(request)


def _termination_answer(request, appointment_id: int, request_row) -> dict:
    appointment = selectors.appointment_get(user=request.user, pk=appointment_id)
    detail = selectors.appointment_detail(appointment)
    row = next((r for r in detail["termination_requests"] if r["id"] == request_row.pk), None)
    return {"request": row, "appointment": detail}


@router.post("/appointments/{int:appointment_id}/withdrawal-notice", auth=auth_required,
             summary="约定退出提前期（合同另有约定，B25）")
def appointment_withdrawal_notice(request, appointment_id: int):
    """聘任主体（合同甲方）约定本合同的退出提前期（工作日）；{"working_days": null} 取消约定。本市规定不允许合同另行约定的，返回 409。"""
    data = json_object_body(request)
    if "working_days" not in data:
        raise DomainError("请提供退出提前期（working_days，工作日；null 表示取消约定）。", code="missing_field")
    appointment = services.appointment_withdrawal_notice_set(
        actor=request.user, appointment=_appointment(request, appointment_id), working_days=data.get("working_days"),
    )
    return selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk))


@router.post("/appointments/{int:appointment_id}/terminate", auth=auth_required, summary="申请或办理解除聘用合同")
def appointment_terminate(request, appointment_id: int):
    """责任规划师书面申请：{"initiator": "planner", "reason"}（待聘任主体同意）。聘任主体依约解除：
    {"initiator": "entity", "breach": 合同条款代码（须为约束责任规划师的条款）, "facts", "effective_date"}；
    可用 multipart 同时上传证据材料（file，可多个）。上传证据材料后解除决定方生效。"""
    data = _body(request)
    evidence = request.FILES.getlist("file") if request.FILES else []
    request_row = services.termination_request(
        actor=request.user, appointment=_appointment(request, appointment_id),
        initiator=_str(data, "initiator", max_length=20), reason=_str(data, "reason"),
        breach=_str(data, "breach", max_length=50), facts=_str(data, "facts", max_length=4000),
        effective_date=_str(data, "effective_date", max_length=10) or None, evidence=evidence,
    )
    return _termination_answer(request, appointment_id, request_row)


@router.post("/appointments/{int:appointment_id}/terminate/evidence", auth=auth_required, response={201: dict},
             summary="上传解除证据材料")
def appointment_terminate_evidence(request, appointment_id: int, file: File[UploadedFile]):
    """PDF、JPEG 或 PNG（按文件内容识别）；聘任主体在解除生效日前上传。第一份证据材料上传后解除决定生效。"""
    evidence = services.termination_evidence_add(actor=request.user, appointment=_appointment(request, appointment_id),
                                                 file=file)
    answer = _termination_answer(request, appointment_id, evidence.request)
    answer["evidence"] = next(e for e in answer["request"]["evidence"] if e["id"] == evidence.pk)
    return Status(201, answer)


@router.get("/appointments/{int:appointment_id}/terminate/evidence/{int:evidence_id}", auth=auth_required,
            summary="下载解除证据材料")
def appointment_terminate_evidence_download(request, appointment_id: int, evidence_id: int):
    from rpms.core.uploads import proof_response

    evidence = selectors.termination_evidence_get(user=request.user, appointment_id=appointment_id, pk=evidence_id)
    return proof_response(evidence.path, download_name=evidence.original_name, reader=request.user, obj=evidence)


@router.post("/appointments/{int:appointment_id}/terminate/consent", auth=auth_required, summary="同意解除聘用合同")
def appointment_terminate_consent(request, appointment_id: int):
    """聘任主体同意责任规划师的解除申请；{"effective_date"} 可选，今天或以后（默认今天），不得早于今天。"""
    data = _body(request)
    request_row = services.termination_consent(
        actor=request.user, appointment=_appointment(request, appointment_id),
        effective_date=_str(data, "effective_date", max_length=10) or None,
    )
    return _termination_answer(request, appointment_id, request_row)


@router.post("/appointments/{int:appointment_id}/terminate/refuse", auth=auth_required, summary="不同意解除聘用合同")
def appointment_terminate_refuse(request, appointment_id: int):
    data = _body(request)
    request_row = services.termination_refuse(actor=request.user, appointment=_appointment(request, appointment_id),
                                              reason=_str(data, "reason"))
    return _termination_answer(request, appointment_id, request_row)


@router.post("/appointments/{int:appointment_id}/terminate/withdraw", auth=auth_required, summary="撤回解除申请")
def appointment_terminate_withdraw(request, appointment_id: int):
    request_row = services.termination_withdraw(actor=request.user, appointment=_appointment(request, appointment_id))
    return _termination_answer(request, appointment_id, request_row)


@router.post("/appointments/{int:appointment_id}/terminate/statement", auth=auth_required,
             summary="责任规划师对解除的陈述")
def appointment_terminate_statement(request, appointment_id: int):
    data = _body(request)
    request_row = services.termination_statement(actor=request.user, appointment=_appointment(request, appointment_id),
                                                 statement=_str(data, "statement", max_length=4000))
    return _termination_answer(request, appointment_id, request_row)


@router.post("/appointments/{int:appointment_id}/withdrawal", auth=auth_required, summary="申请退出派驻", response={201: dict})
def appointment_withdrawal(request, appointment_id: int):
    data = json_object_body(request)
    withdrawal = services.withdrawal_request(
        actor=request.user, appointment=_appointment(request, appointment_id),
        leave_date=_str(data, "leave_date", max_length=10), reason=_str(data, "reason"),
    )
    return Status(201, _withdrawal_json(withdrawal))


def _withdrawal_json(withdrawal: Withdrawal) -> dict:
    appointment = withdrawal.appointment
    return {
        "id": withdrawal.pk,
        "appointment": appointment.pk,
        "unit": {"id": appointment.unit_id, "name": appointment.unit.name},
        "planner": {"id": appointment.planner_id, "name": appointment.planner.name},
        "role": appointment.role,
        "requested_on": withdrawal.requested_on.isoformat(),
        "leave_date": withdrawal.leave_date.isoformat(),
        "earliest": withdrawal.earliest.isoformat(),
        "explanation": withdrawal.explanation,
        "reason": withdrawal.reason,
        "replacement": withdrawal.replacement_id,
    }


@router.get("/withdrawals", auth=auth_required, summary="退出派驻列表")
def withdrawal_list(request, pending: bool = False, limit: int = selectors.LIST_PAGE_SIZE, offset: int = 0):
    """您有权查看的退出申请，按离任日期排序；pending=true 只列出尚未补位的。分页：limit（每页条数，默认 200，最多
    1000）、offset（起始位置，默认 0）；count 为符合条件的总数。"""
    limit, offset = limit_offset(limit, offset, max_limit=1000)
    queryset = selectors.withdrawal_queryset(user=request.user, pending_only=pending)
    rows = selectors.with_policies(list(queryset[offset: offset + limit]), "appointment__")
    return {"count": queryset.count(), "limit": limit, "offset": offset, "results": [_withdrawal_json(w) for w in rows]}


@router.get("/withdrawals/{int:withdrawal_id}/proposals", auth=auth_required, summary="补位人选建议")
def withdrawal_proposals(request, withdrawal_id: int):
    withdrawal = selectors.withdrawal_get(user=request.user, pk=withdrawal_id)
    proposals, note = replacement.replacement_proposals(user=request.user, withdrawal=withdrawal)
    return {"withdrawal": _withdrawal_json(withdrawal), "proposals": proposals, "note": note}


@router.post("/withdrawals/{int:withdrawal_id}/replacement", auth=auth_required, summary="调整补位", response={201: dict})
def withdrawal_replacement(request, withdrawal_id: int):
    """为退出的责任规划师任命补位人员（P6(5)）。属地选聘的城市返回 403 local_selection_required（由聘任主体提名、
    区级工作专班审核同意，审核同意即登记为补位）。"""
    data = json_object_body(request)
    withdrawal = selectors.withdrawal_get(user=request.user, pk=withdrawal_id)
    appointment = services.withdrawal_replace(actor=request.user, withdrawal=withdrawal,
                                              planner=_int(data, "planner", "补位责任规划师编号"))
    return Status(201, selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk)))


def _removed_json(appointment: Appointment) -> dict:
    replacement = appointment.replacement
    return {
        "appointment": appointment.pk,
        "unit": {"id": appointment.unit_id, "name": appointment.unit.name},
        "district": {"id": appointment.unit.district_id, "name": appointment.unit.district.name},
        "planner": {"id": appointment.planner_id, "name": appointment.planner.name},
        "role": appointment.role,
        "role_label": appointment.role_label,
        "status": appointment.status,
        "end_kind": appointment.end_kind,
        "reason": appointment.end_reason,
        "ended_on": appointment.ended_on.isoformat(),
        "replacement": None if replacement is None else {
            "id": replacement.pk, "planner": replacement.planner.name, "start": replacement.start.isoformat()},
        "replacement_start": removal.replacement_start(appointment).isoformat(),
    }


@router.get("/removals", auth=auth_required, summary="因调出资源库终止的派驻（待调整补位）")
def removed_posting_list(request, pending: bool = False, limit: int = selectors.LIST_PAGE_SIZE, offset: int = 0):
    """责任规划师调出资源库后即日终止的派驻；pending=true 只列出尚未补位的（责任单元列入待调整补位）。分页：limit
    （每页条数，默认 200，最多 1000）、offset（起始位置，默认 0）；count 为符合条件的总数。"""
    limit, offset = limit_offset(limit, offset, max_limit=1000)
    queryset = selectors.removed_posting_queryset(user=request.user, pending_only=pending)
    rows = selectors.with_policies(list(queryset[offset: offset + limit]))
    return {"count": queryset.count(), "limit": limit, "offset": offset, "results": [_removed_json(a) for a in rows]}


@router.get("/removals/{int:appointment_id}/proposals", auth=auth_required, summary="补位人选建议（调出资源库）")
def removed_posting_proposals(request, appointment_id: int):
    appointment = selectors.removed_posting_get(user=request.user, pk=appointment_id)
    proposals, note = replacement.posting_replacement_proposals(
        user=request.user, appointment=appointment, start=removal.replacement_start(appointment))
    return {"removal": _removed_json(appointment), "proposals": proposals, "note": note}


@router.post("/removals/{int:appointment_id}/replacement", auth=auth_required, summary="调整补位（调出资源库）",
             response={201: dict})
def removed_posting_replacement(request, appointment_id: int):
    """为因调出资源库终止的派驻任命补位人员（P6(5)），自原派驻最后服务日次日（或今天）起接续服务。属地选聘的城市
    （B2、B19(1)(5)）返回 403 local_selection_required：由聘任主体提名、区级工作专班审核同意，审核同意即登记为补位。"""
    data = json_object_body(request)
    appointment = selectors.removed_posting_get(user=request.user, pk=appointment_id)
    replacement = removal.removal_replace(actor=request.user, appointment=appointment,
                                          planner=_int(data, "planner", "补位责任规划师编号"))
    return Status(201, selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=replacement.pk)))


@router.post("/districts/{int:district_id}/chief", auth=auth_required, summary="聘请区级总责任规划师", response={201: dict})
def district_chief(request, district_id: int):
    data = json_object_body(request)
    district = District.objects.filter(pk=district_id).first()
    if district is None:
        raise NotFound()
    start = _str(data, "start", max_length=10)
    if not start:
        raise DomainError("请提供任期开始日期（start，YYYY-MM-DD）。", code="missing_field")
    chief = services.district_chief_appoint(
        actor=request.user, district=district, planner=_int(data, "planner", "责任规划师编号"), start=start,
        end=_str(data, "end", max_length=10) or None, note=_str(data, "note"),
    )
    return Status(201, {"id": chief.pk, "district": {"id": district.pk, "code": district.code, "name": district.name},
                 "planner": {"id": chief.planner_id, "name": chief.planner.name},
                 "start": chief.start.isoformat(), "end": chief.end.isoformat(), "status": chief.status})


# --- public ------------------------------------------------------------------------------------


@router.get("/public/units/{int:unit_id}", auth=None, tags=["公开信息"], summary="责任单元及其责任规划师（公开）")
@public_answer
def public_unit(request, unit_id: int):
    """Kept in the shared cache until an act changes what the unit's city shows (rpms.publicinfo.pagecache)."""
    from rpms.publicinfo import pagecache

    city_id = pagecache.unit_city_id(unit_id)
    if city_id is None:
        return selectors.public_unit(unit_id)  # 404
    return pagecache.get_or_build(pagecache.city_scopes([city_id]), f"api:unit:{unit_id}",
                                  lambda: selectors.public_unit(unit_id))


# The open data of appointments (/public/appointments.json · .csv · /fields) is served with every other public
# dataset by rpms.publicinfo (opendata, the one front door).
