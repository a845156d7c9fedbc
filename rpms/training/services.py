"""Training writes: courses and their materials, enrolment, study progress and completion (B22), hours
credited to planners per year (B23), and the year's certificate.

Each service is one act: one transaction and one audit row, citing the city's article for the step —
`policy_article(city, "course")` for courses, materials, enrolment and completion (B22、B23 / P3(4)),
`policy_article(city, "training")` for hours records and certificates (B23 / P3(4)). Crediting hours
(a record confirmed) adds a TRAINING row to the planner's dossier and notifies the planner.

A course is credited once per planner: the completion refuses a second time, and the database's unique
constraint (planner, course) on TrainingRecord is the last line of defence."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.urls import reverse

from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.registry.models import DossierEventKind, Planner
from rpms.registry.services import dossier_event_record, full_clean_or_refuse

from . import permissions
from .models import (
    Course,
    CourseDelivery,
    CourseMaterial,
    Enrolment,
    MaterialProgress,
    RecordStatus,
    TrainingCertificate,
    TrainingRecord,
    TrainingSource,
)

MAX_RECORD_HOURS = Decimal(100)
MAX_COURSE_HOURS = Decimal(200)
MAX_MATERIALS = 50
EVIDENCE_FOLDER = "training"


# --- small helpers ------------------------------------------------------------------------------------


def today() -> dt.date:
    return clock.today()


def parse_hours(value, *, maximum: Decimal, label: str = "学时") -> Decimal:
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError(f"{label}应为数字，如 2 或 1.5。", code="invalid_hours") from None
    if not hours.is_finite() or hours <= 0:
        raise DomainError(f"{label}应大于 0。", code="invalid_hours")
    if hours > maximum:
        raise DomainError(f"{label}不能超过 {maximum}。", code="invalid_hours")
    if hours != hours.quantize(Decimal("0.1")):
        raise DomainError(f"{label}最多保留一位小数。", code="invalid_hours")
    return hours.quantize(Decimal("0.1"))


def parse_date(value, label: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise DomainError(f"{label}格式不正确，应为 YYYY-MM-DD。", code="invalid_date") from None


def _text(value, *, label: str, max_length: int, required: bool = True) -> str:
    from rpms.documents.integrity import personal_identifier_findings

    text = str(value or "").strip()
    if required and not text:
        raise DomainError(f"请填写{label}。", code="field_required")
    if len(text) > max_length:
        raise DomainError(f"{label}不能超过 {max_length} 个字符。", code="field_too_long")
    if text and personal_identifier_findings(text):
        raise DomainError(f"{label}中不得填写身份证号、手机号等个人信息。", code="personal_identifier")
    return text


def _hours_text(hours) -> str:
    return f"{Decimal(hours).normalize():f}"


def _notify(planner: Planner, *, event: str, title: str, body: str, url: str, key: str) -> None:
    from rpms.notifications.services import notify

    if planner.user_id is None:
        return
    notify(users=[planner.user], event=event, title=title, body=body, url=url, key=key, city=planner.city)


def _credit(record: TrainingRecord, *, actor, how: str) -> None:
    """The record now counts: a TRAINING row in the planner's dossier and a message to the planner."""
    planner = record.planner
    dossier_event_record(
        planner=planner, kind=DossierEventKind.TRAINING, article=policy_article(record.city, "training"), actor=actor,
        source=record,
        summary=f"{record.year} 年计入继续教育学时 {_hours_text(record.hours)}：{record.title}（{record.get_source_display()}，{how}）",
        data={"record": record.pk, "year": record.year, "hours": str(record.hours), "source": record.source},
    )
    _notify(planner, event="training.credited", title=f"继续教育学时 {_hours_text(record.hours)} 已计入",
            body=f"“{record.title}”已计入您 {record.year} 年的继续教育学时（{how}）。",
            url=reverse("training:planner", args=[planner.pk]), key=f"training.credited:{record.pk}")


def _require_manager(actor, city) -> None:
    if not permissions.is_course_manager(actor, city):
        if permissions.can_read_city(actor, city):
            raise Forbidden("只有市级主管部门可以办理此项。")
        raise NotFound()


def _require_planner(actor) -> Planner:
    planner = permissions.planner_of(actor)
    if planner is None:
        raise Forbidden("只有责任规划师本人可以办理此项。")
    return planner


