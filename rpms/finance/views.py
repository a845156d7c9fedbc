"""Finance pages.

- 交通通讯补贴 (P6(3), per person and service cycle — issue #12): the finance list (due / paid / overdue;
  per district and per planner; totals; Excel; the reconciliation of the per-appointment rows of before),
  the detail with its computation, the appointments it covers and the payment form (city administrator);
  planners see their own, district officers their districts'.
- 服务费用 (B21): the installments list (the district's overdue supervision list with `?status=overdue`,
  Excel), and per appointment the payment schedule (set by party A or the district) and payments
  (recorded by party A)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rpms.accounts.models import Role
from rpms.cities.models import City
from rpms.cities.selectors import policy_article
from rpms.core import clock
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.audit import audit_export
from rpms.core.excel import workbook_response
from rpms.core.paging import page_of, pager
from rpms.core.params import page_within
from rpms.core.web import Submission, act, submit

from . import permissions, selectors, services
from .cycles import PARTIAL_RULE_TEXT

RECONCILIATION_PAGE_SIZE = 50  # the reconciliations of before issue #12, a page at a time


def _user_city(request):
    """The city a page is about: the user's own city, or (superusers, auditors of all cities) `?city=`."""
    user = request.user
    if getattr(user, "city_id", None):
        return City.objects.select_related("policy").get(pk=user.city_id)
    if user.role == Role.PLANNER:
        planner = getattr(user, "planner", None)
        if planner is not None:
            return planner.city
    code = (request.GET.get("city") or request.POST.get("city") or "").strip()
    cities = City.objects.filter(is_active=True).select_related("policy").order_by("sort_order", "code")
    if code:
        city = cities.filter(code=code).first()
        if city is None:
            raise NotFound(f"城市“{code}”不存在。", code="city_not_found")
        return city
    return cities.first()


def _city_choices(request):
    if getattr(request.user, "city_id", None) or request.user.role == Role.PLANNER:
        return []
    return list(City.objects.filter(is_active=True).order_by("sort_order", "code"))


def _districts(request, city):
    from rpms.accounts.scoping import visible_district_ids

    districts = city.districts.order_by("sort_order", "code") if city is not None else []
    ids = visible_district_ids(request.user, city) if city is not None else set()
    if ids is None:
        return list(districts)
    return [d for d in districts if d.pk in ids]


@login_required
@require_GET
def home(request):
    user = request.user
    if permissions.can_read_allowances(user):
        city = _user_city(request)
        if city is not None and city.policy.allowance_yuan_per_person_year:
            return redirect("finance:allowance_list")
    return redirect("finance:fee_list")


# --- allowances -----------------------------------------------------------------------------------


@login_required
@require_GET
def allowance_list(request):
    if not permissions.can_read_allowances(request.user):
        raise Forbidden("您的角色无权查看交通通讯补贴。")
    city = _user_city(request)
    on = clock.today()
    filters = selectors.allowance_filters_parse(request.GET)
    queryset = selectors.allowance_list(user=request.user, filters=filters, city=city, on=on)
    if request.GET.get("export") == "xlsx":
        from .exports import allowance_workbook_response

        audit_export(actor=request.user, what=f"{city.name if city else ''}交通通讯补贴", object_type="finance.allowance",
                     filters=request.GET.dict(), city_code=city.code if city else "")
        return allowance_workbook_response(
            filename=f"{city.name if city else ''}交通通讯补贴-{on.isoformat()}", queryset=queryset, on=on,
            reconciliations=selectors.reconciliation_list(user=request.user, city=city, planner=filters.planner))
    totals = selectors.allowance_totals(queryset, on)
    size = selectors.PAGE_SIZE
    page = page_within(request.GET.get("page"), count=totals["count"], per_page=size)
    rows = selectors.fee_page(queryset, (page - 1) * size, page * size)  # ids first, then the rows
    reconciliations, reconciliation_pager = page_of(
        request, selectors.reconciliation_list(user=request.user, city=city, planner=filters.planner),
        size=RECONCILIATION_PAGE_SIZE, param="reconciliation_page")
    context = {
        "city": city,
        "city_choices": _city_choices(request),
        "policy": city.policy if city else None,
        "partial_rule_text": PARTIAL_RULE_TEXT.get(city.policy.allowance_partial_cycle, "") if city else "",
        "article": policy_article(city, "allowance") if city else "",
        "filters": filters,
        "status_choices": selectors.ALLOWANCE_STATUS_FILTERS,
        "districts": _districts(request, city),
        "rows": [(a, a.state(on), a.state_label(on)) for a in rows],
        "totals": totals,
        "by_district": selectors.allowance_by_district(queryset, on),
        "by_planner": selectors.allowance_by_planner(queryset, on),
        "is_finance": city is not None and permissions.is_finance_officer(request.user, city),
        "reconciliations": reconciliations,
        "reconciliation_pager": reconciliation_pager,
        "today": on,
        "query": request.GET.urlencode(),
        "pager": pager(request, page=page, total=totals["count"], size=size),
    }
    return render(request, "finance/allowance_list.html", context)


