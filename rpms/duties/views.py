"""Duties pages.

Planner: its units today (each unit page shows the city's duty categories and the unit's zone-type
focus checklist, B13, with the record form), its records, calendar and summaries, data requests,
extra work and monitoring feedback. Hiring entity: records to confirm or query, data requests to
answer, work certificates to issue. District officer: the same for its districts, the units'
summaries, and feedback to answer. City administrators and auditors read."""
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.core import clock
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.inputs import int_or_none
from rpms.core.web import act, attempt, is_refusal, render_refusal

from . import selectors, services
from .models import (
    Addressee,
    DataRequestStatus,
    DutyStatus,
    ExtraWorkKind,
    ExtraWorkStatus,
    FeedbackSource,
    FeedbackStatus,
)
from .permissions import (
    can_answer_data_request,
    can_answer_feedback,
    can_confirm_duty,
    can_download_confidential,
    can_manage_extra_work,
    entity_unit_ids,
    is_record_planner,
    planner_of,
)

READ_ROLES = (Role.PLANNER, Role.HIRING_ENTITY, Role.DISTRICT_OFFICER, Role.CITY_ADMIN, Role.AUDITOR)
RECORD_FIELDS = ("category", "date", "hours", "place", "participants", "description")


def _require(user, *roles):
    if user.is_superuser or user.role in roles:
        return
    raise Forbidden("您的角色无权访问此页面。")


def _city(user):
    planner = planner_of(user)
    return planner.city if planner is not None else user.city


def _departments(city, district=None):
    from django.db.models import Q

    from rpms.geography.models import Department

    if city is None:
        return []
    departments = Department.objects.filter(city=city, is_active=True)
    if district is not None:
        departments = departments.filter(Q(district__isnull=True) | Q(district=district))
    return list(departments.select_related("district").order_by("district__sort_order", "name"))


# --- home and the planner's unit page ---------------------------------------------------------------


@login_required
@require_GET
def home(request):
    user = request.user
    _require(user, *READ_ROLES)
    context = {"is_planner": user.role == Role.PLANNER, "today": clock.today()}
    if user.role == Role.PLANNER:
        context["appointments"] = selectors.planner_units(user)
        context["queried"] = selectors.duty_record_list(user=user, status=DutyStatus.QUERIED, limit=20)
        context["recent"] = selectors.duty_record_list(user=user, limit=10)
    else:
        context["awaiting"] = list(
            selectors.awaiting_confirmation(user).select_related("unit", "planner", "city__policy").order_by("date", "id")[:20]
        )
        context["requests"] = list(
            selectors.awaiting_data_answer(user).select_related("unit", "planner", "department").order_by("submitted_at")[:20]
        )
        context["feedback"] = list(
            selectors.awaiting_feedback_answer(user).select_related("unit", "planner").order_by("submitted_at")[:20]
        )
    return render(request, "duties/home.html", context)


def _unit_context(unit, appointment, form=None, **extra):
    policy = unit.city.policy
    context = {
        "unit": unit,
        "appointment": appointment,
        "categories": policy.duty_categories,
        "zone_types": services.unit_focus_options(unit),
        "form": form or {"date": clock.today().isoformat(), "focus": []},
        "today": clock.today(),
        "max_files": services.MAX_EVIDENCE_PER_RECORD,
    }
    context.update(extra)
    return context


def _record_form(post) -> dict:
    data = {key: post.get(key, "") for key in RECORD_FIELDS}
    data["focus"] = post.getlist("focus")
    return data


@login_required
@require_http_methods(["GET", "POST"])
def unit_page(request, pk):
    """The planner's page for a unit it serves: categories, the zone-type focus checklist, the record form
    and the unit's recent records."""
    _require(request.user, Role.PLANNER)
    unit, appointment = selectors.unit_for_planner(user=request.user, pk=pk)
    recent = selectors.duty_record_list(user=request.user, unit_id=unit.pk, limit=20)
    if request.method == "GET":
        return render(request, "duties/unit.html", _unit_context(unit, appointment, recent=recent))
    form = _record_form(request.POST)
    return act(
        request,
        lambda: services.duty_record_create(
            actor=request.user, unit=unit, evidence=request.FILES.getlist("evidence"),
            evidence_labels=request.POST.getlist("evidence_label"), **form,
        ),
        success="履职记录已保存，等待聘任主体确认。",
        redirect_to=lambda record: resolve_url("duties:record_detail", pk=record.pk),
        # the page already checked the planner serves the unit: a date outside its service (403) is a refusal of
        # what was typed, shown next to the form with everything kept (issue #17 item 4)
        forbidden_too=True,
        on_refusal=lambda exc: render(request, "duties/unit.html",
                      _unit_context(unit, appointment, form=form, recent=recent, error=exc.message), status=exc.status),
    )


