"""Importing rows from an uploaded Excel (.xlsx) file, shared by every bulk import (the roster import
of rpms.registry, the import of running appointments of rpms.appointments).

- `Column` — one column of a template: key, Chinese header, aliases users type, help text, width.
- `spreadsheet_read(file, columns=, sheet_title=, …)` — the rows of an upload as
  (Excel row number, {column key: text}), or DomainError (400/413) with a Chinese message for a bad
  file: empty, too large, old .xls, not a zip, a zip bomb, missing or repeated headers, no data rows,
  too many rows. Nothing is saved.
- `errors_finish(errors, columns=)` — errors sorted by row and column order, capped at MAX_STORED_ERRORS.
- `error_label`, `ERROR_HEADERS`, `import_error_rows` — errors as shown and downloaded.
- `import_start_check`, `import_progress`, `import_report_base` — the life of an import in steps
  (`rpms.core.models.SpreadsheetImport`): 全部导入 refused while the file has errors, 只导入无误的行,
  progress as JSON.
- `import_job_enqueue`, `import_job_steps` — the steps of an import under way run as one background job
  (rpms.core.jobs) with its progress: the API's "run" always, the pages when jobs are queued (production);
  without a worker (development) the page's script runs the steps one request each."""
from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

from .errors import Conflict, DomainError
from .jobs import enqueue, job_active_for, job_create, job_progress
from .models import BackgroundJob, ImportStatus

MAX_UNZIPPED_BYTES = 300 * 1024 * 1024  # a 10 MB .xlsx of 20,000 rows unpacks to far less; guards zip bombs
MAX_STORED_ERRORS = 100_000  # a file wrong in every cell would otherwise store one message per cell
ERRORS_SHOWN = 500  # on a report page; the Excel download has them all

EMPTY_WORDS = {"无", "没有", "/", "-", "—", "暂无"}
_SPLIT = re.compile(r"[、,，;；/\n\r]+")
_HEADER_NOISE = re.compile(r"[\s*＊]|（必填）|\(必填\)|（选填）|\(选填\)")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    multiple: bool = False
    help: str = ""
    aliases: tuple[str, ...] = ()
    width: int = 16


