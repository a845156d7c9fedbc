"""Public information writes, one audited service per act (B22):

- announcement_create / announcement_update / announcement_publish / announcement_withdraw — 公示公告
- announcement_attachment_add / announcement_attachment_remove — PDF or image attachments
- interpretation_create / interpretation_update / interpretation_publish / interpretation_withdraw
  — 政策文件解读, linked to the rule book's articles by code (checked against the parsed rule book)

Only a city administrator of the record's city acts (rpms.publicinfo.permissions). Each act writes one
audit row citing the city's article for the step ("announcement", "policy_interpretation")."""
from __future__ import annotations

import datetime as dt
import re

from django.db import transaction

from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError
from rpms.registry.services import full_clean_or_refuse

from . import policies
from .models import (
    Announcement,
    AnnouncementAttachment,
    AnnouncementKind,
    Interpretation,
    PublicationStatus,
)
from .permissions import require_publisher

MAX_ATTACHMENTS = 10
ANNOUNCEMENT_FIELDS = ["kind", "title", "body", "publish_on", "record_url", "record_label", "status"]
INTERPRETATION_FIELDS = ["title", "body", "articles", "status"]
_URL_RE = re.compile(r"^/(?!/)[^\s\\<>\"']*$")


def _article(city, step: str) -> str:
    try:
        return policy_article(city, step)
    except Exception:  # noqa: BLE001 - a city without a policy profile cites nothing rather than failing
        return ""