# --- duty records -----------------------------------------------------------------------------------


def _record_filters(request):
    today = clock.today()
    return {
        "status": request.GET.get("status", "") if request.GET.get("status", "") in DutyStatus.values else "",
        "unit": int_or_none(request.GET.get("unit")),
        "planner": int_or_none(request.GET.get("planner")),
        "year": int_or_none(request.GET.get("year")),
        "month": int_or_none(request.GET.get("month")),
        "day": _day_param(request.GET.get("day")),
        "today": today,
    }


def _day_param(value):
    """?day=YYYY-MM-DD (the calendar's link to a day's records); anything else → no day filter."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def record_list(request):
    _require(request.user, *READ_ROLES)
    f = _record_filters(request)
    filters = {"status": f["status"], "unit_id": f["unit"], "planner_id": f["planner"], "year": f["year"],
               "month": f["month"] if f["year"] else None, "start": f["day"], "end": f["day"]}
    if request.GET.get("format") == "xlsx":
        from rpms.core.excel import workbook_response

        # Everything filtered, read by keyset in chunks of 1,000 rows into a write-only workbook.
        rows = ([r.date, r.unit.district.name, r.unit.name, r.planner.name, r.category_label(r.city.policy), r.hours,
                 r.place, r.participants, r.description, "、".join(r.focus or []), r.get_status_display(),
                 r.confirmed_at, r.evidence_count] for r in selectors.duty_record_export_rows(user=request.user, **filters))
        return workbook_response(
            "履职记录", "履职记录",
            ["日期", "区", "责任单元", "责任规划师", "工作职责类别", "时长（小时）", "地点", "参与人员", "工作内容",
             "服务的工作重点", "状态", "确认时间", "佐证材料数"], rows)
    page = selectors.duty_record_page(user=request.user, page=request.GET.get("page"), **filters)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(request, "duties/record_list.html", {
        "records": page.object_list, "page_obj": page, "filters": f, "statuses": DutyStatus.choices,
        "query_string": query.urlencode(),
    })


def _record_context(request, record, **extra):
    user = request.user
    context = {
        "record": record,
        "category_label": record.category_label(record.city.policy),
        "is_author": is_record_planner(user, record),
        "can_confirm": can_confirm_duty(user, record) and record.status == DutyStatus.SUBMITTED,
        "can_answer": is_record_planner(user, record) and record.status == DutyStatus.QUERIED,
        "can_edit": is_record_planner(user, record) and not record.is_locked,
    }
    context.update(extra)
    return context


@login_required
@require_GET
def record_detail(request, pk):
    _require(request.user, *READ_ROLES)
    record = selectors.duty_record_get(user=request.user, pk=pk)
    return render(request, "duties/record_detail.html", _record_context(request, record))


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request, pk):
    _require(request.user, Role.PLANNER)
    record = selectors.duty_record_get(user=request.user, pk=pk)
    if not is_record_planner(request.user, record):
        raise Forbidden("只有记录该履职的责任规划师本人可以修改。")
    if record.is_locked:
        messages.error(request, "该履职记录已由聘任主体确认，已锁定，不能修改。")
        return redirect("duties:record_detail", pk=pk)
    options = services.unit_focus_options(record.unit)
    if request.method == "GET":
        form = {"category": record.category, "date": record.date.isoformat(), "hours": record.hours, "place": record.place,
                "participants": record.participants, "description": record.description, "focus": record.focus}
        return render(request, "duties/record_edit.html", {"record": record, "form": form, "zone_types": options,
                                                           "categories": record.city.policy.duty_categories,
                                                           "today": clock.today()})
    form = _record_form(request.POST)
    return act(
        request,
        lambda: services.duty_record_update(actor=request.user, record=record, **form),
        success="履职记录已修改。",
        redirect_to=resolve_url("duties:record_detail", pk=pk),
        forbidden_too=True,  # the author was checked above: a date outside the service is a refusal to show
        on_refusal=lambda exc: render(request, "duties/record_edit.html", {
            "record": record, "form": form, "zone_types": options, "categories": record.city.policy.duty_categories,
            "error": exc.message, "today": clock.today()}, status=exc.status),
    )


def _act(request, pk, action, success: str, redirect_to=None):
    """Runs a POST act on a record; a refusal becomes a message on the detail page."""
    record = selectors.duty_record_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: action(record),
        success=success,
        redirect_to=redirect_to or reverse("duties:record_detail", kwargs={"pk": pk}),
    )


@login_required
@require_POST
def record_delete(request, pk):
    record = selectors.duty_record_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.duty_record_delete(actor=request.user, record=record),
        success="履职记录已删除。",
        redirect_to="duties:record_list",
        refused_to=resolve_url("duties:record_detail", pk=pk),
    )


@login_required
@require_POST
def record_confirm(request, pk):
    return _act(request, pk, lambda r: services.duty_record_confirm(actor=request.user, record=r),
                "已确认该履职记录，记录已锁定。")


@login_required
@require_POST
def record_query(request, pk):
    return _act(request, pk, lambda r: services.duty_record_query(actor=request.user, record=r,
                                                                  question=request.POST.get("question", "")),
                "疑问已发送给责任规划师。")


@login_required
@require_POST
def record_answer(request, pk):
    def act(record):
        changes = {}
        if request.POST.get("correct") == "on":
            changes = _record_form(request.POST)
        services.duty_record_answer(actor=request.user, record=record, answer=request.POST.get("answer", ""),
                                    changes=changes or None)

    return _act(request, pk, act, "已答复并重新提交，等待确认。")


@login_required
@require_POST
def evidence_add(request, pk):
    files = request.FILES.getlist("evidence")

    def act(record):
        if not files:
            raise DomainError("请选择要上传的文件。", code="file_required")
        with transaction.atomic():
            for upload in files:
                services.duty_evidence_add(actor=request.user, record=record, file=upload,
                                           label=request.POST.get("label", ""))

    return _act(request, pk, act, "佐证材料已上传。")


@login_required
@require_GET
def evidence_download(request, pk, eid):
    from rpms.core.uploads import proof_response

    record = selectors.duty_record_get(user=request.user, pk=pk)
    evidence = next((e for e in record.evidence.all() if e.pk == eid), None)
    if evidence is None:
        raise NotFound("文件不存在或您无权下载。")
    return proof_response(evidence.path, download_name=evidence.original_name, reader=request.user, obj=evidence)


@login_required
@require_POST
def evidence_remove(request, pk, eid):
    def act(record):
        evidence = next((e for e in record.evidence.all() if e.pk == eid), None)
        if evidence is None:
            raise NotFound("文件不存在。")
        services.duty_evidence_remove(actor=request.user, evidence=evidence)

    return _act(request, pk, act, "佐证材料已删除。")


# --- calendar and summaries ---------------------------------------------------------------------------


def _period(request):
    today = clock.today()
    year = int_or_none(request.GET.get("year")) or today.year
    month = int_or_none(request.GET.get("month"))
    if not 2000 <= year <= 2100:
        year = today.year
    if month is not None and not 1 <= month <= 12:
        month = None
    return year, month


@login_required
@require_GET
def calendar_page(request):
    _require(request.user, *READ_ROLES)
    year, month = _period(request)
    month = month or clock.today().month
    planner_id = int_or_none(request.GET.get("planner"))
    unit_id = int_or_none(request.GET.get("unit"))
    grid = selectors.duty_calendar(user=request.user, year=year, month=month, planner_id=planner_id, unit_id=unit_id)
    extra = "".join(f"&{k}={v}" for k, v in (("planner", planner_id), ("unit", unit_id)) if v)
    return render(request, "duties/calendar.html", {"grid": grid, "extra": extra,
                                                    "weekdays": ["一", "二", "三", "四", "五", "六", "日"]})


def _page_number(value, *, maximum: int = 10_000) -> int:
    """A page number from the query string: not a number or below 1 → 1, bounded by `maximum`."""
    number = int_or_none(value) or 1
    return max(1, min(number, maximum))


@login_required
@require_GET
def summary_page(request):
    """Monthly (with month) or yearly summary of hours by category; districts and the city also see each
    unit's row."""
    user = request.user
    _require(user, *READ_ROLES)
    year, month = _period(request)
    city = _city(user)
    planner_id = int_or_none(request.GET.get("planner"))
    unit_id = int_or_none(request.GET.get("unit"))
    summary = selectors.hours_summary(user=user, year=year, month=month, planner_id=planner_id, unit_id=unit_id, city=city)
    units = unit_page = None
    export = request.GET.get("format") == "xlsx"
    if user.role != Role.PLANNER:
        if export:  # every unit
            units = selectors.unit_hours_summary(user=user, year=year, month=month, city=city, limit=None)
        else:  # a page of UNIT_SUMMARY_PAGE units (those with records in the period); no count of them: the
            # page knows whether there is a next one (one unit more is read), the API gives units_total
            page_number = _page_number(request.GET.get("upage"))
            size = selectors.UNIT_SUMMARY_PAGE
            units = selectors.unit_hours_summary(user=user, year=year, month=month, city=city, limit=size,
                                                 offset=(page_number - 1) * size)
            query = request.GET.copy()
            query.pop("upage", None)
            unit_page = {"number": page_number, "query": query.urlencode(),
                         "previous": page_number - 1 if page_number > 1 else None,
                         "next": page_number + 1 if units["has_more"] else None}
    if export and units is not None:
        from rpms.core.excel import workbook_response

        headers = ["区", "责任单元", "责任规划师"] + [c["label"] for c in units["categories"]] + ["合计（小时）", "已确认（小时）", "记录数"]
        rows = ([r["district"], r["unit"], r["planner"], *r["by_category"], r["total_hours"], r["confirmed_hours"], r["records"]]
                for r in units["rows"])
        period = f"{year}年{month}月" if month else f"{year}年"
        return workbook_response(f"履职时长汇总-{period}", "履职时长汇总", headers, rows)
    return render(request, "duties/summary.html", {
        "summary": summary, "units": units, "unit_page": unit_page, "year": year, "month": month, "months": range(1, 13),
        "years": range(clock.today().year - 4, clock.today().year + 1),
    })


