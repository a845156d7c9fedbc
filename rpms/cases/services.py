"""Writes for outstanding cases (P3(4), B22). One audit row per act citing the city's "case" article;
the planner is notified of every decision and the city administrators of every (re)submission.

Photos are checked by rpms.core.uploads (content, not name), re-encoded without metadata (a phone photo's
EXIF carries the GPS position where it was taken; the public must not get it) and scaled to at most
PHOTO_MAX_EDGE pixels, then stored privately; a refused or failed act removes the files it stored."""
from __future__ import annotations

import io

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse

from rpms.accounts.models import Role
from rpms.appointments.models import Appointment
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.uploads import EXTENSION_FOR_KIND, clean_original_name, proof_check, proof_delete, proof_store
from rpms.core.params import is_digits
from rpms.notifications.services import notify

from .models import Case, CasePhoto, CaseStatus

PHOTO_FOLDER = "cases"
PHOTO_MAX_EDGE = 1600
MAX_PHOTOS = 9
TITLE_MAX, SUMMARY_MAX, BODY_MAX, COMMENT_MAX, CAPTION_MAX = 120, 300, 20000, 2000, 100
BODY_MIN = 50

DECISIONS = {
    "return": CaseStatus.RETURNED,
    "publish": CaseStatus.PUBLISHED,
    "reject": CaseStatus.REJECTED,
}
DECISION_LABELS = {"return": "退回修改", "publish": "推荐并发布", "reject": "不予推荐"}


# --- checks ------------------------------------------------------------------------------------------------


def _text(value, *, label: str, maximum: int, minimum: int = 1, code: str) -> str:
    text = str(value or "").strip()
    if len(text) < minimum:
        raise DomainError(f"请填写{label}" + (f"（至少 {minimum} 个字）。" if minimum > 1 else "。"), code=code)
    if len(text) > maximum:
        raise DomainError(f"{label}不能超过 {maximum} 个字。", code=code)
    return text


def _clean(instance) -> None:
    from rpms.registry.services import full_clean_or_refuse

    full_clean_or_refuse(instance)


def _duty_category(city, code) -> str:
    code = str(code or "").strip()
    known = {c["code"] for c in city.policy.duty_categories or []}
    if code not in known:
        raise DomainError("请选择本市政策规定的工作职责类别。", code="invalid_duty_category")
    return code


def unit_zone_type(unit) -> str:
    """The unit's zone type (B13): its subdistricts' if they agree (昌平/房山 have plain and mountain
    parts), else its district's; empty where the city has no zone types."""
    zones = {s.zone_type for s in unit.current_subdistricts if s.zone_type}
    if len(zones) == 1:
        return zones.pop()
    return unit.district.zone_type or ""


def served_appointment(actor, unit) -> Appointment | None:
    """The actor's latest appointment in `unit` that has begun (serving now or served before)."""
    if getattr(actor, "role", "") != Role.PLANNER:
        return None
    return (
        Appointment.objects.filter(planner__user=actor, unit=unit, start__lte=clock.today())
        .select_related("planner")
        .order_by("-start", "-pk")
        .first()
    )


def _photos_check(photos) -> list:
    photos = [p for p in (photos or []) if p]
    for photo in photos:
        kind = proof_check(photo)
        if kind not in ("jpeg", "png"):
            raise DomainError("案例图片只接受 JPEG、PNG 格式。", code="photo_type_not_allowed")
    return photos


def _reencode(uploaded) -> tuple[ContentFile, int, int]:
    """The photo re-encoded without metadata, upright, at most PHOTO_MAX_EDGE pixels on its long edge."""
    from PIL import Image, ImageOps

    uploaded.seek(0)
    with Image.open(uploaded) as image:
        fmt = "PNG" if (image.format or "").upper() == "PNG" else "JPEG"
        image = ImageOps.exif_transpose(image)
        image.thumbnail((PHOTO_MAX_EDGE, PHOTO_MAX_EDGE))
        out = io.BytesIO()
        if fmt == "PNG":
            image.save(out, "PNG", optimize=True)
        else:
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True, progressive=True)
        width, height = image.size
    uploaded.seek(0)
    kind = "png" if fmt == "PNG" else "jpeg"
    stem = clean_original_name(getattr(uploaded, "name", ""), kind).rsplit(".", 1)[0] or "案例图片"
    return ContentFile(out.getvalue(), name=stem + EXTENSION_FOR_KIND[kind]), width, height


def _store_photos(case: Case, photos, captions, stored: list, *, first_order: int = 0) -> None:
    captions = list(captions or [])
    for index, photo in enumerate(photos):
        content, width, height = _reencode(photo)
        proof = proof_store(content, folder=PHOTO_FOLDER)
        stored.append(proof)
        caption = str(captions[index] if index < len(captions) else "").strip()
        if len(caption) > CAPTION_MAX:
            raise DomainError(f"图片说明不能超过 {CAPTION_MAX} 个字。", code="invalid_caption")
        row = CasePhoto(
            case=case, path=proof.path, original_name=clean_original_name(getattr(photo, "name", ""), proof.kind),
            kind=proof.kind, size=proof.size, sha256=proof.sha256, width=width, height=height, caption=caption,
            sort_order=first_order + index,
        )
        _clean(row)
        row.save()


