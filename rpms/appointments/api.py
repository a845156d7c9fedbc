"""Appointments API (mounted at the API root, /api/v1/; paths written in full).

Signed-in (bearer token or session), scoped (out of scope → 404):
- POST /appointments {"planner", "unit", "role", "start", "fee_yuan"?, "fee_note"?, "service_focus"?} → 201
  (409 over the unit cap, not in the pool, already in that unit, unknown role, unit dissolved)
- GET /appointments?unit=&planner=&district=&status= · GET /appointments/{id}
- GET /appointments/{id}/certificate.pdf · /dispatch-notice.pdf · /contract.pdf
- POST /appointments/{id}/file · /renew {"years"} · /terminate {"reason","initiator","breach"}
  · /terminate/consent · /withdrawal {"leave_date","reason"}
- GET /withdrawals · GET /withdrawals/{id}/proposals · POST /withdrawals/{id}/replacement {"planner"}
- POST /districts/{id}/chief {"planner", "start", "end"?, "note"?}
Public (anonymous):
- GET /public/units/{id} · GET /public/appointments.json · .csv · GET /public/appointments/fields
"""
import csv
import io

from django.http import HttpResponse
from django.utils import timezone
from ninja import Router, Status

from rpms.core.api import auth_required, json_object_body, public_answer
from rpms.core.errors import DomainError, NotFound
from rpms.core.masking import mask_public_data
from rpms.geography.models import District

from . import selectors, services
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


@router.post("/appointments", auth=auth_required, summary="聘任（派驻）", response={201: dict})
def appointment_create(request):
    data = json_object_body(request)
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
    )
    return Status(201, selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk)))


@router.get("/appointments", auth=auth_required, summary="聘任列表")
def appointment_list(request, limit: int = selectors.LIST_PAGE_SIZE, offset: int = 0):
    filters = selectors.filters_parse(request.GET)
    if not 1 <= limit <= 1000 or offset < 0:
        raise DomainError("分页参数有误：limit 应在 1–1000 之间，offset 不小于 0。", code="invalid_page")
    queryset = selectors.appointment_list(user=request.user, filters=filters)
    total = queryset.count()
    rows = [selectors.appointment_row(a) for a in queryset[offset: offset + limit]]
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


@router.post("/appointments/{int:appointment_id}/renew", auth=auth_required, summary="续聘")
def appointment_renew(request, appointment_id: int):
    data = json_object_body(request)
    if "years" not in data:
        raise DomainError("请提供续聘年数（years）。", code="missing_field")
    appointment = services.appointment_renew(actor=request.user, appointment=_appointment(request, appointment_id),
                                             years=data.get("years"))
    return selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk))


@router.post("/appointments/{int:appointment_id}/terminate", auth=auth_required, summary="申请或办理解除聘用合同")
def appointment_terminate(request, appointment_id: int):
    data = json_object_body(request)
    request_row = services.termination_request(
        actor=request.user, appointment=_appointment(request, appointment_id),
        initiator=_str(data, "initiator", max_length=20), reason=_str(data, "reason"),
        breach=_str(data, "breach", max_length=50),
    )
    detail = selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment_id))
    return {"request": {"id": request_row.pk, "status": request_row.status, "status_label": request_row.get_status_display()},
            "appointment": detail}


@router.post("/appointments/{int:appointment_id}/terminate/consent", auth=auth_required, summary="同意解除聘用合同")
def appointment_terminate_consent(request, appointment_id: int):
    request_row = services.termination_consent(actor=request.user, appointment=_appointment(request, appointment_id))
    detail = selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment_id))
    return {"request": {"id": request_row.pk, "status": request_row.status, "status_label": request_row.get_status_display()},
            "appointment": detail}


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
def withdrawal_list(request, pending: bool = False):
    return {"results": [_withdrawal_json(w) for w in selectors.withdrawal_list(user=request.user, pending_only=pending)]}


@router.get("/withdrawals/{int:withdrawal_id}/proposals", auth=auth_required, summary="补位人选建议")
def withdrawal_proposals(request, withdrawal_id: int):
    withdrawal = selectors.withdrawal_get(user=request.user, pk=withdrawal_id)
    proposals, note = selectors.replacement_proposals(user=request.user, withdrawal=withdrawal)
    return {"withdrawal": _withdrawal_json(withdrawal), "proposals": proposals, "note": note}


@router.post("/withdrawals/{int:withdrawal_id}/replacement", auth=auth_required, summary="调整补位", response={201: dict})
def withdrawal_replacement(request, withdrawal_id: int):
    data = json_object_body(request)
    withdrawal = selectors.withdrawal_get(user=request.user, pk=withdrawal_id)
    appointment = services.withdrawal_replace(actor=request.user, withdrawal=withdrawal,
                                              planner=_int(data, "planner", "补位责任规划师编号"))
    return Status(201, selectors.appointment_detail(selectors.appointment_get(user=request.user, pk=appointment.pk)))


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
    return selectors.public_unit(unit_id)


def _open_data(request) -> tuple[list[dict], dict]:
    city, district = selectors.public_filters(request.GET)
    base = request.build_absolute_uri("/").rstrip("/")
    rows = mask_public_data(selectors.open_data_rows(city=city, district=district, base_url=base))  # PIPL 28–29
    if city is not None:
        from rpms.cities.selectors import policy_article

        basis = f"{city.name}，依据 {policy_article(city, 'disclosure')}"
    else:
        basis = "各城市依据本市关于聘用信息公开的规定"
    meta = {"generated_at": timezone.localtime().isoformat(timespec="seconds"),
            "source": f"责任规划师管理信息系统（已备案并公开的聘任信息，{basis}）"}
    return rows, meta


@router.get("/public/appointments/fields", auth=None, tags=["公开信息"], summary="开放数据字段说明")
def open_data_fields(request):
    return {"fields": selectors.open_data_fields()}


@router.get("/public/appointments.json", auth=None, tags=["公开信息"], summary="责任规划师聘任开放数据（JSON）")
def open_data_json(request):
    rows, meta = _open_data(request)
    return {"fields": selectors.open_data_fields(), "rows": rows, **meta}


@router.get("/public/appointments.csv", auth=None, tags=["公开信息"], summary="责任规划师聘任开放数据（CSV）")
def open_data_csv(request):
    rows, _meta = _open_data(request)
    fields = selectors.open_data_fields()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([f["label"] for f in fields])
    for row in rows:
        writer.writerow([_csv_safe(row[f["name"]]) for f in fields])
    # UTF-8 with BOM, so that spreadsheet programs read the Chinese header correctly.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = "attachment; filename=\"appointments.csv\"; filename*=UTF-8''%E8%B4%A3%E4%BB%BB%E8%A7%84%E5%88%92%E5%B8%88%E8%81%98%E4%BB%BB.csv"
    return response


def _csv_safe(value):
    """No formula injection when the file is opened in a spreadsheet."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value
    return value