# --- data requests ------------------------------------------------------------------------------------


@login_required
@require_GET
def request_list(request):
    _require(request.user, *READ_ROLES)
    status = request.GET.get("status", "")
    status = status if status in DataRequestStatus.values else ""
    return render(request, "duties/request_list.html", {
        "requests": selectors.data_request_list(user=request.user, status=status), "status": status,
        "statuses": DataRequestStatus.choices, "is_planner": request.user.role == Role.PLANNER,
    })


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request):
    _require(request.user, Role.PLANNER)
    appointments = selectors.planner_units(request.user)
    city = _city(request.user)
    context = {"appointments": appointments, "departments": _departments(city), "addressees": Addressee.choices,
               "form": {"addressee": "entity", "unit": request.GET.get("unit", "")}}
    if request.method == "GET":
        return render(request, "duties/request_form.html", context)
    form = {key: request.POST.get(key, "") for key in ("unit", "addressee", "department", "title", "content", "purpose",
                                                       "needed_by")}
    context["form"] = form

    def _call():
        unit = selectors.unit_for_act(user=request.user, pk=int_or_none(form["unit"]) or 0)
        item = services.data_request_create(
            actor=request.user, unit=unit, addressee=form["addressee"], department=form["department"] or None,
            title=form["title"], content=form["content"], purpose=form["purpose"], needed_by=form["needed_by"] or None,
        )
        return item

    def _refused(exc):
        # Shown next to the form, including "you do not serve this unit on that day" (403).
        context["error"] = exc.message
        return render(request, "duties/request_form.html", context, status=exc.status)

    return act(
        request,
        _call,
        success="资料申请已提交。",
        redirect_to=lambda item: resolve_url("duties:request_detail", pk=item.pk),
        on_refusal=_refused,
        forbidden_too=True,
    )


