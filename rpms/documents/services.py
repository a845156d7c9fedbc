"""Issuing, revoking and ending documents.

These are NOT acts on their own: a document is issued as part of an act of another context (an
appointment, a filing, a written opinion …) and that act's single audit row covers it. So these
functions write no audit row and refuse to run outside the caller's transaction — a document
issued outside it could survive the failure of the act it belongs to (same rule as
`rpms.core.audit.audit_log`)."""
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from rpms.core import clock
from rpms.core.errors import Conflict, DomainError

from .integrity import canonical, content_hash, new_verification_code, refuse_personal_identifiers
from .models import KIND_NUMBER_PREFIX, DocumentKind, DocumentStatus, IssuedDocument

_ATTEMPTS = 25


def _require_callers_transaction(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name} must be called inside the caller's transaction (the act it belongs to audits it)")


def subject_key(subject) -> tuple[str, str]:
    """(subject_type, subject_id) for a model instance, a ("app.model", id) pair, or None."""
    if subject is None:
        return "", ""
    if isinstance(subject, models.Model):
        if subject.pk is None:
            raise ValueError("subject must be saved before a document about it is issued")
        return subject._meta.label_lower, str(subject.pk)
    if isinstance(subject, (tuple, list)) and len(subject) == 2:
        return str(subject[0]), str(subject[1])
    raise TypeError("subject must be a model instance, a (type, id) pair or None")


def number_prefix(city, kind) -> str:
    return f"{(city.code or 'CITY').upper()}-{KIND_NUMBER_PREFIX[DocumentKind(kind)]}"


def _actor_user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def document_issue(
    *,
    actor,
    city,
    kind,
    title: str,
    subject,
    context: dict,
    holder_name: str = "",
    supersedes: IssuedDocument | None = None,
    issued_at=None,
    prefix: str | None = None,
    valid_until=None,
) -> IssuedDocument:
    """Issues a document: numbers it (`<prefix>-<year>-<seq:05d>` per city, kind and year), gives it
    a fresh verification code, freezes `context` as its snapshot and hashes it.

    Refuses (ValueError) a context, title or holder name containing anything that looks like an
    ID number or a mobile number. If `supersedes` is given, that (valid) document of the same city
    and kind becomes superseded, and the new document's snapshot names it (`supersedes_number`, printed
    on the PDF). `valid_until` (a date) is the last day the document speaks for — a term's last day —
    after which it verifies as ended. Must run inside the caller's transaction; writes no audit row."""
    _require_callers_transaction("document_issue")
    kind = DocumentKind(kind)
    if not isinstance(context, dict):
        raise TypeError("context must be a dict")
    title = (title or "").strip() or kind.label
    holder_name = (holder_name or "").strip()
    if supersedes is not None and "supersedes_number" not in context:
        context = {**context, "supersedes_number": supersedes.number}
    snapshot = canonical(context)
    refuse_personal_identifiers(snapshot)
    refuse_personal_identifiers({"title": title, "holder_name": holder_name}, path="document")
    subject_type, subject_id = subject_key(subject)
    issued_at = issued_at or clock.now()
    year = timezone.localtime(issued_at).year if timezone.is_aware(issued_at) else issued_at.year
    prefix = prefix or number_prefix(city, kind)

    with transaction.atomic():
        previous = None
        if supersedes is not None:
            previous = IssuedDocument.objects.select_for_update().get(pk=supersedes.pk)
            if previous.city_id != city.pk or previous.kind != kind:
                raise DomainError("新文书只能替代同一城市、同一类别的文书。", code="document_supersede_mismatch")
            if not previous.can_become(DocumentStatus.SUPERSEDED):
                raise Conflict(
                    f"文书 {previous.number} 当前状态为“{previous.get_status_display()}”，不能再被替代。",
                    code="document_not_valid",
                )

        document = None
        for _ in range(_ATTEMPTS):
            last = (
                IssuedDocument.objects.filter(city=city, kind=kind, year=year).aggregate(m=Max("sequence"))["m"] or 0
            )
            sequence = last + 1
            number = f"{prefix}-{year}-{sequence:05d}"
            candidate = IssuedDocument(
                city=city,
                kind=kind,
                title=title,
                number=number,
                year=year,
                sequence=sequence,
                verification_code=new_verification_code(),
                content_hash=content_hash(kind=kind, title=title, number=number, context=snapshot),
                context=snapshot,
                subject_type=subject_type,
                subject_id=subject_id,
                holder_name=holder_name,
                issued_at=issued_at,
                issued_by=_actor_user(actor),
                supersedes=previous,
                valid_until=valid_until,
            )
            candidate.full_clean(validate_unique=False, validate_constraints=False)
            try:
                # A savepoint: a concurrent issuer taking the same sequence (or, astronomically
                # unlikely, the same code) costs one retry, not the caller's transaction.
                with transaction.atomic():
                    candidate.save(force_insert=True)
            except IntegrityError:
                continue
            document = candidate
            break
        if document is None:
            raise Conflict("文书编号分配冲突，请稍后重试。", code="document_number_busy")

        if previous is not None:
            previous.move_to(DocumentStatus.SUPERSEDED)
            previous.superseded_at = issued_at
            previous.full_clean(validate_unique=False, validate_constraints=False)
            previous.save(update_fields=["status", "superseded_at", "updated_at"])
            document.supersedes = previous
    return document


