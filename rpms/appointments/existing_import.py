"""Bulk entry of running contracts (既有聘任导入, issue #11 item 10), shaped like the roster import
(rpms.registry.roster_import) and built on the same shared pieces (rpms.core.spreadsheet: the file
reader, the template, the error list, the import in steps; rpms.core.models.SpreadsheetImport).

- `existing_template_bytes(city)` — the .xlsx template (one row per running contract) and its
  "填写说明" sheet: every column, the city's roles, districts, term lengths, a fictional example.
- `existing_rows_validate(actor=, city=, rows=)` — every row checked with the very checks of a single
  entry (rpms.appointments.existing: `terms_plan`, `paper_check`, `rules_check`) on preloaded records,
  so that the page lists every error per row and column before anything is written. Rows of one file
  count together: the same planner-unit twice is refused, and the B19(2) cap counts the file's
  earlier rows with the planner's appointments already in the system.
- Services (one audit row each): `existing_import_upload`, `existing_import_start` (全部导入 — refused
  while the file has errors — or 只导入无误的行), `existing_import_step` (IMPORT_CHUNK rows: each row
  entered by `existing.appointment_existing_enter` in its own savepoint, which writes its own audit
  row and checks every rule again; a row refused then is skipped and listed), `existing_import_run`;
  `existing_import_enqueue` queues the remaining steps as one background job (`existing_import_job`,
  rpms.core.jobs) — the API's run and, when jobs are queued (production), the page's 开始导入.
- Reads: `existing_import_get` (the city administrator: every import of the city; a district officer
  of a local-selection city: the imports they uploaded; another city → 404, other roles → 403),
  `existing_imports_recent`, `existing_import_report`.

Decided identification of people and places:
- the planner by 身份证号 (the ID number in the registry; for a team, the one registered for it) or by
  资源库编号 (the planner's number in the system: the "编号" column of the pool's Excel export and the
  `id` of the API); with both given they must name the same record. 姓名/团队名称 is required too
  and must match the record, so that a wrong digit cannot attach a contract to someone else;
- the unit by 所在区 (name, short name or code) and 责任单元 (the unit's name, or the name or 9-digit
  code of one of its streets / towns);
- the terms as "2019-07-01~2020-06-30;2020-07-01~2023-06-30" (首聘 then each 续聘), or empty for one
  first term from 聘期开始日期; 纸质合同编号 and 合同签订日期 are those of the current term's contract.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from rpms.accounts.models import User
from rpms.cities.models import AppointmentMode, City
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log
from rpms.core.crypto import blind_index
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.identity import id_number_checksum, validate_id_number
from rpms.core.models import ImportStatus
from rpms.core.params import is_digits
from rpms.core.spreadsheet import (
    Column,
    TemplateBook,
    errors_finish,
    fold,
    import_error_rows,
    import_job_enqueue,
    import_job_steps,
    import_progress,
    import_report_base,
    import_start_check,
    spreadsheet_read,
)
from rpms.geography.selectors import district_lookup, unit_lookup
from rpms.registry.models import Planner, PoolStatus

from . import existing, permissions, services
from .models import Appointment, AppointmentImport, AppointmentImportBatch

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000  # a city's running contracts: Beijing has some hundreds of units
IMPORT_CHUNK = 50  # each row issues two documents and writes its terms, dossier and audit rows
SHEET_TITLE = "既有聘任"
INSTRUCTIONS_TITLE = "填写说明"
STEP = existing.STEP
NOUN = "既有聘任表"

COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名/团队名称", True, help="责任规划师本人姓名或团队名称，须与资源库中的记录一致。",
           aliases=("姓名", "团队名称", "责任规划师", "责任规划师（团队）"), width=16),
    Column("id_number", "身份证号", help="与“资源库编号”二选一：资源库中登记的 18 位身份证号（请保持本列为文本格式）。",
           aliases=("身份证号码", "公民身份号码"), width=22),
    Column("planner_no", "资源库编号", help="与“身份证号”二选一：该责任规划师（团队）在本系统资源库中的编号（资源库导出表的“编号”列）。",
           aliases=("规划师编号", "资源库中的编号"), width=12),
    Column("district", "所在区", True, help="责任单元所在的区：名称、不带“区”“县”的简称或区划代码（可选值见下方）。", aliases=("区",), width=12),
    Column("unit", "责任单元", True, help="责任单元名称，或其所含街道乡镇的名称或 9 位代码。", aliases=("责任单元名称",), width=20),
    Column("role", "派驻角色", help="填写下列派驻角色之一；不填为第一个角色。", aliases=("角色", "受聘角色"), width=14),
    Column("start", "聘期开始日期", True, help="首次聘任的开始日期（可以是多年以前），格式 YYYY-MM-DD。",
           aliases=("首聘开始日期", "聘期开始"), width=14),
    Column("terms", "聘期（首聘及各次续聘）",
           help="依次填写首聘和各次续聘的起止日期，如“2019-07-01~2020-06-30;2020-07-01~2021-06-30”；"
                "不填视为自聘期开始日期起的一个首聘聘期。", aliases=("聘期", "各聘期", "聘期记录"), width=44),
    Column("contract_number", "纸质合同编号", True, help="当前聘期纸质聘用合同上的编号。", aliases=("合同编号",), width=22),
    Column("signed_on", "合同签订日期", True, help="当前聘期纸质聘用合同的签订日期，格式 YYYY-MM-DD。", aliases=("签订日期",),
           width=14),
    Column("fee_yuan", "服务费用（元）", help="选填，整数（元）。", aliases=("服务费用",), width=12),
    Column("fee_note", "费用说明", help="选填，不超过 500 个字符。", width=18),
    Column("service_focus", "服务重点", help="选填。", width=20),
    Column("note", "备注", help="选填。", width=16),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# Which column a refusal of the single entry (its `details.field`) is shown in.
FIELD_COLUMN = {"planner": "name", "unit": "unit", "role": "role", "start": "start", "terms": "terms",
                "contract_number": "contract_number", "signed_on": "signed_on", "fee_yuan": "fee_yuan"}


def _header(key: str) -> str:
    return COLUMN_BY_KEY[key].header if key in COLUMN_BY_KEY else key


def _column_of(exc: DomainError) -> str:
    field_name = (exc.details or {}).get("field") if isinstance(exc.details, dict) else None
    return _header(FIELD_COLUMN.get(field_name, "name"))


# --- the template -------------------------------------------------------------------------------------------


def term_rule_text(city) -> str:
    policy = city.policy
    low, high = policy.renewal_years_min, policy.renewal_years_max
    renewals = f"{low} 年" if low == high else f"{low} 至 {high} 年"
    return (f"首聘 {policy.first_term_years} 年，每次续聘 {renewals}（{policy_article(city, 'renewal')}）；"
            "续聘紧接上一聘期（无间隔、无重叠），每个聘期为整年（如 2019-07-01~2020-06-30 为 1 年）")


def existing_template_bytes(city) -> bytes:
    """The .xlsx template for `city`: the sheet to fill and the "填写说明" sheet."""
    policy = city.policy
    roles = [r["label"] for r in policy.roles or []]
    districts = list(city.districts.order_by("sort_order", "code").values_list("name", flat=True))
    book = TemplateBook(columns=COLUMNS, sheet_title=SHEET_TITLE, max_rows=MAX_ROWS,
                        text_keys=("id_number", "contract_number", "start", "signed_on", "terms"),
                        choices={"role": roles} if roles else None, notes_title=INSTRUCTIONS_TITLE)
    line, bold = book.line, book.bold
    cap = policy.max_units_per_planner
    line(f"{city.name}既有聘任导入模板 · 填写说明", font=book.title_font)
    line(f"1. 在“{SHEET_TITLE}”工作表中每行填写一份正在履行的纸质聘用合同（既有聘任），第一行为列名，请勿修改或删除。"
         f"导入依据 {policy_article(city, STEP) or '本市规定'}。")
    line("2. 责任规划师须已在资源库中（可先通过名册导入）；按身份证号或资源库编号识别，姓名须与资源库记录一致。")
    line(f"3. 聘期：{term_rule_text(city)}。只导入仍在履行的合同：最后一个聘期须未届满。")
    line("4. 每一行按办理聘任的同一规则校验：在库人员、责任单元未撤销、派驻角色、同一人员不在同一责任单元重复派驻"
         + (f"、每人（团队）同时服务的责任单元不超过 {cap} 个（{policy_article(city, 'unit_cap')}，按各聘期的实际日期计算，"
            "文件内各行合并计算）" if cap else "") + "。")
    line("5. 导入后系统出具当前聘期的聘任证书和聘用合同，注明为纸质原件（编号、签订日期）的系统记录；个人档案按实际日期记录聘任和各次续聘。")
    line(f"6. 一次最多 {MAX_ROWS} 行、文件不超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，仅支持 .xlsx 格式。"
         "有错误的行会逐行逐列列出；有错误时不能“全部导入”，可修正后重新上传，或选择“只导入无误的行”。")
    line("")
    book.columns_help(COLUMNS)
    line("")
    line("可选值", "", "", font=bold)
    line("派驻角色", "", "、".join(roles))
    line("所在区", "", "、".join(districts))
    line("")
    line("示例（虚构，仅供参考，请勿填入表中）", font=bold)
    line(*[c.header for c in COLUMNS], font=bold)
    example_start = dt.date(2019, 7, 1)
    terms = [(example_start, services.term_end(example_start, policy.first_term_years))]
    while len(terms) < 3:
        begin = terms[-1][1] + dt.timedelta(days=1)
        terms.append((begin, services.term_end(begin, policy.renewal_years_max)))
    region = (city.districts.order_by("sort_order", "code").values_list("code", flat=True).first() or "110108")[:6]
    first17 = f"{region}19850615123"  # fictional
    signed = terms[-1][0] - dt.timedelta(days=10)
    line("张示例", first17 + id_number_checksum(first17), "", districts[0] if districts else "", "示例街道",
         roles[0] if roles else "", example_start.isoformat(), ";".join(f"{a}~{b}" for a, b in terms),
         f"示例合字〔{signed.year}〕第1号", signed.isoformat(), 60000, "按年度支付", "", "")
    return book.bytes()


# --- validating the rows --------------------------------------------------------------------------------------


@dataclass
class ImportContext:
    """What the rows are checked against, loaded once per file."""

    actor: object
    city: object
    today: dt.date
    districts: dict
    units: dict
    roles: dict[str, str]
    by_id_number: dict[str, Planner]
    by_pk: dict[int, Planner]
    spans: dict[int, list] = field(default_factory=dict)  # planner id → [(unit id, first, last)]
    pairs: dict[tuple[int, int], int] = field(default_factory=dict)  # (planner, unit) → first row in the file

    @classmethod
    def load(cls, *, actor, city, rows) -> ImportContext:
        numbers, pks = set(), set()
        for _, raw in rows:
            try:
                numbers.add(validate_id_number(raw.get("id_number", "")))
            except DomainError:
                pass
            text = fold(raw.get("planner_no", "")).lstrip("#")
            if is_digits(text):
                pks.add(int(text))
        by_id_number: dict[str, Planner] = {}
        by_pk: dict[int, Planner] = {}
        indexes = [blind_index(n, kind="id_number") for n in numbers]
        planners = (Planner.objects.filter(city=city).filter(Q(pk__in=pks) | Q(id_number_index__in=indexes))
                    if numbers or pks else Planner.objects.none())
        for planner in planners:
            by_pk[planner.pk] = planner
            if planner.id_number:
                # A removed record stays as history: the record that is not removed wins.
                known = by_id_number.get(planner.id_number)
                if known is None or known.pool_status == PoolStatus.REMOVED:
                    by_id_number[planner.id_number] = planner
        spans: dict[int, list] = {}
        for planner_id, unit_id, first, last in (
            Appointment.objects.filter(planner_id__in=list(by_pk)).with_last_day()
            .values_list("planner_id", "unit_id", "start", "last_day")
        ):
            spans.setdefault(planner_id, []).append((unit_id, first, last))
        roles = {}
        for item in city.policy.roles or []:
            roles[fold(item["label"])] = item["code"]
            roles[fold(item["code"]).lower()] = item["code"]
        return cls(actor=actor, city=city, today=clock.today(), districts=district_lookup(city),
                   units=unit_lookup(city), roles=roles, by_id_number=by_id_number, by_pk=by_pk, spans=spans)


@dataclass
class ImportReport:
    total: int
    valid: list[dict]
    errors: list[dict]  # {row, column, message}
    error_rows: int


def _planner_find(ctx: ImportContext, raw: dict, error) -> Planner | None:
    name = fold(raw.get("name", ""))
    number_text = raw.get("id_number", "")
    pk_text = fold(raw.get("planner_no", "")).lstrip("#")
    if not name:
        error("name", "请填写姓名或团队名称。")
    if not number_text and not pk_text:
        error("id_number", "请填写身份证号或资源库编号（二选一），用于识别责任规划师。")
        return None
    by_number = by_pk = None
    if number_text:
        try:
            number = validate_id_number(number_text)
        except DomainError as exc:
            error("id_number", exc.message)
            return None
        by_number = ctx.by_id_number.get(number)
        if by_number is None:
            error("id_number", f"{ctx.city.name}责任规划师名录中没有该身份证号的记录（请先通过名册导入或定向委托入库）。")
            return None
    if pk_text:
        by_pk = ctx.by_pk.get(int(pk_text)) if is_digits(pk_text) else None
        if by_pk is None:
            error("planner_no", f"{ctx.city.name}资源库中没有编号为“{raw.get('planner_no')}”的责任规划师。")
            return None
    if by_number is not None and by_pk is not None and by_number.pk != by_pk.pk:
        error("planner_no", f"资源库编号（{by_pk.pk}）与身份证号对应的不是同一记录，请核对。")
        return None
    planner = by_number or by_pk
    if name and fold(planner.name) != name:
        column = "id_number" if by_number is not None else "planner_no"
        error("name", f"姓名“{raw.get('name')}”与{_header(column)}对应的记录（{planner.name}）不一致，请核对。")
        return None
    return planner


def _unit_find(ctx: ImportContext, raw: dict, error):
    district_text, unit_text = fold(raw.get("district", "")), fold(raw.get("unit", ""))
    if not district_text:
        error("district", "请填写责任单元所在的区。")
    if not unit_text:
        error("unit", "请填写责任单元。")
    if not district_text or not unit_text:
        return None
    district = ctx.districts.get(district_text)
    if district is None:
        known = "、".join(dict.fromkeys(name for _, name in ctx.districts.values()))
        error("district", f"{ctx.city.name}没有“{raw.get('district')}”（可选：{known}）。")
        return None
    unit = ctx.units.get((district[0], unit_text)) or ctx.units.get(unit_text)
    if unit is None or unit.district_id != district[0]:
        error("unit", f"{district[1]}没有名为“{raw.get('unit')}”的责任单元（或该单元已撤销）；可填写责任单元名称，或其所含街道乡镇的名称或代码。")
        return None
    try:
        existing.actor_check(ctx.actor, unit)
    except (NotFound, Forbidden):
        error("unit", f"责任单元“{unit.name}”（{district[1]}）不在您负责的区，不能补录。")
        return None
    return unit


def _row_validate(ctx: ImportContext, row_number: int, raw: dict) -> tuple[dict | None, list[dict]]:
    errors: list[dict] = []

    def error(key: str, message: str):
        errors.append({"row": row_number, "column": _header(key), "message": message})

    def refused(exc: DomainError):
        errors.append({"row": row_number, "column": _column_of(exc), "message": exc.message})

    planner = _planner_find(ctx, raw, error)
    unit = _unit_find(ctx, raw, error)
    role_text = fold(raw.get("role", ""))
    if role_text:
        role = ctx.roles.get(role_text) or ctx.roles.get(role_text.lower())
    else:
        role = (ctx.city.policy.roles or [{}])[0].get("code") or ""
    if role_text and role is None:
        labels = "、".join(item["label"] for item in ctx.city.policy.roles or [])
        error("role", f"“{raw.get('role')}”不是{ctx.city.name}规定的派驻角色（可选：{labels}）。")
    plan = None
    try:
        plan = existing.terms_plan(city=ctx.city, start=raw.get("start", ""), terms=raw.get("terms", ""), today=ctx.today)
    except DomainError as exc:
        refused(exc)
    try:
        contract_number = existing.contract_number_clean(raw.get("contract_number", ""))
    except DomainError as exc:
        refused(exc)
        contract_number = None
    if plan is not None and contract_number is not None:
        try:
            plan = existing.paper_check(plan=plan, contract_number=contract_number, signed_on=raw.get("signed_on", ""),
                                        today=ctx.today)
        except DomainError as exc:
            refused(exc)
            plan = None
    elif raw.get("signed_on", ""):
        try:
            existing.date_parse(raw["signed_on"], field="signed_on", label="合同签订日期")
        except DomainError as exc:
            refused(exc)
    else:
        error("signed_on", "请填写合同签订日期（YYYY-MM-DD）。")
    fee = None
    try:
        fee = existing.fee_clean(raw.get("fee_yuan", ""))
    except DomainError as exc:
        refused(exc)
    for key, limit in (("fee_note", 500), ("service_focus", 2000), ("note", 2000)):
        if len(raw.get(key, "")) > limit:
            error(key, f"{_header(key)}不能超过 {limit} 个字符。")
    if errors or planner is None or unit is None or plan is None:
        return None, errors

    pair = (planner.pk, unit.pk)
    if pair in ctx.pairs:
        error("unit", f"与第 {ctx.pairs[pair]} 行是同一责任规划师在同一责任单元的聘任，不能重复。")
        return None, errors
    spans = ctx.spans.get(planner.pk, [])
    try:
        existing.rules_check(city=ctx.city, planner=planner, unit=unit, role=role, plan=plan,
                             spans=[s for s in spans if s[1] <= plan[-1].end and s[2] >= plan[0].start])
    except DomainError as exc:
        refused(exc)
        return None, errors
    # Later rows of the file count this one (same unit, the cap).
    ctx.pairs[pair] = row_number
    ctx.spans.setdefault(planner.pk, []).append((unit.pk, plan[0].start, plan[-1].end))
    clean = {
        "row": row_number, "planner": planner.pk, "unit": unit.pk, "role": role, "start": plan[0].start.isoformat(),
        "terms": [{"start": t.start.isoformat(), "end": t.end.isoformat()} for t in plan],
        "contract_number": plan[-1].paper_contract_number, "signed_on": plan[-1].signed_on.isoformat(),
        "fee_yuan": fee, "fee_note": raw.get("fee_note", ""), "service_focus": raw.get("service_focus", ""),
        "note": raw.get("note", ""),
    }
    return clean, errors


def existing_rows_validate(*, actor, city, rows) -> ImportReport:
    """Every row checked like a single entry (module docstring), in file order. Errors carry the Excel
    row number and the column's Chinese header."""
    ctx = ImportContext.load(actor=actor, city=city, rows=rows)
    valid, errors = [], []
    for row_number, raw in rows:
        clean, row_errors = _row_validate(ctx, row_number, raw)
        errors.extend(row_errors)
        if clean is not None:
            valid.append(clean)
    error_rows = len({e["row"] for e in errors})
    return ImportReport(total=len(rows), valid=valid, errors=errors_finish(errors, columns=COLUMNS), error_rows=error_rows)


