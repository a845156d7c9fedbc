"""Writes of the duties context. One function per act, keyword-only, atomic, `full_clean()` before save
and exactly one audit row citing the city's article for the step (rpms.cities.articles)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from rpms.accounts.models import Role
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound

from .models import (
    MAX_HOURS_PER_RECORD,
    Addressee,
    DataMaterial,
    DataRequest,
    DataRequestStatus,
    DownloadLog,
    DutyEvidence,
    DutyQuery,
    DutyRecord,
    DutyStatus,
    ExtraWork,
    ExtraWorkKind,
    ExtraWorkStatus,
    FeedbackSource,
    FeedbackStatus,
    MonitoringFeedback,
    WorkCertificate,
)
from .permissions import (
    can_answer_data_request,
    can_answer_feedback,
    can_confirm_duty,
    can_download_confidential,
    can_manage_extra_work,
    entity_unit_ids,
    is_record_planner,
    planner_of,
)

MAX_EVIDENCE_PER_RECORD = 20
MAX_MATERIALS_PER_REQUEST = 30
EVIDENCE_FOLDER = "duties/evidence"
MATERIAL_FOLDER = "duties/materials"


# --- small helpers ---------------------------------------------------------------------------------


def _text(value, *, label: str, max_length: int | None = None, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(f"请填写{label}。", code="field_required")
    if max_length and len(text) > max_length:
        raise DomainError(f"{label}不能超过 {max_length} 个字符。", code="field_too_long")
    return text


def _date(value, *, label: str, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise DomainError(f"请填写{label}。", code="field_required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise DomainError(f"{label}格式不正确，应为 YYYY-MM-DD。", code="invalid_date") from None


def _clean(instance) -> None:
    """full_clean(), a model ValidationError becoming a Chinese DomainError (400)."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        parts = []
        for field, errors in exc.message_dict.items():
            label = instance._meta.get_field(field).verbose_name if field != "__all__" else ""
            parts.append(f"{label}：{'；'.join(errors)}" if label else "；".join(errors))
        raise DomainError("；".join(parts) or "数据不正确。", code="invalid_field") from None


def _require_planner(actor):
    planner = planner_of(actor)
    if planner is None:
        raise Forbidden("只有责任规划师账户可以办理此事项。", code="planner_only")
    return planner


def _serving(actor, unit, on: dt.date):
    """The actor's appointment in `unit` in force on `on`, or 403 (B11/P3: a planner acts only where it serves)."""
    from rpms.appointments.serving import serving_appointment

    appointment = serving_appointment(user=actor, unit=unit, on=on)
    if appointment is None:
        raise Forbidden(
            f"您在 {on:%Y-%m-%d} 未受聘服务“{unit.name}”，不能以该责任单元的责任规划师身份办理。", code="not_serving"
        )
    return appointment


def _store(files, folder: str) -> list:
    """Stores each upload (content-checked) and returns the StoredProofs; on a refusal removes those
    already written, so nothing is left behind."""
    from rpms.core.uploads import proof_check, proof_delete, proof_store

    for upload in files:
        proof_check(upload)  # refuse a bad file before anything is written
    stored = []
    try:
        for upload in files:
            stored.append(proof_store(upload, folder=folder))
    except BaseException:
        for item in stored:
            proof_delete(item.path)
        raise
    return stored


def _file_row(model, stored, *, actor, **fields):
    row = model(
        path=stored.path, original_name=stored.original_name, kind=stored.kind, size=stored.size,
        sha256=stored.sha256, uploaded_by=actor if getattr(actor, "is_authenticated", False) else None, **fields,
    )
    _clean(row)
    row.save()
    return row


def _with_stored_files(files, folder, body):
    """Stores the files, then runs body(stored) inside a savepoint; if body raises, the files go."""
    from rpms.core.uploads import proof_delete

    stored = _store(list(files or []), folder) if files else []
    try:
        with transaction.atomic():
            return body(stored)
    except BaseException:
        for item in stored:
            proof_delete(item.path)
        raise


# --- duty records (B11 / P3) -----------------------------------------------------------------------


def unit_focus_options(unit) -> list[dict]:
    """The zone-type focus lists (B13) that apply to a unit: one entry per zone type of its current
    subdistricts ({"code","label","article","focus"}); empty where the city has no zone types."""
    from rpms.geography.models import Subdistrict

    policy = unit.city.policy
    subdistricts = Subdistrict.objects.filter(memberships__unit=unit, memberships__left_at__isnull=True).select_related(
        "district"
    )
    codes = []
    for subdistrict in subdistricts:
        code = subdistrict.zone_type
        if code and code not in codes:
            codes.append(code)
    if not codes and unit.district.zone_type:
        codes.append(unit.district.zone_type)
    options = []
    for code in codes:
        item = policy.zone_type(code)
        if item:
            options.append({"code": code, "label": item["label"], "article": item.get("article", ""),
                            "focus": list(item.get("focus") or [])})
    return options


def _focus_clean(unit, focus) -> list[str]:
    if focus in (None, ""):
        return []
    if isinstance(focus, str):
        focus = [focus]
    if not isinstance(focus, (list, tuple)):
        raise DomainError("工作重点格式不正确。", code="invalid_focus")
    options = unit_focus_options(unit)
    allowed = [item for option in options for item in option["focus"]]
    # The zone types' own articles (B13 in Beijing); a city whose zone types cite none shows none.
    cited = "、".join(dict.fromkeys(o["article"] for o in options if o.get("article")))
    chosen = []
    for item in focus:
        item = str(item).strip()
        if not item:
            continue
        if item not in allowed:
            raise DomainError(
                f"“{item}”不是本责任单元功能区类型的工作重点{f'（{cited}）' if cited else ''}。" if allowed
                else "本责任单元没有可选的功能区工作重点。",
                code="invalid_focus",
            )
        if item not in chosen:
            chosen.append(item)
    return chosen


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError("时长应为数字（小时）。", code="invalid_hours") from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS_PER_RECORD:
        raise DomainError("时长应大于 0 且不超过 24 小时。", code="invalid_hours")
    if hours != hours.quantize(Decimal("0.1")):
        raise DomainError("时长最多保留一位小数（如 1.5 小时）。", code="invalid_hours")
    return hours.quantize(Decimal("0.1"))


