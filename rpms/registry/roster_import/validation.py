"""Checking the rows with the rules of an application, duplicates within the file and against the pool."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from rpms.cities.eligibility import eligibility_check
from rpms.cities.vocabulary import DegreeLevel, TitleLevel
from rpms.core import clock
from rpms.core.crypto import blind_index
from rpms.core.errors import DomainError
from rpms.core.identity import validate_id_number, validate_mobile
from rpms.core.spreadsheet import EMPTY_WORDS as _EMPTY_WORDS
from rpms.core.spreadsheet import errors_finish
from rpms.core.spreadsheet import fold as _fold
from rpms.core.spreadsheet import split_values as _split
from rpms.geography.selectors import district_lookup

from ..models import Planner, PoolStatus
from .reader import COLUMN_BY_KEY, COLUMNS, MAX_EXPERIENCE_YEARS, _declaration_rules

MAX_EVIDENCE = 300
EARLIEST_ADMISSION = dt.date(2000, 1, 1)
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
        from rpms.cities.eligibility import facts_from_data

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
        indexes = [blind_index(number, kind="id_number") for number in batch]
        for number, name in (
            Planner.objects.filter(city=city, id_number_index__in=indexes).exclude(pool_status=PoolStatus.REMOVED)
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
