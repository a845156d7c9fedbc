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
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from rpms.accounts.models import Role, User
from rpms.cities.eligibility import eligibility_check
from rpms.cities.models import City
from rpms.cities.selectors import policy_article
from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core import clock
from rpms.core.audit import audit_log
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.identity import id_number_checksum, validate_id_number, validate_mobile
from rpms.core.spreadsheet import (  # ERROR_HEADERS, ERRORS_SHOWN, error_label: read by import_views
    EMPTY_WORDS as _EMPTY_WORDS,
    ERROR_HEADERS,  # noqa: F401
    ERRORS_SHOWN,  # noqa: F401
    Column,
    SpreadsheetFile as RosterFile,
    TemplateBook,
    error_label,  # noqa: F401
    errors_finish,
    fold as _fold,
    import_error_rows,
    import_job_enqueue,
    import_job_steps,
    import_progress,
    import_report_base,
    import_start_check,
    spreadsheet_read,
    split_values as _split,
)
from rpms.geography.models import District
from rpms.geography.selectors import district_lookup

from .models import (
    DossierEvent,
    DossierEventKind,
    Planner,
    PlannerKind,
    PlannerSource,
    PoolStatus,
    RosterImport,
    RosterImportBatch,
    RosterImportStatus,
)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
IMPORT_CHUNK = 500
SHEET_TITLE = "责任规划师名册"
INSTRUCTIONS_TITLE = "填写说明"
MAX_EXPERIENCE_YEARS = 70  # as on the application form (rpms.recruitment.services)
MAX_EVIDENCE = 300
EARLIEST_ADMISSION = dt.date(2000, 1, 1)
STEP = "roster_import"


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", True, help="责任规划师本人姓名，不超过 100 个字符。", width=12),
    Column("id_number", "身份证号", True, help="18 位居民身份证号码，最后一位可能是 X；请保持本列为文本格式，以免 Excel 改写后几位。",
           aliases=("身份证号码", "公民身份号码"), width=22),
    Column("mobile", "手机号", True, help="11 位中国大陆手机号码。", aliases=("手机号码", "手机", "联系电话"), width=14),
    Column("email", "电子邮箱", help="选填。", aliases=("邮箱", "电子邮件"), width=24),
    Column("employer", "工作单位", help="选填，不超过 200 个字符。", aliases=("单位",), width=28),
    Column("degree", "学历", help="填写下列学历之一；不填视为“无”。", aliases=("最高学历",), width=12),
    Column("major", "专业", help="所学专业名称，如“城乡规划”“建筑学”，不超过 100 个字符。", aliases=("所学专业",), width=14),
    Column("major_field", "专业领域", help="所学专业所属的专业领域，填写下列专业领域之一（资格审查按此判断专业是否相关）。",
           aliases=("所学专业领域", "所学专业所属领域"), width=14),
    Column("title_level", "职称等级", help="填写下列职称等级之一；不填视为“无”。", aliases=("职称",), width=12),
    Column("title_field", "职称专业领域", help="职称所属的专业领域，填写下列专业领域之一。", width=14),
    Column("registrations", "执业资格", multiple=True, help="填写下列执业资格，多项用“、”或“,”分隔；没有可不填。",
           aliases=("执业资格证书",), width=22),
    Column("experience_years", "相关工作年限", help=f"整数，0 到 {MAX_EXPERIENCE_YEARS}；不填视为 0。", aliases=("工作年限",),
           width=12),
    Column("specialties", "擅长专业领域", True, multiple=True, help="至少一项，填写下列专业领域，多项用“、”或“,”分隔。",
           aliases=("擅长领域",), width=26),
    Column("districts", "熟悉的区", multiple=True, help="填写下列区的名称，多项用“、”或“,”分隔；没有可不填。",
           aliases=("熟悉区域",), width=22),
    # Issue #12 (5d): a roster admits only existing members, each with the evidence of their admission.
    Column("admitted_on", "入库日期", True, help="该人员原入库（经公示纳入资源库）的日期，如 2021-06-30；不能晚于今天。",
           aliases=("原入库日期", "入库时间"), width=14),
    Column("admission_evidence", "入库依据", True,
           help="原入库的依据：入库决定或入库公示的文号（如“某规划自然资源委〔2021〕12号”），或公示的网址（http:// 或 https:// 开头）。"
                "没有入库依据的人员不能通过名册导入，请经公开征集和公示入库。",
           aliases=("原入库依据", "入库文件", "入库公示"), width=32),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
ELIGIBILITY_COLUMN = "资格条件"
DUPLICATE_CHECK_BATCH = 900