# --- services ----------------------------------------------------------------------------------------------------


def _require_importer(user, city) -> None:
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录。")
    if not (user.is_superuser or user.city_id == city.pk):
        raise NotFound()
    if not permissions.may_import_existing(user, city):
        who = "市级管理员" + ("或区级工作专班" if city.policy.appointment_mode == AppointmentMode.LOCAL_SELECTION else "")
        raise Forbidden(f"只有{who}可以导入既有聘任。")


def _article(city) -> str:
    return policy_article(city, STEP)


@transaction.atomic
def existing_import_upload(*, actor, city, uploaded_file, file_name: str = "") -> AppointmentImport:
    """Reads and checks an uploaded file of running contracts and records the report (nothing entered
    yet). A bad file is refused and nothing saved."""
    _require_importer(actor, city)
    parsed = spreadsheet_read(uploaded_file, columns=COLUMNS, sheet_title=SHEET_TITLE, max_rows=MAX_ROWS,
                              max_file_bytes=MAX_FILE_BYTES, file_name=file_name, default_name="既有聘任.xlsx",
                              numeric_keys=("id_number",), file_noun=NOUN, row_noun="既有聘任")
    report = existing_rows_validate(actor=actor, city=city, rows=parsed.rows)
    spreadsheet_import = AppointmentImport(
        city=city, uploaded_by=actor, file_name=parsed.file_name, file_size=parsed.size, file_sha256=parsed.sha256,
        status=ImportStatus.VALIDATED if report.valid else ImportStatus.FAILED, total_rows=report.total,
        valid_rows=len(report.valid), error_rows=report.error_rows, errors=report.errors,
    )
    spreadsheet_import.full_clean(exclude=["city", "uploaded_by", "started_by"])
    spreadsheet_import.save()
    batches = [
        AppointmentImportBatch(appointment_import=spreadsheet_import, index=number,
                               rows=report.valid[start: start + IMPORT_CHUNK])
        for number, start in enumerate(range(0, len(report.valid), IMPORT_CHUNK))
    ]
    AppointmentImportBatch.objects.bulk_create(batches)
    audit_log(
        actor=actor, action="appointments.existing_import_upload", obj=spreadsheet_import,
        after={"file_name": parsed.file_name, "sha256": parsed.sha256, "total_rows": report.total,
               "valid_rows": len(report.valid), "error_rows": report.error_rows,
               "ignored_headers": parsed.ignored_headers},
        article=_article(city),
        summary=f"上传既有聘任表《{parsed.file_name}》：共 {report.total} 行，无误 {len(report.valid)} 行，有误 {report.error_rows} 行"[:255],
    )
    return spreadsheet_import


