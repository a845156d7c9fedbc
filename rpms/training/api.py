"""Training API (mounted at the API root, /api/v1/; every path written in full).

Continuing-education hours (B23):
- GET  /training/hours?planner=ID&year=YYYY → {"planner", "year", "hours"} (credited = confirmed records)
- GET  /training/records (?planner, year, status, source) · POST /training/records (multipart form: planner,
  source=practice|external, title, date, hours, provider?, description?, evidence? file) → 201
- GET  /training/records/{id} · POST /training/records/{id}/confirm · POST /training/records/{id}/reject {"reason"}
- DELETE /training/records/{id} (the planner withdraws its pending declaration) → 204
- POST /training/certificates {"planner", "year"} → 201 the certificate (number, verification code, pdf)
- GET  /training/certificates/{id}/pdf
Online courses (B22):
- GET/POST /training/courses · GET/PUT /training/courses/{id} · POST /training/courses/{id}/publish | /unpublish
- POST /training/courses/{id}/materials (multipart: file, title?) → 201 · DELETE /training/materials/{id} → 204
- POST /training/courses/{id}/enrol → 201 · POST /training/courses/{id}/complete → 201 the credited record
- POST /training/courses/{id}/attendance {"planners": [ids]} (live sessions; city administrator) → 201
- GET  /training/materials/{id}/file — the file, streamed, with Range support (206); the enrolled and
  city-wide readers only (404 otherwise) · POST /training/materials/{id}/finish"""
from __future__ import annotations

from typing import Any

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from rpms.cities.models import City
from rpms.core.api import auth_required
from rpms.core.errors import DomainError, NotFound

from . import permissions, selectors, services
from .media import ranged_file_response

router = Router(tags=["继续教育与培训"])


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
JSON = dict[str, Any]


def _iso(value):
    return value.isoformat() if value else None