# --- courses (B22) ------------------------------------------------------------------------------------


def _course_fields(*, title, description, hours, delivery, session_on, place) -> dict:
    delivery = str(delivery or CourseDelivery.ONLINE)
    if delivery not in CourseDelivery.values:
        raise DomainError("授课方式应为线上自学或现场/直播授课。", code="invalid_delivery")
    session = parse_date(session_on, "授课日期") if session_on not in (None, "") else None
    if delivery == CourseDelivery.LIVE and session is None:
        raise DomainError("现场或直播授课请填写授课日期。", code="session_required")
    return {
        "title": _text(title, label="课程名称", max_length=200),
        "description": _text(description, label="课程简介", max_length=5000, required=False),
        "hours": parse_hours(hours, maximum=MAX_COURSE_HOURS, label="认定学时"),
        "delivery": delivery,
        "session_on": session,
        "place": _text(place, label="地点或直播方式", max_length=200, required=False),
    }


@transaction.atomic
def course_create(*, actor, city, title, description="", hours, delivery=CourseDelivery.ONLINE, session_on=None,
                  place="") -> Course:
    _require_manager(actor, city)
    course = Course(city=city, created_by=actor, **_course_fields(
        title=title, description=description, hours=hours, delivery=delivery, session_on=session_on, place=place))
    full_clean_or_refuse(course)
    course.save()
    audit_log(actor=actor, action="training.course_create", obj=course, after=snapshot(course),
              article=policy_article(city, "course"), summary=f"新建培训课程“{course.title}”（{_hours_text(course.hours)} 学时）")
    return course


def _lock_course(course) -> Course:
    pk = getattr(course, "pk", course)
    locked = Course.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound()
    return Course.objects.select_related("city__policy").get(pk=pk)


@transaction.atomic
def course_update(*, actor, course, title, description="", hours, delivery=CourseDelivery.ONLINE, session_on=None,
                  place="") -> Course:
    """Edits a course. Hours already credited keep the value they were credited with."""
    course = _lock_course(course)
    _require_manager(actor, course.city)
    before = snapshot(course)
    for key, value in _course_fields(title=title, description=description, hours=hours, delivery=delivery,
                                     session_on=session_on, place=place).items():
        setattr(course, key, value)
    full_clean_or_refuse(course)
    course.save()
    audit_log(actor=actor, action="training.course_update", obj=course, before=before, after=snapshot(course),
              article=policy_article(course.city, "course"), summary=f"修改培训课程“{course.title}”")
    return course


@transaction.atomic
def course_publish(*, actor, course, published: bool) -> Course:
    """Publishes a course to the city's planners (or withdraws it: enrolled planners lose access)."""
    course = _lock_course(course)
    _require_manager(actor, course.city)
    if published and not course.materials.exists() and course.delivery == CourseDelivery.ONLINE:
        raise Conflict("线上自学课程须至少上传一份学习材料后才能发布。", code="course_without_materials")
    if course.published == bool(published):
        raise Conflict("课程已发布。" if published else "课程尚未发布。", code="course_state_unchanged")
    before = snapshot(course, ["published", "published_at"])
    course.published = bool(published)
    if published:
        course.published_at = clock.now()
    course.save(update_fields=["published", "published_at", "updated_at"])
    audit_log(actor=actor, action="training.course_publish" if published else "training.course_unpublish", obj=course,
              before=before, after=snapshot(course, ["published", "published_at"]),
              article=policy_article(course.city, "course"),
              summary=f"{'发布' if published else '撤回'}培训课程“{course.title}”")
    return course


