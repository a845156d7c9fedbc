"""Issue #15: a one-page document weighs at most 100 KB with its fonts embedded as subsets of the glyphs it uses
(the Noto CJK collections are ~20 MB each), its glyphs still found (CID-keyed CFF: each CID the page uses is in
the embedded font's charset), and every worker renders a tiny PDF at start so no user waits for the fonts."""
import io
import re
import runpy
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pdfminer.high_level import extract_text
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1

from rpms.documents import rendering
from rpms.documents.models import DocumentKind
from rpms.documents.rendering import document_pdf, html_to_pdf

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
SUBSET_NAME = re.compile(r"^[A-Z]{6}\+")


def _fonts(data: bytes) -> tuple[int, list[dict]]:
    """(pages, [{name, subtype, program (bytes) or None, cids (used, from the W array)}]) of a PDF."""
    parser = PDFParser(io.BytesIO(data))
    document = PDFDocument(parser)
    pages = list(PDFPage.create_pages(document))
    found = {}
    for page in pages:
        for font in (resolve1(resolve1(page.resources).get("Font")) or {}).values():
            font = resolve1(font)
            name = resolve1(font["BaseFont"]).name
            descendant = resolve1(resolve1(font.get("DescendantFonts") or [None])[0]) or font
            descriptor = resolve1(descendant.get("FontDescriptor"))
            program = None
            for key in ("FontFile", "FontFile2", "FontFile3"):
                if descriptor and key in descriptor:
                    program = resolve1(descriptor[key]).get_data()
            cids = set()
            widths = resolve1(descendant.get("W")) or []
            i = 0
            while i < len(widths):  # [c [w1 w2 …]] or [c_first c_last w]
                first, nxt = resolve1(widths[i]), resolve1(widths[i + 1])
                if isinstance(nxt, list):
                    cids.update(range(first, first + len(nxt)))
                    i += 2
                else:
                    cids.update(range(first, nxt + 1))
                    i += 3
            found[name] = {"name": name, "subtype": resolve1(descendant.get("Subtype")).name, "program": program,
                           "cids": cids}
    return len(pages), list(found.values())


@pytest.mark.parametrize("kind", [DocumentKind.APPOINTMENT_CERTIFICATE, DocumentKind.WRITTEN_OPINION,
                                  DocumentKind.WORK_CERTIFICATE])
def test_a_one_page_document_is_at_most_100_kb_with_subset_fonts_and_its_verification_code(beijing, issue, kind):
    document = issue(beijing, kind)
    data = document_pdf(document)
    pages, fonts = _fonts(data)
    assert pages == 1
    assert len(data) <= 100 * 1024, f"{kind}: {len(data) // 1024} KB"
    assert fonts and all(SUBSET_NAME.match(font["name"]) for font in fonts), [f["name"] for f in fonts]
    for font in fonts:
        assert font["program"] is not None, f"{font['name']} is not embedded"
        assert len(font["program"]) < 60 * 1024, f"{font['name']}: {len(font['program']) // 1024} KB embedded"
        if font["subtype"] == "CIDFontType0":  # CFF: every CID the page uses is a glyph of the embedded font
            program = TTFont(io.BytesIO(font["program"]))
            assert "ROS" in program["CFF "].cff.topDictIndex[0].rawDict
            named = {int(name[3:]) for name in program.getGlyphOrder() if name.startswith("cid")}
            assert font["cids"] - {0} <= named, f"{font['name']}: glyphs missing {sorted(font['cids'] - named)[:5]}"
    text = re.sub(r"\s+", "", extract_text(io.BytesIO(data)))
    assert document.formatted_code in text and f"/verify/{document.verification_code}/" in text
    assert document.number in text


def test_the_same_document_still_prints_the_same_bytes(beijing, issue):
    document = issue(beijing, DocumentKind.APPOINTMENT_CERTIFICATE)
    assert document_pdf(document) == document_pdf(document)


def test_a_truetype_font_is_left_to_weasyprints_own_subsetting():
    """DejaVu is TrueType (glyph ids must be kept): not compacted, still a subset that renders its text."""
    data = html_to_pdf('<html><body style="font-family: \'DejaVu Sans\'">Verification ABC 123</body></html>')
    _pages, fonts = _fonts(data)
    assert fonts and all(SUBSET_NAME.match(font["name"]) for font in fonts)
    assert "Verification ABC 123" in extract_text(io.BytesIO(data))


def test_warm_up_renders_once(monkeypatch):
    rendered = []
    real = rendering.html_to_pdf
    monkeypatch.setattr(rendering, "html_to_pdf", lambda html, **kw: rendered.append(html) or real(html, **kw))
    elapsed = rendering.warm_up()
    assert len(rendered) == 1 and "Noto Serif CJK SC" in rendered[0] and "Noto Sans CJK SC" in rendered[0]
    assert elapsed > 0


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, *args):
        self.lines.append(args)

    def exception(self, *args):
        self.lines.append(("exception", *args))


class _Worker:
    def __init__(self):
        self.log = _Log()


@pytest.mark.parametrize(("value", "expected"), [("1", 1), (None, 1), ("0", 0)])
def test_gunicorn_workers_warm_up_at_start_unless_turned_off(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("RPMS_PDF_WARMUP", raising=False)
    else:
        monkeypatch.setenv("RPMS_PDF_WARMUP", value)
    calls = []
    monkeypatch.setattr(rendering, "warm_up", lambda: calls.append(1) or 12.0)
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    worker = _Worker()
    config["post_worker_init"](worker)
    assert len(calls) == expected
    assert len(worker.log.lines) == expected


def test_a_failed_warm_up_does_not_stop_the_worker(monkeypatch):
    monkeypatch.setenv("RPMS_PDF_WARMUP", "1")

    def broken():
        raise OSError("fonts missing")

    monkeypatch.setattr(rendering, "warm_up", broken)
    worker = _Worker()
    runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["post_worker_init"](worker)
    assert worker.log.lines[0][0] == "exception"
