"""Proof uploads: type decided by content, size limit, storage outside the web root, safe download."""

import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from rpms.core.errors import DomainError, NotFound
from rpms.core.uploads import MAX_PROOF_BYTES, StoredProof, proof_check, proof_delete, proof_response, proof_store
from rpms.testing.pdfs import tiny_pdf


@pytest.fixture
def private_root(settings, tmp_path):
    root = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT = root
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STATIC_ROOT = tmp_path / "static"
    return root


def image_bytes(fmt: str, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


PDF = tiny_pdf()
PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def refused(file) -> DomainError:
    with pytest.raises(DomainError) as info:
        proof_check(file)
    assert info.value.status == 400
    return info.value


def same_pixels(a: bytes, b: bytes) -> bool:
    with Image.open(io.BytesIO(a)) as first, Image.open(io.BytesIO(b)) as second:
        return first.size == second.size and first.convert("RGB").tobytes() == second.convert("RGB").tobytes()


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- proof_check -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,content,kind",
    [("学历证书.pdf", PDF, "pdf"), ("photo.JPG", JPEG, "jpeg"), ("scan.jpeg", JPEG, "jpeg"), ("证书.png", PNG, "png")],
)
def test_the_kind_is_detected_from_the_content(name, content, kind):
    assert proof_check(upload(name, content, content_type="text/html")) == kind  # declared type ignored


@pytest.mark.parametrize("name", ["scan", "学历证书 v1.2", "张三.身份证", "scan.2024"])
def test_a_name_without_a_file_type_extension_is_judged_by_content_alone(name):
    assert proof_check(upload(name, PNG)) == "png"


def test_the_file_is_left_at_its_start_after_checking():
    file = upload("a.pdf", PDF)
    proof_check(file)
    assert file.read(5) == b"%PDF-"


def test_an_empty_file_is_refused():
    error = refused(upload("empty.pdf", b""))
    assert error.code == "upload_empty" and "空" in error.message


def test_a_file_over_10_mb_is_refused_and_one_at_the_limit_is_accepted():
    padding = MAX_PROOF_BYTES - len(tiny_pdf(padding=2)) + 2
    padding -= len(tiny_pdf(padding=padding)) - MAX_PROOF_BYTES  # the startxref offset has more digits
    at_limit = tiny_pdf(padding=padding)
    assert len(at_limit) == MAX_PROOF_BYTES
    assert proof_check(upload("big.pdf", at_limit)) == "pdf"
    error = refused(upload("bigger.pdf", tiny_pdf(padding=padding + 1)))
    assert error.code == "upload_too_large"
    assert "文件超过 10 MB 上限" in error.message


def test_the_size_limit_follows_the_setting(settings):
    settings.RPMS_MAX_PROOF_BYTES = 2 * 1024 * 1024
    error = refused(upload("big.png", PNG + b"\0" * (2 * 1024 * 1024)))
    assert error.code == "upload_too_large" and "2 MB" in error.message