@transaction.atomic
def material_add(*, actor, course, file, title="") -> CourseMaterial:
    """Uploads a PDF or video (MP4/WebM) to a course, checked by its content and size (rpms.training.media).
    If anything after storing fails, the stored file is removed."""
    from .media import material_delete, material_store

    course = _lock_course(course)
    _require_manager(actor, course.city)
    if file is None:
        raise DomainError("请选择要上传的文件。", code="file_required")
    count = course.materials.count()
    if count >= MAX_MATERIALS:
        raise DomainError(f"每门课程最多 {MAX_MATERIALS} 份材料。", code="too_many_materials")
    stored = material_store(file)
    try:
        with transaction.atomic():
            stem = stored.original_name.rsplit(".", 1)[0]
            material = CourseMaterial(
                course=course, title=_text(title or stem, label="材料名称", max_length=200), kind=stored.kind,
                path=stored.path, original_name=stored.original_name[:255], content_type=stored.content_type,
                size=stored.size, sha256=stored.sha256, sort_order=count + 1, uploaded_by=actor,
            )
            full_clean_or_refuse(material)
            material.save()
            audit_log(actor=actor, action="training.material_add", obj=course,
                      after={"material": material.pk, "title": material.title, "kind": material.kind,
                             "name": material.original_name, "size": material.size, "sha256": material.sha256},
                      article=policy_article(course.city, "course"),
                      summary=f"为课程“{course.title}”上传{material.get_kind_display()}“{material.title}”"[:255])
    except BaseException:
        material_delete(stored.path)
        raise
    return material


@transaction.atomic
def material_remove(*, actor, material) -> None:
    from .media import material_delete

    material = CourseMaterial.objects.select_related("course__city__policy").filter(pk=getattr(material, "pk", material)).first()
    if material is None:
        raise NotFound()
    course = _lock_course(material.course)
    _require_manager(actor, course.city)
    path = material.path
    audit_log(actor=actor, action="training.material_remove", obj=course,
              before={"material": material.pk, "title": material.title, "name": material.original_name,
                      "sha256": material.sha256},
              article=policy_article(course.city, "course"), summary=f"删除课程“{course.title}”的材料“{material.title}”"[:255])
    material.delete()
    transaction.on_commit(lambda: material_delete(path))


# --- enrolment, study and completion ------------------------------------------------------------------


def _visible_course(actor, course) -> Course:
    course = Course.objects.select_related("city__policy").filter(pk=getattr(course, "pk", course)).first()
    if course is None or not permissions.can_view_course(actor, course):
        raise NotFound()
    return course


@transaction.atomic
def course_enrol(*, actor, course) -> Enrolment:
    planner = _require_planner(actor)
    course = _visible_course(actor, course)
    if not course.published or planner.city_id != course.city_id:
        raise NotFound()
    if Enrolment.objects.filter(course=course, planner=planner).exists():
        raise Conflict("您已报名该课程。", code="already_enrolled")
    enrolment = Enrolment(course=course, planner=planner, enrolled_at=clock.now())
    full_clean_or_refuse(enrolment, validate_constraints=False)
    try:
        with transaction.atomic():
            enrolment.save()
    except IntegrityError:
        raise Conflict("您已报名该课程。", code="already_enrolled") from None
    audit_log(actor=actor, action="training.course_enrol", obj=course, after={"enrolment": enrolment.pk, "planner": planner.pk},
              article=policy_article(course.city, "course"), summary=f"{planner.name}报名课程“{course.title}”")
    return enrolment


def enrolment_of(planner, course) -> Enrolment | None:
    if planner is None:
        return None
    return Enrolment.objects.filter(course=course, planner=planner).first()


def _progress(enrolment, material) -> MaterialProgress:
    progress, _ = MaterialProgress.objects.select_for_update().get_or_create(enrolment=enrolment, material=material)
    return progress


@transaction.atomic
def material_open(*, actor, material) -> MaterialProgress | None:
    """Records that an enrolled planner opened a material for the first time (attendance); later opens
    (every Range request of a video) change nothing and are not audited. Others: None."""
    planner = permissions.planner_of(actor)
    if planner is None:
        return None
    enrolment = enrolment_of(planner, material.course_id)
    if enrolment is None:
        return None
    progress = _progress(enrolment, material)
    if progress.opened_at is not None:
        return progress
    progress.opened_at = clock.now()
    progress.save(update_fields=["opened_at"])
    course = material.course
    audit_log(actor=actor, action="training.material_open", obj=course,
              after={"enrolment": enrolment.pk, "material": material.pk, "opened_at": progress.opened_at},
              article=policy_article(course.city, "course"),
              summary=f"{planner.name}开始学习课程“{course.title}”的材料“{material.title}”"[:255])
    return progress


