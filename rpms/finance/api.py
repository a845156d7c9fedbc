"""Finance API (mounted at the API root, /api/v1/; every path written in full).

Allowances (P6(3), per person and service cycle — issue #12):
- GET  /allowances (?city, status=unpaid|due|overdue|paid, district, planner, year, limit ≤ 200 (50), offset)
  → {count, totals, limit, offset, items};
  each item lists the appointments it covers (`appointments`) and its `kind` (cycle / supplement / legacy)
- GET  /allowances/reconciliations (?city, planner) → the per-appointment rows of before, reconciled per person
- GET  /allowances/summary (same filters) → {totals, by_district, by_planner}
- POST /allowances/generate {"city"?, "date"?} → the rows created (finance officer = CITY_ADMIN; idempotent)
- GET  /allowances/{id}
- POST /allowances/{id}/pay {"paid_on", "voucher_no"} (CITY_ADMIN of the city; twice → 409)
Service fees (B21):
- GET  /fee-payments (?city, status=open|overdue|partial|paid, district, appointment, year, limit ≤ 200 (50),
  offset) → installments with their payments, {count, totals, by_district, limit, offset, items}; `status=overdue` is the district's supervision list
- GET  /fee-schedules/{appointment_id} → the contract fee, its schedule and payments
- PUT  /fee-schedules/{appointment_id} {"term_no"?, "grace_working_days"?, "installments": [{"due_on", "amount_yuan", "note"?}]}
- POST /fee-payments/{installment_id}/pay {"paid_on", "amount_yuan", "voucher_no"} (party A of the contract)"""
from __future__ import annotations

from typing import Any

from ninja import Router, Schema, Status

from rpms.accounts.models import Role
from rpms.cities.models import City
from rpms.core import clock
from rpms.core.api import auth_required, require_role
from rpms.core.errors import DomainError, Forbidden, NotFound

from . import permissions, selectors, services

router = Router(tags=["补贴与费用"])


class ErrorOut(Schema):
    code: str
    detail: str = ""
    message: str


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
JSON = dict[str, Any]
# Issue #15: a list answers a page — `limit` (default DEFAULT_LIMIT, at most MAX_LIMIT) rows from `offset`.
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
OFFSET_MAX = 1_000_000


def _iso(value):
    return value.isoformat() if value else None


