"""Assessment pages (/assessments/): annual assessments and their consequences, violations, units flagged for a
replacement, the city's assessment of districts, honours (the published list is public: /assessments/honours/).

A refused act (400/409) shows the page its form is on again at once, with the Chinese reason and the form
filled with what was typed (rpms.core.web.page_again, issue #17 item 4); 403/404 go to the error page
(DomainErrorMiddleware). Grading asks for confirmation first (rpms.core.confirm, issue #17 item 5)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.appointments.models import Appointment
from rpms.cities.models import City
from rpms.cities.selectors import city_get, city_list, policy_article
from rpms.core import clock
from rpms.core.confirm import confirm_first
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.excel import workbook_response
from rpms.core.paging import pager
from rpms.core.params import is_digits, page_within
from rpms.core.web import Submission, attempt, page_again, submit
from rpms.geography.models import District

from . import permissions, selectors, services
from .inputs import assessment_inputs, inputs_summary
from .models import REVIEW_INPUT_PARTY, AssessmentStatus, FlagStatus, HonourStatus, ReviewInput, ScoreSource
from .review import review_state

STAFF_ROLES = (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY, Role.PLANNER, Role.AUDITOR)


def _require_staff(user):
    if not (user.is_superuser or user.role in STAFF_ROLES):
        raise Forbidden("您的角色无权查看年度考核。")


def _act(request, func, *, success: str, back, **kwargs):
    """Runs a service. Accepted: (result, None). Refused (400/409): (None, the page `back` shown again with the
    Chinese reason, the refusal's status and the form filled with what was typed — rpms.core.web.page_again).
    403/404 go to the error page."""
    sent = attempt(request, lambda: func(actor=request.user, **kwargs), success=success)
    if not sent.accepted:
        return None, page_again(request, back, sent.error, status=sent.status)
    return sent.result, None


PAGE_SIZE = 50


def _year_param(request):
    raw = (request.GET.get("year") or "").strip()
    if not raw:
        return None
    if not is_digits(raw):
        raise DomainError("年度应为四位数字。", code="invalid_year")
    return int(raw)


def _user_city(request) -> City | None:
    code = (request.GET.get("city") or request.POST.get("city") or "").strip()
    if code:
        return city_get(code)
    user = request.user
    if getattr(user, "city_id", None):
        return City.objects.select_related("policy").get(pk=user.city_id)
    return None


# --- assessments -------------------------------------------------------------------------------------------


@login_required
@require_GET
def assessment_list(request):
    _require_staff(request.user)
    year = _year_param(request)
    status = request.GET.get("status", "")
    district = request.GET.get("district", "")
    if request.GET.get("format") == "xlsx":
        rows = selectors.assessment_list(user=request.user, year=year, status=status, district=district)
        return workbook_response(
            "年度考核.xlsx", "年度考核",
            ["年度", "区", "责任单元", "责任规划师", "考核期开始", "考核期结束", "考核主体", "状态", "加权总分", "考核等次",
             "评定时间", "考核结果通知编号"],
            ([a.year, a.district.name, a.unit.name, a.planner.name, a.period_start, a.period_end,
              a.get_assessing_body_display(), a.get_status_display(), a.total_score, a.grade_label, a.graded_at,
              a.result_document.number if a.result_document_id else ""] for a in rows),
        )
    user = request.user
    # a page of rows, ids first, the policy profile from the cache (issue #15)
    queryset = selectors.assessment_queryset(user=user, year=year, status=status, district=district)
    size = PAGE_SIZE
    total = queryset.count()
    page = page_within(request.GET.get("page"), count=total, per_page=size)
    return render(request, "assessments/list.html", {
        "assessments": selectors.assessment_page(queryset, (page - 1) * size, page * size),
        "pager": pager(request, page=page, total=total, size=size),
        "year": year or "",
        "status": status,
        "statuses": AssessmentStatus.choices,
        "can_open": user.is_superuser or user.role == Role.DISTRICT_OFFICER or (
            user.role == Role.CITY_ADMIN and user.city is not None
            and permissions.assessing_body_for(user.city) == "city_with_district"),
        "is_staff_body": user.is_superuser or user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR),
        "is_city": user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR),
    })


@login_required
@require_GET
def assessment_due(request):
    if not (request.user.is_superuser or request.user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER)):
        raise Forbidden("年度考核由区级工作专班或市级主管部门组织。")
    today = clock.today()
    queryset = selectors.assessable_queryset(user=request.user, today=today)
    size = PAGE_SIZE
    total = queryset.count() if queryset is not None else 0
    page = page_within(request.GET.get("page"), count=total, per_page=size)
    rows = selectors.assessable_appointments(user=request.user, today=today, limit=size, offset=(page - 1) * size)
    return render(request, "assessments/due.html", {"rows": rows, "today": today,
                                                    "pager": pager(request, page=page, total=total, size=size)})


@login_required
@require_POST
def assessment_open(request):
    raw = (request.POST.get("appointment") or "").strip()
    appointment = Appointment.objects.filter(pk=raw).first() if is_digits(raw) else None
    if appointment is None:
        raise NotFound("派驻聘任不存在。")
    assessment, refused = _act(request, services.assessment_open, appointment=appointment, back="assessments:due",
                               cycle_start=request.POST.get("cycle_start") or None,
                               success="年度考核已启动，已通知责任规划师和聘任主体。")
    return refused or redirect("assessments:detail", pk=assessment.pk)


def city_grades(assessment) -> list[dict]:
    return list(assessment.city.policy.grades or [])


def _detail_context(request, assessment) -> dict:
    user = request.user
    table = services.criteria_table(assessment)
    graded = assessment.status == AssessmentStatus.GRADED
    inputs = assessment.inputs if graded else assessment_inputs(assessment)
    review = review_state(assessment) if not graded else None
    source = permissions.score_source_for(user, assessment)
    for row in table["rows"]:
        row["cells"] = [row["by_source"].get(code) for code in ScoreSource.values]
        row["mine"] = row["by_source"].get(source) or {} if source else {}
    grades = []
    for item in city_grades(assessment):
        consequences = [services.RENEWAL_TEXT.get(item.get("renewal"), item.get("renewal", ""))]
        if item.get("remove_from_pool"):
            ground = assessment.city.policy.removal_ground(item.get("removal_ground") or "") or {}
            consequences.append(f"从资源库中调出（{ground.get('label', '')}）")
        if item.get("flag_unit_for_replacement"):
            consequences.append("责任单元列入待调整补位")
        if item.get("honour_eligible"):
            consequences.append("可推选优秀责任规划师")
        grades.append({**item, "consequences": consequences})
    city = assessment.city
    return {
        "assessment": assessment,
        "table": table,
        "sources": ScoreSource.choices,
        "inputs": inputs,
        "inputs_lines": inputs_summary(inputs),
        "score_as": source,
        "score_as_label": ScoreSource(source).label if source else "",
        "can_grade": permissions.can_grade(user, assessment) and assessment.is_open,
        "is_planner": permissions.is_planner_of(user, assessment),
        "can_feedback": permissions.can_give_feedback(user, assessment) and assessment.is_open,
        "review_info": review.as_dict() if review is not None else (assessment.inputs or {}).get("review"),
        "review_ready": review is not None and review.ready,
        "review_refusal": review.refusal_text(policy_article(assessment.city, "assessment"))
        if review is not None and not review.ready else "",
        "can_record_absence": review is not None and review.deadline_passed and bool(review.missing_inputs)
        and permissions.can_grade(user, assessment),
        "can_condition": permissions.can_set_renewal_condition(user, assessment)
        and services._policy_lets_entity_decide(city),
        "grades": grades,
        "article": policy_article(city, "assessment"),
        "body_name": services.body_name(assessment, city=city, district=assessment.district),
    }


@login_required
@require_GET
def assessment_detail(request, pk):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    return render(request, "assessments/detail.html", _detail_context(request, assessment))


@login_required
@require_POST
def assessment_scores(request, pk):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    scores = {}
    for item in assessment.city.policy.assessment_criteria or []:
        value = (request.POST.get(f"score_{item['code']}") or "").strip()
        if value:
            scores[item["code"]] = {"score": value, "comment": request.POST.get(f"comment_{item['code']}", "")}
    back = reverse("assessments:detail", kwargs={"pk": pk})
    if not scores:
        return page_again(request, back, "请至少填写一项考核内容的得分。")
    _, refused = _act(request, services.assessment_score, assessment=assessment, scores=scores, back=back,
                      success="评分已保存。")
    return refused or redirect(back)


def _input_page(request, assessment, *, template: str, context: dict, act, success: str, fields: tuple[str, ...]):
    """A page for one act on a review (述职, 属地反馈, recording an absence): GET shows the form; POST runs
    the service; a refusal (400/409) shows the form again with what was typed and the Chinese reason."""
    form = {name: request.POST.get(name, "") for name in fields} if request.method == "POST" else context.pop("form", {})
    sent = Submission()
    if request.method == "POST":
        sent = submit(request, lambda: act(form), success=success,
                      redirect_to=reverse("assessments:detail", kwargs={"pk": assessment.pk}))
        if sent.response:
            return sent.response
    review = review_state(assessment)
    return render(request, template, {
        **context, "assessment": assessment, "form": form, "error": sent.error, "review": review,
        "article": policy_article(assessment.city, "assessment"),
    }, status=sent.status)


@login_required
@require_http_methods(["GET", "POST"])
def assessment_self_report(request, pk):
    """The planner's 述职 (P6(4), B20): a page of its own; the text typed is kept on a refusal."""
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    if not permissions.is_planner_of(request.user, assessment):
        raise Forbidden("述职报告由责任规划师本人提交。")
    return _input_page(
        request, assessment, template="assessments/input_form.html", fields=("text", "self_score"),
        context={"kind": "self_report", "heading": "提交述职报告",
                 "form": {"text": assessment.self_report,
                          "self_score": "" if assessment.self_score is None else str(assessment.self_score)}},
        act=lambda form: services.assessment_self_report(actor=request.user, assessment=assessment, text=form["text"],
                                                         self_score=form["self_score"] or None),
        success="述职报告已提交。",
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_feedback(request, pk):
    """The hiring entity's 属地反馈 (P6(4)): its written opinion on the planner's year."""
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    if not permissions.can_give_feedback(request.user, assessment):
        raise Forbidden("属地反馈由责任单元所在的聘任主体提交。")
    return _input_page(
        request, assessment, template="assessments/input_form.html", fields=("text",),
        context={"kind": "entity_feedback", "heading": "提交属地反馈", "form": {"text": assessment.entity_feedback}},
        act=lambda form: services.assessment_feedback_submit(actor=request.user, assessment=assessment,
                                                             text=form["text"]),
        success="属地反馈已提交。",
    )


@login_required
@require_http_methods(["GET", "POST"])
def assessment_absence(request, pk):
    """The assessing body records an input not given by its deadline (irreversible: asks for confirmation)."""
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    if not permissions.can_grade(request.user, assessment):
        raise Forbidden("评议材料缺失由组织考核的一方记录。")
    code = (request.POST.get("input") or request.GET.get("input") or "").strip()

    def act(form):
        if form.get("confirm") != "1":
            raise DomainError("请勾选确认：记录缺失后，该材料在本次考核中不再接收。", code="confirm_required")
        return services.assessment_absence_record(actor=request.user, assessment=assessment, input=form["input"],
                                                  note=form["note"])

    return _input_page(
        request, assessment, template="assessments/absence_form.html", fields=("input", "note", "confirm"),
        context={"heading": "记录评议材料逾期未提交", "form": {"input": code, "note": ""},
                 "choices": [(c, ReviewInput(c).label, REVIEW_INPUT_PARTY[ReviewInput(c)])
                             for c in assessment.city.policy.review_inputs()]},
        act=act, success="已记录评议材料逾期未提交，考核评议不再等待该材料。",
    )


@login_required
@require_POST
def assessment_renewal_condition(request, pk):
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    conditional = request.POST.get("conditional") == "1"
    back = reverse("assessments:detail", kwargs={"pk": pk})
    _, refused = _act(request, services.assessment_renewal_condition_set, assessment=assessment, conditional=conditional,
                      note=request.POST.get("note", ""), back=back,
                      success="已登记续聘条件。" if conditional else "已取消续聘条件。")
    return refused or redirect(back)


@login_required
@require_POST
def assessment_grade(request, pk):
    """Grading asks for confirmation on a page saying what will follow (issue #17 item 5): the grade's
    consequences by the city's rules, the result notice, the dossier; it cannot be withdrawn."""
    assessment = selectors.assessment_get(user=request.user, pk=pk)
    back = reverse("assessments:detail", kwargs={"pk": pk})
    code = request.POST.get("grade", "")
    context = _detail_context(request, assessment)
    chosen = next((g for g in context["grades"] if g.get("code") == code), None)
    if chosen is None:
        return page_again(request, back, "请选择考核等次。")
    waiting = confirm_first(
        request, title=f"评定{assessment.planner.name} {assessment.year} 年度考核等次为“{chosen.get('label', '')}”",
        back_to=back, button="确认评定",
        consequences=[
            f"考核等次评定为“{chosen.get('label', '')}”，加权总分和系统数据随之冻结，评定后不能撤回（{context['article']}）。",
            *[f"考核结果运用：{line}。" for line in chosen["consequences"] if line],
            "考核结果写入责任规划师个人档案，出具考核结果通知，并通知责任规划师和聘任主体。",
        ],
        summary=[("考核等次", chosen.get("label", "")), ("评定意见", request.POST.get("comment", ""))],
    )
    if waiting is not None:
        return waiting
    _, refused = _act(request, services.assessment_grade, assessment=assessment, grade=code, back=back,
                      comment=request.POST.get("comment", ""), success="考核等次已评定，结果运用已一并办理并通知相关方。")
    return refused or redirect(back)


@login_required
@require_GET
def assessment_result_pdf(request, pk):
    from rpms.documents.rendering import document_pdf_response

    assessment = selectors.assessment_get(user=request.user, pk=pk)
    if assessment.result_document is None:
        raise NotFound("该考核尚未评定，没有考核结果通知。")
    return document_pdf_response(assessment.result_document)


# --- violations --------------------------------------------------------------------------------------------


@login_required
@require_GET
def violation_list(request):
    unreported = request.GET.get("unreported") == "1"
    rows = selectors.violation_list(user=request.user, unreported=unreported)
    if request.GET.get("format") == "xlsx":
        return workbook_response(
            "违规记录.xlsx", "违规记录",
            ["发生日期", "责任规划师", "所在单位", "记录的区", "违规情形", "情况说明", "告知市级工作专班", "告知所在单位", "告知时间", "告知方式"],
            ([v.occurred_on, v.planner.name, v.planner.employer, v.district.name if v.district_id else "", v.kind_label,
              v.description, v.reported_city_at, v.reported_employer_name, v.reported_employer_at, v.reported_employer_method]
             for v in rows),
        )
    user = request.user
    return render(request, "assessments/violations.html", {
        "violations": list(rows), "unreported": unreported,
        "can_record": user.is_superuser or user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER),
    })


@login_required
def violation_new(request):
    user = request.user
    if not (user.is_superuser or user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER)):
        raise Forbidden("违规行为由区级责任规划师工作专班或市级主管部门记录。")
    planners = selectors.violation_planner_choices(user)
    districts = list(user.districts.all()) if user.role == Role.DISTRICT_OFFICER else []
    form = {"occurred_on": clock.today().isoformat()}
    status = 200
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in ("planner", "kind", "description", "occurred_on", "district")}
        planner = next((p for p in planners if str(p.pk) == form["planner"]), None)
        district = next((d for d in districts if str(d.pk) == form["district"]), None)
        sent = attempt(request, lambda: services.violation_record(
            actor=user, planner=planner, kind=form["kind"], description=form["description"],
            occurred_on=form["occurred_on"], district=district,
        ) if planner is not None else _no_planner(), success="违规行为已记录，并已告知市级责任规划师工作专班。请及时告知其所在单位。")
        if sent.accepted:
            return redirect("assessments:violation_detail", pk=sent.result.pk)
        # Shown again with everything typed, the reason above the form and the refusal's status.
        messages.error(request, sent.error)
        status = sent.status
    return render(request, "assessments/violation_form.html", {
        "planners": planners, "districts": districts, "kinds": selectors.violation_kind_choices(user), "form": form,
        "city": getattr(user, "city", None),
    }, status=status)