@pytest.mark.parametrize(
    "name,content",
    [
        ("证明.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 200),  # a Windows .exe
        ("证明.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("证明.pdf", b"PK\x03\x04" + b"\0" * 100),  # a zip / docx
        ("scan.jpg", b"GIF89a" + b"\0" * 100),
    ],
)
def test_content_that_is_none_of_the_accepted_kinds_is_refused(name, content):
    error = refused(upload(name, content, content_type="application/pdf"))
    assert error.code == "upload_type_not_allowed"
    assert "PDF、JPEG、PNG" in error.message


@pytest.mark.parametrize(
    "name,content,label",
    [
        ("证书.pdf", PNG, "PNG"),
        ("证书.png", JPEG, "JPEG"),
        ("证书.exe", PDF, "PDF"),
        ("证书.html", JPEG, "JPEG"),
        ("a.pdf.js", PDF, "PDF"),
    ],
)
def test_an_extension_that_disagrees_with_the_content_is_refused(name, content, label):
    error = refused(upload(name, content))
    assert error.code == "upload_type_mismatch"
    assert error.message.startswith("文件内容与扩展名不符") and label in error.message


def test_a_broken_image_behind_a_valid_signature_is_refused():
    error = refused(upload("scan.png", PNG[:40]))
    assert error.code == "upload_corrupt" and "无法打开" in error.message
    assert refused(upload("photo.jpg", b"\xff\xd8\xff\xe0" + b"garbage" * 20)).code == "upload_corrupt"


def test_a_pdf_without_its_end_marker_is_refused():
    error = refused(upload("half.pdf", PDF.replace(b"%%EOF", b"")))
    assert error.code == "upload_corrupt" and "PDF" in error.message


def test_a_pdf_whose_end_marker_is_not_near_the_end_is_refused():
    assert refused(upload("odd.pdf", PDF + b"\0" * 2048)).code == "upload_corrupt"


# --- proof_store -----------------------------------------------------------------------------------


def test_a_stored_proof_gets_a_random_name_under_folder_year_month(private_root):
    stored = proof_store(upload("张三 学历证书.pdf", PDF), folder="applications")
    today = timezone.localdate()
    assert isinstance(stored, StoredProof)
    parts = Path(stored.path).parts
    assert parts[:3] == ("applications", f"{today:%Y}", f"{today:%m}")
    assert len(parts) == 4 and len(parts[3]) == 32 + len(".pdf") and parts[3].endswith(".pdf")
    int(parts[3][:32], 16)  # uuid4 hex
    assert "张三" not in stored.path
    assert stored.original_name == "张三 学历证书.pdf"
    assert stored.kind == "pdf" and stored.content_type == "application/pdf"
    assert stored.size == len(PDF)
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    on_disk = private_root / stored.path
    assert on_disk.read_bytes() == PDF
    assert on_disk.stat().st_mode & 0o007 == 0  # not world-readable


@pytest.mark.parametrize("name,content,ext", [("a.jpeg", JPEG, ".jpg"), ("b.PNG", PNG, ".png"), ("scan", PNG, ".png")])
def test_the_stored_extension_comes_from_the_detected_kind(private_root, name, content, ext):
    stored = proof_store(upload(name, content), folder="proofs")
    assert stored.path.endswith(ext)


def test_two_uploads_of_the_same_name_do_not_collide(private_root):
    first = proof_store(upload("a.pdf", PDF), folder="proofs")
    second = proof_store(upload("a.pdf", PDF), folder="proofs")
    assert first.path != second.path
    assert len(files_under(private_root)) == 2


def test_the_client_name_never_steers_the_path(private_root, tmp_path):
    stored = proof_store(upload("../../../../etc/cron.d/evil.pdf", PDF), folder="proofs")
    assert (private_root / stored.path).resolve().is_relative_to(private_root.resolve())
    assert ".." not in stored.path
    assert stored.original_name == "evil.pdf"
    windows = proof_store(upload("C:\\Users\\张三\\Desktop\\学位证.png", PNG), folder="proofs")
    assert windows.original_name == "学位证.png"


def test_control_characters_are_removed_from_the_kept_name(private_root):
    stored = proof_store(upload("证明\r\n材料\x00.pdf", PDF), folder="proofs")
    assert stored.original_name == "证明材料.pdf"


def test_a_refused_file_writes_nothing(private_root):
    with pytest.raises(DomainError):
        proof_store(upload("x.pdf", b"<html></html>"), folder="proofs")
    assert files_under(private_root) == []


@pytest.mark.parametrize("folder", ["../outside", "/abs", "a/../b", "", "a b", "proofs/.."])
def test_the_folder_must_be_a_plain_relative_path(private_root, folder):
    with pytest.raises(ValueError):
        proof_store(upload("a.pdf", PDF), folder=folder)
    assert files_under(private_root) == []


def test_the_default_private_root_lies_outside_the_web_root():
    from django.conf import settings

    private = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    assert not private.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert not private.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    for static_dir in settings.STATICFILES_DIRS:
        assert not private.is_relative_to(Path(static_dir).resolve())


def test_a_private_root_inside_media_root_is_refused(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "media" / "private"
    with pytest.raises(ImproperlyConfigured):
        proof_store(upload("a.pdf", PDF), folder="proofs")
    assert not (tmp_path / "media").exists()


# --- proof_response --------------------------------------------------------------------------------


def body(response) -> bytes:
    data = b"".join(response.streaming_content)
    response.file_to_stream.close()  # response.close() would fire request_finished (a database hook)
    return data


def test_a_stored_proof_is_served_as_an_attachment_with_its_type(private_root):
    stored = proof_store(upload("scan.png", PNG), folder="proofs")
    response = proof_response(stored.path, download_name="scan.png", reader=None, audit=False)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="scan.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert same_pixels(body(response), PNG)


def test_a_chinese_download_name_uses_rfc_5987(private_root):
    stored = proof_store(upload("学历证书.pdf", PDF), folder="proofs")
    response = proof_response(stored.path, download_name=stored.original_name, reader=None, audit=False)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E5%AD%A6%E5%8E%86%E8%AF%81%E4%B9%A6.pdf"
    assert body(response) == PDF


def test_the_download_name_gets_the_right_extension_and_loses_header_breaking_characters(private_root):
    stored = proof_store(upload("a.jpg", JPEG), folder="proofs")
    response = proof_response(stored.path, download_name='张三"\r\nSet-Cookie: x=1', reader=None, audit=False)
    disposition = response["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.endswith(".jpg")
    assert response["Content-Type"] == "image/jpeg"
    body(response)


@pytest.mark.parametrize(
    "path", ["../secret.pdf", "../../etc/passwd", "/etc/passwd", "proofs/../../secret.pdf", "", ".", "a\x00b"]
)
def test_paths_that_escape_the_private_root_are_not_found(private_root, tmp_path, path):
    private_root.mkdir(parents=True, exist_ok=True)
    (tmp_path / "secret.pdf").write_bytes(PDF)
    with pytest.raises(NotFound):
        proof_response(path, download_name="x.pdf", reader=None, audit=False)


def test_a_symlink_out_of_the_private_root_is_not_followed(private_root, tmp_path):
    (tmp_path / "secret.pdf").write_bytes(PDF)
    (private_root / "proofs").mkdir(parents=True)
    os.symlink(tmp_path / "secret.pdf", private_root / "proofs" / "link.pdf")
    with pytest.raises(NotFound):
        proof_response("proofs/link.pdf", download_name="x.pdf", reader=None, audit=False)


def test_a_missing_file_is_not_found(private_root):
    private_root.mkdir(parents=True)
    with pytest.raises(NotFound) as info:
        proof_response("proofs/2026/01/0123456789abcdef0123456789abcdef.pdf", download_name="x.pdf", reader=None, audit=False)
    assert info.value.status == 404 and "文件不存在" in info.value.message


def test_proof_delete_removes_the_file_and_ignores_paths_outside(private_root, tmp_path):
    stored = proof_store(upload("a.pdf", PDF), folder="proofs")
    outside = tmp_path / "keep.pdf"
    outside.write_bytes(PDF)
    assert proof_delete("../keep.pdf") is False and outside.exists()
    assert proof_delete(stored.path) is True
    assert not (private_root / stored.path).exists()
    assert proof_delete(stored.path) is False


def test_large_uploads_spooled_to_a_temporary_file_are_checked_and_stored(private_root):
    from django.core.files.uploadedfile import TemporaryUploadedFile

    for name, content in [
        ("big.png", image_bytes("PNG", size=(1200, 1200))),
        ("big.pdf", tiny_pdf(padding=3_000_000)),
    ]:
        temporary = TemporaryUploadedFile(name, "application/octet-stream", len(content), None)
        temporary.write(content)
        temporary.seek(0)
        stored = proof_store(temporary, folder="proofs")
        kept = (private_root / stored.path).read_bytes()
        if name.endswith(".pdf"):
            assert kept == content  # a PDF is stored as sent
        else:
            assert same_pixels(kept, content)  # an image is stored re-encoded
        assert stored.sha256 == hashlib.sha256(kept).hexdigest()
        temporary.close()


# --- photos lose their metadata (PIPL art. 28–29) ---------------------------------------------------


def jpeg_with_gps(size=(60, 40), orientation=6) -> bytes:
    """A phone-like JPEG: GPS position (Tiananmen), camera make, time, and an orientation tag."""
    from PIL import ExifTags

    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))  # left half blue: shows the turn
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.DateTime] = "2026:03:02 08:15:00"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 27.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def test_a_jpeg_with_gps_exif_is_stored_without_it_and_upright(private_root):
    from PIL import ExifTags

    content = jpeg_with_gps()
    with Image.open(io.BytesIO(content)) as original:
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture does carry a position
    stored = proof_store(upload("photo.jpg", content), folder="suggestions")
    data = (private_root / stored.path).read_bytes()
    assert b"Exif" not in data and b"PhoneMaker" not in data
    with Image.open(io.BytesIO(data)) as kept:
        assert kept.format == "JPEG"
        assert len(kept.getexif()) == 0 and not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert kept.size == (40, 60)  # orientation 6 applied: the picture is turned upright
        assert kept.getpixel((20, 5))[2] > 150  # the blue half is now on top
    assert stored.kind == "jpeg" and stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_png_text_chunks_are_removed_and_images_without_metadata_are_re_encoded_too(private_root):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "北京市海淀区万寿路 39.9075N 116.3972E")
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(out, "PNG", pnginfo=info)
    stored = proof_store(upload("scan.png", out.getvalue()), folder="proofs")
    data = (private_root / stored.path).read_bytes()
    assert "万寿路".encode() not in data and b"Location" not in data
    with Image.open(io.BytesIO(data)) as kept:
        assert kept.size == (30, 20) and "Location" not in kept.info
    plain = image_bytes("PNG") + b"<html><script>alert(1)</script></html>"  # bytes hidden after the picture
    stored = proof_store(upload("plain.png", plain), folder="proofs")
    kept = (private_root / stored.path).read_bytes()
    assert b"<script" not in kept and same_pixels(kept, image_bytes("PNG"))


