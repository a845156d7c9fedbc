"""The matching engine for 统筹选派 (P6(2)): which planner for which unit and role.

Pure Python + OR-Tools + numpy; no Django, so it can be benchmarked and tested alone
(`rpms.dispatch` builds the Slots and Candidates from the database and calls `solve`).

Model
-----
A *slot* is one place to fill (one unit, one role, one of the requested count). A *candidate* is one
planner or team of the pool. A candidate may fill a slot only if it is *eligible* (hard rules, see
`eligibility`): it may hold the slot's role, it has at least one wanted specialty (when the slot wants
any), it serves the slot's district (when it declared a service area), it does not already serve the
unit, it declared no conflict of interest for the unit or its district, and the administrator did not
exclude the pair by hand. On top of that, a candidate takes at most `capacity` slots in this run
(its cap minus the units it already holds, B19(2)), at most one slot per unit (across roles), and each
slot gets at most one candidate.

Objective (lexicographic): FIRST the number of filled slots, THEN the total score (integer points
0..100 per pair, see `score`), THEN — only to make ties explainable — the lower planner id wins.

Method: a min-cost max-flow (OR-Tools `SimpleMinCostFlow.solve_max_flow_with_min_cost`, which maximises
the flow and, among maximum flows, minimises the cost) on
    source → candidate (cap = capacity) → [(candidate, unit) (cap 1)] → slot group (cap = #slots) → sink
with cost −(score·M) + rank on the candidate→group arcs. The (candidate, unit) node is only created where a
candidate is eligible for two or more slot groups of the same unit; elsewhere the cap-1 candidate→group
arc already enforces "once per unit". Identical slots (same request, unit, district, role and wanted
specialties) are aggregated into one group node whose capacity is their number.

When `SideRules.max_same_employer_per_district` is set the problem is no longer a network; it is then
solved with CP-SAT (single worker, fixed seed, deterministic time limit) with the same lexicographic
objective (each filled slot is worth 100·#slots + 1, more than any score sum, plus its score). To keep the
CP-SAT model small at city scale:
  1. the flow optimum without the employer rule is an upper bound; repairing it (keep the best pairs of each
     over-full employer/district, re-run the flow on what is left) gives a feasible lower bound and the hint;
  2. the LP relaxation (GLOP) gives duals; from them an upper bound UB is computed by weak duality (valid for
     any non-negative duals, so independent of GLOP's tolerances) and every pair with reduced cost d and
     UB + d < best known value is left out (it cannot be in any solution as good as the one held —
     reduced-cost fixing); UB also caps the objective;
  3. CP-SAT solves the remaining model. `optimal` is True only when CP-SAT reports OPTIMAL; otherwise the
     best solution held is returned with optimal=False.
In this path ties are settled by CP-SAT's deterministic search, not by planner id.

Employer rule: counts only this run's proposals (pinned ones included) of planners with a non-empty
employer, per (employer, district of the unit); existing appointments are not counted.
Unknown forbidden pairs (slot or planner not in this run) are ignored; pinned pairs are validated
(ValueError with a Chinese message).

Score terms (weights default 40/25/20/15, integers summing to 100; each city sets its own in its policy,
rpms.cities PolicyProfile.matching_weight_*):
- specialty: share of the wanted specialties the candidate has, rounded half up. A slot that wants no
  specialty gives every candidate full marks (nothing is missing; the term is then the same for every
  candidate of that slot, so it never changes who is chosen for it; when not every slot can be filled it
  makes such a slot no less attractive than a slot whose wanted specialty is fully met).
- familiarity: full marks when the candidate declared it knows the unit's district, else 0.
- experience: linear in years, capped at EXPERIENCE_FULL_YEARS (15) years = full marks.
- grade: the latest assessment score (0..1) times the weight, rounded half up; a candidate never
  assessed gets the neutral middle value NEUTRAL_GRADE (0.5), neither rewarded nor punished.
"""
from .check import check_solution
from .explain import REASON_LABELS
from .problem import (
    EXPERIENCE_FULL_YEARS,
    NEUTRAL_GRADE,
    Candidate,
    MatchResult,
    Proposal,
    SideRules,
    Slot,
    Unfilled,
    Weights,
)
from .rules import eligibility, score
from .solver import solve

__all__ = [
    "EXPERIENCE_FULL_YEARS",
    "NEUTRAL_GRADE",
    "REASON_LABELS",
    "Candidate",
    "MatchResult",
    "Proposal",
    "SideRules",
    "Slot",
    "Unfilled",
    "Weights",
    "check_solution",
    "eligibility",
    "score",
    "solve",
]
