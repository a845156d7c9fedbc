"""Proof documents (证明材料): PDF, JPEG or PNG files uploaded with an application.

- The type is decided by the file's CONTENT (magic bytes, then Pillow for images and the `%%EOF`
  trailer for PDFs), never by its name or the browser's declared content type; a name whose
  extension names another type is refused as a disguise.
- Files are written under `settings.PRIVATE_MEDIA_ROOT` (default `var/private`), which must not lie
  under `MEDIA_ROOT` or `STATIC_ROOT`: nothing there is reachable by URL. The stored name is random
  (uuid4); the client's name is kept only as data (`StoredProof.original_name`).
- `proof_response` answers a stored file as a download. **Entitlement is the caller's job**: the
  view or API endpoint must first establish that the requesting user may see the record the proof
  belongs to (and answer 404 otherwise), then call `proof_response` with the stored path.
- Who sends the bytes is `settings.RPMS_FILE_DELIVERY`: "django" (development) streams the file from
  Python (`FileResponse`); "x-accel" (production) answers an empty response carrying
  `X-Accel-Redirect: <RPMS_XACCEL_PREFIX><path under PRIVATE_MEDIA_ROOT>` (prefix default "/_private/",
  the path URL-quoted) with the same Content-Type and Content-Disposition, and nginx sends the file
  from its internal location (`location /_private/ { internal; alias <PRIVATE_MEDIA_ROOT>/; }`), so
  no worker is held by a download. `private_delivery_response` does this for any private file.
- Images are decoded and re-encoded by Pillow on the way in (PIPL art. 28–29; issue #16 item 7): the stored
  file holds the pixels only — no EXIF (GPS position, camera, time), XMP, IPTC, comments, text chunks or
  anything appended — turned upright first by its EXIF orientation. An image over RPMS_MAX_IMAGE_PIXELS
  (50 million) is refused before it is decoded (decompression bombs). Every upload through `proof_store`
  (residents' suggestion photos, planners' case photos, duty records, proofs) gets this.
- PDFs are parsed by pypdf (`pdf_structure_check`): a file that does not parse as a document with pages (an HTML
  page between `%PDF-` and `%%EOF`), an encrypted one, or one carrying JavaScript, launch actions, RichMedia,
  XFA forms, embedded files or HTML is refused.
- The module holds no model: the caller keeps `path`, `original_name`, `kind`, `size` and `sha256`
  in its own table. If the caller's transaction fails after `proof_store`, it should call
  `proof_delete(stored.path)` so no orphan file stays behind (an orphan is unreachable anyway).

The web server in front should also cap request bodies (e.g. nginx `client_max_body_size 12m`).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

from . import clock
from .errors import DomainError, NotFound

MAX_PROOF_BYTES = 10 * 1024 * 1024
# Images larger than this many pixels are refused before they are decoded (a decompression bomb: a small file
# that unpacks to gigabytes). 50 million covers a 48-megapixel phone photo; settings.RPMS_MAX_IMAGE_PIXELS.
MAX_IMAGE_PIXELS = 50_000_000

KINDS = ("pdf", "jpeg", "png")
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSION_FOR_KIND = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png"}
KIND_LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}
# Extensions that name one of the accepted kinds; any other extension disagrees with the content.
_KIND_FOR_EXTENSION = {
    ".pdf": "pdf",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".jfif": "jpeg",
    ".png": "png",
}
_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)
# Phones often write JPEGs that Pillow reads as MPO (a JPEG with extra pictures appended).
_PILLOW_FORMATS = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}}
_PDF_TRAILER_WINDOW = 1024
_FOLDER_RE = re.compile(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*")
_CHUNK = 64 * 1024
_TYPE_EXTENSION_RE = re.compile(r"\.(?=[a-z0-9]*[a-z])[a-z0-9]{1,8}")


@dataclass(frozen=True)
class StoredProof:
    path: str  # relative to PRIVATE_MEDIA_ROOT, POSIX separators, e.g. "applications/2026/03/<hex>.pdf"
    original_name: str
    kind: str  # "pdf" | "jpeg" | "png"
    size: int
    sha256: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def max_proof_bytes() -> int:
    return int(getattr(settings, "RPMS_MAX_PROOF_BYTES", MAX_PROOF_BYTES))


def _size_label(limit: int) -> str:
    mb = limit / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{max(1, limit // 1024)} KB"


def private_root() -> Path:
    """PRIVATE_MEDIA_ROOT, resolved; refuses a configuration that would put proofs in the web root."""
    root = Path(getattr(settings, "PRIVATE_MEDIA_ROOT", Path(settings.BASE_DIR) / "var" / "private")).resolve()
    for name in ("MEDIA_ROOT", "STATIC_ROOT"):
        public = getattr(settings, name, None)
        if public and root.is_relative_to(Path(public).resolve()):
            raise ImproperlyConfigured(f"PRIVATE_MEDIA_ROOT ({root}) must not lie under {name} ({public}).")
    return root


def _file_size(uploaded_file) -> int:
    uploaded_file.seek(0, os.SEEK_END)
    size = uploaded_file.tell()
    uploaded_file.seek(0)
    return size


def _detect(head: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _extension(name: str) -> str:
    """The name's file-type extension (".pdf"), or "" when the name has none: "v1.2" or "张三.身份证"
    end in a dot-part that is no file type, so they are judged by content alone."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    return suffix if _TYPE_EXTENSION_RE.fullmatch(suffix) else ""