def document_revoke(*, actor, document: IssuedDocument, reason: str) -> IssuedDocument:
    """Revokes a valid document with a reason; the public verification page then says so, with the
    date and the reason. Must run inside the caller's transaction; writes no audit row."""
    _require_callers_transaction("document_revoke")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("撤销文书须写明原因。", code="document_revoke_reason_required")
    refuse_personal_identifiers({"reason": reason}, path="revoke")
    with transaction.atomic():
        locked = IssuedDocument.objects.select_for_update().get(pk=document.pk)
        if not locked.can_become(DocumentStatus.REVOKED):
            raise Conflict(
                f"文书 {locked.number} 当前状态为“{locked.get_status_display()}”，不能撤销。", code="document_not_valid"
            )
        locked.move_to(DocumentStatus.REVOKED)
        locked.revoked_at = clock.now()
        locked.revoked_by = _actor_user(actor)
        locked.revoke_reason = reason
        locked.full_clean(validate_unique=False, validate_constraints=False)
        locked.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    return locked


def documents_subject_ended(*, subject, ended_on, ending: str, ending_label: str) -> list[IssuedDocument]:
    """What `subject` (an appointment) is about has ended, or will end, on `ended_on` (its last day):
    each of its documents still valid (not revoked, not superseded) is marked as ending on that date,
    with how (`ending`, a code) and `ending_label` (Chinese: 解除聘用合同, 退出派驻, 调出资源库 …).
    From that day the verification page and API answer "ended". Called again (an earlier ending),
    the new date and kind replace the old. Must run inside the caller's transaction; writes no audit
    row (the ending act audits itself)."""
    _require_callers_transaction("documents_subject_ended")
    if ended_on is None or not (ending or "").strip() or not (ending_label or "").strip():
        raise ValueError("an ending needs its date, its code and its Chinese label")
    subject_type, subject_id = subject_key(subject)
    with transaction.atomic():
        documents = list(
            IssuedDocument.objects.select_for_update()
            .filter(subject_type=subject_type, subject_id=subject_id, status=DocumentStatus.VALID)
            .order_by("id")
        )
        for document in documents:
            document.ended_on = ended_on
            document.ending = ending.strip()[:16]
            document.ending_label = ending_label.strip()[:50]
            document.full_clean(validate_unique=False, validate_constraints=False)
            document.save(update_fields=["ended_on", "ending", "ending_label", "updated_at"])
    return documents


def documents_subject_extended(*, subject, valid_until) -> list[IssuedDocument]:
    """`subject`'s term now runs to `valid_until` (a renewal): its still-valid documents with an
    earlier `valid_until` now run to that day. The renewal supersedes the contract and the certificate
    with new ones; what remains is the dispatch notice, which a renewal does not re-issue. Must run
    inside the caller's transaction; writes no audit row."""
    _require_callers_transaction("documents_subject_extended")
    subject_type, subject_id = subject_key(subject)
    with transaction.atomic():
        documents = list(
            IssuedDocument.objects.select_for_update()
            .filter(subject_type=subject_type, subject_id=subject_id, status=DocumentStatus.VALID,
                    valid_until__lt=valid_until)
            .order_by("id")
        )
        for document in documents:
            document.valid_until = valid_until
            document.save(update_fields=["valid_until", "updated_at"])
    return documents
