"""Eligibility checked against a city's rules as data (B18, P4), rule by rule, with the article.

Facts describe an applicant (or a team's leader, B18):
    degree, degree_field, title_level, title_field, registrations, experience_years, declarations
A rule is a group (`all_of`, `any_of`), an applicant declaration (checked by the applicant's
statement, then by review), or a leaf whose conditions must all hold."""
from __future__ import annotations

from dataclasses import dataclass, field

from rpms.core.errors import DomainError

from .schemas import EligibilityRules, RuleNode
from .vocabulary import DegreeLevel, TitleLevel, degree_rank, title_rank


@dataclass
class Facts:
    degree: str = DegreeLevel.NONE
    degree_field: str = ""
    title_level: str = TitleLevel.NONE
    title_field: str = ""
    registrations: list[str] = field(default_factory=list)
    experience_years: int = 0
    declarations: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> "Facts":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and data[k] is not None}
        return cls(**known)


@dataclass
class Outcome:
    code: str
    label: str
    article: str
    passed: bool
    detail: str
    kind: str  # "all_of" | "any_of" | "declaration" | "condition"
    children: list["Outcome"] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "rule": self.code,
            "code": self.code,
            "label": self.label,
            "reason": self.detail,
            "article": self.article,
            "passed": self.passed,
            "detail": self.detail,
            "kind": self.kind,
            "children": [c.as_dict() for c in self.children],
        }


@dataclass
class EligibilityResult:
    eligible: bool
    article: str
    outcomes: list[Outcome]

    def as_dict(self) -> dict:
        return {"eligible": self.eligible, "article": self.article, "rules": [o.as_dict() for o in self.outcomes]}

    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]


class _Labels:
    def __init__(self, policy):
        self.fields = {s["code"]: s["label"] for s in policy.specialties}
        self.registrations = {r["code"]: r["label"] for r in policy.registrations}

    def field_list(self, codes):
        return "、".join(self.fields.get(c, c) for c in codes)

    def registration_list(self, codes):
        return "、".join(self.registrations.get(c, c) for c in codes)


def _condition(node: RuleNode, facts: Facts, labels: _Labels) -> tuple[bool, str]:
    checks: list[tuple[bool, str]] = []
    if node.degree_min is not None or node.degree_fields is not None:
        ok = True
        have = f"{DegreeLevel(facts.degree).label if facts.degree in DegreeLevel.values else facts.degree}"
        want = []
        if node.degree_min is not None:
            ok &= degree_rank(facts.degree) >= degree_rank(node.degree_min)
            want.append(f"{DegreeLevel(node.degree_min).label}及以上")
        if node.degree_fields is not None:
            ok &= facts.degree_field in node.degree_fields
            want.append(f"专业为{labels.field_list(node.degree_fields)}之一")
            have += f"（{labels.fields.get(facts.degree_field, facts.degree_field or '未填专业')}）"
        checks.append((ok, f"学历：{have}；要求{'，'.join(want)}"))
    if node.title_level_min is not None or node.title_fields is not None:
        ok = True
        have = TitleLevel(facts.title_level).label if facts.title_level in TitleLevel.values else facts.title_level
        want = []
        if node.title_level_min is not None:
            ok &= title_rank(facts.title_level) >= title_rank(node.title_level_min)
            want.append(f"{TitleLevel(node.title_level_min).label}及以上")
        if node.title_fields is not None:
            ok &= facts.title_field in node.title_fields
            want.append(f"专业为{labels.field_list(node.title_fields)}之一")
            have += f"（{labels.fields.get(facts.title_field, facts.title_field or '未填专业')}）"
        checks.append((ok, f"职称：{have}；要求{'，'.join(want)}"))
    if node.registrations_any is not None:
        held = [r for r in facts.registrations if r in node.registrations_any]
        have = labels.registration_list(facts.registrations) or "无"
        checks.append((bool(held), f"执业资格：{have}；要求具备{labels.registration_list(node.registrations_any)}之一"))
    if node.experience_years_min is not None:
        checks.append(
            (facts.experience_years >= node.experience_years_min,
             f"相关工作年限：{facts.experience_years} 年；要求不少于 {node.experience_years_min} 年")
        )
    passed = all(ok for ok, _ in checks)
    return passed, "；".join(text for _, text in checks)


def _evaluate(node: RuleNode, facts: Facts, labels: _Labels, article: str) -> Outcome:
    article = node.article or article
    if node.all_of is not None or node.any_of is not None:
        kind = "all_of" if node.all_of is not None else "any_of"
        children = [_evaluate(child, facts, labels, article) for child in (node.all_of or node.any_of)]
        passed = all(c.passed for c in children) if kind == "all_of" else any(c.passed for c in children)
        if kind == "all_of":
            detail = "各项均须满足" + ("，已满足" if passed else "，尚有未满足项")
        else:
            detail = "满足其一即可" + ("，已满足" if passed else "，均未满足")
        return Outcome(node.code, node.label, article, passed, detail, kind, children)
    if node.declaration:
        passed = node.code in facts.declarations
        detail = "申请人已声明符合，由审核人员核实" if passed else "申请人未声明符合"
        return Outcome(node.code, node.label, article, passed, detail, "declaration")
    passed, detail = _condition(node, facts, labels)
    return Outcome(node.code, node.label, article, passed, ("符合。" if passed else "不符合。") + detail, "condition")


def eligibility_check(*, policy, facts: Facts | dict) -> EligibilityResult:
    """Evaluates every top-level rule of the policy (all must pass) and explains each."""
    if isinstance(facts, dict):
        facts = Facts.from_dict(facts)
    rules = EligibilityRules.model_validate(policy.eligibility_rules)
    labels = _Labels(policy)
    outcomes = [_evaluate(rule, facts, labels, rules.article) for rule in rules.rules]
    return EligibilityResult(all(o.passed for o in outcomes), rules.article, outcomes)


def declaration_rules(policy) -> list[dict]:
    """The policy's declaration rules (statements the applicant, or the person commissioned, makes), in
    order: {"code", "label", "article"}."""
    found = []

    def walk(node, article):
        article = node.get("article") or article
        if node.get("declaration"):
            found.append({"code": node["code"], "label": node.get("label", ""), "article": article})
        for child in (node.get("all_of") or node.get("any_of") or []):
            walk(child, article)

    rules = policy.eligibility_rules or {}
    for rule in rules.get("rules", []):
        walk(rule, rules.get("article", ""))
    return found


def code_list(value, *, label: str) -> list[str]:
    """A list of codes from form/API data (one code or a list), trimmed, duplicates dropped."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise DomainError(f"{label}格式不正确。", code="invalid_field")
    return list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))


def facts_from_data(data: dict) -> dict:
    """Eligibility facts (B18, P4) read leniently from raw form/API data, for the check shown before
    submitting; the same facts come from the cleaned data at submission."""
    try:
        years = max(0, int(str(data.get("experience_years") or 0).strip()))
    except (TypeError, ValueError):
        years = 0
    return {
        "degree": str(data.get("degree") or DegreeLevel.NONE),
        "degree_field": str(data.get("degree_field") or ""),
        "title_level": str(data.get("title_level") or TitleLevel.NONE),
        "title_field": str(data.get("title_field") or ""),
        "registrations": code_list(data.get("registrations"), label="执业资格"),
        "experience_years": years,
        "declarations": code_list(data.get("declarations"), label="申请人声明"),
    }