def _no_planner():
    raise DomainError("请选择责任规划师。", code="planner_required")


@login_required
@require_GET
def violation_detail(request, pk):
    violation = selectors.violation_get(user=request.user, pk=pk)
    return render(request, "assessments/violation_detail.html", {
        "violation": violation, "can_report": permissions.can_manage_violation(request.user, violation)
        and violation.reported_employer_at is None,
        "article": policy_article(violation.city, "violation"),
    })


@login_required
@require_POST
def violation_report(request, pk):
    violation = selectors.violation_get(user=request.user, pk=pk)
    back = reverse("assessments:violation_detail", kwargs={"pk": pk})
    _, refused = _act(request, services.violation_report_employer, violation=violation, back=back,
                      employer_name=request.POST.get("employer_name", ""), method=request.POST.get("method", ""),
                      success="已登记告知所在单位的情况。")
    return refused or redirect(back)


# --- replacement flags -------------------------------------------------------------------------------------


@login_required
@require_GET
def flag_list(request):
    status = request.GET.get("status", FlagStatus.OPEN)
    flags = list(selectors.flag_list(user=request.user, status=status))
    return render(request, "assessments/flags.html", {"flags": flags, "status": status, "statuses": FlagStatus.choices})


@login_required
@require_POST
def flag_resolve(request, pk):
    flag = selectors.flag_get(user=request.user, pk=pk)
    _, refused = _act(request, services.replacement_flag_resolve, flag=flag, note=request.POST.get("note", ""),
                      back="assessments:flags", success="已登记处理情况。")
    return refused or redirect("assessments:flags")


