"""The matching engine (统筹选派, P6(2)) without a database: hard rules, optimality, determinism, explanations."""
from __future__ import annotations

import json
import random
from collections import defaultdict

import pytest

from rpms.matching.engine import (
    Candidate,
    MatchResult,
    Proposal,
    SideRules,
    Slot,
    Weights,
    check_solution,
    eligibility,
    score,
    solve,
)

PLANNER, ARCHITECT = "responsible_planner", "responsible_architect"
HAIDIAN, CHAOYANG = 110108, 110105


def slot(key, unit, *, district=HAIDIAN, role=PLANNER, specialties=("urban_rural_planning",), request=1, **kw):
    return Slot(key=key, request_id=request, unit_id=unit, district_id=district, role=role,
                specialties=tuple(specialties), label=kw.pop("label", f"海淀区·单元{unit}"),
                district_label=kw.pop("district_label", "海淀区" if district == HAIDIAN else "朝阳区"), **kw)


def cand(pid, *, specialties=("urban_rural_planning",), familiar=(), years=10, capacity=3, grade=None, **kw):
    return Candidate(planner_id=pid, specialties=tuple(specialties), familiar_district_ids=frozenset(familiar),
                     experience_years=years, capacity=capacity, last_grade_score=grade,
                     label=kw.pop("label", f"规划师{pid}"), **kw)


def pairs(result: MatchResult) -> dict[str, int]:
    return {p.slot_key: p.planner_id for p in result.proposals}


def reasons(result: MatchResult) -> dict[str, str]:
    return {u.slot_key: u.reason_code for u in result.unfilled}


# ----------------------------------------------------------------------------------- brute force reference
def brute_force(slots, cands, rules: SideRules | None = None, weights: Weights | None = None):
    """Exhaustive search: the lexicographic optimum (filled, total score) under every hard rule."""
    rules = rules or SideRules()
    weights = weights or Weights()
    forbidden = set(rules.forbidden)
    pinned = dict(rules.pinned)
    by_id = {c.planner_id: c for c in cands}
    slots = sorted(slots, key=lambda s: s.key)
    options = []
    for s in slots:
        if s.key in pinned:
            options.append([by_id[pinned[s.key]]])
            continue
        opts = [None] + [c for c in cands if eligibility(s, c)[0] and (s.key, c.planner_id) not in forbidden]
        options.append(opts)
    best = [(-1, -1)]
    used = defaultdict(int)
    in_unit = set()
    emp = defaultdict(int)

    def rec(i, filled, total):
        if i == len(slots):
            best[0] = max(best[0], (filled, total))
            return
        s = slots[i]
        for c in options[i]:
            if c is None:
                rec(i + 1, filled, total)
                continue
            if c.capacity is not None and used[c.planner_id] >= c.capacity:
                continue
            if (c.planner_id, s.unit_id) in in_unit:
                continue
            ek = (c.employer, s.district_id)
            if rules.max_same_employer_per_district is not None and c.employer \
                    and emp[ek] >= rules.max_same_employer_per_district:
                continue
            used[c.planner_id] += 1
            in_unit.add((c.planner_id, s.unit_id))
            emp[ek] += 1
            rec(i + 1, filled + 1, total + score(s, c, weights)[0])
            used[c.planner_id] -= 1
            in_unit.discard((c.planner_id, s.unit_id))
            emp[ek] -= 1

    rec(0, 0, 0)
    return best[0]


SPECS = ["urban_rural_planning", "architecture", "landscape", "urban_design"]