def max_image_pixels() -> int:
    return int(getattr(settings, "RPMS_MAX_IMAGE_PIXELS", MAX_IMAGE_PIXELS))


def _too_many_pixels(limit: int) -> DomainError:
    return DomainError(
        f"图片像素尺寸过大（超过 {limit / 10_000:g} 万像素），请缩小后重新上传。", code="upload_too_large"
    )


def _image_verify(uploaded_file, kind: str) -> None:
    """The image's header names an accepted format and a size within the pixel limit (read from the header,
    before anything is decoded: a decompression bomb is refused without being unpacked), and its data verifies."""
    from PIL import Image

    limit = max_image_pixels()
    uploaded_file.seek(0)
    try:
        with Image.open(uploaded_file) as image:
            fmt = image.format
            width, height = image.size
            if width * height > limit:
                raise _too_many_pixels(limit)
            image.verify()
    except DomainError:
        raise
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(limit) from exc
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for broken or hostile files
        raise DomainError("图片文件已损坏或不完整，无法打开，请重新扫描或拍照后上传。", code="upload_corrupt") from exc
    finally:
        uploaded_file.seek(0)
    if (fmt or "").upper() not in _PILLOW_FORMATS[kind]:
        raise DomainError(
            "文件类型不受支持：只接受 PDF、JPEG、PNG 格式（按文件内容识别）。", code="upload_type_not_allowed"
        )


def _pdf_verify(uploaded_file, size: int) -> None:
    uploaded_file.seek(max(0, size - _PDF_TRAILER_WINDOW))
    tail = uploaded_file.read(_PDF_TRAILER_WINDOW)
    uploaded_file.seek(0)
    if b"%%EOF" not in tail:
        raise DomainError("PDF 文件不完整（缺少文件结束标记），请重新导出后上传。", code="upload_corrupt")
    pdf_structure_check(uploaded_file)


# --- PDFs checked by structure (issue #16 item 7) --------------------------------------------------------------
# Keys whose presence anywhere in a PDF means script, an action that runs or fetches something, or a file
# carried inside: JavaScript (/JS, /JavaScript), Launch, RichMedia (Flash/3D), XFA forms, embedded files.
_PDF_ACTIVE_KEYS = {
    "/JS": "JavaScript 脚本",
    "/JavaScript": "JavaScript 脚本",
    "/Launch": "启动外部程序的动作",
    "/RichMedia": "富媒体（RichMedia）内容",
    "/RichMediaContent": "富媒体（RichMedia）内容",
    "/XFA": "XFA 动态表单",
    "/EmbeddedFiles": "嵌入的文件",
    "/EmbeddedFile": "嵌入的文件",
}
# Action types (/S) and object types (/Type, /Subtype) refused wherever they appear (/OpenAction, /AA, links).
_PDF_ACTIVE_NAMES = {
    "/JavaScript": "JavaScript 脚本",
    "/Launch": "启动外部程序的动作",
    "/ImportData": "导入数据的动作",
    "/SubmitForm": "提交表单的动作",
    "/RichMediaExecute": "富媒体（RichMedia）内容",
    "/RichMedia": "富媒体（RichMedia）内容",
    "/GoToE": "打开嵌入文件的动作",
    "/EmbeddedFile": "嵌入的文件",
    "/FileAttachment": "嵌入的文件（附件注释）",
    "/Filespec": "嵌入或引用的文件",
}
# HTML in the file's bytes (a web page dressed as a PDF): refused even when the rest parses.
_PDF_HTML_RE = re.compile(rb"<\s*(?:script|html|body|iframe|svg|!doctype\s+html)[\s>/]", re.IGNORECASE)
_PDF_MAX_OBJECTS = 200_000


