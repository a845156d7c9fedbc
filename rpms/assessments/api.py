"""Assessment API (mounted at the API root, /api/v1/; B16, B17, B20, B24, P6(4)):

- GET  /assessments                          assessments the caller may see (?year=&status=&district=&grade=;
                                             limit ≤ 200 (50), offset — a page, still a list)
- POST /assessments                          {"appointment", "cycle_start"?}: open (the assessing body) → 201
- GET  /assessments/due                      appointments the caller may open an assessment for, with the cycle
                                             (limit ≤ 200 (50), offset)
- GET  /assessments/{id}                     detail: criteria table, weighted total, inputs, 述职, consequences
- POST /assessments/{id}/scores              {"scores": {criterion: score | {"score", "comment"}}, "comment"}
- POST /assessments/{id}/self-report         {"text", "self_score"?}: the planner's 述职
- POST /assessments/{id}/feedback            {"text"}: the hiring entity's 属地反馈 (P6(4))
- POST /assessments/{id}/absences            {"input": "self_report" | "entity_feedback", "note"?}: the assessing
                                             body records an input not given by its deadline → 201
- POST /assessments/{id}/renewal-condition   {"conditional", "note"?}: the hiring entity (contract signer), B20
- POST /assessments/{id}/grade               {"grade", "comment"?}: the grade and all its consequences, one step;
                                             before the review window or without the inputs → 409
                                             `review_not_ready` with `missing` and `allowed_from`
- GET  /assessments/{id}/result.pdf          the result notice (assessment_result document)
- GET  /violations, POST /violations         B16/B17 ({"planner", "kind", "description", "occurred_on",
                                             "appointment"?, "district"?}); GET /violations/{id}
- POST /violations/{id}/report               {"employer_name"?, "method"}: reported to the employer (B17)
- GET  /replacement-flags                    units flagged for a replacement (?status=open)
- POST /replacement-flags/{id}/resolve       {"note"}
- GET  /district-assessments                 ?city=&year=: every visible district with its figures and evaluation
- POST /district-assessments                 {"district", "year", "comment", "score"?}: the city's evaluation
- GET  /district-assessments/{id}
- GET  /honours                              ?city=&year=&status=: public (published) for everyone; nominations
                                             for the city, the nominating district and the planner
- POST /honours                              {"assessment", "reason"}: a district's nomination → 201
- POST /honours/{id}/decision                {"selected", "note"?}: the city's selection
- POST /honours/publish                      {"city", "year"}: publish the year's list (certificates issued)
- GET  /honours/{id}/certificate.pdf         the honour certificate"""
from datetime import date
from typing import Any

from ninja import Router, Schema, Status

from rpms.appointments.models import Appointment
from rpms.cities.selectors import city_get
from rpms.core.api import TokenAuth, auth_required, session_auth
from rpms.core.errors import Conflict, DomainError, NotFound
from rpms.geography.models import District
from rpms.registry.models import Planner

from . import permissions, selectors, services
from .inputs import inputs_summary
from .review import review_state
from .models import AssessmentStatus, ScoreSource

router = Router(tags=["考核与表彰"])


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _anonymous(request):
    """Public endpoints that show more to a signed-in caller: the bearer token or the session if present,
    otherwise anonymous."""
    return "anonymous"


public_or_auth = [TokenAuth(), session_auth, _anonymous]


class OpenIn(Schema):
    appointment: int
    cycle_start: date | None = None


class ScoresIn(Schema):
    scores: dict[str, Any]
    comment: str = ""


class SelfReportIn(Schema):
    text: str
    self_score: float | None = None


class FeedbackIn(Schema):
    text: str


class AbsenceIn(Schema):
    input: str
    note: str = ""


class ConditionIn(Schema):
    conditional: bool
    note: str = ""


class GradeIn(Schema):
    grade: str
    comment: str = ""


class ViolationIn(Schema):
    planner: int
    kind: str
    description: str
    occurred_on: date
    appointment: int | None = None
    district: int | None = None


