"""Duties API (mounted at the API root, /api/v1/; every path written in full).

Duty records (B11 / P3):
- GET /duty-records (?unit, planner, status, year, month, limit ≤ 500 (default 500), offset) · POST /duty-records → 201
- GET /duty-records/options?unit=ID → the city's categories and the unit's zone-type focus list (B13)
- GET /duty-records/summary?year=&month=[&planner=&unit=] → hours by category (one aggregate query)
- GET /duty-records/unit-summary?year=&month=[&limit=&offset=] → the district's view: hours by unit, planner and
  category, paged by UNIT (limit units, default 50, at most 200, from offset, among the units with records in the
  period, by district and name); adds "limit", "offset", "has_more", "units_total"
- GET /duty-records/calendar?year=&month= → the month grid: each day's `hours` and `count` (all its records),
  `records` (ids of at most 5 of them; the month lists at most 200, the earliest days first) and `more`
  (= count − len(records); list them with GET /duty-records?year=&month= or the page /duties/records/?day=)
- GET/PATCH/DELETE /duty-records/{id} (a confirmed record: PATCH and DELETE → 409)
- POST /duty-records/{id}/evidence (multipart file, label) · GET /duty-records/{id}/evidence/{eid}
- POST /duty-records/{id}/confirm · /query {"question"} · /answer {"answer", "changes"}
Data requests (B14(3), B16(1)):
- GET/POST /data-requests · GET /data-requests/{id}
- POST /data-requests/{id}/deliver (multipart: files[], label[], public[] aligned with the files, note)
- POST /data-requests/{id}/materials (multipart: file, label, public) · POST /data-requests/{id}/refuse {"reason"}
- GET /data-requests/{id}/materials/{mid} (download; non-public: planner/entity/district only, else 404; logged)
- GET /data-requests/{id}/downloads (the download log)
Work certificates (B14(4)):
- GET/POST /work-certificates · GET /work-certificates/preview?planner=&start=&end=
- GET /work-certificates/{id} · GET /work-certificates/{id}.pdf · POST /work-certificates/{id}/revoke {"reason"}
Extra contracted work (B12): GET/POST /extra-work · GET/PATCH /extra-work/{id} · POST /extra-work/{id}/status
Monitoring feedback (B11(6)): GET/POST /monitoring-feedback · GET /monitoring-feedback/{id} · POST /{id}/answer"""
import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from rpms.accounts.models import Role
from rpms.core.api import auth_required, require_role
from rpms.core.errors import NotFound
from rpms.core.params import db_int_param, limit_offset, month_param, year_param

from . import selectors, services
from .models import DutyStatus
from .permissions import (
    can_answer_data_request,
    can_answer_feedback,
    can_confirm_duty,
    can_download_confidential,
    can_manage_extra_work,
    is_record_planner,
)

router = Router(tags=["履职管理"])


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}
JSON = dict[str, Any]


def _num(value) -> float:
    return float(value or 0)


def _iso(value):
    return value.isoformat() if value else None


def _int_param(value, label):
    return db_int_param(value, label=label, code="invalid_input")


# --- serialisers ------------------------------------------------------------------------------------


def record_json(record, *, user=None, detail: bool = False) -> JSON:
    data = {
        "id": record.pk,
        "city": record.city.code,
        "unit": {"id": record.unit_id, "name": record.unit.name, "district": record.unit.district.name},
        "planner": {"id": record.planner_id, "name": record.planner.name},
        "appointment": record.appointment_id,
        "category": record.category,
        "category_label": record.category_label(record.city.policy),
        "date": record.date.isoformat(),
        "hours": _num(record.hours),
        "place": record.place,
        "participants": record.participants,
        "description": record.description,
        "focus": list(record.focus or []),
        "status": record.status,
        "status_label": record.get_status_display(),
        "locked": record.is_locked,
        "submitted_at": _iso(record.submitted_at),
        "confirmed_at": _iso(record.confirmed_at),
        "confirmed_by": str(record.confirmed_by) if record.confirmed_by_id else None,
    }
    if hasattr(record, "evidence_count"):
        data["evidence_count"] = record.evidence_count
    if detail:
        data["evidence"] = [
            {"id": e.pk, "label": e.label, "name": e.original_name, "kind": e.kind, "size": e.size, "sha256": e.sha256}
            for e in record.evidence.all()
        ]
        data["queries"] = [
            {"question": q.question, "asked_by": str(q.asked_by) if q.asked_by_id else "", "asked_at": _iso(q.asked_at),
             "answer": q.answer, "answered_at": _iso(q.answered_at)}
            for q in record.queries.all()
        ]
        if user is not None:
            data["can"] = {
                "edit": is_record_planner(user, record) and not record.is_locked,
                "confirm": can_confirm_duty(user, record) and record.status == DutyStatus.SUBMITTED,
                "query": can_confirm_duty(user, record) and record.status == DutyStatus.SUBMITTED,
                "answer": is_record_planner(user, record) and record.status == DutyStatus.QUERIED,
            }
    return data


