"""Dispatch pages (/dispatch/): a district's request form and its own requests with their status and
return reasons (P6(1)); the city administrator's request queue, the matching run (统筹选派, P6(2)) and
its result page with confirmation and hand replacement per proposal, the Excel export; conflict of
interest declarations."""
import re

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.cities.models import City
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.audit import audit_export
from rpms.core.excel import workbook_response
from rpms.core.params import is_digits, page_within
from rpms.core.web import Submission, act, page_again, submit
from rpms.geography.models import District, ResponsibilityUnit
from rpms.registry.models import Planner

from . import selectors, services
from .inputs import role_label
from .models import SLOTS_PER_UNIT_MAX, ConflictKind, ProposalStatus, RequestStatus
from .permissions import is_city_admin_of, officer_district_ids

STAFF_ROLES = (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER)


CONFLICT_PAGE_SIZE = 50


def _city(request) -> City:
    user = request.user
    if user.city_id:
        return City.objects.select_related("policy").get(pk=user.city_id)
    code = request.GET.get("city") or request.POST.get("city")
    cities = City.objects.filter(is_active=True).select_related("policy").order_by("sort_order", "code")
    city = cities.filter(code=code).first() if code else cities.first()
    if city is None:
        raise NotFound("尚未配置任何城市。")
    return city


def _require_staff(user):
    if not (user.is_superuser or user.role in STAFF_ROLES):
        raise Forbidden("您的角色无权使用统筹选派功能。")


def _back(request, fallback: str):
    target = request.POST.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_GET
def index(request):
    user = request.user
    if user.role == Role.PLANNER:
        return redirect("dispatch:conflicts")
    _require_staff(user)
    return redirect("dispatch:request_list")


# --- requests -----------------------------------------------------------------------------------------


REQUEST_PAGE_SIZE = 100


@login_required
@require_GET
def request_list(request):
    _require_staff(request.user)
    city = _city(request)
    status = request.GET.get("status") or ""
    if status and status not in RequestStatus.values:
        status = ""
    queryset = selectors.request_list(user=request.user, city=city, status=status or None)
    total = queryset.count()
    page = page_within(request.GET.get("page"), count=total, per_page=REQUEST_PAGE_SIZE)
    rows = list(queryset[(page - 1) * REQUEST_PAGE_SIZE: page * REQUEST_PAGE_SIZE])
    query = request.GET.copy()
    query.pop("page", None)
    policy = city.policy
    for row in rows:
        row.role_label = role_label(city, row.role)
        row.specialty_labels = [policy.specialty_label(s) for s in row.specialties or []]
    return render(request, "dispatch/request_list.html", {
        "city": city,
        "article": policy_article(city, "dispatch_request"),
        "rows": rows,
        "total": total,
        "page": page,
        "has_next": page * REQUEST_PAGE_SIZE < total,
        "query": query.urlencode(),
        "status": status,
        "statuses": RequestStatus.choices,
        "is_admin": is_city_admin_of(request.user, city),
        "is_officer": request.user.role == Role.DISTRICT_OFFICER,
    })


def _with_open_requests(units: list[ResponsibilityUnit]) -> list[ResponsibilityUnit]:
    """Gives each unit `open_requests`: the dispatch requests naming it that are still waiting (submitted, not yet
    accepted; or accepted, not yet dispatched), oldest first, each with `role_label` (issue #17: the form said
    "尚无派驻" of a unit a request was pending for). One query whatever the number of units."""
    from .models import DispatchRequest

    through = DispatchRequest.units.through
    rows = (
        through.objects.filter(responsibilityunit_id__in=[u.pk for u in units],
                               dispatchrequest__status__in=(RequestStatus.SUBMITTED, RequestStatus.ACCEPTED))
        .select_related("dispatchrequest__city__policy")
        .order_by("dispatchrequest__created_at", "dispatchrequest_id")
    )
    by_unit: dict[int, list] = {}
    for row in rows:
        found = row.dispatchrequest
        found.role_label = role_label(found.city, found.role)
        by_unit.setdefault(row.responsibilityunit_id, []).append(found)
    for unit in units:
        unit.open_requests = by_unit.get(unit.pk, [])
    return units