@login_required
@require_POST
def allowance_generate(request):
    city = _user_city(request)
    if city is None or not permissions.is_finance_officer(request.user, city):
        raise Forbidden("只有市级主管部门（财务经办）可以生成补贴应付记录。")

    def generate():
        rows = services.allowances_generate(actor=request.user, city=city, on=request.POST.get("date") or None)
        if rows:
            messages.success(request, f"已生成 {len(rows)} 条补贴应付记录，合计 {sum(r.amount_yuan for r in rows)} 元。")
        elif not city.policy.allowance_yuan_per_person_year:
            messages.info(request, f"{city.name}政策未规定交通通讯补贴，无需生成。")
        else:
            messages.info(request, "没有新结束的服务周期，未生成新记录。")

    # the outcome is told by generate() (a success or a notice); a refusal is flashed on the list
    return act(request, generate, success=None, redirect_to="finance:allowance_list")


@login_required
@require_http_methods(["GET", "POST"])
def allowance_detail(request, pk):
    allowance = selectors.allowance_get(user=request.user, pk=pk)
    is_finance = permissions.is_finance_officer(request.user, allowance.city)
    form = {"paid_on": clock.today().isoformat(), "voucher_no": ""}
    sent = Submission()
    if request.method == "POST":
        form = {"paid_on": request.POST.get("paid_on", ""), "voucher_no": request.POST.get("voucher_no", "")}
        sent = submit(request, lambda: services.allowance_pay(actor=request.user, allowance=allowance,
                                                              paid_on=form["paid_on"], voucher_no=form["voucher_no"]),
                      success="已登记支付，并已通知责任规划师。",
                      redirect_to=reverse("finance:allowance_detail", kwargs={"pk": allowance.pk}))
        if sent.response:
            return sent.response
    on = clock.today()
    same_cycle = list(
        selectors.allowance_list(user=request.user, city=allowance.city)
        .filter(planner_id=allowance.planner_id, cycle_start=allowance.cycle_start).exclude(pk=allowance.pk)
    ) if allowance.kind != "legacy" else []
    return render(request, "finance/allowance_detail.html", {
        "allowance": allowance, "state": allowance.state(on), "state_label": allowance.state_label(on),
        "covered": list(allowance.appointments.all()), "same_cycle": same_cycle,
        "reconciliation": allowance.reconciliation or selectors.reconciliation_list(
            user=request.user, planner=allowance.planner_id).filter(cycle_start=allowance.cycle_start).first(),
        "is_finance": is_finance, "form": form, "error": sent.error,
        "article": policy_article(allowance.city, "allowance"),
    }, status=sent.status)


# --- service fees ---------------------------------------------------------------------------------


FEE_HEADERS = ["区", "责任单元", "责任规划师", "聘任主体（甲方）", "聘期", "期次", "约定支付日期", "宽限期（工作日）", "最迟支付日期",
               "金额（元）", "已付（元）", "未付（元）", "状态", "付清日期", "按时付清", "说明"]


@login_required
@require_GET
def fee_list(request):
    user = request.user
    if not (user.is_superuser or user.role in (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY,
                                                 Role.PLANNER)):
        raise Forbidden("您的角色无权查看服务费用。")
    city = _user_city(request)
    on = clock.today()
    filters = selectors.fee_filters_parse(request.GET)
    queryset = selectors.fee_installment_list(user=user, filters=filters, city=city, on=on)
    if request.GET.get("export") == "xlsx":
        def rows():
            for i in queryset.iterator(chunk_size=1000):
                on_time = i.paid_on_time
                yield [i.district.name, i.appointment.unit.name, i.appointment.planner.name, i.appointment.party_a,
                       i.term_no, i.seq, i.due_on, i.grace_working_days, i.pay_by, i.amount_yuan, i.paid_yuan,
                       i.remaining_yuan, i.state_label(on), i.settled_on, "" if on_time is None else on_time, i.note]

        title = "服务费用逾期未付清单" if filters.status == "overdue" else "服务费用付款情况"
        audit_export(actor=user, what=f"{city.name if city else ''}{title}", object_type="finance.feeinstallment",
                     filters=request.GET.dict(), city_code=city.code if city else "")
        return workbook_response(f"{city.name if city else ''}{title}-{on.isoformat()}", title, FEE_HEADERS, rows())
    # the first of the contracts still without a schedule (one more: whether there are more)
    without_schedule = list(selectors.appointments_without_schedule(user=user, city=city)[:WITHOUT_SCHEDULE_SHOWN + 1]) \
        if user.role in (Role.CITY_ADMIN, Role.DISTRICT_OFFICER, Role.HIRING_ENTITY) or user.is_superuser else []
    # issue #15: a page of rows (ids first), the totals and the per-district sums in one aggregate query
    totals, by_district = selectors.fee_summary(queryset, on)
    size = selectors.PAGE_SIZE
    page = page_within(request.GET.get("page"), count=totals["count"], per_page=size)
    rows = selectors.fee_page(queryset, (page - 1) * size, page * size)
    return render(request, "finance/fee_list.html", {
        "city": city,
        "city_choices": _city_choices(request),
        "article": policy_article(city, "fee") if city else "",
        "filters": filters,
        "status_choices": selectors.FEE_STATUS_FILTERS,
        "districts": _districts(request, city),
        "rows": [(i, i.state(on), i.state_label(on)) for i in rows],
        "totals": totals,
        "by_district": by_district,
        "without_schedule": without_schedule[:WITHOUT_SCHEDULE_SHOWN],
        "more_without_schedule": len(without_schedule) > WITHOUT_SCHEDULE_SHOWN,
        "today": on,
        "query": request.GET.urlencode(),
        "pager": pager(request, page=page, total=totals["count"], size=size),
    })


