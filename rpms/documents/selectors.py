"""Reads of issued documents. Verification by code is public by design (B19(7), B22): the code
is the capability, and what it reveals (kind, title, number, city, date, holder name, hash, status)
carries no personal data."""
import re

from rpms.core import clock

from .integrity import normalise_code
from .models import ENDED, VERIFICATION_STATUS_LABELS, DocumentKind, DocumentStatus, IssuedDocument
from .services import subject_key

_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def document_by_code(code) -> IssuedDocument | None:
    """The document with this verification code, typed in any case and with or without spaces or
    dashes; None when the code is malformed or unknown."""
    normalised = normalise_code(code)
    if normalised is None:
        return None
    return (
        IssuedDocument.objects.select_related("city", "supersedes", "superseded_by")
        .filter(verification_code=normalised)
        .first()
    )


def documents_for(subject) -> list[IssuedDocument]:
    """Every document issued about `subject` (a model instance or a ("app.model", id) pair), oldest
    first."""
    subject_type, subject_id = subject_key(subject)
    return list(
        IssuedDocument.objects.select_related("city", "issued_by", "supersedes", "superseded_by")
        .filter(subject_type=subject_type, subject_id=subject_id)
        .order_by("issued_at", "id")
    )


def document_current(subject, kind) -> IssuedDocument | None:
    """The latest valid document of `kind` about `subject`, if any."""
    subject_type, subject_id = subject_key(subject)
    return (
        IssuedDocument.objects.select_related("city")
        .filter(subject_type=subject_type, subject_id=subject_id, kind=DocumentKind(kind), status=DocumentStatus.VALID)
        .order_by("-issued_at", "-id")
        .first()
    )


def _link(document: IssuedDocument | None) -> dict | None:
    if document is None:
        return None
    return {"number": document.number, "verification_code": document.formatted_code, "verify_path": document.verify_path()}


def public_verification(document: IssuedDocument, *, on=None) -> dict:
    """What the public verification page and API say about a document on `on` (default today): no
    context, no personal data.

    `status`: "valid" only while what the document is about runs; "ended" once its appointment has
    ended (`ended_on`, the last day; `ending` and its Chinese `ending_label`: 解除聘用合同, 退出派驻,
    调出资源库, 聘期届满) — from the ending's own day, or the day after `valid_until`; "revoked";
    "superseded" (with the newer document). A renewal's documents name the ones they replace
    (`supersedes`). A valid document whose ending is already set for a later day says so (`ends_on`)."""
    on = on or clock.today()
    status = document.verification_status(on)
    newer = getattr(document, "superseded_by", None) if status == DocumentStatus.SUPERSEDED else None
    ended = document.ended_as_of(on) if status == ENDED else None
    scheduled = status == DocumentStatus.VALID and document.ended_on is not None
    return {
        "valid": status == DocumentStatus.VALID,
        "status": status,
        "status_label": VERIFICATION_STATUS_LABELS[status],
        "kind": document.kind,
        "kind_label": document.get_kind_display(),
        "title": document.title,
        "number": document.number,
        "city": document.city.name,
        "issued_on": printed_issue_date(document),
        "holder_name": document.holder_name,
        "content_hash": document.content_hash,
        "verification_code": document.formatted_code,
        "valid_until": document.valid_until.isoformat() if document.valid_until else None,
        "ended_on": ended[0].isoformat() if ended else None,
        "ending": ended[1] if ended else "",
        "ending_label": ended[2] if ended else "",
        "ends_on": document.ended_on.isoformat() if scheduled else None,
        "ends_label": document.ending_label if scheduled else "",
        "revoked_on": _local_date(document.revoked_at) if status == DocumentStatus.REVOKED else None,
        "revoke_reason": document.revoke_reason if status == DocumentStatus.REVOKED else "",
        "superseded_on": _local_date(document.superseded_at) if newer is not None else None,
        "superseded_by": _link(newer),
        "supersedes": _link(document.supersedes),
    }


def printed_issue_date(document: IssuedDocument) -> str:
    """The date printed on the document (the snapshot's `issued_on`), else the day it was issued."""
    printed = (document.context or {}).get("issued_on")
    if isinstance(printed, str) and _ISO_DATE_RE.fullmatch(printed):
        return printed
    return _local_date(document.issued_at)


def _local_date(value):
    from django.utils import timezone

    if value is None:
        return None
    return (timezone.localtime(value) if timezone.is_aware(value) else value).date().isoformat()
