"""Suggestion pages.

Public (phone friendly, no account): find your street or town → its unit → the form (category, text,
photos, optional contact; CSRF; rate-limited) → a thank-you page with the tracking code → the tracking
page. Each unit's page lists its visible suggestions with the replies. No public page shows a resident's
contact details, photos or anything hidden.

Staff: the inbox (planners: their units today; district officers: their districts; city administrators
and auditors: the city), a suggestion's page with the acts the user may perform (reply, forward, record
the department's answer, close; the city hides/shows again), the photos, an Excel export, and work
proposals (a planner writes, the hiring entity acknowledges)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.cities.models import City
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.confirm import confirm_first
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.audit import audit_export
from rpms.core.excel import workbook_response
from rpms.core.masking import mask_mobile
from rpms.core.paging import CappedPaginator
from rpms.core.params import page_number
from rpms.core.uploads import proof_response
from rpms.core.inputs import date_value, int_or_none
from rpms.core.web import act, attempt
from rpms.geography.selectors import subdistrict_search
from rpms.workdays.selectors import add_working_days

from . import permissions, selectors, services
from .models import SuggestionCategory, SuggestionStatus, WorkProposalStatus
from .throttle import lookup_rate_hit, submit_rate_hit

SEARCH_LIMIT = 20
SESSION_CODES = "suggestions.submitted_codes"
SESSION_CODES_KEPT = 10
STAFF_ROLES = (Role.PLANNER, Role.DISTRICT_OFFICER, Role.CITY_ADMIN, Role.AUDITOR)


# --- public -------------------------------------------------------------------------------------------------


@require_GET
def public_search(request):
    """找到我的街道乡镇 → 提意见建议."""
    cities = list(City.objects.filter(is_active=True).order_by("sort_order", "code"))
    city_code = request.GET.get("city", "").strip()
    city = next((c for c in cities if c.code == city_code), None)
    query = " ".join(str(request.GET.get("q", "")).split())[:50]
    found = subdistrict_search(q=query, city=city, limit=SEARCH_LIMIT + 1) if query else []
    return render(request, "suggestions/public_search.html", {
        "cities": cities, "selected_city": city, "query": query, "searched": "q" in request.GET,
        "results": found[:SEARCH_LIMIT], "has_more": len(found) > SEARCH_LIMIT,
    })


def _street(unit, code):
    """The current subdistrict of the unit with this code, or None."""
    for membership in unit.active_memberships:
        if membership.subdistrict.code == code:
            return membership.subdistrict
    return None


@require_GET
def public_unit(request, unit_id):
    """The unit's public suggestions and replies; an anonymous visitor's page is kept in the shared cache
    until an act changes what the unit's city shows (a reply published: rpms.publicinfo.pagecache)."""
    from rpms.publicinfo import pagecache

    page = _page_number(request)
    street_code = request.GET.get("street", "")

    def build():
        unit = selectors.public_unit_get(unit_id)
        items, total = selectors.public_unit_suggestions(unit, page=page)
        pages = max(1, -(-total // selectors.PUBLIC_PAGE_SIZE))
        return render(request, "suggestions/public_unit.html", {
            "unit": unit, "items": items, "total": total, "page": page, "pages": pages,
            "street": _street(unit, street_code),
        })

    city_id = pagecache.unit_city_id(unit_id) if str(unit_id).isdigit() else None
    if city_id is None:
        return build()  # unknown: 404
    return pagecache.cached_page(request, scopes=pagecache.city_scopes([city_id]),
                                 key=f"suggestions:{unit_id}:{page}:{street_code if street_code.isdigit() else ''}", render=build)


def _page_number(request) -> int:
    """As Django's Paginator.get_page: anything but a page number (1 to PAGE_MAX) → the first page."""
    try:
        return page_number(request.GET.get("page"))
    except DomainError:
        return 1


FORM_KEYS = ("category", "content", "contact_name", "contact_phone")


@require_http_methods(["GET", "POST"])
def public_submit(request, unit_id):
    unit = selectors.public_unit_get(unit_id)
    street = _street(unit, request.POST.get("street") or request.GET.get("street", ""))
    context = {
        "unit": unit, "street": street, "categories": SuggestionCategory.choices,
        "max_photos": services.max_photos(), "max_photo_mb": services.max_photo_bytes() // (1024 * 1024),
        "form": {"category": SuggestionCategory.SUGGESTION},
    }
    if request.method == "GET":
        return render(request, "suggestions/public_submit.html", context)
    form = {key: request.POST.get(key, "") for key in FORM_KEYS}

    def send():
        submit_rate_hit(request)
        return services.suggestion_submit(
            actor=request.user if request.user.is_authenticated else None, unit=unit, subdistrict=street,
            category=form["category"], content=form["content"], contact_name=form["contact_name"],
            contact_phone=form["contact_phone"], photos=request.FILES.getlist("photos"),
        )

    sent = attempt(request, send)
    if not sent.accepted:
        context.update(form=form, error=sent.error)
        return render(request, "suggestions/public_submit.html", context, status=sent.status)
    suggestion = sent.result
    codes = [suggestion.tracking_code] + [c for c in request.session.get(SESSION_CODES, []) if c != suggestion.tracking_code]
    request.session[SESSION_CODES] = codes[:SESSION_CODES_KEPT]
    return redirect("suggestions:thanks")


@require_GET
def thanks(request):
    """The code of the last suggestion sent from this browser (kept in its session), so that reloading the
    page shows it again and no code appears in an address."""
    codes = request.session.get(SESSION_CODES) or []
    if not codes:
        return redirect("suggestions:public")
    suggestion = selectors.public_suggestion_by_code(codes[0])
    return render(request, "suggestions/thanks.html", {"suggestion": suggestion, "code": codes[0]})


@require_GET
def track(request):
    raw = request.GET.get("code", "")
    context = {"code": services.normalise_tracking_code(raw)}
    if context["code"]:
        def look_up():
            lookup_rate_hit(request)
            return selectors.public_suggestion_by_code(context["code"])

        found = attempt(request, look_up, propagate=())  # an unknown code (404) is told on the page
        if not found.accepted:
            context["error"] = found.error
            return render(request, "suggestions/track.html", context, status=found.status)
        context["suggestion"] = found.result
    return render(request, "suggestions/track.html", context)


# --- staff: the inbox and a suggestion's page -----------------------------------------------------------------


def _require_staff(user):
    if not (user.is_superuser or user.role in STAFF_ROLES):
        raise Forbidden("您的角色无权查看居民意见建议。")


def _flag(request, name):
    value = request.GET.get(name, "")
    return True if value == "1" else False if value == "0" else None


def _filtered_list(request):
    return selectors.suggestion_list(
        user=request.user, status=request.GET.get("status", ""), overdue=_flag(request, "overdue"),
        hidden=_flag(request, "hidden"), vacant=_flag(request, "vacant"), pending=_flag(request, "pending"),
        unit_id=int_or_none(request.GET.get("unit")), q=request.GET.get("q", ""),
        awaiting_release=_flag(request, "awaiting_release"),
    )


@login_required
@require_GET
def manage_list(request):
    _require_staff(request.user)
    # Counted up to COUNT_CAP (a city's 200 k suggestions are never counted whole; issue #15).
    page = CappedPaginator(_filtered_list(request), selectors.STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.attach_staff_counts(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "suggestions/manage_list.html", {
        "page": page, "statuses": SuggestionStatus.choices, "filters": request.GET, "query": query.urlencode(),
        "units": selectors.planner_units(request.user), "is_planner": request.user.role == Role.PLANNER,
    })


EXPORT_HEADERS = ["查询码", "城市", "区", "责任单元", "类别", "内容", "受理日期", "答复期限", "状态", "是否超期",
                  "单元空缺", "已隐藏", "隐藏原因", "转交部门", "首次答复时间", "办结时间"]


@login_required
@require_GET
def manage_export(request):
    """The filtered list as .xlsx (no contact details: the export leaves the system)."""
    _require_staff(request.user)
    audit_export(actor=request.user, what="居民意见建议", object_type="suggestions.suggestion",
                 filters=request.GET.dict())  # residents' own words
    rows = (
        [s.tracking_code, s.city.name, s.district.name, s.unit.name, s.get_category_display(), s.content,
         s.received_on, s.due_on, s.get_status_display(), s.overdue, s.unit_vacant, s.hidden_at is not None,
         s.hidden_reason, s.department.name if s.department else "", s.replied_at, s.closed_at]
        for s in _filtered_list(request).iterator(chunk_size=500)
    )
    return workbook_response(f"居民意见建议_{clock.today():%Y%m%d}", "意见建议", EXPORT_HEADERS, rows)


def _detail_context(request, suggestion, **extra):
    user = request.user
    today = clock.today()
    handler = permissions.can_handle(user, suggestion, on=today)
    deadline = add_working_days(suggestion.received_on, suggestion.response_working_days)
    phone = suggestion.contact_phone
    context = {
        "s": suggestion,
        "deadline": deadline,
        "can_handle": handler,
        "can_moderate": permissions.can_moderate(user, suggestion),
        "can_release": suggestion.awaiting_release and permissions.can_release(user, suggestion),
        "contact_phone": phone if handler else mask_mobile(phone),
        "departments": selectors.forward_departments(suggestion) if handler and suggestion.forwarded_at is None else [],
        "today": today,
        "form": {},
    }
    context.update(extra)
    return context


@login_required
@require_GET
def manage_detail(request, pk):
    _require_staff(request.user)
    suggestion = selectors.suggestion_get(user=request.user, pk=pk)
    return render(request, "suggestions/manage_detail.html", _detail_context(request, suggestion))


def _act(request, pk, action, success):
    """Runs one act from the suggestion's page; a refusal is shown on the page with its status."""
    _require_staff(request.user)
    suggestion = selectors.suggestion_get(user=request.user, pk=pk)

    def _refused(exc):
        context = _detail_context(request, selectors.suggestion_get(user=request.user, pk=pk), error=exc.message,
                                  form=request.POST)
        return render(request, "suggestions/manage_detail.html", context, status=exc.status)

    return act(
        request,
        lambda: action(suggestion),
        success=success,
        redirect_to=resolve_url("suggestions:manage_detail", pk=pk),
        on_refusal=_refused,
    )


def _department(suggestion, value):
    pk = int_or_none(value)
    department = next((d for d in selectors.forward_departments(suggestion) if d.pk == pk), None)
    if department is None:
        raise DomainError("请选择要转交的部门。", code="invalid_department")
    return department


@login_required
@require_POST
def manage_reply(request, pk):
    """A public reply asks for confirmation on a page saying what will follow (issue #17 item 5); a reply too
    short to send is refused at once."""
    _require_staff(request.user)
    suggestion = selectors.suggestion_get(user=request.user, pk=pk)
    text = request.POST.get("text", "").strip()
    if len(text) >= 4 and not suggestion.is_closed and not suggestion.is_hidden:
        where = ("经审核放行后在公开页面显示" if suggestion.awaiting_release
                 else f"即在“{suggestion.unit.name}”的公开页面显示，提出人可凭查询码 {suggestion.tracking_code} 查看")
        waiting = confirm_first(
            request, title=f"公开答复意见建议 {suggestion.tracking_code}", back_to=resolve_url("suggestions:manage_detail", pk=pk),
            button="确认公开答复",
            consequences=[
                f"答复{where}（{policy_article(suggestion.city, 'suggestion_reply')}），署名为您的身份；答复公开后不能修改或撤回。",
                "该意见建议的状态改为“已答复”；首次公开答复的时间用于判断是否按时答复。",
            ],
            summary=[("答复内容", text)],
        )
        if waiting is not None:
            return waiting
    return _act(request, pk, lambda s: services.suggestion_reply(actor=request.user, suggestion=s, text=request.POST.get("text", "")),
                "答复已公开。")


@login_required
@require_POST
def manage_forward(request, pk):
    return _act(request, pk, lambda s: services.suggestion_forward(
        actor=request.user, suggestion=s, department=_department(s, request.POST.get("department")),
        note=request.POST.get("note", "")), "已转交相关部门。")


@login_required
@require_POST
def manage_department_answer(request, pk):
    return _act(request, pk, lambda s: services.suggestion_department_answer_record(
        actor=request.user, suggestion=s, text=request.POST.get("answer", ""),
        answered_on=date_value(request.POST.get("answered_on"))), "部门答复已登记。")


@login_required
@require_POST
def manage_close(request, pk):
    return _act(request, pk, lambda s: services.suggestion_close(actor=request.user, suggestion=s,
                                                                  note=request.POST.get("note", "")), "已办结。")


@login_required
@require_POST
def manage_hide(request, pk):
    return _act(request, pk, lambda s: services.suggestion_hide(actor=request.user, suggestion=s,
                                                                 reason=request.POST.get("reason", "")),
                "已隐藏：公开页面不再显示该意见建议，记录仍完整保留。")


@login_required
@require_POST
def manage_unhide(request, pk):
    return _act(request, pk, lambda s: services.suggestion_unhide(actor=request.user, suggestion=s,
                                                                   reason=request.POST.get("reason", "")),
                "已恢复公开显示。")


@login_required
@require_POST
def manage_release(request, pk):
    return _act(request, pk, lambda s: services.suggestion_release(actor=request.user, suggestion=s),
                "已审核放行：该意见建议及其答复现在公开显示。")


@login_required
@require_GET
def manage_photo(request, pk, photo_id):
    """A resident's photo, for the staff who may read the suggestion (anyone else: 404)."""
    _require_staff(request.user)
    suggestion = selectors.suggestion_get(user=request.user, pk=pk)
    photo = next((p for p in suggestion.photos.all() if p.pk == photo_id), None)
    if photo is None:
        raise NotFound("图片不存在或您无权查看。")
    return proof_response(photo.path, download_name=photo.original_name, reader=request.user, obj=photo)


# --- work proposals -----------------------------------------------------------------------------------------


@login_required
@require_GET
def proposal_list(request):
    status = request.GET.get("status", "")
    page = Paginator(selectors.work_proposal_list(user=request.user, status=status), selectors.STAFF_PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "suggestions/proposal_list.html", {
        "page": page, "status": status, "statuses": WorkProposalStatus.choices,
        "units": selectors.planner_units(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def proposal_new(request):
    if request.user.role != Role.PLANNER and not request.user.is_superuser:
        raise Forbidden("只有责任规划师可以提出工作建议。")
    units = selectors.planner_units(request.user)
    unit_id = int_or_none(request.POST.get("unit") or request.GET.get("unit"))
    unit = next((u for u in units if u.pk == unit_id), None)
    if unit is None and len(units) == 1:
        unit = units[0]
    context = {"units": units, "unit": unit, "form": {}, "selected": set()}
    if unit is not None:
        context["candidates"] = selectors.suggestions_for_proposal(user=request.user, unit=unit)
    if request.method == "GET":
        context["selected"] = {str(v) for v in request.GET.getlist("suggestion")}
        return render(request, "suggestions/proposal_new.html", context)
    if unit is None:
        raise NotFound("责任单元不存在或您不在该单元服务。")
    form = {key: request.POST.get(key, "") for key in ("title", "analysis", "recommendation")}
    chosen = request.POST.getlist("suggestion")

    def _refused(exc):
        context.update(form=form, selected=set(chosen), error=exc.message)
        return render(request, "suggestions/proposal_new.html", context, status=exc.status)

    return act(
        request,
        lambda: services.work_proposal_submit(actor=request.user, unit=unit, suggestions=chosen, **form),
        success="工作建议已提交聘任主体。",
        redirect_to=lambda proposal: resolve_url("suggestions:proposal_detail", pk=proposal.pk),
        on_refusal=_refused,
    )


@login_required
@require_GET
def proposal_detail(request, pk):
    proposal = selectors.work_proposal_get(user=request.user, pk=pk)
    return render(request, "suggestions/proposal_detail.html", {
        "proposal": proposal, "can_acknowledge": proposal.status == WorkProposalStatus.SUBMITTED and (
            request.user.is_superuser or permissions.is_unit_entity(request.user, proposal.unit)),
    })


@login_required
@require_POST
def proposal_acknowledge(request, pk):
    proposal = selectors.work_proposal_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.work_proposal_acknowledge(actor=request.user, proposal=proposal, note=request.POST.get("note", "")),
        success="已签收工作建议。",
        redirect_to=reverse("suggestions:proposal_detail", args=[pk]),
        on_refusal=lambda exc: render(request, "suggestions/proposal_detail.html", {
            "proposal": selectors.work_proposal_get(user=request.user, pk=pk), "error": exc.message,
            "can_acknowledge": True,
        }, status=exc.status),
    )