def _pdf_refused(what: str) -> DomainError:
    return DomainError(
        f"PDF 文件含有{what}，出于安全原因不予接收。请使用“打印为 PDF”或扫描件重新生成后上传。",
        code="upload_pdf_active_content",
    )


def _pdf_walk(value, seen: set[int]) -> None:
    """Looks through one object's direct content (dictionaries, arrays, stream dictionaries) for active content.
    Indirect references are not followed: every indirect object is visited on its own."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, DictionaryObject):
            if id(item) in seen:
                continue
            seen.add(id(item))
            for key, child in item.items():
                if key in _PDF_ACTIVE_KEYS:
                    raise _pdf_refused(_PDF_ACTIVE_KEYS[key])
                if key in ("/S", "/Type", "/Subtype") and isinstance(child, NameObject) and child in _PDF_ACTIVE_NAMES:
                    raise _pdf_refused(_PDF_ACTIVE_NAMES[child])
                if isinstance(child, (DictionaryObject, ArrayObject)):
                    stack.append(child)
        elif isinstance(item, ArrayObject):
            stack.extend(child for child in item if isinstance(child, (DictionaryObject, ArrayObject)))


def pdf_structure_check(uploaded_file) -> None:
    """Parses a PDF (pypdf) and refuses it (DomainError 400) when it does not parse as a document with at least one
    page (`upload_corrupt`: e.g. an HTML page between `%PDF-` and `%%EOF`), is encrypted (`upload_pdf_encrypted`),
    or carries active content or files (`upload_pdf_active_content`): JavaScript (/JS, /JavaScript — in
    /OpenAction, /AA or anywhere), Launch / ImportData / SubmitForm actions, RichMedia, XFA forms, embedded files
    and file attachments, or HTML markup in its bytes. Every indirect object is read (object streams included),
    so names written with #-escapes are caught too. Leaves the file at 0."""
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    uploaded_file.seek(0)
    data = uploaded_file.read()
    uploaded_file.seek(0)
    if _PDF_HTML_RE.search(data):
        raise _pdf_refused("网页（HTML）代码")
    corrupt = DomainError("PDF 文件已损坏或不是有效的 PDF 文档，无法打开，请重新导出或扫描后上传。", code="upload_corrupt")
    pypdf_logger = logging.getLogger("pypdf")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DomainError("PDF 文件已加密或设有打开密码，无法检查其内容，请去除密码后重新上传。",
                              code="upload_pdf_encrypted")
        seen: set[int] = set()
        _pdf_walk(reader.trailer, seen)
        numbers = [(num, gen) for gen, entries in reader.xref.items() for num in entries]
        numbers += [(num, 0) for num in reader.xref_objStm]
        if len(numbers) > _PDF_MAX_OBJECTS:
            raise DomainError("PDF 文件结构过于复杂（对象过多），请重新导出后上传。", code="upload_corrupt")
        from pypdf.generic import IndirectObject

        for num, gen in numbers:
            _pdf_walk(reader.get_object(IndirectObject(num, gen, reader)), seen)
        if len(reader.pages) < 1:
            raise corrupt
    except DomainError:
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError, AssertionError,
            RecursionError, OSError, OverflowError, UnicodeError, MemoryError) as exc:
        pypdf_logger.debug("PDF refused: %r", exc)
        raise corrupt from exc
    finally:
        uploaded_file.seek(0)


