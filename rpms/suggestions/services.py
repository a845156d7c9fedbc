"""Writes for residents' suggestions and work proposals. Each act is one audited transaction citing the
city's own article (policy_article): suggestion, suggestion_reply, suggestion_forward,
suggestion_moderation, work_proposal.

- suggestion_submit — a resident's suggestion or problem, routed to the planners serving the unit today
- suggestion_reply — a public reply (what was done, or why not) → answered
- suggestion_forward — to a department → forwarded
- suggestion_department_answer_record — the department's answer as received by the planner or officer
- suggestion_close — 办结, after a public reply
- suggestion_hide / suggestion_unhide — the city's moderation; the row is kept, never deleted
- suggestion_release — where the city reviews before publication (policy `suggestions_premoderated`),
  a district officer or city administrator releases the suggestion to the public pages
- work_proposal_submit / work_proposal_acknowledge — B11(2) 形成工作建议, to the hiring entity

Allowed transitions (act → statuses it may start from → status after):

    reply              received, answered, forwarded → answered
    forward            received, answered (once)     → forwarded
    department answer  forwarded, answered (once, after a forward) → unchanged
    close              answered, forwarded (a public reply given), or any hidden one → closed

A closed suggestion takes no further act; a hidden one may only be closed or shown again.
"""
from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction

from rpms.accounts.models import Role
from rpms.appointments.serving import serving_appointment, unit_appointments
from rpms.cities.selectors import policy_article, policy_window_end
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.identity import validate_mobile
from rpms.core.inputs import clean_or_refuse
from rpms.core.uploads import proof_check, proof_delete, proof_store

from . import permissions
from .models import (
    Suggestion,
    SuggestionCategory,
    SuggestionPhoto,
    SuggestionRecipient,
    SuggestionReply,
    SuggestionStatus,
    WorkProposal,
    WorkProposalStatus,
)

# An unambiguous alphabet (no 0/O, 1/I/L): a resident reads the code aloud or types it on a phone.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 10  # 31^10 ≈ 8·10^14 codes: not guessable, and lookups are rate-limited too

CONTENT_MIN, CONTENT_MAX = 4, 2000
REPLY_MAX = 4000
NOTE_MAX = 2000
REASON_MIN, REASON_MAX = 4, 500
PROPOSAL_TITLE_MAX, PROPOSAL_TEXT_MAX = 200, 8000
CONTACT_NAME_MAX = 50

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_FOLDER = "suggestions"

S = SuggestionStatus


def max_photos() -> int:
    return int(getattr(settings, "RPMS_SUGGESTION_MAX_PHOTOS", MAX_PHOTOS))


def max_photo_bytes() -> int:
    return int(getattr(settings, "RPMS_SUGGESTION_MAX_PHOTO_BYTES", MAX_PHOTO_BYTES))


def normalise_tracking_code(value) -> str:
    """What a resident typed, as a stored code: upper case, without blanks or hyphens."""
    return "".join(ch for ch in str(value or "").upper() if ch not in " -\t\u3000")[:32]


def _new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def _text(value, *, label: str, minimum: int = 1, maximum: int, code: str) -> str:
    text = str(value or "").strip()
    if len(text) < minimum:
        message = f"请填写{label}。" if minimum <= 1 or not text else f"{label}至少 {minimum} 个字。"
        raise DomainError(message, code=code)
    if len(text) > maximum:
        raise DomainError(f"{label}不能超过 {maximum} 个字（现为 {len(text)} 个字）。", code=code)
    return text


def _state(suggestion: Suggestion) -> dict:
    # No contact details in the audit trail: it is read by people who have no need for them.
    return snapshot(suggestion, fields=[
        "status", "replied_at", "department", "forwarded_at", "department_answered_on", "closed_at",
        "hidden_at", "hidden_reason", "due_on", "unit_vacant", "released_at",
    ])


def _lock(suggestion: Suggestion) -> Suggestion:
    return (
        Suggestion.objects.select_for_update(of=("self",))
        .select_related("city__policy", "unit", "district", "department")
        .get(pk=suggestion.pk)
    )


