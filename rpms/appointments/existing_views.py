"""Pages for running contracts entered with their history (under /appointments/existing/): one contract
at a time (a form), or many from the Excel template — download, upload, the errors per row and column
(and their Excel download), 全部导入 / 只导入无误的行, the import in steps with a progress bar (a background
job where jobs are queued, in production; the page's script stepping it otherwise and as the fallback).

The city administrator; in a local-selection city also the district officer (their districts' units,
their own imports). Another city's import → 404, other roles → 403."""
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.cities.models import City
from rpms.cities.selectors import policy_article
from rpms.core.audit import audit_export
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.excel import XLSX_CONTENT_TYPE, workbook_response
from rpms.core.jobs import job_latest_for, jobs_inline
from rpms.core.models import ImportStatus
from rpms.core.spreadsheet import ERROR_HEADERS, ERRORS_SHOWN, import_step_response
from rpms.core.params import is_digits
from rpms.geography.models import ResponsibilityUnit
from rpms.registry.models import Planner, PoolStatus

from . import existing
from . import existing_import as bulk


def _refusal(exc: DomainError) -> bool:
    return not isinstance(exc, (NotFound, Forbidden))


def _city_query(request, city) -> str:
    return "" if request.user.city_id else f"?city={city.code}"


# --- one contract ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def existing_new(request):
    user = request.user
    city = bulk.importer_city(user, request.GET.get("city") or request.POST.get("city"))
    units = ResponsibilityUnit.objects.filter(city=city, dissolved_at__isnull=True).select_related("district")
    if not (user.is_superuser or user.role == Role.CITY_ADMIN):
        units = units.filter(district__in=user.districts.values("pk"))
    units = list(units.order_by("district__sort_order", "district__code", "name"))
    planners = list(Planner.objects.filter(city=city, pool_status=PoolStatus.ACTIVE).order_by("name", "id"))
    fields = ("unit", "planner", "role", "start", "terms", "contract_number", "signed_on", "fee_yuan", "fee_note",
              "service_focus", "note")
    form = {name: request.GET.get(name, "") for name in fields}
    error, error_field, status = "", "", 200
    if request.method == "POST":
        form = {name: request.POST.get(name, "").strip() for name in fields}
        try:
            if not is_digits(form["unit"]) or not is_digits(form["planner"]):
                raise DomainError("请选择责任单元和责任规划师。", code="missing_field")
            appointment = existing.appointment_existing_enter(
                actor=user, planner=int(form["planner"]), unit=int(form["unit"]), role=form["role"], start=form["start"],
                terms=form["terms"] or None, contract_number=form["contract_number"], signed_on=form["signed_on"],
                fee_yuan=form["fee_yuan"], fee_note=form["fee_note"], service_focus=form["service_focus"],
                note=form["note"],
            )
        except DomainError as exc:
            if not _refusal(exc):
                raise
            error, status = exc.message, exc.status
            error_field = (exc.details or {}).get("field", "") if isinstance(exc.details, dict) else ""
        else:
            messages.success(request, "已补录既有聘任，并出具当前聘期的聘任证书和聘用合同（纸质原件的系统记录）。")
            return redirect("appointments:detail", appointment.pk)
    return render(request, "appointments/existing_new.html", {
        "city": city, "units": units, "planners": planners, "roles": city.policy.roles, "form": form,
        "error": error, "error_field": error_field, "term_rule": bulk.term_rule_text(city),
        "cities": _cities(user), "city_query": _city_query(request, city),
    }, status=status)


def _cities(user) -> list[City]:
    return [] if user.city_id else list(City.objects.filter(is_active=True).order_by("sort_order", "code"))


# --- the import --------------------------------------------------------------------------------------------