def _form_districts(user, city) -> list[District]:
    return list(District.objects.filter(city=city, pk__in=officer_district_ids(user)).select_related("city").order_by("sort_order", "code"))


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request):
    user = request.user
    if user.role != Role.DISTRICT_OFFICER:
        raise Forbidden("只有区级工作人员可以提交派驻申请。")
    city = _city(request)
    districts = _form_districts(user, city)
    if not districts:
        raise Forbidden("您的账户尚未关联所负责的区，请联系市级管理员。")
    code = request.POST.get("district") or request.GET.get("district") or districts[0].code
    district = next((d for d in districts if d.code == code), None)
    if district is None:
        raise NotFound(f"您不负责区划代码为“{code}”的区。")
    policy = city.policy
    sent = Submission()
    form = {"role": (policy.roles or [{}])[0].get("code", ""), "specialties": [], "slots_per_unit": "1", "units": [],
            "service_focus": "", "note": ""}
    if request.method == "POST":
        form = {
            "role": request.POST.get("role", ""),
            "specialties": request.POST.getlist("specialties"),
            "slots_per_unit": request.POST.get("slots_per_unit", "1"),
            "units": [u for u in request.POST.getlist("units") if is_digits(u)],
            "service_focus": request.POST.get("service_focus", ""),
            "note": request.POST.get("note", ""),
        }
        sent = submit(
            request,
            lambda: services.dispatch_request_submit(
                actor=user, city=city, district=district, role=form["role"], units=form["units"],
                specialties=form["specialties"], slots_per_unit=form["slots_per_unit"],
                service_focus=form["service_focus"], note=form["note"],
            ),
            success=lambda created: f"派驻申请 #{created.pk} 已提交，等待市级主管部门受理。",
            redirect_to=lambda created: reverse("dispatch:request_detail", kwargs={"pk": created.pk}),
            propagate=(NotFound,),  # a refusal of the district's own request, 403 included, is shown with the form
        )
        if sent.response:
            return sent.response
    zone = policy.zone_type(district.zone_type) if district.zone_type else None
    return render(request, "dispatch/request_form.html", {
        "city": city,
        "article": policy_article(city, "dispatch_request"),
        "district": district,
        "districts": districts,
        "units": _with_open_requests(selectors.district_units_with_coverage(district=district)),
        "roles": policy.roles or [],
        "specialties": policy.specialties or [],
        "slot_choices": [str(n) for n in range(1, SLOTS_PER_UNIT_MAX + 1)],
        "zone": zone,
        "form": form,
        "error": sent.error,
    }, status=400 if sent.error else 200)


@login_required
@require_GET
def request_detail(request, pk: int):
    _require_staff(request.user)
    found = selectors.request_get(user=request.user, pk=pk)
    city = found.city
    found.role_label = role_label(city, found.role)
    found.specialty_labels = [city.policy.specialty_label(s) for s in found.specialties or []]
    units = list(found.units.all())
    services_by_unit = selectors.unit_services([u.pk for u in units], city=city)
    for unit in units:
        unit.services = services_by_unit.get(unit.pk, [])
    return render(request, "dispatch/request_detail.html", {
        "req": found,
        "city": city,
        "units": units,
        "is_admin": is_city_admin_of(request.user, city),
        "is_officer": found.district_id in officer_district_ids(request.user),
    })


def _request_act(request, pk: int, action):
    """`action(found)` returns the success message; either way back to the page the form was on."""
    found = selectors.request_get(user=request.user, pk=pk)
    back = _back(request, reverse("dispatch:request_detail", args=[pk])).url
    return act(request, lambda: action(found), success=lambda message: message, redirect_to=back)