def _request_context(request, item, **extra):
    user = request.user
    confidential_ok = can_download_confidential(user, item)
    materials = [{"m": m, "downloadable": m.is_public or confidential_ok} for m in item.materials.all()]
    context = {
        "item": item,
        "materials": materials,
        "can_answer": can_answer_data_request(user, item) and item.status == DataRequestStatus.SUBMITTED,
        "can_supplement": can_answer_data_request(user, item) and item.status == DataRequestStatus.DELIVERED,
        "downloads": selectors.download_log_list(user=user, request=item) if (confidential_ok or user.role in (
            Role.CITY_ADMIN, Role.AUDITOR)) else [],
        "material_rows": range(1, 6),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def request_detail(request, pk):
    _require(request.user, *READ_ROLES)
    item = selectors.data_request_get(user=request.user, pk=pk)
    return render(request, "duties/request_detail.html", _request_context(request, item))


@login_required
@require_POST
def request_deliver(request, pk):
    item = selectors.data_request_get(user=request.user, pk=pk)
    materials = []
    for i in range(1, 6):
        upload = request.FILES.get(f"file_{i}")
        if upload is not None:
            materials.append(services.MaterialUpload(file=upload, label=request.POST.get(f"label_{i}", ""),
                                                     is_public=request.POST.get(f"public_{i}") == "on"))
    return act(
        request,
        lambda: services.data_request_deliver(actor=request.user, request=item, materials=materials,
                                      note=request.POST.get("note", "")),
        success="资料已提供，申请人可以下载。",
        redirect_to=resolve_url("duties:request_detail", pk=pk),
        on_refusal=lambda exc: render(request, "duties/request_detail.html", _request_context(request, item, error=exc.message),
                      status=exc.status),
    )


@login_required
@require_POST
def request_refuse(request, pk):
    item = selectors.data_request_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.data_request_refuse(actor=request.user, request=item, reason=request.POST.get("reason", "")),
        success="已答复不予提供，并告知理由。",
        redirect_to=resolve_url("duties:request_detail", pk=pk),
        on_refusal=lambda exc: render(request, "duties/request_detail.html", _request_context(request, item, error=exc.message),
                      status=exc.status),
    )