def _require_handler(actor, suggestion: Suggestion, today: dt.date) -> None:
    if not permissions.can_handle(actor, suggestion, on=today):
        raise Forbidden("只有当前在本单元服务的责任规划师或本区主管部门可以办理该意见建议。")


def _photos_check(photos) -> list:
    photos = [p for p in (photos or []) if p is not None]
    if len(photos) > max_photos():
        raise DomainError(f"最多上传 {max_photos()} 张图片。", code="too_many_photos")
    limit = max_photo_bytes()
    for photo in photos:
        size = getattr(photo, "size", None)
        if size is not None and size > limit:
            raise DomainError(
                f"图片“{getattr(photo, 'name', '')}”超过 {limit // (1024 * 1024)} MB，请压缩后再上传。",
                code="upload_too_large",
            )
        if proof_check(photo) == "pdf":
            raise DomainError("只能上传 JPEG 或 PNG 格式的图片。", code="upload_type_not_allowed")
    return photos


# --- residents --------------------------------------------------------------------------------------------


@transaction.atomic
def suggestion_submit(
    *, actor, unit, category: str, content: str, contact_name: str = "", contact_phone: str = "",
    photos=(), subdistrict=None,
) -> Suggestion:
    """A resident's suggestion or problem about `unit` (no account needed; `actor` is None or the signed-in
    user). It is delivered to exactly the planners serving the unit today — one SuggestionRecipient each —
    or, if none serves it, to the district (`unit_vacant`). The reply deadline is the policy's
    `suggestion_response_working_days` working days from today."""
    if unit.dissolved_at is not None:
        raise Conflict("该责任单元已撤销，请重新查找您所在的街道乡镇。", code="unit_dissolved")
    if category not in SuggestionCategory.values:
        raise DomainError("请选择类别：意见建议或问题反映。", code="invalid_category")
    content = _text(content, label="内容", minimum=CONTENT_MIN, maximum=CONTENT_MAX, code="invalid_content")
    contact_name = str(contact_name or "").strip()
    if len(contact_name) > CONTACT_NAME_MAX:
        raise DomainError(f"联系人姓名不能超过 {CONTACT_NAME_MAX} 个字。", code="invalid_contact_name")
    contact_phone = str(contact_phone or "").strip()
    if contact_phone:
        contact_phone = validate_mobile(contact_phone)
    if subdistrict is not None and not unit.memberships.filter(subdistrict=subdistrict, left_at__isnull=True).exists():
        raise DomainError("所选街道乡镇不属于该责任单元。", code="subdistrict_not_in_unit")
    photos = _photos_check(photos)

    city = unit.city
    now = clock.now()
    today = clock.today()
    due = policy_window_end(city=city, rule="suggestion_response_working_days", start=today)
    appointments = list(unit_appointments(unit, on=today))
    # PIPL art. 28–29: where the city reviews first, the public sees it only once released; the
    # planners (or the district) receive it now either way.
    premoderated = bool(city.policy.suggestions_premoderated)

    stored = []
    try:
        suggestion = Suggestion(
            city=city, unit=unit, district=unit.district, subdistrict=subdistrict, category=category,
            content=content, contact_name=contact_name, contact_phone=contact_phone,
            received_at=now, received_on=today, due_on=due.end, due_provisional=due.provisional,
            response_working_days=due.days,
            unit_vacant=not appointments, status=S.RECEIVED,
            premoderated=premoderated, released_at=None if premoderated else now,
        )
        for _ in range(5):
            suggestion.tracking_code = _new_tracking_code()
            if not Suggestion.objects.filter(tracking_code=suggestion.tracking_code).exists():
                break
        clean_or_refuse(suggestion)
        suggestion.save()
        planners = {}
        for appointment in appointments:
            if appointment.planner_id in planners:
                continue
            recipient = SuggestionRecipient(
                suggestion=suggestion, planner=appointment.planner, appointment=appointment,
                user=appointment.planner.user, delivered_at=now,
            )
            clean_or_refuse(recipient)
            recipient.save()
            planners[appointment.planner_id] = recipient
        for photo in photos:
            proof = proof_store(photo, folder=PHOTO_FOLDER)
            stored.append(proof)
            row = SuggestionPhoto(
                suggestion=suggestion, path=proof.path, original_name=proof.original_name, kind=proof.kind,
                size=proof.size, sha256=proof.sha256,
            )
            clean_or_refuse(row)
            row.save()
        routed = "、".join(r.planner.name for r in planners.values()) or f"{unit.district.name}（本单元暂无在任责任规划师）"
        audit_log(
            actor=actor, action="suggestions.suggestion_submit", obj=suggestion,
            after={
                **_state(suggestion), "unit": unit.pk, "category": category,
                "recipients": sorted(planners), "photos": len(photos), "has_contact": bool(contact_name or contact_phone),
                "premoderated": premoderated,
            },
            article=policy_article(city, "suggestion"),
            summary=f"收到居民{suggestion.get_category_display()}（{unit.name}），送达：{routed}"[:255],
        )
    except BaseException:
        for proof in stored:
            proof_delete(proof.path)
        raise
    return suggestion