def _text(value, *, label: str, max_length: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise DomainError(f"请填写{label}。", code="missing_field")
    if len(text) > max_length:
        raise DomainError(f"{label}不能超过 {max_length} 个字。", code="too_long")
    return text


def _kind(value) -> str:
    value = str(value or "").strip()
    if value not in AnnouncementKind.values:
        options = "、".join(label for _code, label in AnnouncementKind.choices)
        raise DomainError(f"请选择公告类别（{options}）。", code="invalid_kind")
    return value


def _record_url(value) -> str:
    url = str(value or "").strip()
    if url and (len(url) > 300 or not _URL_RE.match(url)):
        raise DomainError("相关记录链接须为本系统内以“/”开头的页面地址，例如 /recruitment/calls/3/。", code="invalid_record_url")
    return url


def _locked(model, pk):
    return model.objects.select_for_update(of=("self",)).select_related("city__policy").get(pk=pk)


# --- announcements ---------------------------------------------------------------------------------------


@transaction.atomic
def announcement_create(*, actor, city, kind: str, title: str, body: str, record_url: str = "",
                        record_label: str = "") -> Announcement:
    """A draft announcement of the city; nothing is public until it is published."""
    require_publisher(actor, city)
    announcement = Announcement(
        city=city, kind=_kind(kind), title=_text(title, label="标题", max_length=200),
        body=_text(body, label="正文", max_length=20000), record_url=_record_url(record_url),
        record_label=_text(record_label, label="相关记录名称", max_length=100, required=False),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    full_clean_or_refuse(announcement)
    announcement.save()
    audit_log(actor=actor, action="publicinfo.announcement_create", obj=announcement,
              after=snapshot(announcement, ANNOUNCEMENT_FIELDS), article=_article(city, "announcement"),
              summary=f"起草{announcement.get_kind_display()}：{announcement.title}"[:255])
    return announcement


@transaction.atomic
def announcement_update(*, actor, announcement: Announcement, kind: str, title: str, body: str,
                        record_url: str = "", record_label: str = "") -> Announcement:
    """Corrects a draft or a published announcement (the change is audited); a withdrawn one is final."""
    announcement = _locked(Announcement, announcement.pk)
    require_publisher(actor, announcement.city)
    if announcement.status == PublicationStatus.WITHDRAWN:
        raise Conflict("已撤回的公告不能再修改。", code="announcement_withdrawn")
    before = snapshot(announcement, ANNOUNCEMENT_FIELDS)
    announcement.kind = _kind(kind)
    announcement.title = _text(title, label="标题", max_length=200)
    announcement.body = _text(body, label="正文", max_length=20000)
    announcement.record_url = _record_url(record_url)
    announcement.record_label = _text(record_label, label="相关记录名称", max_length=100, required=False)
    full_clean_or_refuse(announcement)
    announcement.save()
    audit_log(actor=actor, action="publicinfo.announcement_update", obj=announcement, before=before,
              after=snapshot(announcement, ANNOUNCEMENT_FIELDS), article=_article(announcement.city, "announcement"),
              summary=f"修改公告：{announcement.title}"[:255])
    return announcement


@transaction.atomic
def announcement_publish(*, actor, announcement: Announcement, publish_on: dt.date | None = None) -> Announcement:
    """Publishes a draft on `publish_on` (default today; a later date schedules it). A date in the past
    is refused: the public record must not claim an earlier publication than the real one."""
    announcement = _locked(Announcement, announcement.pk)
    require_publisher(actor, announcement.city)
    if announcement.status != PublicationStatus.DRAFT:
        raise Conflict(f"该公告{announcement.get_status_display()}，不能再次发布。", code="announcement_not_draft")
    today = clock.today()
    publish_on = publish_on or today
    if publish_on < today:
        raise DomainError(f"发布日期不能早于今天（{today.isoformat()}）。", code="publish_date_past")
    before = snapshot(announcement, ANNOUNCEMENT_FIELDS)
    announcement.move_to(PublicationStatus.PUBLISHED)
    announcement.publish_on = publish_on
    announcement.published_at = clock.now()
    announcement.published_by = actor if getattr(actor, "pk", None) else None
    full_clean_or_refuse(announcement)
    announcement.save()
    when = "今日" if publish_on == today else f"定于 {publish_on.isoformat()} "
    audit_log(actor=actor, action="publicinfo.announcement_publish", obj=announcement, before=before,
              after=snapshot(announcement, ANNOUNCEMENT_FIELDS), article=_article(announcement.city, "announcement"),
              summary=f"{when}发布{announcement.get_kind_display()}：{announcement.title}"[:255])
    return announcement


@transaction.atomic
def announcement_withdraw(*, actor, announcement: Announcement, reason: str) -> Announcement:
    """Takes a published announcement off the public pages, with the reason kept in the record."""
    announcement = _locked(Announcement, announcement.pk)
    require_publisher(actor, announcement.city)
    if announcement.status != PublicationStatus.PUBLISHED:
        raise Conflict("只有已发布的公告可以撤回。", code="announcement_not_published")
    before = snapshot(announcement, ANNOUNCEMENT_FIELDS)
    announcement.move_to(PublicationStatus.WITHDRAWN)
    announcement.withdrawn_at = clock.now()
    announcement.withdrawn_by = actor if getattr(actor, "pk", None) else None
    announcement.withdraw_reason = _text(reason, label="撤回原因", max_length=500)
    full_clean_or_refuse(announcement)
    announcement.save()
    audit_log(actor=actor, action="publicinfo.announcement_withdraw", obj=announcement, before=before,
              after={**snapshot(announcement, ANNOUNCEMENT_FIELDS), "withdraw_reason": announcement.withdraw_reason},
              article=_article(announcement.city, "announcement"), summary=f"撤回公告：{announcement.title}"[:255])
    return announcement


@transaction.atomic
def announcement_attachment_add(*, actor, announcement: Announcement, file, label: str = "") -> AnnouncementAttachment:
    """Attaches a PDF, JPEG or PNG (type checked by content) stored outside the web root."""
    from rpms.core.uploads import proof_delete, proof_store

    announcement = _locked(Announcement, announcement.pk)
    require_publisher(actor, announcement.city)
    if announcement.status == PublicationStatus.WITHDRAWN:
        raise Conflict("已撤回的公告不能再添加附件。", code="announcement_withdrawn")
    if announcement.attachments.count() >= MAX_ATTACHMENTS:
        raise DomainError(f"每条公告最多 {MAX_ATTACHMENTS} 个附件。", code="too_many_attachments")
    if file is None:
        raise DomainError("请选择要上传的文件。", code="missing_file")
    label = _text(label, label="附件名称", max_length=100, required=False)
    stored = proof_store(file, folder="announcements")
    try:
        attachment = AnnouncementAttachment(
            announcement=announcement, label=label, path=stored.path, original_name=stored.original_name,
            kind=stored.kind, size=stored.size, sha256=stored.sha256,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        full_clean_or_refuse(attachment)
        attachment.save()
        audit_log(actor=actor, action="publicinfo.attachment_add", obj=attachment,
                  object_repr=f"{announcement.title}：{attachment.display_name}"[:255],
                  after={"announcement": announcement.pk, "kind": attachment.kind, "size": attachment.size,
                         "sha256": attachment.sha256, "name": attachment.original_name},
                  article=_article(announcement.city, "announcement"), city_code=announcement.city.code,
                  summary=f"公告“{announcement.title}”添加附件 {attachment.display_name}"[:255])
    except BaseException:
        proof_delete(stored.path)
        raise
    return attachment


@transaction.atomic
def announcement_attachment_remove(*, actor, attachment: AnnouncementAttachment) -> None:
    """Removes an attachment; the stored file is deleted once the removal has committed."""
    from rpms.core.uploads import proof_delete

    attachment = AnnouncementAttachment.objects.select_related("announcement__city__policy").get(pk=attachment.pk)
    announcement = _locked(Announcement, attachment.announcement_id)
    require_publisher(actor, announcement.city)
    if announcement.status == PublicationStatus.WITHDRAWN:
        raise Conflict("已撤回的公告不能再修改附件。", code="announcement_withdrawn")
    before = {"announcement": announcement.pk, "name": attachment.original_name, "label": attachment.label,
              "kind": attachment.kind, "sha256": attachment.sha256}
    path = attachment.path
    audit_log(actor=actor, action="publicinfo.attachment_remove", obj=attachment,
              object_repr=f"{announcement.title}：{attachment.display_name}"[:255], before=before,
              article=_article(announcement.city, "announcement"), city_code=announcement.city.code,
              summary=f"公告“{announcement.title}”删除附件 {attachment.display_name}"[:255])
    attachment.delete()
    transaction.on_commit(lambda: proof_delete(path))


# --- interpretations -------------------------------------------------------------------------------------


def articles_clean(city, codes) -> list[str]:
    """The article codes, normalised ("B19（3）" → "B19(3)") and de-duplicated in order, each checked
    against the city's parsed rule book. A string may list several codes ("B19(3)、B22")."""
    if isinstance(codes, str):
        codes = policies.split_refs(codes)
    document = policies.rulebook(city)
    if document is None:
        raise DomainError(f"{city.name}尚未导入制度文件，无法关联条款。", code="rulebook_missing")
    cleaned, unknown = [], []
    for raw in codes or []:
        for part in policies.split_refs(str(raw)):
            code = policies.normalise_code(part.upper())
            if not code or document.get(code) is None:
                unknown.append(part)
            elif code not in cleaned:
                cleaned.append(code)
    if unknown:
        raise DomainError(
            f"《{document.title}》中没有这些条款：{'、'.join(unknown)}。条款代码形如 {document.prefix}19 或 {document.prefix}19(3)。",
            code="unknown_article",
        )
    if not cleaned:
        raise DomainError("请至少关联一个所解读的条款。", code="missing_articles")
    return cleaned


@transaction.atomic
def interpretation_create(*, actor, city, title: str, body: str, articles) -> Interpretation:
    require_publisher(actor, city)
    interpretation = Interpretation(
        city=city, title=_text(title, label="标题", max_length=200), body=_text(body, label="解读内容", max_length=20000),
        articles=articles_clean(city, articles), created_by=actor if getattr(actor, "pk", None) else None,
    )
    full_clean_or_refuse(interpretation)
    interpretation.save()
    audit_log(actor=actor, action="publicinfo.interpretation_create", obj=interpretation,
              after=snapshot(interpretation, INTERPRETATION_FIELDS), article=_article(city, "policy_interpretation"),
              summary=f"起草政策解读：{interpretation.title}（{'、'.join(interpretation.articles)}）"[:255])
    return interpretation


@transaction.atomic
def interpretation_update(*, actor, interpretation: Interpretation, title: str, body: str, articles) -> Interpretation:
    interpretation = _locked(Interpretation, interpretation.pk)
    require_publisher(actor, interpretation.city)
    if interpretation.status == PublicationStatus.WITHDRAWN:
        raise Conflict("已撤回的政策解读不能再修改。", code="interpretation_withdrawn")
    before = snapshot(interpretation, INTERPRETATION_FIELDS)
    interpretation.title = _text(title, label="标题", max_length=200)
    interpretation.body = _text(body, label="解读内容", max_length=20000)
    interpretation.articles = articles_clean(interpretation.city, articles)
    full_clean_or_refuse(interpretation)
    interpretation.save()
    audit_log(actor=actor, action="publicinfo.interpretation_update", obj=interpretation, before=before,
              after=snapshot(interpretation, INTERPRETATION_FIELDS),
              article=_article(interpretation.city, "policy_interpretation"),
              summary=f"修改政策解读：{interpretation.title}"[:255])
    return interpretation


@transaction.atomic
def interpretation_publish(*, actor, interpretation: Interpretation) -> Interpretation:
    interpretation = _locked(Interpretation, interpretation.pk)
    require_publisher(actor, interpretation.city)
    if interpretation.status != PublicationStatus.DRAFT:
        raise Conflict(f"该政策解读{interpretation.get_status_display()}，不能再次发布。", code="interpretation_not_draft")
    # The rule book may have changed since the draft was written: its articles must still exist.
    interpretation.articles = articles_clean(interpretation.city, interpretation.articles)
    before = snapshot(interpretation, INTERPRETATION_FIELDS)
    interpretation.move_to(PublicationStatus.PUBLISHED)
    interpretation.published_at = clock.now()
    interpretation.published_by = actor if getattr(actor, "pk", None) else None
    full_clean_or_refuse(interpretation)
    interpretation.save()
    audit_log(actor=actor, action="publicinfo.interpretation_publish", obj=interpretation, before=before,
              after=snapshot(interpretation, INTERPRETATION_FIELDS),
              article=_article(interpretation.city, "policy_interpretation"),
              summary=f"发布政策解读：{interpretation.title}（{'、'.join(interpretation.articles)}）"[:255])
    return interpretation


@transaction.atomic
def interpretation_withdraw(*, actor, interpretation: Interpretation, reason: str) -> Interpretation:
    interpretation = _locked(Interpretation, interpretation.pk)
    require_publisher(actor, interpretation.city)
    if interpretation.status != PublicationStatus.PUBLISHED:
        raise Conflict("只有已发布的政策解读可以撤回。", code="interpretation_not_published")
    before = snapshot(interpretation, INTERPRETATION_FIELDS)
    interpretation.move_to(PublicationStatus.WITHDRAWN)
    interpretation.withdrawn_at = clock.now()
    interpretation.withdrawn_by = actor if getattr(actor, "pk", None) else None
    interpretation.withdraw_reason = _text(reason, label="撤回原因", max_length=500)
    full_clean_or_refuse(interpretation)
    interpretation.save()
    audit_log(actor=actor, action="publicinfo.interpretation_withdraw", obj=interpretation, before=before,
              after={**snapshot(interpretation, INTERPRETATION_FIELDS), "withdraw_reason": interpretation.withdraw_reason},
              article=_article(interpretation.city, "policy_interpretation"),
              summary=f"撤回政策解读：{interpretation.title}"[:255])
    return interpretation