# Chinese spellings users type for the national vocabularies (the labels themselves are accepted too).
DEGREE_ALIASES = {
    "专科": DegreeLevel.JUNIOR_COLLEGE, "大学专科": DegreeLevel.JUNIOR_COLLEGE, "高职": DegreeLevel.JUNIOR_COLLEGE,
    "大学本科": DegreeLevel.BACHELOR, "学士": DegreeLevel.BACHELOR,
    "硕士": DegreeLevel.MASTER, "研究生": DegreeLevel.MASTER, "硕士研究生": DegreeLevel.MASTER,
    "博士": DegreeLevel.DOCTOR, "博士研究生": DegreeLevel.DOCTOR,
    "高中": DegreeLevel.NONE, "中专": DegreeLevel.NONE,
}
TITLE_ALIASES = {
    "初级职称": TitleLevel.PRIMARY, "助理工程师": TitleLevel.PRIMARY, "技术员": TitleLevel.PRIMARY,
    "中级职称": TitleLevel.INTERMEDIATE, "工程师": TitleLevel.INTERMEDIATE,
    "副高": TitleLevel.DEPUTY_SENIOR, "副高级职称": TitleLevel.DEPUTY_SENIOR, "高级工程师": TitleLevel.DEPUTY_SENIOR,
    "正高": TitleLevel.SENIOR, "正高级职称": TitleLevel.SENIOR, "正高级工程师": TitleLevel.SENIOR,
    "教授级高级工程师": TitleLevel.SENIOR,
}
# --- the template -----------------------------------------------------------------------------------


def _example_id_number() -> str:
    first17 = "11010819850615123"  # fictional
    return first17 + id_number_checksum(first17)


def roster_template_bytes(city) -> bytes:
    """The .xlsx template for `city`: the roster sheet (headers only; ID and mobile columns formatted as
    text) and the "填写说明" sheet with each column, the city's allowed values and a fictional example."""
    policy = city.policy
    districts = list(District.objects.filter(city=city).order_by("sort_order", "code").values_list("name", flat=True))
    book = TemplateBook(columns=COLUMNS, sheet_title=SHEET_TITLE, max_rows=MAX_ROWS, text_keys=("id_number", "mobile"),
                        choices={"degree": [c.label for c in DegreeLevel], "title_level": [c.label for c in TitleLevel]},
                        notes_title=INSTRUCTIONS_TITLE)
    line, bold = book.line, book.bold

    line(f"{city.name}责任规划师名册导入模板 · 填写说明", font=book.title_font)
    line(f"1. 在“{SHEET_TITLE}”工作表中每行填写一名责任规划师（只接受个人；团队请在资源库的团队页面登记）。第一行为列名，请勿修改或删除。")
    line(f"2. 每一行按入库申请的同一规则校验：身份证号校验码、手机号、选聘条件（{policy_article(city, STEP) or '本市规定'}；"
         f"资格条件依据 {(policy.eligibility_rules or {}).get('article', '')}）、下列可选值、文件内和资源库中的重复身份证号。")
    line(f"3. 一次最多 {MAX_ROWS} 行、文件不超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，仅支持 .xlsx 格式。")
    line("4. 有错误的行会逐行逐列列出；有错误时不能“全部导入”，可修正后重新上传，或选择“只导入无误的行”。")
    line("   名册只用于登记已经入库的人员：每行须填写原入库日期和入库依据（入库决定或入库公示的文号或网址）；"
         "没有入库依据的人员不能导入，请经公开征集、审核和公示后入库。")
    declarations = _declaration_rules(policy)
    if declarations:
        line("5. 导入即表示本单位已核实名册人员符合以下声明类条件：")
        for item in declarations:
            line("", item["article"], item["label"])
    line("")
    book.columns_help(COLUMNS)
    line("")
    line("可选值", "", "", font=bold)
    line("学历", "", "、".join(c.label for c in DegreeLevel))
    line("职称等级", "", "、".join(c.label for c in TitleLevel))
    line("专业领域", "", "、".join(s["label"] for s in policy.specialties))
    line("执业资格", "", "、".join(r["label"] for r in policy.registrations))
    line("熟悉的区", "", "、".join(districts))
    line("")
    line("示例（虚构人员，仅供参考，请勿填入名册）", font=bold)
    line(*[c.header for c in COLUMNS], font=bold)
    specialties = [s["label"] for s in policy.specialties][:2]
    registrations = [r["label"] for r in policy.registrations][:1]
    line("张示例", _example_id_number(), "13800138000", "example@example.com", "示例规划设计研究院（虚构）", "硕士研究生",
         "城乡规划", specialties[0] if specialties else "", "副高级", specialties[0] if specialties else "",
         "、".join(registrations), 8, "、".join(specialties), "、".join(districts[:2]), "2021-06-30",
         "示例规划自然资源委〔2021〕12号（虚构）")
    return book.bytes()