def material_json(material) -> JSON:
    return {"id": material.pk, "label": material.label, "name": material.original_name, "kind": material.kind,
            "size": material.size, "public": material.is_public, "uploaded_at": _iso(material.uploaded_at)}


def request_json(request, *, user=None, detail: bool = False) -> JSON:
    data = {
        "id": request.pk,
        "city": request.city.code,
        "unit": {"id": request.unit_id, "name": request.unit.name, "district": request.unit.district.name},
        "planner": {"id": request.planner_id, "name": request.planner.name},
        "addressee": request.addressee,
        "addressee_name": request.addressee_name,
        "department": request.department_id,
        "title": request.title,
        "content": request.content,
        "purpose": request.purpose,
        "needed_by": _iso(request.needed_by),
        "status": request.status,
        "status_label": request.get_status_display(),
        "submitted_at": _iso(request.submitted_at),
        "answered_at": _iso(request.answered_at),
        "delivery_note": request.delivery_note,
        "refusal_reason": request.refusal_reason,
    }
    if hasattr(request, "material_count"):
        data["material_count"] = request.material_count
    if detail:
        confidential_ok = user is not None and can_download_confidential(user, request)
        data["materials"] = [
            {**material_json(m), "downloadable": m.is_public or confidential_ok} for m in request.materials.all()
        ]
        if user is not None:
            data["can_answer"] = can_answer_data_request(user, request) and request.status == "submitted"
    return data


def certificate_json(certificate) -> JSON:
    document = certificate.document
    return {
        "id": certificate.pk,
        "city": certificate.city.code,
        "planner": {"id": certificate.planner_id, "name": certificate.planner.name},
        "period_start": certificate.period_start.isoformat(),
        "period_end": certificate.period_end.isoformat(),
        "issuer_name": certificate.issuer_name,
        "issued_at": _iso(certificate.issued_at),
        "units": [u.name for u in certificate.units.all()],
        "record_count": certificate.record_count,
        "total_hours": _num(certificate.total_hours),
        "summary": [{**row, "hours": _num(row["hours"])} for row in certificate.summary],
        "document": {
            "number": document.number,
            "verification_code": document.formatted_code,
            "verify_path": document.verify_path(),
            "status": document.status,
            "status_label": document.get_status_display(),
            "content_hash": document.content_hash,
        } if document else None,
        "pdf": f"/api/v1/work-certificates/{certificate.pk}.pdf",
    }


def extra_json(work) -> JSON:
    return {
        "id": work.pk,
        "city": work.city.code,
        "appointment": work.appointment_id,
        "unit": {"id": work.unit_id, "name": work.unit.name},
        "planner": {"id": work.planner_id, "name": work.planner.name},
        "kind": work.kind,
        "kind_label": work.get_kind_display(),
        "title": work.title,
        "scope": work.scope,
        "fee_yuan": str(work.fee_yuan),
        "party_a": work.party_a,
        "contract_number": work.contract_number,
        "contract_date": work.contract_date.isoformat(),
        "start": _iso(work.start),
        "end": _iso(work.end),
        "status": work.status,
        "status_label": work.get_status_display(),
        "status_note": work.status_note,
    }


def feedback_json(item) -> JSON:
    return {
        "id": item.pk,
        "city": item.city.code,
        "district": item.district.name,
        "unit": {"id": item.unit_id, "name": item.unit.name},
        "planner": {"id": item.planner_id, "name": item.planner.name},
        "source": item.source,
        "source_label": item.get_source_display(),
        "addressee": item.addressee,
        "addressee_name": item.addressee_name,
        "department": item.department_id,
        "title": item.title,
        "description": item.description,
        "location": item.location,
        "suggestion": item.suggestion,
        "status": item.status,
        "status_label": item.get_status_display(),
        "submitted_at": _iso(item.submitted_at),
        "answer": item.answer,
        "answer_source": item.answer_source,
        "answered_on": _iso(item.answered_on),
    }