@login_required
@require_POST
def request_accept(request, pk: int):
    def act(found):
        services.dispatch_request_accept(actor=request.user, request=found)
        return f"已受理派驻申请 #{found.pk}，可参与统筹选派。"

    return _request_act(request, pk, act)


@login_required
@require_POST
def request_return(request, pk: int):
    def act(found):
        services.dispatch_request_return(actor=request.user, request=found, reason=request.POST.get("reason", ""))
        return f"已退回派驻申请 #{found.pk}，退回理由申请区可见。"

    return _request_act(request, pk, act)


@login_required
@require_POST
def request_withdraw(request, pk: int):
    def act(found):
        services.dispatch_request_withdraw(actor=request.user, request=found, note=request.POST.get("note", ""))
        return f"派驻申请 #{found.pk} 已撤回。"

    return _request_act(request, pk, act)


# --- matching ------------------------------------------------------------------------------------------


def _require_city_reader(request, city):
    user = request.user
    if not (user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR)):
        raise Forbidden("只有市级管理员可以统筹选派。")
    selectors.require_run_reader(user, city)


@login_required
@require_GET
def matching(request):
    city = _city(request)
    _require_city_reader(request, city)
    accepted = list(selectors.request_list(user=request.user, city=city, status=RequestStatus.ACCEPTED).order_by("pk"))
    for row in accepted:
        row.role_label = role_label(city, row.role)
    return render(request, "dispatch/matching.html", {
        "city": city,
        "article": policy_article(city, "matching"),
        "cap_article": policy_article(city, "unit_cap"),
        "accepted": accepted,
        "runs": selectors.run_list(user=request.user, city=city),
        "is_admin": is_city_admin_of(request.user, city),
        "cap": city.policy.max_units_per_planner,
    })


@login_required
@require_POST
def matching_run(request):
    city = _city(request)
    ids = [i for i in request.POST.getlist("requests") if is_digits(i)]
    return act(
        request,
        lambda: services.matching_run(actor=request.user, city=city, request_ids=ids or None),
        success=lambda run: f"统筹选派完成：建议 {run.proposals.count()} 人，未满足 {len(run.unfilled)} 个岗位。",
        redirect_to=lambda run: resolve_url("dispatch:run_detail", pk=run.pk),
        refused_to="dispatch:matching",
    )


RUN_PAGE_ALL_MAX = 150  # above this many proposals the run page opens one district at a time


@login_required
@require_GET
def run_detail(request, pk: int):
    run = selectors.run_get(user=request.user, pk=pk)
    city = run.city
    proposals = selectors.run_proposals(run)
    for proposal in proposals:
        proposal.role_label = role_label(city, proposal.role)
    is_admin = is_city_admin_of(request.user, city)
    open_count = sum(1 for p in proposals if p.status == ProposalStatus.PROPOSED)
    districts = selectors.run_district_summary(run, proposals)
    selected = request.GET.get("district") or ""
    if not selected and len(proposals) > RUN_PAGE_ALL_MAX and districts:
        selected = districts[0]["code"]
    if selected and selected != "all" and selected not in {d["code"] for d in districts}:
        raise NotFound("本次运行没有该区的选派建议。")
    shown = [p for p in proposals if not selected or selected == "all" or p.unit.district.code == selected]
    return render(request, "dispatch/run_detail.html", {
        "run": run,
        "city": city,
        "groups": selectors.proposals_by_unit(shown),
        "districts": districts,
        "selected": selected,
        "proposal_count": sum(1 for p in proposals if p.status in (ProposalStatus.PROPOSED, ProposalStatus.CONFIRMED)),
        "open_count": open_count,
        "unfilled": run.unfilled,
        "is_admin": is_admin,
        "planners": selectors.planner_choices(city=city) if is_admin and open_count else [],
        "today": clock.today().isoformat(),
        "requests": list(run.requests.select_related("district").order_by("pk")),
    })