# --- reading the file ---------------------------------------------------------------------------------


def roster_file_read(uploaded_file, *, file_name: str = "") -> RosterFile:
    """The rows of an uploaded roster (.xlsx), or DomainError with a Chinese message: not .xlsx, too
    large, no header row / missing columns, no data rows, more than MAX_ROWS rows."""
    return spreadsheet_read(uploaded_file, columns=COLUMNS, sheet_title=SHEET_TITLE, max_rows=MAX_ROWS,
                            max_file_bytes=MAX_FILE_BYTES, file_name=file_name, default_name="名册.xlsx",
                            numeric_keys=("id_number", "mobile"), file_noun="名册", row_noun="责任规划师")


# --- validating the rows --------------------------------------------------------------------------------


def _declaration_rules(policy) -> list[dict]:
    # The same walk the application form uses (rpms.recruitment.services.declaration_rules).
    from rpms.recruitment.services import declaration_rules

    return declaration_rules(policy)


def _vocabulary(entries, aliases=None) -> dict[str, str]:
    """Chinese label / code (and aliases) → code, keys folded."""
    table = {}
    for code, label in entries:
        table[_fold(label)] = code
        table[_fold(code).lower()] = code
    for alias, code in (aliases or {}).items():
        table.setdefault(_fold(alias), code)
    return table


@dataclass
class RosterContext:
    city: object
    policy: object
    specialties: dict[str, str]
    registrations: dict[str, str]
    degrees: dict[str, str]
    titles: dict[str, str]
    districts: dict[str, tuple[int, str]]
    declarations: list[str]
    _verdicts: dict = field(default_factory=dict)

    def ineligibility(self, clean: dict) -> str:
        """"" if the row's facts meet the city's rules, else the failed rules with their articles. The
        facts are those an application yields (rpms.recruitment.services.facts_from_data), with the
        declarations the importing administrator confirms; rosters repeat the same facts, so each
        combination is evaluated once."""
        from rpms.recruitment.services import facts_from_data

        key = (clean["degree"], clean["major_field"], clean["title_level"], clean["title_field"],
               tuple(clean["registrations"]), clean["experience_years"])
        if key not in self._verdicts:
            result = eligibility_check(policy=self.policy, facts=facts_from_data({
                "degree": clean["degree"], "degree_field": clean["major_field"], "title_level": clean["title_level"],
                "title_field": clean["title_field"], "registrations": clean["registrations"],
                "experience_years": clean["experience_years"], "declarations": self.declarations,
            }))
            self._verdicts[key] = "" if result.eligible else ineligibility_message(result)
        return self._verdicts[key]

    @classmethod
    def for_city(cls, city) -> RosterContext:
        policy = city.policy
        return cls(
            city=city,
            policy=policy,
            specialties=_vocabulary([(s["code"], s["label"]) for s in policy.specialties]),
            registrations=_vocabulary([(r["code"], r["label"]) for r in policy.registrations]),
            degrees=_vocabulary(DegreeLevel.choices, DEGREE_ALIASES),
            titles=_vocabulary(TitleLevel.choices, TITLE_ALIASES),
            districts=district_lookup(city),
            declarations=[d["code"] for d in _declaration_rules(policy)],
        )


@dataclass
class RosterReport:
    total: int
    valid: list[dict]
    errors: list[dict]  # {row, column, message}
    error_rows: int


def _lookup(table: dict, text: str):
    folded = _fold(text)
    return table.get(folded, table.get(folded.lower()))


def _leaves(outcome) -> list:
    if not outcome.children:
        return [outcome]
    return [leaf for child in outcome.children for leaf in _leaves(child)]


def ineligibility_message(result) -> str:
    """The failed rules of an eligibility result, each with its article and why it failed."""
    parts = []
    for outcome in result.failed():
        reasons = "；".join(leaf.detail.removeprefix("不符合。") for leaf in _leaves(outcome) if not leaf.passed)
        parts.append(f"{outcome.article} {outcome.label}（{reasons}）" if reasons else f"{outcome.article} {outcome.label}")
    return f"不符合选聘条件（{result.article}）：" + "；".join(parts)