# --- planners and district officers -------------------------------------------------------------------------


def _author_label(actor, unit, today) -> str:
    if getattr(actor, "role", "") == Role.PLANNER:
        appointment = serving_appointment(user=actor, unit=unit, on=today)
        if appointment is not None:
            return f"责任规划师 {appointment.planner.name}"
    if getattr(actor, "role", "") == Role.DISTRICT_OFFICER:
        return actor.display_name or f"{unit.district.name}规划自然资源主管部门"
    return actor.display_name or "工作人员"


@transaction.atomic
def suggestion_reply(*, actor, suggestion: Suggestion, text: str) -> SuggestionReply:
    """A public reply: what was done, or why not. Sets the status to answered."""
    suggestion = _lock(suggestion)
    today = clock.today()
    _require_handler(actor, suggestion, today)
    if suggestion.is_closed:
        raise Conflict("该意见建议已办结，不能再答复。", code="suggestion_closed")
    if suggestion.is_hidden:
        raise Conflict("该意见建议已被隐藏，不公开答复；可直接办结。", code="suggestion_hidden")
    text = _text(text, label="答复内容", minimum=4, maximum=REPLY_MAX, code="invalid_reply")
    before = _state(suggestion)
    now = clock.now()
    reply = SuggestionReply(
        suggestion=suggestion, text=text, author=actor, author_label=_author_label(actor, suggestion.unit, today),
        replied_at=now,
    )
    clean_or_refuse(reply)
    reply.save()
    suggestion.move_to(S.ANSWERED)
    if suggestion.replied_at is None:
        suggestion.replied_at = now
    clean_or_refuse(suggestion)
    suggestion.save()
    audit_log(
        actor=actor, action="suggestions.suggestion_reply", obj=suggestion, before=before,
        after={**_state(suggestion), "reply": reply.pk, "text": text},
        article=policy_article(suggestion.city, "suggestion_reply"),
        summary=f"公开答复意见建议 {suggestion.tracking_code}",
    )
    return reply


