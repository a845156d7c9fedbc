"""Documents API (mounted at the API root, /api/v1/):

- GET /documents/verify/{code} (public, rate-limited together with the verification pages)
  → {"valid", "status", "kind", "kind_label", "title", "number", "city", "issued_on",
     "holder_name", "content_hash", "valid_until", "ended_on", "ending", "ending_label", ...};
  `status` is "valid" only while what the document is about runs, else "ended" (with `ended_on`,
  an ISO date, and `ending_label`: 解除聘用合同 / 退出派驻 / 调出资源库 / 聘期届满), "revoked" or
  "superseded"; 404 {"detail": "未找到该核验码对应的文书"}; 429 when the client looks up too many codes.

No answer carries the document's content or any personal identifier."""
from ninja import Router, Schema

from rpms.core.errors import NotFound

from .selectors import document_by_code, public_verification
from .views import count_lookup

router = Router(tags=["文书核验"])

NOT_FOUND_MESSAGE = "未找到该核验码对应的文书"


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


class DocumentLinkOut(Schema):
    number: str
    verification_code: str
    verify_path: str


class VerificationOut(Schema):
    valid: bool
    status: str
    status_label: str
    kind: str
    kind_label: str
    title: str
    number: str
    city: str
    issued_on: str
    holder_name: str
    content_hash: str
    verification_code: str
    valid_until: str | None = None
    ended_on: str | None = None
    ending: str = ""
    ending_label: str = ""
    ends_on: str | None = None
    ends_label: str = ""
    revoked_on: str | None = None
    revoke_reason: str = ""
    superseded_on: str | None = None
    superseded_by: DocumentLinkOut | None = None
    supersedes: DocumentLinkOut | None = None


@router.get(
    "/documents/verify/{code}",
    auth=None,
    response={200: VerificationOut, 404: ErrorOut, 429: ErrorOut},
    summary="核验文书（公开）",
)
def verify_document(request, code: str):
    count_lookup(request)
    document = document_by_code(code)
    if document is None:
        raise NotFound(NOT_FOUND_MESSAGE, code="document_not_found")
    return public_verification(document)