def fold(value) -> str:
    """Full-width letters and digits folded to ASCII (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def header_key(text: str) -> str:
    return _HEADER_NOISE.sub("", fold(text or ""))


def header_lookup(columns) -> dict[str, str]:
    """{folded header or alias: column key}."""
    lookup = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            lookup[header_key(name)] = column.key
    return lookup


def split_values(text: str) -> list[str]:
    """A cell listing several values ("城乡规划、城市设计"), folded, without empties and "无"."""
    values = [fold(v) for v in _SPLIT.split(text or "")]
    return list(dict.fromkeys(v for v in values if v and v not in EMPTY_WORDS))


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "isoformat"):
        if hasattr(value, "hour") and not (value.hour or value.minute or value.second):
            value = value.date()  # Excel stores a date cell as a datetime at midnight
        return value.isoformat()
    return str(value).strip()


def bad_file(message: str, code: str, status: int = 400) -> DomainError:
    return DomainError(message, code=code, status=status)


def file_size(uploaded_file) -> int:
    size = getattr(uploaded_file, "size", None)
    if size is None:
        uploaded_file.seek(0, 2)
        size = uploaded_file.tell()
    uploaded_file.seek(0)
    return int(size)


def clean_file_name(uploaded_file, file_name: str, default: str) -> str:
    name = (file_name or getattr(uploaded_file, "name", "") or default).replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")[:200]


@dataclass
class SpreadsheetFile:
    file_name: str
    size: int
    sha256: str
    rows: list[tuple[int, dict]]  # (Excel row number, {column key: raw value})
    numeric_cells: set[tuple[int, str]] = field(default_factory=set)  # cells Excel stored as numbers
    ignored_headers: list[str] = field(default_factory=list)


def spreadsheet_read(uploaded_file, *, columns, sheet_title: str, max_rows: int, max_file_bytes: int,
                     file_name: str = "", default_name: str = "名册.xlsx", numeric_keys=(),
                     file_noun: str = "名册", row_noun: str = "责任规划师",
                     max_unzipped_bytes: int = MAX_UNZIPPED_BYTES) -> SpreadsheetFile:
    """The rows of an uploaded .xlsx (the sheet `sheet_title`, else the first), or DomainError with a
    Chinese message. `numeric_keys`: columns that must be text (ID numbers, mobiles) — cells Excel
    stored as numbers there are listed in `numeric_cells`, so that the error can say why."""
    from openpyxl import load_workbook

    by_key = {c.key: c for c in columns}
    lookup = header_lookup(columns)
    file_name = clean_file_name(uploaded_file, file_name, default_name)
    size = file_size(uploaded_file)
    if size == 0:
        raise bad_file(f"上传的文件是空的，请选择填写好的{file_noun}文件。", "import_file_empty")
    if size > max_file_bytes:
        raise bad_file(f"文件超过 {max_file_bytes // (1024 * 1024)} MB 上限，请分成几个文件分别导入。", "import_file_too_large", 413)
    head = uploaded_file.read(8)
    uploaded_file.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise bad_file("这是旧版 Excel（.xls）文件，请在 Excel 中“另存为”.xlsx 格式后再上传。", "import_not_xlsx")
    if not head.startswith(b"PK\x03\x04"):
        raise bad_file("文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传。", "import_not_xlsx")
    digest = hashlib.sha256()
    for chunk in (uploaded_file.chunks() if hasattr(uploaded_file, "chunks") else [uploaded_file.read()]):
        digest.update(chunk)
    uploaded_file.seek(0)
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise bad_file("文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传。", "import_not_xlsx") from None
    uploaded_file.seek(0)
    if "xl/workbook.xml" not in names:
        raise bad_file("文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传。", "import_not_xlsx")
    if unpacked > max_unzipped_bytes:
        raise bad_file("文件内容过大，请分成几个文件分别导入。", "import_file_too_large", 413)
    try:
        workbook = load_workbook(uploaded_file, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many types for broken or hostile files
        raise bad_file("无法读取该 Excel 文件（文件可能已损坏或加密），请另存为 .xlsx 后重新上传。", "import_not_xlsx") from None
    try:
        sheet = workbook[sheet_title] if sheet_title in workbook.sheetnames else workbook.worksheets[0]
        rows_iter = sheet.iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None or all(v in (None, "") for v in header):
            raise bad_file("文件是空的：第一行应为列名。请使用下载的模板填写。", "import_file_empty")
        positions: dict[str, int] = {}
        ignored = []
        for index, value in enumerate(header):
            text = cell_text(value)
            if not text:
                continue
            key = lookup.get(header_key(text))
            if key is None:
                ignored.append(text)
            elif key in positions:
                raise bad_file(f"表头中“{by_key[key].header}”列出现了两次，请删除重复的列。", "import_bad_headers")
            else:
                positions[key] = index
        # Every column of the template must be there, required or not: an old template is refused, not read half.
        missing = [c.header for c in columns if c.key not in positions]
        if missing:
            raise bad_file(
                f"表头不正确：缺少列“{'”“'.join(missing)}”。请使用下载的模板，第一行为列名，不要修改或删除。",
                "import_bad_headers",
            )
        width = max(positions.values()) + 1
        rows: list[tuple[int, dict]] = []
        numeric: set[tuple[int, str]] = set()
        for row_number, values in enumerate(sheet.iter_rows(min_row=2, max_col=width, values_only=True), start=2):
            if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if len(rows) >= max_rows:
                raise bad_file(f"文件超过 {max_rows} 行上限，请分成几个文件分别导入。", "import_too_many_rows", 413)
            raw = {}
            for key, index in positions.items():
                value = values[index] if index < len(values) else None
                if key in numeric_keys and isinstance(value, (int, float)) and not isinstance(value, bool):
                    numeric.add((row_number, key))
                raw[key] = cell_text(value)
            rows.append((row_number, raw))
    except DomainError:
        raise
    except Exception:  # noqa: BLE001
        raise bad_file("无法读取该 Excel 文件的内容，请另存为 .xlsx 后重新上传。", "import_not_xlsx") from None
    finally:
        workbook.close()
    if not rows:
        raise bad_file(f"文件中没有数据行：请从第二行开始填写{row_noun}。", "import_no_rows")
    return SpreadsheetFile(file_name=file_name or default_name, size=size, sha256=digest.hexdigest(), rows=rows,
                           numeric_cells=numeric, ignored_headers=ignored)


# --- templates -----------------------------------------------------------------------------------------


class TemplateBook:
    """A template to fill: the data sheet (styled Chinese headers, text-formatted columns, drop-down
    lists) and an instructions sheet written line by line (`line`); `bytes()` gives the .xlsx."""

    def __init__(self, *, columns, sheet_title: str, max_rows: int, text_keys=(), choices: dict | None = None,
                 notes_title: str = "填写说明", notes_widths=(16, 10, 70)):
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.datavalidation import DataValidation

        header_font, header_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1A4480")
        self.workbook = Workbook()
        sheet = self.workbook.active
        sheet.title = sheet_title
        keys = [c.key for c in columns]
        for index, column in enumerate(columns, start=1):
            cell = sheet.cell(row=1, column=index, value=column.header)
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(vertical="center")
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = column.width
            if column.key in text_keys:
                # Text format: Excel keeps only 15 significant digits of a number, which ruins ID numbers.
                sheet.column_dimensions[letter].number_format = "@"
                for row in range(2, 1002):
                    sheet.cell(row=row, column=index).number_format = "@"
        sheet.freeze_panes = "A2"
        for key, values in (choices or {}).items():
            letter = get_column_letter(keys.index(key) + 1)
            validation = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
            validation.error, validation.errorTitle = "请从下拉列表中选择。", "取值不正确"
            validation.add(f"{letter}2:{letter}{max_rows + 1}")
            sheet.add_data_validation(validation)
        self.sheet = sheet
        self.notes = self.workbook.create_sheet(notes_title)
        for letter, width in zip("ABCDEFGH", notes_widths):
            self.notes.column_dimensions[letter].width = width
        self.bold = Font(bold=True)
        self.title_font = Font(bold=True, size=14)

    def line(self, *values, font=None) -> None:
        self.notes.append(list(values))
        if font is not None:
            for cell in self.notes[self.notes.max_row]:
                cell.font = font

    def columns_help(self, columns) -> None:
        self.line("列名", "是否必填", "填写说明", font=self.bold)
        for column in columns:
            self.line(column.header, "必填" if column.required else "选填", column.help)

    def bytes(self) -> bytes:
        from io import BytesIO

        from openpyxl.styles import Alignment

        for row in self.notes.iter_rows(min_row=1, max_row=self.notes.max_row):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        buffer = BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()


# --- errors --------------------------------------------------------------------------------------------


def errors_finish(errors: list[dict], *, columns, extra_columns=(), max_stored: int = MAX_STORED_ERRORS) -> list[dict]:
    """Errors sorted by row, then by the column's place in the template (then `extra_columns`), capped."""
    order = {c.header: i for i, c in enumerate(columns)}
    for i, header in enumerate(extra_columns):
        order.setdefault(header, len(columns) + i)
    errors = sorted(errors, key=lambda e: (e["row"], order.get(e["column"], len(order))))
    if len(errors) > max_stored:
        left_out = len(errors) - max_stored
        errors = errors[:max_stored] + [{"row": errors[max_stored]["row"], "column": "—",
                                         "message": f"错误过多，其余 {left_out} 条未列出，请先修正以上错误后重新上传。"}]
    return errors