LIGHT_CLEAN_EXCLUDE = ["city", "uploaded_by", "started_by", "errors", "skipped"]


def _locked(spreadsheet_import: AppointmentImport) -> AppointmentImport:
    return (AppointmentImport.objects.select_for_update(of=("self",)).select_related("city__policy")
            .get(pk=spreadsheet_import.pk))


@transaction.atomic
def existing_import_start(*, actor, spreadsheet_import: AppointmentImport, only_valid: bool) -> AppointmentImport:
    """全部导入 (refused while the file has errors) or 只导入无误的行; the rows are then entered by steps."""
    spreadsheet_import = _locked(spreadsheet_import)
    _access_check(actor, spreadsheet_import)
    import_start_check(spreadsheet_import, only_valid=only_valid, noun=NOUN)
    spreadsheet_import.move_to(ImportStatus.IMPORTING)
    spreadsheet_import.only_valid = bool(only_valid)
    spreadsheet_import.started_by = actor
    spreadsheet_import.started_at = clock.now()
    spreadsheet_import.full_clean(exclude=LIGHT_CLEAN_EXCLUDE)
    spreadsheet_import.save(update_fields=["status", "only_valid", "started_by", "started_at", "updated_at"])
    mode = "只导入无误的行" if only_valid else "全部导入"
    audit_log(
        actor=actor, action="appointments.existing_import_start", obj=spreadsheet_import,
        before={"status": ImportStatus.VALIDATED},
        after={"status": spreadsheet_import.status, "only_valid": spreadsheet_import.only_valid,
               "rows": spreadsheet_import.valid_rows, "error_rows": spreadsheet_import.error_rows},
        article=_article(spreadsheet_import.city),
        summary=f"开始导入既有聘任表《{spreadsheet_import.file_name}》（{mode}，{spreadsheet_import.valid_rows} 行）"[:255],
    )
    return spreadsheet_import