def random_instance(rng: random.Random, n_slots: int, n_cands: int):
    units = list(range(1, 4))
    slots = []
    for k in range(n_slots):
        unit = rng.choice(units)
        wanted = tuple(rng.sample(SPECS, rng.choice([0, 1, 1, 2])))
        slots.append(Slot(key=f"s{k}", request_id=rng.choice([1, 2]), unit_id=unit,
                          district_id=HAIDIAN if unit < 3 else CHAOYANG, role=rng.choice([PLANNER, PLANNER, ARCHITECT]),
                          specialties=wanted))
    cands = []
    for pid in range(1, n_cands + 1):
        cands.append(Candidate(
            planner_id=pid * 7, specialties=tuple(rng.sample(SPECS, rng.choice([1, 2, 3]))),
            familiar_district_ids=frozenset(rng.sample([HAIDIAN, CHAOYANG], rng.choice([0, 1]))),
            experience_years=rng.randint(0, 20), capacity=rng.choice([None, 0, 1, 1, 2]),
            held_unit_ids=frozenset(rng.sample(units, 1)) if rng.random() < 0.2 else frozenset(),
            conflict_unit_ids=frozenset(rng.sample(units, 1)) if rng.random() < 0.15 else frozenset(),
            conflict_district_ids=frozenset([CHAOYANG]) if rng.random() < 0.1 else frozenset(),
            last_grade_score=None if rng.random() < 0.4 else rng.choice([0.3, 0.6, 0.85, 1.0]),
            employer=rng.choice(["甲设计院", "乙设计院", ""]),
            roles=None if rng.random() < 0.7 else frozenset([PLANNER]),
            service_district_ids=None if rng.random() < 0.8 else frozenset([HAIDIAN]),
        ))
    return slots, cands


def summary(result: MatchResult):
    return result.filled, result.objective


# ---------------------------------------------------------------------------------------------- hard rules
def test_capacity_limits_how_many_slots_one_planner_takes():
    slots = [slot("a", 1), slot("b", 2), slot("c", 3)]
    only = cand(1, capacity=2)
    result = solve(slots, [only])
    assert result.filled == 2
    assert list(pairs(result).values()) == [1, 1]
    [u] = result.unfilled
    assert u.reason_code == "competition"
    assert "名额用满" in u.reason
    assert check_solution(slots, [only], result) == []


def test_a_planner_at_the_cap_already_is_not_proposed():
    result = solve([slot("a", 1)], [cand(1, capacity=0)])
    assert result.proposals == []
    assert reasons(result) == {"a": "all_at_capacity"}
    assert "上限" in result.unfilled[0].reason


def test_a_planner_takes_at_most_one_slot_per_unit_across_roles():
    slots = [slot("a", 1, role=PLANNER), slot("b", 1, role=ARCHITECT)]
    result = solve(slots, [cand(1, capacity=3)])
    assert result.filled == 1
    [u] = result.unfilled
    assert u.reason_code == "competition"
    assert u.details["same_unit_other_role"] == 1
    assert "本单元承担其他岗位" in u.reason


def test_identical_slots_of_one_unit_get_distinct_planners():
    slots = [slot(f"u1:{k}", 1) for k in range(3)]
    cands = [cand(1), cand(2), cand(3, years=20)]
    result = solve(slots, cands)
    assert sorted(pairs(result).values()) == [1, 2, 3]
    assert result.stats["groups"] == 1          # aggregated into one node of capacity 3
    assert check_solution(slots, cands, result) == []


def test_a_planner_already_serving_the_unit_is_excluded_there():
    c = cand(1, held_unit_ids=frozenset({1}))
    assert eligibility(slot("a", 1), c) == (False, "already_serves_unit")
    result = solve([slot("a", 1), slot("b", 2)], [c])
    assert pairs(result) == {"b": 1}
    assert reasons(result) == {"a": "all_excluded"}
    assert "已在该单元任职 1 名" in result.unfilled[0].reason


def test_declared_conflict_with_the_unit_excludes_the_planner():
    c = cand(1, conflict_unit_ids=frozenset({1}))
    assert eligibility(slot("a", 1), c) == (False, "conflict_unit")
    result = solve([slot("a", 1)], [c, cand(2, years=0)])
    assert pairs(result) == {"a": 2}


def test_declared_conflict_with_the_district_excludes_every_unit_there():
    c = cand(1, conflict_district_ids=frozenset({HAIDIAN}), years=30)
    assert eligibility(slot("a", 1), c) == (False, "conflict_district")
    assert eligibility(slot("b", 5, district=CHAOYANG), c) == (True, None)
    result = solve([slot("a", 1), slot("b", 5, district=CHAOYANG)], [c])
    assert pairs(result) == {"b": 1}
    assert reasons(result) == {"a": "all_excluded"}
    assert "利益冲突" in result.unfilled[0].reason