def error_label(error: dict) -> str:
    """"第 7 行 · 身份证号：…" as shown to the administrator."""
    return f"第 {error['row']} 行 · {error['column']}：{error['message']}"


ERROR_HEADERS = ["行号", "列", "错误说明", "阶段"]


def import_error_rows(spreadsheet_import):
    """The errors of an import as rows of the downloadable list (ERROR_HEADERS)."""
    for error in spreadsheet_import.errors:
        yield [error["row"], error["column"], error["message"], "校验"]
    for error in spreadsheet_import.skipped:
        yield [error["row"], error["column"], error["message"], "导入时跳过"]


# --- an import in steps --------------------------------------------------------------------------------


def import_start_check(spreadsheet_import, *, only_valid: bool, noun: str = "名册") -> None:
    """全部导入 is refused while the file has errors; 只导入无误的行 needs at least one valid row."""
    if spreadsheet_import.status != ImportStatus.VALIDATED:
        raise Conflict(f"该{noun}当前为“{spreadsheet_import.get_status_display()}”，不能开始导入。", code="import_not_ready")
    if spreadsheet_import.valid_rows == 0:
        raise Conflict(f"该{noun}没有无误的行，无可导入。", code="import_nothing_valid")
    if spreadsheet_import.has_errors and not only_valid:
        raise Conflict(
            f"{noun}中有 {spreadsheet_import.error_rows} 行存在错误，不能全部导入。请修正后重新上传，或选择“只导入无误的行”。",
            code="import_has_errors",
        )


