"""Bulk import of an existing roster (名册导入, issue #3 item 8): cities already keep planners on paper
and in spreadsheets. An administrator downloads the template, fills it and uploads it; every row is
checked with the rules of an application, and the valid rows enter the pool with their source
recorded in the dossier (the city's article for the step "roster_import": B19(1) / P5(3)).

- `roster_template_bytes(city)` — the .xlsx template: the roster sheet with Chinese headers and a
  "填写说明" sheet (every column, the city's allowed values, a fictional example).
- `roster_file_read(file)` — the file's rows, or DomainError (400/413) for a bad file: not .xlsx,
  wrong headers, empty, more than MAX_ROWS rows, more than MAX_FILE_BYTES. Nothing is saved.
- `roster_rows_validate(city=, rows=)` — the same rules as an application (rpms.recruitment):
  ID checksum, mobile, e-mail, the policy's vocabularies (Chinese labels mapped to codes), the city's
  districts, eligibility (`facts_from_data` + `eligibility_check`, failed rules named with their
  articles), duplicates within the file and against the pool (a planner of the city with the same
  ID number that is not removed). Errors per row and column, in Chinese.
- Services (one audit row each): `roster_import_upload` (parse, validate, record the report),
  `roster_import_start` (全部导入 — refused while the file has errors — or 只导入无误的行),
  `roster_import_step` (one batch of IMPORT_CHUNK rows in one transaction: bulk_create of planners,
  their districts and their IMPORTED dossier events; duplicates against the pool checked again),
  `roster_import_run` (start + every step, for the API and the benchmark).
- Reads: `roster_import_get` (CITY_ADMIN of the city: 404 for another city, 403 for other roles),
  `roster_imports_recent`, `roster_import_report` (JSON), `roster_errors_rows` (Excel rows).

Only existing members enter the pool this way (issue #12 item 5d): each row names when the person was
admitted (入库日期, a past date) and the original admission's evidence (入库依据: the document number
of the admission decision or the address of the admission notice). A row without both is an error
like any other, refused per row in Chinese; a person who was never admitted with such evidence goes
through a call and its public notice (rpms.recruitment), not through a spreadsheet. The planner's
admission date is the stated one, and the dossier's IMPORTED event records the evidence.

Applicant declarations (the policy's rules checked by the applicant's own statement, e.g. B18(2),
P4(1)) cannot be stated by a spreadsheet row: uploading an existing roster is the administrator's
confirmation that its members were vetted; the codes confirmed are recorded on the import and in each
dossier event. Individuals only: teams are added through the team pages.

The file reader, the template book, the error list and the import in steps are shared with every
spreadsheet import (rpms.core.spreadsheet, rpms.core.models.SpreadsheetImport).

The package by topic: `reader` (columns, template, reading the file), `validation` (the rows' checks),
`apply` (the services and the background job), `report` (reads and the city administrator's check).
Every name callers use is re-exported here.
"""
from __future__ import annotations

from rpms.core.spreadsheet import ERROR_HEADERS, ERRORS_SHOWN, error_label  # read by import_views

from ..models import RosterImportStatus
from .apply import (
    IMPORT_CHUNK,
    LIGHT_CLEAN_EXCLUDE,
    roster_import_enqueue,
    roster_import_job,
    roster_import_run,
    roster_import_start,
    roster_import_step,
    roster_import_upload,
)
from .reader import (
    COLUMN_BY_KEY,
    COLUMNS,
    INSTRUCTIONS_TITLE,
    MAX_EXPERIENCE_YEARS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    SHEET_TITLE,
    STEP,
    RosterFile,
    _declaration_rules,
    roster_file_read,
    roster_template_bytes,
)
from .report import (
    _require_manager,
    roster_errors_rows,
    roster_import_get,
    roster_import_progress,
    roster_import_report,
    roster_imports_recent,
)
from .validation import (
    DEGREE_ALIASES,
    DUPLICATE_CHECK_BATCH,
    EARLIEST_ADMISSION,
    ELIGIBILITY_COLUMN,
    MAX_EVIDENCE,
    TITLE_ALIASES,
    RosterContext,
    RosterReport,
    ineligibility_message,
    pool_id_numbers,
    roster_rows_validate,
)

__all__ = [
    "COLUMNS", "COLUMN_BY_KEY", "DEGREE_ALIASES", "DUPLICATE_CHECK_BATCH", "EARLIEST_ADMISSION", "ELIGIBILITY_COLUMN",
    "ERRORS_SHOWN", "ERROR_HEADERS", "IMPORT_CHUNK", "INSTRUCTIONS_TITLE", "LIGHT_CLEAN_EXCLUDE", "MAX_EVIDENCE",
    "MAX_EXPERIENCE_YEARS", "MAX_FILE_BYTES", "MAX_ROWS", "SHEET_TITLE", "STEP", "TITLE_ALIASES", "RosterContext",
    "RosterFile", "RosterImportStatus", "RosterReport", "_declaration_rules", "_require_manager", "error_label",
    "ineligibility_message", "pool_id_numbers", "roster_errors_rows", "roster_file_read", "roster_import_enqueue",
    "roster_import_get", "roster_import_job", "roster_import_progress", "roster_import_report", "roster_import_run",
    "roster_import_start", "roster_import_step", "roster_import_upload", "roster_imports_recent", "roster_rows_validate",
    "roster_template_bytes",
]