def test_a_wanted_specialty_is_required():
    architect_only = cand(1, specialties=("architecture",))
    s = slot("a", 1, specialties=("urban_rural_planning", "landscape"))
    assert eligibility(s, architect_only) == (False, "specialty_mismatch")
    result = solve([s], [architect_only])
    assert reasons(result) == {"a": "no_specialty"}
    assert "城乡规划、风景园林" in result.unfilled[0].reason


def test_a_slot_wanting_no_specialty_accepts_anyone():
    s = slot("a", 1, specialties=())
    result = solve([s], [cand(1, specialties=("architecture",))])
    assert pairs(result) == {"a": 1}
    term = result.proposals[0].explanation["terms"][0]
    assert term["code"] == "specialty" and term["points"] == term["max"] == 40


def test_a_planner_only_fills_roles_it_may_hold():
    planner_only = cand(1, roles=frozenset({PLANNER}))
    s = slot("a", 1, role=ARCHITECT)
    assert eligibility(s, planner_only) == (False, "role_not_allowed")
    result = solve([s], [planner_only])
    assert reasons(result) == {"a": "no_role"}
    assert "责任建筑师" in result.unfilled[0].reason


def test_a_planner_only_serves_its_declared_service_area():
    c = cand(1, service_district_ids=frozenset({CHAOYANG}))
    assert eligibility(slot("a", 1), c) == (False, "outside_service_area")
    result = solve([slot("a", 1)], [c])
    assert reasons(result) == {"a": "outside_service_area"}


def test_a_pair_forbidden_by_hand_is_excluded():
    slots = [slot("a", 1)]
    best, other = cand(1, years=20, familiar=[HAIDIAN]), cand(2, years=1)
    assert pairs(solve(slots, [best, other])) == {"a": 1}
    rules = SideRules(forbidden=(("a", 1),))
    result = solve(slots, [best, other], side_rules=rules)
    assert pairs(result) == {"a": 2}
    assert check_solution(slots, [best, other], result, rules) == []
    only = solve(slots, [best], side_rules=rules)
    assert reasons(only) == {"a": "all_excluded"}
    assert "被管理员排除 1 名" in only.unfilled[0].reason


def test_a_pinned_pair_is_honoured_even_when_not_the_best():
    slots = [slot("a", 1)]
    best, other = cand(1, years=20, familiar=[HAIDIAN]), cand(2, years=1)
    rules = SideRules(pinned=(("a", 2),))
    result = solve(slots, [best, other], side_rules=rules)
    assert pairs(result) == {"a": 2}
    assert result.proposals[0].pinned
    assert "由管理员指定" in result.proposals[0].explanation["summary"]
    assert check_solution(slots, [best, other], result, rules) == []


def test_a_pin_uses_capacity_and_the_unit():
    slots = [slot("a", 1), slot("b", 1, role=ARCHITECT), slot("c", 2)]
    c1 = cand(1, capacity=2, years=20)
    c2 = cand(2, years=0)
    result = solve(slots, [c1, c2], side_rules=SideRules(pinned=(("a", 1),)))
    got = pairs(result)
    assert got["a"] == 1
    assert got["b"] == 2            # planner 1 is already in unit 1
    assert got["c"] == 1            # its second and last unit


