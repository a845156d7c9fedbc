"""Matching over the database (P6(2)) with the real engine: request → accept → matching → confirm in
both cities; every hard rule shown on database records; unfilled slots with Chinese reasons;
determinism; hand replacement; replacement proposals for a withdrawal (P6(5))."""

import pytest

from rpms.appointments.models import Appointment
from rpms.core.errors import Conflict, DomainError
from rpms.core.models import ActionLog
from rpms.dispatch.models import MatchingRun, Proposal, ProposalStatus, RequestStatus
from rpms.dispatch.services import (
    conflict_declare,
    matching_run,
    proposal_confirm,
    proposal_replace,
    replacement_proposals,
)
from rpms.registry.models import PoolStatus
from rpms.testing.builders import appoint

from .conftest import ROLE, make_member, today, units_of

pytestmark = pytest.mark.django_db


def open_proposals(run):
    return list(run.proposals.filter(status=ProposalStatus.PROPOSED).order_by("slot_key"))


# --- end to end, both cities ----------------------------------------------------------------------


def test_request_to_appointment_in_beijing_with_the_cap_of_three(dispatching_beijing, beijing, haidian, district_haidian, city_admin,
                                                                  accepted_request):
    units = units_of(haidian, 4)
    star = make_member(beijing, "王海淀", districts=[haidian], experience_years=15)
    request = accepted_request(district_haidian, city_admin, units, service_focus="街区更新")

    run = matching_run(actor=city_admin, city=beijing)

    proposals = open_proposals(run)
    assert [p.planner_id for p in proposals] == [star.pk] * 3  # B19(2): at most 3 units at once
    assert len({p.unit_id for p in proposals}) == 3
    [unfilled] = run.unfilled
    assert unfilled["reason_code"] == "competition" and "名额用满" in unfilled["reason"]
    assert unfilled["unit"] not in {p.unit_id for p in proposals} and unfilled["district"] == "海淀区"
    assert run.optimal and run.method == "min_cost_flow"
    first = proposals[0]
    terms = {t["code"]: t for t in first.explanation["terms"]}
    assert sum(t["points"] for t in terms.values()) == first.score
    assert terms["familiarity"]["detail"] == "熟悉海淀区"
    checks = {c["code"]: c for c in first.explanation["checks"]}
    assert checks["pool_active"]["passed"] and "在库" in checks["pool_active"]["detail"]
    assert "上限 3 个（B19(2)）" in checks["unit_cap"]["detail"]
    assert first.explanation["article"] == "B19(5)"

    audit_before = ActionLog.objects.count()
    for proposal in proposals:
        appointment = proposal_confirm(actor=city_admin, proposal=proposal, start=today())
        assert appointment.source == f"proposal:{proposal.pk}" and appointment.service_focus == "街区更新"
    # exactly one audit row per confirmation: the appointment's own, none of dispatch's
    new_rows = list(ActionLog.objects.order_by("pk")[audit_before:])
    assert [r.action for r in new_rows] == ["appointments.appointment_create"] * 3
    assert Appointment.objects.filter(planner=star).count() == 3
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.status == ProposalStatus.CONFIRMED and proposal.appointment is not None
    request.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED  # one unit is still unserved


def test_request_to_appointment_in_pingdingshan_without_a_cap(pingdingshan, xinhua, district_xinhua, pds_admin,
                                                               accepted_request):
    units = units_of(xinhua, 4)
    planner = make_member(pingdingshan, "李新华", districts=[xinhua])
    request = accepted_request(district_xinhua, pds_admin, units)

    run = matching_run(actor=pds_admin, city=pingdingshan)

    proposals = open_proposals(run)
    assert [p.planner_id for p in proposals] == [planner.pk] * 4 and run.unfilled == []
    assert "本市未设上限" in {c["code"]: c for c in proposals[0].explanation["checks"]}["unit_cap"]["detail"]
    assert ActionLog.objects.get(action="dispatch.matching_run").article == "P6(2)"
    for proposal in proposals:
        proposal_confirm(actor=pds_admin, proposal=proposal, start=today())
    request.refresh_from_db()
    assert request.status == RequestStatus.FULFILLED and request.fulfilled_at
    assert Appointment.objects.filter(planner=planner).count() == 4


