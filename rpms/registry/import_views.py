"""Roster import pages (名册导入, under /pool/import/): the template download, the upload, the
validation report with its errors per row and column (and their Excel download), the choice between
"全部导入" and "只导入无误的行", and the import in steps with a progress bar. Where jobs are queued
(production) the steps run as a background job and the page follows its progress; without a worker
(development) a small local script POSTs to the step URL until done; without JS a "继续导入" button does
the same, and it is the fallback when the job fails. City administrators of the city only: another city's
import is 404, other roles 403."""
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
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.audit import audit_export
from rpms.core.excel import XLSX_CONTENT_TYPE, workbook_response
from rpms.core.jobs import job_latest_for, jobs_inline
from rpms.core.spreadsheet import import_step_response

from . import roster_import as roster
from .models import RosterImportStatus


def _refusal(exc: DomainError) -> bool:
    return not isinstance(exc, (NotFound, Forbidden))


def _import_city(request) -> City:
    user = request.user
    if not (user.is_superuser or user.role == Role.CITY_ADMIN):
        raise Forbidden("只有市级管理员可以导入名册。")
    if user.city_id:
        return user.city
    code = request.GET.get("city") or request.POST.get("city")
    cities = City.objects.filter(is_active=True).order_by("sort_order", "code")
    city = cities.filter(code=code).first() if code else cities.first()
    if city is None:
        raise NotFound("尚未配置任何城市。")
    return city


def _upload_context(request, city, **extra) -> dict:
    context = {
        "city": city,
        "article": policy_article(city, roster.STEP),
        "columns": roster.COLUMNS,
        "declarations": roster._declaration_rules(city.policy),
        "max_rows": roster.MAX_ROWS,
        "max_mb": roster.MAX_FILE_BYTES // (1024 * 1024),
        "imports": roster.roster_imports_recent(user=request.user, city=city),
        "cities": list(City.objects.filter(is_active=True)) if not request.user.city_id else [],
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    city = _import_city(request)
    roster._require_manager(request.user, city)
    if request.method == "GET":
        return render(request, "registry/import_upload.html", _upload_context(request, city))
    uploaded = request.FILES.get("file")
    try:
        if uploaded is None:
            raise DomainError("请选择要上传的名册文件（.xlsx）。", code="import_file_missing")
        roster_import = roster.roster_import_upload(actor=request.user, city=city, uploaded_file=uploaded)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        return render(request, "registry/import_upload.html", _upload_context(request, city, error=exc.message),
                      status=exc.status)
    if roster_import.error_rows:
        messages.warning(request, f"名册已校验：{roster_import.error_rows} 行有错误，请查看下方清单。")
    else:
        messages.success(request, f"名册已校验：{roster_import.valid_rows} 行全部无误，可以导入。")
    return redirect("registry:import_report", pk=roster_import.pk)


@login_required
@require_GET
def import_template(request):
    city = _import_city(request)
    roster._require_manager(request.user, city)
    filename = f"{city.name}责任规划师名册导入模板.xlsx"
    response = HttpResponse(roster.roster_template_bytes(city), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename=\"roster-template.xlsx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


def _report_context(roster_import, request_user=None, **extra) -> dict:
    errors = roster_import.errors
    job = job_latest_for(roster_import)
    context = {
        "imp": roster_import,
        "city": roster_import.city,
        "article": policy_article(roster_import.city, roster.STEP),
        "errors": errors[: roster.ERRORS_SHOWN],
        "errors_hidden": max(0, len(errors) - roster.ERRORS_SHOWN),
        "skipped": roster_import.skipped[: roster.ERRORS_SHOWN],
        "importing": roster_import.status == RosterImportStatus.IMPORTING,
        "done": roster_import.status == RosterImportStatus.DONE,
        "job": job,
        "job_running": job is not None and not job.is_finished,
        # Administrators not tied to a city name it in links (?city=code).
        "city_query": "" if getattr(request_user, "city_id", None) else f"?city={roster_import.city.code}",
    }
    context.update(extra)
    return context


@login_required
@require_GET
def import_report(request, pk):
    roster_import = roster.roster_import_get(user=request.user, import_id=pk)
    return render(request, "registry/import_report.html", _report_context(roster_import, request.user))


@login_required
@require_GET
def import_errors(request, pk):
    roster_import = roster.roster_import_get(user=request.user, import_id=pk)
    audit_export(actor=request.user, what=f"名册导入{roster_import.pk}错误清单", object_type="",
                 obj=roster_import)  # the rows as typed in the upload: identity and mobile numbers
    return workbook_response(f"名册导入{roster_import.pk}错误清单", "错误清单", roster.ERROR_HEADERS,
                             roster.roster_errors_rows(roster_import), widths=[8, 16, 90, 12])


@login_required
@require_POST
def import_start(request, pk):
    roster_import = roster.roster_import_get(user=request.user, import_id=pk)
    mode = request.POST.get("mode", "")
    try:
        if mode not in ("all", "valid"):
            raise DomainError("请选择“全部导入”或“只导入无误的行”。", code="invalid_mode")
        roster_import = roster.roster_import_start(actor=request.user, roster_import=roster_import,
                                                   only_valid=mode == "valid")
        if not jobs_inline():
            roster.roster_import_enqueue(actor=request.user, roster_import=roster_import)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        roster_import = roster.roster_import_get(user=request.user, import_id=pk)
        return render(request, "registry/import_report.html", _report_context(roster_import, request.user, error=exc.message),
                      status=exc.status)
    return redirect("registry:import_report", pk=pk)


@login_required
@require_POST
def import_step(request, pk):
    """One step of the import (IMPORT_CHUNK rows, one transaction). JSON for the page's script, a
    redirect to the report for the "继续导入" button."""
    def step():
        roster_import = roster.roster_import_get(user=request.user, import_id=pk)
        return roster.roster_import_step(actor=request.user, roster_import=roster_import)

    return import_step_response(request, step=step, progress=roster.roster_import_progress,
                                report_url=reverse("registry:import_report", args=[pk]),
                                done_message=lambda imp: f"导入完成：{imp.imported_rows} 人已入库。")


@login_required
@require_GET
def import_progress(request, pk):
    roster_import = roster.roster_import_get(user=request.user, import_id=pk)
    return JsonResponse(roster.roster_import_progress(roster_import), json_dumps_params={"ensure_ascii": False})