@login_required
@require_POST
def material_add(request, pk):
    item = selectors.data_request_get(user=request.user, pk=pk)
    upload = request.FILES.get("file")

    def _call():
        if upload is None:
            raise DomainError("请选择要上传的文件。", code="file_required")
        services.data_material_add(actor=request.user, request=item, file=upload, label=request.POST.get("label", ""),
                                   is_public=request.POST.get("public") == "on")

    return act(
        request,
        _call,
        success="已补充资料。",
        redirect_to=resolve_url("duties:request_detail", pk=pk),
    )


@login_required
@require_GET
def material_download(request, pk, mid):
    """Every download is logged; a non-public material reaches only the planner, the entity and the district."""
    from rpms.core.uploads import proof_response

    material = selectors.data_material_get(user=request.user, request_pk=pk, material_pk=mid)
    services.data_material_download(actor=request.user, material=material)
    return proof_response(material.path, download_name=material.original_name, reader=request.user, obj=material,
                          audit=False)  # data_material_download wrote its audit row


# --- work certificates --------------------------------------------------------------------------------


@login_required
@require_GET
def certificate_list(request):
    _require(request.user, *READ_ROLES)
    return render(request, "duties/certificate_list.html", {
        "certificates": selectors.work_certificate_list(user=request.user),
        "can_issue": request.user.role == Role.HIRING_ENTITY,
    })


@login_required
@require_http_methods(["GET", "POST"])
def certificate_create(request):
    """The hiring entity chooses a planner and a period, previews the confirmed records, then issues."""
    _require(request.user, Role.HIRING_ENTITY)
    planners = selectors.certifiable_planners(request.user)
    today = clock.today()
    source = request.POST if request.method == "POST" else request.GET
    form = {"planner": source.get("planner", ""), "start": source.get("start", today.replace(month=1, day=1).isoformat()),
            "end": source.get("end", today.isoformat())}
    context = {"planners": planners, "form": form}
    planner = next((p for p in planners if p.pk == int_or_none(form["planner"])), None)
    if request.method == "GET" or planner is None:
        if request.method == "POST":
            context["error"] = "请选择责任规划师（仅列出在本单位责任单元有已确认履职记录的规划师）。"
        return render(request, "duties/certificate_form.html", context, status=400 if request.method == "POST" else 200)
    if request.POST.get("action") == "issue":
        return act(
            request,
            lambda: services.work_certificate_issue(actor=request.user, planner=planner, start=form["start"],
                                                    end=form["end"]),
            success=lambda certificate: f"工作证明已出具，文书编号 {certificate.document.number}。",
            redirect_to=lambda certificate: resolve_url("duties:certificate_detail", pk=certificate.pk),
            on_refusal=lambda exc: render_refusal(request, "duties/certificate_form.html", context, exc),
        )
    previewed = attempt(request, lambda: services.work_certificate_basis(actor=request.user, planner=planner,
                                                                         start=form["start"], end=form["end"]))
    if not previewed.accepted:
        return render_refusal(request, "duties/certificate_form.html", context, previewed.exc)
    context["preview"] = previewed.result
    context["planner"] = planner
    return render(request, "duties/certificate_form.html", context)


