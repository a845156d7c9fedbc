"""Finance reads, with role scoping applied here once.

Allowances: the city's administrators and auditors see the whole city; district officers their
districts; a planner its own rows; nobody else anything (404 for a single row). Service fees follow
the appointment's visibility (rpms.appointments.selectors.scope_q): city-wide readers, the district,
the hiring entity of the unit, the planner.

Every list is one query with its related rows joined; totals and the per-district / per-planner
summaries are one aggregate query each, whatever the number of rows.

For other contexts (statistics, district assessment, reminders):
`allowance_year_summary(city=, year=)`, `fee_year_summary(city=, year=)`, `fees_overdue(city=, on=)`."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Sum
from django.db.models.functions import Coalesce

from rpms.accounts.models import Role
from rpms.accounts.scoping import role_scope_q
from rpms.appointments.models import Appointment
from rpms.appointments.selectors import scope_q as appointment_scope_q
from rpms.core import clock
from rpms.core.errors import DomainError, NotFound
from rpms.core.params import is_digits

from . import permissions
from .models import (
    ALLOWANCE_OVERDUE,
    INSTALLMENT_OVERDUE,
    Allowance,
    AllowanceReconciliation,
    AllowanceStatus,
    FeeInstallment,
    InstallmentStatus,
)

LIST_LIMIT = 500
# A list page's rows (issue #15: pages, not the first 500 rows).
PAGE_SIZE = 50
# The appointments a person's allowance covers, as a row shows them (unit and district).
COVERED = Appointment.objects.select_related("unit__district").order_by("start", "id")

ALLOWANCE_STATUS_FILTERS = {
    "": "全部",
    "unpaid": "未支付（含逾期）",
    AllowanceStatus.DUE: "待支付（未逾期）",
    ALLOWANCE_OVERDUE: "已逾期",
    AllowanceStatus.PAID: "已支付",
}

FEE_STATUS_FILTERS = {
    "": "全部",
    "open": "未付清（含逾期）",
    INSTALLMENT_OVERDUE: "已逾期",
    InstallmentStatus.PARTIAL: "部分支付",
    InstallmentStatus.PAID: "已付清",
}


def _int(params, name: str, label: str) -> int | None:
    raw = str(params.get(name) or "").strip()
    if not raw:
        return None
    if not is_digits(raw):
        raise DomainError(f"筛选条件“{label}”应为编号（整数）。", code="invalid_filter")
    return int(raw)


def _year(params) -> int | None:
    raw = str(params.get("year") or "").strip()
    if not raw:
        return None
    if not is_digits(raw) or not 2000 <= int(raw) <= 2100:
        raise DomainError("年度应为四位数字，如 2026。", code="invalid_year")
    return int(raw)


# --- allowances -------------------------------------------------------------------------------------


@dataclass
class AllowanceFilters:
    status: str = ""
    district: int | None = None
    planner: int | None = None
    year: int | None = None  # the year of the due date

    def as_query(self) -> dict:
        return {k: v for k, v in {"status": self.status, "district": self.district, "planner": self.planner,
                                   "year": self.year}.items() if v not in (None, "")}


def allowance_filters_parse(params) -> AllowanceFilters:
    status = str(params.get("status") or "").strip()
    if status not in ALLOWANCE_STATUS_FILTERS:
        raise DomainError(f"未知的状态筛选“{status}”，可选：{'、'.join(k for k in ALLOWANCE_STATUS_FILTERS if k)}。",
                          code="invalid_status")
    return AllowanceFilters(status=status, district=_int(params, "district", "区"),
                            planner=_int(params, "planner", "责任规划师"), year=_year(params))


def allowance_scope_q(user) -> Q | None:
    """The allowances a signed-in user may see (None: every city's)."""
    return role_scope_q(user, planner="planner", rules={Role.DISTRICT_OFFICER: _allowance_district_q})


def _allowance_district_q(user) -> Q:
    # The person's allowance is counted under one district but covers every unit they served in the
    # cycle: each of those districts sees it.
    mine = user.districts.values("pk")
    covered = Allowance.appointments.through.objects.filter(
        allowance_id=OuterRef("pk"), appointment__unit__district__in=mine)
    return Q(district__in=mine) | Q(Exists(covered))


def reconciliation_scope_q(user) -> Q | None:
    return role_scope_q(user, district="district", planner="planner")


def reconciliation_list(*, user, city=None, planner=None):
    """The reconciliations of the per-appointment rows of before issue #12 (one per person and cycle), with
    the paid rows kept for each (one query plus one for the kept rows)."""
    queryset = AllowanceReconciliation.objects.select_related("city", "planner", "district").prefetch_related(
        Prefetch("legacy_rows", queryset=Allowance.objects.select_related("unit").order_by("cycle_start", "id")))
    scope = reconciliation_scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    if city is not None:
        queryset = queryset.filter(city=city)
    if planner:
        queryset = queryset.filter(planner_id=planner)
    return queryset.order_by("-cycle_start", "planner__name", "id")


def allowance_status_q(status: str, on: dt.date) -> Q:
    if status == "unpaid":
        return Q(status=AllowanceStatus.DUE)
    if status == AllowanceStatus.DUE:
        return Q(status=AllowanceStatus.DUE, due_on__gte=on)
    if status == ALLOWANCE_OVERDUE:
        return Q(status=AllowanceStatus.DUE, due_on__lt=on)
    if status == AllowanceStatus.PAID:
        return Q(status=AllowanceStatus.PAID)
    return Q()


def allowance_list(*, user, filters: AllowanceFilters | None = None, city=None, on: dt.date | None = None):
    """The allowances the user may see, filtered, everything a row shows joined (one query)."""
    filters = filters or AllowanceFilters()
    on = on or clock.today()
    queryset = Allowance.objects.select_related("city", "planner", "district", "unit", "paid_by", "reconciliation")
    queryset = queryset.prefetch_related(Prefetch("appointments", queryset=COVERED))
    scope = allowance_scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    if city is not None:
        queryset = queryset.filter(city=city)
    if filters.status:
        queryset = queryset.filter(allowance_status_q(filters.status, on))
    if filters.district:
        queryset = queryset.filter(district_id=filters.district)
    if filters.planner:
        queryset = queryset.filter(planner_id=filters.planner)
    if filters.year:
        queryset = queryset.filter(due_on__year=filters.year)
    return queryset.order_by("due_on", "district__sort_order", "planner__name", "id")


def allowance_get(*, user, pk) -> Allowance:
    allowance = (
        Allowance.objects.select_related("city__policy", "planner", "district", "unit", "appointment", "paid_by",
                                         "reconciliation")
        .prefetch_related(Prefetch("appointments", queryset=COVERED)).filter(pk=pk).first()
    )
    if allowance is None or not permissions.can_view_allowance(user, allowance):
        raise NotFound()
    return allowance


def _money_aggregates(on: dt.date) -> dict:
    due = Q(status=AllowanceStatus.DUE, due_on__gte=on)
    overdue = Q(status=AllowanceStatus.DUE, due_on__lt=on)
    paid = Q(status=AllowanceStatus.PAID)
    return {
        "count": Count("id"),
        "total_yuan": Coalesce(Sum("amount_yuan"), 0),
        "due_count": Count("id", filter=due),
        "due_yuan": Coalesce(Sum("amount_yuan", filter=due), 0),
        "overdue_count": Count("id", filter=overdue),
        "overdue_yuan": Coalesce(Sum("amount_yuan", filter=overdue), 0),
        "paid_count": Count("id", filter=paid),
        "paid_yuan": Coalesce(Sum("amount_yuan", filter=paid), 0),
    }


def allowance_totals(queryset, on: dt.date | None = None) -> dict:
    """Count and amount in total, due (not overdue), overdue and paid — one query."""
    on = on or clock.today()
    return queryset.order_by().aggregate(**_money_aggregates(on))


def allowance_by_district(queryset, on: dt.date | None = None) -> list[dict]:
    on = on or clock.today()
    return list(
        queryset.order_by().values("district_id", district_name=F("district__name"))
        .annotate(**_money_aggregates(on)).order_by("district__sort_order", "district__code")
    )


def allowance_by_planner(queryset, on: dt.date | None = None, limit: int | None = LIST_LIMIT) -> list[dict]:
    on = on or clock.today()
    rows = (
        queryset.order_by().values("planner_id", planner_name=F("planner__name"))
        .annotate(**_money_aggregates(on)).order_by("planner__name", "planner_id")
    )
    return list(rows[:limit] if limit else rows)


def allowance_year_summary(*, city, year: int, on: dt.date | None = None) -> dict:
    """For statistics and reminders: the city's allowances DUE in `year` (by due date) and PAID in `year`
    (by payment date), per district and in total; two aggregate queries."""
    on = on or clock.today()
    due_rows = allowance_by_district(Allowance.objects.filter(city=city, due_on__year=year), on)
    paid = list(
        Allowance.objects.filter(city=city, status=AllowanceStatus.PAID, paid_on__year=year).order_by()
        .values("district_id").annotate(paid_in_year_count=Count("id"), paid_in_year_yuan=Coalesce(Sum("amount_yuan"), 0))
    )
    paid_by_district = {row["district_id"]: row for row in paid}
    districts = {}
    for row in due_rows:
        districts[row["district_id"]] = {**row, "paid_in_year_count": 0, "paid_in_year_yuan": 0}
    for district_id, row in paid_by_district.items():
        entry = districts.setdefault(district_id, {"district_id": district_id, "district_name": "", "count": 0,
                                                   "total_yuan": 0, "due_count": 0, "due_yuan": 0, "overdue_count": 0,
                                                   "overdue_yuan": 0, "paid_count": 0, "paid_yuan": 0})
        entry["paid_in_year_count"] = row["paid_in_year_count"]
        entry["paid_in_year_yuan"] = row["paid_in_year_yuan"]
    keys = ("count", "total_yuan", "due_count", "due_yuan", "overdue_count", "overdue_yuan", "paid_count", "paid_yuan",
            "paid_in_year_count", "paid_in_year_yuan")
    total = {k: sum(d.get(k, 0) for d in districts.values()) for k in keys}
    return {"year": year, "total": total, "by_district": districts}


# --- service fees -----------------------------------------------------------------------------------


@dataclass
class FeeFilters:
    status: str = ""
    district: int | None = None
    appointment: int | None = None
    year: int | None = None  # the year of the agreed due date

    def as_query(self) -> dict:
        return {k: v for k, v in {"status": self.status, "district": self.district, "appointment": self.appointment,
                                   "year": self.year}.items() if v not in (None, "")}


def fee_filters_parse(params) -> FeeFilters:
    status = str(params.get("status") or "").strip()
    if status not in FEE_STATUS_FILTERS:
        raise DomainError(f"未知的状态筛选“{status}”，可选：{'、'.join(k for k in FEE_STATUS_FILTERS if k)}。",
                          code="invalid_status")
    return FeeFilters(status=status, district=_int(params, "district", "区"),
                      appointment=_int(params, "appointment", "聘任"), year=_year(params))


def fee_scope_q(user) -> Q | None:
    scope = appointment_scope_q(user)
    if scope is None:
        return None
    return Q(appointment__in=Appointment.objects.filter(scope).values("pk"))


def fee_status_q(status: str, on: dt.date) -> Q:
    if status == "open":
        return ~Q(status=InstallmentStatus.PAID)
    if status == INSTALLMENT_OVERDUE:
        return ~Q(status=InstallmentStatus.PAID) & Q(pay_by__lt=on)
    if status in (InstallmentStatus.PARTIAL, InstallmentStatus.PAID, InstallmentStatus.UNPAID):
        return Q(status=status)
    return Q()


def fee_installment_list(*, user, filters: FeeFilters | None = None, city=None, on: dt.date | None = None):
    filters = filters or FeeFilters()
    on = on or clock.today()
    # no policy profile joined into the rows (issue #15): nothing a row shows reads it
    queryset = FeeInstallment.objects.select_related("city", "district", "appointment__planner", "appointment__unit")
    scope = fee_scope_q(user)
    if scope is not None:
        queryset = queryset.filter(scope)
    if city is not None:
        queryset = queryset.filter(city=city)
    if filters.status:
        queryset = queryset.filter(fee_status_q(filters.status, on))
    if filters.district:
        queryset = queryset.filter(district_id=filters.district)
    if filters.appointment:
        queryset = queryset.filter(appointment_id=filters.appointment)
    if filters.year:
        queryset = queryset.filter(due_on__year=filters.year)
    return queryset.order_by("pay_by", "district__sort_order", "appointment_id", "term_no", "seq")


def fees_overdue(*, user=None, city=None, on: dt.date | None = None):
    """The district's supervision list (B21): installments not fully paid past their last day of payment.
    Without a user: every one of the city's (for reminders)."""
    on = on or clock.today()
    if user is not None:
        return fee_installment_list(user=user, filters=FeeFilters(status=INSTALLMENT_OVERDUE), city=city, on=on)
    queryset = FeeInstallment.objects.overdue(on).select_related("district", "appointment__planner", "appointment__unit")
    if city is not None:
        queryset = queryset.filter(city=city)
    return queryset.order_by("pay_by", "id")


def _fee_aggregates(on: dt.date) -> dict:
    overdue = ~Q(status=InstallmentStatus.PAID) & Q(pay_by__lt=on)
    settled = Q(status=InstallmentStatus.PAID)
    return {
        "count": Count("id"),
        "amount_total_yuan": Coalesce(Sum("amount_yuan"), 0),
        "paid_total_yuan": Coalesce(Sum("paid_yuan"), 0),
        "settled_count": Count("id", filter=settled),
        "on_time_count": Count("id", filter=settled & Q(settled_on__lte=F("pay_by"))),
        "late_count": Count("id", filter=settled & Q(settled_on__gt=F("pay_by"))),
        "overdue_count": Count("id", filter=overdue),
        "overdue_yuan": Coalesce(Sum(F("amount_yuan") - F("paid_yuan"), filter=overdue), 0),
    }


def fee_totals(queryset, on: dt.date | None = None) -> dict:
    on = on or clock.today()
    totals = queryset.order_by().aggregate(**_fee_aggregates(on))
    totals["unpaid_total_yuan"] = totals["amount_total_yuan"] - totals["paid_total_yuan"]
    return totals


def fee_by_district(queryset, on: dt.date | None = None) -> list[dict]:
    on = on or clock.today()
    rows = list(
        queryset.order_by().values("district_id", district_name=F("district__name"))
        .annotate(**_fee_aggregates(on)).order_by("district__sort_order", "district__code")
    )
    for row in rows:
        row["unpaid_total_yuan"] = row["amount_total_yuan"] - row["paid_total_yuan"]
    return rows


def fee_summary(queryset, on: dt.date | None = None) -> tuple[dict, list[dict]]:
    """`fee_totals` and `fee_by_district` of a list in ONE aggregate query (issue #15): the sums per
    district, their total added up here (every installment has a district)."""
    by_district = fee_by_district(queryset, on)
    keys = ("count", "amount_total_yuan", "paid_total_yuan", "settled_count", "on_time_count", "late_count",
            "overdue_count", "overdue_yuan", "unpaid_total_yuan")
    totals = {k: sum(row[k] for row in by_district) for k in keys}
    return totals, by_district


def fee_page(queryset, start: int, stop: int) -> list:
    """The rows [start, stop) of a `fee_installment_list` (or `allowance_list`) queryset in its order: the page's ids first (a
    narrow sort), then those rows with everything they show."""
    ids = list(queryset.values_list("pk", flat=True)[start:stop])
    if not ids:
        return []
    found = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


def fee_year_summary(*, city, year: int, on: dt.date | None = None) -> dict:
    """For statistics and the district assessment (B20 "fees paid on time"): installments whose last day
    of payment falls in `year`, per district: count, amounts, settled, settled on time, late, overdue;
    plus the payments made in `year`. Two aggregate queries."""
    from .models import FeePayment

    on = on or clock.today()
    rows = fee_by_district(FeeInstallment.objects.filter(city=city, pay_by__year=year), on)
    districts = {row["district_id"]: {**row, "paid_in_year_yuan": 0, "payments_in_year": 0} for row in rows}
    payments = (
        FeePayment.objects.filter(city=city, paid_on__year=year).order_by()
        .values(district_id=F("installment__district_id"))
        .annotate(yuan=Coalesce(Sum("amount_yuan"), 0), n=Count("id"))
    )
    for row in payments:
        entry = districts.setdefault(row["district_id"], {
            "district_id": row["district_id"], "district_name": "", "count": 0, "amount_total_yuan": 0,
            "paid_total_yuan": 0, "settled_count": 0, "on_time_count": 0, "late_count": 0, "overdue_count": 0,
            "overdue_yuan": 0, "unpaid_total_yuan": 0,
        })
        entry["paid_in_year_yuan"] = row["yuan"]
        entry["payments_in_year"] = row["n"]
    keys = ("count", "amount_total_yuan", "paid_total_yuan", "settled_count", "on_time_count", "late_count",
            "overdue_count", "overdue_yuan", "unpaid_total_yuan", "paid_in_year_yuan", "payments_in_year")
    total = {k: sum(d.get(k, 0) for d in districts.values()) for k in keys}
    return {"year": year, "total": total, "by_district": districts}


def fee_appointment_get(*, user, pk) -> Appointment:
    """The appointment whose fee schedule the user may see (404 otherwise), with its installments and
    payments loaded (`schedule`: a list ordered by term and sequence)."""
    from rpms.appointments.selectors import appointment_get

    appointment = appointment_get(user=user, pk=pk)
    appointment.schedule = list(
        FeeInstallment.objects.filter(appointment=appointment).prefetch_related("payments__recorded_by")
        .order_by("term_no", "seq")
    )
    return appointment


def fee_installment_get(*, user, pk) -> FeeInstallment:
    installment = (
        FeeInstallment.objects.select_related(
            "city", "district", "appointment__planner", "appointment__unit__district", "appointment__unit__city__policy",
            "appointment__city__policy",
        ).prefetch_related("payments").filter(pk=pk).first()
    )
    if installment is None or not permissions.can_view_fees(user, installment.appointment):
        raise NotFound()
    return installment


def appointments_without_schedule(*, user, city=None):
    """Appointments with a contract fee but no payment schedule for their current term (to set one)."""
    scope = appointment_scope_q(user)
    queryset = Appointment.objects.select_related("planner", "unit__district", "city").filter(fee_yuan__gt=0)
    if scope is not None:
        queryset = queryset.filter(scope)
    if city is not None:
        queryset = queryset.filter(city=city)
    has_schedule = Exists(FeeInstallment.objects.filter(appointment=OuterRef("pk"), term_no=OuterRef("term_no")))
    return queryset.filter(~has_schedule).not_over(clock.today()).order_by("unit__district__sort_order", "unit__name", "id")