# --- delivery by the web server (X-Accel-Redirect) -------------------------------------------------------------


def test_with_x_accel_the_web_server_sends_the_file_and_the_response_has_no_body(private_root, settings):
    settings.RPMS_FILE_DELIVERY = "x-accel"
    stored = proof_store(upload("学历证书.pdf", PDF), folder="proofs")
    response = proof_response(stored.path, download_name=stored.original_name, reader=None, audit=False)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/_private/" + stored.path
    assert response.content == b""
    assert not response.streaming
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E5%AD%A6%E5%8E%86%E8%AF%81%E4%B9%A6.pdf"
    assert response["Cache-Control"] == "private, no-store" and response["X-Content-Type-Options"] == "nosniff"


def test_the_x_accel_prefix_is_a_setting_and_the_path_is_url_quoted(private_root, settings):
    from rpms.core.uploads import xaccel_location

    settings.RPMS_FILE_DELIVERY = "x-accel"
    settings.RPMS_XACCEL_PREFIX = "/internal-files"
    target = private_root / "proofs" / "名 单#1.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes(PDF)
    assert xaccel_location(target) == "/internal-files/proofs/%E5%90%8D%20%E5%8D%95%231.pdf"
    response = proof_response("proofs/名 单#1.pdf", download_name="x.pdf", reader=None, audit=False)
    assert response["X-Accel-Redirect"] == "/internal-files/proofs/%E5%90%8D%20%E5%8D%95%231.pdf"