def _row_validate(ctx: RosterContext, row_number: int, raw: dict, numeric_cells) -> tuple[dict | None, list[dict]]:
    errors: list[dict] = []

    def error(key: str, message: str):
        errors.append({"row": row_number, "column": COLUMN_BY_KEY[key].header if key in COLUMN_BY_KEY else key,
                       "message": message})

    clean: dict = {"row": row_number}
    name = raw.get("name", "")
    if not name:
        error("name", "请填写姓名。")
    elif len(name) > 100:
        error("name", "姓名不能超过 100 个字符。")
    clean["name"] = name

    for key, check in (("id_number", validate_id_number), ("mobile", validate_mobile)):
        value = raw.get(key, "")
        try:
            clean[key] = check(value)
        except DomainError as exc:
            message = exc.message
            if (row_number, key) in numeric_cells and key == "id_number":
                message += "（该单元格被 Excel 存成了数字，只保留 15 位有效数字，请把本列设为文本格式后重新填写）"
            error(key, message)

    email = raw.get("email", "")
    if email:
        try:
            if len(email) > 254:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            error("email", "电子邮箱格式不正确。")
    clean["email"] = email
    for key, limit in (("employer", 200), ("major", 100)):
        value = raw.get(key, "")
        if len(value) > limit:
            error(key, f"{COLUMN_BY_KEY[key].header}不能超过 {limit} 个字符。")
        clean[key] = value

    facts_ok = True
    for key, table, choices in (("degree", ctx.degrees, DegreeLevel), ("title_level", ctx.titles, TitleLevel)):
        value = raw.get(key, "")
        if not value or value in _EMPTY_WORDS:
            clean[key] = choices.NONE.value
            continue
        code = _lookup(table, value)
        if code is None:
            facts_ok = False
            error(key, f"“{value}”不在可选范围内（可选：{'、'.join(c.label for c in choices)}）。")
        clean[key] = code or choices.NONE.value

    for key in ("major_field", "title_field"):
        value = raw.get(key, "")
        clean[key] = ""
        if not value or value in _EMPTY_WORDS:
            continue
        code = _lookup(ctx.specialties, value)
        if code is None:
            facts_ok = False
            error(key, f"未知的专业领域“{value}”（可选：{'、'.join(s['label'] for s in ctx.policy.specialties)}）。")
        else:
            clean[key] = code

    for key, table, what, labels in (
        ("registrations", ctx.registrations, "执业资格", [r["label"] for r in ctx.policy.registrations]),
        ("specialties", ctx.specialties, "专业领域", [s["label"] for s in ctx.policy.specialties]),
    ):
        codes, unknown = [], []
        for value in _split(raw.get(key, "")):
            code = _lookup(table, value)
            (codes if code else unknown).append(code or value)
        if unknown:
            if key == "registrations":  # registrations are eligibility facts; specialties are not
                facts_ok = False
            error(key, f"未知的{what}：{'、'.join(unknown)}（可选：{'、'.join(labels)}）。")
        clean[key] = list(dict.fromkeys(codes))
    if not clean["specialties"] and not any(e["column"] == COLUMN_BY_KEY["specialties"].header for e in errors):
        error("specialties", "请至少填写一个擅长专业领域。")

    years_text = raw.get("experience_years", "")
    clean["experience_years"] = 0
    if years_text:
        try:
            years = int(_fold(years_text).removesuffix("年"))
        except ValueError:
            facts_ok = False
            error("experience_years", f"相关工作年限“{years_text}”应为整数（年）。")
        else:
            if not 0 <= years <= MAX_EXPERIENCE_YEARS:
                facts_ok = False
                error("experience_years", f"相关工作年限应在 0 到 {MAX_EXPERIENCE_YEARS} 之间。")
            else:
                clean["experience_years"] = years

    district_ids, unknown = [], []
    for value in _split(raw.get("districts", "")):
        found = ctx.districts.get(value)
        if found is None:
            unknown.append(value)
        elif found[0] not in district_ids:
            district_ids.append(found[0])
    if unknown:
        known = "、".join(dict.fromkeys(name for _, name in ctx.districts.values()))
        error("districts", f"{ctx.city.name}没有以下区：{'、'.join(unknown)}（可选：{known}）。")
    clean["districts"] = district_ids

    _admission_validate(raw, clean, error)

    if facts_ok:
        message = ctx.ineligibility(clean)
        if message:
            errors.append({"row": row_number, "column": ELIGIBILITY_COLUMN, "message": message})
    return (None if errors else clean), errors


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[T ]00:00(?::00)?)?$")


