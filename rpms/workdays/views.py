"""Pages: the year list and entry of a year's schedule (city administrators), and a public calculator."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from rpms.core.errors import Forbidden
from rpms.core.params import is_digits
from rpms.core.web import attempt, submit

from .forms import CalendarYearEntryForm, parse_date_param, parse_days_param
from .selectors import add_working_days, calendar_year_list, calendar_year_overview
from .services import calendar_year_delete, calendar_year_enter, calendar_year_preview, can_manage_calendar


def _require_city_admin(request) -> None:
    if not can_manage_calendar(request.user):
        raise Forbidden("只有市级管理员可以管理节假日安排。")


def _tell_effects(request, effects) -> None:
    """The deadlines other apps recomputed because the schedule changed (rpms.workdays.hooks)."""
    if effects:
        messages.warning(request, f"按新的节假日安排重新计算了 {len(effects)} 项期限：")
    for effect in effects:
        messages.warning(request, f"{effect.title}：{effect.detail}" if effect.detail else effect.title)


@login_required
def year_list(request):
    _require_city_admin(request)
    deleted = request.GET.get("deleted", "")
    return render(
        request,
        "workdays/year_list.html",
        {"rows": calendar_year_list(), "deleted": deleted if deleted.isascii() and is_digits(deleted) else ""},
    )


@login_required
def year_detail(request, year: int):
    _require_city_admin(request)
    return render(
        request,
        "workdays/year_detail.html",
        {"overview": calendar_year_overview(year), "saved": request.GET.get("saved") == "1"},
    )


@login_required
def year_enter(request):
    """Paste the notice → preview of what was read → confirm → saved through the service."""
    _require_city_admin(request)
    preview = None
    error = ""
    status = 200
    if request.method == "POST":
        form = CalendarYearEntryForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            # a refusal (a 404 included) is shown above the form; 403 goes to the error page
            if request.POST.get("action") == "confirm":
                sent = submit(
                    request,
                    lambda: _tell_effects(request, calendar_year_enter(
                        actor=request.user, year=data["year"], source=data["source"], notice_text=data["notice_text"]
                    ).effects),
                    success=None,
                    redirect_to=reverse("workdays:year_detail", args=[data["year"]]) + "?saved=1",
                    propagate=(Forbidden,),
                )
                if sent.response:
                    return sent.response
            else:
                sent = attempt(request, lambda: calendar_year_preview(year=data["year"], notice_text=data["notice_text"]),
                               propagate=(Forbidden,))
                preview = sent.result
            error, status = sent.error, sent.status
        else:
            status = 400
    else:
        initial = {}
        year = request.GET.get("year", "")
        if year.isascii() and is_digits(year):
            initial["year"] = int(year)
        form = CalendarYearEntryForm(initial=initial)
    return render(
        request, "workdays/year_enter.html", {"form": form, "preview": preview, "error": error}, status=status
    )


@login_required
@require_POST
def year_delete(request, year: int):
    _require_city_admin(request)
    _tell_effects(request, calendar_year_delete(actor=request.user, year=year))
    return redirect(reverse("workdays:year_list") + f"?deleted={year}")


def calculator(request):
    """Public: start date + N working days → the end, with how it was computed."""
    result = None
    error = ""
    status = 200
    start = request.GET.get("start", "")
    days = request.GET.get("days", "")
    if start or days:
        computed = attempt(request, lambda: add_working_days(
            parse_date_param(start, label="起算日", param="start"), parse_days_param(days)
        ), propagate=())
        result, error, status = computed.result, computed.error, 200 if computed.accepted else 400
    return render(
        request, "workdays/calculator.html", {"result": result, "error": error, "start": start, "days": days},
        status=status,
    )