def test_with_x_accel_paths_outside_the_root_and_missing_files_are_still_not_found(private_root, tmp_path, settings):
    settings.RPMS_FILE_DELIVERY = "x-accel"
    private_root.mkdir(parents=True)
    (tmp_path / "secret.pdf").write_bytes(PDF)
    for path in ("../secret.pdf", "proofs/2026/01/0123456789abcdef0123456789abcdef.pdf"):
        with pytest.raises(NotFound):
            proof_response(path, download_name="x.pdf", reader=None, audit=False)


def test_development_streams_the_file_from_django(private_root, settings):
    assert settings.RPMS_FILE_DELIVERY == "django"
    stored = proof_store(upload("scan.png", PNG), folder="proofs")
    response = proof_response(stored.path, download_name="scan.png", reader=None, audit=False)
    assert not response.has_header("X-Accel-Redirect")
    assert body(response) == (private_root / stored.path).read_bytes()


# --- checked by structure (issue #16 item 7) ------------------------------------------------------------------


def test_a_web_page_between_pdf_markers_is_refused():
    """The file that used to pass: starts with %PDF, ends with %%EOF, holds HTML and script."""
    polyglot = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"
    error = refused(upload("证明.pdf", polyglot))
    assert error.code == "upload_pdf_active_content" and "网页（HTML）" in error.message


@pytest.mark.parametrize("content", [
    b"%PDF-1.4\nnothing here but text\n%%EOF\n",
    b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n",
    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",  # no cross-reference table, no pages
])
def test_a_pdf_that_does_not_parse_as_a_document_is_refused(content):
    error = refused(upload("证明.pdf", content))
    assert error.code == "upload_corrupt" and "不是有效的 PDF" in error.message