SCHEDULE_FORM_ROWS = 6
WITHOUT_SCHEDULE_SHOWN = 20


def _schedule_form_from_post(post) -> tuple[list[dict], list[dict]]:
    """The rows typed in the form (kept to show them again) and the non-empty ones for the service."""
    dues, amounts, notes = post.getlist("due_on"), post.getlist("amount_yuan"), post.getlist("note")
    typed, filled = [], []
    for index in range(max(len(dues), len(amounts))):
        row = {"due_on": (dues[index] if index < len(dues) else "").strip(),
               "amount_yuan": (amounts[index] if index < len(amounts) else "").strip(),
               "note": (notes[index] if index < len(notes) else "").strip()}
        typed.append(row)
        if row["due_on"] or row["amount_yuan"]:
            filled.append(row)
    return typed, filled


@login_required
@require_http_methods(["GET", "POST"])
def fee_schedule(request, appointment_id):
    appointment = selectors.fee_appointment_get(user=request.user, pk=appointment_id)
    can_set = permissions.can_set_fee_schedule(request.user, appointment)
    can_pay = permissions.can_record_fee_payment(request.user, appointment)
    current = [i for i in appointment.schedule if i.term_no == appointment.term_no]
    schedule_rows = [{"due_on": i.due_on.isoformat(), "amount_yuan": str(i.amount_yuan), "note": i.note} for i in current]
    grace = current[0].grace_working_days if current else 0
    sent = Submission()
    pay_form = {"installment": "", "paid_on": clock.today().isoformat(), "amount_yuan": "", "voucher_no": ""}
    if request.method == "POST":
        action = request.POST.get("action")
        # what was typed, shown again when refused
        if action == "schedule":
            schedule_rows, filled = _schedule_form_from_post(request.POST)
            grace = request.POST.get("grace_working_days") or 0
        elif action == "pay":
            pay_form = {k: request.POST.get(k, "") for k in pay_form}

        def apply():
            if action == "schedule":
                if not can_set:
                    raise Forbidden("付款计划由聘任主体（合同甲方）或区级工作专班制定。")
                services.fee_schedule_set(actor=request.user, appointment=appointment, installments=filled,
                                          grace_working_days=grace)
                return "付款计划已保存。"
            if action == "pay":
                installment = next((i for i in appointment.schedule if str(i.pk) == pay_form["installment"]), None)
                if installment is None:
                    raise DomainError("请选择付款期次。", code="installment_required")
                services.fee_payment_record(actor=request.user, installment=installment, paid_on=pay_form["paid_on"],
                                            amount_yuan=pay_form["amount_yuan"], voucher_no=pay_form["voucher_no"])
                return "已登记支付。"
            raise DomainError("未知的操作。", code="unknown_action")

        sent = submit(request, apply, success=lambda message: message,
                      redirect_to=reverse("finance:fee_schedule", kwargs={"appointment_id": appointment.pk}))
        if sent.response:
            return sent.response
    while len(schedule_rows) < SCHEDULE_FORM_ROWS:
        schedule_rows.append({"due_on": "", "amount_yuan": "", "note": ""})
    on = clock.today()
    has_payments = any(i.paid_yuan for i in current)
    return render(request, "finance/fee_schedule.html", {
        "appointment": appointment,
        "installments": [(i, i.state(on), i.state_label(on)) for i in appointment.schedule],
        "open_installments": [i for i in appointment.schedule if i.status != "paid"],
        "can_set": can_set and bool(appointment.fee_yuan) and not has_payments,
        "can_pay": can_pay,
        "has_payments": has_payments,
        "schedule_rows": schedule_rows,
        "grace": grace,
        "pay_form": pay_form,
        "error": sent.error,
        "article": policy_article(appointment.city, "fee"),
        "back": reverse("finance:fee_list"),
    }, status=sent.status)