@transaction.atomic
def material_finish(*, actor, material) -> MaterialProgress:
    """The planner marks a material studied — only after it has been delivered to them (opened)."""
    planner = _require_planner(actor)
    material = CourseMaterial.objects.select_related("course__city__policy").filter(pk=getattr(material, "pk", material)).first()
    if material is None:
        raise NotFound()
    course = material.course
    enrolment = enrolment_of(planner, course)
    if enrolment is None or not course.published:
        raise NotFound()
    if enrolment.is_completed:
        raise Conflict("您已完成该课程。", code="course_completed")
    progress = _progress(enrolment, material)
    if progress.opened_at is None:
        raise Conflict("请先打开并学习该材料，再标记为已学完。", code="material_not_opened")
    if progress.finished_at is not None:
        raise Conflict("该材料已标记为已学完。", code="material_already_finished")
    progress.finished_at = clock.now()
    progress.save(update_fields=["finished_at"])
    audit_log(actor=actor, action="training.material_finish", obj=course,
              after={"enrolment": enrolment.pk, "material": material.pk, "finished_at": progress.finished_at},
              article=policy_article(course.city, "course"),
              summary=f"{planner.name}学完课程“{course.title}”的材料“{material.title}”"[:255])
    return progress


def _complete(*, actor, course, enrolment, confirmed_by, how: str) -> TrainingRecord:
    """Completes an enrolment and credits the course's hours once (a confirmed TrainingRecord)."""
    now = clock.now()
    day = clock.localdate(now)
    record = TrainingRecord(
        city=course.city, planner=enrolment.planner, year=day.year, hours=course.hours, source=TrainingSource.COURSE,
        title=course.title, date=day, provider=course.city.bureau_name or course.city.name, course=course,
        description=how, status=RecordStatus.CONFIRMED, confirmed_at=now, confirmed_by=confirmed_by, created_by=actor,
    )
    full_clean_or_refuse(record, validate_constraints=False)
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        raise Conflict(f"课程“{course.title}”的学时已计入{enrolment.planner.name}的记录，不能重复计入。",
                       code="course_already_credited") from None
    enrolment.completed_at = now
    enrolment.completed_by = confirmed_by
    enrolment.record = record
    enrolment.save(update_fields=["completed_at", "completed_by", "record", "updated_at"])
    _credit(record, actor=actor, how=how)
    return record


@transaction.atomic
def course_complete(*, actor, course) -> TrainingRecord:
    """An online course is completed by its planner once every material has been studied; its hours are
    credited once."""
    planner = _require_planner(actor)
    course = _visible_course(actor, course)
    enrolment = Enrolment.objects.select_for_update(of=("self",)).select_related("planner__city", "planner__user").filter(
        course=course, planner=planner).first()
    if enrolment is None or not course.published:
        raise NotFound()
    if enrolment.is_completed:
        raise Conflict("您已完成该课程，学时已计入，不能重复计入。", code="course_already_credited")
    if course.delivery != CourseDelivery.ONLINE:
        raise Conflict("现场或直播授课由市级主管部门确认出勤后计入学时。", code="course_is_live")
    materials = list(course.materials.values_list("pk", flat=True))
    if not materials:
        raise Conflict("该课程尚无学习材料。", code="course_without_materials")
    finished = set(MaterialProgress.objects.filter(enrolment=enrolment, finished_at__isnull=False)
                   .values_list("material_id", flat=True))
    missing = [pk for pk in materials if pk not in finished]
    if missing:
        raise Conflict(f"还有 {len(missing)} 份材料未学完，学完全部材料后才能完成课程。", code="materials_not_finished",
                       details={"missing": missing})
    record = _complete(actor=actor, course=course, enrolment=enrolment, confirmed_by=None, how="线上学完全部材料")
    audit_log(actor=actor, action="training.course_complete", obj=course,
              after={"enrolment": enrolment.pk, "record": record.pk, "hours": record.hours, "year": record.year},
              article=policy_article(course.city, "course"),
              summary=f"{planner.name}完成线上课程“{course.title}”，计入 {_hours_text(record.hours)} 学时")
    return record