@pytest.mark.parametrize("rules, fragment", [
    (SideRules(pinned=(("a", 3),)), "利益冲突"),                      # conflict with the unit
    (SideRules(pinned=(("a", 4),)), "不具备岗位所需专业"),               # wrong specialty
    (SideRules(pinned=(("a", 5),)), "不可担任"),                        # role not allowed
    (SideRules(pinned=(("a", 6),)), "已在"),                            # already serves the unit
    (SideRules(pinned=(("a", 1), ("b", 1))), "同一责任单元只能承担一个岗位"),  # twice in one unit
    (SideRules(pinned=(("a", 2), ("c", 2))), "最多还能服务 1 个"),         # over its capacity
    (SideRules(pinned=(("a", 1), ("a", 2))), "被指定了多名规划师"),          # two planners in one slot
    (SideRules(pinned=(("zz", 1),)), "不在本次匹配范围内"),                 # unknown slot
    (SideRules(pinned=(("a", 99),)), "不在本次候选人中"),                  # not in the pool
    (SideRules(pinned=(("a", 1),), forbidden=(("a", 1),)), "同时被指定和排除"),
    (SideRules(pinned=(("a", 1), ("c", 7)), max_same_employer_per_district=1), "甲设计院"),
])
def test_a_pin_that_breaks_a_hard_rule_is_refused_in_chinese(rules, fragment):
    slots = [slot("a", 1), slot("b", 1, role=ARCHITECT), slot("c", 2)]
    cands = [cand(1, employer="甲设计院"), cand(2, capacity=1), cand(3, conflict_unit_ids=frozenset({1})),
             cand(4, specialties=("landscape",)), cand(5, roles=frozenset({ARCHITECT})),
             cand(6, held_unit_ids=frozenset({1})), cand(7, employer="甲设计院")]
    with pytest.raises(ValueError) as err:
        solve(slots, cands, side_rules=rules)
    assert fragment in str(err.value)


def test_bad_weights_and_duplicate_inputs_are_refused():
    with pytest.raises(ValueError, match="之和必须为 100"):
        solve([slot("a", 1)], [cand(1)], weights=Weights(specialty=50))
    with pytest.raises(ValueError, match="岗位编号重复"):
        solve([slot("a", 1), slot("a", 2)], [cand(1)])
    with pytest.raises(ValueError, match="候选人编号重复"):
        solve([slot("a", 1)], [cand(1), cand(1)])
    with pytest.raises(ValueError, match="0 到 1"):
        solve([slot("a", 1)], [cand(1, grade=1.5)])


# ------------------------------------------------------------------------------------------- objective
def test_filling_every_slot_comes_before_the_best_single_score():
    # Greedy would give the star (best score on both) to slot a and leave b empty; the engine fills both.
    slots = [slot("a", 1, specialties=("urban_rural_planning",)), slot("b", 2, specialties=("architecture",))]
    star = cand(1, specialties=("urban_rural_planning", "architecture"), years=20, familiar=[HAIDIAN], capacity=1)
    plain = cand(2, specialties=("urban_rural_planning",), years=0, capacity=1)
    greedy_first = max([star, plain], key=lambda c: score(slots[0], c)[0])
    assert greedy_first is star
    result = solve(slots, [plain, star])
    assert pairs(result) == {"a": 2, "b": 1}
    assert result.unfilled == []
    assert result.optimal and result.method == "min_cost_flow"


def test_among_full_fillings_the_total_score_is_maximal():
    slots = [slot("a", 1, specialties=("urban_rural_planning",)), slot("b", 2, specialties=("urban_rural_planning",),
                                                                         district=CHAOYANG)]
    knows_haidian = cand(1, familiar=[HAIDIAN], capacity=1)
    knows_chaoyang = cand(2, familiar=[CHAOYANG], capacity=1)
    result = solve(slots, [knows_chaoyang, knows_haidian])
    assert pairs(result) == {"a": 1, "b": 2}
    assert result.objective == sum(score(s, c)[0] for s, c in zip(slots, [knows_haidian, knows_chaoyang]))


def test_equal_scores_go_to_the_lower_planner_id():
    result = solve([slot("a", 1)], [cand(9), cand(3), cand(5)])
    assert pairs(result) == {"a": 3}


@pytest.mark.parametrize("seed", range(40))
def test_the_engine_matches_exhaustive_search_on_small_random_instances(seed):
    rng = random.Random(seed)
    slots, cands = random_instance(rng, rng.randint(1, 5), rng.randint(1, 4))
    keys = [s.key for s in slots]
    forbidden = tuple((rng.choice(keys), rng.choice(cands).planner_id) for _ in range(rng.randint(0, 2)))
    rules = SideRules(forbidden=forbidden)
    result = solve(slots, cands, side_rules=rules)
    assert check_solution(slots, cands, result, rules) == []
    assert summary(result) == brute_force(slots, cands, rules)
    assert result.optimal
    for p in result.proposals:           # the vectorised scores are the documented ones
        s = next(x for x in slots if x.key == p.slot_key)
        c = next(x for x in cands if x.planner_id == p.planner_id)
        assert p.score == score(s, c)[0]