def test_rerunning_after_a_confirmation_does_not_fill_twice(dispatching_beijing, beijing, haidian, district_haidian, city_admin,
                                                            accepted_request):
    units = units_of(haidian, 2)
    make_member(beijing, "甲", districts=[haidian])
    make_member(beijing, "乙", districts=[haidian])
    request = accepted_request(district_haidian, city_admin, units)
    first = matching_run(actor=city_admin, city=beijing)
    confirmed = open_proposals(first)[0]
    proposal_confirm(actor=city_admin, proposal=confirmed, start=today())

    second = matching_run(actor=city_admin, city=beijing)

    assert second.slot_count == 1
    assert [p.unit_id for p in open_proposals(second)] == [u.pk for u in units if u.pk != confirmed.unit_id]
    # the first run's other open proposal was discarded, the confirmed one kept
    assert set(first.proposals.values_list("status", flat=True)) == {ProposalStatus.CONFIRMED, ProposalStatus.DISCARDED}
    proposal_confirm(actor=city_admin, proposal=open_proposals(second)[0], start=today())
    request.refresh_from_db()
    assert request.status == RequestStatus.FULFILLED


def test_matching_needs_accepted_requests(beijing, haidian, district_haidian, city_admin, district_chaoyang):
    from rpms.core.errors import Forbidden
    from rpms.dispatch.services import dispatch_request_submit

    with pytest.raises(DomainError):
        matching_run(actor=city_admin, city=beijing)
    submitted = dispatch_request_submit(actor=district_haidian, city=beijing, district=haidian, role=ROLE,
                                        units=units_of(haidian, 1))
    with pytest.raises(DomainError) as refused:
        matching_run(actor=city_admin, city=beijing, request_ids=[submitted.pk])
    assert refused.value.code == "request_not_accepted"
    with pytest.raises(Forbidden):
        matching_run(actor=district_chaoyang, city=beijing)
    assert not MatchingRun.objects.exists()


# --- hard rules on database records -------------------------------------------------------------------


def test_removed_and_candidate_planners_are_never_proposed(beijing, haidian, district_haidian, city_admin,
                                                           accepted_request):
    units = units_of(haidian, 3)
    make_member(beijing, "已调出", districts=[haidian], experience_years=20, status=PoolStatus.REMOVED)
    make_member(beijing, "待入库", districts=[haidian], experience_years=20, status=PoolStatus.CANDIDATE)
    ordinary = make_member(beijing, "在库", experience_years=1)
    accepted_request(district_haidian, city_admin, units)

    run = matching_run(actor=city_admin, city=beijing)

    assert {p.planner_id for p in run.proposals.all()} == {ordinary.pk}
    assert run.candidate_count == 1


def test_a_planner_at_the_cap_is_not_proposed(beijing, haidian, chaoyang, district_haidian, city_admin,
                                              accepted_request):
    busy = make_member(beijing, "满额", districts=[haidian], experience_years=20)
    for unit in units_of(chaoyang, 3):
        appoint(city_admin, busy, unit)
    spare = make_member(beijing, "有余力", experience_years=2)
    target = units_of(haidian, 1)
    accepted_request(district_haidian, city_admin, target)

    run = matching_run(actor=city_admin, city=beijing)

    assert [p.planner_id for p in run.proposals.all()] == [spare.pk]


def test_only_planners_at_the_cap_leave_the_slot_unfilled_with_the_reason(beijing, haidian, chaoyang,
                                                                          district_haidian, city_admin,
                                                                          accepted_request):
    busy = make_member(beijing, "满额", districts=[haidian])
    for unit in units_of(chaoyang, 3):
        appoint(city_admin, busy, unit)
    accepted_request(district_haidian, city_admin, units_of(haidian, 1))

    run = matching_run(actor=city_admin, city=beijing)

    assert not run.proposals.exists()
    assert run.unfilled[0]["reason_code"] == "all_at_capacity"
    assert "上限" in run.unfilled[0]["reason"] and run.unfilled[0]["unit_name"]