@login_required
@require_GET
def certificate_detail(request, pk):
    _require(request.user, *READ_ROLES)
    certificate = selectors.work_certificate_get(user=request.user, pk=pk)
    unit_ids = {u.pk for u in certificate.units.all()}
    can_revoke = (request.user.role == Role.HIRING_ENTITY and bool(unit_ids & entity_unit_ids(request.user))
                  and certificate.document.status == "valid")
    return render(request, "duties/certificate_detail.html", {"certificate": certificate, "can_revoke": can_revoke})


@login_required
@require_GET
def certificate_pdf(request, pk):
    from rpms.documents.rendering import document_pdf_response

    certificate = selectors.work_certificate_get(user=request.user, pk=pk)
    return document_pdf_response(certificate.document,
                                 filename=f"工作证明-{certificate.planner.name}-{certificate.document.number}.pdf")


@login_required
@require_POST
def certificate_revoke(request, pk):
    certificate = selectors.work_certificate_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.work_certificate_revoke(actor=request.user, certificate=certificate, reason=request.POST.get("reason", "")),
        success="工作证明已撤销，核验页将显示撤销原因。",
        redirect_to=resolve_url("duties:certificate_detail", pk=pk),
    )


# --- extra contracted work ----------------------------------------------------------------------------


EXTRA_FORM_FIELDS = ("kind", "title", "scope", "fee_yuan", "party_a", "contract_number", "contract_date", "start", "end")


@login_required
@require_GET
def extra_list(request):
    _require(request.user, *READ_ROLES)
    return render(request, "duties/extra_list.html", {
        "works": selectors.extra_work_list(user=request.user),
        "can_create": request.user.role in (Role.PLANNER, Role.HIRING_ENTITY, Role.DISTRICT_OFFICER),
    })


def _extra_form(post) -> dict:
    data = {key: post.get(key, "") for key in EXTRA_FORM_FIELDS}
    data["start"] = data["start"] or None
    data["end"] = data["end"] or None
    return data


@login_required
@require_http_methods(["GET", "POST"])
def extra_create(request):
    _require(request.user, Role.PLANNER, Role.HIRING_ENTITY, Role.DISTRICT_OFFICER)
    appointments = selectors.manageable_appointments(request.user)
    context = {"appointments": appointments, "kinds": ExtraWorkKind.choices,
               "form": {"appointment": request.GET.get("appointment", ""), "contract_date": clock.today().isoformat()}}
    if request.method == "GET":
        return render(request, "duties/extra_form.html", context)
    form = _extra_form(request.POST)
    form["appointment"] = request.POST.get("appointment", "")
    context["form"] = form

    def _call():
        appointment = selectors.appointment_for_extra_work(user=request.user, pk=int_or_none(form["appointment"]) or 0)
        work = services.extra_work_create(actor=request.user, appointment=appointment,
                                          **{k: form[k] for k in EXTRA_FORM_FIELDS})
        return work

    def _refused(exc):
        if isinstance(exc, NotFound):
            exc = DomainError("请选择派驻聘任。", code="appointment_required")
        if not is_refusal(exc) and not isinstance(exc, Forbidden):
            raise
        context["error"] = exc.message
        return render(request, "duties/extra_form.html", context, status=exc.status)

    return act(
        request,
        _call,
        success="另行签约的工作已登记。",
        redirect_to=lambda work: resolve_url("duties:extra_detail", pk=work.pk),
        on_refusal=_refused,
        forbidden_too=True,
    )


@login_required
@require_GET
def extra_detail(request, pk):
    _require(request.user, *READ_ROLES)
    work = selectors.extra_work_get(user=request.user, pk=pk)
    can_manage = can_manage_extra_work(request.user, work.appointment)
    transitions = [(s, ExtraWorkStatus(s).label) for s in ExtraWorkStatus.values if work.can_become(s)]
    return render(request, "duties/extra_detail.html", {"work": work, "can_manage": can_manage, "transitions": transitions,
                                                        "closed": not transitions})


