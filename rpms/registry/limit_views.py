"""Pages of the exceptions to in-principle limits (B18, B19(2), B19(7); rpms.registry.limits): the list
(the city administrator's requests to decide, a district officer's and a requester's own), and one
request with its approval (confirmation asked: the waiting act is then performed) or refusal (a reason
required and kept when the refusal is refused)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from rpms.accounts.models import Role
from rpms.core.errors import DomainError, Forbidden, NotFound

from . import limits
from .models import ExceptionStatus, LimitCode

LIST_SIZE = 200


def _refusal(exc: DomainError) -> bool:
    return not isinstance(exc, (NotFound, Forbidden))


@login_required
@require_GET
def exception_list(request):
    status = request.GET.get("status", "")
    limit = request.GET.get("limit", "")
    error = ""
    try:
        rows = list(limits.limit_exception_list(user=request.user, status=status, limit=limit)[:LIST_SIZE])
    except DomainError as exc:
        if not _refusal(exc):
            raise
        rows, error, status, limit = list(limits.limit_exception_list(user=request.user)[:LIST_SIZE]), exc.message, "", ""
    for row in rows:
        row.url = limits.subject_url(row)
    return render(request, "registry/exceptions.html", {
        "rows": rows, "status": status, "limit": limit, "statuses": ExceptionStatus.choices,
        "limits": LimitCode.choices, "error": error,
        "is_decider": bool(request.user.is_superuser or request.user.role == Role.CITY_ADMIN),
    })


def _detail_context(request, record, **extra) -> dict:
    context = {
        "record": record,
        "url": limits.subject_url(record),
        "can_decide": record.status == ExceptionStatus.PENDING and limits.is_decider(request.user, record.city),
        "form": {}, "error": "", "error_form": "",
    }
    context.update(extra)
    return context


@login_required
@require_GET
def exception_detail(request, pk: int):
    record = limits.limit_exception_get(user=request.user, pk=pk)
    return render(request, "registry/exception_detail.html", _detail_context(request, record))


def _decide(request, pk: int, form_name: str, fields: tuple[str, ...], action):
    record = limits.limit_exception_get(user=request.user, pk=pk)
    form = {name: request.POST.get(name, "").strip() for name in fields}
    try:
        message = action(record, form)
    except DomainError as exc:
        if not _refusal(exc):
            raise
        record = limits.limit_exception_get(user=request.user, pk=pk)
        context = _detail_context(request, record, form=form, error=exc.message, error_form=form_name)
        return render(request, "registry/exception_detail.html", context, status=exc.status)
    messages.success(request, message)
    return redirect("registry:exception_detail", pk)


@login_required
@require_POST
def exception_approve(request, pk: int):
    def action(record, form):
        if form["confirm"] != "1":
            raise DomainError("请勾选确认：批准后即按原申请办理该事项。", code="confirm_required")
        record = limits.limit_exception_approve(actor=request.user, exception=record, note=form["note"])
        return f"已批准例外，并已办理：{record.get_act_display()}（{record.subject_label}）。"

    return _decide(request, pk, "approve", ("confirm", "note"), action)


@login_required
@require_POST
def exception_refuse(request, pk: int):
    def action(record, form):
        if form["confirm"] != "1":
            raise DomainError("请勾选确认：不予批准后，所申请的事项不予办理。", code="confirm_required")
        limits.limit_exception_refuse(actor=request.user, exception=record, reason=form["reason"])
        return "已不予批准，所申请的事项不予办理；申请人可见不予批准的理由。"

    return _decide(request, pk, "refuse", ("confirm", "reason"), action)