@login_required
@require_GET
def run_export(request, pk: int):
    run = selectors.run_get(user=request.user, pk=pk)
    city = run.city
    headers = ["区", "责任单元", "派驻角色", "申请编号", "状态", "责任规划师", "工作单位", "匹配得分", "评分说明", "核验的规则", "人工替换理由", "未满足原因"]

    def rows():
        for p in selectors.run_proposals(run):
            terms = "；".join(f"{t['label']} {t['points']}/{t['max']}（{t.get('detail', '')}）" for t in p.explanation.get("terms", []))
            checks = "；".join(c["label"] + (f"（{c['detail']}）" if c.get("detail") else "") for c in p.explanation.get("checks", []))
            yield [p.unit.district.name, p.unit.name, role_label(city, p.role), p.request_id, p.get_status_display(),
                   p.planner.name, p.planner.employer, p.score, terms, checks, p.replacement_reason, ""]
        for u in run.unfilled:
            yield [u.get("district", ""), u.get("unit_name", ""), u.get("role_label") or role_label(city, u["role"]),
                   u["request"], "未满足", "", "", None, "", "", "", u["reason"]]

    stamp = timezone.localtime(run.created_at).strftime("%Y%m%d%H%M")
    audit_export(actor=request.user, what=f"{city.name}统筹选派结果（第 {run.pk} 次）", object_type="", obj=run)
    return workbook_response(f"{city.name}统筹选派结果-{run.pk}-{stamp}", "统筹选派结果", headers, rows())


def _proposal_act(request, pk: int, action):
    """`action(proposal)` returns the success message; a refusal is flashed naming the unit and planner."""
    proposal = selectors.proposal_get(user=request.user, pk=pk)
    fallback = reverse("dispatch:run_detail", args=[proposal.run_id]) + f"#p{proposal.pk}"

    def refused(exc):  # the run's page again at once, the form filled with what was typed (issue #17 item 4)
        return page_again(request, fallback, f"{proposal.unit.name} · {proposal.planner.name}：{exc.message}",
                          status=exc.status)

    return act(request, lambda: action(proposal), success=lambda message: message, redirect_to=fallback,
               on_refusal=refused)


@login_required
@require_POST
def proposal_confirm(request, pk: int):
    def act(proposal):
        appointment = services.proposal_confirm(actor=request.user, proposal=proposal, start=request.POST.get("start", ""))
        return (f"已聘任{proposal.planner.name}为{proposal.unit.name}{role_label(proposal.run.city, proposal.role)}，"
                f"聘期 {appointment.start} 至 {appointment.end}，派驻通知、聘任证书和聘用合同已生成。")

    return _proposal_act(request, pk, act)


_PLANNER_ID = re.compile(r"^\s*#?(\d+)")


@login_required
@require_POST
def proposal_replace(request, pk: int):
    def act(proposal):
        match = _PLANNER_ID.match(request.POST.get("planner", ""))
        if not match:
            raise DomainError("请选择替换的责任规划师（输入姓名后从列表中选择）。", code="planner_required")
        planner = Planner.objects.filter(pk=int(match.group(1)), city=proposal.run.city).first()
        if planner is None:
            raise DomainError("该责任规划师不在本市资源库中。", code="planner_not_found")
        new = services.proposal_replace(actor=request.user, proposal=proposal, planner=planner,
                                        reason=request.POST.get("reason", ""))
        return f"已将{proposal.unit.name}的建议人选由{proposal.planner.name}替换为{new.planner.name}，理由已记录。"

    return _proposal_act(request, pk, act)