# --- district assessments ------------------------------------------------------------------------------------


@login_required
@require_GET
def district_overview(request):
    city = _user_city(request)
    if city is None:
        # A reader of every city (an auditor, the superuser) starts with the first and picks another above.
        city = city_list().order_by("sort_order", "code").first()
    if city is None:
        raise DomainError("请选择城市。", code="city_required")
    year = _year_param(request) or clock.today().year
    rows = selectors.district_assessment_overview(user=request.user, city=city, year=year)
    if request.GET.get("format") == "xlsx":
        labels = [m["label"] for m in (rows[0]["figures"]["metrics"] if rows else [])]
        return workbook_response(
            f"{city.name}{year}年度各区制度执行评估.xlsx", "各区评估",
            ["区", *labels, "系统测算分", "评估得分", "市级评估意见"],
            ([r["district"].name,
              *[(f"{m['numerator']}/{m['denominator']}" if m["denominator"] else "—") for m in r["figures"]["metrics"]],
              r["figures"]["computed_score"], r["assessment"].score if r["assessment"] else None,
              r["assessment"].comment if r["assessment"] else ""] for r in rows),
        )
    return render(request, "assessments/districts.html", {
        "city": city, "year": year, "rows": rows, "cities": city_list() if request.user.is_superuser or request.user.city_id is None else [],
        "can_record": permissions.is_city_admin_of(request.user, city),
        "article": policy_article(city, "district_assessment"),
        "filing_days": city.policy.contract_filing_days,
    })