@pytest.mark.parametrize("seed", range(25))
def test_the_cp_sat_path_matches_exhaustive_search_with_the_employer_rule(seed):
    rng = random.Random(1000 + seed)
    slots, cands = random_instance(rng, rng.randint(2, 5), rng.randint(2, 4))
    rules = SideRules(max_same_employer_per_district=rng.choice([0, 1, 1, 2]))
    result = solve(slots, cands, side_rules=rules)
    assert result.method == "cp_sat"
    assert result.optimal
    assert check_solution(slots, cands, result, rules) == []
    assert summary(result) == brute_force(slots, cands, rules)


def test_the_employer_rule_spreads_one_firms_planners_over_districts():
    slots = [slot("a", 1), slot("b", 2), slot("c", 5, district=CHAOYANG)]
    firm = [cand(i, employer="甲设计院", years=20, familiar=[HAIDIAN], capacity=1) for i in (1, 2)]
    other = [cand(3, employer="乙设计院", years=0, capacity=1)]
    free = solve(slots, firm + other)
    assert {free.proposals[0].planner_id, free.proposals[1].planner_id} == {1, 2}   # both firm planners in 海淀
    rules = SideRules(max_same_employer_per_district=1)
    result = solve(slots, firm + other, side_rules=rules)
    assert result.method == "cp_sat" and result.optimal
    assert result.filled == 3
    haidian = [p.planner_id for p in result.proposals if p.slot_key in ("a", "b")]
    assert sorted(haidian) in ([1, 3], [2, 3])
    assert check_solution(slots, firm + other, result, rules) == []
    assert summary(result) == brute_force(slots, firm + other, rules)
    checks = {c["code"] for c in result.proposals[0].explanation["checks"]}
    assert "employer_per_district" in checks


def test_an_employer_limit_leaving_a_slot_empty_is_the_reason_given():
    slots = [slot("a", 1), slot("b", 2)]
    cands = [cand(1, employer="甲设计院"), cand(2, employer="甲设计院")]
    result = solve(slots, cands, side_rules=SideRules(max_same_employer_per_district=1))
    assert result.filled == 1 and result.optimal
    [u] = result.unfilled
    assert u.reason_code == "employer_limit"
    assert "甲设计院" not in u.reason and "上限（1 人）" in u.reason