@pytest.mark.parametrize("what,content", [
    ("open action", tiny_pdf(catalog_extra="/OpenAction 4 0 R", objects=("<</S/JavaScript/JS(app.alert(1))>>",))),
    ("names tree", tiny_pdf(catalog_extra="/Names<</JavaScript 4 0 R>>", objects=("<</Names[(a) 5 0 R]>>",
                                                                                  "<</S/JavaScript/JS(1)>>"))),
    ("#-escaped names", tiny_pdf(catalog_extra="/OpenAction 4 0 R", objects=("<</S/Java#53cript/J#53(x)>>",))),
    ("page additional action", tiny_pdf(objects=("<</Type/Page/Parent 2 0 R/AA<</O<</S/JavaScript/JS(1)>>>>>>",))),
])
def test_a_pdf_carrying_javascript_is_refused(what, content):
    error = refused(upload("证明.pdf", content))
    assert error.code == "upload_pdf_active_content" and "JavaScript" in error.message, what


@pytest.mark.parametrize("content,label", [
    (tiny_pdf(catalog_extra="/AA<</O<</S/Launch/F(cmd.exe)>>>>"), "启动外部程序"),
    (tiny_pdf(catalog_extra="/AcroForm<</XFA 4 0 R/Fields[]>>", objects=("<<>>",)), "XFA"),
    (tiny_pdf(catalog_extra="/Names<</EmbeddedFiles 4 0 R>>", objects=(
        "<</Names[(page.html) 5 0 R]>>", "<</Type/Filespec/F(page.html)/EF<</F 6 0 R>>>>",
        "<</Type/EmbeddedFile/Subtype/text#2Fhtml/Length 4>>stream\nabcd\nendstream")), "嵌入的文件"),
    (tiny_pdf(objects=("<</Type/Annot/Subtype/RichMedia/Rect[0 0 1 1]>>",)), "RichMedia"),
])
def test_a_pdf_with_launch_actions_xfa_rich_media_or_embedded_files_is_refused(content, label):
    error = refused(upload("证明.pdf", content))
    assert error.code == "upload_pdf_active_content" and label in error.message


def test_an_encrypted_pdf_is_refused():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    error = refused(upload("加密.pdf", out.getvalue()))
    assert error.code == "upload_pdf_encrypted" and "加密" in error.message


def test_valid_pdfs_are_accepted_and_stored_as_sent(private_root):
    from pypdf import PdfWriter

    writer = PdfWriter()  # object streams and compressed cross-reference, as office software writes
    writer.add_blank_page(595, 842)
    writer.add_uri(0, "https://www.example.gov.cn/", [10, 10, 100, 30])  # a plain link is fine
    writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    from rpms.documents.rendering import html_to_pdf

    rendered = html_to_pdf("<html><body><h1>聘任证书</h1><p>责任规划师</p></body></html>")  # WeasyPrint
    for name, content in [("tiny.pdf", PDF), ("writer.pdf", out.getvalue()), ("weasyprint.pdf", rendered)]:
        assert proof_check(upload(name, content)) == "pdf", name
        stored = proof_store(upload(name, content), folder="proofs")
        assert (private_root / stored.path).read_bytes() == content


def test_a_stored_image_is_re_encoded_without_exif_gps_even_when_it_carries_nothing_else(private_root):
    from PIL import ExifTags

    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 27.0)
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 30)).save(out, "JPEG", exif=exif.tobytes(), quality=95)
    content = out.getvalue() + b"<script>alert(1)</script>"  # with bytes appended after the picture
    stored = proof_store(upload("photo.jpg", content), folder="suggestions")
    kept = (private_root / stored.path).read_bytes()
    assert b"Exif" not in kept and b"<script" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == "JPEG" and image.size == (32, 32)
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)


def bomb_png(width: int, height: int) -> bytes:
    """A few kilobytes that decode to width × height pixels."""
    out = io.BytesIO()
    Image.new("1", (width, height), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


def test_a_decompression_bomb_is_refused_before_it_is_decoded(private_root):
    content = bomb_png(10_000, 10_000)  # 100 million pixels in a file of a few tens of kilobytes
    assert len(content) < 200_000
    error = refused(upload("炸弹.png", content))
    assert error.code == "upload_too_large" and "像素" in error.message and "5000 万" in error.message
    with pytest.raises(DomainError):
        proof_store(upload("炸弹.png", content), folder="proofs")
    assert files_under(private_root) == []


def test_the_pixel_limit_follows_the_setting(settings):
    settings.RPMS_MAX_IMAGE_PIXELS = 1_000_000
    assert proof_check(upload("ok.png", bomb_png(1000, 1000))) == "png"
    error = refused(upload("big.png", bomb_png(1001, 1000)))
    assert error.code == "upload_too_large" and "100 万" in error.message