def _admission_date(text: str) -> dt.date | None:
    match = _DATE_TEXT.match(_fold(text))
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _admission_validate(raw: dict, clean: dict, error) -> None:
    """入库日期 and 入库依据: an existing member's admission, both required (issue #12 item 5d)."""
    from django.core.validators import URLValidator

    text = raw.get("admitted_on", "")
    clean["admitted_on"] = ""
    if not text:
        error("admitted_on", "请填写原入库日期（如 2021-06-30）。名册只登记已经入库的人员；未入库的人员请经公开征集和公示入库。")
    else:
        day = _admission_date(text)
        if day is None:
            error("admitted_on", f"入库日期“{text[:20]}”不是有效日期，应为 YYYY-MM-DD，如 2021-06-30。")
        elif day > clock.today():
            error("admitted_on", f"入库日期 {day:%Y-%m-%d} 晚于今天：名册只登记已经入库的人员。")
        elif day < EARLIEST_ADMISSION:
            error("admitted_on", f"入库日期 {day:%Y-%m-%d} 早于 {EARLIEST_ADMISSION:%Y-%m-%d}，请核对。")
        else:
            clean["admitted_on"] = day.isoformat()
    evidence = raw.get("admission_evidence", "")
    clean["admission_evidence"] = evidence
    if not evidence or evidence in _EMPTY_WORDS:
        error("admission_evidence", "请填写入库依据：入库决定或入库公示的文号，或公示的网址。"
                                    "没有入库依据的人员不能通过名册导入，请经公开征集和公示入库。")
    elif len(evidence) > MAX_EVIDENCE:
        error("admission_evidence", f"入库依据不能超过 {MAX_EVIDENCE} 个字符。")
    elif evidence.lower().startswith(("http:", "https:", "www.")):
        try:
            URLValidator(schemes=["http", "https"])(evidence)
        except ValidationError:
            error("admission_evidence", f"入库依据中的网址“{evidence[:60]}”格式不正确，应以 http:// 或 https:// 开头。")
    elif len(evidence) < 4:
        error("admission_evidence", f"入库依据“{evidence}”过短：请填写完整的文号（如“某规划自然资源委〔2021〕12号”）或公示网址。")


def pool_id_numbers(*, city, id_numbers) -> dict[str, str]:
    """{id_number: planner name} of planners of `city` holding one of `id_numbers` who are not removed."""
    found: dict[str, str] = {}
    id_numbers = [n for n in dict.fromkeys(id_numbers) if n]
    for start in range(0, len(id_numbers), DUPLICATE_CHECK_BATCH):
        batch = id_numbers[start: start + DUPLICATE_CHECK_BATCH]
        for number, name in (
            Planner.objects.filter(city=city, id_number__in=batch).exclude(pool_status=PoolStatus.REMOVED)
            .values_list("id_number", "name")
        ):
            found.setdefault(number, name)
    return found


def roster_rows_validate(*, city, rows, numeric_cells=frozenset()) -> RosterReport:
    """Every row checked with the rules of an application, plus duplicates within the file and against
    the pool. Errors carry the Excel row number and the column's Chinese header."""
    ctx = RosterContext.for_city(city)
    checked = [(row_number, *_row_validate(ctx, row_number, raw, numeric_cells)) for row_number, raw in rows]
    errors = [e for _, _, row_errors in checked for e in row_errors]
    # Duplicates: every row whose ID number is itself valid takes part, even if another column is wrong.
    valid_numbers: dict[int, str] = {}
    for (row_number, raw), (_, clean, row_errors) in zip(rows, checked):
        if clean is not None:
            valid_numbers[row_number] = clean["id_number"]
        elif not any(e["column"] == COLUMN_BY_KEY["id_number"].header for e in row_errors):
            valid_numbers[row_number] = validate_id_number(raw.get("id_number", ""))
    first_seen: dict[str, int] = {}
    in_pool = pool_id_numbers(city=city, id_numbers=list(valid_numbers.values()))
    duplicate_rows = set()
    for row_number, number in valid_numbers.items():
        if number in first_seen:
            errors.append({"row": row_number, "column": COLUMN_BY_KEY["id_number"].header,
                           "message": f"与第 {first_seen[number]} 行的身份证号重复（同一人只能导入一次）。"})
            duplicate_rows.add(row_number)
        else:
            first_seen[number] = row_number
            if number in in_pool:
                errors.append({"row": row_number, "column": COLUMN_BY_KEY["id_number"].header,
                               "message": f"该身份证号对应的责任规划师（{in_pool[number]}）已在{city.name}名录中，不能重复导入。"})
                duplicate_rows.add(row_number)
    valid = [clean for row_number, clean, _ in checked if clean is not None and row_number not in duplicate_rows]
    error_rows = len({e["row"] for e in errors})
    errors = errors_finish(errors, columns=COLUMNS)
    return RosterReport(total=len(rows), valid=valid, errors=errors, error_rows=error_rows)


