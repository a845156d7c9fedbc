"""The solver: the instance in arrays, min-cost flow or CP-SAT, disaggregation and the unfilled slots' reasons."""
from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from .explain import _cand_label, _district_label, _reason_text, _role_label, _slot_label, _spec_label
from .problem import Candidate, MatchResult, Proposal, SideRules, Slot, Unfilled, Weights
from .rules import _experience_points, _explanation, _grade_points, eligibility

CP_SAT_SEED = 20240601


# ------------------------------------------------------------------------------------------ helpers
class _Bits:
    """Codes → bit positions in uint64 words."""

    def __init__(self, codes: Iterable[str]):
        self.index = {c: i for i, c in enumerate(sorted(set(codes)))}
        self.words = max(1, (len(self.index) + 63) // 64)

    def row(self, codes: Iterable[str]) -> np.ndarray:
        out = np.zeros(self.words, dtype=np.uint64)
        for c in codes:
            i = self.index.get(c)
            if i is not None:
                out[i // 64] |= np.uint64(1) << np.uint64(i % 64)
        return out

    def matrix(self, rows: Sequence[Iterable[str]]) -> np.ndarray:
        m = np.zeros((len(rows), self.words), dtype=np.uint64)
        for r, codes in enumerate(rows):
            for c in codes:
                i = self.index.get(c)
                if i is not None:
                    m[r, i // 64] |= np.uint64(1) << np.uint64(i % 64)
        return m


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s+c) for each (s, c), vectorised."""
    counts = counts.astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    offsets = np.repeat(ends - counts, counts)
    return np.repeat(starts.astype(np.int64), counts) + (np.arange(total, dtype=np.int64) - offsets)


def _keys(pairs: Iterable[tuple[int, int]], base: int) -> np.ndarray:
    arr = np.fromiter((a * base + b for a, b in pairs), dtype=np.int64)
    return np.unique(arr)


# Exclusion codes of relevant pairs (role + specialty + service area fit).
_EX_OK, _EX_HELD, _EX_CU, _EX_CD, _EX_FORB, _EX_PINNED_UNIT = 0, 1, 2, 3, 4, 5
_EX_CODES = {_EX_HELD: "already_serves_unit", _EX_CU: "conflict_unit", _EX_CD: "conflict_district",
             _EX_FORB: "forbidden", _EX_PINNED_UNIT: "pinned_in_unit"}


class _Problem:
    """The instance in arrays: candidates (sorted by id), slot groups, relevant pairs."""

    def __init__(self, slots, candidates, weights: Weights, side_rules: SideRules):
        t0 = time.perf_counter()
        self.weights = weights
        self.rules = side_rules
        self.slots = sorted(slots, key=lambda s: s.key)
        self.cands = sorted(candidates, key=lambda c: c.planner_id)
        keys = [s.key for s in self.slots]
        if len(set(keys)) != len(keys):
            dup = sorted({k for k in keys if keys.count(k) > 1})[:3]
            raise ValueError(f"岗位编号重复：{'、'.join(dup)}")
        ids = [c.planner_id for c in self.cands]
        if len(set(ids)) != len(ids):
            raise ValueError("候选人编号重复：同一名规划师只能出现一次")
        for c in self.cands:
            if c.last_grade_score is not None and not 0.0 <= float(c.last_grade_score) <= 1.0:
                raise ValueError(f"{_cand_label(c)}的考核得分须在 0 到 1 之间")
        self.slot_by_key = {s.key: s for s in self.slots}
        self.cidx = {c.planner_id: i for i, c in enumerate(self.cands)}
        self.employer_rule = side_rules.max_same_employer_per_district
        if self.employer_rule is not None and (not isinstance(self.employer_rule, int) or self.employer_rule < 0):
            raise ValueError("同一单位在同一区的派驻人数上限必须为非负整数")

        n_units = len({s.unit_id for s in self.slots})
        self.capacity = np.array(
            [n_units if c.capacity is None else max(0, min(int(c.capacity), n_units)) for c in self.cands],
            dtype=np.int64)
        self.forbidden = {(k, p) for k, p in side_rules.forbidden if k in self.slot_by_key and p in self.cidx}
        self._pin()
        self._groups()
        self._pairs()
        self.build_seconds = time.perf_counter() - t0

    # --- pinned pairs: validated, then taken out of the optimisation
    def _pin(self):
        self.pins: list[tuple[Slot, int]] = []        # (slot, candidate index)
        seen_slot = {}
        per_cand_units = defaultdict(set)
        per_cand_count = defaultdict(int)
        employer_district = defaultdict(int)
        for key, pid in sorted(set(self.rules.pinned)):
            slot = self.slot_by_key.get(key)
            if slot is None:
                raise ValueError(f"指定的岗位“{key}”不在本次匹配范围内")
            ci = self.cidx.get(pid)
            if ci is None:
                raise ValueError(f"指定的规划师（编号 {pid}）不在本次候选人中（须为资源库在库人员）")
            cand = self.cands[ci]
            if key in seen_slot:
                raise ValueError(f"{_slot_label(slot)}的{_role_label(slot)}岗位（{key}）被指定了多名规划师")
            seen_slot[key] = ci
            ok, code = eligibility(slot, cand)
            if not ok:
                raise ValueError(f"不能指定{_cand_label(cand)}担任{_slot_label(slot)}的{_role_label(slot)}："
                                 f"{_reason_text(code, slot, cand)}")
            if (key, pid) in self.forbidden:
                raise ValueError(f"{_cand_label(cand)}对岗位“{key}”同时被指定和排除")
            if slot.unit_id in per_cand_units[ci]:
                raise ValueError(f"{_cand_label(cand)}在{_slot_label(slot)}被指定了多个岗位，同一责任单元只能承担一个岗位")
            per_cand_units[ci].add(slot.unit_id)
            per_cand_count[ci] += 1
            if per_cand_count[ci] > self.capacity[ci]:
                cap = self.capacity[ci]
                raise ValueError(f"{_cand_label(cand)}本轮最多还能服务 {cap} 个责任单元，不能再被指定到{_slot_label(slot)}")
            if self.employer_rule is not None and cand.employer:
                employer_district[(cand.employer, slot.district_id)] += 1
                if employer_district[(cand.employer, slot.district_id)] > self.employer_rule:
                    raise ValueError(f"指定后同一单位（{cand.employer}）在{_district_label(slot)}派驻将超过 "
                                     f"{self.employer_rule} 人")
            self.pins.append((slot, ci))
        self.pinned_keys = set(seen_slot)
        self.pin_employer_district = dict(employer_district)
        self.pinned_units = {(ci, u) for ci, us in per_cand_units.items() for u in us}
        self.cap_left = self.capacity.copy()
        # the same without clipping to this run's number of units (for the wording of unfilled reasons)
        self.cap_true_left = np.array([10 ** 9 if c.capacity is None else max(0, int(c.capacity))
                                       for c in self.cands], dtype=np.int64)
        for ci, n in per_cand_count.items():
            self.cap_left[ci] -= n
            self.cap_true_left[ci] -= n

    # --- identical slots aggregated into groups
    def _groups(self):
        forb_slots = {k for k, _ in self.forbidden}
        groups: dict[tuple, list[Slot]] = {}
        for s in self.slots:
            if s.key in self.pinned_keys:
                continue
            if s.key in forb_slots:
                gk = ("single", s.key)
            else:
                gk = ("agg", s.request_id, s.unit_id, s.district_id, s.role, tuple(sorted(set(s.specialties))))
            groups.setdefault(gk, []).append(s)
        self.groups = sorted(groups.values(), key=lambda ss: ss[0].key)   # slots inside already sorted
        G = len(self.groups)
        self.units = sorted({s.unit_id for s in self.slots})
        self.uidx = {u: i for i, u in enumerate(self.units)}
        self.districts = sorted({s.district_id for s in self.slots})
        self.didx = {d: i for i, d in enumerate(self.districts)}
        self.g_slot = [ss[0] for ss in self.groups]
        self.g_count = np.array([len(ss) for ss in self.groups], dtype=np.int64)
        self.g_unit = np.array([self.uidx[s.unit_id] for s in self.g_slot], dtype=np.int64)
        self.g_dist = np.array([self.didx[s.district_id] for s in self.g_slot], dtype=np.int64)
        self.slot_index = {s.key: gi for gi, ss in enumerate(self.groups) for s in ss}
        self.G = G

    # --- relevant (candidate, group) pairs with their exclusion code and score
    def _pairs(self):
        cands, G, w = self.cands, self.G, self.weights
        U, D = len(self.units), len(self.districts)
        self.spec_bits = _Bits(sp for c in cands for sp in c.specialties)
        role_codes = sorted({s.role for s in self.slots})
        self.role_bits = _Bits(role_codes)
        self.c_spec = self.spec_bits.matrix([c.specialties for c in cands])
        self.c_role = self.role_bits.matrix([role_codes if c.roles is None else c.roles for c in cands])
        self.g_want = self.spec_bits.matrix([s.specialties for s in self.g_slot]) if G else \
            np.zeros((0, self.spec_bits.words), dtype=np.uint64)
        self.g_nwant = np.array([len(set(s.specialties)) for s in self.g_slot], dtype=np.int64)
        self.g_role = np.array([self.role_bits.index[s.role] for s in self.g_slot], dtype=np.int64)
        exp_pts = np.array([_experience_points(c.experience_years, w.experience) for c in cands], dtype=np.int64)
        grade_pts = np.array([_grade_points(c.last_grade_score, w.grade) for c in cands], dtype=np.int64)

        # Candidates by service area: restricted ones meet the groups of their districts only.
        restricted_c, restricted_d, unrestricted = [], [], []
        for ci, c in enumerate(cands):
            if c.service_district_ids is None:
                unrestricted.append(ci)
            else:
                for d in sorted(c.service_district_ids):
                    di = self.didx.get(d)
                    if di is not None:
                        restricted_c.append(ci)
                        restricted_d.append(di)
        order = np.argsort(self.g_dist, kind="stable")
        g_by_d_start = np.searchsorted(self.g_dist[order], np.arange(D), side="left")
        g_by_d_count = np.searchsorted(self.g_dist[order], np.arange(D), side="right") - g_by_d_start

        held = _keys(((ci, self.uidx[u]) for ci, c in enumerate(cands) for u in c.held_unit_ids if u in self.uidx), U)
        cu = _keys(((ci, self.uidx[u]) for ci, c in enumerate(cands) for u in c.conflict_unit_ids
                    if u in self.uidx), U)
        cd = _keys(((ci, self.didx[d]) for ci, c in enumerate(cands) for d in c.conflict_district_ids
                    if d in self.didx), D)
        fam = _keys(((ci, self.didx[d]) for ci, c in enumerate(cands) for d in c.familiar_district_ids
                     if d in self.didx), D)
        forb = _keys(((self.cidx[p], self.slot_index[k]) for k, p in self.forbidden if k in self.slot_index), G)
        pinu = _keys(((ci, self.uidx[u]) for ci, u in self.pinned_units), U)

        chunks = []

        def consider(pc: np.ndarray, pg: np.ndarray):
            if len(pc) == 0:
                return
            r = self.g_role[pg]
            ok = ((self.c_role[pc, r // 64] >> (r % 64).astype(np.uint64)) & np.uint64(1)).astype(bool)
            inter = self.c_spec[pc] & self.g_want[pg]
            covered = np.bitwise_count(inter).sum(axis=1).astype(np.int64)
            ok &= (covered > 0) | (self.g_nwant[pg] == 0)
            pc, pg, covered = pc[ok], pg[ok], covered[ok]
            chunks.append((pc, pg, covered))

        if restricted_c:
            rc = np.array(restricted_c, dtype=np.int64)
            rd = np.array(restricted_d, dtype=np.int64)
            cnt = g_by_d_count[rd]
            pc = np.repeat(rc, cnt)
            pg = order[_ranges(g_by_d_start[rd], cnt)]
            step = 2_000_000
            for s in range(0, len(pc), step):
                consider(pc[s:s + step], pg[s:s + step])
        if unrestricted and G:
            uc = np.array(unrestricted, dtype=np.int64)
            per = max(1, 2_000_000 // len(uc))
            for s in range(0, G, per):
                gs = np.arange(s, min(G, s + per), dtype=np.int64)
                consider(np.tile(uc, len(gs)), np.repeat(gs, len(uc)))

        if chunks:
            pc = np.concatenate([c[0] for c in chunks])
            pg = np.concatenate([c[1] for c in chunks])
            covered = np.concatenate([c[2] for c in chunks])
        else:
            pc = pg = covered = np.zeros(0, dtype=np.int64)
        srt = np.lexsort((pc, pg))
        pc, pg, covered = pc[srt], pg[srt], covered[srt]
        pu, pd = self.g_unit[pg], self.g_dist[pg]

        excl = np.zeros(len(pc), dtype=np.int8)
        for code, keyset, k in ((_EX_FORB, forb, pc * G + pg), (_EX_PINNED_UNIT, pinu, pc * U + pu),
                                (_EX_CD, cd, pc * D + pd), (_EX_CU, cu, pc * U + pu), (_EX_HELD, held, pc * U + pu)):
            if len(keyset):
                excl[np.isin(k, keyset)] = code          # later codes win: held > conflicts > forbidden

        nwant = self.g_nwant[pg]
        sp = np.where(nwant > 0, (2 * w.specialty * covered + nwant) // np.maximum(2 * nwant, 1), w.specialty)
        fm = np.where(np.isin(pc * D + pd, fam), w.familiarity, 0) if len(fam) else np.zeros(len(pc), np.int64)
        self.p_c, self.p_g, self.p_excl = pc, pg, excl
        self.p_score = (sp + fm + exp_pts[pc] + grade_pts[pc]).astype(np.int64)
        self.g_pair_start = np.searchsorted(pg, np.arange(G + 1), side="left")
        # the solver sees eligible pairs of candidates with capacity left
        usable = (excl == _EX_OK) & (self.cap_left[pc] > 0)
        self.e_idx = np.nonzero(usable)[0]

    # --- flow network
    def solve_flow(self):
        e = self.e_idx
        stats = {"groups": self.G, "slots": int(self.g_count.sum()), "pairs_relevant": len(self.p_c),
                 "pairs_eligible": len(e)}
        sel = self._flow(e, self.cap_left, self.g_count, stats)
        return sel, True, stats

    def _flow(self, e: np.ndarray, cap_left: np.ndarray, g_count: np.ndarray, stats: dict | None = None,
              tiebreak: bool = True) -> np.ndarray:
        """Min-cost max-flow over the pairs `e` (indices into the pair arrays, sorted) with these capacities.

        Returns the selected pair indices. Lexicographic: max #pairs, then max score, then low rank."""
        from ortools.graph.python import min_cost_flow

        if len(e) == 0:
            return np.zeros(0, dtype=np.int64)
        pc, pg, sc = self.p_c[e], self.p_g[e], self.p_score[e]
        U, G = len(self.units), self.G
        n_slots = int(g_count.sum())
        # rank of the candidate within its group (candidates are in id order) → tie-break
        first = np.searchsorted(pg, pg, side="left")
        rank = np.arange(len(pg), dtype=np.int64) - first
        grp_max_rank = np.zeros(G, dtype=np.int64)
        np.maximum.at(grp_max_rank, pg, rank)
        M = int(1 + (g_count * grp_max_rank).sum()) if tiebreak else 1
        if not tiebreak:
            rank = np.zeros_like(rank)

        cu_key = pc * U + self.g_unit[pg]
        uniq_cu, cu_inv, cu_cnt = np.unique(cu_key, return_inverse=True, return_counts=True)
        cand_units = np.bincount(uniq_cu // U, minlength=len(self.cands))
        cap = np.minimum(cap_left, cand_units)
        active = np.nonzero(cap > 0)[0]

        SRC, SNK = 0, 1
        cand_node = np.full(len(self.cands), -1, dtype=np.int64)
        cand_node[active] = 2 + np.arange(len(active))
        nxt = 2 + len(active)
        group_node = nxt + np.arange(G, dtype=np.int64)
        nxt += G
        multi = cu_cnt > 1
        cu_node = np.full(len(uniq_cu), -1, dtype=np.int64)
        cu_node[multi] = nxt + np.arange(int(multi.sum()))
        nxt += int(multi.sum())
        n_nodes = nxt
        max_cost = 100 * M + int(rank.max(initial=0))
        if max_cost * (n_nodes + 1) >= 2 ** 62:
            if tiebreak:
                return self._flow(e, cap_left, g_count, stats, tiebreak=False)
            raise ValueError("匹配规模过大，超出求解器的数值范围")

        # candidate → group, or candidate → (candidate, unit) → group where it fits 2+ groups of one unit
        via = cu_node[cu_inv]
        pair_tail = np.where(via < 0, cand_node[pc], via)
        pair_head = group_node[pg]
        pair_cost = -sc * M + rank
        multi_idx = np.nonzero(multi)[0]
        cu_tail = cand_node[uniq_cu[multi_idx] // U]
        cu_head = cu_node[multi_idx]

        tails = np.concatenate([np.full(len(active), SRC), cu_tail, pair_tail, group_node]).astype(np.int32)
        heads = np.concatenate([cand_node[active], cu_head, pair_head, np.full(G, SNK)]).astype(np.int32)
        caps = np.concatenate([cap[active], np.ones(len(multi_idx) + len(pc), dtype=np.int64), g_count])
        costs = np.concatenate([np.zeros(len(active) + len(multi_idx), dtype=np.int64), pair_cost,
                                np.zeros(G, dtype=np.int64)])
        smcf = min_cost_flow.SimpleMinCostFlow()
        arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps.astype(np.int64),
                                                         costs.astype(np.int64))
        smcf.set_node_supply(SRC, n_slots)
        smcf.set_node_supply(SNK, -n_slots)
        t0 = time.perf_counter()
        status = smcf.solve_max_flow_with_min_cost()
        if stats is not None:
            stats.update({"nodes": int(n_nodes), "arcs": len(tails), "tie_break_scale": M,
                          "flow_seconds": time.perf_counter() - t0})
        if status == smcf.BAD_COST_RANGE and tiebreak:
            return self._flow(e, cap_left, g_count, stats, tiebreak=False)
        if status != smcf.OPTIMAL:
            raise RuntimeError(f"最小费用流求解失败（状态 {status}）")
        off = len(active) + len(multi_idx)
        flows = smcf.flows(arcs[off:off + len(pc)])
        return e[flows > 0]

    # --- the employer rule: (employer, district) of each pair, and the room left after the pins
    def _employer_keys(self):
        D = len(self.districts)
        names = sorted({c.employer for c in self.cands if c.employer})
        eidx = {n: i for i, n in enumerate(names)}
        c_emp = np.array([eidx.get(c.employer, -1) for c in self.cands], dtype=np.int64)
        pe = c_emp[self.p_c]
        ped = np.where(pe >= 0, pe * D + self.g_dist[self.p_g], -1)
        room = {}
        for (emp, dist), n in self.pin_employer_district.items():
            if emp in eidx and dist in self.didx:
                room[eidx[emp] * D + self.didx[dist]] = self.employer_rule - n
        return ped, room

    def _employer_repair(self, sel: np.ndarray, ped: np.ndarray, room0: dict) -> np.ndarray:
        """A feasible solution under the employer rule from the unconstrained optimum: keep the best pairs
        of each over-full (employer, district), then re-run the flow on what is left, until nothing changes."""
        U, limit = len(self.units), self.employer_rule
        room = defaultdict(lambda: limit)
        room.update(room0)
        kept: list[int] = []

        def keep(cands_sel):
            added = 0
            for p in sorted(cands_sel.tolist(), key=lambda p: (-int(self.p_score[p]), p)):
                k = int(ped[p])
                if k >= 0:
                    if room[k] <= 0:
                        continue
                    room[k] -= 1
                kept.append(p)
                added += 1
            return added

        keep(sel)
        e = self.e_idx
        for _ in range(50):
            ka = np.array(sorted(kept), dtype=np.int64)
            cap_res = self.cap_left - np.bincount(self.p_c[ka], minlength=len(self.cands))
            grp_res = self.g_count - np.bincount(self.p_g[ka], minlength=self.G)
            used_cu = self.p_c[ka] * U + self.g_unit[self.p_g[ka]]
            pe = ped[e]
            full = np.array([k for k, v in room.items() if v <= 0], dtype=np.int64)
            ok = (cap_res[self.p_c[e]] > 0) & (grp_res[self.p_g[e]] > 0)
            ok &= ~np.isin(self.p_c[e] * U + self.g_unit[self.p_g[e]], used_cu)
            if len(full):
                ok &= ~np.isin(pe, full)
            rest = e[ok]
            if len(rest) == 0:
                break
            new = self._flow(rest, cap_res, grp_res)
            if len(new) == 0 or keep(new) == 0:
                break
        return np.array(sorted(kept), dtype=np.int64)

    # --- CP-SAT with the employer rule
    def _rows(self, e: np.ndarray, ped_e: np.ndarray, room0: dict) -> list[tuple[np.ndarray, int]]:
        """The packing rows (positions into e, right-hand side) that are not redundant."""
        U, limit = len(self.units), self.employer_rule
        pc, pg = self.p_c[e], self.p_g[e]
        rows = []

        def groups_of(keys: np.ndarray):
            if len(keys) == 0:
                return [], []
            order = np.argsort(keys, kind="stable")
            ks = keys[order]
            cuts = np.flatnonzero(np.diff(ks)) + 1
            return ks[np.r_[0, cuts]].tolist(), np.split(order, cuts)

        for g, idx in zip(*groups_of(pg)):
            if len(idx) > self.g_count[g]:
                rows.append((idx, int(self.g_count[g])))
        cu = pc * U + self.g_unit[pg]
        for _, idx in zip(*groups_of(cu)):
            if len(idx) > 1:
                rows.append((idx, 1))
        for c, idx in zip(*groups_of(pc)):
            if len(np.unique(cu[idx])) > self.cap_left[c]:
                rows.append((idx, int(self.cap_left[c])))
        epos = np.flatnonzero(ped_e >= 0)
        for k, idx in zip(*groups_of(ped_e[epos])):
            room = room0.get(k, limit)
            if len(idx) > room:
                rows.append((epos[idx], int(room)))
        return rows

    def _lp_bound(self, coef: np.ndarray, rows, time_limit_s: float):
        """LP relaxation (GLOP) → a rigorous upper bound from its duals (weak duality, valid for any
        non-negative duals) and reduced-cost fixing: a pair whose reduced cost d satisfies UB + d < LB cannot
        be in any solution as good as the one we hold, so it is left out of the CP-SAT model.

        Returns (reduced costs or None, UB or None, LP solution if it is integral else None, timings)."""
        from ortools.linear_solver import linear_solver_pb2 as pb
        from ortools.linear_solver import pywraplp

        t0 = time.perf_counter()
        req = pb.MPModelRequest()
        req.solver_type = pb.MPModelRequest.GLOP_LINEAR_PROGRAMMING
        req.solver_time_limit_seconds = float(time_limit_s)
        model = req.model
        model.maximize = True
        add = model.variable.add
        for c in coef.tolist():
            add(lower_bound=0.0, upper_bound=1.0, objective_coefficient=float(c))
        for idx, rhs in rows:
            ct = model.constraint.add(lower_bound=-math.inf, upper_bound=float(rhs))
            ct.var_index.extend(idx.tolist())
            ct.coefficient.extend([1.0] * len(idx))
        resp = pb.MPSolutionResponse()
        t1 = time.perf_counter()
        pywraplp.Solver.SolveWithProto(req, resp)
        timings = {"lp_build_seconds": t1 - t0, "lp_seconds": time.perf_counter() - t1}
        if resp.status != pb.MPSOLVER_OPTIMAL or len(resp.dual_value) != len(rows):
            return None, None, None, timings
        y = np.maximum(np.array(resp.dual_value, dtype=np.float64), 0.0)
        d = coef.astype(np.float64).copy()
        for (idx, _), yr in zip(rows, y.tolist()):
            if yr:
                d[idx] -= yr
        ub = math.fsum([yr * rhs for (_, rhs), yr in zip(rows, y.tolist())] + np.maximum(d, 0.0).tolist())
        xv = np.array(resp.variable_value, dtype=np.float64)
        integral = None
        if np.all((xv < 1e-6) | (xv > 1 - 1e-6)):
            sol = xv > 0.5
            if all(int(sol[idx].sum()) <= rhs for idx, rhs in rows):
                integral = sol
        return d, ub, integral, timings

    def solve_cp_sat(self, flow_sel: np.ndarray, time_limit_s: float):
        """The employer rule on top of the network: a repaired flow solution (lower bound), the flow optimum
        (upper bound), LP reduced-cost fixing, then CP-SAT on the pairs left, which proves optimality."""
        from ortools.sat.python import cp_model

        e = self.e_idx
        stats = {"pairs_eligible": len(e)}
        if len(e) == 0:
            return np.zeros(0, dtype=np.int64), True, stats
        t0 = time.perf_counter()
        ped_all, room0 = self._employer_keys()
        heuristic = self._employer_repair(flow_sel, ped_all, room0)
        stats["repair_seconds"] = time.perf_counter() - t0
        n_slots = int(self.g_count.sum())
        big = 100 * n_slots + 1          # one more filled slot outweighs any score difference
        coef = (big + self.p_score[e]).astype(np.int64)
        best = np.zeros(len(e), dtype=bool)
        best[np.searchsorted(e, heuristic)] = True
        lower = int(coef[best].sum())
        # the flow optimum ignores the employer rule, so it bounds the constrained optimum from above
        upper = int(coef[np.searchsorted(e, flow_sel)].sum())
        stats.update({"heuristic_value": lower, "flow_upper_bound": upper})

        rows = self._rows(e, ped_all[e], room0)
        d, lp_ub, lp_sol, timings = self._lp_bound(coef, rows, time_limit_s)
        stats.update(timings)
        cap_obj = upper
        if d is None:
            keep = np.ones(len(e), dtype=bool)
        else:
            if lp_sol is not None and int(coef[lp_sol].sum()) > lower:
                best, lower = lp_sol, int(coef[lp_sol].sum())
            # any solution using pair j is worth at most UB + d_j; objective values are integers
            keep = (lp_ub + d >= lower - 0.5) | best
            cap_obj = min(upper, math.floor(lp_ub + 1e-6))
        stats.update({"lp_upper_bound": None if lp_ub is None else round(lp_ub, 6),
                      "pairs_after_fixing": int(keep.sum()), "objective_cap": cap_obj})

        t0 = time.perf_counter()
        kpos = np.flatnonzero(keep)
        remap = np.full(len(e), -1, dtype=np.int64)
        remap[kpos] = np.arange(len(kpos))
        m = cp_model.CpModel()
        x = [m.new_bool_var("") for _ in range(len(kpos))]
        for idx, rhs in rows:
            sub = remap[idx]
            sub = sub[sub >= 0]
            if len(sub) > rhs:
                if rhs == 1:
                    m.add_at_most_one([x[i] for i in sub.tolist()])
                else:
                    m.add(cp_model.LinearExpr.sum([x[i] for i in sub.tolist()]) <= rhs)
        kcoef = coef[kpos].tolist()
        obj = cp_model.LinearExpr.weighted_sum(x, kcoef)
        m.add(obj <= cap_obj)
        m.maximize(obj)
        for xi, h in zip(x, best[kpos].tolist()):
            m.add_hint(xi, h)
        stats["cp_sat_build_seconds"] = time.perf_counter() - t0

        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = CP_SAT_SEED
        # a deterministic limit keeps the result reproducible; the wall-clock one is only a safety net
        solver.parameters.max_deterministic_time = float(time_limit_s)
        solver.parameters.max_time_in_seconds = float(time_limit_s) * 3
        t0 = time.perf_counter()
        status = solver.solve(m)
        stats.update({"cp_sat_seconds": time.perf_counter() - t0, "cp_sat_status": solver.status_name(status)})
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            val = np.array([solver.boolean_value(xi) for xi in x], dtype=bool)
            stats["cp_sat_bound"] = round(solver.best_objective_bound)
            if int(np.dot(coef[kpos], val)) >= lower:
                return e[kpos[val]], status == cp_model.OPTIMAL, stats
        # no better solution within the limit: the best one held (feasible, not proven optimal)
        return e[best], False, stats


# ------------------------------------------------------------------------------------------- solve
def solve(slots: Sequence[Slot], candidates: Sequence[Candidate], *, weights: Weights = Weights(),
          side_rules: SideRules | None = None, time_limit_s: float = 30.0) -> MatchResult:
    """Optimal proposals (see the module docstring). Same input in any order → same output."""
    t_start = time.perf_counter()
    weights.validate()
    rules = side_rules or SideRules()
    c_start = time.process_time()
    prob = _Problem(slots, candidates, weights, rules)
    t_solve, c_solve = time.perf_counter(), time.process_time()
    sel, optimal, stats = prob.solve_flow()
    method = "min_cost_flow"
    if rules.max_same_employer_per_district is not None:
        sel, optimal, cp_stats = prob.solve_cp_sat(sel, time_limit_s)
        stats.update(cp_stats)
        method = "cp_sat"
    solve_seconds = time.perf_counter() - t_solve
    solve_cpu = time.process_time() - c_solve
    build_cpu = c_solve - c_start

    # Disaggregate: within a group, better score first, then lower id, onto the slot keys in order.
    chosen = defaultdict(list)
    for p in sel.tolist():
        chosen[int(prob.p_g[p])].append(p)
    used = np.bincount(prob.p_c[sel], minlength=len(prob.cands)) if len(sel) else np.zeros(len(prob.cands), int)
    proposals: list[Proposal] = []
    taken = used.copy()
    for _slot, ci in prob.pins:
        taken[ci] += 1
    remaining = [None if c.capacity is None else max(0, int(c.capacity)) - int(taken[ci])
                 for ci, c in enumerate(prob.cands)]
    rule = rules.max_same_employer_per_district

    def make(slot: Slot, ci: int, pinned: bool) -> Proposal:
        cand = prob.cands[ci]
        expl = _explanation(slot, cand, weights, remaining_after=remaining[ci],
                            pinned=pinned, employer_rule=rule)
        return Proposal(slot_key=slot.key, request_id=slot.request_id, unit_id=slot.unit_id, role=slot.role,
                        planner_id=cand.planner_id, score=float(expl["score"]), explanation=expl, pinned=pinned)

    for slot, ci in prob.pins:
        proposals.append(make(slot, ci, True))
    filled_keys = set(prob.pinned_keys)
    for gi in sorted(chosen):
        picks = sorted(chosen[gi], key=lambda p: (-int(prob.p_score[p]), int(prob.p_c[p])))
        for slot, p in zip(prob.groups[gi], picks):
            proposals.append(make(slot, int(prob.p_c[p]), False))
            filled_keys.add(slot.key)
    proposals.sort(key=lambda p: p.slot_key)

    unfilled = _unfilled_reasons(prob, sel, filled_keys, used, rule)
    objective = int(sum(int(p.score) for p in proposals))
    stats.update({"build_seconds": prob.build_seconds, "solve_seconds": solve_seconds,
                  "build_cpu_seconds": build_cpu, "solve_cpu_seconds": solve_cpu,
                  "pinned": len(prob.pins), "candidates": len(prob.cands)})
    return MatchResult(proposals=proposals, unfilled=unfilled, objective=objective, optimal=bool(optimal),
                       seconds=time.perf_counter() - t_start, method=method, stats=stats)


def _unfilled_reasons(prob: _Problem, sel: np.ndarray, filled_keys: set, used: np.ndarray,
                      rule: int | None) -> list[Unfilled]:
    out = []
    all_spec = np.bitwise_or.reduce(prob.c_spec, axis=0) if len(prob.cands) else None
    # specialties available per role
    role_spec = {}
    # (candidate, unit) taken in this run (pins + selection)
    taken_cu = {(ci, slot.unit_id) for slot, ci in prob.pins}
    taken_cu |= {(int(prob.p_c[p]), prob.units[int(prob.g_unit[prob.p_g[p]])]) for p in sel.tolist()}
    emp_count = defaultdict(int)
    if rule is not None:
        for slot, ci in prob.pins:
            if prob.cands[ci].employer:
                emp_count[(prob.cands[ci].employer, slot.district_id)] += 1
        for p in sel.tolist():
            ci = int(prob.p_c[p])
            if prob.cands[ci].employer:
                emp_count[(prob.cands[ci].employer, prob.g_slot[int(prob.p_g[p])].district_id)] += 1

    for gi, group in enumerate(prob.groups):
        open_slots = [s for s in group if s.key not in filled_keys]
        if not open_slots:
            continue
        s0 = group[0]
        lo, hi = int(prob.g_pair_start[gi]), int(prob.g_pair_start[gi + 1])
        pcs = prob.p_c[lo:hi]
        ex = prob.p_excl[lo:hi]
        role = _role_label(s0)
        wanted = "、".join(_spec_label(s0, x) for x in s0.specialties)
        details: dict = {"relevant": int(hi - lo)}
        if not prob.cands:
            code, text = "no_candidates", "候选人名单为空，资源库中没有可派遣的规划师"
        elif hi == lo:
            want = prob.g_want[gi]
            r = int(prob.g_role[gi])
            if r not in role_spec:
                mask = ((prob.c_role[:, r // 64] >> np.uint64(r % 64)) & np.uint64(1)).astype(bool)
                role_spec[r] = (np.bitwise_or.reduce(prob.c_spec[mask], axis=0) if mask.any() else None,
                                int(mask.sum()))
            rspec, n_role = role_spec[r]
            if s0.specialties and not (all_spec & want).any():
                code, text = "no_specialty", f"资源库中没有具备所需专业（{wanted}）的规划师"
            elif n_role == 0:
                code, text = "no_role", f"资源库中没有可担任{role}的规划师"
            elif s0.specialties and not (rspec & want).any():
                code, text = "no_role", f"可担任{role}的规划师中没有具备所需专业（{wanted}）的"
            else:
                code, text = "outside_service_area", (
                    f"可担任{role}且专业符合的规划师均不在{_district_label(s0)}服务（服务范围不含该区）")
        else:
            elig = pcs[ex == _EX_OK]
            if len(elig) == 0:
                counts = {_EX_CODES[k]: int((ex == k).sum()) for k in _EX_CODES if (ex == k).any()}
                details.update(counts)
                names = {"already_serves_unit": "已在该单元任职", "conflict_unit": "申报了与该单元的利益冲突",
                         "conflict_district": "申报了与该区的利益冲突", "forbidden": "被管理员排除",
                         "pinned_in_unit": "已被指定担任该单元其他岗位"}
                parts = "、".join(f"{names[k]} {n} 名" for k, n in counts.items())
                code = "all_excluded"
                text = f"符合岗位和专业要求的 {hi - lo} 名规划师均被排除：{parts}"
            else:
                cap = prob.cap_true_left
                at_cap = int((cap[elig] <= 0).sum())
                free = elig[cap[elig] > 0]
                full_now = int((used[free] >= cap[free]).sum())
                same_unit = int(sum(1 for ci in free.tolist() if used[ci] < cap[ci]
                                    and (ci, s0.unit_id) in taken_cu))
                employer = 0
                if rule is not None:
                    employer = int(sum(1 for ci in free.tolist()
                                       if used[ci] < cap[ci] and (ci, s0.unit_id) not in taken_cu
                                       and prob.cands[ci].employer
                                       and emp_count[(prob.cands[ci].employer, s0.district_id)] >= rule))
                other = len(elig) - at_cap - full_now - same_unit - employer
                details.update({"eligible": len(elig), "at_capacity_before": at_cap,
                                "capacity_used_this_run": full_now, "same_unit_other_role": same_unit,
                                "employer_limit": employer, "unexplained": other})
                if at_cap == len(elig):
                    code = "all_at_capacity"
                    text = f"符合条件的 {len(elig)} 名规划师服务单元数均已达到上限，没有剩余名额"
                elif other > 0:
                    code = "time_limit"
                    text = "在求解时限内未能为该岗位找到安排（结果未经证明为最优，可延长时限后重新匹配）"
                elif employer and not (full_now or same_unit):
                    code = "employer_limit"
                    text = (f"符合条件且有剩余名额的 {employer} 名规划师所在单位在{_district_label(s0)}的派驻人数"
                            f"均已达到上限（{rule} 人）")
                else:
                    bits = []
                    if full_now:
                        bits.append(f"{full_now} 名在本轮已分配到其他单元、名额用满")
                    if same_unit:
                        bits.append(f"{same_unit} 名已在本单元承担其他岗位")
                    if at_cap:
                        bits.append(f"{at_cap} 名此前已达服务单元上限")
                    if employer:
                        bits.append(f"{employer} 名受同一单位在该区派驻人数上限（{rule} 人）限制")
                    code = "competition"
                    text = (f"符合条件的 {len(elig)} 名规划师均已被其他岗位占用（" + "；".join(bits) +
                            "）；在派驻人数最多、总分最高的方案中无法再安排到此岗位")
        for s in open_slots:
            out.append(Unfilled(slot_key=s.key, request_id=s.request_id, unit_id=s.unit_id, role=s.role,
                                reason_code=code, reason=f"{_slot_label(s)}的{_role_label(s)}岗位未能派驻：{text}",
                                details=dict(details)))
    out.sort(key=lambda u: u.slot_key)
    return out
