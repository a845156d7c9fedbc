"""PDF rendering of issued documents with WeasyPrint and the Noto CJK fonts.

- The PDF is rendered from the document's stored `context` snapshot and its own number, code and
  hash — never from the live record it concerns — so the same document always prints the same.
- Deterministic: no clock, no random identifiers; the PDF's creation date is the issue date.
- No network: the URL fetcher serves `data:` URIs and files under this app's static folder only and
  refuses everything else, so a stray <img src="http://…"> in a template or a context cannot make
  the server fetch anything.
- Every page carries a QR code of the document's absolute verification address
  (`RPMS_PUBLIC_BASE_URL` + /verify/<code>/), drawn here with segno as an inline SVG data URI.
- Each document names its true issuer and letterhead (rpms.documents.issuers); a snapshot from before
  they were recorded falls back to the city's bureau, except a written opinion, which is never on
  the bureau's paper."""
import logging
import re
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

from .models import VERIFICATION_STATUS_LABELS, DocumentKind, DocumentStatus, IssuedDocument
from .selectors import printed_issue_date

logger = logging.getLogger(__name__)

LOCAL_ASSET_ROOTS = [Path(__file__).resolve().parent / "static" / "documents"]


def local_only_fetcher():
    """A WeasyPrint URL fetcher that refuses any non-local URL. `fetcher.refused` lists what it refused."""
    from weasyprint.urls import URLFetcher  # imported here: WeasyPrint is heavy and only PDFs need it

    class _LocalOnly(URLFetcher):
        def __init__(self):
            super().__init__(timeout=1, allowed_protocols={"data", "file"}, allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file" and _is_local_asset(url):
                return super().fetch(url, headers)
            self.refused.append(url)
            logger.warning("PDF rendering refused to fetch %s (only local assets are allowed)", url[:200])
            raise ValueError(f"文书渲染不访问外部地址：{url[:200]}")

    return _LocalOnly()


def _is_local_asset(url: str) -> bool:
    try:
        path = Path(unquote(urlsplit(url).path)).resolve()
    except (OSError, ValueError):
        return False
    return any(path.is_relative_to(root) for root in LOCAL_ASSET_ROOTS)


def html_to_pdf(html: str, *, fetcher=None) -> bytes:
    """HTML → PDF bytes with the local-only fetcher (or the one given, for tests)."""
    from weasyprint import HTML

    fetcher = fetcher or local_only_fetcher()
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()


# --- context for the templates -----------------------------------------------------------------------

_PLACEHOLDER_RE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def fee_display(context: dict) -> str:
    fee = context.get("fee_yuan")
    note = (context.get("fee_note") or "").strip()
    if isinstance(fee, (int, float)) and not isinstance(fee, bool):
        text = f"人民币 {int(fee):,} 元" if float(fee).is_integer() else f"人民币 {fee:,.2f} 元"
        return f"{text}（{note}）" if note else text
    return note or "由双方另行约定"


def _placeholder_values(context: dict) -> dict:
    values = {}
    for key, value in context.items():
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            values[key] = "、".join(value)
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            values[key] = str(value)
    values.setdefault("fee", fee_display(context))
    return values


def fill_placeholders(text: str, context: dict) -> str:
    """Fills `{unit_name}`-style placeholders the rule book's clause texts carry, from the snapshot;
    unknown placeholders stay as they are (nothing is invented)."""
    values = _placeholder_values(context)
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text or "")


def verify_url(document: IssuedDocument) -> str:
    """The absolute address at which the public checks this document (printed and in the QR code)."""
    base = (getattr(settings, "RPMS_PUBLIC_BASE_URL", "") or "").rstrip("/")
    return f"{base}{document.verify_path()}"


# Error correction M (15 %) leaves room for a stamp's edge or a fold; segno may raise it when the
# symbol has room to spare (boost_error), which never changes the content.
QR_ERROR = "m"


