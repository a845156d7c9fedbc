"""Acts on written opinions (B11(3), P3(2); declaration of interests B16).

Each function is one act: keyword-only, one transaction, full_clean() before save and exactly one
audit row citing the city's article for the step ("opinion", or "opinion_interest" for the
declaration). Issuing freezes the content (canonical JSON + SHA-256) and issues the document
(number, verification code, PDF) in the same transaction; from then on nothing of the opinion
changes — a correction is a new version drafted with `opinion_supersede` and issued like any other."""
from __future__ import annotations

import datetime as dt
import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rpms.accounts.models import Role
from rpms.appointments.serving import serving_appointment
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.uploads import proof_delete, proof_store
from rpms.documents.integrity import canonical, canonical_json, personal_identifier_findings
from rpms.documents.issuers import document_issuer
from rpms.documents.models import DocumentKind
from rpms.documents.services import document_issue

from . import permissions
from .models import (
    InterestDeclaration,
    OpinionAttachment,
    OpinionImmutable,
    OpinionReceipt,
    OpinionResponse,
    OpinionStatus,
    Responder,
    ResponseOutcome,
    SubjectKind,
    WrittenOpinion,
)

EDITABLE_FIELDS = (
    "title", "subject", "subject_kind", "developer", "design_unit", "reviewed_documents", "findings", "recommendations",
)
TEXT_MAX = 20000
MAX_REVIEWED_DOCUMENTS = 50
ATTACHMENT_FOLDER = "opinions"
AUDITED_FIELDS = [
    "status", "version", "title", "subject", "subject_kind", "developer", "design_unit", "reviewed_documents",
    "findings", "recommendations", "hiring_entity_name", "interest_declaration", "interest_note", "content_hash",
    "document", "supersedes", "correction_reason",
]


# --- helpers ---------------------------------------------------------------------------------------


def _full_clean(instance, **kwargs) -> None:
    """full_clean() with Django's messages turned into one Chinese DomainError (400)."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        parts = []
        for field, messages in exc.message_dict.items():
            try:
                label = str(instance._meta.get_field(field).verbose_name)
            except Exception:  # noqa: BLE001 - "__all__" has no field
                label = ""
            parts.extend(f"{label}：{m}" if label else m for m in messages)
        raise DomainError("；".join(parts) or "数据不正确。", code="invalid_field") from None


def _audit_state(opinion: WrittenOpinion) -> dict:
    data = snapshot(opinion, fields=AUDITED_FIELDS)
    data["departments"] = sorted(opinion.departments.values_list("pk", flat=True)) if opinion.pk else []
    return data


def _lock(opinion: WrittenOpinion) -> WrittenOpinion:
    return (
        WrittenOpinion.objects.select_for_update(of=("self",))
        .select_related("city", "unit__district", "planner")
    ).get(pk=opinion.pk)


def _require_author_of_draft(actor, opinion: WrittenOpinion) -> None:
    if not permissions.is_author(actor, opinion):
        raise Forbidden("只有起草该书面意见的责任规划师可以修改或出具。", code="opinion_not_author")
    if opinion.status != OpinionStatus.DRAFT:
        raise OpinionImmutable()


def _require_serving(actor, unit):
    """The actor's appointment in force in `unit`, or 403: only a planner serving the unit drafts and issues."""
    if not getattr(actor, "is_authenticated", False) or actor.role != Role.PLANNER:
        raise Forbidden("只有责任规划师可以起草和出具书面意见。", code="opinion_planner_only")
    appointment = serving_appointment(user=actor, unit=unit)
    if appointment is None:
        raise Forbidden(
            f"您当前未在“{unit.name}”履职，不能为该责任单元起草或出具书面意见。", code="opinion_not_serving"
        )
    return appointment


def _entity_name(appointment, unit) -> str:
    """The hiring entity an opinion goes to automatically: the appointment's party A (聘任主体)."""
    name = (getattr(appointment, "party_a", "") or "").strip()
    if name:
        return name
    return "、".join(s.name for s in unit.current_subdistricts)