def _limit(value) -> int:
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise DomainError(f"limit 应为 1 至 {MAX_LIMIT} 的整数。", code="invalid_limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise DomainError(f"limit 应为 1 至 {MAX_LIMIT} 的整数。", code="invalid_limit")
    return limit


def _offset(value) -> int:
    if value in (None, ""):
        return 0
    try:
        offset = int(value)
    except (TypeError, ValueError):
        raise DomainError(f"offset 应为 0 至 {OFFSET_MAX} 的整数。", code="invalid_offset") from None
    if not 0 <= offset <= OFFSET_MAX:
        raise DomainError(f"offset 应为 0 至 {OFFSET_MAX} 的整数。", code="invalid_offset")
    return offset


def _city(request, code: str = "") -> City | None:
    """The city a list is limited to: the `city` parameter, else the user's own city (None = all that
    the user may see)."""
    code = (code or "").strip()
    if code:
        city = City.objects.select_related("policy").filter(code=code, is_active=True).first()
        if city is None:
            raise NotFound(f"城市“{code}”不存在。", code="city_not_found")
        return city
    user = request.user
    if getattr(user, "city_id", None):
        return City.objects.select_related("policy").get(pk=user.city_id)
    planner = getattr(user, "planner", None) if user.role == Role.PLANNER else None
    return planner.city if planner is not None else None


def reconciliation_json(record, *, rows: bool = False) -> JSON:
    data = {
        "id": record.pk,
        "city": record.city.code,
        "planner": {"id": record.planner_id, "name": record.planner.name},
        "district": {"id": record.district_id, "name": record.district.name},
        "cycle_no": record.cycle_no,
        "cycle_start": _iso(record.cycle_start),
        "cycle_end": _iso(record.cycle_end),
        "days_served": record.days_served,
        "due_yuan": record.due_yuan,
        "paid_yuan": record.paid_yuan,
        "difference_yuan": record.difference_yuan,
        "difference_label": record.difference_label,
        "legacy_count": record.legacy_count,
        "removed_unpaid_count": record.removed_unpaid_count,
        "removed_unpaid_yuan": record.removed_unpaid_yuan,
        "cycle_closed": record.cycle_closed,
        "note": record.note,
        "reconciled_on": _iso(record.reconciled_on),
    }
    if rows:
        data["kept_rows"] = [{"id": r.pk, "appointment": r.appointment_id, "unit": r.unit.name, "amount_yuan": r.amount_yuan,
                              "paid_on": _iso(r.paid_on), "voucher_no": r.voucher_no} for r in record.legacy_rows.all()]
    return data


def allowance_json(allowance, *, on=None) -> JSON:
    on = on or clock.today()
    return {
        "id": allowance.pk,
        "city": allowance.city.code,
        "kind": allowance.kind,
        "kind_label": allowance.get_kind_display(),
        "seq": allowance.seq,
        # P6(3) per person: the appointments the allowance covers; `appointment` is the one it is counted under
        "appointment": allowance.appointment_id,
        "appointments": [{"id": a.pk, "unit": a.unit.name, "district": a.unit.district.name,
                          "start": _iso(a.start), "last_day": _iso(a.ended_on or a.end)}
                         for a in allowance.appointments.all()],
        "reconciliation": {"id": allowance.reconciliation_id, "note": allowance.reconciliation.note,
                           "difference_yuan": allowance.reconciliation.difference_yuan}
        if allowance.reconciliation_id else None,
        "planner": {"id": allowance.planner_id, "name": allowance.planner.name},
        "district": {"id": allowance.district_id, "name": allowance.district.name},
        "unit": {"id": allowance.unit_id, "name": allowance.unit.name},
        "cycle_no": allowance.cycle_no,
        "cycle_start": _iso(allowance.cycle_start),
        "cycle_end": _iso(allowance.cycle_end),
        "served_until": _iso(allowance.served_until),
        "days_served": allowance.days_served,
        "days_in_cycle": allowance.days_in_cycle,
        "partial": allowance.partial,
        "partial_rule": allowance.partial_rule,
        "persons": allowance.persons,
        "rate_yuan": allowance.rate_yuan,
        "amount_yuan": allowance.amount_yuan,
        "basis": allowance.basis,
        "due_on": _iso(allowance.due_on),
        "status": allowance.state(on),
        "status_label": allowance.state_label(on),
        "paid_on": _iso(allowance.paid_on),
        "voucher_no": allowance.voucher_no,
        "paid_by": str(allowance.paid_by) if allowance.paid_by_id else None,
    }


def payment_json(payment) -> JSON:
    return {"id": payment.pk, "paid_on": _iso(payment.paid_on), "amount_yuan": payment.amount_yuan,
            "voucher_no": payment.voucher_no,
            "recorded_by": str(payment.recorded_by) if payment.recorded_by_id else None}


def installment_json(item, *, on=None, payments: bool = True) -> JSON:
    on = on or clock.today()
    appointment = item.appointment
    data = {
        "id": item.pk,
        "city": item.city.code,
        "appointment": {"id": appointment.pk, "planner": appointment.planner.name, "unit": appointment.unit.name,
                        "party_a": appointment.party_a, "fee_yuan": appointment.fee_yuan},
        "district": {"id": item.district_id, "name": item.district.name},
        "term_no": item.term_no,
        "seq": item.seq,
        "due_on": _iso(item.due_on),
        "amount_yuan": item.amount_yuan,
        "grace_working_days": item.grace_working_days,
        "pay_by": _iso(item.pay_by),
        "pay_by_explanation": list(item.pay_by_explanation or []),
        "note": item.note,
        "status": item.state(on),
        "status_label": item.state_label(on),
        "paid_yuan": item.paid_yuan,
        "remaining_yuan": item.remaining_yuan,
        "settled_on": _iso(item.settled_on),
        "paid_on_time": item.paid_on_time,
    }
    if payments:
        data["payments"] = [payment_json(p) for p in item.payments.all()]
    return data


def _read_allowances(request):
    if not permissions.can_read_allowances(request.user):
        raise Forbidden("您的角色无权查看交通通讯补贴。")


# --- allowances -----------------------------------------------------------------------------------


@router.get("/allowances", auth=auth_required, response={200: JSON, **ERRORS}, summary="交通通讯补贴列表")
def allowance_list(request, city: str = "", status: str = "", district: str = "", planner: str = "", year: str = "",
                   limit: str = "", offset: str = ""):
    """应付、已付、逾期（应付日期已过仍未支付）的补贴，按城市、区、责任规划师、年度筛选，含合计。
    分页：limit 每页条数（默认 50，最多 200），offset 起始位置；count 与 totals 为全部符合条件的记录。"""
    _read_allowances(request)
    on = clock.today()
    filters = selectors.allowance_filters_parse(
        {"status": status, "district": district, "planner": planner, "year": year})
    queryset = selectors.allowance_list(user=request.user, filters=filters, city=_city(request, city), on=on)
    size, start = _limit(limit), _offset(offset)
    rows = selectors.fee_page(queryset, start, start + size)
    totals = selectors.allowance_totals(queryset, on)
    return {"count": totals["count"], "totals": totals, "limit": size, "offset": start,
            "items": [allowance_json(a, on=on) for a in rows]}


@router.get("/allowances/summary", auth=auth_required, response={200: JSON, **ERRORS}, summary="补贴按区、按责任规划师汇总")
def allowance_summary(request, city: str = "", status: str = "", district: str = "", planner: str = "", year: str = ""):
    _read_allowances(request)
    on = clock.today()
    filters = selectors.allowance_filters_parse(
        {"status": status, "district": district, "planner": planner, "year": year})
    queryset = selectors.allowance_list(user=request.user, filters=filters, city=_city(request, city), on=on)
    return {
        "totals": selectors.allowance_totals(queryset, on),
        "by_district": selectors.allowance_by_district(queryset, on),
        "by_planner": selectors.allowance_by_planner(queryset, on),
    }


class GenerateIn(Schema):
    city: str = ""
    date: str = ""


@router.post("/allowances/generate", auth=auth_required, response={200: JSON, **ERRORS}, summary="生成到期补贴应付记录")
def allowance_generate(request, payload: GenerateIn):
    """为截至指定日期（默认今天）已结束的服务周期生成应付记录；重复调用不会重复生成。"""
    require_role(request, Role.CITY_ADMIN)
    city = _city(request, payload.city)
    if city is None:
        raise DomainError("请指定城市。", code="city_required")
    rows = services.allowances_generate(actor=request.user, city=city, on=payload.date or None)
    on = clock.today()
    created = list(selectors.allowance_list(user=request.user, city=city).filter(pk__in=[r.pk for r in rows]))
    return {"created": len(created), "total_yuan": sum(r.amount_yuan for r in created),
            "items": [allowance_json(a, on=on) for a in created]}


@router.get("/allowances/reconciliations", auth=auth_required, response={200: JSON, **ERRORS},
            summary="按人核对的历史补贴记录")
def allowance_reconciliations(request, city: str = "", planner: str = ""):
    """改为按人计发（P6(3) 每年 5000 元/人）时，对原按聘任计发记录的核对：每人每个服务周期一条，列明按人应付、
    已付（已付记录保留不删）和差额（已付 − 应付）及说明。"""
    _read_allowances(request)
    planner_id = selectors.allowance_filters_parse({"planner": planner}).planner
    rows = list(selectors.reconciliation_list(user=request.user, city=_city(request, city), planner=planner_id))
    return {"count": len(rows), "items": [reconciliation_json(r, rows=True) for r in rows]}


@router.get("/allowances/{allowance_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="补贴详情")
def allowance_detail(request, allowance_id: int):
    return allowance_json(selectors.allowance_get(user=request.user, pk=allowance_id))


class PayIn(Schema):
    paid_on: str
    voucher_no: str


@router.post("/allowances/{allowance_id}/pay", auth=auth_required, response={200: JSON, **ERRORS}, summary="登记补贴支付")
def allowance_pay(request, allowance_id: int, payload: PayIn):
    """市级主管部门（财务经办）登记支付日期和凭证号；已支付的再次登记 → 409。"""
    allowance = selectors.allowance_get(user=request.user, pk=allowance_id)
    services.allowance_pay(actor=request.user, allowance=allowance, paid_on=payload.paid_on,
                           voucher_no=payload.voucher_no)
    return allowance_json(selectors.allowance_get(user=request.user, pk=allowance_id))


# --- service fees ---------------------------------------------------------------------------------


@router.get("/fee-payments", auth=auth_required, response={200: JSON, **ERRORS}, summary="服务费用付款计划与支付情况")
def fee_payment_list(request, city: str = "", status: str = "", district: str = "", appointment: str = "",
                     year: str = "", limit: str = "", offset: str = ""):
    """各期服务费的约定支付日期、最迟支付日期（含宽限期，按工作日计算）、已付金额和支付记录；
    status=overdue 为逾期未付清清单（区级工作专班监督）。
    分页：limit 每页条数（默认 50，最多 200），offset 起始位置；count、totals、by_district 为全部符合条件的记录。"""
    on = clock.today()
    filters = selectors.fee_filters_parse(
        {"status": status, "district": district, "appointment": appointment, "year": year})
    queryset = selectors.fee_installment_list(user=request.user, filters=filters, city=_city(request, city), on=on)
    size, start = _limit(limit), _offset(offset)
    rows = selectors.fee_page(queryset.prefetch_related("payments__recorded_by"), start, start + size)
    totals, by_district = selectors.fee_summary(queryset, on)
    return {"count": totals["count"], "totals": totals, "by_district": by_district, "limit": size, "offset": start,
            "items": [installment_json(i, on=on) for i in rows]}


def schedule_json(appointment, *, user) -> JSON:
    on = clock.today()
    return {
        "appointment": appointment.pk,
        "planner": appointment.planner.name,
        "unit": appointment.unit.name,
        "district": appointment.unit.district.name,
        "party_a": appointment.party_a,
        "fee_yuan": appointment.fee_yuan,
        "fee_note": appointment.fee_note,
        "term_no": appointment.term_no,
        "installments": [installment_json(i, on=on) for i in appointment.schedule],
        "can": {"set_schedule": permissions.can_set_fee_schedule(user, appointment),
                "record_payment": permissions.can_record_fee_payment(user, appointment)},
    }


@router.get("/fee-schedules/{appointment_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="服务费用付款计划")
def fee_schedule_detail(request, appointment_id: int):
    appointment = selectors.fee_appointment_get(user=request.user, pk=appointment_id)
    return schedule_json(appointment, user=request.user)


class InstallmentIn(Schema):
    due_on: str
    amount_yuan: int
    note: str = ""


class ScheduleIn(Schema):
    term_no: int | None = None
    grace_working_days: int = 0
    installments: list[InstallmentIn]


@router.put("/fee-schedules/{appointment_id}", auth=auth_required, response={200: JSON, **ERRORS}, summary="制定付款计划")
def fee_schedule_set(request, appointment_id: int, payload: ScheduleIn):
    """聘任主体或区级工作专班制定；各期金额合计须等于合同约定的服务费用；已有付款记录的不能修改（409）。"""
    appointment = selectors.fee_appointment_get(user=request.user, pk=appointment_id)
    services.fee_schedule_set(
        actor=request.user, appointment=appointment, term_no=payload.term_no,
        grace_working_days=payload.grace_working_days,
        installments=[i.dict() for i in payload.installments],
    )
    return schedule_json(selectors.fee_appointment_get(user=request.user, pk=appointment_id), user=request.user)


class FeePayIn(Schema):
    paid_on: str
    amount_yuan: int
    voucher_no: str


@router.post("/fee-payments/{installment_id}/pay", auth=auth_required, response={201: JSON, **ERRORS},
             summary="登记服务费支付")
def fee_payment_pay(request, installment_id: int, payload: FeePayIn):
    installment = selectors.fee_installment_get(user=request.user, pk=installment_id)
    services.fee_payment_record(actor=request.user, installment=installment, paid_on=payload.paid_on,
                                amount_yuan=payload.amount_yuan, voucher_no=payload.voucher_no)
    return Status(201, installment_json(selectors.fee_installment_get(user=request.user, pk=installment_id)))
