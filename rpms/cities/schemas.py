"""Validation of a policy profile's lists (the rules as data). Pydantic checks the shape; the
cross-references (a grade's removal ground, an eligibility rule's fields) are checked after."""
from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError as PydanticError, model_validator

from .vocabulary import DEGREE_ORDER, TITLE_ORDER

CODE = r"^[a-z][a-z0-9_]*$"

CLAUSE_PLACEHOLDERS = {
    "party_a": "甲方（聘任主体）", "party_b": "乙方（责任规划师或团队）", "unit_name": "责任单元",
    "district_name": "所在区", "subdistricts": "包含的街道乡镇", "role_label": "派驻角色", "start": "聘期开始",
    "end": "聘期结束", "term_years": "聘期年数", "fee": "服务费用", "duties": "工作职责",
    "service_focus": "服务重点", "filing_body": "备案机关",
}


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE, max_length=50)
    label: str = Field(min_length=1, max_length=100)
    article: str = Field(default="", max_length=32)
    description: str = Field(default="", max_length=2000)


class Grade(_Item):
    renewal: Literal["allowed", "refused", "entity_decides"]
    remove_from_pool: bool = False
    removal_ground: str | None = None
    flag_unit_for_replacement: bool = False
    honour_eligible: bool = False


class RemovalGround(_Item):
    pass


class DutyCategory(_Item):
    pass


class ZoneType(_Item):
    focus: list[str] = Field(min_length=1)


class Specialty(_Item):
    pass


class Registration(_Item):
    pass


# Whom a contract clause binds (B25: the hiring entity may end the contract only when the planner failed a
# duty the contract places on the planner; a clause binding both parties binds the planner too).
CLAUSE_BINDS = {"planner": "乙方（责任规划师）", "entity": "甲方（聘任主体）", "both": "甲乙双方"}
CLAUSE_BINDS_PLANNER = ("planner", "both")


class ContractClause(_Item):
    required: bool = True
    # Required for every clause; checked below so that the message says what to write.
    binds: str | None = None
    # The clause's wording with placeholders filled per contract (see selectors.contract_clause_texts):
    # {party_a} {party_b} {unit_name} {district_name} {subdistricts} {role_label} {start} {end}
    # {term_years} {fee} {duties} {service_focus} {filing_body}
    text: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _binds_a_party(self):
        if self.binds not in CLAUSE_BINDS:
            choices = "、".join(f"{code}（{label}）" for code, label in CLAUSE_BINDS.items())
            if self.binds in (None, ""):
                raise ValueError(f"条款“{self.label}”须注明约束哪一方（binds），可选：{choices}")
            raise ValueError(f"条款“{self.label}”约束的一方“{self.binds}”不在允许范围内（binds 可选：{choices}）")
        return self

    @model_validator(mode="after")
    def _known_placeholders(self):
        import string

        known = set(CLAUSE_PLACEHOLDERS)
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(self.text) if name is not None}
        except ValueError:
            raise ValueError("条款文本中的花括号不成对")
        unknown = sorted(n for n in names if n not in known)
        if unknown:
            raise ValueError(f"条款文本使用了未知的占位符：{'、'.join(unknown)}")
        return self


# The inputs a review waits for (P6(4) 属地反馈; 述职): a criterion names those it is judged from.
REVIEW_INPUT_CODES = ("self_report", "entity_feedback")


class AssessmentCriterion(_Item):
    weight: int = Field(ge=0, le=100)
    inputs: list[Literal["self_report", "entity_feedback"]] = Field(default_factory=list)


class Role(_Item):
    pass


class ViolationKind(_Item):
    """A kind of violation the city's rules name; `article` is required (the citation shown with it)."""

    label: str = Field(min_length=1, max_length=200)
    article: str = Field(min_length=1, max_length=32)


