"""Excel (.xlsx) exports shared by every context.

`workbook_response` streams rows into a write-only workbook, so an export's memory does not grow
with the number of rows, and returns it as a download with a Chinese file name."""
import datetime
import decimal
from collections.abc import Iterable, Sequence
from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetml.sheet"

# Characters Excel refuses in sheet titles; titles are also limited to 31 characters.
_SHEET_TITLE_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
# A text cell starting with one of these would be read as a formula by Excel (formula injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1A4480")
_HEADER_ALIGN = Alignment(vertical="center", wrap_text=True)


def cell_value(value):
    """A value openpyxl can store safely: local naive datetimes, text for containers, no formulas."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)  # Excel has no time zones: show the local (Asia/Shanghai) time
        return value.replace(tzinfo=None)
    if isinstance(value, (datetime.date, datetime.time, int, float, decimal.Decimal)):
        return value
    if isinstance(value, (list, tuple, set)):
        value = "、".join(str(cell_value(v)) for v in value)
    value = str(value)
    if value.startswith(_FORMULA_PREFIXES):
        value = "'" + value
    return value


def _column_width(header: str) -> int:
    # CJK characters are roughly two Latin characters wide.
    width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in header)
    return max(10, min(60, width + 4))


def workbook_bytes(sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence], *, widths: Sequence[int] | None = None) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(sheet_title or "Sheet1").translate(_SHEET_TITLE_FORBIDDEN)[:31])
    for index, header in enumerate(headers, start=1):
        width = widths[index - 1] if widths and index <= len(widths) else _column_width(str(header))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=str(header))
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _HEADER_ALIGN
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([cell_value(v) for v in row])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def workbook_response(filename: str, sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence], *, widths: Sequence[int] | None = None) -> HttpResponse:
    """An .xlsx download: one sheet, a styled header row, then `rows` (iterables of cell values).

    `filename` may be Chinese; ".xlsx" is added if missing. Aware datetimes are written in local time.
    """
    if not filename.lower().endswith(".xlsx"):
        filename += ".xlsx"
    response = HttpResponse(workbook_bytes(sheet_title, headers, rows, widths=widths), content_type=XLSX_CONTENT_TYPE)
    ascii_fallback = filename.encode("ascii", "ignore").decode() or "export.xlsx"
    if ascii_fallback.startswith("."):
        ascii_fallback = "export" + ascii_fallback
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response