# --- services ----------------------------------------------------------------------------------------------


def _article(city) -> str:
    return policy_article(city, STEP)


def _require_manager(user, city) -> None:
    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        raise Forbidden("只有市级管理员可以导入名册。")
    if not user.is_superuser and user.city_id != city.pk:
        raise NotFound()


@transaction.atomic
def roster_import_upload(*, actor, city, uploaded_file, file_name: str = "") -> RosterImport:
    """Reads and validates an uploaded roster and records the report (nothing enters the pool yet).
    A bad file (not .xlsx, wrong headers, empty, too many rows, too large) is refused and nothing saved."""
    _require_manager(actor, city)
    parsed = roster_file_read(uploaded_file, file_name=file_name)
    report = roster_rows_validate(city=city, rows=parsed.rows, numeric_cells=parsed.numeric_cells)
    roster_import = RosterImport(
        city=city,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        file_name=parsed.file_name,
        file_size=parsed.size,
        file_sha256=parsed.sha256,
        status=RosterImportStatus.VALIDATED if report.valid else RosterImportStatus.FAILED,
        total_rows=report.total,
        valid_rows=len(report.valid),
        error_rows=report.error_rows,
        errors=report.errors,
        declarations=[d["code"] for d in _declaration_rules(city.policy)],
    )
    roster_import.full_clean(exclude=["city", "uploaded_by", "started_by"])
    roster_import.save()
    batches = [
        RosterImportBatch(roster_import=roster_import, index=number, rows=report.valid[start: start + IMPORT_CHUNK])
        for number, start in enumerate(range(0, len(report.valid), IMPORT_CHUNK))
    ]
    for batch in batches:
        batch.full_clean(exclude=["roster_import"])
    RosterImportBatch.objects.bulk_create(batches)
    audit_log(
        actor=actor, action="registry.roster_import_upload", obj=roster_import,
        after={"file_name": parsed.file_name, "sha256": parsed.sha256, "total_rows": report.total,
               "valid_rows": len(report.valid), "error_rows": report.error_rows,
               "ignored_headers": parsed.ignored_headers},
        article=_article(city),
        summary=f"上传名册《{parsed.file_name}》：共 {report.total} 行，无误 {len(report.valid)} 行，有误 {report.error_rows} 行"[:255],
    )
    return roster_import


# Foreign keys are known to exist and the large JSON columns were checked at upload: not re-validated.
LIGHT_CLEAN_EXCLUDE = ["city", "uploaded_by", "started_by", "errors", "skipped"]


def _locked(roster_import: RosterImport) -> RosterImport:
    return RosterImport.objects.select_for_update(of=("self",)).select_related("city__policy").get(pk=roster_import.pk)


@transaction.atomic
def roster_import_start(*, actor, roster_import: RosterImport, only_valid: bool) -> RosterImport:
    """全部导入 (refused while the file has errors) or 只导入无误的行; the rows are then imported by steps."""
    roster_import = _locked(roster_import)
    _require_manager(actor, roster_import.city)
    import_start_check(roster_import, only_valid=only_valid, noun="名册")
    roster_import.status = RosterImportStatus.IMPORTING
    roster_import.only_valid = bool(only_valid)
    roster_import.started_by = actor if getattr(actor, "is_authenticated", False) else None
    roster_import.started_at = clock.now()
    roster_import.full_clean(exclude=LIGHT_CLEAN_EXCLUDE)
    roster_import.save(update_fields=["status", "only_valid", "started_by", "started_at", "updated_at"])
    mode = "只导入无误的行" if only_valid else "全部导入"
    audit_log(
        actor=actor, action="registry.roster_import_start", obj=roster_import,
        before={"status": RosterImportStatus.VALIDATED},
        after={"status": roster_import.status, "only_valid": roster_import.only_valid, "rows": roster_import.valid_rows,
               "error_rows": roster_import.error_rows},
        article=_article(roster_import.city),
        summary=f"开始导入名册《{roster_import.file_name}》（{mode}，{roster_import.valid_rows} 行）"[:255],
    )
    return roster_import


def _actor_name(actor) -> str:
    if not getattr(actor, "is_authenticated", False):
        return "系统"
    return getattr(actor, "display_name", "") or actor.get_username()