# --- schemas ----------------------------------------------------------------------------------------


class RecordIn(Schema):
    unit: int
    category: str
    date: dt.date
    hours: Decimal
    place: str
    description: str
    participants: str = ""
    focus: list[str] = []


class RecordPatch(Schema):
    category: str | None = None
    date: dt.date | None = None
    hours: Decimal | None = None
    place: str | None = None
    description: str | None = None
    participants: str | None = None
    focus: list[str] | None = None


class QuestionIn(Schema):
    question: str


class AnswerIn(Schema):
    answer: str
    changes: RecordPatch | None = None


class DataRequestIn(Schema):
    unit: int
    addressee: str = "entity"
    department: int | None = None
    title: str
    content: str
    purpose: str = ""
    needed_by: dt.date | None = None


class ReasonIn(Schema):
    reason: str


class CertificateIn(Schema):
    planner: int
    start: dt.date
    end: dt.date


class ExtraWorkIn(Schema):
    appointment: int
    kind: str
    title: str
    scope: str
    fee_yuan: Decimal
    party_a: str
    contract_number: str
    contract_date: dt.date
    start: dt.date | None = None
    end: dt.date | None = None


class ExtraWorkPatch(Schema):
    kind: str | None = None
    title: str | None = None
    scope: str | None = None
    fee_yuan: Decimal | None = None
    party_a: str | None = None
    contract_number: str | None = None
    contract_date: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None


class StatusIn(Schema):
    status: str
    note: str = ""


class FeedbackIn(Schema):
    unit: int
    source: str
    title: str
    description: str
    location: str = ""
    suggestion: str = ""
    department: int | None = None


class FeedbackAnswerIn(Schema):
    answer: str
    answer_source: str = ""
    answered_on: dt.date | None = None


def record_row_json(row: dict, policies: dict | None = None) -> JSON:
    """`record_json` (without detail) of a row of `selectors.duty_record_values` — the same keys and values,
    built from plain column values (the list API). `policies`: city id → policy profile, shared by a list's rows."""
    from rpms.cities.selectors import policy_for

    policies = {} if policies is None else policies
    if row["city_id"] not in policies:
        policies[row["city_id"]] = policy_for(row["city_id"])
    policy = policies[row["city_id"]]
    category = policy.duty_category(row["category"]) if policy is not None else None
    confirmer = None
    if row["confirmed_by_id"]:
        confirmer = row["confirmed_by__display_name"] or row["confirmed_by__username"]
    return {
        "id": row["id"],
        "city": row["city__code"],
        "unit": {"id": row["unit_id"], "name": row["unit__name"], "district": row["unit__district__name"]},
        "planner": {"id": row["planner_id"], "name": row["planner__name"]},
        "appointment": row["appointment_id"],
        "category": row["category"],
        "category_label": category["label"] if category else row["category"],
        "date": row["date"].isoformat(),
        "hours": _num(row["hours"]),
        "place": row["place"],
        "participants": row["participants"],
        "description": row["description"],
        "focus": list(row["focus"] or []),
        "status": row["status"],
        "status_label": DutyStatus(row["status"]).label,
        "locked": row["status"] == DutyStatus.CONFIRMED,
        "submitted_at": _iso(row["submitted_at"]),
        "confirmed_at": _iso(row["confirmed_at"]),
        "confirmed_by": confirmer,
        "evidence_count": row["evidence_count"],
    }


def _changes(patch) -> dict:
    return {k: v for k, v in patch.dict(exclude_unset=True).items() if v is not None}


def _year_month(year, month):
    from rpms.core import clock

    return year_param(year, label="年份", default=clock.today().year), month_param(month, label="月份")


# --- duty records ---------------------------------------------------------------------------------


