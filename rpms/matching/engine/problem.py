"""The problem: what the engine is given (slots, candidates, weights, side rules) and what it returns."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

EXPERIENCE_FULL_YEARS = 15
NEUTRAL_GRADE = 0.5


# ---------------------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Slot:
    key: str                      # unique, e.g. "r12:u345:planner:1"
    request_id: int
    unit_id: int
    district_id: int
    role: str                     # policy role code
    specialties: tuple[str, ...] = ()   # wanted; if non-empty a candidate must have at least one (HARD)
    label: str = ""               # for messages, e.g. "海淀区·万寿路街道"
    # optional, for Chinese explanations (fall back to the label / the built-in code labels)
    district_label: str = ""      # e.g. "海淀区"
    role_label: str = ""          # e.g. "责任规划师"
    specialty_labels: tuple[tuple[str, str], ...] = ()  # ((code, label), ...)


@dataclass(frozen=True)
class Candidate:
    planner_id: int
    specialties: tuple[str, ...] = ()
    familiar_district_ids: frozenset[int] = frozenset()
    experience_years: int = 0
    capacity: int | None = None         # units it may still take (cap minus units held); None = no cap
    held_unit_ids: frozenset[int] = frozenset()      # serves there already (any role) -> excluded there
    conflict_unit_ids: frozenset[int] = frozenset()  # declared conflicts of interest -> excluded there
    conflict_district_ids: frozenset[int] = frozenset()  # conflicts declared for a whole district
    last_grade_score: float | None = None  # 0..1 from the latest assessment; None = never assessed
    employer: str = ""
    roles: frozenset[str] | None = None    # roles it may fill; None = any
    label: str = ""
    # optional HARD rule: districts it is willing/able to serve in; None = anywhere in the city
    service_district_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class Weights:  # integers summing to 100 (each city sets its own: rpms.cities PolicyProfile.matching_weight_*)
    specialty: int = 40
    familiarity: int = 25
    experience: int = 20
    grade: int = 15

    def validate(self) -> None:
        values = [self.specialty, self.familiarity, self.experience, self.grade]
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in values):
            raise ValueError("匹配权重必须为非负整数")
        if sum(values) != 100:
            raise ValueError(f"匹配权重之和必须为 100，当前为 {sum(values)}")


@dataclass(frozen=True)
class SideRules:
    max_same_employer_per_district: int | None = None   # needs CP-SAT
    pinned: tuple[tuple[str, int], ...] = ()            # (slot key, planner id) fixed by the administrator
    forbidden: tuple[tuple[str, int], ...] = ()         # (slot key, planner id) excluded by hand


# --------------------------------------------------------------------------------------------- outputs
@dataclass
class Proposal:
    slot_key: str
    request_id: int
    unit_id: int
    role: str
    planner_id: int
    score: float
    explanation: dict
    pinned: bool = False


@dataclass
class Unfilled:
    slot_key: str
    request_id: int
    unit_id: int
    role: str
    reason_code: str
    reason: str
    details: dict = field(default_factory=dict)


@dataclass
class MatchResult:
    proposals: list[Proposal]
    unfilled: list[Unfilled]
    objective: int          # total score of the proposals (the filled count is len(proposals))
    optimal: bool
    seconds: float
    method: str             # "min_cost_flow" | "cp_sat"
    stats: dict = field(default_factory=dict)

    @property
    def filled(self) -> int:
        return len(self.proposals)

    def as_dict(self) -> dict:
        return {
            "proposals": [_json_safe(asdict(p)) for p in self.proposals],
            "unfilled": [_json_safe(asdict(u)) for u in self.unfilled],
            "filled": self.filled,
            "objective": int(self.objective),
            "optimal": bool(self.optimal),
            "seconds": float(self.seconds),
            "method": self.method,
            "stats": _json_safe(self.stats),
        }


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [_json_safe(v) for v in sorted(value)]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