def test_confirming_a_stale_proposal_over_the_cap_is_refused_with_409(dispatching_beijing, beijing, haidian, chaoyang, district_haidian,
                                                                       city_admin, accepted_request):
    planner = make_member(beijing, "将满额", districts=[haidian])
    elsewhere = units_of(chaoyang, 3)
    appoint(city_admin, planner, elsewhere[0])
    appoint(city_admin, planner, elsewhere[1])
    accepted_request(district_haidian, city_admin, units_of(haidian, 1))
    run = matching_run(actor=city_admin, city=beijing)
    stale = open_proposals(run)[0]
    assert stale.planner_id == planner.pk
    appoint(city_admin, planner, elsewhere[2])  # the third unit taken after the run

    with pytest.raises(Conflict) as refused:
        proposal_confirm(actor=city_admin, proposal=stale, start=today())

    assert refused.value.status == 409 and "3" in refused.value.message
    stale.refresh_from_db()
    assert stale.status == ProposalStatus.PROPOSED and stale.appointment is None
    assert Appointment.objects.filter(planner=planner).count() == 3


def test_a_planner_is_proposed_at_most_once_per_unit(beijing, haidian, district_haidian, city_admin,
                                                     accepted_request):
    unit = units_of(haidian, 1)
    only = make_member(beijing, "唯一")
    accepted_request(district_haidian, city_admin, unit, slots_per_unit=2)
    accepted_request(district_haidian, city_admin, unit, role="responsible_architect")

    run = matching_run(actor=city_admin, city=beijing)

    assert list(run.proposals.values_list("planner_id", flat=True)) == [only.pk]
    assert run.slot_count == 3 and len(run.unfilled) == 2
    assert all("未能派驻" in u["reason"] for u in run.unfilled)


def test_a_planner_already_serving_the_unit_is_not_proposed_there_again(beijing, haidian, district_haidian,
                                                                        city_admin, accepted_request):
    unit = units_of(haidian, 1)
    serving = make_member(beijing, "在任", districts=[haidian], experience_years=20)
    appoint(city_admin, serving, unit[0])
    newcomer = make_member(beijing, "新人", experience_years=1)
    accepted_request(district_haidian, city_admin, unit, slots_per_unit=2)

    run = matching_run(actor=city_admin, city=beijing)

    assert run.slot_count == 1  # one of the two is already served
    assert list(run.proposals.values_list("planner_id", flat=True)) == [newcomer.pk]


def test_declared_conflicts_are_excluded(beijing, haidian, district_haidian, city_admin, accepted_request):
    units = units_of(haidian, 2)
    conflicted = make_member(beijing, "有冲突", districts=[haidian], experience_years=20)
    district_wide = make_member(beijing, "全区冲突", districts=[haidian], experience_years=19)
    other = make_member(beijing, "无冲突", experience_years=1)
    other2 = make_member(beijing, "无冲突二", experience_years=1)
    conflict_declare(actor=city_admin, planner=conflicted, unit=units[0], kind="employer_involved", note="参与项目")
    conflict_declare(actor=city_admin, planner=district_wide, district=haidian, kind="relation", note="亲属")
    accepted_request(district_haidian, city_admin, units)

    run = matching_run(actor=city_admin, city=beijing)

    pairs = {(p.unit_id, p.planner_id) for p in run.proposals.all()}
    assert (units[0].pk, conflicted.pk) not in pairs
    assert all(planner != district_wide.pk for _, planner in pairs)
    assert (units[1].pk, conflicted.pk) in pairs  # the unit-level conflict does not reach the other unit
    assert {planner for _, planner in pairs} <= {conflicted.pk, other.pk, other2.pk}


def test_a_conflict_declared_after_the_run_blocks_confirmation(beijing, haidian, district_haidian, city_admin,
                                                               accepted_request):
    planner = make_member(beijing, "后申报")
    unit = units_of(haidian, 1)
    accepted_request(district_haidian, city_admin, unit)
    proposal = open_proposals(matching_run(actor=city_admin, city=beijing))[0]
    conflict_declare(actor=city_admin, planner=planner, unit=unit[0], kind="relation", note="配偶在街道任职")

    with pytest.raises(Conflict) as refused:
        proposal_confirm(actor=city_admin, proposal=proposal, start=today())

    assert refused.value.code == "conflict_of_interest"
    assert not Appointment.objects.exists()