# --- conflicts of interest -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def conflicts(request):
    user = request.user
    if not (user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER, Role.PLANNER)):
        raise Forbidden("您的角色无权查看利益冲突申报。")
    city = _city(request)
    own_planner = Planner.objects.filter(user=user).first() if user.role == Role.PLANNER else None
    can_declare = user.is_superuser or user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER) or own_planner is not None
    if user.role == Role.DISTRICT_OFFICER:
        district_ids = officer_district_ids(user)
        districts = list(District.objects.filter(pk__in=district_ids).order_by("sort_order", "code"))
    else:
        districts = list(District.objects.filter(city=city).order_by("sort_order", "code"))
    open_units = ResponsibilityUnit.objects.filter(district__in=[d.pk for d in districts], dissolved_at__isnull=True)
    form = {"planner": "", "target": "", "kind": ConflictKind.EMPLOYER_INVOLVED, "note": ""}
    sent = Submission()
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}

        def declare():
            if not can_declare:
                raise Forbidden("您的角色无权登记利益冲突。")
            if own_planner is not None:
                planner = own_planner
            else:
                match = _PLANNER_ID.match(form["planner"])
                planner = Planner.objects.filter(pk=int(match.group(1)), city=city).first() if match else None
                if planner is None:
                    raise DomainError("请选择责任规划师（输入姓名后从列表中选择）。", code="planner_required")
            unit = district = None
            kind, _, target_id = form["target"].partition(":")
            if kind == "u" and is_digits(target_id) and len(target_id) < 10:
                unit = open_units.select_related("district").filter(pk=int(target_id)).first()
            elif kind == "d" and is_digits(target_id):
                district = next((d for d in districts if d.pk == int(target_id)), None)
            if unit is None and district is None:
                raise DomainError("请选择存在利益冲突的责任单元或区。", code="conflict_target")
            return services.conflict_declare(actor=user, planner=planner, unit=unit, district=district,
                                             kind=form["kind"], note=form["note"])

        sent = submit(request, declare, success="利益冲突已登记，统筹选派时不再向该单元（区）推荐此人。",
                      redirect_to="dispatch:conflicts", propagate=(NotFound,))
        if sent.response:
            return sent.response
    # Issue #15: the page is bounded — the records paged, the unit options of one district at a time
    # (`?district=`, or the district of the unit chosen), the planner chooser narrowed by `?q=`.
    queryset = selectors.conflict_list(user=user, city=city)
    size = CONFLICT_PAGE_SIZE
    total = queryset.count()
    page = page_within(request.GET.get("page"), count=total, per_page=size)
    rows = list(queryset[(page - 1) * size: page * size])
    unit_district = next((d for d in districts if str(d.pk) == request.GET.get("district", "")), None)
    kind, _, target_id = form["target"].partition(":")
    if unit_district is None and kind == "u" and is_digits(target_id) and len(target_id) < 10:
        chosen = open_units.filter(pk=int(target_id)).values_list("district_id", flat=True).first()
        unit_district = next((d for d in districts if d.pk == chosen), None)
    if unit_district is None and len(districts) == 1:
        unit_district = districts[0]
    units = list(open_units.filter(district=unit_district).order_by("name", "pk")) if unit_district else []
    q = request.GET.get("q", "").strip()
    planners, more_planners = ([], False)
    if can_declare and own_planner is None:
        from rpms.appointments.selectors import planner_picker

        planners, more_planners = planner_picker(city=city, q=q)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "dispatch/conflicts.html", {
        "city": city,
        "article": policy_article(city, "matching"),
        "rows": rows,
        "own_planner": own_planner,
        "can_declare": can_declare,
        "planners": planners,
        "more_planners": more_planners,
        "q": q,
        "districts": districts,
        "unit_district": unit_district,
        "district_options": [(f"d:{d.pk}", f"{d.name}（全区）") for d in districts],
        "unit_options": [(f"u:{u.pk}", f"{unit_district.name} · {u.name}") for u in units],
        "kinds": ConflictKind.choices,
        "form": form,
        "error": sent.error,
        "total": total, "page": page, "num_pages": max(1, -(-total // size)), "has_next": page * size < total,
        "query": query.urlencode(),
    }, status=400 if sent.error else 200)


@login_required
@require_POST
def conflict_withdraw(request, pk: int):
    declaration = selectors.conflict_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.conflict_withdraw(actor=request.user, declaration=declaration),
        success="利益冲突申报已撤销。",
        redirect_to="dispatch:conflicts",
    )