def _text(value, label: str, *, max_length: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DomainError(f"{label}应为文本。", code="invalid_field")
    value = value.strip()
    if max_length and len(value) > max_length:
        raise DomainError(f"{label}不能超过 {max_length} 个字符。", code="invalid_field")
    return value


def _reviewed_documents(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, (list, tuple)):
        raise DomainError("审查的文件应为文件名称列表。", code="invalid_field")
    titles = []
    for item in value:
        if not isinstance(item, str):
            raise DomainError("审查的文件应为文件名称列表。", code="invalid_field")
        item = item.strip()
        if not item:
            continue
        if len(item) > 200:
            raise DomainError("每个审查文件的名称不能超过 200 个字符。", code="invalid_field")
        if item not in titles:
            titles.append(item)
    if len(titles) > MAX_REVIEWED_DOCUMENTS:
        raise DomainError(f"审查的文件最多列 {MAX_REVIEWED_DOCUMENTS} 项。", code="invalid_field")
    return titles


def _departments(unit, ids) -> list:
    from . import selectors

    if ids is None:
        return []
    if not isinstance(ids, (list, tuple, set)):
        raise DomainError("抄送部门应为部门编号列表。", code="invalid_field")
    try:
        wanted = {int(i) for i in ids}
    except (TypeError, ValueError):
        raise DomainError("抄送部门应为部门编号列表。", code="invalid_field") from None
    found = list(selectors.department_choices(unit).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise DomainError("所选部门不存在、已停用或不属于本市（本区）。", code="opinion_department_invalid")
    return found


def _refuse_personal_data(values: dict) -> None:
    findings = personal_identifier_findings(values, path="意见")
    if findings:
        labels = {"title": "标题", "subject": "审查对象", "developer": "建设单位", "design_unit": "设计单位",
                  "reviewed_documents": "审查的文件", "findings": "审查意见", "recommendations": "优化建议",
                  "interest_note": "声明说明", "correction_reason": "更正说明"}
        where = "、".join(dict.fromkeys(labels.get(p.split(".")[1].split("[")[0], "内容") for p, _ in findings))
        raise DomainError(
            f"书面意见不得包含身份证号或手机号等个人信息（见：{where}）。", code="opinion_personal_data"
        )


def _apply_fields(opinion: WrittenOpinion, data: dict) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS) - {"departments"}
    if unknown:
        raise DomainError(f"不能修改这些字段：{'、'.join(sorted(unknown))}。", code="invalid_field")
    if "title" in data:
        opinion.title = _text(data["title"], "标题", max_length=200)
    if "subject" in data:
        opinion.subject = _text(data["subject"], "审查对象", max_length=200)
    if "subject_kind" in data:
        kind = _text(data["subject_kind"], "审查对象类型")
        if kind not in SubjectKind.values:
            raise DomainError(
                f"审查对象类型应为：{'、'.join(label for _, label in SubjectKind.choices)}。", code="invalid_field"
            )
        opinion.subject_kind = kind
    for name, label in (("developer", "建设单位"), ("design_unit", "设计单位")):
        if name in data:
            setattr(opinion, name, _text(data[name], label, max_length=200))
    if "reviewed_documents" in data:
        opinion.reviewed_documents = _reviewed_documents(data["reviewed_documents"])
    for name, label in (("findings", "审查意见"), ("recommendations", "优化建议")):
        if name in data:
            setattr(opinion, name, _text(data[name], label, max_length=TEXT_MAX))
    if not opinion.subject:
        raise DomainError("请填写审查对象（规划、设计方案或项目名称）。", code="opinion_subject_required")
    if not opinion.title:
        opinion.title = f"关于{opinion.subject}的书面意见"[:200]
    _refuse_personal_data({name: getattr(opinion, name) for name in EDITABLE_FIELDS})


# --- drafting --------------------------------------------------------------------------------------


@transaction.atomic
def opinion_create(
    *,
    actor,
    unit,
    subject: str,
    subject_kind: str,
    title: str = "",
    developer: str = "",
    design_unit: str = "",
    reviewed_documents: list[str] | None = None,
    findings: str = "",
    recommendations: str = "",
    departments: list[int] | None = None,
) -> WrittenOpinion:
    """A draft written opinion by a planner serving `unit` (403 otherwise)."""
    appointment = _require_serving(actor, unit)
    opinion = WrittenOpinion(
        city_id=unit.city_id, unit=unit, author=actor, planner=appointment.planner, appointment=appointment,
        hiring_entity_name=_entity_name(appointment, unit), status=OpinionStatus.DRAFT,
    )
    _apply_fields(opinion, {
        "title": title, "subject": subject, "subject_kind": subject_kind, "developer": developer,
        "design_unit": design_unit, "reviewed_documents": reviewed_documents or [], "findings": findings,
        "recommendations": recommendations,
    })
    chosen = _departments(unit, departments)
    _full_clean(opinion)
    opinion.save()
    opinion.departments.set(chosen)
    audit_log(
        actor=actor, action="opinions.create", obj=opinion, after=_audit_state(opinion),
        article=policy_article(unit.city, "opinion"), summary=f"起草书面意见：{opinion.subject}",
    )
    return opinion


@transaction.atomic
def opinion_update(*, actor, opinion: WrittenOpinion, data: dict) -> WrittenOpinion:
    """Changes a draft (author only). An issued opinion is refused (409): correct it by a new version.
    Changing the project's parties withdraws the declaration of interests (it was about them)."""
    opinion = _lock(opinion)
    _require_author_of_draft(actor, opinion)
    if not isinstance(data, dict):
        raise DomainError("请求内容应为对象。", code="invalid_field")
    before = _audit_state(opinion)
    parties = (opinion.developer, opinion.design_unit)
    _apply_fields(opinion, data)
    if (opinion.developer, opinion.design_unit) != parties and opinion.declaration_made:
        opinion.interest_declaration = InterestDeclaration.NONE_MADE
        opinion.interest_note = ""
        opinion.interest_declared_at = None
    chosen = _departments(opinion.unit, data["departments"]) if "departments" in data else None
    _full_clean(opinion)
    opinion.save()
    if chosen is not None:
        opinion.departments.set(chosen)
    audit_log(
        actor=actor, action="opinions.update", obj=opinion, before=before, after=_audit_state(opinion),
        article=policy_article(opinion.city, "opinion"), summary=f"修改书面意见草稿：{opinion.subject}",
    )
    return opinion


@transaction.atomic
def opinion_interest_declare(*, actor, opinion: WrittenOpinion, has_conflict: bool, note: str = "") -> WrittenOpinion:
    """The declaration of interests (B16): the planner states whether it has any interest in the
    project's parties (developer, design unit). A declared conflict blocks issuing."""
    opinion = _lock(opinion)
    _require_author_of_draft(actor, opinion)
    if not isinstance(has_conflict, bool):
        raise DomainError("请选择是否存在利益冲突。", code="invalid_field")
    note = _text(note, "声明说明", max_length=2000)
    if has_conflict and not note:
        raise DomainError("声明存在利益冲突时，请说明与项目相关方的关系。", code="opinion_interest_note_required")
    _refuse_personal_data({"interest_note": note})
    before = _audit_state(opinion)
    opinion.interest_declaration = InterestDeclaration.CONFLICT if has_conflict else InterestDeclaration.NO_CONFLICT
    opinion.interest_note = note
    opinion.interest_declared_at = clock.now()
    _full_clean(opinion)
    opinion.save()
    article = policy_article(opinion.city, "opinion_interest")
    audit_log(
        actor=actor, action="opinions.interest_declare", obj=opinion, before=before, after=_audit_state(opinion),
        article=article,
        summary=("声明存在利益冲突（不得出具）：" if has_conflict else "声明无利益冲突：") + opinion.subject,
    )
    return opinion


@transaction.atomic
def opinion_discard(*, actor, opinion: WrittenOpinion) -> None:
    """Deletes a draft (author only); an issued opinion is never deleted (409)."""
    opinion = _lock(opinion)
    _require_author_of_draft(actor, opinion)
    before = _audit_state(opinion)
    paths = list(opinion.attachments.values_list("path", flat=True))
    audit_log(
        actor=actor, action="opinions.discard", obj=opinion, before=before,
        article=policy_article(opinion.city, "opinion"), summary=f"删除书面意见草稿：{opinion.subject}",
    )
    opinion.departments.clear()
    opinion.delete()
    transaction.on_commit(lambda: [_delete_unshared_file(p) for p in paths])


def _delete_unshared_file(path: str) -> None:
    # A correction copies its predecessor's attachments by reference: keep a file another row uses.
    if not OpinionAttachment.objects.filter(path=path).exists():
        proof_delete(path)


@transaction.atomic
def opinion_attachment_add(*, actor, opinion: WrittenOpinion, file, title: str = "") -> OpinionAttachment:
    """An uploaded reviewed document (PDF/JPEG/PNG, checked by content) on a draft (author only)."""
    opinion = _lock(opinion)
    _require_author_of_draft(actor, opinion)
    if file is None:
        raise DomainError("请选择要上传的文件。", code="upload_missing")
    stored = proof_store(file, folder=ATTACHMENT_FOLDER)
    try:
        attachment = OpinionAttachment(
            opinion=opinion, title=_text(title, "文件名称", max_length=200) or stored.original_name[:200],
            path=stored.path, original_name=stored.original_name, kind=stored.kind, size=stored.size,
            sha256=stored.sha256, uploaded_by=actor,
        )
        _refuse_personal_data({"reviewed_documents": [attachment.title]})
        _full_clean(attachment)
        attachment.save()
        audit_log(
            actor=actor, action="opinions.attachment_add", obj=opinion,
            after={"attachment": attachment.pk, "title": attachment.title, "sha256": attachment.sha256},
            article=policy_article(opinion.city, "opinion"), summary=f"上传审查文件：{attachment.title}",
        )
    except BaseException:
        proof_delete(stored.path)
        raise
    return attachment


@transaction.atomic
def opinion_attachment_remove(*, actor, opinion: WrittenOpinion, attachment_id: int) -> None:
    opinion = _lock(opinion)
    _require_author_of_draft(actor, opinion)
    attachment = opinion.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("附件不存在。")
    path = attachment.path
    audit_log(
        actor=actor, action="opinions.attachment_remove", obj=opinion,
        before={"attachment": attachment.pk, "title": attachment.title, "sha256": attachment.sha256},
        article=policy_article(opinion.city, "opinion"), summary=f"删除审查文件：{attachment.title}",
    )
    attachment.delete()
    transaction.on_commit(lambda: _delete_unshared_file(path))


# --- issuing ---------------------------------------------------------------------------------------


def declaration_text(opinion: WrittenOpinion, article: str) -> str:
    """The declaration of interests as it is printed in the issued opinion."""
    parties = []
    if opinion.developer:
        parties.append(f"建设单位（{opinion.developer}）")
    if opinion.design_unit:
        parties.append(f"设计单位（{opinion.design_unit}）")
    parties_text = "、".join(parties) or "本项目相关方"
    who = opinion.planner.name
    if opinion.interest_declaration == InterestDeclaration.CONFLICT:
        text = f"{who}声明：与{parties_text}存在利害关系：{opinion.interest_note}"
    else:
        text = (
            f"{who}声明：与{parties_text}不存在隶属、投资、雇佣、亲属或其他利害关系；本意见独立出具，"
            f"未为自身和所在机构谋求不正当利益，未为潜在利益主体提供影响市场公平、公正的便利条件"
            f"{f'（{article}）' if article else ''}。"
        )
        if opinion.interest_note:
            text += f"补充说明：{opinion.interest_note}"
    return text


def _planner_label(planner) -> str:
    if planner.kind == "team" and planner.leader_name:
        return f"{planner.name}（负责人：{planner.leader_name}）"
    return planner.name


def opinion_content(opinion: WrittenOpinion, *, issued_at, article: str, interest_article: str) -> dict:
    """What is frozen at issue: every field of the opinion as plain data (canonical JSON)."""
    unit = opinion.unit
    previous = opinion.supersedes
    attachments = [
        {"title": a.title, "name": a.original_name, "kind": a.kind, "size": a.size, "sha256": a.sha256}
        for a in opinion.attachments.all()
    ]
    return canonical({
        "opinion_id": opinion.pk,
        "version": opinion.version,
        "supersedes": None if previous is None else {
            "opinion_id": previous.pk, "version": previous.version,
            "document_number": previous.document.number if previous.document_id else "",
            "content_hash": previous.content_hash,
        },
        "correction_reason": opinion.correction_reason,
        "city": opinion.city.code,
        "unit": {"id": unit.pk, "name": unit.name, "district": unit.district.name},
        "title": opinion.title,
        "subject": opinion.subject,
        "subject_kind": opinion.subject_kind,
        "subject_kind_label": opinion.get_subject_kind_display(),
        "developer": opinion.developer,
        "design_unit": opinion.design_unit,
        "reviewed_documents": list(opinion.reviewed_documents or []),
        "attachments": attachments,
        "findings": opinion.findings,
        "recommendations": opinion.recommendations,
        "recipients": {
            "hiring_entity": opinion.hiring_entity_name,
            "departments": [d.name for d in opinion.departments.order_by("district_id", "name")],
        },
        "declaration": {
            "has_conflict": opinion.has_conflict,
            "text": declaration_text(opinion, interest_article),
            "note": opinion.interest_note,
            "declared_at": opinion.interest_declared_at,
            "article": interest_article,
        },
        "author": {
            "planner_id": opinion.planner_id, "name": opinion.planner.name, "kind": opinion.planner.kind,
            "leader_name": opinion.planner.leader_name, "employer": opinion.planner.employer,
        },
        "issued_at": issued_at,
        "issued_on": timezone.localtime(issued_at).date(),
        "article": article,
    })


def content_hash(content: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of the frozen content."""
    return hashlib.sha256(canonical_json(canonical(content)).encode("utf-8")).hexdigest()


def grouped_hash(digest: str, length: int | None = None) -> str:
    """A hex digest as printed: groups of eight joined by ":". The groups keep a long run of hex digits
    from reading like an ID or mobile number (the document refuses those) and are easier to compare."""
    digest = digest[:length] if length else digest
    return ":".join(digest[i:i + 8] for i in range(0, len(digest), 8))


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def document_context(opinion: WrittenOpinion, content: dict, digest: str) -> dict:
    """The issued document's snapshot for the generic "fields + paragraphs" PDF template."""
    city = opinion.city
    declaration = content["declaration"]
    fields = [
        {"label": "审查对象", "value": content["subject"]},
        {"label": "对象类型", "value": content["subject_kind_label"]},
        {"label": "责任单元", "value": f"{content['unit']['district']} · {content['unit']['name']}"},
        {"label": "建设单位", "value": content["developer"] or "—"},
        {"label": "设计单位", "value": content["design_unit"] or "—"},
        {"label": "出具人", "value": _planner_label(opinion.planner)},
        {"label": "版本", "value": f"第 {content['version']} 版"},
    ]
    if content["supersedes"]:
        fields.append({"label": "更正", "value": f"本版替代文书 {content['supersedes']['document_number']}（第 {content['supersedes']['version']} 版）"})
    fields.append({"label": "意见内容摘要", "value": f"SHA-256 {grouped_hash(digest)}"})
    reviewed = [*content["reviewed_documents"],
                *(f"{a['title']}（附件，SHA-256 {grouped_hash(a['sha256'], 16)}…）" for a in content["attachments"])]
    paragraphs = []
    if content["correction_reason"]:
        paragraphs += ["更正说明：", *_paragraphs(content["correction_reason"])]
    paragraphs.append("审查的文件：" + "；".join(f"{i}. {title}" for i, title in enumerate(reviewed, 1)) + "。")
    paragraphs += ["一、审查意见", *_paragraphs(content["findings"])]
    paragraphs += ["二、优化建议和修改方向", *_paragraphs(content["recommendations"])]
    paragraphs += ["三、利益冲突声明", declaration["text"]]
    recipients = [content["recipients"]["hiring_entity"], *content["recipients"]["departments"]]
    return {
        "city_name": city.name,
        "bureau_name": city.bureau_name or city.name,
        "rulebook_title": city.rulebook_title,
        "issued_on": str(content["issued_on"]),
        # B11(3), P3(2): the planner's (team's) own opinion, under no bureau letterhead
        **document_issuer(city=city, kind=DocumentKind.WRITTEN_OPINION,
                          author=f"责任规划师：{_planner_label(opinion.planner)}").context(),
        "articles": [a for a in (content["article"], declaration["article"]) if a],
        "article_note": "责任规划师独立出具书面意见，相关单位应根据意见完善方案并反馈采纳情况。",
        "heading": "书面意见" if content["version"] == 1 else f"书面意见（更正版，第 {content['version']} 版）",
        "recipients": [r for r in recipients if r],
        "fields": fields,
        "paragraphs": paragraphs,
        "opinion_content_hash": grouped_hash(digest),
    }


@transaction.atomic
def opinion_issue(*, actor, opinion: WrittenOpinion) -> WrittenOpinion:
    """Issues a draft: only its author, while still serving the unit; the declaration of interests
    made and no conflict declared (B16). In one transaction: the content is frozen as canonical JSON,
    its SHA-256 stored, the document issued (number, verification code, PDF); a correction supersedes
    its predecessor (status "superseded", its document too). Immutable from then on."""
    opinion = _lock(opinion)
    _require_author_of_draft(actor, opinion)
    appointment = _require_serving(actor, opinion.unit)
    city = opinion.city
    article = policy_article(city, "opinion")
    interest_article = policy_article(city, "opinion_interest")
    if not opinion.declaration_made:
        raise DomainError(
            f"出具前须作出利益冲突声明（{interest_article}）：声明与本项目建设单位、设计单位是否存在利害关系。",
            code="opinion_interest_undeclared",
        )
    if opinion.has_conflict:
        raise DomainError(
            f"您已声明与本项目相关方存在利益冲突，依据{interest_article}不得出具该书面意见。",
            code="opinion_interest_conflict",
        )
    missing = [label for value, label in (
        (opinion.findings, "审查意见"), (opinion.recommendations, "优化建议和修改方向"),
    ) if not value.strip()]
    if not (opinion.reviewed_documents or opinion.attachments.exists()):
        missing.append("审查的文件")
    if missing:
        raise DomainError(f"出具前请填写：{'、'.join(missing)}。", code="opinion_incomplete")

    previous = None
    if opinion.supersedes_id:
        previous = WrittenOpinion.objects.select_for_update(of=("self",)).select_related("document").get(pk=opinion.supersedes_id)
        if previous.status != OpinionStatus.ISSUED:
            raise Conflict("所更正的原意见已不是有效状态，不能再被替代。", code="opinion_not_supersedable")
        opinion.supersedes = previous

    before = _audit_state(opinion)
    issued_at = clock.now()
    opinion.appointment = appointment
    opinion.hiring_entity_name = _entity_name(appointment, opinion.unit)
    content = opinion_content(opinion, issued_at=issued_at, article=article, interest_article=interest_article)
    digest = content_hash(content)
    try:
        document = document_issue(
            actor=actor, city=city, kind=DocumentKind.WRITTEN_OPINION, title=opinion.title, subject=opinion,
            context=document_context(opinion, content, digest), holder_name=opinion.planner.name,
            supersedes=previous.document if previous is not None else None, issued_at=issued_at,
        )
    except ValueError as exc:  # the document refuses ID-number-like or mobile-like strings
        raise DomainError(f"书面意见不得包含身份证号或手机号等个人信息：{exc}", code="opinion_personal_data") from None

    opinion.content = content
    opinion.content_hash = digest
    opinion.document = document
    opinion.move_to(OpinionStatus.ISSUED)
    opinion.issued_at = issued_at
    opinion.issued_by = actor
    _full_clean(opinion)
    opinion.save()
    if previous is not None:
        previous.move_to(OpinionStatus.SUPERSEDED)
        previous.superseded_at = issued_at
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
    summary = f"出具书面意见：{opinion.subject}（文书 {document.number}）"
    if previous is not None:
        summary = f"出具更正版书面意见（第 {opinion.version} 版，替代 {previous.document.number}）：{opinion.subject}"
    audit_log(
        actor=actor, action="opinions.issue", obj=opinion, before=before, after=_audit_state(opinion),
        article=article, summary=summary,
    )
    return opinion


@transaction.atomic
def opinion_supersede(*, actor, opinion: WrittenOpinion, reason: str) -> WrittenOpinion:
    """Starts a correction: a new draft (version n+1) copied from the issued opinion, which stays
    valid until the correction is issued. The declaration of interests is made afresh."""
    opinion = _lock(opinion)
    if not permissions.is_author(actor, opinion):
        raise Forbidden("只有出具该书面意见的责任规划师可以出具更正版本。", code="opinion_not_author")
    _require_serving(actor, opinion.unit)
    if opinion.status != OpinionStatus.ISSUED:
        if opinion.status == OpinionStatus.DRAFT:
            raise Conflict("草稿可直接修改，无需出具更正版本。", code="opinion_not_issued")
        raise Conflict("该书面意见已被更正版本替代，请在最新版本上更正。", code="opinion_not_supersedable")
    pending = WrittenOpinion.objects.filter(supersedes=opinion).first()
    if pending is not None:
        raise Conflict(f"已有待出具的更正版本（第 {pending.version} 版），请继续编辑该草稿。", code="opinion_correction_pending")
    reason = _text(reason, "更正说明", max_length=2000)
    if not reason:
        raise DomainError("请写明更正说明（更正了什么、为什么）。", code="opinion_correction_reason_required")
    _refuse_personal_data({"correction_reason": reason})
    draft = WrittenOpinion(
        city_id=opinion.city_id, unit_id=opinion.unit_id, author=actor, planner_id=opinion.planner_id,
        appointment_id=opinion.appointment_id, version=opinion.version + 1, supersedes=opinion,
        correction_reason=reason, title=opinion.title, subject=opinion.subject, subject_kind=opinion.subject_kind,
        developer=opinion.developer, design_unit=opinion.design_unit,
        reviewed_documents=list(opinion.reviewed_documents or []), findings=opinion.findings,
        recommendations=opinion.recommendations, hiring_entity_name=opinion.hiring_entity_name,
        status=OpinionStatus.DRAFT,
    )
    _full_clean(draft)
    draft.save()
    draft.departments.set(opinion.departments.all())
    # The uploaded files are shared by reference (same stored path and hash), not copied.
    OpinionAttachment.objects.bulk_create([
        OpinionAttachment(opinion=draft, title=a.title, path=a.path, original_name=a.original_name, kind=a.kind,
                          size=a.size, sha256=a.sha256, uploaded_by=a.uploaded_by)
        for a in opinion.attachments.all()
    ])
    audit_log(
        actor=actor, action="opinions.supersede", obj=draft, after=_audit_state(draft),
        article=policy_article(opinion.city, "opinion"),
        summary=f"起草更正版书面意见（第 {draft.version} 版，更正 {opinion.document.number}）：{reason[:80]}",
    )
    return draft


# --- delivery and responses -------------------------------------------------------------------------


@transaction.atomic
def opinion_mark_read(*, actor, opinion: WrittenOpinion) -> OpinionReceipt:
    """The read receipt of a recipient (hiring entity or district officer): recorded once, with who
    and when; reading again changes nothing (and writes no second audit row)."""
    if not permissions.is_recipient(actor, opinion):
        raise Forbidden("只有书面意见的接收方（聘任主体、区级工作人员）记录阅读回执。", code="opinion_not_recipient")
    existing = OpinionReceipt.objects.filter(opinion=opinion, user=actor).first()
    if existing is not None:
        return existing
    receipt = OpinionReceipt(opinion=opinion, user=actor, read_at=clock.now())
    _full_clean(receipt, validate_constraints=False, validate_unique=False)
    receipt.save()
    audit_log(
        actor=actor, action="opinions.read", obj=opinion, after={"receipt": receipt.pk, "read_at": receipt.read_at},
        article=policy_article(opinion.city, "opinion"), summary=f"已阅书面意见：{opinion.subject}",
    )
    return receipt


@transaction.atomic
def opinion_response_record(
    *,
    actor,
    opinion: WrittenOpinion,
    responder: str,
    outcome: str,
    reasons: str = "",
    responded_on: dt.date | None = None,
    department_id: int | None = None,
) -> OpinionResponse:
    """Records the design unit's response (adopted / partly / not, with reasons) or a recipient
    department's answer, as received by a planner serving the unit (or the author) or the hiring entity."""
    opinion = WrittenOpinion.objects.select_related("city", "unit__district").get(pk=opinion.pk)
    if not permissions.can_record_response(actor, opinion):
        if opinion.status != OpinionStatus.ISSUED:
            raise Conflict("只能为有效的（已出具且未被替代的）书面意见记录反馈。", code="opinion_not_issued")
        raise Forbidden("只有该责任单元的责任规划师或聘任主体可以记录反馈。", code="opinion_response_forbidden")
    if responder not in Responder.values:
        raise DomainError("反馈方应为设计单位或相关部门。", code="invalid_field")
    if outcome not in ResponseOutcome.values:
        raise DomainError("采纳情况应为：采纳、部分采纳或未采纳。", code="invalid_field")
    reasons = _text(reasons, "理由或说明", max_length=TEXT_MAX)
    if outcome != ResponseOutcome.ADOPTED and not reasons:
        raise DomainError("部分采纳或未采纳的，请记录理由。", code="opinion_response_reason_required")
    responded_on = responded_on or clock.today()
    issued_on = timezone.localtime(opinion.issued_at).date()
    if responded_on < issued_on:
        raise DomainError(f"反馈日期不能早于意见出具日期（{issued_on:%Y-%m-%d}）。", code="invalid_date")
    if responded_on > clock.today():
        raise DomainError("反馈日期不能晚于今天。", code="invalid_date")
    department = None
    if responder == Responder.DEPARTMENT:
        if not department_id:
            raise DomainError("请选择作出答复的部门。", code="opinion_department_required")
        department = opinion.departments.filter(pk=department_id).first()
        if department is None:
            raise DomainError("该部门不在本意见的抄送部门之中。", code="opinion_department_invalid")
        name = department.name
        exists = opinion.responses.filter(responder=Responder.DEPARTMENT, department=department).exists()
    else:
        if department_id:
            raise DomainError("设计单位的反馈不应选择部门。", code="invalid_field")
        name = opinion.design_unit or "设计单位"
        exists = opinion.responses.filter(responder=Responder.DESIGN_UNIT).exists()
    if exists:
        raise Conflict(f"已记录过“{name}”的反馈。", code="opinion_response_exists")
    response = OpinionResponse(
        opinion=opinion, responder=responder, department=department, responder_name=name[:200], outcome=outcome,
        reasons=reasons, responded_on=responded_on, recorded_by=actor,
    )
    _full_clean(response, validate_constraints=False)
    response.save()
    audit_log(
        actor=actor, action="opinions.response_record", obj=opinion,
        after=snapshot(response), article=policy_article(opinion.city, "opinion"),
        summary=f"记录{response.get_responder_display()}反馈（{response.get_outcome_display()}）：{opinion.subject}",
    )
    return response