def test_a_slot_no_one_can_fill_is_reported_with_a_chinese_reason(beijing, haidian, district_haidian, city_admin,
                                                                   accepted_request):
    make_member(beijing, "规划专业", specialties=["urban_rural_planning"])
    accepted_request(district_haidian, city_admin, units_of(haidian, 1), specialties=["farmland_protection"])

    run = matching_run(actor=city_admin, city=beijing)

    assert not run.proposals.exists()
    [unfilled] = run.unfilled
    assert unfilled["reason_code"] == "no_specialty" and "耕地保护" in unfilled["reason"]


def test_matching_is_deterministic_for_the_same_database_state(beijing, haidian, chaoyang, district_haidian,
                                                               district_chaoyang, city_admin, accepted_request):
    for n in range(12):
        make_member(beijing, f"候选{n:02d}", districts=[haidian] if n % 2 else [chaoyang],
                    specialties=["urban_rural_planning", "urban_design"][: 1 + n % 2], experience_years=n % 5)
    accepted_request(district_haidian, city_admin, units_of(haidian, 5), slots_per_unit=2, specialties=["urban_design"])
    accepted_request(district_chaoyang, city_admin, units_of(chaoyang, 4))

    first = matching_run(actor=city_admin, city=beijing)
    second = matching_run(actor=city_admin, city=beijing)

    def picture(run):
        return [(p.slot_key, p.planner_id, p.score) for p in run.proposals.order_by("slot_key")]

    assert picture(first) == picture(second) and len(picture(first)) > 0
    assert first.input_digest == second.input_digest and first.objective == second.objective
    assert first.unfilled == second.unfilled
    assert not first.proposals.filter(status=ProposalStatus.PROPOSED).exists()  # superseded by the rerun


def test_confirming_in_a_local_selection_city_is_refused(beijing, haidian, district_haidian, city_admin,
                                                        accepted_request):
    # B2, B19(1)(5): in Beijing the matching only recommends; the city bureau does not appoint for a street
    from rpms.core.errors import Forbidden

    make_member(beijing, "推荐人选", districts=[haidian])
    accepted_request(district_haidian, city_admin, units_of(haidian, 1))
    proposal = open_proposals(matching_run(actor=city_admin, city=beijing))[0]
    with pytest.raises(Forbidden) as refused:
        proposal_confirm(actor=city_admin, proposal=proposal, start=today())
    assert refused.value.code == "local_selection_required" and "选聘提名" in refused.value.message
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PROPOSED and not Appointment.objects.exists()


# --- hand replacement ----------------------------------------------------------------------------------


@pytest.fixture
def one_proposal(beijing, haidian, district_haidian, city_admin, accepted_request):
    make_member(beijing, "推荐人", districts=[haidian], experience_years=15)
    accepted_request(district_haidian, city_admin, units_of(haidian, 1), specialties=["urban_rural_planning"])
    return open_proposals(matching_run(actor=city_admin, city=beijing))[0]


def test_a_hand_replacement_is_kept_with_its_reason(dispatching_beijing, beijing, city_admin, one_proposal):
    other = make_member(beijing, "替换人", experience_years=3)

    new = proposal_replace(actor=city_admin, proposal=one_proposal, planner=other, reason="原人选已承担市级重点任务")

    one_proposal.refresh_from_db()
    assert one_proposal.status == ProposalStatus.REPLACED and one_proposal.decided_by == city_admin
    assert new.replaces == one_proposal and new.replacement_reason == "原人选已承担市级重点任务"
    assert new.status == ProposalStatus.PROPOSED and new.explanation["manual"] is True
    assert new.score == sum(t["points"] for t in new.explanation["terms"])
    row = ActionLog.objects.get(action="dispatch.proposal_replace")
    assert row.article == "B19(5)" and row.after["reason"] == "原人选已承担市级重点任务"
    assert proposal_confirm(actor=city_admin, proposal=new, start=today()).planner_id == other.pk