# -------------------------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("employer_rule", [None, 1])
def test_the_same_input_in_any_order_gives_the_same_output(employer_rule):
    rng = random.Random(7)
    slots, cands = [], []
    for u in range(12):
        for k in range(rng.randint(1, 3)):
            slots.append(slot(f"u{u}:{k}", 100 + u, district=HAIDIAN if u < 6 else CHAOYANG,
                              role=PLANNER if k == 0 else ARCHITECT,
                              specialties=tuple(rng.sample(SPECS, rng.choice([0, 1, 2]))), request=u // 4))
    for pid in range(1, 25):   # many ties: few distinct attributes
        cands.append(cand(pid, specialties=tuple(rng.sample(SPECS, 2)), years=rng.choice([5, 15]),
                          familiar=[rng.choice([HAIDIAN, CHAOYANG])], capacity=rng.choice([1, 2]),
                          employer=rng.choice(["甲", "乙", "丙"])))
    rules = SideRules(max_same_employer_per_district=employer_rule)
    base = solve(slots, cands, side_rules=rules)

    def comparable(r):
        d = r.as_dict()
        return d["proposals"], d["unfilled"], d["objective"], d["optimal"], d["method"]

    for trial in range(4):
        s2, c2 = slots[:], cands[:]
        random.Random(trial).shuffle(s2)
        random.Random(100 + trial).shuffle(c2)
        assert comparable(solve(s2, c2, side_rules=rules)) == comparable(base)


# ------------------------------------------------------------------------------------------- explanations
def test_explanation_terms_sum_to_the_score_and_speak_chinese():
    s = slot("a", 1, specialties=("urban_rural_planning", "architecture"), label="海淀区·万寿路街道")
    c = cand(1, specialties=("urban_rural_planning",), familiar=[HAIDIAN], years=9, grade=0.8, label="张三")
    total, terms = score(s, c)
    assert [t["code"] for t in terms] == ["specialty", "familiarity", "experience", "grade"]
    assert total == sum(t["points"] for t in terms)
    assert sum(t["max"] for t in terms) == 100
    by = {t["code"]: t for t in terms}
    assert by["specialty"]["points"] == 20 and "缺：建筑学" in by["specialty"]["detail"]
    assert by["familiarity"]["points"] == 25 and by["familiarity"]["detail"] == "熟悉海淀区"
    assert by["experience"]["points"] == 12           # 9/15 of 20
    assert by["grade"]["points"] == 12                # 0.8 of 15
    result = solve([s], [c])
    [p] = result.proposals
    expl = p.explanation
    assert p.score == total == sum(t["points"] for t in expl["terms"])
    assert all(ch["passed"] is True for ch in expl["checks"])
    assert {"role", "specialty", "not_held", "no_conflict_unit", "no_conflict_district", "capacity",
            "once_per_unit", "not_forbidden"} <= {ch["code"] for ch in expl["checks"]}
    assert "张三" in expl["summary"] and "万寿路街道" in expl["summary"] and f"{total}/100" in expl["summary"]
    json.dumps(result.as_dict(), ensure_ascii=False)   # JSON-safe


def test_never_assessed_planners_get_the_neutral_middle_grade():
    s = slot("a", 1)
    _, terms = score(s, cand(1, grade=None))
    grade = terms[-1]
    assert grade["points"] == 8 and "中间值" in grade["detail"]
    assert score(s, cand(1, grade=0.0))[0] < score(s, cand(1, grade=None))[0] < score(s, cand(1, grade=1.0))[0]


def test_experience_is_capped():
    s = slot("a", 1)
    assert score(s, cand(1, years=15))[0] == score(s, cand(1, years=40))[0]
    assert score(s, cand(1, years=14))[0] < score(s, cand(1, years=15))[0]


def test_custom_weights_change_the_choice():
    s = slot("a", 1)
    veteran = cand(1, years=30)
    local = cand(2, years=0, familiar=[HAIDIAN])
    assert pairs(solve([s], [veteran, local])) == {"a": 2}
    heavy_experience = Weights(specialty=20, familiarity=10, experience=60, grade=10)
    assert pairs(solve([s], [veteran, local], weights=heavy_experience)) == {"a": 1}


def test_unfilled_reasons_name_the_cause():
    slots = [
        slot("farm", 1, specialties=("farmland_protection",)),
        slot("arch", 2, role=ARCHITECT),
        slot("held", 3),
        slot("cap", 4, district=CHAOYANG),
    ]
    cands = [
        cand(1, roles=frozenset({PLANNER}), held_unit_ids=frozenset({3}), capacity=1,
             service_district_ids=frozenset({HAIDIAN})),
        cand(2, roles=frozenset({PLANNER}), capacity=0, conflict_unit_ids=frozenset({3})),
    ]
    result = solve(slots, cands)
    got = {u.slot_key: u for u in result.unfilled}
    assert got["farm"].reason_code == "no_specialty" and "耕地保护" in got["farm"].reason
    assert got["arch"].reason_code == "no_role"
    assert got["held"].reason_code == "all_excluded"
    assert "已在该单元任职 1 名" in got["held"].reason and "申报了与该单元的利益冲突 1 名" in got["held"].reason
    assert got["cap"].reason_code == "all_at_capacity"
    assert all(u.reason.startswith(f"海淀区·单元{u.unit_id}的") for u in result.unfilled)
    assert check_solution(slots, cands, result) == []


def test_an_empty_pool_or_no_slots_is_handled():
    empty = solve([slot("a", 1)], [])
    assert empty.unfilled[0].reason_code == "no_candidates"
    nothing = solve([], [cand(1)])
    assert nothing.proposals == [] and nothing.unfilled == [] and nothing.optimal


# ---------------------------------------------------------------------------------------- check_solution
def test_check_solution_catches_a_hand_corrupted_result():
    slots = [slot("a", 1), slot("b", 1, role=ARCHITECT), slot("c", 2), slot("d", 3)]
    cands = [cand(1, capacity=1), cand(2), cand(3), cand(4, held_unit_ids=frozenset({3}), employer="甲"),
             cand(5, employer="甲")]
    rules = SideRules(forbidden=(("c", 3),), pinned=(("d", 5),))
    result = solve(slots, cands, side_rules=rules)
    assert check_solution(slots, cands, result, rules) == []

    def corrupt(**changes):
        props = [Proposal(**p.__dict__) for p in result.proposals]
        for key, pid in changes.items():
            for p in props:
                if p.slot_key == key:
                    p.planner_id = pid
        r = MatchResult(proposals=props, unfilled=result.unfilled, objective=result.objective,
                        optimal=True, seconds=0.0, method="min_cost_flow")
        return check_solution(slots, cands, r, rules)

    assert any("同一责任单元" in m for m in corrupt(a=2, b=2))          # once per unit
    assert any("超过剩余可服务单元数" in m for m in corrupt(a=1, c=1))     # capacity
    assert any("已在" in m for m in corrupt(d=4))                         # held unit (and the pin is broken)
    assert any("未被安排" in m for m in corrupt(d=2))                     # pin not honoured
    assert any("排除" in m for m in corrupt(c=3))                         # forbidden
    assert any("不在候选人中" in m for m in corrupt(a=99))
    broken = MatchResult(proposals=result.proposals + [result.proposals[0]], unfilled=[], objective=0,
                         optimal=True, seconds=0.0, method="min_cost_flow")
    problems = check_solution(slots, cands, broken, rules)
    assert any("被分配了 2 名规划师" in m for m in problems)
    assert any("目标值" in m for m in problems)
    missing = MatchResult(proposals=result.proposals[1:], unfilled=[], objective=result.objective
                          - int(result.proposals[0].score), optimal=True, seconds=0.0, method="min_cost_flow")
    assert any("既未分配也未说明" in m for m in check_solution(slots, cands, missing, rules))
    assert any("同一单位" in m for m in check_solution(
        slots, cands, result, SideRules(max_same_employer_per_district=0, pinned=rules.pinned)))


def test_a_sparse_larger_instance_is_solved_and_checked():
    rng = random.Random(3)
    slots, cands = [], []
    for u in range(300):
        d = u // 10
        for k in range(rng.randint(1, 2)):
            slots.append(Slot(key=f"u{u}:{k}", request_id=d, unit_id=u, district_id=d,
                              role=PLANNER if k == 0 else ARCHITECT,
                              specialties=tuple(rng.sample(SPECS, rng.choice([0, 1, 2])))))
    for pid in range(1, 400):
        home = rng.randrange(30)
        cands.append(Candidate(planner_id=pid, specialties=tuple(rng.sample(SPECS, 2)),
                               familiar_district_ids=frozenset({home}), experience_years=rng.randint(0, 25),
                               capacity=rng.choice([1, 2, 3]), service_district_ids=frozenset({home, (home + 1) % 30}),
                               last_grade_score=rng.choice([None, 0.5, 0.9]), employer=f"E{pid % 40}"))
    result = solve(slots, cands)
    assert check_solution(slots, cands, result) == []
    assert result.optimal and result.filled + len(result.unfilled) == len(slots)
    assert all(u.reason_code in {"competition", "all_at_capacity", "all_excluded", "outside_service_area",
                                 "no_specialty", "no_role"} for u in result.unfilled)
    rules = SideRules(max_same_employer_per_district=1)
    constrained = solve(slots, cands, side_rules=rules)
    assert constrained.optimal
    assert check_solution(slots, cands, constrained, rules) == []
    assert summary(constrained) <= summary(result)