@transaction.atomic
def existing_import_step(*, actor, spreadsheet_import: AppointmentImport) -> AppointmentImport:
    """Enters the next batch of valid rows. Each row is one act of `appointment_existing_enter` (its
    checks, documents, dossier rows and audit row) in a savepoint: a row refused now (the planner left
    the pool, the unit was taken meanwhile, the cap …) is skipped and listed, the others are kept."""
    spreadsheet_import = _locked(spreadsheet_import)
    city = spreadsheet_import.city
    _access_check(actor, spreadsheet_import)
    if spreadsheet_import.status == ImportStatus.DONE:
        return spreadsheet_import
    if spreadsheet_import.status != ImportStatus.IMPORTING:
        raise Conflict("请先选择“全部导入”或“只导入无误的行”。", code="import_not_started")
    batch = spreadsheet_import.batches.order_by("index").first()
    chunk = batch.rows if batch is not None else []
    entered, skipped = [], []
    for row in chunk:
        try:
            with transaction.atomic():
                appointment = existing.appointment_existing_enter(
                    actor=actor, planner=row["planner"], unit=row["unit"], role=row["role"], start=row["start"],
                    terms=row["terms"], contract_number=row["contract_number"], signed_on=row["signed_on"],
                    fee_yuan=row["fee_yuan"], fee_note=row["fee_note"], service_focus=row["service_focus"],
                    note=row["note"],
                    origin={"import": spreadsheet_import.pk, "row": row["row"], "file_name": spreadsheet_import.file_name},
                )
        except DomainError as exc:
            skipped.append({"row": row["row"], "column": _column_of(exc), "message": f"导入时未通过校验，已跳过：{exc.message}"[:500]})
            continue
        entered.append(appointment.pk)
    before = {"processed_rows": spreadsheet_import.processed_rows, "imported_rows": spreadsheet_import.imported_rows,
              "status": spreadsheet_import.status}
    spreadsheet_import.processed_rows += len(chunk)
    spreadsheet_import.imported_rows += len(entered)
    spreadsheet_import.skipped_rows += len(skipped)
    spreadsheet_import.skipped = [*spreadsheet_import.skipped, *skipped]
    fields = ["processed_rows", "imported_rows", "skipped_rows", "skipped", "updated_at"]
    if batch is not None:
        batch.delete()
    if not spreadsheet_import.batches.exists():
        spreadsheet_import.move_to(ImportStatus.DONE)
        spreadsheet_import.finished_at = clock.now()
        fields += ["status", "finished_at"]
    spreadsheet_import.full_clean(exclude=LIGHT_CLEAN_EXCLUDE)
    spreadsheet_import.save(update_fields=fields)
    rows = [row["row"] for row in chunk]
    audit_log(
        actor=actor, action="appointments.existing_import_step", obj=spreadsheet_import, before=before,
        after={"processed_rows": spreadsheet_import.processed_rows, "imported_rows": spreadsheet_import.imported_rows,
               "status": spreadsheet_import.status, "rows": [min(rows), max(rows)] if rows else [],
               "appointments": entered, "skipped_rows": [s["row"] for s in skipped]},
        article=_article(city),
        summary=(f"既有聘任表《{spreadsheet_import.file_name}》补录 {len(entered)} 项聘任"
                 + (f"，跳过 {len(skipped)} 行" if skipped else "")
                 + ("（导入完成）" if spreadsheet_import.status == ImportStatus.DONE else ""))[:255],
    )
    return spreadsheet_import


