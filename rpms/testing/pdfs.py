"""Tiny but complete PDF documents for tests and demo data: one blank page, a cross-reference table with
true offsets, a trailer — what rpms.core.uploads.pdf_structure_check (pypdf) accepts. `extra` objects may be
added to the catalogue to build hostile files (e.g. `/OpenAction 4 0 R` with a JavaScript action)."""
from __future__ import annotations


def tiny_pdf(note: str = "", *, catalog_extra: str = "", objects: tuple[str, ...] = (), padding: int = 0) -> bytes:
    """A one-page PDF. `note` becomes a comment line (e.g. "DEMO: proof of qualification (fictional)");
    `catalog_extra` is appended inside the catalogue dictionary; `objects` are further objects numbered 4, 5, …;
    `padding` adds that many bytes of comment before the cross-reference table (to reach a given size)."""
    bodies = [
        f"<</Type/Catalog/Pages 2 0 R{catalog_extra}>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
        *objects,
    ]
    out = bytearray(b"%PDF-1.4\n")
    if note:
        out += f"% {note}\n".encode()
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    if padding:
        out += b"%" + b"0" * max(0, padding - 2) + b"\n"
    xref = len(out)
    out += f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<</Size {len(bodies) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


TINY_PDF = tiny_pdf()