def _category(city, code) -> str:
    code = str(code or "").strip()
    if not city.policy.duty_category(code):
        labels = "、".join(f"{c['code']}（{c['label']}）" for c in city.policy.duty_categories)
        raise DomainError(f"工作职责类别不正确，应为本市规定的类别之一：{labels}。", code="invalid_category")
    return code


def _duty_values(*, actor, unit, values: dict, exclude_pk=None) -> tuple[dict, object]:
    """Validates a record's fields; returns (cleaned values, the serving appointment on its date)."""
    day = _date(values.get("date"), label="日期")
    if day > clock.today():
        raise DomainError("不能记录未来日期的履职。", code="date_in_future")
    appointment = _serving(actor, unit, day)
    cleaned = {
        "category": _category(unit.city, values.get("category")),
        "date": day,
        "hours": _hours(values.get("hours")),
        "place": _text(values.get("place"), label="地点", max_length=200, required=True),
        "participants": _text(values.get("participants"), label="参与人员", max_length=500),
        "description": _text(values.get("description"), label="工作内容", max_length=5000, required=True),
        "focus": _focus_clean(unit, values.get("focus")),
    }
    # A day has 24 hours: all of one planner's records on a day together may not exceed them.
    others = DutyRecord.objects.filter(planner=appointment.planner, date=day)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    already = others.aggregate(total=Sum("hours"))["total"] or Decimal(0)
    if already + cleaned["hours"] > MAX_HOURS_PER_RECORD:
        raise DomainError(
            f"{day:%Y-%m-%d} 已记录 {already} 小时，加上本条将超过一天 24 小时。", code="daily_hours_exceeded"
        )
    return cleaned, appointment


def _lock_record(record) -> DutyRecord:
    return DutyRecord.objects.select_for_update(of=("self",)).select_related("city__policy", "unit__district", "planner").get(
        pk=record.pk
    )


def _refuse_if_locked(record) -> None:
    if record.is_locked:
        raise Conflict("该履职记录已由聘任主体确认，已锁定，不能修改或删除。", code="duty_record_locked")


DUTY_FIELDS = ["category", "date", "hours", "place", "participants", "description", "focus", "status"]


@transaction.atomic
def duty_record_create(
    *, actor, unit, category, date, hours, place, description, participants: str = "", focus=(), evidence=(),
    evidence_labels=(),
) -> DutyRecord:
    """A planner records a duty in a unit it serves on that date (B11 / P3), with optional evidence files."""
    _require_planner(actor)
    if unit.dissolved_at is not None:
        raise DomainError("该责任单元已撤销。", code="unit_dissolved")
    values = {"category": category, "date": date, "hours": hours, "place": place, "participants": participants,
              "description": description, "focus": list(focus or [])}
    cleaned, appointment = _duty_values(actor=actor, unit=unit, values=values)
    files = list(evidence or [])
    if len(files) > MAX_EVIDENCE_PER_RECORD:
        raise DomainError(f"每条履职记录最多上传 {MAX_EVIDENCE_PER_RECORD} 份佐证材料。", code="too_many_files")
    labels = list(evidence_labels or [])

    def body(stored):
        record = DutyRecord(city=unit.city, unit=unit, appointment=appointment, planner=appointment.planner,
                            status=DutyStatus.SUBMITTED, submitted_at=clock.now(), created_by=actor, **cleaned)
        _clean(record)
        record.save()
        for index, item in enumerate(stored):
            label = _text(labels[index] if index < len(labels) else "", label="材料名称", max_length=100)
            _file_row(DutyEvidence, item, actor=actor, record=record, label=label)
        label = record.category_label()
        audit_log(actor=actor, action="duties.duty_record_create", obj=record, after=snapshot(record, DUTY_FIELDS),
                  article=policy_article(unit.city, "duty_record"),
                  summary=f"{appointment.planner.name} 记录履职：{record.date:%Y-%m-%d} {unit.name} {label} {record.hours} 小时"
                          + (f"，佐证材料 {len(stored)} 份" if stored else ""))
        return record

    return _with_stored_files(files, EVIDENCE_FOLDER, body)