@transaction.atomic
def roster_import_step(*, actor, roster_import: RosterImport) -> RosterImport:
    """Imports the next batch of valid rows (IMPORT_CHUNK rows, cut at upload) in one transaction: the
    planners (pool_status active, source import, admitted on the stated date), their districts and an IMPORTED dossier
    event each citing the city's article and the source (file, import, row, who); the events are the
    rows `services.dossier_event_record` writes, created in bulk. A row whose ID number entered the pool since validation is
    skipped and listed. The batch is deleted once imported; the last step marks the import done."""
    roster_import = _locked(roster_import)
    city = roster_import.city
    _require_manager(actor, city)
    # Steps of two imports of one city run one after the other, so the duplicate check below holds.
    list(City.objects.select_for_update().filter(pk=city.pk).values_list("pk", flat=True))
    if roster_import.status == RosterImportStatus.DONE:
        return roster_import
    if roster_import.status != RosterImportStatus.IMPORTING:
        raise Conflict("请先选择“全部导入”或“只导入无误的行”。", code="import_not_started")
    start = roster_import.processed_rows
    batch = roster_import.batches.order_by("index").first()
    chunk = batch.rows if batch is not None else []
    article = _article(city)
    now = clock.now()
    who = _actor_name(actor)
    in_pool = pool_id_numbers(city=city, id_numbers=[row["id_number"] for row in chunk])
    planners, kept, skipped = [], [], []
    for row in chunk:
        if row["id_number"] in in_pool:
            skipped.append({"row": row["row"], "column": COLUMN_BY_KEY["id_number"].header,
                            "message": f"导入时该身份证号对应的责任规划师（{in_pool[row['id_number']]}）已在{city.name}名录中，已跳过。"})
            continue
        planner = Planner(
            city=city, kind=PlannerKind.INDIVIDUAL, name=row["name"], id_number=row["id_number"], mobile=row["mobile"],
            email=row["email"], employer=row["employer"], degree=row["degree"], major=row["major"],
            major_field=row["major_field"], title_level=row["title_level"], title_field=row["title_field"],
            registrations=row["registrations"], experience_years=row["experience_years"], specialties=row["specialties"],
            pool_status=PoolStatus.ACTIVE, source=PlannerSource.IMPORT, admitted_at=_admitted_at(row, now),
        )
        try:
            planner.full_clean(exclude=["city", "user"])
        except ValidationError as exc:
            text = "；".join(f"{m}" for messages in exc.message_dict.values() for m in messages)
            skipped.append({"row": row["row"], "column": "整行", "message": f"数据不符合要求，已跳过：{text}"[:500]})
            continue
        planners.append(planner)
        kept.append(row)
    Planner.objects.bulk_create(planners, batch_size=IMPORT_CHUNK)
    through = Planner.familiar_districts.through
    through.objects.bulk_create(
        [through(planner_id=planner.pk, district_id=district) for planner, row in zip(planners, kept)
         for district in row["districts"]],
        batch_size=IMPORT_CHUNK * 4,
    )
    is_user = getattr(actor, "is_authenticated", False)
    events = []
    for planner, row in zip(planners, kept):
        # The event is the admission the roster records: it occurred on the stated admission date (the import
        # itself is `recorded_at`), so the pool's history (rpms.reports) counts the member from that day.
        event = DossierEvent(
            planner=planner, kind=DossierEventKind.IMPORTED, occurred_at=planner.admitted_at, article=article,
            summary=(f"由既有名册导入：原入库日期 {row.get('admitted_on') or '未填'}，入库依据 {row.get('admission_evidence') or '未填'}；"
                     f"文件《{roster_import.file_name}》第 {row['row']} 行，导入批次 #{roster_import.pk}，经办人 {who}")[:500],
            actor=actor if is_user else None, actor_repr=(actor.get_username() if is_user else "系统")[:150],
            source_type=RosterImport._meta.label_lower, source_id=str(roster_import.pk),
            data={"file_name": roster_import.file_name, "import_id": roster_import.pk, "row": row["row"],
                  "admitted_on": row.get("admitted_on", ""), "admission_evidence": row.get("admission_evidence", ""),
                  "imported_by": who, "imported_by_id": actor.pk if is_user else None,
                  "declarations_confirmed": roster_import.declarations},
        )
        event.full_clean(exclude=["planner", "actor"])
        events.append(event)
    DossierEvent.objects.bulk_create(events, batch_size=IMPORT_CHUNK)
    before = {"processed_rows": start, "imported_rows": roster_import.imported_rows, "status": roster_import.status}
    roster_import.processed_rows = start + len(chunk)
    roster_import.imported_rows += len(planners)
    roster_import.skipped_rows += len(skipped)
    roster_import.skipped = [*roster_import.skipped, *skipped]
    fields = ["processed_rows", "imported_rows", "skipped_rows", "skipped", "updated_at"]
    if batch is not None:
        batch.delete()  # the planners hold the data now; do not keep personal data twice
    if not roster_import.batches.exists():
        roster_import.status = RosterImportStatus.DONE
        roster_import.finished_at = now
        fields += ["status", "finished_at"]
    roster_import.full_clean(exclude=LIGHT_CLEAN_EXCLUDE)
    roster_import.save(update_fields=fields)
    rows = [row["row"] for row in chunk]
    audit_log(
        actor=actor, action="registry.roster_import_step", obj=roster_import, before=before,
        after={"processed_rows": roster_import.processed_rows, "imported_rows": roster_import.imported_rows,
               "status": roster_import.status, "rows": [min(rows), max(rows)] if rows else [],
               "planners": [p.pk for p in planners], "skipped_rows": [s["row"] for s in skipped]},
        article=article,
        summary=(f"名册《{roster_import.file_name}》导入 {len(planners)} 人入库"
                 + (f"，跳过 {len(skipped)} 行" if skipped else "")
                 + ("（导入完成）" if roster_import.status == RosterImportStatus.DONE else ""))[:255],
    )
    return roster_import


