"""The per-pair rules: eligibility (hard), the score (0..100 points) and the explanation of a proposal."""
from __future__ import annotations

import math

from .explain import TERM_LABELS, _cand_label, _district_label, _role_label, _slot_label, _spec_label
from .problem import EXPERIENCE_FULL_YEARS, NEUTRAL_GRADE, Candidate, Slot, Weights


# ------------------------------------------------------------------------------------ rules + score
def eligibility(slot: Slot, candidate: Candidate) -> tuple[bool, str | None]:
    """The per-pair hard rules. (True, None) when the candidate may fill the slot, else (False, code).

    Capacity and "once per unit" are about the whole assignment and are enforced by `solve`;
    hand exclusions (SideRules.forbidden) likewise.
    """
    if candidate.roles is not None and slot.role not in candidate.roles:
        return False, "role_not_allowed"
    if slot.specialties and not set(slot.specialties) & set(candidate.specialties):
        return False, "specialty_mismatch"
    if candidate.service_district_ids is not None and slot.district_id not in candidate.service_district_ids:
        return False, "outside_service_area"
    if slot.unit_id in candidate.held_unit_ids:
        return False, "already_serves_unit"
    if slot.unit_id in candidate.conflict_unit_ids:
        return False, "conflict_unit"
    if slot.district_id in candidate.conflict_district_ids:
        return False, "conflict_district"
    return True, None


def _round_half_up(weight: int, num: int, den: int) -> int:
    """round(weight * num / den) with halves up, in integers."""
    return (2 * weight * num + den) // (2 * den)


def _experience_points(years: int, weight: int) -> int:
    years = max(0, min(int(years or 0), EXPERIENCE_FULL_YEARS))
    return _round_half_up(weight, years, EXPERIENCE_FULL_YEARS)


def _grade_value(g: float | None) -> float:
    if g is None:
        return NEUTRAL_GRADE
    return min(1.0, max(0.0, float(g)))


def _grade_points(g: float | None, weight: int) -> int:
    return math.floor(weight * _grade_value(g) + 0.5)


def score(slot: Slot, candidate: Candidate, weights: Weights = Weights()) -> tuple[int, list[dict]]:
    """Integer points 0..100 and the terms that make them (Chinese labels and details)."""
    wanted = tuple(dict.fromkeys(slot.specialties))
    have = set(candidate.specialties)
    district = _district_label(slot)
    terms = []
    if wanted:
        covered = [s for s in wanted if s in have]
        missing = [s for s in wanted if s not in have]
        pts = _round_half_up(weights.specialty, len(covered), len(wanted))
        detail = f"具备所需专业 {len(covered)}/{len(wanted)} 项"
        if covered:
            detail += "：" + "、".join(_spec_label(slot, s) for s in covered)
        if missing:
            detail += "（缺：" + "、".join(_spec_label(slot, s) for s in missing) + "）"
    else:
        pts = weights.specialty
        detail = "岗位未限定专业，视为完全匹配"
    terms.append({"code": "specialty", "label": TERM_LABELS["specialty"], "points": pts,
                  "max": weights.specialty, "detail": detail})

    familiar = slot.district_id in candidate.familiar_district_ids
    terms.append({"code": "familiarity", "label": TERM_LABELS["familiarity"],
                  "points": weights.familiarity if familiar else 0, "max": weights.familiarity,
                  "detail": f"熟悉{district}" if familiar else f"未登记熟悉{district}"})

    years = max(0, int(candidate.experience_years or 0))
    terms.append({"code": "experience", "label": TERM_LABELS["experience"],
                  "points": _experience_points(years, weights.experience), "max": weights.experience,
                  "detail": f"从业 {years} 年（{EXPERIENCE_FULL_YEARS} 年及以上得满分）"})

    if candidate.last_grade_score is None:
        gdetail = f"尚无考核结果，按中间值 {NEUTRAL_GRADE:g} 计"
    else:
        gdetail = f"最近一次考核得分 {_grade_value(candidate.last_grade_score):.2f}（满分 1）"
    terms.append({"code": "grade", "label": TERM_LABELS["grade"],
                  "points": _grade_points(candidate.last_grade_score, weights.grade), "max": weights.grade,
                  "detail": gdetail})
    return sum(t["points"] for t in terms), terms


def _explanation(slot: Slot, cand: Candidate, weights: Weights, *, remaining_after: int | None,
                 pinned: bool, employer_rule: int | None) -> dict:
    total, terms = score(slot, cand, weights)
    role = _role_label(slot)
    checks = [
        {"code": "role", "label": f"可担任{role}岗位", "passed": True},
        {"code": "specialty", "label": ("具备所需专业之一：" + "、".join(_spec_label(slot, s) for s in slot.specialties))
         if slot.specialties else "岗位未限定专业", "passed": True},
        {"code": "service_area", "label": f"服务范围包含{_district_label(slot)}" if cand.service_district_ids is not None
         else "未限定服务范围", "passed": True},
        {"code": "not_held", "label": f"未在{_slot_label(slot)}任职", "passed": True},
        {"code": "no_conflict_unit", "label": f"未申报与{_slot_label(slot)}的利益冲突", "passed": True},
        {"code": "no_conflict_district", "label": f"未申报与{_district_label(slot)}的利益冲突", "passed": True},
        {"code": "not_forbidden", "label": "未被管理员排除", "passed": True},
        {"code": "capacity", "label": "服务单元数未超上限" + (
            f"（本轮后剩余 {remaining_after} 个名额）" if remaining_after is not None else "（不设上限）"),
         "passed": True},
        {"code": "once_per_unit", "label": "本轮在该责任单元只承担一个岗位", "passed": True},
    ]
    if employer_rule is not None and cand.employer:
        checks.append({"code": "employer_per_district",
                       "label": f"同一单位（{cand.employer}）在{_district_label(slot)}派驻不超过 {employer_rule} 人",
                       "passed": True})
    parts = "、".join(f"{t['label']} {t['points']}/{t['max']}" for t in terms)
    how = "由管理员指定" if pinned else "推荐"
    summary = f"{how}{_cand_label(cand)}担任{_slot_label(slot)}的{role}，匹配得分 {total}/100（{parts}）。"
    return {"terms": terms, "checks": checks, "summary": summary, "score": total, "pinned": pinned}
