"""Audit trail pages: search the append-only ActionLog and export it. Nothing here writes but the export's own
audit row."""
import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import clock
from .audit import audit_export as audit_export_row
from .errors import DomainError, bad_input_error
from .excel import workbook_response
from .paging import CappedPaginator
from .selectors import (
    AUDIT_DATE_FILTERS,
    AUDIT_TEXT_FILTERS,
    action_log_choices,
    action_log_list,
    action_log_scope,
    parse_action_log_filters,
    reads_every_city,
)
from .web import attempt

AUDIT_PAGE_SIZE = 50
AUDIT_EXPORT_MAX_ROWS = 50_000

AUDIT_EXPORT_HEADERS = [
    "时间", "操作人", "IP 地址", "动作", "对象类型", "对象编号", "对象", "城市", "依据条款", "摘要", "变更前", "变更后",
]
AUDIT_EXPORT_WIDTHS = [20, 16, 16, 26, 22, 10, 28, 10, 10, 36, 50, 50]


def _json_text(value) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def _raw_filters(request) -> dict:
    return {key: request.GET.get(key, "").strip() for key in AUDIT_TEXT_FILTERS + AUDIT_DATE_FILTERS}


@require_GET
@login_required
def audit_list(request):
    action_log_scope(request.user)  # 403 for every role but the audit administrator, city administrators and auditors
    raw = _raw_filters(request)
    page_obj = None
    parsed = attempt(request, lambda: parse_action_log_filters(raw), propagate=())
    error = parsed.error
    if parsed.accepted:
        # Counted up to COUNT_CAP: a city's million log rows are never counted whole (issue #15).
        paginator = CappedPaginator(action_log_list(user=request.user, filters=parsed.result), AUDIT_PAGE_SIZE)
        page_obj = paginator.get_page(request.GET.get("page"))
        for row in page_obj:
            row.before_text = _json_text(row.before)
            row.after_text = _json_text(row.after)
    return render(
        request,
        "core/audit_list.html",
        {
            "filters": raw,
            "is_filtered": any(raw.values()),
            "error": error,
            "page_obj": page_obj,
            "choices": action_log_choices(user=request.user),
            "scope_label": _scope_label(request.user),
        },
        status=400 if error else 200,
    )


def _scope_label(user) -> str:
    if reads_every_city(user):
        return "全部城市"
    if user.city_id is None:
        return "未关联城市"
    return user.city.name


@require_GET
@login_required
def audit_export(request):
    filters = parse_action_log_filters(_raw_filters(request))  # bad date → 400 error page
    queryset = action_log_list(user=request.user, filters=filters)
    total = queryset.count()
    if total > AUDIT_EXPORT_MAX_ROWS:
        raise DomainError(
            f"筛选结果共 {total} 条，超过单次导出上限 {AUDIT_EXPORT_MAX_ROWS} 条，请缩小日期范围或增加筛选条件后再导出。",
            code="export_too_large",
        )
    rows = (
        (
            row.at,
            row.actor_repr,
            row.ip or "",
            row.action,
            row.object_type,
            row.object_id,
            row.object_repr,
            row.city_code,
            row.article,
            row.summary,
            _json_text(row.before),
            _json_text(row.after),
        )
        for row in queryset.iterator(chunk_size=2000)
    )
    stamp = clock.localtime().strftime("%Y%m%d-%H%M")
    response = workbook_response(f"操作日志-{stamp}.xlsx", "操作日志", AUDIT_EXPORT_HEADERS, rows, widths=AUDIT_EXPORT_WIDTHS)
    # The export is itself audited (the rows' before/after hold personal data; the audit administrator's acts are
    # audited too, issue #16 item 2), once the file is built: the file does not list its own row.
    audit_export_row(actor=request.user, what=f"操作日志（{total} 条）", object_type="core.actionlog",
                     filters={key: value for key, value in _raw_filters(request).items() if value})
    return response


def bad_request(request, exception=None):
    """handler400: a request Django refused before any view (a multipart body without a boundary, too
    many fields, too big, …) gets a Chinese page — 413 for a body over the size limit."""
    from django.http import HttpResponse
    from django.template.loader import render_to_string

    error = bad_input_error(exception) if exception is not None else None
    error = error or DomainError("请求无法处理：请求内容不符合要求。", code="bad_request")
    context = {"status": error.status, "code": error.code, "message": error.message}
    try:
        body = render_to_string("core/error.html", context, request=request)
    except Exception:  # noqa: BLE001 - the page must not fail on a request that is already broken
        body = render_to_string("400.html", context)
    return HttpResponse(body, status=error.status)
