"""Course materials: PDF documents and MP4 / WebM videos, stored privately and streamed with HTTP Range.

- The type is decided by the file's CONTENT (magic bytes), never by its name or declared type: a PDF
  starts with `%PDF-`, ends with `%%EOF` and parses without script or embedded files (rpms.core.uploads.
  pdf_structure_check); an MP4 is an ISO base-media file (`ftyp` box at byte 4) of
  a video brand; a WebM is an EBML file whose DocType is `webm`. A name whose extension names another
  type is refused as a disguise.
- Size limits: `RPMS_MAX_COURSE_DOCUMENT_BYTES` (default 50 MB) and `RPMS_MAX_COURSE_VIDEO_BYTES`
  (default 500 MB). The web server in front must allow such request bodies for the upload URL
  (e.g. nginx `client_max_body_size 512m` on /training/ and /api/v1/training/).
- Files live under `PRIVATE_MEDIA_ROOT/courses/YYYY/MM/<uuid>.<ext>` (rpms.core.uploads.private_root):
  nothing there is reachable by URL; `ranged_file_response` streams one after the CALLER has checked
  entitlement. It answers `Range: bytes=a-b`, `bytes=a-` and `bytes=-n` with 206 and Content-Range (video
  seeking), an unsatisfiable range with 416, several ranges or a stale `If-Range` with the whole file (200,
  as RFC 9110 allows), and reads the file in chunks (memory does not grow with its size).
- Production sends the file from nginx instead (settings.RPMS_FILE_DELIVERY "x-accel", rpms.core.uploads):
  the same entitlement check in Django, then an empty response with X-Accel-Redirect; nginx answers Range
  (206/416) and If-Range itself, and a 500 MB video holds no Python worker."""
from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse

from rpms.core import clock
from rpms.core.errors import DomainError
from rpms.core.uploads import (
    clean_original_name,
    file_delivery,
    pdf_structure_check,
    private_delivery_response,
    private_file,
    private_root,
    proof_delete,
)

FOLDER = "courses"
CHUNK = 64 * 1024
DEFAULT_MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_VIDEO_BYTES = 500 * 1024 * 1024

FORMATS = {
    "pdf": {"content_type": "application/pdf", "extension": ".pdf", "kind": "document", "label": "PDF"},
    "mp4": {"content_type": "video/mp4", "extension": ".mp4", "kind": "video", "label": "MP4"},
    "webm": {"content_type": "video/webm", "extension": ".webm", "kind": "video", "label": "WebM"},
}
_FORMAT_FOR_EXTENSION = {".pdf": "pdf", ".mp4": "mp4", ".m4v": "mp4", ".webm": "webm"}
# ISO base-media brands of video files that browsers play (QuickTime "qt  " and audio-only "M4A " are not).
MP4_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH",
              b"M4VP", b"dash", b"mp71", b"msnv", b"av01", b"hvc1", b"MSNV"}
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_TYPE_EXTENSION_RE = re.compile(r"\.(?=[a-z0-9]*[a-z])[a-z0-9]{1,8}")
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")

ACCEPTED_TEXT = "只接受 PDF 文档和 MP4、WebM 视频（按文件内容识别）"