def test_a_hand_replacement_that_breaks_a_rule_is_refused(beijing, haidian, chaoyang, city_admin, one_proposal):
    unit = one_proposal.unit
    removed = make_member(beijing, "已调出", status=PoolStatus.REMOVED)
    wrong_specialty = make_member(beijing, "园林", specialties=["landscape"])
    conflicted = make_member(beijing, "冲突")
    conflict_declare(actor=city_admin, planner=conflicted, unit=unit, kind="relation", note="亲属")
    full = make_member(beijing, "满额")
    for other_unit in units_of(chaoyang, 3):
        appoint(city_admin, full, other_unit)
    serving = make_member(beijing, "已在任")
    appoint(city_admin, serving, unit)
    fine = make_member(beijing, "合格")

    cases = [(removed, "在库"), (wrong_specialty, "专业"), (conflicted, "利益冲突"), (full, "上限"), (serving, "任职")]
    for planner, words in cases:
        with pytest.raises(Conflict) as refused:
            proposal_replace(actor=city_admin, proposal=one_proposal, planner=planner, reason="人工调整")
        assert words in refused.value.message, (planner.name, refused.value.message)
    with pytest.raises(DomainError):
        proposal_replace(actor=city_admin, proposal=one_proposal, planner=fine, reason="  ")
    one_proposal.refresh_from_db()
    assert one_proposal.status == ProposalStatus.PROPOSED
    assert Proposal.objects.count() == 1 and not ActionLog.objects.filter(action="dispatch.proposal_replace").exists()


def test_a_replacement_counts_the_planners_other_open_proposals_against_the_cap(beijing, haidian, chaoyang,
                                                                                 district_chaoyang, city_admin,
                                                                                 accepted_request, one_proposal):
    busy = make_member(beijing, "朝阳专家", districts=[chaoyang], experience_years=15)
    accepted_request(district_chaoyang, city_admin, units_of(chaoyang, 3))
    run = matching_run(actor=city_admin, city=beijing)
    assert run.proposals.filter(planner=busy).count() == 3  # proposed for three Chaoyang units
    haidian_proposal = Proposal.objects.get(unit=one_proposal.unit, status=ProposalStatus.PROPOSED)

    with pytest.raises(Conflict) as refused:
        proposal_replace(actor=city_admin, proposal=haidian_proposal, planner=busy, reason="人工调整")
    assert "待确认" in refused.value.message and "上限" in refused.value.message


# --- replacement proposals for a withdrawal (P6(5)) ------------------------------------------------------


def test_replacement_proposals_exclude_the_leaving_planner(beijing, haidian, chaoyang, city_admin):
    unit = units_of(haidian, 1)[0]
    leaving = make_member(beijing, "退出者", districts=[haidian], experience_years=15)
    appoint(city_admin, leaving, unit)
    best = make_member(beijing, "高分", districts=[haidian], experience_years=15)
    middle = make_member(beijing, "中分", districts=[haidian], experience_years=5)
    low = make_member(beijing, "低分", experience_years=0)
    full = make_member(beijing, "满额高分", districts=[haidian], experience_years=15)
    for other_unit in units_of(chaoyang, 3):
        appoint(city_admin, full, other_unit)
    audit_rows = ActionLog.objects.count()

    items = replacement_proposals(actor=city_admin, unit=unit, role=ROLE, exclude_planner_ids=[leaving.pk])

    assert [i["planner"] for i in items] == [best.pk, middle.pk, low.pk]
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert items[0]["planner_name"] == "高分" and items[0]["explanation"]["terms"]
    assert ActionLog.objects.count() == audit_rows  # read-only
    # without the exclusion the leaving planner still holds the unit until it leaves: never proposed there
    assert leaving.pk not in [i["planner"] for i in replacement_proposals(actor=city_admin, unit=unit, role=ROLE)]


def test_replacement_proposals_are_capped_at_five_and_for_administrators(beijing, haidian, city_admin,
                                                                          district_haidian):
    from rpms.core.errors import Forbidden

    unit = units_of(haidian, 1)[0]
    for n in range(7):
        make_member(beijing, f"人选{n}", experience_years=n)
    assert len(replacement_proposals(actor=city_admin, unit=unit, role=ROLE)) == 5
    with pytest.raises(Forbidden):
        replacement_proposals(actor=district_haidian, unit=unit, role=ROLE)