@transaction.atomic
def course_attendance_confirm(*, actor, course, planners) -> list[TrainingRecord]:
    """A live session: the city administrator confirms the attendance of planners of the city (enrolled
    or not); each is credited the course's hours once. Planners already credited are refused."""
    course = _lock_course(course)
    _require_manager(actor, course.city)
    if course.delivery != CourseDelivery.LIVE:
        raise Conflict("线上自学课程由责任规划师学完全部材料后自行完成。", code="course_is_online")
    if course.session_on and course.session_on > today():
        raise Conflict(f"授课日期（{course.session_on}）尚未到，不能确认出勤。", code="session_not_held")
    ids = sorted({int(getattr(p, "pk", p)) for p in planners or []})
    if not ids:
        raise DomainError("请选择出勤的责任规划师。", code="planners_required")
    found = {p.pk: p for p in Planner.objects.select_related("city", "user").filter(pk__in=ids, city=course.city)}
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        raise DomainError("所选责任规划师不在本市名录中。", code="planner_not_in_city", details={"unknown": unknown})
    enrolments = {e.planner_id: e for e in Enrolment.objects.select_for_update().filter(course=course, planner_id__in=ids)}
    done = [found[pk].name for pk, e in enrolments.items() if e.is_completed]
    if done:
        raise Conflict(f"{'、'.join(done)}已计入本课程学时，不能重复计入。", code="course_already_credited")
    records = []
    now = clock.now()
    for pk in ids:
        enrolment = enrolments.get(pk)
        if enrolment is None:
            enrolment = Enrolment(course=course, planner=found[pk], enrolled_at=now)
            enrolment.save()
        records.append(_complete(actor=actor, course=course, enrolment=enrolment, confirmed_by=actor,
                                 how="市级主管部门确认出勤"))
    audit_log(actor=actor, action="training.course_attendance_confirm", obj=course,
              after={"planners": ids, "records": [r.pk for r in records], "hours": course.hours},
              article=policy_article(course.city, "course"),
              summary=f"确认 {len(ids)} 名责任规划师出勤课程“{course.title}”，各计入 {_hours_text(course.hours)} 学时"[:255])
    return records


# --- hours records (B23) --------------------------------------------------------------------------------


@transaction.atomic
def training_record_create(*, actor, planner, source, title, date, hours, provider="", description="",
                           evidence=None) -> TrainingRecord:
    """Practice or external training. A planner declares its own (pending until the city administrator
    confirms it); the city administrator records one for any planner of the city (confirmed at once).
    Course hours come only from completing a course here. Evidence (PDF/JPEG/PNG) is optional."""
    from rpms.core.uploads import proof_delete, proof_store

    planner = Planner.objects.select_related("city__policy", "user").filter(pk=getattr(planner, "pk", planner)).first()
    if planner is None:
        raise NotFound()
    own = permissions.planner_of(actor)
    is_self = own is not None and own.pk == planner.pk
    is_manager = permissions.is_course_manager(actor, planner.city)
    if not (is_self or is_manager):
        if permissions.can_view_planner_training(actor, planner):
            raise Forbidden("继续教育学时由责任规划师本人申报或市级主管部门登记。")
        raise NotFound()
    if source not in (TrainingSource.PRACTICE, TrainingSource.EXTERNAL):
        raise DomainError("来源应为基层实践或外部培训；培训课程的学时在完成课程后自动计入。", code="invalid_source")
    day = parse_date(date, "日期")
    if day > today():
        raise DomainError("日期不能晚于今天。", code="date_in_future")
    if day.year < 2000:
        raise DomainError("日期不正确。", code="invalid_date")
    record = TrainingRecord(
        city=planner.city, planner=planner, year=day.year, hours=parse_hours(hours, maximum=MAX_RECORD_HOURS),
        source=source, title=_text(title, label="名称", max_length=200), date=day,
        provider=_text(provider, label="组织单位", max_length=200, required=False),
        description=_text(description, label="说明", max_length=2000, required=False), created_by=actor,
    )
    if is_manager and not is_self:
        record.move_to(RecordStatus.CONFIRMED)
        record.confirmed_at = clock.now()
        record.confirmed_by = actor
    stored = proof_store(evidence, folder=EVIDENCE_FOLDER) if evidence else None
    try:
        with transaction.atomic():
            if stored is not None:
                record.evidence_path, record.evidence_name = stored.path, stored.original_name
                record.evidence_size, record.evidence_sha256 = stored.size, stored.sha256
            full_clean_or_refuse(record, validate_constraints=False)
            record.save()
            if record.status == RecordStatus.CONFIRMED:
                _credit(record, actor=actor, how="市级主管部门登记")
            audit_log(actor=actor, action="training.record_create", obj=record, after=snapshot(record),
                      article=policy_article(planner.city, "training"),
                      summary=(f"{'登记' if record.status == RecordStatus.CONFIRMED else '申报'}{planner.name} {record.year} 年继续教育学时 "
                               f"{_hours_text(record.hours)}：{record.title}")[:255])
    except BaseException:
        if stored is not None:
            proof_delete(stored.path)
        raise
    return record