@transaction.atomic
def suggestion_forward(*, actor, suggestion: Suggestion, department, note: str = "") -> Suggestion:
    """Forwards the suggestion to a department of the city (city-level or the unit's district) → forwarded."""
    suggestion = _lock(suggestion)
    today = clock.today()
    _require_handler(actor, suggestion, today)
    if suggestion.is_closed:
        raise Conflict("该意见建议已办结，不能再转交。", code="suggestion_closed")
    if suggestion.is_hidden:
        raise Conflict("该意见建议已被隐藏，不能转交。", code="suggestion_hidden")
    if suggestion.forwarded_at is not None:
        raise Conflict(f"该意见建议已于 {suggestion.forwarded_at:%Y-%m-%d} 转交{suggestion.department.name}。",
                       code="already_forwarded")
    if suggestion.status not in (S.RECEIVED, S.ANSWERED):
        raise Conflict("当前状态不能转交。", code="invalid_transition")
    if department is None or department.city_id != suggestion.city_id or not department.is_active or (
        department.district_id is not None and department.district_id != suggestion.district_id
    ):
        raise DomainError("请选择本市或本区的相关部门。", code="invalid_department")
    note = str(note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(f"转交说明不能超过 {NOTE_MAX} 个字。", code="invalid_note")
    before = _state(suggestion)
    suggestion.department = department
    suggestion.forward_note = note
    suggestion.forwarded_at = clock.now()
    suggestion.forwarded_by = actor
    suggestion.move_to(S.FORWARDED)
    clean_or_refuse(suggestion)
    suggestion.save()
    audit_log(
        actor=actor, action="suggestions.suggestion_forward", obj=suggestion, before=before,
        after={**_state(suggestion), "note": note},
        article=policy_article(suggestion.city, "suggestion_forward"),
        summary=f"意见建议 {suggestion.tracking_code} 转交{department.name}",
    )
    return suggestion


@transaction.atomic
def suggestion_department_answer_record(*, actor, suggestion: Suggestion, text: str, answered_on: dt.date) -> Suggestion:
    """Records the answer of the department the suggestion was forwarded to (departments do not log in)."""
    suggestion = _lock(suggestion)
    today = clock.today()
    _require_handler(actor, suggestion, today)
    if suggestion.forwarded_at is None:
        raise Conflict("该意见建议尚未转交相关部门。", code="not_forwarded")
    if suggestion.department_answer_recorded_at is not None:
        raise Conflict("已登记过部门答复。", code="department_answer_recorded")
    if suggestion.is_closed:
        raise Conflict("该意见建议已办结。", code="suggestion_closed")
    text = _text(text, label="部门答复内容", minimum=2, maximum=REPLY_MAX, code="invalid_answer")
    if not isinstance(answered_on, dt.date) or isinstance(answered_on, dt.datetime):
        raise DomainError("请填写部门答复日期（YYYY-MM-DD）。", code="invalid_date")
    forwarded_on = clock.localdate(suggestion.forwarded_at)
    if answered_on < forwarded_on or answered_on > today:
        raise DomainError(
            f"部门答复日期应在转交日（{forwarded_on:%Y-%m-%d}）与今天之间。", code="invalid_date"
        )
    before = _state(suggestion)
    suggestion.department_answer = text
    suggestion.department_answered_on = answered_on
    suggestion.department_answer_recorded_at = clock.now()
    suggestion.department_answer_recorded_by = actor
    clean_or_refuse(suggestion)
    suggestion.save()
    audit_log(
        actor=actor, action="suggestions.suggestion_department_answer", obj=suggestion, before=before,
        after={**_state(suggestion), "department_answer": text},
        article=policy_article(suggestion.city, "suggestion_forward"),
        summary=f"登记{suggestion.department.name}对意见建议 {suggestion.tracking_code} 的答复",
    )
    return suggestion


@transaction.atomic
def suggestion_close(*, actor, suggestion: Suggestion, note: str = "") -> Suggestion:
    """办结: after a public reply (or for a hidden suggestion, which gets none)."""
    suggestion = _lock(suggestion)
    today = clock.today()
    _require_handler(actor, suggestion, today)
    if suggestion.is_closed:
        raise Conflict("该意见建议已办结。", code="suggestion_closed")
    if suggestion.replied_at is None and not suggestion.is_hidden:
        raise Conflict("请先公开答复，再办结。", code="reply_required")
    note = str(note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(f"办结说明不能超过 {NOTE_MAX} 个字。", code="invalid_note")
    before = _state(suggestion)
    suggestion.move_to(S.CLOSED)
    suggestion.closed_at = clock.now()
    suggestion.closed_by = actor
    suggestion.close_note = note
    clean_or_refuse(suggestion)
    suggestion.save()
    audit_log(
        actor=actor, action="suggestions.suggestion_close", obj=suggestion, before=before,
        after={**_state(suggestion), "note": note},
        article=policy_article(suggestion.city, "suggestion_reply"),
        summary=f"意见建议 {suggestion.tracking_code} 办结",
    )
    return suggestion


# --- the city's moderation ----------------------------------------------------------------------------------


@transaction.atomic
def suggestion_hide(*, actor, suggestion: Suggestion, reason: str) -> Suggestion:
    """Hides inappropriate content from every public page. The row, its text and replies are kept and the
    staff still see it, marked hidden; nothing is deleted."""
    suggestion = _lock(suggestion)
    if not permissions.can_moderate(actor, suggestion):
        raise Forbidden("只有市级主管部门可以隐藏意见建议。")
    if suggestion.is_hidden:
        raise Conflict("该意见建议已被隐藏。", code="already_hidden")
    reason = _text(reason, label="隐藏原因", minimum=REASON_MIN, maximum=REASON_MAX, code="reason_required")
    before = _state(suggestion)
    suggestion.hidden_at = clock.now()
    suggestion.hidden_by = actor
    suggestion.hidden_reason = reason
    clean_or_refuse(suggestion)
    suggestion.save()
    audit_log(
        actor=actor, action="suggestions.suggestion_hide", obj=suggestion, before=before, after=_state(suggestion),
        article=policy_article(suggestion.city, "suggestion_moderation"),
        summary=f"隐藏意见建议 {suggestion.tracking_code}：{reason}"[:255],
    )
    return suggestion


@transaction.atomic
def suggestion_unhide(*, actor, suggestion: Suggestion, reason: str) -> Suggestion:
    """Shows a hidden suggestion again (e.g. hidden by mistake); the earlier reason stays in the trail."""
    suggestion = _lock(suggestion)
    if not permissions.can_moderate(actor, suggestion):
        raise Forbidden("只有市级主管部门可以恢复显示意见建议。")
    if not suggestion.is_hidden:
        raise Conflict("该意见建议未被隐藏。", code="not_hidden")
    reason = _text(reason, label="恢复显示的原因", minimum=REASON_MIN, maximum=REASON_MAX, code="reason_required")
    before = _state(suggestion)
    suggestion.hidden_at = None
    suggestion.hidden_by = None
    suggestion.hidden_reason = ""
    clean_or_refuse(suggestion)
    suggestion.save()
    audit_log(
        actor=actor, action="suggestions.suggestion_unhide", obj=suggestion, before=before,
        after={**_state(suggestion), "reason": reason},
        article=policy_article(suggestion.city, "suggestion_moderation"),
        summary=f"恢复显示意见建议 {suggestion.tracking_code}：{reason}"[:255],
    )
    return suggestion


@transaction.atomic
def suggestion_release(*, actor, suggestion: Suggestion) -> Suggestion:
    """Releases a suggestion held for review (policy `suggestions_premoderated`) to the public pages, the
    public API and open data. A district officer of its district or a city administrator of its city."""
    suggestion = _lock(suggestion)
    if not permissions.can_release(actor, suggestion):
        raise Forbidden("只有本区规划自然资源主管部门或市级主管部门可以审核放行意见建议。")
    if not suggestion.awaiting_release:
        when = f"已于 {clock.localdate(suggestion.released_at):%Y-%m-%d} 公开" if suggestion.released_at else "无须审核，已公开"
        raise Conflict(f"该意见建议{when}。", code="already_released")
    before = _state(suggestion)
    suggestion.released_at = clock.now()
    suggestion.released_by = actor
    clean_or_refuse(suggestion)
    suggestion.save()
    audit_log(
        actor=actor, action="suggestions.suggestion_release", obj=suggestion, before=before, after=_state(suggestion),
        article=policy_article(suggestion.city, "suggestion_moderation"),
        summary=f"审核放行意见建议 {suggestion.tracking_code}，公开显示",
    )
    return suggestion


# --- work proposals (B11(2)) --------------------------------------------------------------------------------


@transaction.atomic
def work_proposal_submit(
    *, actor, unit, title: str, analysis: str, recommendation: str, suggestions
) -> WorkProposal:
    """A planner serving `unit` groups suggestions of that unit into a work proposal to its hiring entity."""
    today = clock.today()
    appointment = serving_appointment(user=actor, unit=unit, on=today) if getattr(actor, "role", "") == Role.PLANNER else None
    if appointment is None:
        raise Forbidden("只有当前在本单元服务的责任规划师可以提出工作建议。")
    title = _text(title, label="标题", maximum=PROPOSAL_TITLE_MAX, code="invalid_title")
    analysis = _text(analysis, label="问题分析", maximum=PROPOSAL_TEXT_MAX, code="invalid_analysis")
    recommendation = _text(recommendation, label="工作建议", maximum=PROPOSAL_TEXT_MAX, code="invalid_recommendation")
    ids = []
    for item in suggestions or []:
        pk = getattr(item, "pk", item)
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise DomainError("所选意见建议编号不正确。", code="invalid_suggestions") from None
        if pk not in ids:
            ids.append(pk)
    if not ids:
        raise DomainError("请至少选择一条本单元的意见建议。", code="suggestions_required")
    found = list(Suggestion.objects.filter(pk__in=ids, unit=unit, hidden_at__isnull=True))
    if len(found) != len(ids):
        raise DomainError("所选意见建议须为本单元收到且未被隐藏的意见建议。", code="invalid_suggestions")
    proposal = WorkProposal(
        city=unit.city, unit=unit, district=unit.district, planner=appointment.planner, appointment=appointment,
        author=actor, title=title, analysis=analysis, recommendation=recommendation,
        status=WorkProposalStatus.SUBMITTED, submitted_at=clock.now(),
    )
    clean_or_refuse(proposal)
    proposal.save()
    proposal.suggestions.set(found)
    audit_log(
        actor=actor, action="suggestions.work_proposal_submit", obj=proposal,
        after={**snapshot(proposal, fields=["unit", "planner", "title", "status", "submitted_at"]), "suggestions": sorted(ids)},
        article=policy_article(unit.city, "work_proposal"),
        summary=f"{appointment.planner.name}就 {len(ids)} 条意见建议向聘任主体提出工作建议：{title}"[:255],
    )
    return proposal


@transaction.atomic
def work_proposal_acknowledge(*, actor, proposal: WorkProposal, note: str = "") -> WorkProposal:
    """The hiring entity of the proposal's unit acknowledges it (签收), optionally with its view."""
    proposal = WorkProposal.objects.select_for_update(of=("self",)).select_related("city__policy", "unit").get(pk=proposal.pk)
    if not (getattr(actor, "is_superuser", False) or permissions.is_unit_entity(actor, proposal.unit)):
        raise Forbidden("只有该责任单元的聘任主体可以签收工作建议。")
    if proposal.status == WorkProposalStatus.ACKNOWLEDGED:
        raise Conflict("该工作建议已签收。", code="already_acknowledged")
    note = str(note or "").strip()
    if len(note) > PROPOSAL_TEXT_MAX:
        raise DomainError(f"签收意见不能超过 {PROPOSAL_TEXT_MAX} 个字。", code="invalid_note")
    before = snapshot(proposal, fields=["status", "acknowledged_at", "acknowledgement_note"])
    proposal.move_to(WorkProposalStatus.ACKNOWLEDGED)
    proposal.acknowledged_at = clock.now()
    proposal.acknowledged_by = actor
    proposal.acknowledgement_note = note
    clean_or_refuse(proposal)
    proposal.save()
    audit_log(
        actor=actor, action="suggestions.work_proposal_acknowledge", obj=proposal, before=before,
        after=snapshot(proposal, fields=["status", "acknowledged_at", "acknowledgement_note"]),
        article=policy_article(proposal.city, "work_proposal"),
        summary=f"聘任主体签收工作建议：{proposal.title}"[:255],
    )
    return proposal
