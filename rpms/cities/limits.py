"""The limits a city's rules put on appointing and admitting, and how firmly each holds (rules as data).

B18 ("原则上责任规划师个人或团队负责人应满足"), B19(2) ("原则上不超过3个") and B19(7) ("原则上不超过8人")
are defaults a city may exceed in a justified case; P4 (选聘条件) is a condition. The policy profile's
`limit_strictness` marks each limit:

- `strict`: the act is refused whatever the justification (409 `limit_strict`);
- `in_principle`: exceeding it needs a written justification approved by the city administrator, an
  exception record (rpms.registry.limits) — without one the act is refused as for a strict limit.

A limit the map does not name is strict. Each entry is either the strictness alone
(`"unit_cap": "in_principle"`) or an object citing its basis:
`{"strictness": "in_principle", "article": "B19(2)", "basis": "…原则上不超过3个"}`."""
from __future__ import annotations

STRICT = "strict"
IN_PRINCIPLE = "in_principle"
STRICTNESS_LABELS = {STRICT: "硬性限制（不得例外）", IN_PRINCIPLE: "原则性限制（确有必要的，经市级主管部门批准可例外）"}

UNIT_CAP = "unit_cap"
CORE_TEAM_MEMBERS = "core_team_members"
ELIGIBILITY = "eligibility"

# code → (label, the policy `articles` step whose article is cited when the entry names none)
LIMITS: dict[str, tuple[str, str | None]] = {
    UNIT_CAP: ("同时服务责任单元上限", "unit_cap"),
    CORE_TEAM_MEMBERS: ("团队核心成员上限", "team_core_cap"),
    # The eligibility rules carry their own article (policy eligibility_rules["article"]).
    ELIGIBILITY: ("选聘条件", None),
}


def limit_label(limit: str) -> str:
    return LIMITS.get(limit, (limit, None))[0]


def _entry(policy, limit: str) -> dict:
    raw = (getattr(policy, "limit_strictness", None) or {}).get(limit)
    if isinstance(raw, str):
        return {"strictness": raw}
    return raw if isinstance(raw, dict) else {}


def limit_strictness(policy, limit: str) -> str:
    """STRICT or IN_PRINCIPLE; a limit the policy does not mark is strict."""
    if limit not in LIMITS:
        raise ValueError(f"unknown limit: {limit}")
    value = _entry(policy, limit).get("strictness")
    return IN_PRINCIPLE if value == IN_PRINCIPLE else STRICT


def is_in_principle(policy, limit: str) -> bool:
    return limit_strictness(policy, limit) == IN_PRINCIPLE


def limit_article(city, limit: str) -> str:
    """The city's article for the limit: the entry's own, else the step's (unit cap, core members), else
    the eligibility rules' article."""
    from .articles import policy_article

    policy = city.policy
    article = str(_entry(policy, limit).get("article") or "").strip()
    if article:
        return article
    step = LIMITS[limit][1]
    if step is not None:
        return policy_article(city, step)
    return str((policy.eligibility_rules or {}).get("article") or "")


def limits_described(city) -> list[dict]:
    """Every limit with its strictness, article and basis, for pages and the API."""
    policy = city.policy
    rows = []
    for code, (label, _) in LIMITS.items():
        strictness = limit_strictness(policy, code)
        rows.append({"code": code, "label": label, "strictness": strictness,
                     "strictness_label": STRICTNESS_LABELS[strictness], "article": limit_article(city, code),
                     "basis": str(_entry(policy, code).get("basis") or "")})
    return rows
