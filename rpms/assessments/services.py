"""Assessment writes (B20, P6(4)), violations (B16, B17), replacement flags, the city's assessment of
districts (B20) and honours (B24).

Each service is one act: one transaction, one audit row citing the city's own article for the step
(`policy_article`), the planner's dossier rows alongside. Recording a grade applies ALL its consequences
in that same transaction (`assessment_grade`): a failure at any step leaves nothing changed."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from rpms.accounts.delegation import with_delegates
from rpms.accounts.models import Role, User
from rpms.appointments.models import Appointment
from rpms.appointments.selectors import awaits_replacement
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.audit import audit_log, snapshot
from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.notifications.services import notify
from rpms.registry.models import DossierEventKind, Planner, PoolStatus
from rpms.registry.services import dossier_event_record, full_clean_or_refuse, planner_remove_apply

from . import permissions
from .cycles import _date, cycle_for, service_cycles  # noqa: F401  (service_cycles: callers import it from here)
from .inputs import assessment_inputs, inputs_summary
from .models import (
    REVIEW_INPUT_PARTY,
    SCORE_MAX,
    SCORE_MIN,
    AssessingBody,
    Assessment,
    AssessmentScore,
    AssessmentStatus,
    DistrictAssessment,
    FlagStatus,
    Honour,
    HonourStatus,
    ReplacementFlag,
    ReviewInput,
    ReviewInputAbsence,
    ScoreSource,
    Violation,
)
from .review import review_state
from .selectors import district_metrics

SELF_REPORT_MAX = 8000
FEEDBACK_MAX = 4000


class ReviewNotReady(Conflict):
    """Grading refused before the review window or before its inputs are in (or recorded absent). The API
    answer carries what is missing and the first day grading is allowed, beside the Chinese `detail`."""

    def __init__(self, message: str, *, missing: list[dict], allowed_from: dt.date):
        super().__init__(message, code="review_not_ready",
                         details={"missing": missing, "allowed_from": allowed_from.isoformat()})
        self.missing = missing
        self.allowed_from = allowed_from

    def as_dict(self) -> dict:
        return {**super().as_dict(), "missing": self.missing, "allowed_from": self.allowed_from.isoformat()}


# --- small helpers ---------------------------------------------------------------------------------


def _text(value, *, label: str, required: bool = True, max_length: int = 4000, code: str = "text_required") -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not value:
        raise DomainError(f"请填写{label}。", code=code)
    if len(value) > max_length:
        raise DomainError(f"{label}不得超过 {max_length} 字。", code="text_too_long")
    return value


def _score(value, *, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(f"{label}应为 0 至 100 之间的数字。", code="invalid_score") from None
    if not number.is_finite() or number < SCORE_MIN or number > SCORE_MAX:
        raise DomainError(f"{label}应为 0 至 100 之间的数字。", code="invalid_score")
    return number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def year_value(value) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise DomainError("年度应为四位数字，如 2026。", code="invalid_year") from None
    if not 2000 <= year <= clock.today().year + 1:
        raise DomainError(f"年度 {year} 不在可办理的范围内。", code="invalid_year")
    return year


def _users_of_unit_entity(unit) -> list:
    """The hiring-entity users of the unit's current subdistricts, and the colleagues acting for them today."""
    return with_delegates(User.objects.filter(
        role=Role.HIRING_ENTITY, is_active=True, subdistricts__memberships__unit=unit,
        subdistricts__memberships__left_at__isnull=True,
    ).distinct())


def _district_officers(district_id) -> list:
    return with_delegates(User.objects.filter(role=Role.DISTRICT_OFFICER, is_active=True, districts=district_id)
                          .distinct())


def _city_admins(city) -> list:
    return list(User.objects.filter(role=Role.CITY_ADMIN, is_active=True, city=city))


def _detail_url(assessment) -> str:
    return reverse("assessments:detail", args=[assessment.pk])


def body_name(assessment_or_body, *, city, district) -> str:
    """The assessing body as the result names it (rpms.documents.issuers: who issues what in the city)."""
    from rpms.documents.issuers import document_issuer

    body = getattr(assessment_or_body, "assessing_body", assessment_or_body)
    return document_issuer(city=city, kind="assessment_result", district=district,
                           city_leads=body == AssessingBody.CITY_WITH_DISTRICT).name


# --- assessment ---------------------------------------------------------------------------------------


def _lock_assessment(assessment: Assessment) -> Assessment:
    return (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("city__policy", "appointment__city__policy", "appointment__unit__district", "unit__district",
                        "district", "planner__user", "planner__city__policy")
        .get(pk=assessment.pk)
    )


def _visible_or_404(actor, assessment) -> None:
    if not permissions.can_view_assessment(actor, assessment):
        raise NotFound()


def _require_open(assessment: Assessment) -> None:
    if not assessment.is_open:
        raise Conflict(f"该考核已于 {timezone.localtime(assessment.graded_at):%Y-%m-%d} 评定为“{assessment.grade_label}”，不能再修改。",
                       code="assessment_graded")


