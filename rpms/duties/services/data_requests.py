"""Data requests (B14(3), B16(1)): a planner asks for status data or plans; the addressee delivers
(public or non-public materials) or refuses; downloads of materials are logged."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.inputs import clean_or_refuse

from ..models import Addressee, DataMaterial, DataRequest, DataRequestStatus, DownloadLog
from ..permissions import can_answer_data_request, can_download_confidential
from ._common import _date, _department, _file_row, _require_planner, _serving, _text, _with_stored_files

MAX_MATERIALS_PER_REQUEST = 30
MATERIAL_FOLDER = "duties/materials"


@dataclass(frozen=True)
class MaterialUpload:
    file: object
    label: str = ""
    is_public: bool = False


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
    clean_or_refuse(request)
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
        clean_or_refuse(request)
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
    clean_or_refuse(request)
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
    clean_or_refuse(log)
    log.save()
    step = "data_request" if material.is_public else "confidential_material"
    audit_log(actor=actor, action="duties.data_material_download", obj=material,
              object_repr=f"{request.title}：{material.original_name}"[:255], city_code=request.city.code,
              after={"request": request.pk, "material": material.pk, "public": material.is_public, "download": log.pk},
              article=policy_article(request.city, step),
              summary=f"{actor} 下载{'可公开' if material.is_public else '未公开'}资料 {material.original_name}"[:255])
    return material