def import_progress(spreadsheet_import) -> dict:
    return {
        "id": spreadsheet_import.pk,
        "status": spreadsheet_import.status,
        "status_label": spreadsheet_import.get_status_display(),
        "valid_rows": spreadsheet_import.valid_rows,
        "processed_rows": spreadsheet_import.processed_rows,
        "imported_rows": spreadsheet_import.imported_rows,
        "skipped_rows": spreadsheet_import.skipped_rows,
        "percent": spreadsheet_import.percent,
        "done": spreadsheet_import.status == ImportStatus.DONE,
    }


def import_report_base(spreadsheet_import) -> dict:
    """The validation report and progress as JSON (errors in Chinese, no personal identifiers)."""
    return {
        **import_progress(spreadsheet_import),
        "city": spreadsheet_import.city.code,
        "file_name": spreadsheet_import.file_name,
        "total_rows": spreadsheet_import.total_rows,
        "error_rows": spreadsheet_import.error_rows,
        "only_valid": spreadsheet_import.only_valid,
        "can_import_all": spreadsheet_import.can_import_all,
        "can_import_valid": spreadsheet_import.can_import_valid,
        "errors": [{**e, "text": error_label(e)} for e in spreadsheet_import.errors],
        "skipped": [{**e, "text": error_label(e)} for e in spreadsheet_import.skipped],
        "created_at": spreadsheet_import.created_at.isoformat(),
        "finished_at": spreadsheet_import.finished_at.isoformat() if spreadsheet_import.finished_at else None,
    }


def import_job_enqueue(spreadsheet_import, *, actor, kind: str, label: str, job_func, report_url: str) -> BackgroundJob:
    """Queues the remaining steps of an import under way (status IMPORTING) as one background job that
    `job_func(import_id, actor_id, job=)` runs; an import that already has a queued or running job keeps it.
    Called outside any transaction, after `*_import_start` committed: the job is dispatched at once (inline,
    it runs here — the API's run answers with the import done, as before)."""
    active = job_active_for(spreadsheet_import)
    if active is not None:
        return active
    job = job_create(
        kind=kind, label=label, actor=actor, city_code=spreadsheet_import.city.code, subject=spreadsheet_import,
        total=spreadsheet_import.valid_rows, result={"url": report_url, "import_id": spreadsheet_import.pk},
    )
    enqueue(job_func, spreadsheet_import.pk, actor.pk, track=job, after_commit=False)
    return job


def import_job_steps(spreadsheet_import, *, step, job: BackgroundJob):
    """Runs `step(import)` until the import is no longer under way, reporting rows processed to `job`.
    Steps lock the import's row, so a page's script stepping the same import at the same time is harmless."""
    job_progress(job, done=spreadsheet_import.processed_rows, total=spreadsheet_import.valid_rows)
    while spreadsheet_import.status == ImportStatus.IMPORTING:
        spreadsheet_import = step(spreadsheet_import)
        job_progress(job, done=spreadsheet_import.processed_rows)
    if spreadsheet_import.status != ImportStatus.DONE:
        raise Conflict(f"该导入当前为“{spreadsheet_import.get_status_display()}”，未能完成导入。", code="import_not_started")
    return spreadsheet_import


def import_step_response(request, *, step, progress, report_url: str, done_message):
    """A page's POST to run one step of an import: JSON progress for the page's script (it sends
    Accept: application/json), else a redirect to the report (the "继续导入" button without JS).
    `step()` runs the step and returns the import; `done_message(import)` is shown once it is done."""
    from django.contrib import messages
    from django.http import JsonResponse
    from django.shortcuts import redirect

    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        spreadsheet_import = step()
    except DomainError as exc:
        if wants_json:
            return JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})
        raise
    if wants_json:
        return JsonResponse(progress(spreadsheet_import), json_dumps_params={"ensure_ascii": False})
    if spreadsheet_import.status == ImportStatus.DONE:
        messages.success(request, done_message(spreadsheet_import))
    return redirect(report_url)