@transaction.atomic
def duty_record_update(*, actor, record: DutyRecord, **changes) -> DutyRecord:
    """The planner edits its own record while it is not confirmed (submitted or queried)."""
    record = _lock_record(record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以修改。", code="not_author")
    _refuse_if_locked(record)
    unknown = set(changes) - {"category", "date", "hours", "place", "participants", "description", "focus"}
    if unknown:
        raise DomainError(f"不能修改的字段：{'、'.join(sorted(unknown))}。", code="invalid_field")
    before = snapshot(record, DUTY_FIELDS)
    values = {key: getattr(record, key) for key in ("category", "date", "hours", "place", "participants", "description", "focus")}
    values.update(changes)
    cleaned, appointment = _duty_values(actor=actor, unit=record.unit, values=values, exclude_pk=record.pk)
    for key, value in cleaned.items():
        setattr(record, key, value)
    record.appointment = appointment
    _clean(record)
    record.save()
    audit_log(actor=actor, action="duties.duty_record_update", obj=record, before=before,
              after=snapshot(record, DUTY_FIELDS), article=policy_article(record.city, "duty_record"),
              summary=f"{record.planner.name} 修改履职记录（{record.date:%Y-%m-%d} {record.unit.name}）")
    return record


@transaction.atomic
def duty_record_delete(*, actor, record: DutyRecord) -> None:
    """The planner deletes its own unconfirmed record; a confirmed record is locked (409)."""
    from rpms.core.uploads import proof_delete

    record = _lock_record(record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以删除。", code="not_author")
    _refuse_if_locked(record)
    paths = list(record.evidence.values_list("path", flat=True))
    audit_log(actor=actor, action="duties.duty_record_delete", obj=record, before=snapshot(record, DUTY_FIELDS),
              article=policy_article(record.city, "duty_record"),
              summary=f"{record.planner.name} 删除未确认的履职记录（{record.date:%Y-%m-%d} {record.unit.name}）")
    record.delete()
    transaction.on_commit(lambda: [proof_delete(p) for p in paths])


@transaction.atomic
def duty_evidence_add(*, actor, record: DutyRecord, file, label: str = "") -> DutyEvidence:
    """The planner adds a photo or file (PDF/JPEG/PNG, checked by content) to its unconfirmed record."""
    record = _lock_record(record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以上传佐证材料。", code="not_author")
    _refuse_if_locked(record)
    if record.evidence.count() >= MAX_EVIDENCE_PER_RECORD:
        raise DomainError(f"每条履职记录最多上传 {MAX_EVIDENCE_PER_RECORD} 份佐证材料。", code="too_many_files")
    label = _text(label, label="材料名称", max_length=100)

    def body(stored):
        evidence = _file_row(DutyEvidence, stored[0], actor=actor, record=record, label=label)
        audit_log(actor=actor, action="duties.duty_evidence_add", obj=record,
                  after={"evidence": evidence.pk, "name": evidence.original_name, "kind": evidence.kind,
                         "sha256": evidence.sha256},
                  article=policy_article(record.city, "duty_record"),
                  summary=f"{record.planner.name} 为履职记录上传佐证材料 {evidence.original_name}"[:255])
        return evidence

    return _with_stored_files([file], EVIDENCE_FOLDER, body)


@transaction.atomic
def duty_evidence_remove(*, actor, evidence: DutyEvidence) -> None:
    from rpms.core.uploads import proof_delete

    record = _lock_record(evidence.record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以删除佐证材料。", code="not_author")
    _refuse_if_locked(record)
    path, name = evidence.path, evidence.original_name
    audit_log(actor=actor, action="duties.duty_evidence_remove", obj=record,
              before={"evidence": evidence.pk, "name": name, "sha256": evidence.sha256},
              article=policy_article(record.city, "duty_record"),
              summary=f"{record.planner.name} 删除履职记录的佐证材料 {name}"[:255])
    DutyEvidence.objects.filter(pk=evidence.pk).delete()
    transaction.on_commit(lambda: proof_delete(path))


def _require_confirmer(actor, record) -> None:
    if not can_confirm_duty(actor, record):
        raise Forbidden("只有该责任单元的聘任主体或区级主管部门可以确认或质询履职记录。", code="not_confirmer")


@transaction.atomic
def duty_record_confirm(*, actor, record: DutyRecord) -> DutyRecord:
    """The hiring entity (or district officer) confirms a record; it is then locked."""
    record = _lock_record(record)
    _require_confirmer(actor, record)
    if not record.can_become(DutyStatus.CONFIRMED):
        if record.status == DutyStatus.QUERIED:
            raise Conflict("该记录的疑问尚待责任规划师答复，答复后才能确认。", code="duty_record_queried")
        raise Conflict("该履职记录已确认。", code="duty_record_locked")
    before = snapshot(record, DUTY_FIELDS)
    record.move_to(DutyStatus.CONFIRMED)
    record.confirmed_at = clock.now()
    record.confirmed_by = actor
    _clean(record)
    record.save()
    audit_log(actor=actor, action="duties.duty_record_confirm", obj=record, before=before,
              after=snapshot(record, DUTY_FIELDS + ["confirmed_at", "confirmed_by"]),
              article=policy_article(record.city, "duty_confirm"),
              summary=f"{actor} 确认 {record.planner.name} 的履职记录（{record.date:%Y-%m-%d} {record.unit.name}）"[:255])
    return record


@transaction.atomic
def duty_record_query(*, actor, record: DutyRecord, question: str) -> DutyQuery:
    """The hiring entity (or district officer) asks the planner about a record instead of confirming it."""
    record = _lock_record(record)
    _require_confirmer(actor, record)
    question = _text(question, label="疑问", max_length=2000, required=True)
    if not record.can_become(DutyStatus.QUERIED):
        if record.status == DutyStatus.QUERIED:
            raise Conflict("该记录已有待答复的疑问。", code="duty_record_queried")
        raise Conflict("该履职记录已确认，已锁定。", code="duty_record_locked")
    before = snapshot(record, DUTY_FIELDS)
    query = DutyQuery(record=record, question=question, asked_by=actor, asked_at=clock.now())
    _clean(query)
    query.save()
    record.move_to(DutyStatus.QUERIED)
    _clean(record)
    record.save()
    audit_log(actor=actor, action="duties.duty_record_query", obj=record, before=before,
              after={**snapshot(record, DUTY_FIELDS), "question": question},
              article=policy_article(record.city, "duty_confirm"),
              summary=f"{actor} 对 {record.planner.name} 的履职记录提出疑问（{record.date:%Y-%m-%d}）"[:255])
    return query


@transaction.atomic
def duty_record_answer(*, actor, record: DutyRecord, answer: str, changes: dict | None = None) -> DutyRecord:
    """The planner answers the open question, optionally corrects the record, and resubmits it."""
    record = _lock_record(record)
    if not is_record_planner(actor, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以答复。", code="not_author")
    if record.status != DutyStatus.QUERIED:
        raise Conflict("该履职记录没有待答复的疑问。", code="duty_record_not_queried")
    answer = _text(answer, label="答复", max_length=2000, required=True)
    before = snapshot(record, DUTY_FIELDS)
    if changes:
        unknown = set(changes) - {"category", "date", "hours", "place", "participants", "description", "focus"}
        if unknown:
            raise DomainError(f"不能修改的字段：{'、'.join(sorted(unknown))}。", code="invalid_field")
        values = {k: getattr(record, k) for k in ("category", "date", "hours", "place", "participants", "description", "focus")}
        values.update(changes)
        cleaned, appointment = _duty_values(actor=actor, unit=record.unit, values=values, exclude_pk=record.pk)
        for key, value in cleaned.items():
            setattr(record, key, value)
        record.appointment = appointment
    query = record.queries.filter(answered_at__isnull=True).order_by("-asked_at", "-id").first()
    if query is not None:
        query.answer = answer
        query.answered_by = actor
        query.answered_at = clock.now()
        _clean(query)
        query.save()
    record.move_to(DutyStatus.SUBMITTED)
    record.submitted_at = clock.now()
    _clean(record)
    record.save()
    audit_log(actor=actor, action="duties.duty_record_answer", obj=record, before=before,
              after={**snapshot(record, DUTY_FIELDS), "answer": answer},
              article=policy_article(record.city, "duty_record"),
              summary=f"{record.planner.name} 答复疑问并重新提交履职记录（{record.date:%Y-%m-%d}）"[:255])
    return record


# --- data requests (B14(3), B16(1)) ----------------------------------------------------------------


@dataclass(frozen=True)
class MaterialUpload:
    file: object
    label: str = ""
    is_public: bool = False


def _department(city, unit, department):
    from rpms.geography.models import Department

    if department is None or department == "":
        raise DomainError("请选择政府相关部门。", code="department_required")
    if not isinstance(department, Department):
        try:
            department = Department.objects.filter(pk=int(department)).first()
        except (TypeError, ValueError):
            department = None
    if (
        department is None
        or department.city_id != city.pk
        or not department.is_active
        or (department.district_id is not None and department.district_id != unit.district_id)
    ):
        raise DomainError("所选部门不存在，或不是本市（本区）的相关部门。", code="invalid_department")
    return department


REQUEST_FIELDS = ["addressee", "department", "title", "content", "purpose", "needed_by", "status", "delivery_note",
                  "refusal_reason"]


@transaction.atomic
def data_request_create(
    *, actor, unit, addressee: str, title: str, content: str, purpose: str = "", needed_by=None, department=None,
) -> DataRequest:
    """B14(3): a planner serving the unit asks the hiring entity or a department for status data or plans."""
    _require_planner(actor)
    appointment = _serving(actor, unit, clock.today())
    if addressee not in Addressee.values:
        raise DomainError("申请对象应为 entity（聘任主体）或 department（政府相关部门）。", code="invalid_addressee")
    department = _department(unit.city, unit, department) if addressee == Addressee.DEPARTMENT else None
    needed_by = _date(needed_by, label="希望提供日期", required=False)
    if needed_by is not None and needed_by < clock.today():
        raise DomainError("希望提供日期不能早于今天。", code="invalid_date")
    request = DataRequest(
        city=unit.city, unit=unit, appointment=appointment, planner=appointment.planner, addressee=addressee,
        department=department, title=_text(title, label="所需资料", max_length=200, required=True),
        content=_text(content, label="资料内容及范围", max_length=5000, required=True),
        purpose=_text(purpose, label="用途", max_length=2000), needed_by=needed_by,
        status=DataRequestStatus.SUBMITTED, submitted_at=clock.now(), requested_by=actor,
    )
    _clean(request)
    request.save()
    audit_log(actor=actor, action="duties.data_request_create", obj=request, after=snapshot(request, REQUEST_FIELDS),
              article=policy_article(unit.city, "data_request"),
              summary=f"{appointment.planner.name} 向{request.addressee_name}申请资料：{request.title}"[:255])
    return request


def _lock_request(request) -> DataRequest:
    return DataRequest.objects.select_for_update(of=("self",)).select_related("city__policy", "unit__district", "planner",
                                                                   "department").get(pk=request.pk)


def _material_rows(request, stored, uploads, actor) -> list[DataMaterial]:
    rows = []
    for item, upload in zip(stored, uploads):
        label = _text(upload.label, label="资料名称", max_length=100)
        rows.append(_file_row(DataMaterial, item, actor=actor, request=request, label=label, is_public=bool(upload.is_public)))
    return rows


def _uploads(materials) -> list[MaterialUpload]:
    uploads = []
    for item in materials or []:
        if isinstance(item, MaterialUpload):
            uploads.append(item)
        elif isinstance(item, dict):
            uploads.append(MaterialUpload(file=item["file"], label=item.get("label", ""), is_public=bool(item.get("is_public"))))
        else:
            uploads.append(MaterialUpload(file=item))
    return uploads


@transaction.atomic
def data_request_deliver(*, actor, request: DataRequest, materials, note: str = "") -> DataRequest:
    """The addressee delivers: at least one material, each marked public or non-public (B16(1))."""
    request = _lock_request(request)
    if not can_answer_data_request(actor, request):
        raise Forbidden("只有申请对象（聘任主体或代为登记的区级工作人员）可以答复该资料申请。", code="not_addressee")
    if not request.can_become(DataRequestStatus.DELIVERED):
        raise Conflict(f"该资料申请已{request.get_status_display()}，不能再次答复。", code="data_request_answered")
    uploads = _uploads(materials)
    if not uploads:
        raise DomainError("提供资料时须上传至少一份材料。", code="materials_required")
    if len(uploads) > MAX_MATERIALS_PER_REQUEST:
        raise DomainError(f"每次最多上传 {MAX_MATERIALS_PER_REQUEST} 份材料。", code="too_many_files")
    note = _text(note, label="提供说明", max_length=2000)

    def body(stored):
        before = snapshot(request, REQUEST_FIELDS)
        rows = _material_rows(request, stored, uploads, actor)
        request.move_to(DataRequestStatus.DELIVERED)
        request.delivery_note = note
        request.answered_at = clock.now()
        request.answered_by = actor
        _clean(request)
        request.save()
        confidential = sum(1 for row in rows if not row.is_public)
        audit_log(actor=actor, action="duties.data_request_deliver", obj=request, before=before,
                  after={**snapshot(request, REQUEST_FIELDS),
                         "materials": [{"id": r.pk, "name": r.original_name, "public": r.is_public, "sha256": r.sha256} for r in rows]},
                  article=policy_article(request.city, "data_request"),
                  summary=f"{actor} 提供资料“{request.title}”{len(rows)} 份（其中未公开 {confidential} 份）"[:255])
        return request

    return _with_stored_files([u.file for u in uploads], MATERIAL_FOLDER, body)


@transaction.atomic
def data_material_add(*, actor, request: DataRequest, file, label: str = "", is_public: bool = False) -> DataMaterial:
    """A further material for a request already delivered (a supplement)."""
    request = _lock_request(request)
    if not can_answer_data_request(actor, request):
        raise Forbidden("只有申请对象（聘任主体或代为登记的区级工作人员）可以补充资料。", code="not_addressee")
    if request.status != DataRequestStatus.DELIVERED:
        raise Conflict("只有已提供的资料申请可以补充材料；尚未答复的请使用“提供资料”。", code="data_request_not_delivered")
    if request.materials.count() >= MAX_MATERIALS_PER_REQUEST:
        raise DomainError(f"每份资料申请最多 {MAX_MATERIALS_PER_REQUEST} 份材料。", code="too_many_files")
    upload = MaterialUpload(file=file, label=label, is_public=is_public)

    def body(stored):
        row = _material_rows(request, stored, [upload], actor)[0]
        audit_log(actor=actor, action="duties.data_material_add", obj=request,
                  after={"material": row.pk, "name": row.original_name, "public": row.is_public, "sha256": row.sha256},
                  article=policy_article(request.city, "data_request"),
                  summary=f"{actor} 补充资料“{request.title}”：{row.original_name}（{'可公开' if row.is_public else '未公开'}）"[:255])
        return row

    return _with_stored_files([file], MATERIAL_FOLDER, body)


@transaction.atomic
def data_request_refuse(*, actor, request: DataRequest, reason: str) -> DataRequest:
    """The addressee refuses, with a reason the planner sees."""
    request = _lock_request(request)
    if not can_answer_data_request(actor, request):
        raise Forbidden("只有申请对象（聘任主体或代为登记的区级工作人员）可以答复该资料申请。", code="not_addressee")
    if not request.can_become(DataRequestStatus.REFUSED):
        raise Conflict(f"该资料申请已{request.get_status_display()}，不能再次答复。", code="data_request_answered")
    reason = _text(reason, label="不予提供的理由", max_length=2000, required=True)
    before = snapshot(request, REQUEST_FIELDS)
    request.move_to(DataRequestStatus.REFUSED)
    request.refusal_reason = reason
    request.answered_at = clock.now()
    request.answered_by = actor
    _clean(request)
    request.save()
    audit_log(actor=actor, action="duties.data_request_refuse", obj=request, before=before,
              after=snapshot(request, REQUEST_FIELDS), article=policy_article(request.city, "data_request"),
              summary=f"{actor} 不予提供资料“{request.title}”：{reason}"[:255])
    return request


@transaction.atomic
def data_material_download(*, actor, material: DataMaterial) -> DataMaterial:
    """Records one download (DownloadLog + audit row) after checking entitlement: a non-public material
    reaches only the requesting planner, the unit's entity and its district officer (B16(1)); anyone
    else gets 404. The caller (who has already found the request visible) then streams the file."""
    from rpms.core.context import current_ip

    request = material.request
    if not material.is_public and not can_download_confidential(actor, request):
        raise NotFound("文件不存在或您无权下载。")
    log = DownloadLog(material=material, user=actor, user_repr=(actor.get_username() if actor else "")[:150],
                      at=clock.now(), ip=current_ip.get(), is_public=material.is_public)
    _clean(log)
    log.save()
    step = "data_request" if material.is_public else "confidential_material"
    audit_log(actor=actor, action="duties.data_material_download", obj=material,
              object_repr=f"{request.title}：{material.original_name}"[:255], city_code=request.city.code,
              after={"request": request.pk, "material": material.pk, "public": material.is_public, "download": log.pk},
              article=policy_article(request.city, step),
              summary=f"{actor} 下载{'可公开' if material.is_public else '未公开'}资料 {material.original_name}"[:255])
    return material


# --- work certificates (B14(4)) ----------------------------------------------------------------------


def _entity_name(actor) -> str:
    return (getattr(actor, "display_name", "") or actor.get_username())[:200]


def work_certificate_basis(*, actor, planner, start, end) -> dict:
    """What a certificate for `planner` over [start, end] would say, from the CONFIRMED records in the
    actor's units only: {"records": [...ids], "record_count", "total_hours", "categories": [{code,label,
    hours,records}], "units": [names], "unit_ids"}. Two queries (one aggregate, one for the ids/units)."""
    from django.db.models import Count

    start = _date(start, label="期间开始")
    end = _date(end, label="期间结束")
    if end < start:
        raise DomainError("期间结束不能早于期间开始。", code="invalid_period")
    if end > clock.today():
        raise DomainError("证明期间不能晚于今天。", code="invalid_period")
    unit_ids = entity_unit_ids(actor)
    confirmed = DutyRecord.objects.filter(planner=planner, status=DutyStatus.CONFIRMED, unit_id__in=unit_ids,
                                          date__gte=start, date__lte=end)
    policy = planner.city.policy
    order = {c["code"]: i for i, c in enumerate(policy.duty_categories)}
    rows = list(confirmed.values("category").annotate(sum_hours=Sum("hours"), n_records=Count("id")).order_by())
    rows.sort(key=lambda r: order.get(r["category"], 99))
    categories = [{"code": r["category"], "label": (policy.duty_category(r["category"]) or {}).get("label", r["category"]),
                   "hours": Decimal(r["sum_hours"] or 0).quantize(Decimal("0.1")), "records": r["n_records"]} for r in rows]
    pairs = list(confirmed.values_list("pk", "unit_id", "unit__name").order_by("date", "pk"))
    units = {}
    for _, unit_id, unit_name in pairs:
        units.setdefault(unit_id, unit_name)
    return {
        "start": start,
        "end": end,
        "records": [pk for pk, _, _ in pairs],
        "record_count": sum(r["records"] for r in categories),
        "total_hours": sum((r["hours"] for r in categories), Decimal(0)),
        "categories": categories,
        "unit_ids": list(units),
        "units": list(units.values()),
    }


def _hours_text(value) -> str:
    value = Decimal(value)
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:.1f}"


@transaction.atomic
def work_certificate_issue(*, actor, planner, start, end) -> WorkCertificate:
    """B14(4): the hiring entity issues a work certificate for a period, generated from the CONFIRMED
    duty records of its units (unconfirmed ones are left out), as a document with a verification code."""
    from rpms.documents.issuers import document_issuer
    from rpms.documents.services import document_issue

    if not getattr(actor, "is_authenticated", False) or actor.role != Role.HIRING_ENTITY:
        raise Forbidden("工作证明由聘任主体（街道办事处、乡镇政府、园区管委会）出具。", code="entity_only")
    basis = work_certificate_basis(actor=actor, planner=planner, start=start, end=end)
    if not basis["records"]:
        raise DomainError(
            f"{basis['start']:%Y-%m-%d} 至 {basis['end']:%Y-%m-%d} 期间，{planner.name}在本单位的责任单元没有已确认的履职记录，"
            "不能出具工作证明。请先确认履职记录。",
            code="no_confirmed_records",
        )
    city = planner.city
    article = policy_article(city, "work_certificate")
    issuer = _entity_name(actor)
    now = clock.now()
    certificate = WorkCertificate(
        city=city, planner=planner, period_start=basis["start"], period_end=basis["end"], issuer_name=issuer,
        issued_by=actor, issued_at=now, record_count=basis["record_count"], total_hours=basis["total_hours"],
        summary=[{"code": c["code"], "label": c["label"], "hours": str(c["hours"]), "records": c["records"]}
                 for c in basis["categories"]],
    )
    period = f"{basis['start']:%Y年%m月%d日}至{basis['end']:%Y年%m月%d日}"
    units_text = "、".join(basis["units"])
    who = planner.name if planner.kind == "individual" else f"{planner.name}（负责人：{planner.leader_name or '—'}）"
    context = {
        "city_name": city.name,
        "bureau_name": city.bureau_name or city.name,
        "rulebook_title": city.rulebook_title,
        "issued_on": clock.localdate(now).isoformat(),
        # B14(4): the hiring entity's own certificate, on its own letterhead
        **document_issuer(city=city, kind="work_certificate", hiring_entity=issuer).context(),
        "articles": [article],
        "article_note": f"依据{city.rulebook_title or '本市责任规划师制度'}（{article}），根据已确认的履职记录出具。",
        "heading": "责任规划师工作证明",
        "fields": [
            {"label": "责任规划师", "value": who},
            {"label": "工作单位", "value": planner.employer or "—"},
            {"label": "服务责任单元", "value": units_text},
            {"label": "证明期间", "value": period},
            {"label": "已确认履职记录", "value": f"{basis['record_count']} 条"},
            {"label": "合计时长", "value": f"{_hours_text(basis['total_hours'])} 小时"},
        ],
        "paragraphs": [
            (f"兹证明{who}于{period}在{units_text}履行责任规划师职责，"
             f"经本单位确认的履职记录共 {basis['record_count']} 条，合计 {_hours_text(basis['total_hours'])} 小时，各类工作情况见下表。"),
            "本证明仅依据经本单位确认的履职记录生成，未确认的记录不计入。",
            "特此证明。",
        ],
        "items": [{"label": c["label"], "value": f"{_hours_text(c['hours'])} 小时，{c['records']} 条记录"}
                  for c in basis["categories"]],
    }

    _clean(certificate)
    certificate.save()
    certificate.units.set(basis["unit_ids"])
    certificate.records.set(basis["records"])
    # Issued inside this transaction: if anything below fails, the document goes with the certificate.
    document = document_issue(actor=actor, city=city, kind="work_certificate", title="责任规划师工作证明",
                              subject=certificate, context=context, holder_name=planner.name)
    certificate.document = document
    certificate.save(update_fields=["document", "updated_at"])
    audit_log(actor=actor, action="duties.work_certificate_issue", obj=certificate,
              after={"planner": planner.pk, "period_start": basis["start"], "period_end": basis["end"],
                     "record_count": basis["record_count"], "total_hours": basis["total_hours"],
                     "records": basis["records"], "document": document.number,
                     "verification_code": document.verification_code},
              article=article,
              summary=f"{issuer} 为 {planner.name} 出具工作证明（{period}，{basis['record_count']} 条记录），文书 {document.number}"[:255])
    return certificate


@transaction.atomic
def work_certificate_revoke(*, actor, certificate: WorkCertificate, reason: str) -> WorkCertificate:
    """The issuing entity revokes a certificate with a reason (shown on the public verification page)."""
    from rpms.documents.services import document_revoke

    certificate = WorkCertificate.objects.select_for_update(of=("self",)).select_related("document", "city", "planner").get(
        pk=certificate.pk
    )
    unit_ids = set(certificate.units.values_list("pk", flat=True))
    if not (getattr(actor, "is_authenticated", False) and actor.role == Role.HIRING_ENTITY
            and unit_ids & entity_unit_ids(actor)):
        raise Forbidden("只有出具该证明的聘任主体可以撤销。", code="not_issuer")
    reason = _text(reason, label="撤销原因", max_length=500, required=True)
    before = {"status": certificate.document.status}
    document_revoke(actor=actor, document=certificate.document, reason=reason)
    certificate.document.refresh_from_db()
    audit_log(actor=actor, action="duties.work_certificate_revoke", obj=certificate, before=before,
              after={"status": certificate.document.status, "reason": reason},
              article=policy_article(certificate.city, "work_certificate"),
              summary=f"{actor} 撤销 {certificate.planner.name} 的工作证明 {certificate.document.number}：{reason}"[:255])
    return certificate


# --- extra contracted work (B12) -------------------------------------------------------------------


EXTRA_FIELDS = ["kind", "title", "scope", "fee_yuan", "party_a", "contract_number", "contract_date", "start", "end",
                "status", "status_note"]


def _fee(value) -> Decimal:
    try:
        fee = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError("合同经费应为数字（元）。", code="invalid_fee") from None
    if not fee.is_finite() or fee < 0:
        raise DomainError("合同经费不能为负数。", code="invalid_fee")
    if fee != fee.quantize(Decimal("0.01")):
        raise DomainError("合同经费最多精确到分（两位小数）。", code="invalid_fee")
    if fee >= Decimal(10000000000):
        raise DomainError("合同经费过大，请核对。", code="invalid_fee")
    return fee.quantize(Decimal("0.01"))


def _extra_values(values: dict, *, city, exclude_pk=None) -> dict:
    kind = str(values.get("kind") or "").strip()
    if kind not in ExtraWorkKind.values:
        labels = "、".join(f"{v}（{label}）" for v, label in ExtraWorkKind.choices)
        raise DomainError(f"工作类型不正确，应为：{labels}。", code="invalid_kind")
    contract_date = _date(values.get("contract_date"), label="合同签订日期")
    if contract_date > clock.today():
        raise DomainError("合同签订日期不能晚于今天（尚未签订的合同不予登记）。", code="invalid_date")
    start = _date(values.get("start"), label="开始日期", required=False)
    end = _date(values.get("end"), label="结束日期", required=False)
    if start and end and end < start:
        raise DomainError("结束日期不能早于开始日期。", code="invalid_period")
    number = _text(values.get("contract_number"), label="合同编号", max_length=100, required=True)
    duplicate = ExtraWork.objects.filter(city=city, contract_number=number)
    if exclude_pk:
        duplicate = duplicate.exclude(pk=exclude_pk)
    if duplicate.exists():
        raise Conflict(f"合同编号“{number}”已登记。", code="duplicate_contract_number")
    return {
        "kind": kind,
        "title": _text(values.get("title"), label="项目名称", max_length=200, required=True),
        "scope": _text(values.get("scope"), label="工作内容及范围", max_length=5000, required=True),
        "fee_yuan": _fee(values.get("fee_yuan")),
        "party_a": _text(values.get("party_a"), label="委托方", max_length=200, required=True),
        "contract_number": number,
        "contract_date": contract_date,
        "start": start,
        "end": end,
    }


@transaction.atomic
def extra_work_create(*, actor, appointment, kind, title, scope, fee_yuan, party_a, contract_number, contract_date,
                      start=None, end=None) -> ExtraWork:
    """B12: work beyond the basic duties under a separate contract (its own scope and fee), recorded against
    the appointment by its planner, the unit's hiring entity or the district officer."""
    from rpms.appointments.models import Appointment

    appointment = Appointment.objects.select_related("city__policy", "unit__district", "planner").get(pk=appointment.pk)
    if not can_manage_extra_work(actor, appointment):
        raise Forbidden("只有该派驻的责任规划师、聘任主体或区级主管部门可以登记另行签约的工作。", code="not_party")
    if not appointment.is_active() and appointment.state() != "upcoming":
        # Past appointments keep their history but take no new contracts.
        raise Conflict("该派驻聘任已结束，不能再登记另行签约的工作。", code="appointment_over")
    cleaned = _extra_values(
        {"kind": kind, "title": title, "scope": scope, "fee_yuan": fee_yuan, "party_a": party_a,
         "contract_number": contract_number, "contract_date": contract_date, "start": start, "end": end},
        city=appointment.city,
    )
    work = ExtraWork(city=appointment.city, appointment=appointment, unit=appointment.unit, planner=appointment.planner,
                     status=ExtraWorkStatus.SIGNED, created_by=actor, **cleaned)
    _clean(work)
    work.save()
    audit_log(actor=actor, action="duties.extra_work_create", obj=work, after=snapshot(work, EXTRA_FIELDS),
              article=policy_article(appointment.city, "extra_work"),
              summary=f"登记另行签约工作：{work.get_kind_display()}“{work.title}”，{appointment.planner.name}，"
                      f"经费 {work.fee_yuan} 元，合同 {work.contract_number}"[:255])
    return work


@transaction.atomic
def extra_work_update(*, actor, work: ExtraWork, **changes) -> ExtraWork:
    work = ExtraWork.objects.select_for_update(of=("self",)).select_related("appointment__planner", "appointment__unit__district",
                                                                "city").get(pk=work.pk)
    if not can_manage_extra_work(actor, work.appointment):
        raise Forbidden("只有该派驻的责任规划师、聘任主体或区级主管部门可以修改。", code="not_party")
    if work.status in (ExtraWorkStatus.COMPLETED, ExtraWorkStatus.TERMINATED):
        raise Conflict(f"该工作已{work.get_status_display()}，不能修改。", code="extra_work_closed")
    unknown = set(changes) - {"kind", "title", "scope", "fee_yuan", "party_a", "contract_number", "contract_date", "start", "end"}
    if unknown:
        raise DomainError(f"不能修改的字段：{'、'.join(sorted(unknown))}。", code="invalid_field")
    before = snapshot(work, EXTRA_FIELDS)
    values = {k: getattr(work, k) for k in ("kind", "title", "scope", "fee_yuan", "party_a", "contract_number",
                                            "contract_date", "start", "end")}
    values.update(changes)
    for key, value in _extra_values(values, city=work.city, exclude_pk=work.pk).items():
        setattr(work, key, value)
    _clean(work)
    work.save()
    audit_log(actor=actor, action="duties.extra_work_update", obj=work, before=before, after=snapshot(work, EXTRA_FIELDS),
              article=policy_article(work.city, "extra_work"), summary=f"修改另行签约工作“{work.title}”"[:255])
    return work


@transaction.atomic
def extra_work_status_change(*, actor, work: ExtraWork, status: str, note: str = "") -> ExtraWork:
    work = ExtraWork.objects.select_for_update(of=("self",)).select_related("appointment__planner", "appointment__unit__district",
                                                                "city").get(pk=work.pk)
    if not can_manage_extra_work(actor, work.appointment):
        raise Forbidden("只有该派驻的责任规划师、聘任主体或区级主管部门可以变更状态。", code="not_party")
    if status not in ExtraWorkStatus.values:
        raise DomainError("状态不正确，应为 in_progress、completed 或 terminated。", code="invalid_status")
    if not work.can_become(status):
        raise Conflict(f"该工作当前为“{work.get_status_display()}”，不能改为“{ExtraWorkStatus(status).label}”。",
                       code="invalid_transition")
    note = _text(note, label="状态说明", max_length=2000, required=status == ExtraWorkStatus.TERMINATED)
    before = snapshot(work, EXTRA_FIELDS)
    work.move_to(status)
    work.status_note = note
    work.status_changed_at = clock.now()
    _clean(work)
    work.save()
    audit_log(actor=actor, action="duties.extra_work_status", obj=work, before=before, after=snapshot(work, EXTRA_FIELDS),
              article=policy_article(work.city, "extra_work"),
              summary=f"另行签约工作“{work.title}”状态改为{work.get_status_display()}"[:255])
    return work


# --- monitoring feedback (B11(6)) ------------------------------------------------------------------


FEEDBACK_FIELDS = ["source", "addressee", "department", "title", "description", "location", "suggestion", "status",
                   "answer", "answer_source", "answered_on"]


@transaction.atomic
def monitoring_feedback_file(*, actor, unit, source: str, title: str, description: str, location: str = "",
                             suggestion: str = "", department=None) -> MonitoringFeedback:
    """B11(6): a planner serving the unit files an issue found in plan implementation or the city health
    check to the district (default) or a department."""
    _require_planner(actor)
    appointment = _serving(actor, unit, clock.today())
    if source not in FeedbackSource.values:
        raise DomainError("问题来源应为 plan_implementation（规划实施）、health_check（城市体检评估）或 other（其他）。",
                          code="invalid_source")
    department = _department(unit.city, unit, department) if department not in (None, "") else None
    feedback = MonitoringFeedback(
        city=unit.city, district=unit.district, unit=unit, appointment=appointment, planner=appointment.planner,
        source=source, addressee="department" if department else "district", department=department,
        title=_text(title, label="问题", max_length=200, required=True),
        description=_text(description, label="问题描述", max_length=5000, required=True),
        location=_text(location, label="位置", max_length=200),
        suggestion=_text(suggestion, label="处理建议", max_length=5000),
        status=FeedbackStatus.SUBMITTED, submitted_at=clock.now(), filed_by=actor,
    )
    _clean(feedback)
    feedback.save()
    audit_log(actor=actor, action="duties.monitoring_feedback_file", obj=feedback,
              after=snapshot(feedback, FEEDBACK_FIELDS), article=policy_article(unit.city, "monitoring_feedback"),
              summary=f"{appointment.planner.name} 向{feedback.addressee_name}反馈{feedback.get_source_display()}问题：{feedback.title}"[:255])
    return feedback


@transaction.atomic
def monitoring_feedback_answer(*, actor, feedback: MonitoringFeedback, answer: str, answer_source: str = "",
                               answered_on=None) -> MonitoringFeedback:
    """The district officer records the answer (its own, or the department's, with who answered and when)."""
    feedback = MonitoringFeedback.objects.select_for_update(of=("self",)).select_related("city__policy", "district", "department",
                                                                             "planner").get(pk=feedback.pk)
    if not can_answer_feedback(actor, feedback):
        raise Forbidden("只有区级主管部门（或市级部门事项的市级管理员）可以登记答复。", code="not_district")
    if feedback.status == FeedbackStatus.ANSWERED:
        raise Conflict("该反馈已答复。", code="feedback_answered")
    answered_on = _date(answered_on, label="答复日期", required=False) or clock.today()
    if answered_on > clock.today():
        raise DomainError("答复日期不能晚于今天。", code="invalid_date")
    if answered_on < clock.localdate(feedback.submitted_at):
        raise DomainError("答复日期不能早于反馈提交日期。", code="invalid_date")
    before = snapshot(feedback, FEEDBACK_FIELDS)
    feedback.answer = _text(answer, label="答复内容", max_length=5000, required=True)
    feedback.answer_source = _text(answer_source, label="答复单位", max_length=200) or (
        feedback.department.name if feedback.department_id else _entity_name(actor)
    )
    feedback.answered_on = answered_on
    feedback.answered_at = clock.now()
    feedback.answered_by = actor
    feedback.move_to(FeedbackStatus.ANSWERED)
    _clean(feedback)
    feedback.save()
    audit_log(actor=actor, action="duties.monitoring_feedback_answer", obj=feedback, before=before,
              after=snapshot(feedback, FEEDBACK_FIELDS), article=policy_article(feedback.city, "monitoring_feedback"),
              summary=f"登记对“{feedback.title}”的答复（{feedback.answer_source}）"[:255])
    return feedback