def _admitted_at(row: dict, now):
    """The stated admission date (09:00 that day, local time); rows cut before the evidence columns
    existed have none and keep the import time."""
    if not row.get("admitted_on"):
        return now
    day = dt.date.fromisoformat(row["admitted_on"])
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


def roster_import_run(*, actor, roster_import: RosterImport, only_valid: bool) -> RosterImport:
    """Starts the import and runs every step (each step its own transaction); an import already under
    way (e.g. begun on the page) is carried on in the mode chosen then."""
    if roster_import.status != RosterImportStatus.IMPORTING:
        roster_import = roster_import_start(actor=actor, roster_import=roster_import, only_valid=only_valid)
    while roster_import.status == RosterImportStatus.IMPORTING:
        roster_import = roster_import_step(actor=actor, roster_import=roster_import)
    return roster_import


def roster_import_job(import_id: int, actor_id: int, *, job) -> dict:
    """Background job (rpms.core.jobs): runs the remaining steps of an import under way as its starter, with
    progress in rows; each step is its own transaction and audit row, as on the page."""
    actor = User.objects.get(pk=actor_id)
    roster_import = roster_import_get(user=actor, import_id=import_id)
    roster_import = import_job_steps(
        roster_import, job=job, step=lambda current: roster_import_step(actor=actor, roster_import=current)
    )
    skipped = f"，{roster_import.skipped_rows} 行导入时跳过" if roster_import.skipped_rows else ""
    return {"message": f"导入完成：{roster_import.imported_rows} 人已入库{skipped}。",
            "imported_rows": roster_import.imported_rows, "skipped_rows": roster_import.skipped_rows}


def roster_import_enqueue(*, actor, roster_import: RosterImport):
    """Queues the steps of a started import as a background job (an import's queued or running job is reused)."""
    from django.urls import reverse

    _require_manager(actor, roster_import.city)
    return import_job_enqueue(
        roster_import, actor=actor, kind="registry.roster_import", label=f"名册导入《{roster_import.file_name}》",
        job_func=roster_import_job, report_url=reverse("registry:import_report", args=[roster_import.pk]),
    )


# --- reads ---------------------------------------------------------------------------------------------------

def roster_import_get(*, user, import_id) -> RosterImport:
    """An import for its city's administrators; another city's import is 404, other roles 403."""
    if not getattr(user, "is_authenticated", False) or not (user.is_superuser or user.role == Role.CITY_ADMIN):
        raise Forbidden("只有市级管理员可以导入名册。")
    found = RosterImport.objects.select_related("city__policy", "uploaded_by", "started_by").filter(pk=import_id).first()
    if found is None:
        raise NotFound()
    _require_manager(user, found.city)
    return found


def roster_imports_recent(*, user, city, limit: int = 20) -> list[RosterImport]:
    _require_manager(user, city)
    return list(
        RosterImport.objects.filter(city=city).select_related("uploaded_by")
        .defer("errors", "skipped").order_by("-created_at", "-id")[:limit]
    )


def roster_import_progress(roster_import: RosterImport) -> dict:
    return import_progress(roster_import)


def roster_import_report(roster_import: RosterImport) -> dict:
    """The validation report and progress as JSON (errors in Chinese, no personal identifiers)."""
    return import_report_base(roster_import)


def roster_errors_rows(roster_import: RosterImport):
    return import_error_rows(roster_import)