class RuleNode(BaseModel):
    """One eligibility rule. Either a group (`all_of` / `any_of` of sub-rules), an applicant
    declaration (`declaration: true`), or a leaf with one or more machine-checkable conditions,
    all of which must hold."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE, max_length=50)
    label: str = Field(min_length=1, max_length=300)
    article: str = Field(default="", max_length=32)
    all_of: list[RuleNode] | None = None
    any_of: list[RuleNode] | None = None
    declaration: bool = False
    degree_min: str | None = None
    degree_fields: list[str] | None = None
    title_level_min: str | None = None
    title_fields: list[str] | None = None
    registrations_any: list[str] | None = None
    experience_years_min: int | None = Field(default=None, ge=0, le=60)

    @model_validator(mode="after")
    def _one_kind(self):
        conditions = [
            self.degree_min, self.degree_fields, self.title_level_min, self.title_fields,
            self.registrations_any, self.experience_years_min,
        ]
        kinds = sum([self.all_of is not None, self.any_of is not None, self.declaration, any(c is not None for c in conditions)])
        if kinds != 1:
            raise ValueError("每条规则须且只能是以下之一：all_of 组合、any_of 组合、申请人声明、可核验条件")
        if self.degree_min is not None and self.degree_min not in DEGREE_ORDER:
            raise ValueError(f"未知学历层次 {self.degree_min}")
        if self.title_level_min is not None and self.title_level_min not in TITLE_ORDER:
            raise ValueError(f"未知职称等级 {self.title_level_min}")
        for group in (self.all_of, self.any_of):
            if group is not None and not group:
                raise ValueError("组合规则不能为空")
        return self

    def walk(self):
        yield self
        for child in (self.all_of or []) + (self.any_of or []):
            yield from child.walk()


class EligibilityRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    article: str = Field(default="", max_length=32)
    applies_to: Literal["individual", "individual_or_team_leader"] = "individual_or_team_leader"
    rules: list[RuleNode] = Field(min_length=1)


LIST_SCHEMAS = {
    "grades": Grade,
    "removal_grounds": RemovalGround,
    "duty_categories": DutyCategory,
    "zone_types": ZoneType,
    "specialties": Specialty,
    "registrations": Registration,
    "contract_clauses": ContractClause,
    "assessment_criteria": AssessmentCriterion,
    "roles": Role,
    "violation_kinds": ViolationKind,
}
REQUIRED_NON_EMPTY = {"grades", "removal_grounds", "duty_categories", "specialties", "contract_clauses"}

_PYDANTIC_ZH = {
    "missing": "缺少此项",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为是/否",
    "bool_parsing": "应为是/否",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "代码只能由小写字母、数字和下划线组成，且以字母开头",
    "string_too_short": "不能为空",
    "string_too_long": "过长",
    "too_short": "不能为空",
    "extra_forbidden": "不是允许的字段",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
}


def _zh_errors(exc: PydanticError) -> list[str]:
    messages = []
    for err in exc.errors():
        loc = " → ".join(str(part + 1) if isinstance(part, int) else str(part) for part in err["loc"])
        if err["type"] == "value_error":
            text = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            text = _PYDANTIC_ZH.get(err["type"], "格式不正确")
        messages.append(f"{loc}：{text}" if loc else text)
    return messages


def _check_unique(name: str, items: list[BaseModel], errors: dict):
    codes = [item.code for item in items]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        errors.setdefault(name, []).append(f"代码重复：{'、'.join(duplicates)}")


def _check_articles(raw) -> list[str]:
    """The article map: every step of ARTICLE_STEPS cites the city's own article, no unknown step."""
    from .articles import ARTICLE_STEPS

    if not isinstance(raw, dict):
        return ["应为“环节代码: 条款”的对照表"]
    problems = []
    unknown = sorted(set(raw) - set(ARTICLE_STEPS))
    if unknown:
        problems.append(f"未知的办理环节：{'、'.join(unknown)}")
    missing = [f"{ARTICLE_STEPS[k]}（{k}）" for k in ARTICLE_STEPS if not str(raw.get(k) or "").strip()]
    if missing:
        problems.append(f"以下环节缺少条款依据：{'、'.join(missing)}")
    too_long = sorted(k for k, v in raw.items() if isinstance(v, str) and len(v) > 64)
    if too_long or any(not isinstance(v, str) for v in raw.values()):
        problems.append("条款依据应为不超过 64 字的文本")
    return problems


class LimitEntry(BaseModel):
    """How firmly one limit holds (rpms.cities.limits), with its citation."""

    model_config = ConfigDict(extra="forbid")
    strictness: Literal["strict", "in_principle"]
    article: str = Field(default="", max_length=32)
    basis: str = Field(default="", max_length=500)