def max_bytes(fmt: str) -> int:
    if FORMATS[fmt]["kind"] == "video":
        return int(getattr(settings, "RPMS_MAX_COURSE_VIDEO_BYTES", DEFAULT_MAX_VIDEO_BYTES))
    return int(getattr(settings, "RPMS_MAX_COURSE_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES))


def _size_label(limit: int) -> str:
    mb = limit / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{max(1, limit // 1024)} KB"


def detect(head: bytes) -> str | None:
    """"pdf" | "mp4" | "webm" from the first bytes of a file, or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return "mp4"
    if head.startswith(_EBML_MAGIC):
        # The EBML header carries the DocType ("webm" or "matroska") within its first few dozen bytes.
        doc_type = re.search(rb"\x42\x82[\x80-\xff](webm|matroska)", head[:64])
        if doc_type and doc_type.group(1) == b"webm":
            return "webm"
    return None


def _extension(name: str) -> str:
    suffix = PurePosixPath((name or "").replace("\\", "/")).suffix.lower()
    return suffix if _TYPE_EXTENSION_RE.fullmatch(suffix) else ""


def _file_size(uploaded) -> int:
    size = getattr(uploaded, "size", None)
    if isinstance(size, int):
        return size
    uploaded.seek(0, os.SEEK_END)
    size = uploaded.tell()
    uploaded.seek(0)
    return size


def material_check(uploaded) -> str:
    """The format of an uploaded course material, decided by its content; DomainError (400) otherwise:
    upload_empty, upload_type_not_allowed, upload_type_mismatch, upload_too_large, upload_corrupt."""
    size = _file_size(uploaded)
    if size == 0:
        raise DomainError("上传的文件是空的，请重新选择文件。", code="upload_empty")
    uploaded.seek(0)
    head = uploaded.read(64)
    uploaded.seek(0)
    fmt = detect(head)
    if fmt is None:
        raise DomainError(f"文件类型不受支持：{ACCEPTED_TEXT}。", code="upload_type_not_allowed")
    extension = _extension(getattr(uploaded, "name", "") or "")
    if extension and _FORMAT_FOR_EXTENSION.get(extension) != fmt:
        raise DomainError(
            f"文件内容与扩展名不符：文件内容为 {FORMATS[fmt]['label']}，扩展名却是“{extension}”。", code="upload_type_mismatch"
        )
    limit = max_bytes(fmt)
    if size > limit:
        what = "视频" if FORMATS[fmt]["kind"] == "video" else "文档"
        raise DomainError(f"{what}文件超过 {_size_label(limit)} 上限，请压缩后重新上传。", code="upload_too_large")
    if fmt == "pdf":
        uploaded.seek(max(0, size - 1024))
        tail = uploaded.read(1024)
        uploaded.seek(0)
        if b"%%EOF" not in tail:
            raise DomainError("PDF 文件不完整（缺少文件结束标记），请重新导出后上传。", code="upload_corrupt")
        # Parsed, refused when it carries script, embedded files or HTML (the page shows it in the browser).
        pdf_structure_check(uploaded)
    return fmt


@dataclass(frozen=True)
class StoredMaterial:
    path: str
    original_name: str
    format: str
    size: int
    sha256: str

    @property
    def content_type(self) -> str:
        return FORMATS[self.format]["content_type"]

    @property
    def kind(self) -> str:
        return FORMATS[self.format]["kind"]


def material_store(uploaded) -> StoredMaterial:
    """Checks (`material_check`) and writes the file under PRIVATE_MEDIA_ROOT/courses/YYYY/MM/ with a random
    name (never overwriting, not world-readable)."""
    fmt = material_check(uploaded)
    root = private_root()
    today = clock.today()
    relative = PurePosixPath(FOLDER, f"{today:%Y}", f"{today:%m}", uuid.uuid4().hex + FORMATS[fmt]["extension"])
    target = root.joinpath(*relative.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    uploaded.seek(0)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o640)
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = uploaded.chunks(CHUNK) if hasattr(uploaded, "chunks") else iter(lambda: uploaded.read(CHUNK), b"")
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        uploaded.seek(0)
    name = clean_original_name(getattr(uploaded, "name", ""), None) or "课程材料"
    if not _extension(name):
        name += FORMATS[fmt]["extension"]
    return StoredMaterial(path=str(relative), original_name=name, format=fmt, size=size, sha256=digest.hexdigest())


def _resolve(stored_path: str):
    return private_file(stored_path, missing="文件不存在或您无权查看。")


def material_delete(stored_path: str) -> bool:
    """Removes a stored course file (same storage as rpms.core.uploads)."""
    return proof_delete(stored_path)


UNSATISFIABLE = "unsatisfiable"


def _starts_a_viewing(range_header: str) -> bool:
    header = (range_header or "").strip().replace(" ", "")
    return not header or header.startswith("bytes=0-")


def parse_range(header: str, size: int):
    """(start, end) inclusive for a single `bytes=` range, UNSATISFIABLE, or None (no usable range: serve
    the whole file — including several ranges, other units and malformed headers, as RFC 9110 allows)."""
    match = _RANGE_RE.fullmatch((header or "").strip())
    if not match:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # malformed: ignored
    if start >= size:
        return UNSATISFIABLE
    return start, min(end, size - 1)


def _stream(path, start: int, length: int):
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def _disposition(filename: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_") or "material"
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


# The site's policy forbids framing (frame-ancestors 'none'); a material may be framed by the material page of
# this same site, and nothing else (no `sandbox`: the browser's PDF viewer would refuse to show it).
MATERIAL_CSP = "frame-ancestors 'self'"


def ranged_file_response(request, stored_path: str, *, content_type: str, filename: str, etag: str = "", obj=None):
    """Streams a stored material, honouring a single byte Range (206) for video seeking. The caller MUST
    have checked that the user is entitled to it.

    A private file: its download is audited (GB/T 22239-2019 8.1.4.3), once per viewing — a GET without Range or
    from byte 0 (a player's first request); the seeks that follow (other ranges) and HEAD write nothing."""
    path = _resolve(stored_path)
    if request.method == "GET" and _starts_a_viewing(request.headers.get("Range", "")):
        from rpms.core.audit import ACTION_DOWNLOAD, audit_read

        audit_read(actor=request.user, action=ACTION_DOWNLOAD, obj=obj, summary=f"下载文件：{filename}"[:255],
                   object_type="" if obj is not None else "training.coursematerial",
                   object_id="" if obj is not None else stored_path[-64:],
                   object_repr="" if obj is not None else filename[:255],
                   detail={"file": filename, "path": stored_path})
    if file_delivery() == "x-accel":
        response = private_delivery_response(path, content_type=content_type, disposition=_disposition(filename))
        response["Cache-Control"] = "private, no-cache"
        response["X-Content-Type-Options"] = "nosniff"
        response["X-Frame-Options"] = "SAMEORIGIN"
        response["Content-Security-Policy"] = MATERIAL_CSP
        return response
    size = path.stat().st_size
    byte_range = parse_range(request.headers.get("Range", ""), size)
    if_range = request.headers.get("If-Range", "")
    if byte_range is not None and if_range and etag and if_range.strip() != etag:
        byte_range = None  # the client's copy is stale: send the whole (current) file
    common = {
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
        "Content-Disposition": _disposition(filename),
        # The material page embeds the PDF (<iframe>) from this same site.
        "X-Frame-Options": "SAMEORIGIN",
        "Content-Security-Policy": MATERIAL_CSP,
    }
    if etag:
        common["ETag"] = etag
    if byte_range == UNSATISFIABLE:
        response = HttpResponse(status=416, content_type="text/plain; charset=utf-8")
        response["Content-Range"] = f"bytes */{size}"
        for key, value in common.items():
            response[key] = value
        return response
    if byte_range is None:
        start, end, status = 0, size - 1, 200
    else:
        (start, end), status = byte_range, 206
    length = max(0, end - start + 1)
    body = iter(()) if request.method == "HEAD" else _stream(path, start, length)
    response = StreamingHttpResponse(body, status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    for key, value in common.items():
        response[key] = value
    return response
