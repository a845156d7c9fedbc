"""The person's service cycles and the allowance each one earns (P6(3): 交通、通讯等费用按照每年 5000 元/人
标准，每个服务周期末予以支付; issue #12: the allowance is the person's, not the appointment's). Pure functions
of dates and the policy: no query here.

Rules (documented for the finance officer, shown on each allowance as its `basis`):

- The person's service cycles are anchored on the first day of the planner's first appointment in the
  city that served at least one day; cycle k runs from anchor + k years to the day before anchor +
  (k + 1) years (29 February → 1 March), numbered 1, 2, 3 … by year whether or not a day was served in
  it (a cycle without a day served earns nothing). Renewals and later appointments do not restart it.
- Days served: each term of each appointment (AppointmentTerm rows; an appointment without them is one
  term), from its start to its last day (the end of the term, or the leave, termination or removal date,
  `ended_on`); the union over all appointments: overlapping days of two units count once, never twice.
- A cycle is due on its last day served (`served_until`): the cycle's last day, or earlier when the
  person's service stops inside it and no appointment of theirs, running or upcoming, covers a later day
  of it. Should the person serve again later in that cycle, the extra days are added by a supplementary
  row (the cycle's amount recomputed, less what was already recorded). Overdue the day after, if unpaid.
- Amount of a full cycle: rate × persons. Amount of a partial one (fewer days served than the cycle has),
  per policy `allowance_partial_cycle`: `pro_rata_days` (default) rate × persons × days served ÷ days of
  the cycle (365 or 366), rounded to the yuan (half up, on the total); `full` the full amount; `none`
  nothing (no row is generated).
- Persons (5000 元/人): an individual planner is 1 person; a team counts its core members (TeamMember
  is_core), capped by policy `max_core_team_members`, and at least 1 (its leader) when none is recorded.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from rpms.cities.models import PartialCycleRule
from rpms.core.dates import add_years

PARTIAL_RULE_TEXT = {
    PartialCycleRule.PRO_RATA_DAYS: "按实际服务天数折算",
    PartialCycleRule.FULL: "按整周期支付",
    PartialCycleRule.NONE: "不足一个周期不支付",
}


def term_spans(appointment, terms=None) -> list[tuple[dt.date, dt.date]]:
    """(start, end) of each term, oldest first; an appointment without term rows is one term."""
    rows = sorted(terms if terms is not None else appointment.terms.all(), key=lambda t: (t.start, t.term_no))
    spans = [(t.start, t.end) for t in rows]
    return spans or [(appointment.start, appointment.end)]


def persons_for(planner, policy, members=None) -> int:
    """5000 元/人: how many persons an appointment of `planner` counts (see the module docstring)."""
    if planner.kind != "team":
        return 1
    members = list(members if members is not None else planner.members.all())
    core = sum(1 for m in members if m.is_core)
    cap = policy.max_core_team_members
    if cap is not None:
        core = min(core, cap)
    return max(1, core)


@dataclass(frozen=True)
class AllowanceAmount:
    amount_yuan: int
    partial_rule: str  # "" for a full cycle
    basis: str


def _yuan(value: int) -> str:
    return f"{value:,} 元"


def pro_rata_yuan(total_rate: int, days_served: int, days_in_cycle: int) -> tuple[int, Decimal]:
    """rate × days served ÷ days of the cycle, rounded to the yuan half up; and the exact value (two places)."""
    exact = Decimal(total_rate) * Decimal(days_served) / Decimal(days_in_cycle)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- the person's cycles -----------------------------------------------------------------------------


def service_spans(appointment, terms=None) -> list[tuple[dt.date, dt.date]]:
    """The days an appointment served: each term cut at the appointment's last day (none if it ended
    before it started)."""
    last_day = appointment.ended_on or appointment.end
    spans = []
    for start, end in term_spans(appointment, terms):
        end = min(end, last_day)
        if start <= end:
            spans.append((start, end))
    return spans


def merge_spans(spans) -> list[tuple[dt.date, dt.date]]:
    """The union of date ranges (inclusive), as disjoint ranges in order; adjacent ranges join."""
    merged: list[list[dt.date]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def _clip(spans, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    return [(max(s, start), min(e, end)) for s, e in spans if s <= end and e >= start]


def _days(spans) -> int:
    return sum((e - s).days + 1 for s, e in spans)


@dataclass(frozen=True)
class PersonCycle:
    no: int
    start: dt.date
    end: dt.date  # the last day of the full (one-year) cycle
    served: tuple[tuple[dt.date, dt.date], ...]  # the union of the days served in the cycle
    by_appointment: tuple[tuple[object, int], ...]  # (appointment key, days it served in the cycle)

    @property
    def days_in_cycle(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def days_served(self) -> int:
        return _days(self.served)

    @property
    def served_until(self) -> dt.date:
        return self.served[-1][1]

    @property
    def partial(self) -> bool:
        return self.days_served < self.days_in_cycle

    @property
    def due_on(self) -> dt.date:
        return self.served_until

    def closed(self, on: dt.date) -> bool:
        return self.served_until <= on

    @property
    def appointment_keys(self) -> list:
        return [key for key, _ in self.by_appointment]

    def counted_under(self):
        """The appointment whose unit and district the allowance is counted under: the one that served
        most days of the cycle (ties: the first in `by_appointment`, i.e. the earliest start)."""
        return max(self.by_appointment, key=lambda item: item[1])[0] if self.by_appointment else None

    def served_text(self) -> str:
        return "、".join(s.isoformat() if s == e else f"{s.isoformat()} 至 {e.isoformat()}" for s, e in self.served)


def person_cycles(spans_by_appointment) -> list[PersonCycle]:
    """The person's cycles with at least one day served, from {appointment key: [(start, end), …]} in the
    order of the appointments' starts (a list of pairs or a dict)."""
    items = list(spans_by_appointment.items() if isinstance(spans_by_appointment, dict) else spans_by_appointment)
    items = [(key, list(spans)) for key, spans in items if spans]
    if not items:
        return []
    items.sort(key=lambda item: min(s for s, _ in item[1]))
    union = merge_spans([span for _, spans in items for span in spans])
    anchor, last = union[0][0], union[-1][1]
    cycles = []
    k = 0
    while True:
        start = add_years(anchor, k)
        if start > last:
            break
        end = add_years(anchor, k + 1) - dt.timedelta(days=1)
        served = _clip(union, start, end)
        if served:
            by_appointment = tuple((key, _days(_clip(merge_spans(spans), start, end))) for key, spans in items)
            cycles.append(PersonCycle(no=k + 1, start=start, end=end, served=tuple(served),
                                      by_appointment=tuple(x for x in by_appointment if x[1] > 0)))
        k += 1
    return cycles