@login_required
@require_POST
def district_record(request):
    raw = (request.POST.get("district") or "").strip()
    district = District.objects.select_related("city__policy").filter(pk=raw).first() if is_digits(raw) else None
    if district is None:
        raise NotFound("区不存在。")
    year = request.POST.get("year", "")
    back = f"{reverse('assessments:districts')}?city={district.city.code}" + (f"&year={year}" if is_digits(year) else "")
    _, refused = _act(request, services.district_assessment_record, district=district, year=year,
                      comment=request.POST.get("comment", ""), score=request.POST.get("score") or None, back=back,
                      success=f"已记录对{district.name}的评估。")
    return refused or redirect(back)


# --- honours ----------------------------------------------------------------------------------------------


@require_GET
def honours_public(request):
    """Public: the published lists of outstanding planners (B24), by city and year. Names, employer,
    district and unit only."""
    code = (request.GET.get("city") or "").strip()
    city = city_get(code) if code else None
    year = _year_param(request)
    honours = list(selectors.public_honours(city=city, year=year))
    return render(request, "assessments/honours_public.html", {
        "honours": honours, "city": city, "year": year or "", "cities": city_list(),
        "years": selectors.public_honour_years(city),
    })


@login_required
@require_GET
def honour_manage(request):
    user = request.user
    if not (user.is_superuser or user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.AUDITOR)):
        raise Forbidden("优秀责任规划师的推选和评选由区、市工作专班办理。")
    year = _year_param(request) or clock.today().year
    city = _user_city(request)
    honours = list(selectors.honour_list(user=user, city=city, year=year))
    return render(request, "assessments/honour_manage.html", {
        "year": year, "city": city, "honours": honours,
        "nominable": selectors.nominable_assessments(user=user, year=year),
        "is_district": user.role == Role.DISTRICT_OFFICER,
        "is_city_admin": city is not None and permissions.is_city_admin_of(user, city),
        "undecided": sum(1 for h in honours if h.status == HonourStatus.NOMINATED),
        "to_publish": sum(1 for h in honours if h.status == HonourStatus.SELECTED and not h.is_published),
        "article": policy_article(city, "honour") if city else "",
    })