def _check_limit_strictness(raw) -> list[str]:
    """{limit code: "strict" | "in_principle" | {"strictness", "article"?, "basis"?}} over known limits."""
    from .limits import LIMITS

    if raw in (None, ""):
        return []
    if not isinstance(raw, dict):
        return ["应为“限制代码: strict 或 in_principle”的对照表"]
    problems = []
    unknown = sorted(set(raw) - set(LIMITS))
    if unknown:
        problems.append(f"未知的限制：{'、'.join(map(str, unknown))}（可选：{'、'.join(LIMITS)}）")
    for code, value in raw.items():
        if code not in LIMITS:
            continue
        try:
            LimitEntry.model_validate({"strictness": value} if isinstance(value, str) else value)
        except PydanticError as exc:
            problems.extend(f"{code}：{m}" for m in _zh_errors(exc))
    return problems


def parse_policy_lists(values: dict) -> tuple[dict, dict[str, list[str]]]:
    """Validates the list-valued keys of a policy; returns (parsed, errors by key)."""
    errors: dict[str, list[str]] = {}
    parsed: dict = {}
    for name, schema in LIST_SCHEMAS.items():
        raw = values.get(name, [])
        if not isinstance(raw, list):
            errors[name] = ["应为列表"]
            continue
        items = []
        for index, item in enumerate(raw, start=1):
            try:
                items.append(schema.model_validate(item))
            except PydanticError as exc:
                errors.setdefault(name, []).extend(f"第 {index} 项 {m}" for m in _zh_errors(exc))
        if name in REQUIRED_NON_EMPTY and not raw:
            errors.setdefault(name, []).append("不能为空")
        _check_unique(name, items, errors)
        parsed[name] = items
    try:
        parsed["eligibility_rules"] = EligibilityRules.model_validate(values.get("eligibility_rules") or {})
    except PydanticError as exc:
        errors.setdefault("eligibility_rules", []).extend(_zh_errors(exc))
        parsed["eligibility_rules"] = None

    errors_articles = _check_articles(values.get("articles"))
    if errors_articles:
        errors["articles"] = errors_articles
    errors_limits = _check_limit_strictness(values.get("limit_strictness"))
    if errors_limits:
        errors["limit_strictness"] = errors_limits

    # Cross-references.
    removal_codes = {g.code for g in parsed.get("removal_grounds", [])}
    for grade in parsed.get("grades", []):
        if grade.removal_ground and grade.removal_ground not in removal_codes:
            errors.setdefault("grades", []).append(f"等次 {grade.label} 引用的调出情形 {grade.removal_ground} 不存在")
        if grade.remove_from_pool and not grade.removal_ground:
            errors.setdefault("grades", []).append(f"等次 {grade.label} 调出资源库时须指明调出情形")
    criteria = parsed.get("assessment_criteria", [])
    if criteria and sum(c.weight for c in criteria) != 100:
        errors.setdefault("assessment_criteria", []).append("各项考核内容权重之和须为 100")
    rules = parsed.get("eligibility_rules")
    if rules is not None:
        fields = {s.code for s in parsed.get("specialties", [])}
        registrations = {r.code for r in parsed.get("registrations", [])}
        for node in (n for top in rules.rules for n in top.walk()):
            for field in (node.degree_fields or []) + (node.title_fields or []):
                if field not in fields:
                    errors.setdefault("eligibility_rules", []).append(f"规则 {node.code} 引用的专业 {field} 不在专业领域列表中")
            for reg in node.registrations_any or []:
                if reg not in registrations:
                    errors.setdefault("eligibility_rules", []).append(f"规则 {node.code} 引用的执业资格 {reg} 不在执业资格列表中")
    return parsed, errors


def validate_policy_lists(profile) -> None:
    values = {name: getattr(profile, name) for name in LIST_SCHEMAS}
    values["eligibility_rules"] = profile.eligibility_rules
    values["articles"] = profile.articles
    values["limit_strictness"] = profile.limit_strictness
    _, errors = parse_policy_lists(values)
    # A city cites its own rule book: a violation kind citing another city's article is refused.
    prefix = getattr(getattr(profile, "city", None), "article_prefix", "") if profile.city_id else ""
    if prefix and isinstance(values.get("violation_kinds"), list):
        foreign = [str(item.get("code")) for item in values["violation_kinds"]
                   if isinstance(item, dict) and item.get("article") and not str(item["article"]).startswith(prefix)]
        if foreign:
            errors.setdefault("violation_kinds", []).append(
                f"违规情形须引用本市条款（以 {prefix} 开头）：{'、'.join(foreign)}")
    if errors:
        raise ValidationError({name: messages for name, messages in errors.items()})