@login_required
@require_http_methods(["GET", "POST"])
def extra_edit(request, pk):
    work = selectors.extra_work_get(user=request.user, pk=pk)
    if not can_manage_extra_work(request.user, work.appointment):
        raise Forbidden("只有该派驻的责任规划师、聘任主体或区级主管部门可以修改。")
    context = {"work": work, "kinds": ExtraWorkKind.choices, "edit": True}
    if request.method == "GET":
        context["form"] = {k: getattr(work, k) for k in EXTRA_FORM_FIELDS}
        for key in ("contract_date", "start", "end"):
            context["form"][key] = context["form"][key].isoformat() if context["form"][key] else ""
        return render(request, "duties/extra_form.html", context)
    form = _extra_form(request.POST)
    context["form"] = form

    def _refused(exc):
        context["error"] = exc.message
        return render(request, "duties/extra_form.html", context, status=exc.status)

    return act(
        request,
        lambda: services.extra_work_update(actor=request.user, work=work, **form),
        success="已保存。",
        redirect_to=resolve_url("duties:extra_detail", pk=pk),
        on_refusal=_refused,
    )


@login_required
@require_POST
def extra_status(request, pk):
    work = selectors.extra_work_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.extra_work_status_change(actor=request.user, work=work, status=request.POST.get("status", ""),
                                          note=request.POST.get("note", "")),
        success="状态已更新。",
        redirect_to=resolve_url("duties:extra_detail", pk=pk),
    )


# --- monitoring feedback ------------------------------------------------------------------------------


@login_required
@require_GET
def feedback_list(request):
    _require(request.user, *READ_ROLES)
    status = request.GET.get("status", "")
    status = status if status in FeedbackStatus.values else ""
    return render(request, "duties/feedback_list.html", {
        "items": selectors.monitoring_feedback_list(user=request.user, status=status), "status": status,
        "statuses": FeedbackStatus.choices, "is_planner": request.user.role == Role.PLANNER,
    })


@login_required
@require_http_methods(["GET", "POST"])
def feedback_create(request):
    _require(request.user, Role.PLANNER)
    appointments = selectors.planner_units(request.user)
    context = {"appointments": appointments, "departments": _departments(_city(request.user)),
               "sources": FeedbackSource.choices, "form": {"unit": request.GET.get("unit", ""), "source": "health_check"}}
    if request.method == "GET":
        return render(request, "duties/feedback_form.html", context)
    form = {key: request.POST.get(key, "") for key in ("unit", "source", "title", "description", "location", "suggestion",
                                                       "department")}
    context["form"] = form

    def _call():
        unit = selectors.unit_for_act(user=request.user, pk=int_or_none(form["unit"]) or 0)
        item = services.monitoring_feedback_file(
            actor=request.user, unit=unit, source=form["source"], title=form["title"], description=form["description"],
            location=form["location"], suggestion=form["suggestion"], department=form["department"] or None,
        )
        return item

    def _refused(exc):
        context["error"] = exc.message
        return render(request, "duties/feedback_form.html", context, status=exc.status)

    return act(
        request,
        _call,
        success="反馈已提交，区级主管部门答复后将在此显示。",
        redirect_to=lambda item: resolve_url("duties:feedback_detail", pk=item.pk),
        on_refusal=_refused,
        forbidden_too=True,
    )


@login_required
@require_GET
def feedback_detail(request, pk):
    _require(request.user, *READ_ROLES)
    item = selectors.monitoring_feedback_get(user=request.user, pk=pk)
    return render(request, "duties/feedback_detail.html", {
        "item": item, "can_answer": can_answer_feedback(request.user, item) and item.status == FeedbackStatus.SUBMITTED,
        "today": clock.today(),
    })


@login_required
@require_POST
def feedback_answer(request, pk):
    item = selectors.monitoring_feedback_get(user=request.user, pk=pk)
    return act(
        request,
        lambda: services.monitoring_feedback_answer(actor=request.user, feedback=item, answer=request.POST.get("answer", ""),
                                            answer_source=request.POST.get("answer_source", ""),
                                            answered_on=request.POST.get("answered_on") or None),
        success="答复已登记。",
        redirect_to=resolve_url("duties:feedback_detail", pk=pk),
        on_refusal=lambda exc: render(request, "duties/feedback_detail.html", {
            "item": item, "can_answer": True, "error": exc.message, "today": clock.today()}, status=exc.status),
    )

