"""Reads of issued documents. Verification by code is public by design (B19(7), B22): the code
is the capability, and what it reveals (kind, title, number, city, date, holder name, hash, status)
carries no personal data."""
import re

from .integrity import normalise_code
from .models import DocumentKind, DocumentStatus, IssuedDocument
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


def public_verification(document: IssuedDocument) -> dict:
    """What the public verification page and API say about a document: no context, no personal data."""
    newer = getattr(document, "superseded_by", None) if document.status == DocumentStatus.SUPERSEDED else None
    return {
        "valid": document.status == DocumentStatus.VALID,
        "status": document.status,
        "status_label": document.get_status_display(),
        "kind": document.kind,
        "kind_label": document.get_kind_display(),
        "title": document.title,
        "number": document.number,
        "city": document.city.name,
        "issued_on": printed_issue_date(document),
        "holder_name": document.holder_name,
        "content_hash": document.content_hash,
        "verification_code": document.formatted_code,
        "revoked_on": _local_date(document.revoked_at) if document.status == DocumentStatus.REVOKED else None,
        "revoke_reason": document.revoke_reason if document.status == DocumentStatus.REVOKED else "",
        "superseded_on": _local_date(document.superseded_at) if newer is not None else None,
        "superseded_by": (
            {"number": newer.number, "verification_code": newer.formatted_code, "verify_path": newer.verify_path()}
            if newer is not None else None
        ),
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