@router.get("/duty-records", auth=auth_required, response={200: list[JSON], **ERRORS}, summary="履职记录列表")
def duty_record_list(request, unit: str = "", planner: str = "", status: str = "", year: str = "", month: str = "",
                     limit: str = "", offset: str = ""):
    """规划师看本人的记录；聘任主体看其责任单元的；区级工作人员看本区的；市级管理员和审计员看全市的。

    按日期从新到旧返回数组，分页参数：limit 每页条数（默认 500，最多 500，更大的值按 500 计），offset 起始位置
    （默认 0）；取下一页时 offset 加上 limit，返回不足 limit 条即已到末尾。"""
    limit, offset = limit_offset(limit or selectors.LIST_LIMIT, offset, max_limit=selectors.LIST_LIMIT, clamp=True)
    rows = selectors.duty_record_values(
        user=request.user, unit_id=_int_param(unit, "unit"), planner_id=_int_param(planner, "planner"), status=status,
        year=year_param(year, label="年份"), month=month_param(month, label="月份"), limit=limit, offset=offset,
    )
    policies: dict = {}
    return [record_row_json(r, policies) for r in rows]


@router.post("/duty-records", auth=auth_required, response={201: JSON, **ERRORS}, summary="记录履职")
def duty_record_create(request, payload: RecordIn):
    """责任规划师为其当日受聘服务的责任单元记录履职（B11、P3）：类别须为本市规定的工作职责类别，时长大于 0 且不超过
    24 小时，日期不晚于今天；focus 为本单元功能区类型的工作重点（B13）。未受聘服务该单元 → 403。"""
    require_role(request, Role.PLANNER)
    unit = selectors.unit_for_act(user=request.user, pk=payload.unit)
    record = services.duty_record_create(
        actor=request.user, unit=unit, category=payload.category, date=payload.date, hours=payload.hours,
        place=payload.place, description=payload.description, participants=payload.participants, focus=payload.focus,
    )
    return Status(201, record_json(selectors.duty_record_get(user=request.user, pk=record.pk), user=request.user, detail=True))


@router.get("/duty-records/options", auth=auth_required, response={200: JSON, **ERRORS}, summary="履职类别与工作重点")
def duty_record_options(request, unit: int):
    """本市的工作职责类别和该责任单元功能区类型的工作重点清单（B13）。仅限当日服务该单元的责任规划师。"""
    unit_obj, _ = selectors.unit_for_planner(user=request.user, pk=unit)
    return {
        "unit": {"id": unit_obj.pk, "name": unit_obj.name},
        "categories": [{"code": c["code"], "label": c["label"], "article": c.get("article", "")}
                       for c in unit_obj.city.policy.duty_categories],
        "zone_types": services.unit_focus_options(unit_obj),
    }


@router.get("/duty-records/summary", auth=auth_required, response={200: JSON, **ERRORS}, summary="履职时长汇总")
def duty_record_summary(request, year: str = "", month: str = "", planner: str = "", unit: str = ""):
    """按工作职责类别汇总的时长（月度：给出 month；年度：不给 month），由数据库一次聚合得出。"""
    year, month = _year_month(year, month)
    summary = selectors.hours_summary(user=request.user, year=year, month=month,
                                      planner_id=_int_param(planner, "planner"), unit_id=_int_param(unit, "unit"))
    return {**summary, "total_hours": _num(summary["total_hours"]), "confirmed_hours": _num(summary["confirmed_hours"]),
            "rows": [{**r, "hours": _num(r["hours"]), "confirmed_hours": _num(r["confirmed_hours"])} for r in summary["rows"]]}


@router.get("/duty-records/unit-summary", auth=auth_required, response={200: JSON, **ERRORS}, summary="各责任单元履职汇总")
def duty_record_unit_summary(request, year: str = "", month: str = "", limit: str = "", offset: str = ""):
    """区级工作人员看本区各责任单元（按规划师）的分类时长；市级看全市。按责任单元分页：limit 每页单元数（默认 50，
    最多 200，更大的值按 200 计），offset 起始位置（默认 0），只列该期间有履职记录的单元（按区、单元名称排序）；
    rows 仍为各单元（按规划师）的行。另给出 units_total（单元总数）、limit、offset、has_more（是否还有下一页）。"""
    require_role(request, Role.DISTRICT_OFFICER, Role.CITY_ADMIN, Role.AUDITOR, Role.HIRING_ENTITY)
    year, month = _year_month(year, month)
    limit, offset = limit_offset(limit or selectors.UNIT_SUMMARY_PAGE, offset, max_limit=selectors.UNIT_SUMMARY_MAX,
                                 clamp=True)
    summary = selectors.unit_hours_summary(user=request.user, year=year, month=month, limit=limit, offset=offset,
                                           count=True)
    return {**summary, "rows": [{**r, "by_category": [_num(h) for h in r["by_category"]], "total_hours": _num(r["total_hours"]),
                                 "confirmed_hours": _num(r["confirmed_hours"])} for r in summary["rows"]]}


