"""Writes of the duties context. One function per act, keyword-only, atomic, `full_clean()` before save
and exactly one audit row citing the city's article for the step (rpms.cities.articles).

One module per topic (issue #14 item 8); every name is re-exported here, so callers keep importing
`rpms.duties.services`:
- `duty_records` — duty records (B11 / P3): record, edit, evidence, confirm, query, answer;
- `data_requests` — data requests (B14(3), B16(1)): ask, deliver or refuse, supplement, logged downloads;
- `work_certificates` — work certificates (B14(4)) from confirmed duty records;
- `extra_work` — extra contracted work (B12);
- `monitoring_feedback` — monitoring feedback (B11(6));
- `_common` — the helpers they share (input coercers, the planner/serving checks, stored uploads).
"""
from .data_requests import (
    MATERIAL_FOLDER,
    MAX_MATERIALS_PER_REQUEST,
    REQUEST_FIELDS,
    MaterialUpload,
    data_material_add,
    data_material_download,
    data_request_create,
    data_request_deliver,
    data_request_refuse,
)
from .duty_records import (
    DUTY_FIELDS,
    EVIDENCE_FOLDER,
    MAX_EVIDENCE_PER_RECORD,
    duty_evidence_add,
    duty_evidence_remove,
    duty_record_answer,
    duty_record_confirm,
    duty_record_create,
    duty_record_delete,
    duty_record_query,
    duty_record_update,
    unit_focus_options,
)
from .extra_work import EXTRA_FIELDS, extra_work_create, extra_work_status_change, extra_work_update
from .monitoring_feedback import FEEDBACK_FIELDS, monitoring_feedback_answer, monitoring_feedback_file
from .work_certificates import work_certificate_basis, work_certificate_issue, work_certificate_revoke

__all__ = [
    "DUTY_FIELDS",
    "EVIDENCE_FOLDER",
    "EXTRA_FIELDS",
    "FEEDBACK_FIELDS",
    "MATERIAL_FOLDER",
    "MAX_EVIDENCE_PER_RECORD",
    "MAX_MATERIALS_PER_REQUEST",
    "REQUEST_FIELDS",
    "MaterialUpload",
    "data_material_add",
    "data_material_download",
    "data_request_create",
    "data_request_deliver",
    "data_request_refuse",
    "duty_evidence_add",
    "duty_evidence_remove",
    "duty_record_answer",
    "duty_record_confirm",
    "duty_record_create",
    "duty_record_delete",
    "duty_record_query",
    "duty_record_update",
    "extra_work_create",
    "extra_work_status_change",
    "extra_work_update",
    "monitoring_feedback_answer",
    "monitoring_feedback_file",
    "unit_focus_options",
    "work_certificate_basis",
    "work_certificate_issue",
    "work_certificate_revoke",
]