def _upload_context(request, city, **extra) -> dict:
    context = {
        "city": city,
        "article": policy_article(city, bulk.STEP),
        "columns": bulk.COLUMNS,
        "term_rule": bulk.term_rule_text(city),
        "max_rows": bulk.MAX_ROWS,
        "max_mb": bulk.MAX_FILE_BYTES // (1024 * 1024),
        "imports": bulk.existing_imports_recent(user=request.user, city=city),
        "cities": _cities(request.user),
        "city_query": _city_query(request, city),
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    city = bulk.importer_city(request.user, request.GET.get("city") or request.POST.get("city"))
    if request.method == "GET":
        return render(request, "appointments/existing_import_upload.html", _upload_context(request, city))
    uploaded = request.FILES.get("file")
    try:
        if uploaded is None:
            raise DomainError("请选择要上传的既有聘任表（.xlsx）。", code="import_file_missing")
        spreadsheet_import = bulk.existing_import_upload(actor=request.user, city=city, uploaded_file=uploaded)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        return render(request, "appointments/existing_import_upload.html",
                      _upload_context(request, city, error=exc.message), status=exc.status)
    if spreadsheet_import.error_rows:
        messages.warning(request, f"已校验：{spreadsheet_import.error_rows} 行有错误，请查看下方清单。")
    else:
        messages.success(request, f"已校验：{spreadsheet_import.valid_rows} 行全部无误，可以导入。")
    return redirect("appointments:existing_import_report", pk=spreadsheet_import.pk)


@login_required
@require_GET
def import_template(request):
    city = bulk.importer_city(request.user, request.GET.get("city"))
    filename = f"{city.name}既有聘任导入模板.xlsx"
    response = HttpResponse(bulk.existing_template_bytes(city), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename=\"existing-appointments-template.xlsx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


def _report_context(request, spreadsheet_import, **extra) -> dict:
    errors = spreadsheet_import.errors
    city = spreadsheet_import.city
    job = job_latest_for(spreadsheet_import)
    context = {
        "imp": spreadsheet_import,
        "city": city,
        "article": policy_article(city, bulk.STEP),
        "errors": errors[:ERRORS_SHOWN],
        "errors_hidden": max(0, len(errors) - ERRORS_SHOWN),
        "skipped": spreadsheet_import.skipped[:ERRORS_SHOWN],
        "importing": spreadsheet_import.status == ImportStatus.IMPORTING,
        "done": spreadsheet_import.status == ImportStatus.DONE,
        "job": job,
        "job_running": job is not None and not job.is_finished,
        "city_query": _city_query(request, city),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def import_report(request, pk):
    spreadsheet_import = bulk.existing_import_get(user=request.user, import_id=pk)
    return render(request, "appointments/existing_import_report.html", _report_context(request, spreadsheet_import))


@login_required
@require_GET
def import_errors(request, pk):
    spreadsheet_import = bulk.existing_import_get(user=request.user, import_id=pk)
    audit_export(actor=request.user, what=f"既有聘任导入{spreadsheet_import.pk}错误清单", object_type="",
                 obj=spreadsheet_import)  # the rows as typed in the upload: names with identity and mobile numbers
    return workbook_response(f"既有聘任导入{spreadsheet_import.pk}错误清单", "错误清单", ERROR_HEADERS,
                             bulk.existing_errors_rows(spreadsheet_import), widths=[8, 18, 90, 12])


@login_required
@require_POST
def import_start(request, pk):
    spreadsheet_import = bulk.existing_import_get(user=request.user, import_id=pk)
    mode = request.POST.get("mode", "")
    try:
        if mode not in ("all", "valid"):
            raise DomainError("请选择“全部导入”或“只导入无误的行”。", code="invalid_mode")
        spreadsheet_import = bulk.existing_import_start(actor=request.user, spreadsheet_import=spreadsheet_import,
                                                        only_valid=mode == "valid")
        if not jobs_inline():
            bulk.existing_import_enqueue(actor=request.user, spreadsheet_import=spreadsheet_import)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        spreadsheet_import = bulk.existing_import_get(user=request.user, import_id=pk)
        return render(request, "appointments/existing_import_report.html",
                      _report_context(request, spreadsheet_import, error=exc.message), status=exc.status)
    return redirect("appointments:existing_import_report", pk=pk)


@login_required
@require_POST
def import_step(request, pk):
    def step():
        spreadsheet_import = bulk.existing_import_get(user=request.user, import_id=pk)
        return bulk.existing_import_step(actor=request.user, spreadsheet_import=spreadsheet_import)

    return import_step_response(request, step=step, progress=bulk.existing_import_progress,
                                report_url=reverse("appointments:existing_import_report", args=[pk]),
                                done_message=lambda imp: f"导入完成：已补录 {imp.imported_rows} 项既有聘任。")


@login_required
@require_GET
def import_progress(request, pk):
    spreadsheet_import = bulk.existing_import_get(user=request.user, import_id=pk)
    return JsonResponse(bulk.existing_import_progress(spreadsheet_import), json_dumps_params={"ensure_ascii": False})