def _lock_record(record) -> TrainingRecord:
    pk = getattr(record, "pk", record)
    if not TrainingRecord.objects.select_for_update(of=("self",)).filter(pk=pk).exists():
        raise NotFound()
    return TrainingRecord.objects.select_related("city__policy", "planner__user", "planner__city").get(pk=pk)


def _require_record_manager(actor, record) -> None:
    if not permissions.can_view_planner_training(actor, record.planner):
        raise NotFound()
    if not permissions.is_course_manager(actor, record.city):
        raise Forbidden("继续教育学时由市级主管部门确认。")


@transaction.atomic
def training_record_confirm(*, actor, record) -> TrainingRecord:
    record = _lock_record(record)
    _require_record_manager(actor, record)
    if record.status != RecordStatus.PENDING:
        raise Conflict(f"该记录{record.get_status_display()}，不能再确认。", code="record_not_pending")
    before = snapshot(record, ["status", "confirmed_at", "confirmed_by"])
    record.move_to(RecordStatus.CONFIRMED)
    record.confirmed_at = clock.now()
    record.confirmed_by = actor
    record.save(update_fields=["status", "confirmed_at", "confirmed_by", "updated_at"])
    _credit(record, actor=actor, how="市级主管部门确认")
    audit_log(actor=actor, action="training.record_confirm", obj=record, before=before,
              after=snapshot(record, ["status", "confirmed_at", "confirmed_by"]),
              article=policy_article(record.city, "training"),
              summary=f"确认{record.planner.name} {record.year} 年继续教育学时 {_hours_text(record.hours)}：{record.title}"[:255])
    return record


@transaction.atomic
def training_record_reject(*, actor, record, reason) -> TrainingRecord:
    record = _lock_record(record)
    _require_record_manager(actor, record)
    if record.status != RecordStatus.PENDING:
        raise Conflict(f"该记录{record.get_status_display()}，不能再处理。", code="record_not_pending")
    reason = _text(reason, label="未予确认的理由", max_length=500)
    record.move_to(RecordStatus.REJECTED)
    record.rejected_reason = reason
    record.save(update_fields=["status", "rejected_reason", "updated_at"])
    _notify(record.planner, event="training.rejected", title="继续教育学时申报未予确认",
            body=f"“{record.title}”未予确认：{reason}", url=reverse("training:planner", args=[record.planner_id]),
            key=f"training.rejected:{record.pk}")
    audit_log(actor=actor, action="training.record_reject", obj=record, before={"status": RecordStatus.PENDING},
              after={"status": record.status, "reason": reason}, article=policy_article(record.city, "training"),
              summary=f"未予确认{record.planner.name}的继续教育学时申报：{record.title}"[:255])
    return record


@transaction.atomic
def training_record_withdraw(*, actor, record) -> None:
    """The planner withdraws its own declaration while it is still pending."""
    from rpms.core.uploads import proof_delete

    record = _lock_record(record)
    own = permissions.planner_of(actor)
    if own is None or own.pk != record.planner_id:
        if permissions.can_view_planner_training(actor, record.planner):
            raise Forbidden("只有申报人本人可以撤回申报。")
        raise NotFound()
    if record.status != RecordStatus.PENDING:
        raise Conflict("只能撤回待确认的申报。", code="record_not_pending")
    path = record.evidence_path
    audit_log(actor=actor, action="training.record_withdraw", obj=record, before=snapshot(record),
              article=policy_article(record.city, "training"), summary=f"撤回继续教育学时申报：{record.title}"[:255])
    record.delete()
    if path:
        transaction.on_commit(lambda: proof_delete(path))


# --- certificate ---------------------------------------------------------------------------------------


