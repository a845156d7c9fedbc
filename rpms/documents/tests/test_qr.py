"""Every document carries a QR code of its absolute verification address, built from
RPMS_PUBLIC_BASE_URL and drawn locally with segno. The tests read the code back — from the SVG in
the HTML and from the vector drawing in the PDF — and compare it module by module with segno's own
encoding of the expected absolute URL."""
import io
import re
from urllib.parse import unquote

import pytest
import segno
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTLine

from rpms.documents.models import DocumentKind
from rpms.documents.rendering import document_html, document_pdf, local_only_fetcher, html_to_pdf

pytestmark = pytest.mark.django_db

BASE = "https://rpms.example.gov.cn"


def expected_matrix(url: str) -> list[list[int]]:
    """segno's own encoding of `url` (error correction M, never Micro QR)."""
    return [list(row) for row in segno.make(url, error="m", micro=False).matrix]


def qr_src(html: str) -> str:
    [src] = re.findall(r'<img class="qr" src="([^"]+)"', html)
    assert src.startswith("data:image/svg+xml"), "drawn locally, inline: no address to fetch"
    return src


def svg_matrix(data_uri: str) -> list[list[int]]:
    """The modules the SVG path paints (segno draws each row as horizontal strokes at y + 0.5)."""
    svg = unquote(data_uri.split(",", 1)[1])
    size = int(re.search(r"viewBox='0 0 (\d+) \d+'", svg).group(1))
    path = re.search(r" d='([^']+)'", svg).group(1)
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    for command, a, b in re.findall(r"([MmHh])([-\d.]+)(?:\s([-\d.]+))?", path):
        if command in "Mm":
            x, y = (float(a), float(b)) if command == "M" else (x + float(a), y + float(b))
        else:
            length = float(a) if command == "h" else float(a) - x
            for col in range(round(x), round(x + length)):
                grid[int(y)][col] = 1
            x += length
    # strip the quiet zone
    rows = [r for r in grid if any(r)]
    cols = [i for i in range(size) if any(r[i] for r in grid)]
    return [r[cols[0]:cols[-1] + 1] for r in rows]


def pdf_qr_matrix(pdf: bytes, modules: int) -> list[list[int]]:
    """The QR code as the PDF draws it on the first page: horizontal strokes in the footer's
    bottom-left corner, read back onto a grid of `modules` × `modules`."""
    page = next(iter(extract_pages(io.BytesIO(pdf))))
    mm = 72 / 25.4
    lines = [o for o in page if isinstance(o, LTLine) and o.x1 < 45 * mm and o.y1 < 35 * mm and o.y0 == o.y1]
    assert lines, "no QR code drawn in the footer"
    left, right = min(o.x0 for o in lines), max(o.x1 for o in lines)
    top = max(o.y0 for o in lines)
    module = (right - left) / modules
    grid = [[0] * modules for _ in range(modules)]
    for line in lines:
        row = round((top - line.y0) / module)
        for col in range(round((line.x0 - left) / module), round((line.x1 - left) / module)):
            grid[row][col] = 1
    return grid


def test_every_kind_carries_a_qr_code_of_its_absolute_verification_address(beijing, issue, settings):
    settings.RPMS_PUBLIC_BASE_URL = BASE
    for kind in DocumentKind:
        document = issue(beijing, kind)
        url = f"{BASE}/verify/{document.verification_code}/"

        html = document_html(document)
        assert svg_matrix(qr_src(html)) == expected_matrix(url), kind
        assert url in html  # the same address printed beside it
        other = f"{BASE}/verify/{'A' * 16}/"
        assert svg_matrix(qr_src(html)) != expected_matrix(other)  # the comparison can tell codes apart


def test_the_pdf_draws_the_same_qr_code_on_its_pages(pingdingshan, issue, settings):
    settings.RPMS_PUBLIC_BASE_URL = BASE
    document = issue(pingdingshan, DocumentKind.APPOINTMENT_CONTRACT)
    url = f"{BASE}/verify/{document.verification_code}/"
    expected = expected_matrix(url)

    assert pdf_qr_matrix(document_pdf(document), len(expected)) == expected


def test_the_address_follows_the_setting(beijing, issue, settings):
    document = issue(beijing, DocumentKind.APPOINTMENT_CERTIFICATE)
    settings.RPMS_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    local = svg_matrix(qr_src(document_html(document)))
    settings.RPMS_PUBLIC_BASE_URL = "https://rpms.example.gov.cn/"  # a trailing slash is not doubled
    public = svg_matrix(qr_src(document_html(document)))

    assert local == expected_matrix(f"http://127.0.0.1:8000/verify/{document.verification_code}/")
    assert public == expected_matrix(f"https://rpms.example.gov.cn/verify/{document.verification_code}/")


def test_drawing_the_qr_code_fetches_nothing(beijing, issue):
    document = issue(beijing, DocumentKind.DISPATCH_NOTICE)
    fetcher = local_only_fetcher()
    html_to_pdf(document_html(document), fetcher=fetcher)
    assert fetcher.refused == []


def test_deploy_check_refuses_a_local_or_relative_public_address():
    from rpms.documents.checks import public_base_url_problem

    assert public_base_url_problem("https://rpms.example.gov.cn") == ""
    assert public_base_url_problem("http://rpms.example.gov.cn:8080") == ""
    assert "未设置" in public_base_url_problem("")
    assert "指向本机" in public_base_url_problem("http://127.0.0.1:8000")
    assert "指向本机" in public_base_url_problem("http://localhost")
    assert "绝对地址" in public_base_url_problem("/verify")
    assert "不含路径" in public_base_url_problem("https://rpms.example.gov.cn/app")