class ReportIn(Schema):
    employer_name: str = ""
    method: str


class NoteIn(Schema):
    note: str


class DistrictAssessmentIn(Schema):
    district: int
    year: int
    comment: str
    score: float | None = None


class NominateIn(Schema):
    assessment: int
    reason: str


class DecisionIn(Schema):
    selected: bool
    note: str = ""


class PublishIn(Schema):
    city: str
    year: int


# --- serialisers --------------------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value else None


def assessment_row(a) -> dict:
    return {
        "id": a.pk,
        "city": a.city.code,
        "year": a.year,
        "period": {"start": a.period_start.isoformat(), "end": a.period_end.isoformat()},
        "appointment": a.appointment_id,
        "planner": {"id": a.planner_id, "name": a.planner.name},
        "unit": {"id": a.unit_id, "name": a.unit.name},
        "district": {"id": a.district_id, "name": a.district.name},
        "assessing_body": a.assessing_body,
        "assessing_body_label": a.get_assessing_body_display(),
        "status": a.status,
        "status_label": a.get_status_display(),
        "grade": a.grade or None,
        "grade_label": a.grade_label or None,
        "total_score": str(a.total_score) if a.total_score is not None else None,
        "graded_at": _iso(a.graded_at),
        "document_number": a.result_document.number if a.result_document_id else None,
    }


def assessment_json(a, user) -> dict:
    data = assessment_row(a)
    table = services.criteria_table(a)
    graded = a.status == AssessmentStatus.GRADED
    inputs = a.inputs if graded else selectors_inputs(a)
    # The review's window, deadline and inputs: frozen with the grade, live while open.
    review = (a.inputs or {}).get("review") if graded else review_state(a).as_dict()
    data.update({
        "criteria": table["rows"],
        "scores_complete": table["complete"],
        "weighted_total": table["total"],
        "sources": dict(ScoreSource.choices),
        "self_report": {"text": a.self_report, "self_score": str(a.self_score) if a.self_score is not None else None,
                        "submitted_at": _iso(a.self_reported_at)},
        "entity_feedback": {"text": a.entity_feedback, "submitted_at": _iso(a.entity_feedback_at)},
        "review": review,
        "renewal_condition": {"conditional": a.renewal_conditional, "note": a.renewal_condition_note,
                              "set_at": _iso(a.renewal_condition_set_at)},
        "inputs": inputs,
        "inputs_summary": inputs_summary(inputs),
        "inputs_frozen": a.status == AssessmentStatus.GRADED,
        "grade_comment": a.grade_comment,
        "consequences": a.consequences,
        "verification_code": a.result_document.formatted_code if a.result_document_id else None,
        "grades": [{"code": g["code"], "label": g["label"], "renewal": g.get("renewal")} for g in a.city.policy.grades],
        "you": {
            "score_as": permissions.score_source_for(user, a),
            "can_grade": permissions.can_grade(user, a),
            "is_planner": permissions.is_planner_of(user, a),
            "can_give_feedback": permissions.can_give_feedback(user, a),
            "can_set_renewal_condition": permissions.can_set_renewal_condition(user, a),
        },
    })
    return data


def selectors_inputs(a) -> dict:
    from .inputs import assessment_inputs

    return assessment_inputs(a)


def violation_json(v) -> dict:
    return {
        "id": v.pk,
        "city": v.city.code,
        "planner": {"id": v.planner_id, "name": v.planner.name, "employer": v.planner.employer},
        "district": {"id": v.district_id, "name": v.district.name} if v.district_id else None,
        "appointment": v.appointment_id,
        "kind": v.kind,
        "kind_label": v.kind_label,
        "kind_article": v.kind_article,
        "description": v.description,
        "occurred_on": v.occurred_on.isoformat(),
        "recorded_at": _iso(v.recorded_at),
        "reported": {
            "city_work_team_at": _iso(v.reported_city_at),
            "employer": v.reported_employer_name or None,
            "employer_at": _iso(v.reported_employer_at),
            "method": v.reported_employer_method or None,
        },
    }


