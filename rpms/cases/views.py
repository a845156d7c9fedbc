"""Outstanding-case pages.

Public (phone friendly, no account): /cases/ lists the recommended cases, filterable by city, district,
zone type and duty category; /cases/<id>/ shows one with its photos. Nothing unpublished is ever public.

Staff: /cases/manage/ (planners: their own cases and a "submit" button; city administrators: the review
queue; district officers and auditors: read-only), /cases/new/ (planner), /cases/manage/<id>/ (the case
with the acts the user may perform: review, revise a returned case, take a published one down)."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.core.errors import DomainError, Forbidden
from rpms.core.uploads import max_proof_bytes, proof_response
from rpms.core.params import is_digits
from rpms.core.web import act, attempt
from rpms.geography.models import ResponsibilityUnit

from . import selectors, services
from .models import CaseStatus

FORM_KEYS = ("unit", "title", "duty_category", "summary", "body")


def _require_staff(user):
    if not (user.is_superuser or user.role in selectors.STAFF_ROLES):
        raise Forbidden("您的角色无权查看优秀案例的审核信息。")


# --- public ------------------------------------------------------------------------------------------------


@require_GET
def public_list(request):
    filters = selectors.public_filters_parse(request.GET)
    page = Paginator(selectors.public_case_list(filters), selectors.PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
    query = QueryDict(mutable=True)
    for key in ("city", "district", "zone_type", "duty_category"):
        if request.GET.get(key):
            query[key] = request.GET[key]
    return render(request, "cases/public_list.html", {
        "page": page, "filters": filters, "options": selectors.public_filter_options(filters),
        "query": query.urlencode(), "filtered": bool(query),
    })


@require_GET
def public_detail(request, pk):
    case = selectors.public_case_get(pk)
    return render(request, "cases/public_detail.html", {"case": case})


@require_GET
def photo(request, pk, photo_id):
    """A case photo, shown in the page (inline). Public once the case is published; before that only to
    those who may see the case (404 for anyone else)."""
    item = selectors.case_photo(user=request.user, case_pk=pk, photo_pk=photo_id)
    response = proof_response(item.path, download_name=item.original_name, reader=request.user, obj=item,
                              audit=not item.case.is_public)  # a published case's photo is public
    response["Content-Disposition"] = response["Content-Disposition"].replace("attachment", "inline", 1)
    if item.case.is_public:
        response["Cache-Control"] = "public, max-age=3600"
    return response


# --- staff -------------------------------------------------------------------------------------------------


@login_required
@require_GET
def manage_list(request):
    _require_staff(request.user)
    status = request.GET.get("status", "")
    page = Paginator(selectors.case_list(user=request.user, status=status), selectors.STAFF_PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "cases/manage_list.html", {
        "page": page, "status": status, "statuses": CaseStatus.choices,
        "can_submit": request.user.role == Role.PLANNER and bool(selectors.planner_units(request.user)),
        "is_reviewer": request.user.is_superuser or request.user.role == Role.CITY_ADMIN,
    })


def _form_context(request, units, form, **extra):
    cities = {u.city_id: u.city for u in units}
    categories = []
    for city in cities.values():
        for item in city.policy.duty_categories or []:
            categories.append({"code": item["code"], "label": item["label"], "city": city.name})
    return {
        "units": units, "form": form, "categories": categories, "multi_city": len(cities) > 1,
        "max_photos": services.MAX_PHOTOS, "max_photo_mb": max_proof_bytes() // (1024 * 1024), **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    if request.user.role != Role.PLANNER:
        raise Forbidden("只有责任规划师可以提交优秀案例。")
    units = selectors.planner_units(request.user)
    if request.method == "GET":
        return render(request, "cases/case_form.html", _form_context(request, units, {}))
    form = {key: request.POST.get(key, "") for key in FORM_KEYS}
    unit = next((u for u in units if str(u.pk) == form["unit"]), None)

    def _call():
        if unit is None:
            # Not among the planner's units: the same refusal as the service gives.
            if form["unit"] and ResponsibilityUnit.objects.filter(pk=form["unit"] if is_digits(form["unit"]) else 0).exists():
                raise Forbidden("只能提交本人（本团队）服务过的责任单元的案例。", code="not_your_unit")
            raise DomainError("请选择责任单元。", code="unit_required")
        case = services.case_submit(
            actor=request.user, unit=unit, title=form["title"], duty_category=form["duty_category"],
            summary=form["summary"], body=form["body"], photos=request.FILES.getlist("photos"),
            captions=request.POST.getlist("captions"),
        )
        return case

    return act(
        request,
        _call,
        success="案例已提交，等待市级主管部门审核。",
        redirect_to=lambda case: resolve_url("cases:manage_detail", pk=case.pk),
        on_refusal=lambda exc: render(request, "cases/case_form.html", _form_context(request, units, form, error=exc.message), status=exc.status),
    )


@login_required
@require_GET
def manage_detail(request, pk):
    _require_staff(request.user)
    case = selectors.case_get(user=request.user, pk=pk)
    return render(request, "cases/manage_detail.html", {
        "case": case, "can_review": selectors.can_review(request.user, case) and case.status == CaseStatus.SUBMITTED,
        "can_unpublish": selectors.can_review(request.user, case) and case.status == CaseStatus.PUBLISHED,
        "can_revise": selectors.is_author(request.user, case) and case.status == CaseStatus.RETURNED,
    })


@login_required
@require_POST
def review(request, pk):
    _require_staff(request.user)
    case = selectors.case_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.case_review(actor=request.user, case=case, decision=request.POST.get("decision", ""),
                             comment=request.POST.get("comment", "")),
        success="审核结论已记录，并已通知提交人。",
        redirect_to=resolve_url("cases:manage_detail", pk=pk),
    )


@login_required
@require_POST
def unpublish(request, pk):
    _require_staff(request.user)
    case = selectors.case_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.case_unpublish(actor=request.user, case=case, reason=request.POST.get("reason", "")),
        success="案例已从门户网站撤下，并已通知提交人。",
        redirect_to=resolve_url("cases:manage_detail", pk=pk),
    )


@login_required
@require_http_methods(["GET", "POST"])
def revise(request, pk):
    _require_staff(request.user)
    case = selectors.case_get(user=request.user, pk=pk)
    if not selectors.is_author(request.user, case):
        raise Forbidden("只有案例提交人可以修改。")
    units = [case.unit]
    if request.method == "GET":
        form = {"unit": str(case.unit_id), "title": case.title, "duty_category": case.duty_category,
                "summary": case.summary, "body": case.body}
        return render(request, "cases/case_form.html", _form_context(request, units, form, case=case))
    form = {key: request.POST.get(key, "") for key in FORM_KEYS}
    revised = attempt(request, lambda: services.case_revise(
        actor=request.user, case=case, title=form["title"], duty_category=form["duty_category"],
        summary=form["summary"], body=form["body"], photos=request.FILES.getlist("photos"),
        captions=request.POST.getlist("captions"), remove_photo_ids=request.POST.getlist("remove_photo"),
    ), success="案例已修改并重新提交审核。")
    if not revised.accepted:
        form["unit"] = str(case.unit_id)
        return render(request, "cases/case_form.html", _form_context(request, units, form, case=case, error=revised.error),
                      status=revised.status)
    return redirect("cases:manage_detail", pk=pk)
