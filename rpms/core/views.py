"""Audit trail pages: search the append-only ActionLog and export it. Nothing here writes but the export's own
audit row."""
import json

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import clock
from .audit import audit_export as audit_export_row
from .errors import DomainError, bad_input_error
from .excel import workbook_response
from .labels import action_choices, action_label, change_rows, city_names, object_type_choices, object_type_label, person_name
from .models import ActionLog
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
    "操作人账户",
]
AUDIT_EXPORT_WIDTHS = [20, 16, 16, 22, 18, 10, 28, 10, 10, 36, 50, 50, 16]


def _actor_names(rows) -> dict:
    """{user id: the person's name} for the rows' actors, in one query (the rows keep the user name they were
    written with; pages show the name)."""
    ids = {row.actor_id for row in rows if row.actor_id}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids).only("id", "display_name", "role", "is_superuser")
    return {user.pk: person_name(user) for user in users}


def _label_rows(rows, *, cities: dict, names: dict) -> None:
    """Adds the Chinese labels a page shows for a row's codes: action, object type, city, actor."""
    for row in rows:
        row.action_label = action_label(row.action)
        row.object_type_label = object_type_label(row.object_type)
        row.city_name = cities.get(row.city_code, "") if row.city_code else ""
        row.actor_name = names.get(row.actor_id) or ("已删除的用户" if row.actor_id else row.actor_repr or "系统")


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
        rows = list(page_obj.object_list)
        _label_rows(rows, cities=city_names(), names=_actor_names(rows))
        page_obj.object_list = rows
    choices = action_log_choices(user=request.user)
    return render(
        request,
        "core/audit_list.html",
        {
            "filters": raw,
            "is_filtered": any(raw.values()),
            "error": error,
            "page_obj": page_obj,
            "choices": choices,
            "action_choices": action_choices(choices["actions"]),
            "object_type_choices": object_type_choices(choices["object_types"]),
            "scope_label": _scope_label(request.user),
        },
        status=400 if error else 200,
    )


@require_GET
@login_required
def audit_detail(request, pk: int):
    """One audit row in full: who (name and account), from where, what, on which object, before and after."""
    row = ActionLog.objects.filter(action_log_scope(request.user), pk=pk).first()
    if row is None:
        raise Http404("操作日志记录不存在或不在您的查看范围内。")
    _label_rows([row], cities=city_names(), names=_actor_names([row]))
    changes = change_rows(row.object_type, row.before, row.after)
    return render(request, "core/audit_detail.html", {"row": row, "changes": changes})


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
    cities = city_names()

    def rows():
        # In chunks: each chunk's actors are named by one query, whatever the number of rows.
        chunk = []
        for row in queryset.iterator(chunk_size=2000):
            chunk.append(row)
            if len(chunk) == 2000:
                yield from _export_rows(chunk, cities)
                chunk = []
        yield from _export_rows(chunk, cities)

    stamp = clock.localtime().strftime("%Y%m%d-%H%M")
    response = workbook_response(f"操作日志-{stamp}.xlsx", "操作日志", AUDIT_EXPORT_HEADERS, rows(), widths=AUDIT_EXPORT_WIDTHS)
    # The export is itself audited (the rows' before/after hold personal data; the audit administrator's acts are
    # audited too, issue #16 item 2), once the file is built: the file does not list its own row.
    audit_export_row(actor=request.user, what=f"操作日志（{total} 条）", object_type="core.actionlog",
                     filters={key: value for key, value in _raw_filters(request).items() if value})
    return response


def _export_rows(chunk, cities):
    _label_rows(chunk, cities=cities, names=_actor_names(chunk))
    for row in chunk:
        yield (
            row.at,
            row.actor_name,
            row.ip or "",
            row.action_label,
            row.object_type_label,
            row.object_id,
            row.object_repr,
            row.city_name or row.city_code,
            row.article,
            row.summary,
            _json_text(row.before),
            _json_text(row.after),
            row.actor_repr if row.actor_id else "",
        )


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