def person_allowance_amount(cycle: PersonCycle, *, rate_yuan: int, persons: int, partial_rule: str, article: str = "",
                            units: str = "") -> AllowanceAmount | None:
    """What the person's cycle earns in all (before subtracting what was already recorded), with the
    Chinese explanation; None when the policy pays nothing for it."""
    total_rate = rate_yuan * persons
    cite = f"（{article}）" if article else ""
    people = f"{persons} 人" if persons > 1 else "1 人"
    where = f"在{units}" if units else ""
    head = (f"按人计发：第 {cycle.no} 个服务周期 {cycle.start.isoformat()} 至 {cycle.end.isoformat()}"
            f"（共 {cycle.days_in_cycle} 天，自首次派驻之日起每满一年为一个周期）；补贴标准 {_yuan(rate_yuan)}/人·年{cite}，"
            f"计补 {people}；{where}服务 {cycle.served_text()}，合计 {cycle.days_served} 天"
            f"（同时服务多个责任单元的日子只计一次）。")
    if not cycle.partial:
        return AllowanceAmount(
            amount_yuan=total_rate, partial_rule="",
            basis=f"{head}服务满整周期，应付 {_yuan(rate_yuan)} × {persons} = {_yuan(total_rate)}。",
        )
    served = f"不足一个周期，按政策“{PARTIAL_RULE_TEXT.get(partial_rule, partial_rule)}”计算："
    if partial_rule == PartialCycleRule.NONE:
        return None
    if partial_rule == PartialCycleRule.FULL:
        return AllowanceAmount(amount_yuan=total_rate, partial_rule=partial_rule, basis=f"{head}{served}应付 {_yuan(total_rate)}。")
    amount, exact = pro_rata_yuan(total_rate, cycle.days_served, cycle.days_in_cycle)
    return AllowanceAmount(
        amount_yuan=amount, partial_rule=PartialCycleRule.PRO_RATA_DAYS,
        basis=(f"{head}{served}{_yuan(total_rate)} × {cycle.days_served} ÷ {cycle.days_in_cycle} = "
               f"{exact} 元，四舍五入到元，应付 {_yuan(amount)}。"),
    )