@router.get("/duty-records/calendar", auth=auth_required, response={200: JSON, **ERRORS}, summary="履职日历")
def duty_record_calendar(request, year: str = "", month: str = "", planner: str = "", unit: str = ""):
    """月历：每天的时长 hours、记录数 count（全部记录，由数据库按日汇总），records 为其中至多 5 条记录的编号（全月至多
    列出 200 条，日期早的先列），more 为该日未列出的条数（= count − records 的条数）。"""
    from rpms.core import clock

    year = year_param(year, label="年份", default=clock.today().year)
    month = month_param(month, label="月份", default=clock.today().month)
    grid = selectors.duty_calendar(user=request.user, year=year, month=month, planner_id=_int_param(planner, "planner"),
                                   unit_id=_int_param(unit, "unit"))
    return {
        "year": grid["year"], "month": grid["month"], "total_hours": _num(grid["total_hours"]), "records": grid["records"],
        "weeks": [[{"date": d["date"].isoformat(), "in_month": d["in_month"], "is_working": d["is_working"],
                    "hours": _num(d["hours"]), "records": [r.pk for r in d["records"]], "count": d["count"],
                    "more": d["more"]} for d in week]
                  for week in grid["weeks"]],
    }


@router.get("/duty-records/{record_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="履职记录详情")
def duty_record_detail(request, record_id: int):
    return record_json(selectors.duty_record_get(user=request.user, pk=record_id), user=request.user, detail=True)


@router.patch("/duty-records/{record_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="修改履职记录")
def duty_record_update(request, record_id: int, payload: RecordPatch):
    """记录人本人在确认前可以修改；已确认的记录已锁定（409）。"""
    record = selectors.duty_record_get(user=request.user, pk=record_id)
    services.duty_record_update(actor=request.user, record=record, **_changes(payload))
    return record_json(selectors.duty_record_get(user=request.user, pk=record_id), user=request.user, detail=True)


@router.delete("/duty-records/{record_id}", auth=auth_required, response={204: None, **ERRORS}, summary="删除履职记录")
def duty_record_delete(request, record_id: int):
    """记录人本人在确认前可以删除；已确认的记录已锁定（409）。"""
    record = selectors.duty_record_get(user=request.user, pk=record_id)
    services.duty_record_delete(actor=request.user, record=record)
    return Status(204, None)


@router.post("/duty-records/{record_id}/evidence", auth=auth_required, response={201: JSON, **ERRORS}, summary="上传佐证材料")
def duty_evidence_add(request, record_id: int, file: File[UploadedFile], label: Form[str] = ""):
    """照片或文件（PDF、JPEG、PNG，按内容识别）。"""
    record = selectors.duty_record_get(user=request.user, pk=record_id)
    evidence = services.duty_evidence_add(actor=request.user, record=record, file=file, label=label)
    return Status(201, {"id": evidence.pk, "label": evidence.label, "name": evidence.original_name, "kind": evidence.kind,
                        "size": evidence.size, "sha256": evidence.sha256})


@router.get("/duty-records/{record_id}/evidence/{evidence_id}", auth=auth_required, response={**ERRORS},
            summary="下载佐证材料")
def duty_evidence_download(request, record_id: int, evidence_id: int):
    from rpms.core.uploads import proof_response

    record = selectors.duty_record_get(user=request.user, pk=record_id)
    evidence = next((e for e in record.evidence.all() if e.pk == evidence_id), None)
    if evidence is None:
        raise NotFound("文件不存在或您无权下载。")
    return proof_response(evidence.path, download_name=evidence.original_name, reader=request.user, obj=evidence)


@router.post("/duty-records/{record_id}/confirm", auth=auth_required, response={200: JSON, **ERRORS}, summary="确认履职记录")
def duty_record_confirm(request, record_id: int):
    """聘任主体（或区级主管部门）确认；确认后记录锁定，不能修改或删除。"""
    record = selectors.duty_record_get(user=request.user, pk=record_id)
    services.duty_record_confirm(actor=request.user, record=record)
    return record_json(selectors.duty_record_get(user=request.user, pk=record_id), user=request.user, detail=True)


@router.post("/duty-records/{record_id}/query", auth=auth_required, response={200: JSON, **ERRORS}, summary="对履职记录提出疑问")
def duty_record_query(request, record_id: int, payload: QuestionIn):
    record = selectors.duty_record_get(user=request.user, pk=record_id)
    services.duty_record_query(actor=request.user, record=record, question=payload.question)
    return record_json(selectors.duty_record_get(user=request.user, pk=record_id), user=request.user, detail=True)


@router.post("/duty-records/{record_id}/answer", auth=auth_required, response={200: JSON, **ERRORS}, summary="答复疑问并重新提交")
def duty_record_answer(request, record_id: int, payload: AnswerIn):
    record = selectors.duty_record_get(user=request.user, pk=record_id)
    changes = _changes(payload.changes) if payload.changes else None
    services.duty_record_answer(actor=request.user, record=record, answer=payload.answer, changes=changes)
    return record_json(selectors.duty_record_get(user=request.user, pk=record_id), user=request.user, detail=True)


# --- data requests ------------------------------------------------------------------------------------


@router.get("/data-requests", auth=auth_required, response={200: list[JSON], **ERRORS}, summary="资料申请列表")
def data_request_list(request, status: str = "", unit: str = ""):
    return [request_json(r) for r in selectors.data_request_list(user=request.user, status=status,
                                                                  unit_id=_int_param(unit, "unit"))]


@router.post("/data-requests", auth=auth_required, response={201: JSON, **ERRORS}, summary="申请现状信息和规划资料")
def data_request_create(request, payload: DataRequestIn):
    """B14(3)：责任规划师向聘任主体（addressee=entity）或政府相关部门（addressee=department，并给出 department）申请资料。"""
    require_role(request, Role.PLANNER)
    unit = selectors.unit_for_act(user=request.user, pk=payload.unit)
    item = services.data_request_create(
        actor=request.user, unit=unit, addressee=payload.addressee, department=payload.department, title=payload.title,
        content=payload.content, purpose=payload.purpose, needed_by=payload.needed_by,
    )
    return Status(201, request_json(selectors.data_request_get(user=request.user, pk=item.pk), user=request.user, detail=True))


@router.get("/data-requests/{request_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="资料申请详情")
def data_request_detail(request, request_id: int):
    return request_json(selectors.data_request_get(user=request.user, pk=request_id), user=request.user, detail=True)


def _flag(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "on", "yes", "public", "是")


@router.post("/data-requests/{request_id}/deliver", auth=auth_required, response={200: JSON, **ERRORS}, summary="提供资料")
def data_request_deliver(request, request_id: int, files: File[list[UploadedFile]], note: Form[str] = ""):
    """multipart：files（可多个）、label（与文件一一对应，可省略）、public（与文件一一对应：true 为可公开，
    省略或 false 为未公开）、note。未公开的材料仅申请人、聘任主体和区级工作人员可下载（B16(1)）。"""
    item = selectors.data_request_get(user=request.user, pk=request_id)
    labels = request.POST.getlist("label")
    flags = request.POST.getlist("public")
    materials = [
        services.MaterialUpload(file=f, label=labels[i] if i < len(labels) else "",
                                is_public=_flag(flags[i]) if i < len(flags) else False)
        for i, f in enumerate(files)
    ]
    services.data_request_deliver(actor=request.user, request=item, materials=materials, note=note)
    return request_json(selectors.data_request_get(user=request.user, pk=request_id), user=request.user, detail=True)


@router.post("/data-requests/{request_id}/materials", auth=auth_required, response={201: JSON, **ERRORS}, summary="补充资料")
def data_material_add(request, request_id: int, file: File[UploadedFile], label: Form[str] = "", public: Form[str] = ""):
    item = selectors.data_request_get(user=request.user, pk=request_id)
    material = services.data_material_add(actor=request.user, request=item, file=file, label=label, is_public=_flag(public))
    return Status(201, material_json(material))


@router.post("/data-requests/{request_id}/refuse", auth=auth_required, response={200: JSON, **ERRORS}, summary="不予提供")
def data_request_refuse(request, request_id: int, payload: ReasonIn):
    item = selectors.data_request_get(user=request.user, pk=request_id)
    services.data_request_refuse(actor=request.user, request=item, reason=payload.reason)
    return request_json(selectors.data_request_get(user=request.user, pk=request_id), user=request.user, detail=True)


@router.get("/data-requests/{request_id}/materials/{material_id}", auth=auth_required, response={**ERRORS},
            summary="下载资料")
def data_material_download(request, request_id: int, material_id: int):
    """每次下载都记录（下载记录 + 操作日志）。未公开的材料对申请人、聘任主体和区级工作人员以外的人返回 404。"""
    from rpms.core.uploads import proof_response

    material = selectors.data_material_get(user=request.user, request_pk=request_id, material_pk=material_id)
    services.data_material_download(actor=request.user, material=material)
    return proof_response(material.path, download_name=material.original_name, reader=request.user, obj=material,
                          audit=False)  # data_material_download wrote its audit row


@router.get("/data-requests/{request_id}/downloads", auth=auth_required, response={200: list[JSON], **ERRORS},
            summary="资料下载记录")
def data_request_downloads(request, request_id: int):
    item = selectors.data_request_get(user=request.user, pk=request_id)
    return [{"material": log.material_id, "name": log.material.original_name, "public": log.is_public,
             "user": log.user_repr, "at": _iso(log.at)} for log in selectors.download_log_list(user=request.user, request=item)]


# --- work certificates -----------------------------------------------------------------------------


def _planner_for_certificate(pk: int):
    from rpms.registry.models import Planner

    planner = Planner.objects.select_related("city__policy").filter(pk=pk).first()
    if planner is None:
        raise NotFound("责任规划师不存在。")
    return planner


@router.get("/work-certificates", auth=auth_required, response={200: list[JSON], **ERRORS}, summary="工作证明列表")
def work_certificate_list(request, planner: str = ""):
    return [certificate_json(c) for c in selectors.work_certificate_list(user=request.user, planner_id=_int_param(planner, "planner"))]


@router.get("/work-certificates/preview", auth=auth_required, response={200: JSON, **ERRORS}, summary="工作证明预览")
def work_certificate_preview(request, planner: int, start: dt.date, end: dt.date):
    """聘任主体出具前预览：仅统计本单位责任单元内已确认的履职记录。"""
    require_role(request, Role.HIRING_ENTITY)
    basis = services.work_certificate_basis(actor=request.user, planner=_planner_for_certificate(planner), start=start, end=end)
    return {"start": basis["start"].isoformat(), "end": basis["end"].isoformat(), "record_count": basis["record_count"],
            "total_hours": _num(basis["total_hours"]), "units": basis["units"],
            "categories": [{**c, "hours": _num(c["hours"])} for c in basis["categories"]]}


@router.post("/work-certificates", auth=auth_required, response={201: JSON, **ERRORS}, summary="出具工作证明")
def work_certificate_issue(request, payload: CertificateIn):
    """B14(4)：聘任主体为某期间出具工作证明，仅依据已确认的履职记录生成，附核验码，可下载 PDF。"""
    require_role(request, Role.HIRING_ENTITY)
    certificate = services.work_certificate_issue(actor=request.user, planner=_planner_for_certificate(payload.planner),
                                                  start=payload.start, end=payload.end)
    return Status(201, certificate_json(selectors.work_certificate_get(user=request.user, pk=certificate.pk)))


@router.get("/work-certificates/{cert_id}.pdf", auth=auth_required, response={**ERRORS}, summary="工作证明 PDF")
def work_certificate_pdf(request, cert_id: int):
    from rpms.documents.rendering import document_pdf_response

    certificate = selectors.work_certificate_get(user=request.user, pk=cert_id)
    return document_pdf_response(certificate.document, filename=f"工作证明-{certificate.planner.name}-{certificate.document.number}.pdf")


@router.get("/work-certificates/{cert_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="工作证明详情")
def work_certificate_detail(request, cert_id: int):
    return certificate_json(selectors.work_certificate_get(user=request.user, pk=cert_id))


@router.post("/work-certificates/{cert_id}/revoke", auth=auth_required, response={200: JSON, **ERRORS}, summary="撤销工作证明")
def work_certificate_revoke(request, cert_id: int, payload: ReasonIn):
    certificate = selectors.work_certificate_get(user=request.user, pk=cert_id)
    services.work_certificate_revoke(actor=request.user, certificate=certificate, reason=payload.reason)
    return certificate_json(selectors.work_certificate_get(user=request.user, pk=cert_id))


# --- extra contracted work -------------------------------------------------------------------------


@router.get("/extra-work", auth=auth_required, response={200: list[JSON], **ERRORS}, summary="另行签约工作列表")
def extra_work_list(request, appointment: str = "", unit: str = ""):
    return [extra_json(w) for w in selectors.extra_work_list(user=request.user, appointment_id=_int_param(appointment, "appointment"),
                                                             unit_id=_int_param(unit, "unit"))]


@router.post("/extra-work", auth=auth_required, response={201: JSON, **ERRORS}, summary="登记另行签约工作")
def extra_work_create(request, payload: ExtraWorkIn):
    """B12：专题研究、可行性分析、规划编制、方案设计、体检评估等另行签订合同的工作（kind：special_study、feasibility、
    plan_making、design、health_check、other），记录在派驻聘任之下。"""
    appointment = selectors.appointment_for_extra_work(user=request.user, pk=payload.appointment)
    work = services.extra_work_create(actor=request.user, appointment=appointment, **payload.dict(exclude={"appointment"}))
    return Status(201, extra_json(selectors.extra_work_get(user=request.user, pk=work.pk)))


@router.get("/extra-work/{work_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="另行签约工作详情")
def extra_work_detail(request, work_id: int):
    return extra_json(selectors.extra_work_get(user=request.user, pk=work_id))


@router.patch("/extra-work/{work_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="修改另行签约工作")
def extra_work_update(request, work_id: int, payload: ExtraWorkPatch):
    work = selectors.extra_work_get(user=request.user, pk=work_id)
    services.extra_work_update(actor=request.user, work=work, **_changes(payload))
    return extra_json(selectors.extra_work_get(user=request.user, pk=work_id))


@router.post("/extra-work/{work_id}/status", auth=auth_required, response={200: JSON, **ERRORS}, summary="变更另行签约工作状态")
def extra_work_status(request, work_id: int, payload: StatusIn):
    """status：in_progress（实施中）、completed（已完成）、terminated（已终止，须说明）。"""
    work = selectors.extra_work_get(user=request.user, pk=work_id)
    services.extra_work_status_change(actor=request.user, work=work, status=payload.status, note=payload.note)
    return extra_json(selectors.extra_work_get(user=request.user, pk=work_id))


# --- monitoring feedback ---------------------------------------------------------------------------


@router.get("/monitoring-feedback", auth=auth_required, response={200: list[JSON], **ERRORS}, summary="实施监督反馈列表")
def monitoring_feedback_list(request, status: str = ""):
    return [feedback_json(f) for f in selectors.monitoring_feedback_list(user=request.user, status=status)]


@router.post("/monitoring-feedback", auth=auth_required, response={201: JSON, **ERRORS}, summary="提交实施监督反馈")
def monitoring_feedback_file(request, payload: FeedbackIn):
    """B11(6)：责任规划师把规划实施或城市体检评估中发现的问题反馈给区级主管部门（或指定的相关部门）。
    source：plan_implementation、health_check、other。"""
    require_role(request, Role.PLANNER)
    unit = selectors.unit_for_act(user=request.user, pk=payload.unit)
    item = services.monitoring_feedback_file(actor=request.user, unit=unit, **payload.dict(exclude={"unit"}))
    return Status(201, feedback_json(selectors.monitoring_feedback_get(user=request.user, pk=item.pk)))


@router.get("/monitoring-feedback/{feedback_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="实施监督反馈详情")
def monitoring_feedback_detail(request, feedback_id: int):
    item = selectors.monitoring_feedback_get(user=request.user, pk=feedback_id)
    return {**feedback_json(item), "can_answer": can_answer_feedback(request.user, item) and item.status == "submitted"}


@router.post("/monitoring-feedback/{feedback_id}/answer", auth=auth_required, response={200: JSON, **ERRORS},
             summary="登记答复")
def monitoring_feedback_answer(request, feedback_id: int, payload: FeedbackAnswerIn):
    """区级工作人员登记答复（本部门的，或相关部门的——写明答复单位和日期）。"""
    item = selectors.monitoring_feedback_get(user=request.user, pk=feedback_id)
    services.monitoring_feedback_answer(actor=request.user, feedback=item, answer=payload.answer,
                                        answer_source=payload.answer_source, answered_on=payload.answered_on)
    return feedback_json(selectors.monitoring_feedback_get(user=request.user, pk=feedback_id))


__all__ = ["can_manage_extra_work", "router"]