@transaction.atomic
def training_certificate_issue(*, actor, planner, year) -> TrainingCertificate:
    """The year's continuing-education certificate (继续教育学时证明), issued in the city bureau's name from
    the CONFIRMED records, with a verification code. The planner (own) or the city administrator may
    issue it. If the valid certificate of that year already covers exactly the same records, it is
    returned as it is; otherwise a new one supersedes it."""
    from rpms.documents.models import DocumentStatus
    from rpms.documents.issuers import document_issuer
    from rpms.documents.services import document_issue

    planner = Planner.objects.select_related("city__policy", "user").filter(pk=getattr(planner, "pk", planner)).first()
    if planner is None:
        raise NotFound()
    own = permissions.planner_of(actor)
    if not ((own is not None and own.pk == planner.pk) or permissions.is_course_manager(actor, planner.city)):
        if permissions.can_view_planner_training(actor, planner):
            raise Forbidden("学时证明由责任规划师本人或市级主管部门出具。")
        raise NotFound()
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise DomainError("年度应为四位数字，如 2026。", code="invalid_year") from None
    if not 2000 <= year <= today().year:
        raise DomainError("年度不正确。", code="invalid_year")
    # Serialises issuing for the planner, so two clicks do not make two certificates.
    Planner.objects.select_for_update().filter(pk=planner.pk).exists()
    records = list(
        TrainingRecord.objects.filter(planner=planner, year=year, status=RecordStatus.CONFIRMED).order_by("date", "id")
    )
    if not records:
        raise DomainError(f"{planner.name} {year} 年没有已确认的继续教育学时，不能出具证明。", code="no_confirmed_hours")
    total = sum((r.hours for r in records), Decimal(0))
    ids = [r.pk for r in records]
    previous = (
        TrainingCertificate.objects.select_related("document").filter(planner=planner, year=year,
                                                                       document__status=DocumentStatus.VALID)
        .order_by("-created_at", "-id").first()
    )
    if previous is not None and previous.record_ids == ids:
        return previous
    city = planner.city
    article = policy_article(city, "training")
    now = clock.now()
    by_source: dict[str, Decimal] = {}
    for r in records:
        by_source[r.get_source_display()] = by_source.get(r.get_source_display(), Decimal(0)) + r.hours
    who = planner.name if planner.kind == "individual" else f"{planner.name}（负责人：{planner.leader_name or '—'}）"
    context = {
        "city_name": city.name,
        "bureau_name": city.bureau_name or city.name,
        "rulebook_title": city.rulebook_title,
        "issued_on": clock.localdate(now).isoformat(),
        **document_issuer(city=city, kind="training_certificate").context(),
        "articles": [article],
        "article_note": f"依据{city.rulebook_title or '本市责任规划师制度'}（{article}），根据本系统已确认的继续教育学时记录出具。",
        "heading": "继续教育学时证明",
        "fields": [
            {"label": "责任规划师", "value": who},
            {"label": "工作单位", "value": planner.employer or "—"},
            {"label": "年度", "value": f"{year} 年"},
            {"label": "合计学时", "value": f"{_hours_text(total)} 学时"},
            {"label": "其中", "value": "；".join(f"{k} {_hours_text(v)} 学时" for k, v in by_source.items())},
        ],
        "paragraphs": [
            f"兹证明{who}于{year}年参加继续教育和培训，经确认的学时共计 {_hours_text(total)} 学时，明细见下表。",
            "本证明仅依据经确认的学时记录生成，待确认或未予确认的申报不计入。",
            "特此证明。",
        ],
        "items": [{"label": f"{r.date.isoformat()} {r.get_source_display()}",
                   "value": f"{r.title}（{_hours_text(r.hours)} 学时）"} for r in records],
    }
    try:
        document = document_issue(actor=actor, city=city, kind="training_certificate", title="继续教育学时证明",
                                  subject=("registry.planner", planner.pk), context=context, holder_name=planner.name,
                                  supersedes=previous.document if previous is not None else None)
    except ValueError as exc:
        raise DomainError(str(exc), code="personal_identifier") from None
    certificate = TrainingCertificate(city=city, planner=planner, year=year, total_hours=total, record_ids=ids,
                                      document=document, issued_by=actor)
    full_clean_or_refuse(certificate, validate_constraints=False)
    certificate.save()
    audit_log(actor=actor, action="training.certificate_issue", obj=certificate,
              after={"planner": planner.pk, "year": year, "total_hours": total, "records": ids,
                     "document": document.number, "verification_code": document.verification_code,
                     "supersedes": previous.document.number if previous is not None else None},
              article=article,
              summary=f"出具{planner.name} {year} 年继续教育学时证明（{_hours_text(total)} 学时），文书 {document.number}"[:255])
    return certificate
