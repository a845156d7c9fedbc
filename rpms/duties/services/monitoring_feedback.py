"""Monitoring feedback (B11(6)): issues found in plan implementation or the city health check,
filed by a planner and answered by the district."""
from __future__ import annotations

from django.db import transaction

from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden
from rpms.core.inputs import clean_or_refuse

from ..models import FeedbackSource, FeedbackStatus, MonitoringFeedback
from ..permissions import can_answer_feedback
from ._common import _date, _department, _entity_name, _require_planner, _serving, _text


FEEDBACK_FIELDS = ["source", "addressee", "department", "title", "description", "location", "suggestion", "status",
                   "answer", "answer_source", "answered_on"]


@transaction.atomic
def monitoring_feedback_file(*, actor, unit, source: str, title: str, description: str, location: str = "",
                             suggestion: str = "", department=None) -> MonitoringFeedback:
    """B11(6): a planner serving the unit files an issue found in plan implementation or the city health
    check to the district (default) or a department."""
    _require_planner(actor)
    appointment = _serving(actor, unit, clock.today())
    if source not in FeedbackSource.values:
        raise DomainError("问题来源应为 plan_implementation（规划实施）、health_check（城市体检评估）或 other（其他）。",
                          code="invalid_source")
    department = _department(unit.city, unit, department) if department not in (None, "") else None
    feedback = MonitoringFeedback(
        city=unit.city, district=unit.district, unit=unit, appointment=appointment, planner=appointment.planner,
        source=source, addressee="department" if department else "district", department=department,
        title=_text(title, label="问题", max_length=200, required=True),
        description=_text(description, label="问题描述", max_length=5000, required=True),
        location=_text(location, label="位置", max_length=200),
        suggestion=_text(suggestion, label="处理建议", max_length=5000),
        status=FeedbackStatus.SUBMITTED, submitted_at=clock.now(), filed_by=actor,
    )
    clean_or_refuse(feedback)
    feedback.save()
    audit_log(actor=actor, action="duties.monitoring_feedback_file", obj=feedback,
              after=snapshot(feedback, FEEDBACK_FIELDS), article=policy_article(unit.city, "monitoring_feedback"),
              summary=f"{appointment.planner.name} 向{feedback.addressee_name}反馈{feedback.get_source_display()}问题：{feedback.title}"[:255])
    return feedback


@transaction.atomic
def monitoring_feedback_answer(*, actor, feedback: MonitoringFeedback, answer: str, answer_source: str = "",
                               answered_on=None) -> MonitoringFeedback:
    """The district officer records the answer (its own, or the department's, with who answered and when)."""
    feedback = MonitoringFeedback.objects.select_for_update(of=("self",)).select_related("city__policy", "district", "department",
                                                                             "planner").get(pk=feedback.pk)
    if not can_answer_feedback(actor, feedback):
        raise Forbidden("只有区级主管部门（或市级部门事项的市级管理员）可以登记答复。", code="not_district")
    if feedback.status == FeedbackStatus.ANSWERED:
        raise Conflict("该反馈已答复。", code="feedback_answered")
    answered_on = _date(answered_on, label="答复日期", required=False) or clock.today()
    if answered_on > clock.today():
        raise DomainError("答复日期不能晚于今天。", code="invalid_date")
    if answered_on < clock.localdate(feedback.submitted_at):
        raise DomainError("答复日期不能早于反馈提交日期。", code="invalid_date")
    before = snapshot(feedback, FEEDBACK_FIELDS)
    feedback.answer = _text(answer, label="答复内容", max_length=5000, required=True)
    feedback.answer_source = _text(answer_source, label="答复单位", max_length=200) or (
        feedback.department.name if feedback.department_id else _entity_name(actor)
    )
    feedback.answered_on = answered_on
    feedback.answered_at = clock.now()
    feedback.answered_by = actor
    feedback.move_to(FeedbackStatus.ANSWERED)
    clean_or_refuse(feedback)
    feedback.save()
    audit_log(actor=actor, action="duties.monitoring_feedback_answer", obj=feedback, before=before,
              after=snapshot(feedback, FEEDBACK_FIELDS), article=policy_article(feedback.city, "monitoring_feedback"),
              summary=f"登记对“{feedback.title}”的答复（{feedback.answer_source}）"[:255])
    return feedback