def _state(case: Case) -> dict:
    return snapshot(case, ["status", "title", "duty_category", "zone_type", "unit", "decided_at", "published_at", "review_comment"])


def _lock(case: Case) -> Case:
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("city__policy", "unit__district", "district", "planner", "author")
        .filter(pk=case.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    return locked


def _is_city_admin_of(actor, city) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    return actor.is_superuser or (actor.role == Role.CITY_ADMIN and actor.city_id == city.pk)


def _is_author(actor, case: Case) -> bool:
    return getattr(actor, "is_authenticated", False) and (
        case.author_id == actor.pk or (case.planner.user_id is not None and case.planner.user_id == actor.pk)
    )


def _city_admin_users(city) -> list:
    from rpms.accounts.models import User

    return list(User.objects.filter(role=Role.CITY_ADMIN, city=city, is_active=True))


def _notify_submitted(case: Case, *, again: bool) -> None:
    notify(
        users=_city_admin_users(case.city), event="case.submitted",
        title=f"{'优秀案例已修改重新提交' if again else '新的优秀案例待审核'}：{case.title}",
        body=f"{case.planner.name}提交了{case.district.name}{case.unit.name}的案例“{case.title}”，请审核。",
        url=reverse("cases:manage_detail", args=[case.pk]),
        key=f"case:{case.pk}:submitted:{case.submitted_at.isoformat()}", city=case.city,
    )


def _notify_author(case: Case, *, event: str, title: str, body: str) -> None:
    users = [case.author]
    if case.planner.user_id and case.planner.user_id != case.author_id:
        users.append(case.planner.user)
    stamp = (case.unpublished_at if event == "case.unpublished" else case.decided_at) or clock.now()
    notify(
        users=users, event=event, title=title, body=body, url=reverse("cases:manage_detail", args=[case.pk]),
        key=f"{event}:{case.pk}:{stamp.isoformat()}", city=case.city,
    )


# --- acts --------------------------------------------------------------------------------------------------


@transaction.atomic
def case_submit(*, actor, unit, title: str, duty_category: str, summary: str, body: str, photos=(), captions=()) -> Case:
    """A planner submits a write-up of its work in a unit it serves or served (P3(4)). Refused (403) for
    anyone else's unit; the city administrators are told."""
    if getattr(actor, "role", "") != Role.PLANNER:
        raise Forbidden("只有责任规划师可以提交优秀案例。")
    if unit is None:
        raise DomainError("请选择责任单元。", code="unit_required")
    appointment = served_appointment(actor, unit)
    if appointment is None:
        raise Forbidden("只能提交本人（本团队）服务过的责任单元的案例。", code="not_your_unit")
    city = unit.city
    title = _text(title, label="标题", maximum=TITLE_MAX, code="invalid_title")
    summary = _text(summary, label="摘要", maximum=SUMMARY_MAX, code="invalid_summary")
    body = _text(body, label="正文", minimum=BODY_MIN, maximum=BODY_MAX, code="invalid_body")
    duty_category = _duty_category(city, duty_category)
    photos = _photos_check(photos)
    if len(photos) > MAX_PHOTOS:
        raise DomainError(f"每个案例最多上传 {MAX_PHOTOS} 张图片。", code="too_many_photos")
    stored = []
    try:
        case = Case(
            city=city, unit=unit, district=unit.district, zone_type=unit_zone_type(unit), duty_category=duty_category,
            planner=appointment.planner, appointment=appointment, author=actor, title=title, summary=summary,
            body=body, status=CaseStatus.SUBMITTED, submitted_at=clock.now(),
        )
        _clean(case)
        case.save()
        _store_photos(case, photos, captions, stored)
        audit_log(
            actor=actor, action="cases.case_submit", obj=case, after={**_state(case), "photos": len(photos)},
            article=policy_article(city, "case"), summary=f"提交优秀案例：{title}（{unit.name}）"[:255],
        )
        _notify_submitted(case, again=False)
    except BaseException:
        for proof in stored:
            proof_delete(proof.path)
        raise
    return case


@transaction.atomic
def case_revise(*, actor, case: Case, title: str, duty_category: str, summary: str, body: str, photos=(),
                captions=(), remove_photo_ids=()) -> Case:
    """The author revises a returned case and submits it again."""
    case = _lock(case)
    if not _is_author(actor, case):
        from .selectors import case_get

        case_get(user=actor, pk=case.pk)  # 404 unless the actor may see it
        raise Forbidden("只有案例提交人可以修改。")
    if not case.can_become(CaseStatus.SUBMITTED):
        raise Conflict("只有被退回修改的案例可以修改后重新提交。", code="case_not_returned")
    before = _state(case)
    case.title = _text(title, label="标题", maximum=TITLE_MAX, code="invalid_title")
    case.summary = _text(summary, label="摘要", maximum=SUMMARY_MAX, code="invalid_summary")
    case.body = _text(body, label="正文", minimum=BODY_MIN, maximum=BODY_MAX, code="invalid_body")
    case.duty_category = _duty_category(case.city, duty_category)
    photos = _photos_check(photos)
    existing = list(case.photos.all())
    remove_ids = {int(i) for i in remove_photo_ids or [] if is_digits(str(i).strip())}
    removed = [p for p in existing if p.pk in remove_ids]
    if len(existing) - len(removed) + len(photos) > MAX_PHOTOS:
        raise DomainError(f"每个案例最多上传 {MAX_PHOTOS} 张图片。", code="too_many_photos")
    case.move_to(CaseStatus.SUBMITTED)
    case.submitted_at = clock.now()
    stored = []
    try:
        _clean(case)
        case.save()
        for photo in removed:
            photo.delete()
        _store_photos(case, photos, captions, stored, first_order=max([p.sort_order for p in existing] or [-1]) + 1)
        audit_log(
            actor=actor, action="cases.case_revise", obj=case, before=before,
            after={**_state(case), "photos_added": len(photos), "photos_removed": [p.pk for p in removed]},
            article=policy_article(case.city, "case"), summary=f"修改后重新提交优秀案例：{case.title}"[:255],
        )
        _notify_submitted(case, again=True)
    except BaseException:
        for proof in stored:
            proof_delete(proof.path)
        raise
    paths = [p.path for p in removed]
    transaction.on_commit(lambda: [proof_delete(path) for path in paths])
    return case


@transaction.atomic
def case_review(*, actor, case: Case, decision: str, comment: str = "") -> Case:
    """The city administrator's decision on a submitted case: return with comments, recommend and
    publish, or reject (B22, P3(4)). The planner is notified."""
    case = _lock(case)
    if not _is_city_admin_of(actor, case.city):
        if getattr(actor, "is_authenticated", False) and actor.role in (Role.CITY_ADMIN,):
            raise NotFound()
        raise Forbidden("只有市级主管部门可以审核优秀案例。")
    if decision not in DECISIONS:
        raise DomainError("请选择审核结论：退回修改、推荐并发布或不予推荐。", code="invalid_decision")
    target = DECISIONS[decision]
    if not case.can_become(target):
        raise Conflict(f"该案例当前状态为“{case.get_status_display()}”，不能{DECISION_LABELS[decision]}。", code="invalid_transition")
    comment = str(comment or "").strip()
    if decision in ("return", "reject") and not comment:
        raise DomainError("退回修改或不予推荐时请填写审核意见。", code="comment_required")
    if len(comment) > COMMENT_MAX:
        raise DomainError(f"审核意见不能超过 {COMMENT_MAX} 个字。", code="comment_too_long")
    before = _state(case)
    now = clock.now()
    case.move_to(target)
    case.decided_at = now
    case.decided_by = actor
    case.review_comment = comment
    if target == CaseStatus.PUBLISHED:
        case.published_at = now
    _clean(case)
    case.save()
    audit_log(
        actor=actor, action="cases.case_review", obj=case, before=before, after={**_state(case), "decision": decision},
        article=policy_article(case.city, "case"), summary=f"优秀案例审核（{DECISION_LABELS[decision]}）：{case.title}"[:255],
    )
    bodies = {
        "return": f"您提交的案例“{case.title}”被退回修改。审核意见：{comment}",
        "publish": f"您提交的案例“{case.title}”已被推荐为优秀案例，并在门户网站公开发布。" + (f"审核意见：{comment}" if comment else ""),
        "reject": f"您提交的案例“{case.title}”未被推荐。审核意见：{comment}",
    }
    _notify_author(case, event=f"case.{decision}", title=f"优秀案例审核结果：{DECISION_LABELS[decision]}", body=bodies[decision])
    return case


@transaction.atomic
def case_unpublish(*, actor, case: Case, reason: str) -> Case:
    """The city takes a published case off the public site (e.g. an error found later), with a reason."""
    case = _lock(case)
    if not _is_city_admin_of(actor, case.city):
        raise Forbidden("只有市级主管部门可以撤下已发布的案例。")
    if not case.can_become(CaseStatus.WITHDRAWN):
        raise Conflict("只有已发布的案例可以撤下。", code="case_not_published")
    reason = _text(reason, label="撤下原因", maximum=500, code="reason_required")
    before = _state(case)
    case.move_to(CaseStatus.WITHDRAWN)
    case.unpublished_at = clock.now()
    case.unpublish_reason = reason
    _clean(case)
    case.save()
    audit_log(
        actor=actor, action="cases.case_unpublish", obj=case, before=before,
        after={**_state(case), "unpublish_reason": reason}, article=policy_article(case.city, "case"),
        summary=f"撤下优秀案例：{case.title}"[:255],
    )
    _notify_author(case, event="case.unpublished", title="优秀案例已撤下",
                   body=f"您的案例“{case.title}”已从门户网站撤下。原因：{reason}")
    return case