def existing_import_run(*, actor, spreadsheet_import: AppointmentImport, only_valid: bool) -> AppointmentImport:
    """Starts the import and runs every step (each its own transaction); an import already under way
    is carried on in the mode chosen then."""
    if spreadsheet_import.status != ImportStatus.IMPORTING:
        spreadsheet_import = existing_import_start(actor=actor, spreadsheet_import=spreadsheet_import,
                                                   only_valid=only_valid)
    while spreadsheet_import.status == ImportStatus.IMPORTING:
        spreadsheet_import = existing_import_step(actor=actor, spreadsheet_import=spreadsheet_import)
    return spreadsheet_import


def existing_import_job(import_id: int, actor_id: int, *, job) -> dict:
    """Background job (rpms.core.jobs): runs the remaining steps of an import under way as its starter, with
    progress in rows; each row is its own act (documents, dossier, audit), as on the page."""
    actor = User.objects.get(pk=actor_id)
    spreadsheet_import = existing_import_get(user=actor, import_id=import_id)
    spreadsheet_import = import_job_steps(
        spreadsheet_import, job=job,
        step=lambda current: existing_import_step(actor=actor, spreadsheet_import=current),
    )
    skipped = f"，{spreadsheet_import.skipped_rows} 行导入时跳过" if spreadsheet_import.skipped_rows else ""
    return {"message": f"导入完成：已补录 {spreadsheet_import.imported_rows} 项既有聘任{skipped}。",
            "imported_rows": spreadsheet_import.imported_rows, "skipped_rows": spreadsheet_import.skipped_rows}