def proof_check(uploaded_file) -> str:
    """The kind of an uploaded proof ("pdf" | "jpeg" | "png"), decided by its content.

    Refuses with DomainError (400): `upload_empty`, `upload_too_large`, `upload_type_not_allowed`
    (content is none of the three kinds, e.g. an .exe or HTML page renamed .pdf), `upload_type_mismatch`
    (the name's extension names another type than the content), `upload_corrupt` (an image Pillow
    cannot verify, a PDF without its `%%EOF` trailer or that pypdf cannot read as a document with pages),
    `upload_pdf_encrypted`, `upload_pdf_active_content` (pdf_structure_check), `upload_too_large` also for an
    image over the pixel limit. Leaves the file positioned at 0.
    """
    size = _file_size(uploaded_file)
    if size == 0:
        raise DomainError("上传的文件是空的，请重新选择文件。", code="upload_empty")
    limit = max_proof_bytes()
    if size > limit:
        raise DomainError(f"文件超过 {_size_label(limit)} 上限，请压缩后重新上传。", code="upload_too_large")
    head = uploaded_file.read(16)
    uploaded_file.seek(0)
    kind = _detect(head)
    if kind is None:
        raise DomainError(
            "文件类型不受支持：只接受 PDF、JPEG、PNG 格式（按文件内容识别）。", code="upload_type_not_allowed"
        )
    extension = _extension(getattr(uploaded_file, "name", "") or "")
    if extension and _KIND_FOR_EXTENSION.get(extension) != kind:
        raise DomainError(
            f"文件内容与扩展名不符：文件内容为 {KIND_LABELS[kind]}，扩展名却是“{extension}”。",
            code="upload_type_mismatch",
        )
    if kind == "pdf":
        _pdf_verify(uploaded_file, size)
    else:
        _image_verify(uploaded_file, kind)
    return kind