@transaction.atomic
def assessment_open(*, actor, appointment: Appointment, cycle_start=None) -> Assessment:
    """B20 / P6(4): the assessing body opens the assessment of one service year of an appointment. The
    planner is asked for the 述职 report and the hiring entity for its local feedback."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("city__policy", "unit__district", "unit__city__policy", "planner__user")
        .get(pk=appointment.pk)
    )
    from rpms.appointments import permissions as appointment_permissions

    if not appointment_permissions.can_view(actor, appointment):
        raise NotFound()
    city = appointment.city
    body = permissions.assessing_body_for(city)
    if not permissions.can_open(actor, appointment):
        who = "市级主管部门（会同属地政府）" if body == AssessingBody.CITY_WITH_DISTRICT else "责任单元所在区的责任规划师工作专班"
        raise Forbidden(f"本市的年度考核由{who}组织（{policy_article(city, 'assessment')}）。", code="not_assessing_body")
    today = clock.today()
    start, end = cycle_for(appointment, today=today, cycle_start=cycle_start)
    if Assessment.objects.filter(appointment=appointment, period_start=start).exists():
        raise Conflict(f"{start} 至 {end} 服务年度的考核已经启动。", code="assessment_exists")
    article = policy_article(city, "assessment")
    now = clock.now()
    assessment = Assessment(
        city=city, appointment=appointment, planner=appointment.planner, unit=appointment.unit,
        district=appointment.unit.district, year=end.year, period_start=start, period_end=end, assessing_body=body,
        opened_at=now, opened_on=today, opened_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    full_clean_or_refuse(assessment, validate_constraints=False)
    try:
        with transaction.atomic():
            assessment.save()
    except IntegrityError:
        raise Conflict(f"{start} 至 {end} 服务年度的考核已经启动。", code="assessment_exists") from None
    audit_log(
        actor=actor, action="assessments.assessment_open", obj=assessment,
        after=snapshot(assessment, ["appointment", "planner", "unit", "year", "period_start", "period_end", "assessing_body"]),
        article=article, summary=f"启动年度考核：{appointment.planner.name} · {appointment.unit.name}（{start} 至 {end}）",
    )
    url = _detail_url(assessment)
    title = f"{appointment.unit.name}责任规划师 {assessment.year} 年度考核已启动"
    key = f"assessment:{assessment.pk}:opened"
    notify(users=[appointment.planner.user] if appointment.planner.user else [], event="assessment_opened",
           title=title, body=f"请在考核页面提交述职报告（{start} 至 {end}）。", url=url, key=key, city=city)
    notify(users=_users_of_unit_entity(appointment.unit), event="assessment_opened", title=title,
           body=f"请对{appointment.planner.name}的服务情况给出属地反馈评分和意见。", url=url, key=key, city=city)
    if body == AssessingBody.CITY_WITH_DISTRICT:
        notify(users=_district_officers(appointment.unit.district_id), event="assessment_opened", title=title,
               body="请填写区级评分和意见。", url=url, key=key, city=city)
    return assessment


def criteria_table(assessment: Assessment, scores=None) -> dict:
    """Per criterion of the policy: each body's score, the mean of the bodies that scored it, and the
    weighted total Σ(weight × mean) / Σ weight over all criteria (None until every criterion with a weight
    has at least one score). The planner's self-score is shown beside it and not counted."""
    criteria = assessment.city.policy.assessment_criteria or []
    scores = list(assessment.scores.all()) if scores is None else scores
    by_key = {(s.criterion, s.source): s for s in scores}
    rows = []
    weighted = Decimal(0)
    weights = Decimal(0)
    complete = True
    for item in criteria:
        by_source = {}
        values = []
        for source in ScoreSource.values:
            found = by_key.get((item["code"], source))
            if found is not None:
                by_source[source] = {"score": str(found.score), "comment": found.comment}
                values.append(found.score)
        mean = (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if values else None
        weight = Decimal(item.get("weight") or 0)
        if mean is None and weight > 0:
            complete = False
        if mean is not None:
            weighted += weight * mean
        weights += weight
        rows.append({"code": item["code"], "label": item["label"], "weight": int(weight), "by_source": by_source,
                     "mean": str(mean) if mean is not None else None})
    total = None
    if complete and weights > 0:
        total = (weighted / weights).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {"rows": rows, "complete": complete, "total": str(total) if total is not None else None}


@transaction.atomic
def assessment_score(*, actor, assessment: Assessment, scores: dict, comment: str = "") -> list[AssessmentScore]:
    """One body's scores (0–100) on the policy's criteria, with comments. `scores` maps a criterion code to
    a score or to {"score": .., "comment": ..}; `comment` applies to criteria without their own. A body may
    score some criteria now and the rest later, and change its scores until the grade is recorded."""
    assessment = _lock_assessment(assessment)
    _visible_or_404(actor, assessment)
    source = permissions.score_source_for(actor, assessment)
    if source is None:
        raise Forbidden("您不是该考核的评分方（聘任主体、区级工作专班或组织考核的市级主管部门）。", code="not_a_scorer")
    _require_open(assessment)
    if not isinstance(scores, dict) or not scores:
        raise DomainError("请至少填写一项考核内容的得分。", code="scores_required")
    criteria = {c["code"]: c for c in assessment.city.policy.assessment_criteria or []}
    comment = _text(comment, label="评语", required=False, max_length=1000)
    cleaned = {}
    for code, value in scores.items():
        if code not in criteria:
            raise DomainError(f"考核内容“{code}”不在本市规定的考核评议内容之中（可选：{'、'.join(criteria)}）。",
                              code="unknown_criterion")
        item_comment = comment
        if isinstance(value, dict):
            item_comment = _text(value.get("comment", comment), label="评语", required=False, max_length=1000)
            value = value.get("score")
        if value in (None, ""):
            continue
        cleaned[code] = (_score(value, label=f"“{criteria[code]['label']}”得分"), item_comment)
    if not cleaned:
        raise DomainError("请至少填写一项考核内容的得分。", code="scores_required")
    existing = {s.criterion: s for s in assessment.scores.filter(source=source)}
    before = {code: str(s.score) for code, s in existing.items()}
    now = clock.now()
    saved = []
    for code, (value, item_comment) in cleaned.items():
        row = existing.get(code) or AssessmentScore(assessment=assessment, source=source, criterion=code)
        row.score = value
        row.comment = item_comment
        row.scored_by = actor
        row.scored_at = now
        full_clean_or_refuse(row, validate_unique=False, validate_constraints=False)
        row.save()
        saved.append(row)
    after = {**before, **{code: str(v) for code, (v, _) in cleaned.items()}}
    audit_log(
        actor=actor, action="assessments.assessment_score", obj=assessment, before={"source": source, "scores": before},
        after={"source": source, "scores": after}, article=policy_article(assessment.city, "assessment"),
        summary=f"{ScoreSource(source).label}评分：{assessment.planner.name} {assessment.year} 年度考核",
    )
    return saved


@transaction.atomic
def assessment_self_report(*, actor, assessment: Assessment, text: str, self_score=None) -> Assessment:
    """The planner's report on the year (述职), with an optional self-score (shown, not counted)."""
    assessment = _lock_assessment(assessment)
    _visible_or_404(actor, assessment)
    if not permissions.is_planner_of(actor, assessment):
        raise Forbidden("述职报告由责任规划师本人提交。", code="not_the_planner")
    _require_open(assessment)
    _refuse_if_recorded_absent(assessment, ReviewInput.SELF_REPORT)
    text = _text(text, label="述职报告", max_length=SELF_REPORT_MAX, code="report_required")
    score = None if self_score in (None, "") else _score(self_score, label="自评分")
    before = snapshot(assessment, ["self_report", "self_score", "self_reported_at"])
    assessment.self_report = text
    assessment.self_score = score
    assessment.self_reported_at = clock.now()
    full_clean_or_refuse(assessment, validate_constraints=False)
    assessment.save(update_fields=["self_report", "self_score", "self_reported_at", "updated_at"])
    audit_log(
        actor=actor, action="assessments.assessment_self_report", obj=assessment, before=before,
        after=snapshot(assessment, ["self_report", "self_score", "self_reported_at"]),
        article=policy_article(assessment.city, "assessment"),
        summary=f"{assessment.planner.name} 提交 {assessment.year} 年度述职报告",
    )
    return assessment


def _refuse_if_recorded_absent(assessment: Assessment, code: str) -> None:
    absence = assessment.absences.filter(input=code).first()
    if absence is not None:
        raise Conflict(
            f"{absence.get_input_display()}的提交期限为 {absence.deadline}，已于 {timezone.localtime(absence.recorded_at):%Y-%m-%d} "
            f"记录为逾期未提交，本次考核评议不再接收（{policy_article(assessment.city, 'assessment')}）。",
            code="input_recorded_absent",
        )


@transaction.atomic
def assessment_feedback_submit(*, actor, assessment: Assessment, text: str) -> Assessment:
    """P6(4) 属地反馈: the hiring entity of the unit gives its written feedback on the planner's service in
    the year (its scores on the criteria are given apart, `assessment_score`). It may revise it until the
    grade is recorded, unless its absence was recorded after the deadline."""
    assessment = _lock_assessment(assessment)
    _visible_or_404(actor, assessment)
    if not permissions.can_give_feedback(actor, assessment):
        raise Forbidden("属地反馈由责任单元所在的聘任主体（街道、乡镇、园区）提交。", code="not_the_entity")
    _require_open(assessment)
    _refuse_if_recorded_absent(assessment, ReviewInput.ENTITY_FEEDBACK)
    text = _text(text, label="属地反馈意见", max_length=FEEDBACK_MAX, code="feedback_required")
    before = snapshot(assessment, ["entity_feedback", "entity_feedback_at"])
    assessment.entity_feedback = text
    assessment.entity_feedback_at = clock.now()
    assessment.entity_feedback_by = actor
    full_clean_or_refuse(assessment, validate_constraints=False)
    assessment.save(update_fields=["entity_feedback", "entity_feedback_at", "entity_feedback_by", "updated_at"])
    audit_log(
        actor=actor, action="assessments.assessment_feedback", obj=assessment, before=before,
        after=snapshot(assessment, ["entity_feedback", "entity_feedback_at"]),
        article=policy_article(assessment.city, "assessment"),
        summary=f"聘任主体提交属地反馈：{assessment.planner.name} {assessment.year} 年度考核",
    )
    return assessment


@transaction.atomic
def assessment_absence_record(*, actor, assessment: Assessment, input: str, note: str = "") -> ReviewInputAbsence:
    """The assessing body records that a party did not give an input the city's criteria name (述职 or
    属地反馈) by its deadline (policy `review_input_working_days`, rpms.workdays); the review then goes on
    without it and the result shows the absence (who, which input, the deadline, recorded by whom and when)."""
    assessment = _lock_assessment(assessment)
    _visible_or_404(actor, assessment)
    city = assessment.city
    article = policy_article(city, "assessment")
    if not permissions.can_grade(actor, assessment):
        raise Forbidden("评议材料缺失由组织考核的一方记录。", code="not_assessing_body")
    _require_open(assessment)
    required = city.policy.review_inputs()
    code = (input or "").strip()
    if code not in required:
        options = "、".join(f"{c}（{ReviewInput(c).label}）" for c in required) or "（本市考核评议内容未列明评议材料）"
        raise DomainError(f"“{code}”不是本市考核评议需要的材料（可选：{options}）。", code="unknown_input")
    label = ReviewInput(code).label
    state = review_state(assessment)
    item = next(i for i in state.inputs if i["code"] == code)
    if item["status"] == "submitted":
        raise Conflict(f"{label}已于 {item['submitted_at'][:10]} 提交，不能记录为缺失。", code="input_submitted")
    if item["status"] == "absent":
        raise Conflict(f"{label}已记录为逾期未提交。", code="absence_recorded")
    if not state.deadline_passed:
        raise Conflict(
            f"{label}的提交期限为 {state.deadline}（自 {state.requested_from} 起 {state.working_days} 个工作日），"
            f"期限届满前不能记录缺失；自 {state.deadline + dt.timedelta(days=1)} 起可以记录（{article}）。",
            code="input_deadline_not_passed",
        )
    note = _text(note, label="说明", required=False, max_length=500)
    absence = ReviewInputAbsence(
        assessment=assessment, input=code, party=REVIEW_INPUT_PARTY[ReviewInput(code)],
        requested_from=state.requested_from, deadline=state.deadline, working_days=state.working_days, note=note,
        recorded_at=clock.now(), recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        recorded_by_name=(getattr(actor, "display_name", "") or str(actor))[:150],
    )
    full_clean_or_refuse(absence, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            absence.save()
    except IntegrityError:
        raise Conflict(f"{label}已记录为逾期未提交。", code="absence_recorded") from None
    audit_log(
        actor=actor, action="assessments.assessment_absence_record", obj=assessment,
        after={"absence": absence.as_dict()}, article=article,
        summary=f"记录评议材料逾期未提交：{assessment.planner.name} {assessment.year} 年度考核 · {absence.party}的{label}"
                f"（期限 {state.deadline}）"[:255],
    )
    url = _detail_url(assessment)
    if code == ReviewInput.SELF_REPORT:
        users = [assessment.planner.user] if assessment.planner.user_id else []
    else:
        users = _users_of_unit_entity(assessment.unit)
    notify(users=users, event="assessment_input_absent", title=f"{assessment.year} 年度考核：{label}已记录为逾期未提交",
           body=f"{label}的提交期限为 {state.deadline}，组织考核方已记录缺失，考核评议将不再等待该材料。", url=url,
           key=f"assessment:{assessment.pk}:absent:{code}", city=city)
    return absence


def _policy_lets_entity_decide(city) -> bool:
    return any(g.get("renewal") == "entity_decides" for g in city.policy.grades or [])


@transaction.atomic
def assessment_renewal_condition_set(*, actor, assessment: Assessment, conditional: bool, note: str = "") -> Assessment:
    """B20: the hiring entity (contract signer) makes the result a condition of renewal. It matters for the
    grades whose policy `renewal` is "entity_decides": with the condition, such a grade refuses renewal
    (selectors.renewal_refusal)."""
    assessment = _lock_assessment(assessment)
    _visible_or_404(actor, assessment)
    if not permissions.can_set_renewal_condition(actor, assessment):
        raise Forbidden("只有聘任主体（合同甲方）可以将考核结果纳入续聘条件。", code="not_contract_signer")
    city = assessment.city
    if not _policy_lets_entity_decide(city):
        raise DomainError("本市考核结果对续聘的影响已由制度规定，无需聘任主体另行约定。", code="condition_not_applicable")
    conditional = bool(conditional)
    note = _text(note, label="续聘条件说明", required=False, max_length=500)
    if conditional and not note:
        note = "考核结果纳入续聘条件：评定等次的续聘意见为“由聘任主体决定”的，不予续聘。"
    before = snapshot(assessment, ["renewal_conditional", "renewal_condition_note", "renewal_condition_set_at"])
    assessment.renewal_conditional = conditional
    assessment.renewal_condition_note = note if conditional else ""
    assessment.renewal_condition_set_at = clock.now()
    assessment.save(update_fields=["renewal_conditional", "renewal_condition_note", "renewal_condition_set_at", "updated_at"])
    audit_log(
        actor=actor, action="assessments.renewal_condition_set", obj=assessment, before=before,
        after=snapshot(assessment, ["renewal_conditional", "renewal_condition_note", "renewal_condition_set_at"]),
        article=policy_article(city, "assessment_consequence"),
        summary=(f"聘任主体将 {assessment.year} 年度考核结果纳入续聘条件" if conditional else "聘任主体取消以考核结果作为续聘条件")
        + f"：{assessment.planner.name}",
    )
    return assessment


RENEWAL_TEXT = {
    "allowed": "可以续聘",
    "refused": "不予续聘",
    "entity_decides": "是否续聘由聘任主体决定",
}


def _result_context(assessment: Assessment, *, grade_item: dict, table: dict, consequences: list[dict], issuer: str) -> dict:
    city = assessment.city
    appointment = assessment.appointment
    planner = assessment.planner
    article = policy_article(city, "assessment")
    who = planner.name if planner.kind == "individual" else f"{planner.name}（负责人：{planner.leader_name or '—'}）"
    period = f"{assessment.period_start:%Y年%m月%d日}至{assessment.period_end:%Y年%m月%d日}"
    paragraphs = [
        (f"经{issuer}组织年度考核评议，{who}在{assessment.unit.name}担任{appointment.role_label}期间（{period}）"
         f"的考核结果为：“{grade_item['label']}”。"),
    ]
    if grade_item.get("description"):
        paragraphs.append(grade_item["description"])
    absent = [i for i in (assessment.inputs.get("review") or {}).get("inputs", []) if i.get("status") == "absent"]
    for item in absent:
        absence = item.get("absence") or {}
        paragraphs.append(
            f"评议材料缺失：{item['party']}未在提交期限 {absence.get('deadline', '')} 前提交{item['label']}，"
            f"{(absence.get('recorded_at') or '')[:10]} 由{absence.get('recorded_by') or '组织考核方'}记录缺失，"
            "本次评议未等待该材料。")
    paragraphs.append("考核结果运用：" + "；".join(c["label"] for c in consequences) + "。")
    if assessment.grade_comment:
        paragraphs.append(f"评定意见：{assessment.grade_comment}")
    paragraphs.append(f"依据{city.rulebook_title or '本市责任规划师制度'}（{article}），考核结果向责任规划师和聘任主体反馈。")
    items = [{"label": f"{row['label']}（权重 {row['weight']}）", "value": row["mean"] or "—"} for row in table["rows"]]
    items += inputs_summary(assessment.inputs)
    return {
        "city_name": city.name,
        "bureau_name": city.bureau_name or city.name,
        "rulebook_title": city.rulebook_title,
        "issued_on": clock.today().isoformat(),
        "issuer_name": issuer,
        "letterhead": issuer,
        "articles": [article],
        "article_note": f"依据{city.rulebook_title or '本市责任规划师制度'}（{article}）。",
        "heading": "责任规划师年度考核结果通知",
        "recipients": list(dict.fromkeys([planner.name, appointment.party_a])),
        "fields": [
            {"label": "责任规划师", "value": who},
            {"label": "工作单位", "value": planner.employer or "—"},
            {"label": "责任单元", "value": f"{assessment.district.name} · {assessment.unit.name}"},
            {"label": "派驻角色", "value": appointment.role_label},
            {"label": "考核期", "value": period},
            {"label": "考核主体", "value": issuer},
            {"label": "加权总分", "value": table["total"] or "—"},
            {"label": "考核等次", "value": grade_item["label"]},
        ],
        "paragraphs": paragraphs,
        "items": items,
    }


@transaction.atomic
def assessment_grade(*, actor, assessment: Assessment, grade: str, comment: str = "") -> Assessment:
    """Records the grade and applies its consequences in ONE transaction (P6(4), B20), per the grade's
    policy fields:

    - renewal (allowed / refused / entity_decides): read by appointment renewal through `latest_grade`
      (refused) and `selectors.renewal_refusal` (entity_decides + the entity's condition);
    - remove_from_pool with removal_ground: the planner leaves the pool (registry.planner_remove_apply;
      dossier REMOVED), which ends the planner's postings today (rpms.appointments.removal, one audit row
      per posting ended);
    - flag_unit_for_replacement: a ReplacementFlag on the unit (the city's pending list), unless the removal
      ended the posting: its unit then waits on the appointments' replacement list instead;
    - the dossier ASSESSED row, the inputs frozen, the result document (assessment_result, with its
      verification code), notifications to the planner and the hiring entity.

    One audit row ("assessments.assessment_grade", the city's article for "assessment") lists the
    consequences in `after`. Any failure rolls everything back."""
    assessment = _lock_assessment(assessment)
    _visible_or_404(actor, assessment)
    city = assessment.city
    policy = city.policy
    article = policy_article(city, "assessment")
    if not permissions.can_grade(actor, assessment):
        raise Forbidden("考核等次由组织考核的一方评定。", code="not_assessing_body")
    _require_open(assessment)
    grade_code = (grade or "").strip()
    grade_item = policy.grade(grade_code)
    if grade_item is None:
        options = "、".join(f"{g['code']}（{g['label']}）" for g in policy.grades)
        raise DomainError(f"考核等次“{grade_code}”不在本市规定的等次之中（可选：{options}）。", code="unknown_grade")
    # P6(4) 聘期届满前 / B20 年度: inside the review window, with the inputs the criteria name (or their
    # recorded absence) — see rpms.assessments.review.
    review = review_state(assessment)
    if not review.ready:
        raise ReviewNotReady(review.refusal_text(article), missing=review.missing(), allowed_from=review.allowed_from)
    comment = _text(comment, label="评定意见", required=False, max_length=4000)
    table = criteria_table(assessment)
    if not table["complete"]:
        missing = "、".join(r["label"] for r in table["rows"] if r["mean"] is None)
        raise Conflict(f"尚有考核内容未评分：{missing}。请评分后再评定等次。", code="scores_incomplete")

    now = clock.now()
    before = snapshot(assessment, ["status", "grade", "total_score", "graded_at"])
    assessment.inputs = {**assessment_inputs(assessment), "review": review.as_dict()}
    assessment.grade = grade_code
    assessment.grade_label = grade_item["label"]
    assessment.total_score = Decimal(table["total"]) if table["total"] is not None else None
    assessment.grade_comment = comment
    assessment.move_to(AssessmentStatus.GRADED)
    assessment.graded_at = now
    assessment.graded_by = actor if getattr(actor, "is_authenticated", False) else None

    # 1. renewal
    renewal = grade_item.get("renewal", "allowed")
    consequences = [{"code": "renewal", "value": renewal, "label": RENEWAL_TEXT.get(renewal, renewal)}]
    if renewal == "entity_decides" and assessment.renewal_conditional:
        consequences[0]["label"] += "（聘任主体已将考核结果纳入续聘条件：不予续聘）"
        consequences[0]["entity_condition"] = True
    # 2. removal from the pool
    planner = assessment.planner
    removal = None
    if grade_item.get("remove_from_pool"):
        ground = grade_item.get("removal_ground") or ""
        if planner.pool_status == PoolStatus.ACTIVE:
            planner, found, removal_before, removal_after = planner_remove_apply(
                actor=actor, planner=planner, ground=ground, occurred_at=now, source=assessment,
                note=f"{assessment.year} 年度考核评议结果为“{grade_item['label']}”", summary_suffix=f"（{article}）",
            )
            removal = {"ground": ground, "ground_label": found["label"], "article": found.get("article", ""),
                       "before": removal_before, "after": removal_after}
            consequences.append({"code": "removed_from_pool", "value": ground,
                                 "label": f"从资源库中调出（{found['label']}，{found.get('article', '')}）"})
        else:
            consequences.append({"code": "removed_from_pool", "value": "already_out",
                                 "label": f"从资源库中调出（已不在库：{planner.get_pool_status_display()}）"})
    # 3. the unit flagged for a replacement
    flag = None
    if grade_item.get("flag_unit_for_replacement"):
        if awaits_replacement(assessment.appointment):
            # The removal ended the posting (rpms.appointments.removal): its unit already waits on the
            # appointments' replacement list, where the replacement is appointed; not flagged twice.
            consequences.append({"code": "unit_flagged", "value": "posting_ended",
                                 "label": f"{assessment.unit.name}列入待调整补位（派驻已因调出资源库终止）"})
        else:
            flag = ReplacementFlag(
                city=city, unit=assessment.unit, district=assessment.district, appointment=assessment.appointment,
                planner=planner, assessment=assessment,
                reason=f"{planner.name} {assessment.year} 年度考核结果为“{grade_item['label']}”",
            )
            full_clean_or_refuse(flag, validate_unique=False, validate_constraints=False)
            flag.save()
            consequences.append({"code": "unit_flagged", "value": flag.pk, "label": f"{assessment.unit.name}列入待调整补位"})
    issuer = body_name(assessment, city=city, district=assessment.district)
    consequences.append({"code": "result_sent", "value": "planner,hiring_entity",
                         "label": "考核结果反馈责任规划师和聘任主体"})
    assessment.consequences = consequences
    full_clean_or_refuse(assessment, validate_constraints=False)
    assessment.save()
    # 4. the dossier
    dossier_event_record(
        planner=planner, kind=DossierEventKind.ASSESSED, article=article, actor=actor, occurred_at=now, source=assessment,
        summary=f"{assessment.year} 年度考核（{assessment.unit.name}，{assessment.period_start} 至 {assessment.period_end}）："
                f"{grade_item['label']}" + (f"，加权总分 {table['total']}" if table["total"] else ""),
        data={"grade": grade_code, "total_score": table["total"], "consequences": [c["code"] for c in consequences]},
    )
    # 5. the result document
    from rpms.documents.services import document_issue

    document = document_issue(
        actor=actor, city=city, kind="assessment_result", title=f"{assessment.year} 年度责任规划师考核结果通知",
        subject=assessment, holder_name=planner.name,
        context=_result_context(assessment, grade_item=grade_item, table=table, consequences=consequences, issuer=issuer),
    )
    assessment.result_document = document
    assessment.save(update_fields=["result_document", "updated_at"])
    # 6. the audit row of the whole act
    audit_log(
        actor=actor, action="assessments.assessment_grade", obj=assessment, before=before,
        after={
            **snapshot(assessment, ["status", "grade", "total_score", "graded_at"]),
            "grade_label": grade_item["label"],
            "consequences": consequences,
            "removal": removal,
            "replacement_flag": flag.pk if flag else None,
            "document": document.number,
            "verification_code": document.verification_code,
        },
        article=article,
        summary=f"评定 {assessment.year} 年度考核：{planner.name} · {assessment.unit.name} “{grade_item['label']}”"[:255],
    )
    # 7. the result goes to the planner and the hiring entity (B20): inbox rows now, e-mail after commit
    url = _detail_url(assessment)
    title = f"{assessment.year} 年度考核结果：{grade_item['label']}"
    body = f"{planner.name}（{assessment.unit.name}）{assessment.year} 年度考核结果为“{grade_item['label']}”。" + \
        "；".join(c["label"] for c in consequences) + "。"
    recipients = ([planner.user] if planner.user_id else []) + _users_of_unit_entity(assessment.unit)
    if assessment.assessing_body == AssessingBody.CITY_WITH_DISTRICT:
        recipients += _district_officers(assessment.district_id)
    notify(users=recipients, event="assessment_graded", title=title, body=body, url=url,
           key=f"assessment:{assessment.pk}:graded", city=city)
    return assessment


# --- violations (B16, B17) ---------------------------------------------------------------------------------


def _violation_district(actor, *, planner: Planner, appointment, district):
    """The district the violation is recorded by: the appointment's, the one given, or the officer's only one."""
    if appointment is not None:
        return appointment.unit.district
    if district is not None:
        return district
    if getattr(actor, "role", None) == Role.DISTRICT_OFFICER:
        mine = list(actor.districts.filter(city=planner.city))
        if len(mine) == 1:
            return mine[0]
        raise DomainError("请选择记录违规行为的区。", code="district_required")
    return None


@transaction.atomic
def violation_record(*, actor, planner: Planner, kind: str, description: str, occurred_on, appointment=None,
                     district=None) -> Violation:
    """B16/B17: the district (or the city) records a violation against a planner. The city work team is
    informed at once (its administrators are notified); the report to the planner's employer is recorded
    by `violation_report_employer`. Dossier VIOLATION; counts in the planner's assessment."""
    planner = Planner.objects.select_related("city__policy", "user").get(pk=planner.pk)
    city = planner.city
    if not permissions.can_record_violation(actor, city):
        raise Forbidden("违规行为由区级责任规划师工作专班或市级主管部门记录。", code="not_violation_recorder")
    if appointment is not None:
        appointment = Appointment.objects.select_related("unit__district", "city").get(pk=appointment.pk)
        if appointment.planner_id != planner.pk:
            raise DomainError("所选派驻聘任不属于该责任规划师。", code="appointment_mismatch")
    district = _violation_district(actor, planner=planner, appointment=appointment, district=district)
    if district is not None and district.city_id != city.pk:
        raise DomainError("所选区不属于该责任规划师所在城市。", code="district_mismatch")
    is_city = permissions.is_city_admin_of(actor, city)
    if not is_city:
        if district is None or not permissions.is_district_officer_of(actor, district.pk):
            raise NotFound()
        if not Appointment.objects.filter(planner=planner, unit__district=district).exists():
            raise DomainError(f"{planner.name}未在{district.name}派驻，区级工作专班只能记录本区派驻的责任规划师的违规行为。",
                              code="planner_not_in_district")
    kinds = list(city.policy.violation_kinds or [])
    if not kinds:
        raise DomainError(f"{city.name}的政策配置未列出违规情形，暂不能记录；请由系统管理员在政策配置中补充。",
                          code="no_violation_kinds")
    if city.policy.violation_kind(kind) is None:
        raise DomainError(f"请选择违规情形（{city.name}规定所列{len(kinds)}种之一）。", code="invalid_kind")
    description = _text(description, label="情况说明", max_length=4000, code="description_required")
    occurred_on = _date(occurred_on, label="发生日期")
    if occurred_on > clock.today():
        raise DomainError("发生日期不能晚于今天。", code="date_in_future")
    article = policy_article(city, "violation")
    now = clock.now()
    violation = Violation(
        city=city, planner=planner, district=district, appointment=appointment, kind=kind, description=description,
        occurred_on=occurred_on, recorded_at=now, recorded_by=actor, reported_city_at=now,
    )
    full_clean_or_refuse(violation, validate_constraints=False)
    violation.save()
    dossier_event_record(
        planner=planner, kind=DossierEventKind.VIOLATION, article=article, actor=actor, occurred_at=now, source=violation,
        summary=f"违规记录（{occurred_on}）：{violation.kind_short}" + (f"，{district.name}记录" if district else ""),
        data={"kind": kind, "occurred_on": occurred_on.isoformat(), "violation": violation.pk},
    )
    audit_log(
        actor=actor, action="assessments.violation_record", obj=violation,
        after={**snapshot(violation, ["planner", "district", "appointment", "kind", "occurred_on", "reported_city_at"]),
               "reported_to": ["市级责任规划师工作专班"]},
        article=article, summary=f"记录违规行为：{planner.name}（{violation.kind_short}）",
    )
    recorder = getattr(district, "name", None) or (city.bureau_name or city.name)
    notify(
        users=[u for u in _city_admins(city) if u.pk != getattr(actor, "pk", None)], event="violation_reported",
        title=f"责任规划师违规情况告知：{planner.name}",
        body=f"{recorder}记录了{planner.name}的违规行为（{violation.kind_short}，{occurred_on}），依据 {article} 告知市级责任规划师工作专班。",
        url=reverse("assessments:violation_detail", args=[violation.pk]), key=f"violation:{violation.pk}:city", city=city,
    )
    return violation


@transaction.atomic
def violation_report_employer(*, actor, violation: Violation, employer_name: str = "", method: str = "") -> Violation:
    """B17: the district informs the planner's employer; recorded with to whom, when and how."""
    violation = (
        Violation.objects.select_for_update(of=("self",)).select_related("city__policy", "planner", "district")
        .get(pk=violation.pk)
    )
    if not permissions.can_view_violation(actor, violation):
        raise NotFound()
    if not permissions.can_manage_violation(actor, violation):
        raise Forbidden("告知所在单位由记录违规行为的区级工作专班或市级主管部门办理。", code="not_violation_manager")
    if violation.reported_employer_at is not None:
        raise Conflict(f"已于 {timezone.localtime(violation.reported_employer_at):%Y-%m-%d} 告知{violation.reported_employer_name}。",
                       code="already_reported")
    employer_name = _text(employer_name or violation.planner.employer, label="所在单位名称", max_length=200,
                          code="employer_required")
    method = _text(method, label="告知方式（如书面函告、约谈）", max_length=200, code="method_required")
    before = snapshot(violation, ["reported_employer_at", "reported_employer_name", "reported_employer_method"])
    violation.reported_employer_at = clock.now()
    violation.reported_employer_name = employer_name
    violation.reported_employer_method = method
    violation.reported_employer_by = actor
    full_clean_or_refuse(violation, validate_constraints=False)
    violation.save(update_fields=["reported_employer_at", "reported_employer_name", "reported_employer_method",
                                  "reported_employer_by", "updated_at"])
    audit_log(
        actor=actor, action="assessments.violation_report", obj=violation, before=before,
        after=snapshot(violation, ["reported_employer_at", "reported_employer_name", "reported_employer_method"]),
        article=policy_article(violation.city, "violation"),
        summary=f"违规情况告知所在单位：{violation.planner.name} → {employer_name}（{method}）"[:255],
    )
    return violation


# --- replacement flags -----------------------------------------------------------------------------------------


@transaction.atomic
def replacement_flag_resolve(*, actor, flag: ReplacementFlag, note: str) -> ReplacementFlag:
    """The city (or the district) records how a flagged unit was dealt with (a replacement appointed, the
    contract not renewed, …)."""
    flag = ReplacementFlag.objects.select_for_update(of=("self",)).select_related("city__policy", "unit").get(pk=flag.pk)
    if not permissions.can_resolve_flag(actor, flag):
        raise NotFound()
    if flag.status != FlagStatus.OPEN:
        raise Conflict("该责任单元的调整补位已处理。", code="flag_resolved")
    note = _text(note, label="处理说明", max_length=500, code="note_required")
    before = snapshot(flag, ["status", "resolved_at", "resolution_note"])
    flag.move_to(FlagStatus.RESOLVED)
    flag.resolved_at = clock.now()
    flag.resolved_by = actor
    flag.resolution_note = note
    full_clean_or_refuse(flag, validate_constraints=False)
    flag.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note", "updated_at"])
    audit_log(
        actor=actor, action="assessments.replacement_flag_resolve", obj=flag, before=before,
        after=snapshot(flag, ["status", "resolved_at", "resolution_note"]),
        article=policy_article(flag.city, "replacement"), summary=f"{flag.unit.name} 调整补位处理：{note}"[:255],
    )
    return flag


# --- the city's assessment of districts (B20) ------------------------------------------------------------------


@transaction.atomic
def district_assessment_record(*, actor, district, year, comment: str, score=None) -> DistrictAssessment:
    """B20: the city evaluates a district's execution of the system for a year, from the system's data
    (frozen as `metrics`; see selectors.district_metrics) plus its score and comments. Recording again
    replaces the evaluation (the audit row keeps the previous one)."""
    city = district.city
    if not permissions.is_city_admin_of(actor, city):
        raise Forbidden("对各区制度执行情况的评估由市级主管部门办理。", code="city_only")
    year = year_value(year)
    comment = _text(comment, label="评估意见", max_length=4000, code="comment_required")
    metrics = district_metrics(district=district, year=year)
    computed = metrics["computed_score"]
    if score in (None, ""):
        if computed is None:
            raise DomainError("系统数据不足以测算得分，请填写评估得分。", code="score_required")
        value = Decimal(computed)
    else:
        value = _score(score, label="评估得分")
    existing = DistrictAssessment.objects.select_for_update().filter(district=district, year=year).first()
    before = snapshot(existing, ["score", "comment", "computed_score", "metrics"]) if existing else None
    record = existing or DistrictAssessment(city=city, district=district, year=year)
    record.metrics = metrics
    record.computed_score = Decimal(computed) if computed is not None else None
    record.score = value
    record.comment = comment
    record.assessed_at = clock.now()
    record.assessed_by = actor
    full_clean_or_refuse(record, validate_unique=False, validate_constraints=False)
    record.save()
    audit_log(
        actor=actor, action="assessments.district_assessment_record", obj=record, before=before,
        after=snapshot(record, ["score", "comment", "computed_score", "metrics"]),
        article=policy_article(city, "district_assessment"),
        summary=f"评估{district.name} {year} 年度制度执行情况：{value} 分",
    )
    return record


# --- honours (B24) ---------------------------------------------------------------------------------------------


@transaction.atomic
def honour_nominate(*, actor, assessment: Assessment, reason: str) -> Honour:
    """B24: a district nominates one of its planners assessed in the year with an honour-eligible grade."""
    assessment = _lock_assessment(assessment)
    if not permissions.can_view_assessment(actor, assessment):
        raise NotFound()
    if not permissions.can_nominate(actor, assessment.district_id):
        raise Forbidden("优秀责任规划师由各区责任规划师工作专班推选。", code="district_only")
    city = assessment.city
    if assessment.status != AssessmentStatus.GRADED:
        raise Conflict("该考核尚未评定等次，不能推选。", code="not_graded")
    grade_item = city.policy.grade(assessment.grade) or {}
    if not grade_item.get("honour_eligible"):
        eligible = "、".join(g["label"] for g in city.policy.grades if g.get("honour_eligible")) or "（无）"
        raise Conflict(f"考核等次为“{assessment.grade_label}”，不能推选；可推选的等次：{eligible}。", code="grade_not_eligible")
    if Honour.objects.filter(city=city, year=assessment.year, planner=assessment.planner).exists():
        raise Conflict(f"{assessment.planner.name}已被推选为 {assessment.year} 年度{city.policy.honour_title}候选。", code="already_nominated")
    reason = _text(reason, label="推选理由（主要事迹）", max_length=4000, code="reason_required")
    honour = Honour(
        city=city, year=assessment.year, district=assessment.district, planner=assessment.planner, assessment=assessment,
        title=city.policy.honour_title, reason=reason, nominated_at=clock.now(), nominated_by=actor,
    )
    full_clean_or_refuse(honour, validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            honour.save()
    except IntegrityError:
        raise Conflict(f"{assessment.planner.name}已被推选。", code="already_nominated") from None
    audit_log(
        actor=actor, action="assessments.honour_nominate", obj=honour,
        after=snapshot(honour, ["year", "district", "planner", "assessment", "reason", "status"]),
        article=policy_article(city, "honour"),
        summary=f"{assessment.district.name}推选 {assessment.year} 年度{honour.title}：{assessment.planner.name}",
    )
    notify(users=_city_admins(city), event="honour_nominated",
           title=f"{assessment.district.name}推选 {assessment.year} 年度{honour.title}",
           body=f"{assessment.planner.name}（{assessment.unit.name}），待市级评选。",
           url=reverse("assessments:honour_manage") + f"?year={assessment.year}", key=f"honour:{honour.pk}:nominated",
           city=city)
    return honour


def _lock_honour(honour: Honour) -> Honour:
    return (
        Honour.objects.select_for_update(of=("self",))
        .select_related("city__policy", "district", "planner__user", "assessment__unit")
        .get(pk=honour.pk)
    )


@transaction.atomic
def honour_decide(*, actor, honour: Honour, selected: bool, note: str = "") -> Honour:
    """B24: the city selects (or not) among the districts' nominations; may change its decision until the
    list is published."""
    honour = _lock_honour(honour)
    if not permissions.is_city_admin_of(actor, honour.city):
        if permissions.is_district_officer_of(actor, honour.district_id):
            raise Forbidden("市级优秀责任规划师由市级主管部门评选。", code="city_only")
        raise NotFound()
    if honour.is_published:
        raise Conflict("该年度名单已公布，不能再改变评选结果。", code="honour_published")
    note = _text(note, label="评选说明", required=not selected, max_length=500, code="note_required")
    before = snapshot(honour, ["status", "decided_at", "decision_note"])
    honour.move_to(HonourStatus.SELECTED if selected else HonourStatus.NOT_SELECTED)
    honour.decided_at = clock.now()
    honour.decided_by = actor
    honour.decision_note = note
    full_clean_or_refuse(honour, validate_constraints=False)
    honour.save(update_fields=["status", "decided_at", "decided_by", "decision_note", "updated_at"])
    audit_log(
        actor=actor, action="assessments.honour_decide", obj=honour, before=before,
        after=snapshot(honour, ["status", "decided_at", "decision_note"]), article=policy_article(honour.city, "honour"),
        summary=f"{'评选' if selected else '未评选'} {honour.year} 年度{honour.title}：{honour.planner.name}",
    )
    return honour


def _certificate_context(honour: Honour, *, issuer: str) -> dict:
    from rpms.documents.issuers import district_body_name

    city = honour.city
    planner = honour.planner
    article = policy_article(city, "honour")
    who = planner.name if planner.kind == "individual" else f"{planner.name}（负责人：{planner.leader_name or '—'}）"
    return {
        "city_name": city.name,
        "bureau_name": city.bureau_name or city.name,
        "rulebook_title": city.rulebook_title,
        "issued_on": clock.today().isoformat(),
        "issuer_name": issuer,
        "letterhead": issuer,
        "articles": [article],
        "article_note": f"依据{city.rulebook_title or '本市责任规划师制度'}（{article}）。",
        "heading": "荣誉证书",
        "fields": [
            {"label": "获奖者", "value": who},
            {"label": "工作单位", "value": planner.employer or "—"},
            {"label": "推选单位", "value": district_body_name(city, honour.district)},
            {"label": "年度", "value": f"{honour.year} 年度"},
        ],
        "paragraphs": [
            f"{who}：",
            (f"在 {honour.year} 年度责任规划师工作中表现突出，经{honour.district.name}推选、{issuer}评选，"
             f"被评为 {honour.year} 年度{city.name}{honour.title}。"),
            "特发此证，以资鼓励。",
        ],
        "items": [],
    }


@transaction.atomic
def honour_list_publish(*, actor, city, year) -> list[Honour]:
    """B24: the city publishes the year's selected planners: each gets a certificate (honour_certificate,
    with its verification code), a dossier HONOURED row and a notification; the list then appears on the
    public page. Refused while nominations of the year are still undecided. One audit row."""
    if not permissions.is_city_admin_of(actor, city):
        raise Forbidden("优秀责任规划师名单由市级主管部门公布。", code="city_only")
    year = year_value(year)
    undecided = Honour.objects.filter(city=city, year=year, status=HonourStatus.NOMINATED).count()
    if undecided:
        raise Conflict(f"{year} 年度尚有 {undecided} 项推选未评选，请评选后再公布。", code="nominations_undecided")
    honours = list(
        Honour.objects.select_for_update(of=("self",))
        .select_related("city__policy", "district", "planner__user", "assessment__unit")
        .filter(city=city, year=year, status=HonourStatus.SELECTED, published_at__isnull=True)
        .order_by("district__sort_order", "district__code", "planner__name", "id")
    )
    if not honours:
        raise Conflict(f"{year} 年度没有待公布的评选结果。", code="nothing_to_publish")
    from rpms.documents.issuers import document_issuer
    from rpms.documents.services import document_issue

    article = policy_article(city, "honour")
    issuer = document_issuer(city=city, kind="honour_certificate").name
    now = clock.now()
    for honour in honours:
        document = document_issue(
            actor=actor, city=city, kind="honour_certificate", title=f"{year} 年度{honour.title}荣誉证书",
            subject=honour, holder_name=honour.planner.name, context=_certificate_context(honour, issuer=issuer),
        )
        honour.published_at = now
        honour.certificate = document
        full_clean_or_refuse(honour, validate_constraints=False)
        honour.save(update_fields=["published_at", "certificate", "updated_at"])
        dossier_event_record(
            planner=honour.planner, kind=DossierEventKind.HONOURED, article=article, actor=actor, occurred_at=now,
            source=honour, summary=f"被评为 {year} 年度{city.name}{honour.title}（{honour.district.name}推选）",
            data={"year": year, "certificate": document.number},
        )
    audit_log(
        actor=actor, action="assessments.honour_list_publish", object_type="assessments.honour_list",
        object_id=f"{city.code}:{year}", object_repr=f"{city.name} {year} 年度{city.policy.honour_title}名单", city_code=city.code,
        after={"year": year, "honours": [h.pk for h in honours], "planners": [h.planner.name for h in honours],
               "certificates": [h.certificate.number for h in honours]},
        article=article, summary=f"公布 {year} 年度{city.policy.honour_title}名单（{len(honours)} 名）",
    )
    for honour in honours:
        if honour.planner.user_id:
            notify(users=[honour.planner.user], event="honour_published", title=f"您被评为 {year} 年度{honour.title}",
                   body="荣誉证书可在考核页面下载。", url=reverse("assessments:honours_public") + f"?city={city.code}&year={year}",
                   key=f"honour:{honour.pk}:published", city=city)
    return honours
