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
- Images lose their metadata on the way in (PIPL art. 28–29): a JPEG or PNG carrying EXIF (GPS position,
  camera, time), XMP, IPTC, comments or text chunks is re-encoded by Pillow without them, turned upright
  first by its EXIF orientation; an image without any is stored byte for byte. Every upload through
  `proof_store` (residents' suggestion photos, planners' case photos, duty records, proofs) gets this.
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


def _image_verify(uploaded_file, kind: str) -> None:
    from PIL import Image

    uploaded_file.seek(0)
    try:
        with Image.open(uploaded_file) as image:
            fmt = image.format
            image.verify()
    except Image.DecompressionBombError as exc:
        raise DomainError("图片像素尺寸过大，请缩小后重新上传。", code="upload_too_large") from exc
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


def proof_check(uploaded_file) -> str:
    """The kind of an uploaded proof ("pdf" | "jpeg" | "png"), decided by its content.

    Refuses with DomainError (400): `upload_empty`, `upload_too_large`, `upload_type_not_allowed`
    (content is none of the three kinds, e.g. an .exe or HTML page renamed .pdf), `upload_type_mismatch`
    (the name's extension names another type than the content), `upload_corrupt` (an image Pillow
    cannot verify, a PDF without its `%%EOF` trailer). Leaves the file positioned at 0.
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


# Image information that says nothing about the person or the place (format and colour details).
_HARMLESS_INFO = {
    "jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "progressive", "progression", "adobe",
    "adobe_transform", "icc_profile", "gamma", "transparency", "srgb", "chromaticity", "interlace", "aspect",
    "mp", "mpoffset",
}
# JPEG segments kept: APP0 (JFIF), APP2 (ICC colour profile, MPF), APP14 (Adobe colour transform).
_HARMLESS_SEGMENTS = {"APP0", "APP2", "APP14"}


def _carries_metadata(image) -> bool:
    if len(image.getexif()):
        return True
    if any(key not in _HARMLESS_INFO for key in image.info):
        return True
    return any(marker not in _HARMLESS_SEGMENTS for marker, _ in getattr(image, "applist", []))


def image_without_metadata(uploaded_file, kind: str) -> bytes | None:
    """The image re-encoded without EXIF/XMP/IPTC/comments/text chunks and turned upright by its EXIF
    orientation, or None when it carries none (then it is kept byte for byte). Leaves the file at 0."""
    from PIL import Image, ImageOps

    uploaded_file.seek(0)
    try:
        with Image.open(uploaded_file) as image:
            if not _carries_metadata(image):
                return None
            icc_profile = image.info.get("icc_profile")
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            if kind == "png":
                upright.save(out, "PNG", optimize=True, **({"icc_profile": icc_profile} if icc_profile else {}))
            else:
                if upright.mode not in ("RGB", "L", "CMYK"):
                    upright = upright.convert("RGB")
                upright.save(out, "JPEG", quality=92, optimize=True,
                             **({"icc_profile": icc_profile} if icc_profile else {}))
            return out.getvalue()
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
        cleaned = image_without_metadata(uploaded_file, kind)
        if cleaned is not None:
            source = io.BytesIO(cleaned)
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