def clean_original_name(name: str, kind: str | None = None) -> str:
    """The client's file name as safe data: last path component only, no control characters,
    at most 200 characters (the extension kept)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:200]
    if not name:
        name = "证明材料" + (EXTENSION_FOR_KIND[kind] if kind else "")
    return name


def _folder_path(folder: str) -> str:
    folder = (folder or "").rstrip("/")
    if not _FOLDER_RE.fullmatch(folder):
        raise ValueError(f"folder must be a relative path of [A-Za-z0-9_-] segments, got {folder!r}")
    return folder


def image_reencoded(uploaded_file, kind: str) -> bytes:
    """The image decoded and encoded anew by Pillow, in its own format (JPEG quality 92, PNG lossless), turned
    upright by its EXIF orientation: only the pixels (and the ICC colour profile) survive — no EXIF (GPS position,
    camera, time), XMP, IPTC, comments, text chunks or bytes hidden after the picture. Leaves the file at 0;
    DomainError (400) when it cannot be decoded or is over the pixel limit."""
    from PIL import Image, ImageOps

    limit = max_image_pixels()
    uploaded_file.seek(0)
    try:
        with Image.open(uploaded_file) as image:
            if image.size[0] * image.size[1] > limit:
                raise _too_many_pixels(limit)
            icc_profile = image.info.get("icc_profile")
            upright = ImageOps.exif_transpose(image)
            upright.load()
            extra = {"icc_profile": icc_profile} if icc_profile else {}
            out = io.BytesIO()
            if kind == "png":
                upright.save(out, "PNG", **extra)
            else:
                if upright.mode not in ("RGB", "L", "CMYK"):
                    upright = upright.convert("RGB")
                upright.save(out, "JPEG", quality=92, optimize=True, **extra)
            return out.getvalue()
    except DomainError:
        raise
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(limit) from exc
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for broken or hostile files
        raise DomainError("图片文件已损坏或不完整，无法打开，请重新扫描或拍照后上传。", code="upload_corrupt") from exc
    finally:
        uploaded_file.seek(0)


def proof_store(uploaded_file, *, folder: str) -> StoredProof:
    """Checks the file (`proof_check`) and writes it under PRIVATE_MEDIA_ROOT/folder/YYYY/MM/ with a
    random name; returns what the caller records. `folder` is the caller's constant, e.g. "applications"."""
    folder = _folder_path(folder)
    root = private_root()
    kind = proof_check(uploaded_file)
    source = uploaded_file
    if kind in ("jpeg", "png"):
        source = io.BytesIO(image_reencoded(uploaded_file, kind))
    today = clock.today()
    relative = PurePosixPath(folder, f"{today:%Y}", f"{today:%m}", uuid.uuid4().hex + EXTENSION_FOR_KIND[kind])
    target = root.joinpath(*relative.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    source.seek(0)
    # O_EXCL: never overwrite; 0o640: not world-readable.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o640)
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = (
                source.chunks(_CHUNK)
                if hasattr(source, "chunks")
                else iter(lambda: source.read(_CHUNK), b"")
            )
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        uploaded_file.seek(0)
    return StoredProof(
        path=str(relative),
        original_name=clean_original_name(getattr(uploaded_file, "name", ""), kind),
        kind=kind,
        size=size,
        sha256=digest.hexdigest(),
    )


def private_file(stored_path: str, *, missing: str = "文件不存在或您无权下载。") -> Path:
    """The absolute file for a path stored under PRIVATE_MEDIA_ROOT, or NotFound(`missing`) if it escapes
    the root or is missing. Every private download and deletion resolves its file here."""
    root = private_root()
    try:
        if not stored_path or "\x00" in stored_path:
            raise ValueError
        candidate = (root / stored_path).resolve()
    except (ValueError, OSError, TypeError):
        raise NotFound(missing) from None
    if candidate == root or not candidate.is_relative_to(root) or not candidate.is_file():
        raise NotFound(missing)
    return candidate




def proof_delete(stored_path: str) -> bool:
    """Removes a stored proof (e.g. after the caller's transaction failed). True if a file was removed."""
    try:
        path = private_file(stored_path)
    except NotFound:
        return False
    path.unlink(missing_ok=True)
    return True


def file_delivery() -> str:
    """"x-accel" when the web server sends private files (X-Accel-Redirect), else "django"."""
    return "x-accel" if str(getattr(settings, "RPMS_FILE_DELIVERY", "django")).strip().lower() == "x-accel" else "django"


def xaccel_location(path: Path) -> str:
    """The internal URI nginx maps to `path`: RPMS_XACCEL_PREFIX + its URL-quoted path under PRIVATE_MEDIA_ROOT."""
    relative = path.resolve().relative_to(private_root()).as_posix()
    prefix = "/" + str(getattr(settings, "RPMS_XACCEL_PREFIX", "/_private/")).strip("/") + "/"
    return prefix + quote(relative, safe="/")


def private_delivery_response(path: Path, *, content_type: str, disposition: str) -> HttpResponse:
    """An empty response that has nginx send the private file `path` (already resolved by `private_file`, the
    caller having checked entitlement): X-Accel-Redirect, Content-Type and Content-Disposition. nginx keeps
    Content-Type, Content-Disposition and Cache-Control of this response, and serves Range itself."""
    response = HttpResponse(b"", content_type=content_type)
    response["X-Accel-Redirect"] = xaccel_location(path)
    response["Content-Disposition"] = disposition
    return response


def proof_response(stored_path: str, *, download_name: str, reader, obj=None, audit: bool = True) -> HttpResponse:
    """Answers a stored proof as an attachment. The caller MUST have checked entitlement first.

    Every download of a private file is audited (GB/T 22239-2019 8.1.4.3): one row, in a transaction of its own,
    naming `reader` (the requesting user), the record `obj` the file belongs to, and the file. `audit=False`
    only for a file the public may read anyway (a published announcement's attachment, a published case's
    photo) or a download whose service already wrote its own row.

    Content-Type comes from the file's content; the download name is cleaned and given the right
    extension; `Content-Disposition` uses RFC 5987 (`filename*=utf-8''…`) for non-ASCII names.
    A path that escapes PRIVATE_MEDIA_ROOT, or a missing file, is NotFound (404). The bytes come from
    Python (`FileResponse`) or from nginx (X-Accel-Redirect), per RPMS_FILE_DELIVERY.
    """
    path = private_file(stored_path)
    with path.open("rb") as probe:
        kind = _detect(probe.read(16))
    name = clean_original_name(download_name, kind)
    if kind and _KIND_FOR_EXTENSION.get(_extension(name)) != kind:
        name += EXTENSION_FOR_KIND[kind]
    if audit:
        from .audit import ACTION_DOWNLOAD, audit_read

        audit_read(actor=reader, action=ACTION_DOWNLOAD, obj=obj, summary=f"下载文件：{name}"[:255],
                   object_type="" if obj is not None else "core.privatefile",
                   object_id="" if obj is not None else stored_path[-64:],
                   object_repr="" if obj is not None else name[:255],
                   detail={"file": name, "path": stored_path})
    content_type = CONTENT_TYPES.get(kind, "application/octet-stream")
    if file_delivery() == "x-accel":
        response = private_delivery_response(path, content_type=content_type,
                                             disposition=content_disposition_header(True, name))
    else:
        response = FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