def flag_json(f) -> dict:
    return {
        "id": f.pk, "city": f.city.code, "unit": {"id": f.unit_id, "name": f.unit.name},
        "district": {"id": f.district_id, "name": f.district.name}, "planner": {"id": f.planner_id, "name": f.planner.name},
        "appointment": f.appointment_id, "assessment": f.assessment_id, "reason": f.reason, "status": f.status,
        "status_label": f.get_status_display(), "created_at": _iso(f.created_at), "resolved_at": _iso(f.resolved_at),
        "resolution_note": f.resolution_note,
    }


def district_assessment_json(record) -> dict:
    return {
        "id": record.pk, "city": record.city.code, "district": {"id": record.district_id, "name": record.district.name},
        "year": record.year, "metrics": record.metrics, "computed_score": str(record.computed_score) if record.computed_score is not None else None,
        "score": str(record.score), "comment": record.comment, "assessed_at": _iso(record.assessed_at),
    }


def honour_json(h, *, public: bool) -> dict:
    data = {
        "id": h.pk, "city": h.city.code, "year": h.year, "title": h.title,
        "planner": {"id": h.planner_id, "name": h.planner.name, "kind": h.planner.kind, "employer": h.planner.employer},
        "district": {"id": h.district_id, "name": h.district.name},
        "unit": h.assessment.unit.name,
        "published_at": _iso(h.published_at),
        "verification_code": h.certificate.formatted_code if h.certificate_id else None,
    }
    if not public:
        data.update({"status": h.status, "status_label": h.get_status_display(), "reason": h.reason,
                     "assessment": h.assessment_id, "nominated_at": _iso(h.nominated_at),
                     "decided_at": _iso(h.decided_at), "decision_note": h.decision_note})
    return data


def _get(model, pk, **related):
    obj = model.objects.select_related(*related.get("related", ())).filter(pk=pk).first()
    if obj is None:
        raise NotFound()
    return obj


def _city(code: str | None, request):
    if code:
        return city_get(code)
    user = request.user
    if getattr(user, "is_authenticated", False) and user.city_id:
        return user.city
    raise DomainError("请指定城市（city=城市代码）。", code="city_required")


# --- assessments -------------------------------------------------------------------------------------------


# Issue #15: the lists answer a page (still a bare list): `limit` rows (default LIST_DEFAULT, at most LIST_MAX;
# more → 400) from `offset`.
LIST_DEFAULT = 50
LIST_MAX = 200


def _page(limit, offset) -> tuple[int, int]:
    from rpms.core.params import limit_offset

    return limit_offset(LIST_DEFAULT if limit in (None, "") else limit, offset, max_limit=LIST_MAX)


@router.get("/assessments", auth=auth_required, response={200: list[dict[str, Any]], **ERRORS}, summary="年度考核列表",
            description="按年度、状态、区、等次筛选。分页：limit 每页条数（默认 50，最多 200），offset 起始位置；"
                        "返回数组，不足 limit 条即为最后一页。")
def assessment_list(request, year: int | None = None, status: str = "", district: int | None = None, grade: str = "",
                    limit: str = "", offset: str = ""):
    size, start = _page(limit, offset)
    queryset = selectors.assessment_queryset(user=request.user, year=year, status=status, district=district,
                                             grade=grade)
    return [assessment_row(a) for a in selectors.assessment_page(queryset, start, start + size)]


@router.post("/assessments", auth=auth_required, response={201: dict[str, Any], **ERRORS}, summary="启动年度考核")
def assessment_open(request, payload: OpenIn):
    """组织考核的一方（依本市政策：区级工作专班，或市级主管部门会同属地政府）启动某一派驻聘任一个服务年度的考核；
    cycle_start 缺省为当前服务年度。"""
    appointment = _get(Appointment, payload.appointment)
    assessment = services.assessment_open(actor=request.user, appointment=appointment, cycle_start=payload.cycle_start)
    return Status(201, assessment_json(selectors.assessment_get(user=request.user, pk=assessment.pk), request.user))


