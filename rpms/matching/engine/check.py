"""An independent check of every hard rule on a result (check_solution)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .explain import _cand_label, _reason_text
from .problem import Candidate, MatchResult, SideRules, Slot
from .rules import eligibility


# ---------------------------------------------------------------------------------------- checking
def check_solution(slots: Sequence[Slot], candidates: Sequence[Candidate], result: MatchResult,
                   side_rules: SideRules | None = None) -> list[str]:
    """Every hard rule the result breaks, in Chinese (empty list = all rules hold). Independent of `solve`."""
    rules = side_rules or SideRules()
    problems = []
    slot_by_key = {s.key: s for s in slots}
    cand_by_id = {c.planner_id: c for c in candidates}
    forbidden = set(rules.forbidden)
    per_slot = defaultdict(int)
    per_cand = defaultdict(int)
    per_cand_unit = defaultdict(int)
    per_emp_district = defaultdict(int)
    assigned = {}
    for p in result.proposals:
        slot = slot_by_key.get(p.slot_key)
        cand = cand_by_id.get(p.planner_id)
        if slot is None:
            problems.append(f"建议中的岗位“{p.slot_key}”不存在")
            continue
        if cand is None:
            problems.append(f"建议中的规划师（编号 {p.planner_id}）不在候选人中")
            continue
        if (p.request_id, p.unit_id, p.role) != (slot.request_id, slot.unit_id, slot.role):
            problems.append(f"岗位“{p.slot_key}”的申请、单元或岗位类型与输入不一致")
        ok, code = eligibility(slot, cand)
        if not ok:
            problems.append(f"{_cand_label(cand)}不能担任岗位“{p.slot_key}”：{_reason_text(code, slot, cand)}")
        if (p.slot_key, p.planner_id) in forbidden:
            problems.append(f"{_cand_label(cand)}已被管理员排除出岗位“{p.slot_key}”，却被推荐")
        per_slot[p.slot_key] += 1
        per_cand[p.planner_id] += 1
        per_cand_unit[(p.planner_id, slot.unit_id)] += 1
        if cand.employer:
            per_emp_district[(cand.employer, slot.district_id)] += 1
        assigned[p.slot_key] = p.planner_id
    for key, n in sorted(per_slot.items()):
        if n > 1:
            problems.append(f"岗位“{key}”被分配了 {n} 名规划师")
    for pid, n in sorted(per_cand.items()):
        cap = cand_by_id[pid].capacity
        if cap is not None and n > cap:
            problems.append(f"{_cand_label(cand_by_id[pid])}被分配 {n} 个岗位，超过剩余可服务单元数 {cap}")
    for (pid, unit), n in sorted(per_cand_unit.items()):
        if n > 1:
            problems.append(f"{_cand_label(cand_by_id[pid])}在同一责任单元（编号 {unit}）被分配了 {n} 个岗位")
    limit = rules.max_same_employer_per_district
    if limit is not None:
        for (emp, dist), n in sorted(per_emp_district.items()):
            if n > limit:
                problems.append(f"同一单位（{emp}）在区（编号 {dist}）派驻 {n} 人，超过上限 {limit} 人")
    for key, pid in rules.pinned:
        if assigned.get(key) != pid:
            problems.append(f"管理员指定的规划师（编号 {pid}）未被安排到岗位“{key}”")
    unfilled_keys = [u.slot_key for u in result.unfilled]
    both = set(unfilled_keys) & set(per_slot)
    for key in sorted(both):
        problems.append(f"岗位“{key}”同时出现在建议和未派驻清单中")
    listed = set(unfilled_keys) | set(per_slot)
    for key in sorted(set(slot_by_key) - listed):
        problems.append(f"岗位“{key}”既未分配也未说明未派驻原因")
    if len(unfilled_keys) != len(set(unfilled_keys)):
        problems.append("未派驻清单中有重复岗位")
    total = sum(int(p.score) for p in result.proposals)
    if total != result.objective:
        problems.append(f"目标值 {result.objective} 与建议得分之和 {total} 不一致")
    return problems
