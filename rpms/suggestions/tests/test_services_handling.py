"""Handling a suggestion: public reply, forward to a department and its answer, closing, the city's
moderation, work proposals, and that nothing is ever deleted."""
import datetime as dt

import pytest

from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.models import ActionLog
from rpms.suggestions import selectors, services
from rpms.suggestions.models import Suggestion, SuggestionStatus, WorkProposal, WorkProposalStatus

from .conftest import appoint, make_planner, submit

pytestmark = pytest.mark.django_db


def _audit(action):
    return list(ActionLog.objects.filter(action=action))


@pytest.mark.parametrize("unit_name,planner_name,article", [("bj_unit", "bj_planner", "B11(2)"), ("pds_unit", "pds_planner", "P3(3)")])
def test_a_serving_planner_replies_in_public_and_the_status_becomes_answered(request, clock, unit_name, planner_name, article):
    unit = request.getfixturevalue(unit_name)
    planner = request.getfixturevalue(planner_name)
    suggestion = submit(unit)
    reply = services.suggestion_reply(actor=planner.user, suggestion=suggestion, text="已联系路灯管理单位，三日内修复。")
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.ANSWERED
    assert suggestion.replied_at is not None
    assert reply.author_label == f"责任规划师 {planner.name}"
    rows = _audit("suggestions.suggestion_reply")
    assert len(rows) == 1 and rows[0].article == article


def test_a_planner_of_another_unit_cannot_reply(clock, bj_unit, bj_planner, bj_other_planner):
    suggestion = submit(bj_unit)
    with pytest.raises(Forbidden):
        services.suggestion_reply(actor=bj_other_planner.user, suggestion=suggestion, text="不是我的单元，但我来答复。")
    assert not suggestion.replies.exists()
    assert _audit("suggestions.suggestion_reply") == []


def test_a_planner_whose_appointment_ended_cannot_reply(clock, bj_unit):
    planner = make_planner(bj_unit.city)
    appoint(planner, bj_unit, start=dt.date(2025, 1, 1), end=dt.date(2026, 6, 30))
    clock.set(dt.date(2026, 6, 29))
    suggestion = submit(bj_unit)
    assert suggestion.recipients.filter(planner=planner).exists()
    clock.set(dt.date(2026, 7, 1))
    with pytest.raises(Forbidden):
        services.suggestion_reply(actor=planner.user, suggestion=suggestion, text="离任后仍然答复。")


def test_the_district_answers_for_a_vacant_unit(clock, bj_unit, district_haidian, district_chaoyang):
    suggestion = submit(bj_unit)
    with pytest.raises(Forbidden):
        services.suggestion_reply(actor=district_chaoyang, suggestion=suggestion, text="朝阳区来答复海淀的问题。")
    reply = services.suggestion_reply(actor=district_haidian, suggestion=suggestion, text="区里已安排处理，下周完成。")
    assert reply.author_label == district_haidian.display_name


def test_city_admin_and_auditor_cannot_reply(clock, bj_unit, bj_planner, city_admin, auditor):
    suggestion = submit(bj_unit)
    for user in (city_admin, auditor):
        with pytest.raises(Forbidden):
            services.suggestion_reply(actor=user, suggestion=suggestion, text="市级直接答复内容。")


def test_forward_then_record_the_departments_answer(clock, bj_unit, bj_planner, haidian_department):
    clock.set(dt.date(2026, 3, 2))
    suggestion = submit(bj_unit)
    services.suggestion_forward(actor=bj_planner.user, suggestion=suggestion, department=haidian_department,
                                note="涉及路灯维护，请城管委处理。")
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.FORWARDED
    assert suggestion.department == haidian_department
    with pytest.raises(Conflict):
        services.suggestion_forward(actor=bj_planner.user, suggestion=suggestion, department=haidian_department)
    clock.set(dt.date(2026, 3, 5))
    with pytest.raises(DomainError) as caught:  # an answer dated before the forward
        services.suggestion_department_answer_record(actor=bj_planner.user, suggestion=suggestion, text="已修复。",
                                                     answered_on=dt.date(2026, 3, 1))
    assert caught.value.code == "invalid_date"
    with pytest.raises(DomainError):  # or in the future
        services.suggestion_department_answer_record(actor=bj_planner.user, suggestion=suggestion, text="已修复。",
                                                     answered_on=dt.date(2026, 3, 6))
    services.suggestion_department_answer_record(actor=bj_planner.user, suggestion=suggestion, text="路灯已于3月4日修复。",
                                                 answered_on=dt.date(2026, 3, 4))
    suggestion.refresh_from_db()
    assert suggestion.department_answer == "路灯已于3月4日修复。"
    assert suggestion.department_answered_on == dt.date(2026, 3, 4)
    assert suggestion.status == SuggestionStatus.FORWARDED  # the resident still awaits the public reply
    services.suggestion_reply(actor=bj_planner.user, suggestion=suggestion, text="经城管委处理，路灯已修复。")
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.ANSWERED
    rows = _audit("suggestions.suggestion_forward") + _audit("suggestions.suggestion_department_answer")
    assert len(rows) == 2 and {r.article for r in rows} == {"B11(6)"}