def verification_qr(url: str):
    """The QR code (a segno QRCode, never a Micro QR) encoding `url`, drawn locally."""
    import segno  # imported here: only documents need it

    return segno.make(url, error=QR_ERROR, micro=False)


def qr_data_uri(url: str) -> str:
    """`url` as a QR code: an SVG data URI sized by its viewBox (the template sets its printed size)."""
    return verification_qr(url).svg_data_uri(border=4, omitsize=True, xmldecl=False, nl=False)


def _issuer_and_letterhead(document: IssuedDocument, snapshot: dict, bureau: str) -> tuple[str, str]:
    own_paper = document.kind == DocumentKind.WRITTEN_OPINION  # the planner's (team's) own, B11(3), P3(2)
    issuer = snapshot.get("issuer_name") or (document.holder_name if own_paper else "") or bureau
    if "letterhead" in snapshot:
        letterhead = snapshot.get("letterhead") or ""
    else:
        letterhead = "" if own_paper else bureau
    return str(issuer), str(letterhead)


def template_context(document: IssuedDocument) -> dict:
    snapshot = dict(document.context or {})
    city = document.city
    clauses = []
    for clause in snapshot.get("clauses") or []:
        if isinstance(clause, dict):
            clauses.append({**clause, "text": fill_placeholders(str(clause.get("text") or ""), snapshot)})
    issued_on = printed_issue_date(document)
    bureau = snapshot.get("bureau_name") or city.bureau_name or city.name
    issuer, letterhead = _issuer_and_letterhead(document, snapshot, bureau)
    status = document.verification_status()
    url = verify_url(document)
    doc = {
        "title": document.title,
        "kind": document.kind,
        "kind_label": document.get_kind_display(),
        "number": document.number,
        "code": document.formatted_code,
        "content_hash": document.content_hash,
        "short_hash": document.short_hash,
        "verify_path": document.verify_path(),
        "verify_url": url,
        "qr_data_uri": qr_data_uri(url),
        "issued_on": issued_on,
        "city_name": snapshot.get("city_name") or city.name,
        "bureau_name": bureau,
        "issuer_name": issuer,
        "letterhead": letterhead,
        "holder_name": document.holder_name,
        "status": status,
        "status_label": VERIFICATION_STATUS_LABELS[status],
        "is_valid": status == DocumentStatus.VALID,
    }
    return {
        **snapshot,
        "clauses": clauses,
        "fee_text": fee_display(snapshot),
        "doc": doc,
    }


def document_html(document: IssuedDocument) -> str:
    return render_to_string(
        [f"documents/pdf/{document.kind}.html", "documents/pdf/generic.html"], template_context(document)
    )


def document_pdf(document: IssuedDocument) -> bytes:
    """The document as PDF bytes, rendered from its stored snapshot (same document → same bytes)."""
    started = time.perf_counter()
    data = html_to_pdf(document_html(document))
    logger.debug("rendered %s in %.0f ms", document.number, (time.perf_counter() - started) * 1000)
    return data


def _ascii_fallback(name: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")
    return ascii_name or "document.pdf"


def document_pdf_response(document: IssuedDocument, *, filename: str | None = None, inline: bool = True) -> HttpResponse:
    """An application/pdf response; the Chinese file name travels as RFC 5987 `filename*`, with an
    ASCII fallback (the document number) for old clients."""
    filename = filename or f"{document.title}-{document.number}.pdf"
    if not filename.lower().endswith(".pdf"):
        filename += ".pdf"
    filename = re.sub(r'[\\/:*?"<>|\r\n]+', "_", filename)
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    try:
        filename.encode("ascii")
        header = content_disposition_header(not inline, filename)
    except UnicodeEncodeError:
        fallback = _ascii_fallback(f"{document.number}.pdf")
        header = f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    response["Content-Disposition"] = header
    response["Cache-Control"] = "private, no-store"
    response["X-Document-Number"] = document.number
    return response