@router.get("/assessments/due", auth=auth_required, response={200: list[dict[str, Any]], **ERRORS}, summary="可启动考核的派驻聘任",
            description="按聘期结束日排序。分页：limit 每页条数（默认 50，最多 200），offset 起始位置；返回数组。")
def assessment_due(request, limit: str = "", offset: str = ""):
    size, start = _page(limit, offset)
    return [
        {"appointment": r["appointment"].pk, "planner": r["appointment"].planner.name, "unit": r["appointment"].unit.name,
         "district": r["appointment"].unit.district.name, "cycle_start": r["start"].isoformat(),
         "cycle_end": r["end"].isoformat(), "days_left": r["days_left"], "opened": r["opened"]}
        for r in selectors.assessable_appointments(user=request.user, limit=size, offset=start)
    ]


@router.get("/assessments/{int:assessment_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="年度考核详情")
def assessment_detail(request, assessment_id: int):
    return assessment_json(selectors.assessment_get(user=request.user, pk=assessment_id), request.user)


@router.post("/assessments/{int:assessment_id}/scores", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="评分（聘任主体属地反馈、区级、市级）")
def assessment_scores(request, assessment_id: int, payload: ScoresIn):
    assessment = selectors.assessment_get(user=request.user, pk=assessment_id)
    services.assessment_score(actor=request.user, assessment=assessment, scores=payload.scores, comment=payload.comment)
    return assessment_json(selectors.assessment_get(user=request.user, pk=assessment_id), request.user)


@router.post("/assessments/{int:assessment_id}/self-report", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="提交述职报告")
def assessment_self_report(request, assessment_id: int, payload: SelfReportIn):
    assessment = selectors.assessment_get(user=request.user, pk=assessment_id)
    services.assessment_self_report(actor=request.user, assessment=assessment, text=payload.text,
                                    self_score=payload.self_score)
    return assessment_json(selectors.assessment_get(user=request.user, pk=assessment_id), request.user)


@router.post("/assessments/{int:assessment_id}/feedback", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="提交属地反馈")
def assessment_feedback(request, assessment_id: int, payload: FeedbackIn):
    """聘任主体（属地）对责任规划师本年度服务情况的书面反馈意见（P6(4) 属地反馈）；评分另行提交。"""
    assessment = selectors.assessment_get(user=request.user, pk=assessment_id)
    services.assessment_feedback_submit(actor=request.user, assessment=assessment, text=payload.text)
    return assessment_json(selectors.assessment_get(user=request.user, pk=assessment_id), request.user)


@router.post("/assessments/{int:assessment_id}/absences", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="记录评议材料逾期未提交")
def assessment_absence(request, assessment_id: int, payload: AbsenceIn):
    """组织考核的一方在提交期限（政策 review_input_working_days 个工作日）届满后，记录述职报告（self_report）或
    属地反馈（entity_feedback）逾期未提交；此后评议不再等待该材料，结果中注明。"""
    assessment = selectors.assessment_get(user=request.user, pk=assessment_id)
    services.assessment_absence_record(actor=request.user, assessment=assessment, input=payload.input,
                                       note=payload.note)
    return Status(201, assessment_json(selectors.assessment_get(user=request.user, pk=assessment_id), request.user))


@router.post("/assessments/{int:assessment_id}/renewal-condition", auth=auth_required,
             response={200: dict[str, Any], **ERRORS}, summary="将考核结果纳入续聘条件")
def assessment_renewal_condition(request, assessment_id: int, payload: ConditionIn):
    assessment = selectors.assessment_get(user=request.user, pk=assessment_id)
    services.assessment_renewal_condition_set(actor=request.user, assessment=assessment,
                                              conditional=payload.conditional, note=payload.note)
    return assessment_json(selectors.assessment_get(user=request.user, pk=assessment_id), request.user)


@router.post("/assessments/{int:assessment_id}/grade", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="评定考核等次（结果运用一并办理）")
def assessment_grade(request, assessment_id: int, payload: GradeIn):
    """记录等次并在同一事务中办理其全部后果：续聘意见、调出资源库、责任单元列入待调整补位、档案、考核结果通知书、
    通知责任规划师和聘任主体。评议窗口（考核期结束前 review_window_days 天）开启前，或述职报告、属地反馈既未提交
    也未记录缺失时 → 409 review_not_ready，附 missing（尚缺的事项）和 allowed_from（最早可评定日期）。"""
    assessment = selectors.assessment_get(user=request.user, pk=assessment_id)
    services.assessment_grade(actor=request.user, assessment=assessment, grade=payload.grade, comment=payload.comment)
    return assessment_json(selectors.assessment_get(user=request.user, pk=assessment_id), request.user)


@router.get("/assessments/{int:assessment_id}/result.pdf", auth=auth_required, response={**ERRORS}, summary="考核结果通知 PDF")
def assessment_result_pdf(request, assessment_id: int):
    from rpms.documents.rendering import document_pdf_response

    assessment = selectors.assessment_get(user=request.user, pk=assessment_id)
    if assessment.result_document is None:
        raise Conflict("该考核尚未评定，没有考核结果通知。", code="not_graded")
    return document_pdf_response(assessment.result_document)


# --- violations ----------------------------------------------------------------------------------------------


@router.get("/violations", auth=auth_required, response={200: list[dict[str, Any]], **ERRORS}, summary="违规记录")
def violation_list(request, planner: int | None = None, unreported: bool = False):
    return [violation_json(v) for v in selectors.violation_list(user=request.user, planner=planner, unreported=unreported)]


@router.post("/violations", auth=auth_required, response={201: dict[str, Any], **ERRORS}, summary="记录违规行为")
def violation_create(request, payload: ViolationIn):
    """kind：责任规划师所在城市政策配置 violation_kinds 中的代码（GET /cities/{code}/policy 可查，各附本市条款）。
    记录即告知市级工作专班。"""
    planner = _get(Planner, payload.planner)
    appointment = _get(Appointment, payload.appointment) if payload.appointment else None
    district = _get(District, payload.district) if payload.district else None
    violation = services.violation_record(actor=request.user, planner=planner, kind=payload.kind,
                                          description=payload.description, occurred_on=payload.occurred_on,
                                          appointment=appointment, district=district)
    return Status(201, violation_json(selectors.violation_get(user=request.user, pk=violation.pk)))


@router.get("/violations/{int:violation_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS}, summary="违规记录详情")
def violation_detail(request, violation_id: int):
    return violation_json(selectors.violation_get(user=request.user, pk=violation_id))


@router.post("/violations/{int:violation_id}/report", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="告知所在单位")
def violation_report(request, violation_id: int, payload: ReportIn):
    violation = selectors.violation_get(user=request.user, pk=violation_id)
    services.violation_report_employer(actor=request.user, violation=violation, employer_name=payload.employer_name,
                                       method=payload.method)
    return violation_json(selectors.violation_get(user=request.user, pk=violation_id))


# --- replacement flags ------------------------------------------------------------------------------------------


@router.get("/replacement-flags", auth=auth_required, response={200: list[dict[str, Any]], **ERRORS},
            summary="待调整补位的责任单元")
def flag_list(request, status: str = ""):
    return [flag_json(f) for f in selectors.flag_list(user=request.user, status=status)]


@router.post("/replacement-flags/{int:flag_id}/resolve", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="登记调整补位处理情况")
def flag_resolve(request, flag_id: int, payload: NoteIn):
    flag = selectors.flag_get(user=request.user, pk=flag_id)
    services.replacement_flag_resolve(actor=request.user, flag=flag, note=payload.note)
    return flag_json(selectors.flag_get(user=request.user, pk=flag_id))


# --- district assessments -------------------------------------------------------------------------------------


@router.get("/district-assessments", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="各区制度执行情况评估")
def district_assessment_overview(request, city: str = "", year: int | None = None):
    from rpms.core import clock

    the_city = _city(city, request)
    year = services.year_value(year or clock.today().year)
    rows = selectors.district_assessment_overview(user=request.user, city=the_city, year=year)
    return {
        "city": the_city.code, "year": year,
        "districts": [
            {"district": {"id": r["district"].pk, "name": r["district"].name}, "figures": r["figures"],
             "assessment": district_assessment_json(r["assessment"]) if r["assessment"] else None}
            for r in rows
        ],
    }


@router.post("/district-assessments", auth=auth_required, response={201: dict[str, Any], **ERRORS},
             summary="记录对区的评估")
def district_assessment_record(request, payload: DistrictAssessmentIn):
    district = District.objects.select_related("city__policy").filter(pk=payload.district).first()
    if district is None:
        raise NotFound()
    record = services.district_assessment_record(actor=request.user, district=district, year=payload.year,
                                                 comment=payload.comment, score=payload.score)
    return Status(201, district_assessment_json(selectors.district_assessment_get(user=request.user, pk=record.pk)))


@router.get("/district-assessments/{int:record_id}", auth=auth_required, response={200: dict[str, Any], **ERRORS},
            summary="对区的评估详情")
def district_assessment_detail(request, record_id: int):
    return district_assessment_json(selectors.district_assessment_get(user=request.user, pk=record_id))


# --- honours -------------------------------------------------------------------------------------------------


@router.get("/honours", auth=public_or_auth, response={200: list[dict[str, Any]], **ERRORS}, summary="优秀责任规划师")
def honour_list(request, city: str = "", year: int | None = None, status: str = ""):
    """公开：已公布的名单。登录的市级管理员、推选的区和责任规划师本人还可看到推选和评选情况。"""
    the_city = city_get(city) if city else None
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return [honour_json(h, public=True) for h in selectors.public_honours(city=the_city, year=year)]
    return [honour_json(h, public=not _may_see_nomination(user, h))
            for h in selectors.honour_list(user=user, city=the_city, year=year, status=status)]


def _may_see_nomination(user, honour) -> bool:
    from rpms.accounts.scoping import is_city_wide

    return is_city_wide(user, honour.city) or permissions.is_district_officer_of(user, honour.district_id) or (
        honour.planner.user_id == user.pk
    )


@router.post("/honours", auth=auth_required, response={201: dict[str, Any], **ERRORS}, summary="区级推选")
def honour_nominate(request, payload: NominateIn):
    assessment = selectors.assessment_get(user=request.user, pk=payload.assessment)
    honour = services.honour_nominate(actor=request.user, assessment=assessment, reason=payload.reason)
    return Status(201, honour_json(selectors.honour_get(user=request.user, pk=honour.pk), public=False))


@router.post("/honours/publish", auth=auth_required, response={200: list[dict[str, Any]], **ERRORS}, summary="公布年度名单")
def honour_publish(request, payload: PublishIn):
    the_city = city_get(payload.city)
    honours = services.honour_list_publish(actor=request.user, city=the_city, year=payload.year)
    return [honour_json(selectors.honour_get(user=request.user, pk=h.pk), public=False) for h in honours]


@router.post("/honours/{int:honour_id}/decision", auth=auth_required, response={200: dict[str, Any], **ERRORS},
             summary="市级评选")
def honour_decide(request, honour_id: int, payload: DecisionIn):
    honour = selectors.honour_get(user=request.user, pk=honour_id)
    services.honour_decide(actor=request.user, honour=honour, selected=payload.selected, note=payload.note)
    return honour_json(selectors.honour_get(user=request.user, pk=honour_id), public=False)


@router.get("/honours/{int:honour_id}/certificate.pdf", auth=public_or_auth, response={**ERRORS}, summary="荣誉证书 PDF")
def honour_certificate(request, honour_id: int):
    from rpms.documents.rendering import document_pdf_response

    honour = selectors.honour_get(user=request.user, pk=honour_id)
    if honour.certificate is None:
        raise Conflict("名单尚未公布，没有荣誉证书。", code="not_published")
    return document_pdf_response(honour.certificate)