def existing_import_enqueue(*, actor, spreadsheet_import: AppointmentImport):
    """Queues the steps of a started import as a background job (a queued or running job is reused)."""
    from django.urls import reverse

    _access_check(actor, spreadsheet_import)
    return import_job_enqueue(
        spreadsheet_import, actor=actor, kind="appointments.existing_import",
        label=f"既有聘任导入《{spreadsheet_import.file_name}》", job_func=existing_import_job,
        report_url=reverse("appointments:existing_import_report", args=[spreadsheet_import.pk]),
    )


# --- reads ---------------------------------------------------------------------------------------------------------


def _access_check(user, spreadsheet_import: AppointmentImport) -> None:
    """The city administrator sees every import of the city; a district officer only their own."""
    city = spreadsheet_import.city
    _require_importer(user, city)
    if permissions.is_city_admin_of(user, city):
        return
    if spreadsheet_import.uploaded_by_id != user.pk:
        raise NotFound()


def existing_import_get(*, user, import_id) -> AppointmentImport:
    if not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录。")
    found = (AppointmentImport.objects.select_related("city__policy", "uploaded_by", "started_by")
             .filter(pk=import_id).first())
    if found is None:
        raise NotFound()
    _access_check(user, found)
    return found


def existing_imports_recent(*, user, city, limit: int = 20) -> list[AppointmentImport]:
    _require_importer(user, city)
    queryset = AppointmentImport.objects.filter(city=city).select_related("uploaded_by").defer("errors", "skipped")
    if not permissions.is_city_admin_of(user, city):
        queryset = queryset.filter(uploaded_by=user)
    return list(queryset.order_by("-created_at", "-id")[:limit])


def importer_city(user, code: str | None = None) -> City:
    """The city whose running contracts the user may import (a superuser without a city picks one)."""
    if getattr(user, "city_id", None):
        city = City.objects.select_related("policy").get(pk=user.city_id)
    else:
        cities = City.objects.filter(is_active=True).select_related("policy").order_by("sort_order", "code")
        city = cities.filter(code=code).first() if code else cities.first()
        if city is None:
            raise NotFound("尚未配置任何城市。")
    _require_importer(user, city)
    return city


def existing_import_progress(spreadsheet_import: AppointmentImport) -> dict:
    return import_progress(spreadsheet_import)


def existing_import_report(spreadsheet_import: AppointmentImport) -> dict:
    return import_report_base(spreadsheet_import)


def existing_errors_rows(spreadsheet_import: AppointmentImport):
    return import_error_rows(spreadsheet_import)