def test_forward_only_to_a_department_of_the_city_or_the_units_district(clock, bj_unit, bj_planner, chaoyang_department,
                                                                         pds_department):
    suggestion = submit(bj_unit)
    for department in (chaoyang_department, pds_department):
        with pytest.raises(DomainError) as caught:
            services.suggestion_forward(actor=bj_planner.user, suggestion=suggestion, department=department)
        assert caught.value.code == "invalid_department"
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.RECEIVED and suggestion.department is None


def test_a_department_answer_needs_a_forward(clock, bj_unit, bj_planner):
    suggestion = submit(bj_unit)
    with pytest.raises(Conflict):
        services.suggestion_department_answer_record(actor=bj_planner.user, suggestion=suggestion, text="答复内容",
                                                     answered_on=dt.date(2026, 3, 2))


def test_closing_needs_a_public_reply_and_a_closed_suggestion_takes_no_further_act(clock, bj_unit, bj_planner, haidian_department):
    suggestion = submit(bj_unit)
    with pytest.raises(Conflict) as caught:
        services.suggestion_close(actor=bj_planner.user, suggestion=suggestion)
    assert caught.value.code == "reply_required"
    services.suggestion_reply(actor=bj_planner.user, suggestion=suggestion, text="已纳入街区更新计划。")
    services.suggestion_close(actor=bj_planner.user, suggestion=suggestion, note="已落实")
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.CLOSED
    with pytest.raises(Conflict):
        services.suggestion_reply(actor=bj_planner.user, suggestion=suggestion, text="再补充一句答复。")
    with pytest.raises(Conflict):
        services.suggestion_forward(actor=bj_planner.user, suggestion=suggestion, department=haidian_department)


def test_hiding_needs_a_reason_keeps_the_row_and_removes_it_from_public_pages(clock, bj_unit, bj_planner, city_admin, district_haidian):
    suggestion = submit(bj_unit, content="这里写了辱骂他人的不当内容。")
    with pytest.raises(DomainError) as caught:
        services.suggestion_hide(actor=city_admin, suggestion=suggestion, reason=" ")
    assert caught.value.code == "reason_required"
    services.suggestion_hide(actor=city_admin, suggestion=suggestion, reason="含有辱骂内容")
    suggestion.refresh_from_db()
    assert Suggestion.objects.filter(pk=suggestion.pk).exists()
    assert suggestion.content == "这里写了辱骂他人的不当内容。"
    assert suggestion.hidden_reason == "含有辱骂内容" and suggestion.hidden_by == city_admin
    items, total = selectors.public_unit_suggestions(bj_unit)
    assert total == 0 and items == []
    # staff still see it, marked hidden
    staff = selectors.suggestion_list(user=district_haidian).get(pk=suggestion.pk)
    assert staff.hidden_at is not None
    rows = _audit("suggestions.suggestion_hide")
    assert len(rows) == 1 and rows[0].article == "B22"
    # a hidden suggestion is not overdue and cannot be answered in public, but can be closed
    clock.set(dt.date(2026, 6, 1))
    assert not selectors.suggestion_list(user=district_haidian, overdue=True).exists()
    with pytest.raises(Conflict):
        services.suggestion_reply(actor=bj_planner.user, suggestion=suggestion, text="答复被隐藏的内容。")
    services.suggestion_close(actor=bj_planner.user, suggestion=suggestion)
    services.suggestion_unhide(actor=city_admin, suggestion=suggestion, reason="误操作，恢复显示")
    assert selectors.public_unit_suggestions(bj_unit)[1] == 1


