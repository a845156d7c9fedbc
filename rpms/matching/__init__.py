"""统筹选派 (P6(2)) matching engine: pure Python + OR-Tools, no Django. See `rpms.matching.engine`."""
from rpms.matching.engine import (  # noqa: F401
    Candidate,
    MatchResult,
    Proposal,
    SideRules,
    Slot,
    Unfilled,
    Weights,
    check_solution,
    eligibility,
    score,
    solve,
)