@login_required
@require_POST
def honour_nominate(request):
    raw = (request.POST.get("assessment") or "").strip()
    assessment = selectors.assessment_get(user=request.user, pk=raw)
    back = f"{_manage_url()}?year={assessment.year}"
    _, refused = _act(request, services.honour_nominate, assessment=assessment, reason=request.POST.get("reason", ""),
                      back=back,
                      success=f"已推选{assessment.planner.name}，报送市级评选。")
    return refused or redirect(back)


def _manage_url():
    return reverse("assessments:honour_manage")


@login_required
@require_POST
def honour_decide(request, pk):
    honour = selectors.honour_get(user=request.user, pk=pk)
    selected = request.POST.get("selected") == "1"
    back = f"{_manage_url()}?year={honour.year}"
    _, refused = _act(request, services.honour_decide, honour=honour, selected=selected, note=request.POST.get("note", ""),
                      back=back, success="评选结果已记录。")
    return refused or redirect(back)


@login_required
@require_POST
def honour_publish(request):
    city = _user_city(request)
    if city is None:
        raise DomainError("请选择城市。", code="city_required")
    year = request.POST.get("year", "")
    back = f"{_manage_url()}?year={year}" if is_digits(year) else _manage_url()
    _, refused = _act(request, services.honour_list_publish, city=city, year=year, back=back,
                      success="名单已公布，荣誉证书已生成。")
    return refused or redirect(back)


@require_GET
def honour_certificate(request, pk):
    from rpms.documents.rendering import document_pdf_response

    honour = selectors.honour_get(user=request.user, pk=pk)
    if honour.certificate is None:
        raise NotFound("名单尚未公布，没有荣誉证书。")
    return document_pdf_response(honour.certificate)
