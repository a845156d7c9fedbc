"""Service cycles and amounts (P6(3)), as pure functions of the dates."""
import datetime as dt
from types import SimpleNamespace

from rpms.finance.cycles import allowance_amount, appointment_cycles, ended_cycles, persons_for

D = dt.date


def _appointment(start, end, ended_on=None):
    return SimpleNamespace(start=start, end=end, ended_on=ended_on)


def _term(no, start, end):
    return SimpleNamespace(term_no=no, start=start, end=end)


def test_a_one_year_term_is_one_full_cycle_due_on_its_last_day():
    appointment = _appointment(D(2026, 3, 1), D(2027, 2, 28))
    [cycle] = appointment_cycles(appointment, [_term(1, D(2026, 3, 1), D(2027, 2, 28))])
    assert (cycle.no, cycle.start, cycle.end, cycle.served_until) == (1, D(2026, 3, 1), D(2027, 2, 28), D(2027, 2, 28))
    assert not cycle.partial
    assert cycle.days_in_cycle == cycle.days_served == 365
    assert cycle.due_on == D(2027, 2, 28)


def test_a_cycle_is_due_only_once_its_last_day_is_reached():
    appointment = _appointment(D(2026, 3, 1), D(2027, 2, 28))
    terms = [_term(1, D(2026, 3, 1), D(2027, 2, 28))]
    assert ended_cycles(appointment, on=D(2027, 2, 27), terms=terms) == []
    assert [c.no for c in ended_cycles(appointment, on=D(2027, 2, 28), terms=terms)] == [1]


def test_a_renewal_of_two_years_adds_two_cycles_counted_from_its_own_start():
    appointment = _appointment(D(2026, 3, 1), D(2029, 2, 28))
    terms = [_term(1, D(2026, 3, 1), D(2027, 2, 28)), _term(2, D(2027, 3, 1), D(2029, 2, 28))]
    cycles = appointment_cycles(appointment, terms)
    assert [(c.no, c.start, c.end) for c in cycles] == [
        (1, D(2026, 3, 1), D(2027, 2, 28)),
        (2, D(2027, 3, 1), D(2028, 2, 29)),
        (3, D(2028, 3, 1), D(2029, 2, 28)),
    ]
    assert cycles[1].days_in_cycle == 366  # 2028 is a leap year


def test_a_withdrawal_cuts_the_running_cycle_short_and_no_later_cycle_exists():
    appointment = _appointment(D(2026, 3, 1), D(2029, 2, 28), ended_on=D(2027, 7, 15))
    terms = [_term(1, D(2026, 3, 1), D(2027, 2, 28)), _term(2, D(2027, 3, 1), D(2029, 2, 28))]
    cycles = appointment_cycles(appointment, terms)
    assert [c.no for c in cycles] == [1, 2]
    assert cycles[1].partial and cycles[1].served_until == D(2027, 7, 15)
    assert cycles[1].days_served == 137


def test_an_appointment_ended_before_it_started_has_no_cycle():
    appointment = _appointment(D(2026, 3, 1), D(2027, 2, 28), ended_on=D(2026, 2, 28))
    assert appointment_cycles(appointment, []) == []


def test_a_term_shorter_than_a_year_is_a_partial_cycle():
    appointment = _appointment(D(2026, 1, 1), D(2026, 6, 30))
    [cycle] = appointment_cycles(appointment, [_term(1, D(2026, 1, 1), D(2026, 6, 30))])
    assert cycle.partial and cycle.days_served == 181 and cycle.days_in_cycle == 365


def test_pro_rata_amount_is_rate_times_days_over_days_in_cycle_rounded_half_up():
    appointment = _appointment(D(2026, 3, 1), D(2027, 2, 28), ended_on=D(2026, 7, 15))
    [cycle] = appointment_cycles(appointment, [])
    result = allowance_amount(cycle, rate_yuan=5000, persons=1, partial_rule="pro_rata_days", article="P6(3)")
    # 5000 × 137 ÷ 365 = 1876.71… → 1877
    assert result.amount_yuan == 1877
    assert "5,000 元 × 137 ÷ 365 = 1876.71 元" in result.basis
    assert result.partial_rule == "pro_rata_days"


def test_half_a_yuan_rounds_up_and_below_half_rounds_down():
    def cycle(days_in_cycle, days_served):
        return SimpleNamespace(no=1, start=D(2026, 1, 1), end=D(2026, 1, 1) + dt.timedelta(days=days_in_cycle - 1),
                               served_until=D(2026, 1, 1) + dt.timedelta(days=days_served - 1),
                               days_in_cycle=days_in_cycle, days_served=days_served, partial=True, due_on=D(2026, 1, 1))

    assert allowance_amount(cycle(2, 1), rate_yuan=5, persons=1, partial_rule="pro_rata_days").amount_yuan == 3  # 2.5
    assert allowance_amount(cycle(365, 1), rate_yuan=5292, persons=1, partial_rule="pro_rata_days").amount_yuan == 14  # 14.498…
    assert allowance_amount(cycle(365, 100), rate_yuan=5000, persons=2, partial_rule="pro_rata_days").amount_yuan == 2740  # 2739.73


def test_partial_cycle_rules_full_and_none():
    appointment = _appointment(D(2026, 3, 1), D(2027, 2, 28), ended_on=D(2026, 7, 15))
    [cycle] = appointment_cycles(appointment, [])
    assert allowance_amount(cycle, rate_yuan=5000, persons=1, partial_rule="full").amount_yuan == 5000
    assert allowance_amount(cycle, rate_yuan=5000, persons=1, partial_rule="none") is None


def test_a_team_counts_its_core_members_capped_by_policy_and_at_least_one():
    policy = SimpleNamespace(max_core_team_members=3)
    member = lambda core: SimpleNamespace(is_core=core)
    team = SimpleNamespace(kind="team")
    assert persons_for(team, policy, [member(True)] * 5 + [member(False)]) == 3
    assert persons_for(team, policy, [member(True)] * 2) == 2
    assert persons_for(team, policy, [member(False)]) == 1
    assert persons_for(team, SimpleNamespace(max_core_team_members=None), [member(True)] * 5) == 5
    assert persons_for(SimpleNamespace(kind="individual"), policy, []) == 1
