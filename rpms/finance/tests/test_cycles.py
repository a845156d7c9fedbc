"""The person's service cycles and amounts (P6(3); issue #12), as pure functions of the dates."""
import datetime as dt
from types import SimpleNamespace

from rpms.finance.cycles import (
    merge_spans,
    person_allowance_amount,
    person_cycles,
    persons_for,
    pro_rata_yuan,
    service_spans,
)

D = dt.date


def _appointment(start, end, ended_on=None):
    return SimpleNamespace(start=start, end=end, ended_on=ended_on)


def _term(no, start, end):
    return SimpleNamespace(term_no=no, start=start, end=end)


def _cycles(*appointments):
    """appointments: (appointment, terms) pairs, keyed 1, 2, …"""
    return person_cycles([(i, service_spans(a, terms)) for i, (a, terms) in enumerate(appointments, start=1)])


def test_a_one_year_term_is_one_full_cycle_due_on_its_last_day():
    appointment = _appointment(D(2026, 3, 1), D(2027, 2, 28))
    [cycle] = _cycles((appointment, [_term(1, D(2026, 3, 1), D(2027, 2, 28))]))
    assert (cycle.no, cycle.start, cycle.end, cycle.served_until) == (1, D(2026, 3, 1), D(2027, 2, 28), D(2027, 2, 28))
    assert not cycle.partial and cycle.days_in_cycle == cycle.days_served == 365
    assert cycle.due_on == D(2027, 2, 28)
    assert not cycle.closed(D(2027, 2, 27)) and cycle.closed(D(2027, 2, 28))


def test_two_units_at_once_count_each_day_once():
    first = _appointment(D(2026, 3, 1), D(2027, 2, 28))
    second = _appointment(D(2026, 3, 1), D(2027, 2, 28))
    [cycle] = _cycles((first, []), (second, []))
    assert cycle.days_served == 365 and not cycle.partial
    assert cycle.by_appointment == ((1, 365), (2, 365)) and cycle.counted_under() == 1


def test_overlapping_stretches_are_merged_not_summed():
    first = _appointment(D(2026, 3, 1), D(2027, 2, 28), ended_on=D(2026, 9, 30))  # 214 days
    second = _appointment(D(2026, 6, 1), D(2027, 5, 31), ended_on=D(2026, 11, 30))  # 183 days
    [cycle] = _cycles((first, []), (second, []))
    assert cycle.served == ((D(2026, 3, 1), D(2026, 11, 30)),)
    assert cycle.days_served == 275 and cycle.served_until == D(2026, 11, 30) and cycle.partial
    assert dict(cycle.by_appointment) == {1: 214, 2: 183} and cycle.counted_under() == 1


def test_the_cycle_is_anchored_on_the_persons_first_appointment_and_renewals_do_not_restart_it():
    first = _appointment(D(2026, 3, 1), D(2026, 5, 31))
    later = _appointment(D(2026, 9, 1), D(2028, 8, 31))
    terms = [_term(1, D(2026, 9, 1), D(2027, 8, 31)), _term(2, D(2027, 9, 1), D(2028, 8, 31))]
    cycles = _cycles((first, []), (later, terms))
    assert [(c.no, c.start, c.end) for c in cycles] == [
        (1, D(2026, 3, 1), D(2027, 2, 28)),
        (2, D(2027, 3, 1), D(2028, 2, 29)),
        (3, D(2028, 3, 1), D(2029, 2, 28)),
    ]
    assert cycles[0].days_served == 92 + 181 and cycles[0].served_until == D(2027, 2, 28)
    assert cycles[1].days_in_cycle == 366 and not cycles[1].partial  # 2028 is a leap year
    assert cycles[2].served_until == D(2028, 8, 31) and cycles[2].appointment_keys == [2]


def test_a_year_without_a_day_served_earns_nothing_but_keeps_its_number():
    first = _appointment(D(2024, 1, 1), D(2024, 12, 31))
    back = _appointment(D(2026, 1, 1), D(2026, 12, 31))
    assert [(c.no, c.start) for c in _cycles((first, []), (back, []))] == [(1, D(2024, 1, 1)), (3, D(2026, 1, 1))]


def test_an_appointment_ended_before_it_started_has_no_day_served():
    appointment = _appointment(D(2026, 3, 1), D(2027, 2, 28), ended_on=D(2026, 2, 28))
    assert service_spans(appointment, []) == [] and _cycles((appointment, [])) == []


def test_adjacent_ranges_join():
    assert merge_spans([(D(2026, 1, 1), D(2026, 1, 31)), (D(2026, 2, 1), D(2026, 2, 10)),
                        (D(2026, 3, 1), D(2026, 3, 1))]) == [(D(2026, 1, 1), D(2026, 2, 10)), (D(2026, 3, 1), D(2026, 3, 1))]


def test_pro_rata_amount_is_rate_times_days_over_days_in_cycle_rounded_half_up():
    appointment = _appointment(D(2026, 3, 1), D(2027, 2, 28), ended_on=D(2026, 7, 15))
    [cycle] = _cycles((appointment, []))
    result = person_allowance_amount(cycle, rate_yuan=5000, persons=1, partial_rule="pro_rata_days", article="P6(3)",
                                     units="曙光街街道")
    # 5000 × 137 ÷ 365 = 1876.71… → 1877
    assert result.amount_yuan == 1877 and result.partial_rule == "pro_rata_days"
    assert "5,000 元 × 137 ÷ 365 = 1876.71 元" in result.basis and "在曙光街街道服务" in result.basis


def test_half_a_yuan_rounds_up_and_below_half_rounds_down():
    assert pro_rata_yuan(5, 1, 2)[0] == 3  # 2.5
    assert pro_rata_yuan(5292, 1, 365)[0] == 14  # 14.498…
    assert pro_rata_yuan(10000, 100, 365)[0] == 2740  # 2739.73


def test_partial_cycle_rules_full_and_none():
    appointment = _appointment(D(2026, 3, 1), D(2027, 2, 28), ended_on=D(2026, 7, 15))
    [cycle] = _cycles((appointment, []))
    assert person_allowance_amount(cycle, rate_yuan=5000, persons=1, partial_rule="full").amount_yuan == 5000
    assert person_allowance_amount(cycle, rate_yuan=5000, persons=1, partial_rule="none") is None


def test_a_team_counts_its_core_members_capped_by_policy_and_at_least_one():
    policy = SimpleNamespace(max_core_team_members=3)
    member = lambda core: SimpleNamespace(is_core=core)
    team = SimpleNamespace(kind="team")
    assert persons_for(team, policy, [member(True)] * 5 + [member(False)]) == 3
    assert persons_for(team, policy, [member(True)] * 2) == 2
    assert persons_for(team, policy, [member(False)]) == 1
    assert persons_for(team, SimpleNamespace(max_core_team_members=None), [member(True)] * 5) == 5
    assert persons_for(SimpleNamespace(kind="individual"), policy, []) == 1