def test_only_the_citys_administrator_may_hide(clock, bj_unit, pds_admin, district_haidian, bj_planner, auditor):
    suggestion = submit(bj_unit)
    for user in (pds_admin, district_haidian, bj_planner.user, auditor):
        with pytest.raises(Forbidden):
            services.suggestion_hide(actor=user, suggestion=suggestion, reason="不适宜公开的内容")
    suggestion.refresh_from_db()
    assert suggestion.hidden_at is None


def test_nothing_in_this_app_deletes():
    import inspect

    from django.contrib import admin

    from rpms.suggestions import api
    from rpms.suggestions import services as service_module
    from rpms.suggestions.models import Suggestion as Model

    source = inspect.getsource(service_module) + inspect.getsource(api)
    assert ".delete(" not in source
    assert not [name for name in dir(service_module) if "delete" in name and not name.startswith("proof_")]
    methods = {method for path in api.router.path_operations.values() for op in path.operations for method in op.methods}
    assert "DELETE" not in methods
    from rpms.suggestions.models import WorkProposal as ProposalModel

    for model in (Model, ProposalModel):
        assert admin.site._registry[model].has_delete_permission(None) is False


@pytest.mark.parametrize("unit_name,planner_name,entity_name,article", [
    ("bj_unit", "bj_planner", "street_office", "B11(2)"), ("pds_unit", "pds_planner", "pds_entity", "P3(3)"),
])
def test_a_planner_groups_suggestions_into_a_proposal_that_the_entity_acknowledges(request, clock, unit_name, planner_name,
                                                                                  entity_name, article, other_street_office):
    unit = request.getfixturevalue(unit_name)
    planner = request.getfixturevalue(planner_name)
    entity = request.getfixturevalue(entity_name)
    first, second = submit(unit), submit(unit, content="希望在小区旁边增加口袋公园。", category="suggestion")
    proposal = services.work_proposal_submit(
        actor=planner.user, unit=unit, title="关于改善东门周边环境的工作建议", analysis="居民集中反映照明和休憩空间不足。",
        recommendation="建议结合街区更新，增设路灯并建设口袋公园。", suggestions=[first.pk, second.pk],
    )
    assert set(proposal.suggestions.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert proposal.planner == planner and proposal.status == WorkProposalStatus.SUBMITTED
    assert selectors.work_proposal_list(user=entity).filter(pk=proposal.pk).exists()
    if unit_name == "bj_unit":
        assert not selectors.work_proposal_list(user=other_street_office).filter(pk=proposal.pk).exists()
        with pytest.raises(Forbidden):
            services.work_proposal_acknowledge(actor=other_street_office, proposal=proposal)
    services.work_proposal_acknowledge(actor=entity, proposal=proposal, note="已纳入下季度工作计划。")
    proposal.refresh_from_db()
    assert proposal.status == WorkProposalStatus.ACKNOWLEDGED and proposal.acknowledged_by == entity
    with pytest.raises(Conflict):
        services.work_proposal_acknowledge(actor=entity, proposal=proposal)
    rows = _audit("suggestions.work_proposal_submit") + _audit("suggestions.work_proposal_acknowledge")
    assert len(rows) == 2 and {r.article for r in rows} == {article}


def test_a_proposal_takes_only_suggestions_of_the_planners_own_unit(clock, bj_unit, bj_other_unit, bj_planner, bj_other_planner):
    mine, theirs = submit(bj_unit), submit(bj_other_unit)
    with pytest.raises(DomainError) as caught:
        services.work_proposal_submit(actor=bj_planner.user, unit=bj_unit, title="标题", analysis="分析", recommendation="建议",
                                      suggestions=[mine.pk, theirs.pk])
    assert caught.value.code == "invalid_suggestions"
    with pytest.raises(Forbidden):  # nor for a unit the planner does not serve
        services.work_proposal_submit(actor=bj_other_planner.user, unit=bj_unit, title="标题", analysis="分析",
                                      recommendation="建议", suggestions=[mine.pk])
    with pytest.raises(DomainError):
        services.work_proposal_submit(actor=bj_planner.user, unit=bj_unit, title="标题", analysis="分析", recommendation="建议",
                                      suggestions=[])
    assert WorkProposal.objects.count() == 0
