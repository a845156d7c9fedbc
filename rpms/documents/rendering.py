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
    """HTML → PDF bytes with the local-only fetcher (or the one given, for tests). Fonts are embedded as
    subsets of the glyphs used (see _compact_cid_subset)."""
    from weasyprint import HTML

    _install_compact_cid_subsetting()
    fetcher = fetcher or local_only_fetcher()
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf(
        full_fonts=False, hinting=False)


# --- font subsetting (issue #15: a one-page PDF ≤ 100 KB) -------------------------------------------------------
#
# WeasyPrint 70 subsets every font with HarfBuzz but keeps each glyph's id (RETAIN_GIDS), because the PDF's text
# addresses glyphs by id. For a CJK font that means tables sized for the ~65,000 glyph ids up to the last one used
# (horizontal and vertical metrics, the CFF index of charstrings): ~200 KB per font even for one line of text.
# The Noto CJK fonts are CID-keyed CFF (Adobe-Identity-0: CID = glyph id), and for such a font the PDF maps a
# CID to its glyph through the font's own charset (ISO 32000, 9.7.4.2), which a subset keeps: so the ids need
# not be retained. _compact_cid_subset subsets without retaining them, checks that every kept glyph is still
# named by its original CID, and otherwise (TrueType, a name-keyed CFF) leaves the font to WeasyPrint's own
# subsetting.

_COMPACT_DROP_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH", b"PCLT",
                        b"SVG ", b"VORG", b"vhea", b"vmtx")
_installed = False
_CID_NAME = re.compile(r"cid\d{5}")
_identity_faces: dict = {}


def _cid_is_glyph_id(content: bytes, index: int) -> bool:
    """Whether the face is a CID-keyed CFF font whose every glyph id is its CID (Adobe-Identity-0, as Noto CJK).
    Read once per face and process (≈ 0.3 s for a Noto CJK face: at worker start, see warm_up)."""
    import hashlib
    import io

    from fontTools.ttLib import TTFont

    key = (len(content), hashlib.sha1(content[:65536]).hexdigest(), index)
    if key not in _identity_faces:
        try:
            face = TTFont(io.BytesIO(content), fontNumber=index, lazy=True)
            cff = face["CFF "].cff
            order = face.getGlyphOrder()
            _identity_faces[key] = "ROS" in cff.topDictIndex[0].rawDict and all(
                name == (".notdef" if gid == 0 else f"cid{gid:05d}") for gid, name in enumerate(order))
        except Exception:  # noqa: BLE001 — TrueType, a name-keyed CFF, anything else: not ours
            _identity_faces[key] = False
    return _identity_faces[key]


def _install_compact_cid_subsetting() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    import weasyprint

    if not weasyprint.__version__.startswith("70."):  # written against the pinned WeasyPrint 70: another keeps its own
        return
    from weasyprint.pdf import fonts as pdf_fonts
    from weasyprint.text.ffi import harfbuzz_subset

    if harfbuzz_subset is None or not hasattr(pdf_fonts, "Font") or not hasattr(pdf_fonts.Font, "subset"):
        return
    weasyprint_subset = pdf_fonts.Font.subset

    def subset(font, to_unicode, hinting):
        if not to_unicode or not _compact_cid_subset(font, to_unicode):
            weasyprint_subset(font, to_unicode, hinting)

    pdf_fonts.Font.subset = subset


def _compact_cid_subset(font, glyph_ids) -> bool:
    """Subset `font` (a weasyprint.pdf.fonts.Font) to `glyph_ids` without retaining glyph ids, if it is a CID-keyed
    CFF font whose kept glyphs keep their CIDs. True when done; False leaves the font untouched."""
    import io

    from fontTools.ttLib import TTFont
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset
    from weasyprint.text.fonts import get_hb_object_data

    if font.file_content[:4] not in (b"OTTO", b"ttcf") or not _cid_is_glyph_id(font.file_content, font.index):
        return False
    kept = sorted({0, *glyph_ids})
    hb_input = ffi.gc(harfbuzz_subset.hb_subset_input_create_or_fail(), harfbuzz_subset.hb_subset_input_destroy)
    if hb_input == ffi.NULL:
        return False
    glyph_set = harfbuzz_subset.hb_subset_input_glyph_set(hb_input)
    wanted = ffi.new(f"hb_codepoint_t[{len(kept)}]", kept)
    harfbuzz.hb_set_add_sorted_array(glyph_set, wanted, len(kept))
    harfbuzz_subset.hb_subset_input_set_flags(
        hb_input, harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE | harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
        | harfbuzz_subset.HB_SUBSET_FLAGS_NOTDEF_OUTLINE)
    drop = harfbuzz_subset.hb_subset_input_set(hb_input, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG)
    tags = sorted(harfbuzz.hb_tag_from_string(tag, -1) for tag in _COMPACT_DROP_TABLES)
    harfbuzz.hb_set_add_sorted_array(drop, ffi.new(f"hb_codepoint_t[{len(tags)}]", tags), len(tags))
    face = harfbuzz_subset.hb_subset_or_fail(font.hb_face, hb_input)
    if face == ffi.NULL:
        return False
    face = ffi.gc(face, harfbuzz.hb_face_destroy)
    content = get_hb_object_data(face)
    if not content:
        return False
    try:
        names = TTFont(io.BytesIO(content)).getGlyphOrder()
    except Exception:  # noqa: BLE001 — anything unexpected: WeasyPrint's own subsetting
        return False
    # Every glyph of the subset is named by its CID (HarfBuzz may add a few, e.g. components), and every glyph
    # the text uses is there under its original id: the PDF's CIDs find their glyphs through the charset.
    present = set(names)
    if any(name != ".notdef" and not _CID_NAME.fullmatch(name) for name in names):
        return False
    if any(f"cid{gid:05d}" not in present for gid in kept if gid):
        return False
    font.file_content = content
    return True


def warm_up() -> float:
    """Render a tiny document once (fonts found and loaded, WeasyPrint imported), so that no user waits for the
    first render of a worker: called at worker start when RPMS_PDF_WARMUP is on (deploy/gunicorn.conf.py).
    Returns the milliseconds it took."""
    from django.urls import get_resolver

    started = time.perf_counter()
    get_resolver().reverse_dict  # noqa: B018 — the URLconf (the API's schemas) loads and reverse() is ready
    qr_data_uri(f"{settings.RPMS_PUBLIC_BASE_URL}/verify/WARMUP/")
    html_to_pdf(render_to_string("documents/pdf/warm_up.html"))
    elapsed = (time.perf_counter() - started) * 1000
    logger.info("PDF rendering warmed up in %.0f ms", elapsed)
    return elapsed


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
