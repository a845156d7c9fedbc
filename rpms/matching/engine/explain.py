"""Chinese labels and texts: code labels, reason texts, the names of slots and candidates in messages."""
from __future__ import annotations

from .problem import Candidate, Slot

# Labels of the specialty and role codes both cities' policies use; callers may pass their own labels on
# the slot (Slot.specialty_labels / Slot.role_label), which win.
DEFAULT_SPECIALTY_LABELS = {
    "urban_rural_planning": "城乡规划", "urban_design": "城市设计", "architecture": "建筑学",
    "landscape": "风景园林", "structural_engineering": "结构工程", "municipal_transport": "市政交通",
    "historic_conservation": "历史文化保护", "urban_renewal": "城市更新", "land_use_control": "国土空间用途管制",
    "farmland_protection": "耕地保护", "public_participation": "公众参与与社区营造",
}
DEFAULT_ROLE_LABELS = {
    "responsible_planner": "责任规划师", "responsible_architect": "责任建筑师",
    "responsible_landscape_architect": "责任景观设计师", "responsible_engineer": "责任工程师",
    "planner": "责任规划师", "architect": "责任建筑师", "district_chief_planner": "区级总责任规划师",
}

# Reason codes of `eligibility` (and of pinned-pair refusals), with a Chinese text.
REASON_LABELS = {
    "role_not_allowed": "不可担任该岗位",
    "specialty_mismatch": "不具备岗位所需专业",
    "outside_service_area": "该区不在其服务范围内",
    "already_serves_unit": "已在该责任单元任职",
    "conflict_unit": "已申报与该责任单元存在利益冲突",
    "conflict_district": "已申报与该区存在利益冲突",
    "forbidden": "已被管理员排除",
}

TERM_LABELS = {"specialty": "专业匹配", "familiarity": "属地熟悉度", "experience": "从业经验", "grade": "既往考核"}



# ------------------------------------------------------------------------------------------ labels
def _spec_label(slot: Slot, code: str) -> str:
    for c, lab in slot.specialty_labels:
        if c == code:
            return lab
    return DEFAULT_SPECIALTY_LABELS.get(code, code)


def _role_label(slot: Slot) -> str:
    return slot.role_label or DEFAULT_ROLE_LABELS.get(slot.role, slot.role)


def _district_label(slot: Slot) -> str:
    if slot.district_label:
        return slot.district_label
    if slot.label and "·" in slot.label:
        return slot.label.split("·", 1)[0]
    return f"区（编号 {slot.district_id}）"


def _slot_label(slot: Slot) -> str:
    return slot.label or f"责任单元（编号 {slot.unit_id}）"


def _cand_label(c: Candidate) -> str:
    return c.label or f"规划师（编号 {c.planner_id}）"


def _reason_text(code: str, slot: Slot, c: Candidate | None = None) -> str:
    if code == "role_not_allowed":
        return f"不可担任{_role_label(slot)}岗位"
    if code == "specialty_mismatch":
        return f"不具备岗位所需专业（{'、'.join(_spec_label(slot, s) for s in slot.specialties)}）"
    if code == "outside_service_area":
        return f"{_district_label(slot)}不在其服务范围内"
    if code == "already_serves_unit":
        return f"已在{_slot_label(slot)}任职"
    if code == "conflict_unit":
        return f"已申报与{_slot_label(slot)}存在利益冲突"
    if code == "conflict_district":
        return f"已申报与{_district_label(slot)}存在利益冲突"
    return REASON_LABELS.get(code, code)