def _int(value, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DomainError(f"{label}应为整数。", code="invalid_input") from None


def record_json(record) -> JSON:
    return {
        "id": record.pk,
        "city": record.city.code,
        "planner": {"id": record.planner_id, "name": record.planner.name},
        "year": record.year,
        "hours": str(record.hours),
        "source": record.source,
        "source_label": record.get_source_display(),
        "title": record.title,
        "date": _iso(record.date),
        "provider": record.provider,
        "description": record.description,
        "course": record.course_id,
        "status": record.status,
        "status_label": record.get_status_display(),
        "confirmed_at": _iso(record.confirmed_at),
        "confirmed_by": record.confirmed_by_label or None,
        "rejected_reason": record.rejected_reason,
        "evidence": {"name": record.evidence_name, "size": record.evidence_size} if record.evidence_path else None,
    }


def material_json(material, progress=None) -> JSON:
    from django.urls import reverse

    data = {"id": material.pk, "title": material.title, "kind": material.kind, "kind_label": material.get_kind_display(),
            "content_type": material.content_type, "size": material.size, "sha256": material.sha256,
            "file_url": f"/api/v1/training/materials/{material.pk}/file",
            "page_url": reverse("training:material", args=[material.pk])}
    if progress is not None:
        data["opened_at"] = _iso(progress.opened_at)
        data["finished_at"] = _iso(progress.finished_at)
    return data


def course_json(course, *, user, detail: bool = False) -> JSON:
    data = {
        "id": course.pk, "city": course.city.code, "title": course.title, "description": course.description,
        "hours": str(course.hours), "delivery": course.delivery, "delivery_label": course.get_delivery_display(),
        "session_on": _iso(course.session_on), "place": course.place, "published": course.published,
        "published_at": _iso(course.published_at),
    }
    if detail:
        planner = permissions.planner_of(user)
        enrolment = services.enrolment_of(planner, course)
        progress = selectors.progress_map(enrolment)
        data["materials"] = [material_json(m, progress.get(m.pk) if enrolment else None) for m in course.materials.all()]
        data["enrolment"] = ({"id": enrolment.pk, "enrolled_at": _iso(enrolment.enrolled_at),
                              "completed_at": _iso(enrolment.completed_at), "record": enrolment.record_id}
                             if enrolment else None)
        if permissions.can_read_city(user, course.city_id):
            data["enrolments"] = [{"planner": {"id": e.planner_id, "name": e.planner.name},
                                   "enrolled_at": _iso(e.enrolled_at), "completed_at": _iso(e.completed_at),
                                   "materials_finished": e.finished} for e in selectors.course_enrolments(course)]
    return data


def _manager_city(request, code: str = "") -> City:
    user = request.user
    if code:
        city = City.objects.select_related("policy").filter(code=code, is_active=True).first()
        if city is None:
            raise NotFound(f"城市“{code}”不存在。", code="city_not_found")
        return city
    if getattr(user, "city_id", None):
        return City.objects.select_related("policy").get(pk=user.city_id)
    raise DomainError("请指定城市。", code="city_required")


# --- hours and records -------------------------------------------------------------------------------


@router.get("/training/hours", auth=auth_required, response={200: JSON, **ERRORS}, summary="某年度已确认学时")
def training_hours(request, planner: int, year: int):
    found = selectors.planner_get(user=request.user, pk=planner)
    return {"planner": found.pk, "year": year, "hours": str(selectors.training_hours(found, year)),
            "by_year": [{"year": y["year"], "hours": str(y["hours"]), "records": y["records"]}
                        for y in selectors.training_hours_by_year(found)]}


@router.get("/training/records", auth=auth_required, response={200: list[JSON], **ERRORS}, summary="学时记录")
def record_list(request, planner: str = "", year: str = "", status: str = "", source: str = ""):
    planner_id = _int(planner, "责任规划师编号")
    if planner_id is not None:
        selectors.planner_get(user=request.user, pk=planner_id)
    queryset = selectors.record_list(user=request.user, planner=planner_id, year=year, status=status, source=source)
    return [record_json(r) for r in queryset[: selectors.LIST_LIMIT]]


@router.post("/training/records", auth=auth_required, response={201: JSON, **ERRORS}, summary="申报或登记学时")
def record_create(request, planner: Form[int], source: Form[str], title: Form[str], date: Form[str], hours: Form[str],
                  provider: Form[str] = "", description: Form[str] = "", evidence: File[UploadedFile] = None):
    """责任规划师本人申报（待确认）；市级管理员为本市责任规划师登记（即时计入）。"""
    record = services.training_record_create(actor=request.user, planner=planner, source=source, title=title,
                                             date=date, hours=hours, provider=provider, description=description,
                                             evidence=evidence)
    return Status(201, record_json(selectors.record_get(user=request.user, pk=record.pk)))


@router.get("/training/records/{record_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="学时记录详情")
def record_detail(request, record_id: int):
    return record_json(selectors.record_get(user=request.user, pk=record_id))


@router.post("/training/records/{record_id}/confirm", auth=auth_required, response={200: JSON, **ERRORS}, summary="确认学时")
def record_confirm(request, record_id: int):
    record = selectors.record_get(user=request.user, pk=record_id)
    services.training_record_confirm(actor=request.user, record=record)
    return record_json(selectors.record_get(user=request.user, pk=record_id))


class ReasonIn(Schema):
    reason: str


@router.post("/training/records/{record_id}/reject", auth=auth_required, response={200: JSON, **ERRORS}, summary="不予确认")
def record_reject(request, record_id: int, payload: ReasonIn):
    record = selectors.record_get(user=request.user, pk=record_id)
    services.training_record_reject(actor=request.user, record=record, reason=payload.reason)
    return record_json(selectors.record_get(user=request.user, pk=record_id))


@router.delete("/training/records/{record_id}", auth=auth_required, response={204: None, **ERRORS}, summary="撤回申报")
def record_withdraw(request, record_id: int):
    record = selectors.record_get(user=request.user, pk=record_id)
    services.training_record_withdraw(actor=request.user, record=record)
    return Status(204, None)


class CertificateIn(Schema):
    planner: int
    year: int


def certificate_json(certificate) -> JSON:
    document = certificate.document
    return {"id": certificate.pk, "planner": certificate.planner_id, "year": certificate.year,
            "total_hours": str(certificate.total_hours), "number": document.number,
            "verification_code": document.formatted_code, "verify_path": document.verify_path(),
            "status": document.status, "pdf": f"/api/v1/training/certificates/{certificate.pk}/pdf"}


@router.post("/training/certificates", auth=auth_required, response={201: JSON, **ERRORS}, summary="出具继续教育学时证明")
def certificate_issue(request, payload: CertificateIn):
    planner = selectors.planner_get(user=request.user, pk=payload.planner)
    certificate = services.training_certificate_issue(actor=request.user, planner=planner, year=payload.year)
    return Status(201, certificate_json(selectors.certificate_get(user=request.user, pk=certificate.pk)))


@router.get("/training/certificates/{certificate_id}/pdf", auth=auth_required, response={**ERRORS}, summary="学时证明 PDF")
def certificate_pdf(request, certificate_id: int):
    from rpms.documents.rendering import document_pdf_response

    certificate = selectors.certificate_get(user=request.user, pk=certificate_id)
    return document_pdf_response(certificate.document,
                                 filename=f"继续教育学时证明-{certificate.planner.name}-{certificate.year}.pdf")


# --- courses -----------------------------------------------------------------------------------------


@router.get("/training/courses", auth=auth_required, response={200: list[JSON], **ERRORS}, summary="培训课程")
def course_list(request, city: str = ""):
    found = None
    if city:
        found = _manager_city(request, city)
    return [course_json(c, user=request.user) for c in selectors.course_list(user=request.user, city=found)]


class CourseIn(Schema):
    city: str = ""
    title: str
    description: str = ""
    hours: str
    delivery: str = "online"
    session_on: str = ""
    place: str = ""


@router.post("/training/courses", auth=auth_required, response={201: JSON, **ERRORS}, summary="新建课程")
def course_create(request, payload: CourseIn):
    data = payload.dict()
    city = _manager_city(request, data.pop("city"))
    course = services.course_create(actor=request.user, city=city, **data)
    return Status(201, course_json(selectors.course_get(user=request.user, pk=course.pk), user=request.user, detail=True))


@router.get("/training/courses/{course_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="课程详情")
def course_detail(request, course_id: int):
    return course_json(selectors.course_get(user=request.user, pk=course_id), user=request.user, detail=True)


@router.put("/training/courses/{course_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="修改课程")
def course_update(request, course_id: int, payload: CourseIn):
    course = selectors.course_get(user=request.user, pk=course_id)
    data = payload.dict()
    data.pop("city")
    services.course_update(actor=request.user, course=course, **data)
    return course_json(selectors.course_get(user=request.user, pk=course_id), user=request.user, detail=True)


@router.post("/training/courses/{course_id}/publish", auth=auth_required, response={200: JSON, **ERRORS}, summary="发布课程")
def course_publish(request, course_id: int):
    course = selectors.course_get(user=request.user, pk=course_id)
    services.course_publish(actor=request.user, course=course, published=True)
    return course_json(selectors.course_get(user=request.user, pk=course_id), user=request.user, detail=True)


@router.post("/training/courses/{course_id}/unpublish", auth=auth_required, response={200: JSON, **ERRORS}, summary="撤回课程")
def course_unpublish(request, course_id: int):
    course = selectors.course_get(user=request.user, pk=course_id)
    services.course_publish(actor=request.user, course=course, published=False)
    return course_json(selectors.course_get(user=request.user, pk=course_id), user=request.user, detail=True)


@router.post("/training/courses/{course_id}/materials", auth=auth_required, response={201: JSON, **ERRORS},
             summary="上传课程材料")
def material_add(request, course_id: int, file: File[UploadedFile], title: Form[str] = ""):
    """PDF 文档或 MP4、WebM 视频，按文件内容识别；大小受限。"""
    course = selectors.course_get(user=request.user, pk=course_id)
    material = services.material_add(actor=request.user, course=course, file=file, title=title)
    return Status(201, material_json(material))


@router.delete("/training/materials/{material_id}", auth=auth_required, response={204: None, **ERRORS}, summary="删除课程材料")
def material_remove(request, material_id: int):
    material, _ = selectors.material_get(user=request.user, pk=material_id)
    services.material_remove(actor=request.user, material=material)
    return Status(204, None)


@router.post("/training/courses/{course_id}/enrol", auth=auth_required, response={201: JSON, **ERRORS}, summary="报名")
def course_enrol(request, course_id: int):
    course = selectors.course_get(user=request.user, pk=course_id)
    services.course_enrol(actor=request.user, course=course)
    return Status(201, course_json(selectors.course_get(user=request.user, pk=course_id), user=request.user, detail=True))


@router.post("/training/courses/{course_id}/complete", auth=auth_required, response={201: JSON, **ERRORS},
             summary="完成线上课程")
def course_complete(request, course_id: int):
    """学完全部材料后完成课程，认定学时计入一次；再次完成 → 409。"""
    course = selectors.course_get(user=request.user, pk=course_id)
    record = services.course_complete(actor=request.user, course=course)
    return Status(201, record_json(selectors.record_get(user=request.user, pk=record.pk)))


class AttendanceIn(Schema):
    planners: list[int]


@router.post("/training/courses/{course_id}/attendance", auth=auth_required, response={201: list[JSON], **ERRORS},
             summary="确认出勤（现场或直播授课）")
def course_attendance(request, course_id: int, payload: AttendanceIn):
    course = selectors.course_get(user=request.user, pk=course_id)
    records = services.course_attendance_confirm(actor=request.user, course=course, planners=payload.planners)
    return Status(201, [record_json(selectors.record_get(user=request.user, pk=r.pk)) for r in records])


@router.get("/training/materials/{material_id}/file", auth=auth_required, response={**ERRORS}, summary="课程材料文件")
def material_file(request, material_id: int):
    """支持 Range 请求（视频拖动播放），只向已报名的责任规划师和本市管理员、审计员提供。"""
    material, enrolment = selectors.material_get(user=request.user, pk=material_id)
    if enrolment is not None:
        services.material_open(actor=request.user, material=material)
    return ranged_file_response(request, material.path, content_type=material.content_type,
                                filename=material.original_name, etag=material.etag, obj=material)


@router.post("/training/materials/{material_id}/finish", auth=auth_required, response={200: JSON, **ERRORS},
             summary="标记材料已学完")
def material_finish(request, material_id: int):
    material, _ = selectors.material_get(user=request.user, pk=material_id)
    progress = services.material_finish(actor=request.user, material=material)
    return material_json(material, progress)
