"""Reads for assessments, violations, replacement flags, district assessments and honours, scoped here once.

Lists are a fixed number of queries whatever the number of rows. Out-of-scope records answer 404.

Functions other contexts call:
- `latest_grade_code(appointment)`: the code of the latest recorded grade of the appointment (used by
  rpms.appointments.services.latest_grade);
- `renewal_refusal(appointment)`: why renewal is refused by the latest grade (policy `renewal` "refused",
  or "entity_decides" with the hiring entity's condition recorded), or None;
- `term_reviews(appointment=, start=, end=)`: the reviews of one term (registered on rpms.core.hooks
  TERM_REVIEWS: renewal where the policy requires a review, P6(4));
- `grade_scores(planner_ids)`: planner id → latest grade as 0..1 (rpms.dispatch.inputs.last_grade_scores);
- `open_replacement_flags(city=, district_ids=None)`, `replacement_flag_for_unit(unit)`: units flagged for
  a replacement (dispatch and withdrawal pages);
- `graded_counts(city=, year=)`: grade code → count (statistics);
- `district_metrics(district=, year=)` / `districts_metrics(city=, year=)`: the city's figures per district;
- `public_honours(city=, year=)`: the published honours list;
- `due_without_assessment(city=, within_days=30, on=None)`, `assessing_users(appointment)`: reminders."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, F, OuterRef, Q

from rpms.accounts.models import Role
from rpms.accounts.scoping import is_city_wide, role_scope_q
from rpms.appointments.models import Appointment, AppointmentStatus
from rpms.appointments.selectors import coverage_by_district
from rpms.cities.models import City
from rpms.core import clock
from rpms.core.dates import service_year
from rpms.core.errors import DomainError, Forbidden, NotFound
from rpms.core.params import db_int_param, year_param
from rpms.geography.models import District, ResponsibilityUnit, UnitMembership

from . import permissions
from .cycles import cycle_for
from .models import (
    Assessment,
    AssessmentStatus,
    DistrictAssessment,
    FlagStatus,
    Honour,
    HonourStatus,
    ReplacementFlag,
    Violation,
)

LIST_LIMIT = 500


# --- scoping ------------------------------------------------------------------------------------------------


def _entity_q(user, unit_field: str = "unit") -> Q:
    own = UnitMembership.objects.filter(
        unit=OuterRef(unit_field), left_at__isnull=True, subdistrict__in=user.subdistricts.values("pk")
    )
    return Q(Exists(own))


def assessment_scope_q(user) -> Q | None:
    """The assessments a signed-in user may see (None: everything)."""
    return role_scope_q(user, district="district", planner="planner", rules={Role.HIRING_ENTITY: _entity_q})


def _scoped(queryset, q):
    return queryset if q is None else queryset.filter(q)


def _int(value, label: str):
    return db_int_param(value, label=f"筛选条件“{label}”", code="invalid_filter")


def _year(value):
    return year_param(value, label="筛选条件“年度”")


# --- assessments -----------------------------------------------------------------------------------------------


def _assessments():
    return Assessment.objects.select_related(
        "city__policy", "planner", "unit", "district", "appointment__city__policy", "result_document"
    )


def _assessment_rows():
    """`_assessments` for lists: the policy profile once per city (a prefetch), not joined into every row (#15)."""
    return Assessment.objects.select_related(
        "city", "planner", "unit", "district", "appointment__city", "result_document"
    ).prefetch_related("city__policy", "appointment__city__policy")


def assessment_list(*, user, year=None, status: str = "", district=None, grade: str = "", limit: int = LIST_LIMIT):
    return assessment_queryset(user=user, year=year, status=status, district=district, grade=grade)[:limit]


def assessment_page(queryset, start: int, stop: int) -> list[Assessment]:
    """The rows [start, stop) of an `assessment_queryset` in its order (issue #15): the page's ids first (a
    narrow sort), then those rows joined, their cities holding the cached policy profile (no prefetch)."""
    from rpms.cities.selectors import attach_policies

    ids = list(queryset.values_list("pk", flat=True)[start:stop])
    if not ids:
        return []
    found = {row.pk: row for row in queryset.order_by().prefetch_related(None).filter(pk__in=ids)}
    rows = [found[pk] for pk in ids if pk in found]
    attach_policies(rows, "city")
    attach_policies(rows, "appointment__city")
    return rows


def assessment_queryset(*, user, year=None, status: str = "", district=None, grade: str = ""):
    """The assessments the user may see, filtered, in the list's order (unsliced: `assessment_page`)."""
    queryset = _scoped(_assessment_rows(), assessment_scope_q(user))
    year = _year(year)
    if year:
        queryset = queryset.filter(year=year)
    if status:
        if status not in AssessmentStatus.values:
            raise DomainError(f"未知的状态“{status}”（可选：open、graded）。", code="invalid_status")
        queryset = queryset.filter(status=status)
    district = _int(district, "区")
    if district:
        queryset = queryset.filter(district_id=district)
    if grade:
        queryset = queryset.filter(grade=grade)
    return queryset.order_by("-year", "district__sort_order", "district__code", "unit__name", "id")


def assessment_get(*, user, pk) -> Assessment:
    assessment = (
        _assessments().select_related("appointment__unit__district", "graded_by", "opened_by", "planner__user")
        .prefetch_related("scores", "absences").filter(pk=_int(pk, "编号")).first()
    )
    if assessment is None or not permissions.can_view_assessment(user, assessment):
        raise NotFound()
    return assessment


def assessable_appointments(*, user, today: dt.date | None = None, limit: int = 300, offset: int = 0) -> list[dict]:
    """Appointments the user may open an assessment for, with the cycle that would be assessed and
    whether it already is: the rows [offset, offset + limit) of `assessable_queryset` (by term end), those
    not yet opened first within them. Two queries (the policy profile from the cache)."""
    today = today or clock.today()
    queryset = assessable_queryset(user=user, today=today)
    if queryset is None:
        return []
    from rpms.cities.selectors import attach_policies

    page = list(queryset[offset: offset + limit])
    attach_policies(page, "city")
    attach_policies(page, "unit__city")
    appointments = [a for a in page if permissions.can_open(user, a)]
    existing = set(
        Assessment.objects.filter(appointment__in=[a.pk for a in appointments]).values_list("appointment_id", "period_start")
    )
    rows = []
    for appointment in appointments:
        try:
            start, end = cycle_for(appointment, today=today)
        except DomainError:
            continue
        rows.append({"appointment": appointment, "start": start, "end": end, "days_left": (end - today).days,
                     "opened": (appointment.pk, start) in existing})
    rows.sort(key=lambda r: (r["opened"], r["end"], r["appointment"].pk))
    return rows


def assessable_queryset(*, user, today: dt.date | None = None):
    """The appointments in force the user may open assessments for, by term end (None: none at all)."""
    today = today or clock.today()
    if not getattr(user, "is_authenticated", False):
        return None
    queryset = Appointment.objects.select_related("city", "unit__district", "unit__city", "planner").filter(
        status=AppointmentStatus.ACTIVE, start__lte=today)
    if user.is_superuser:
        pass
    elif user.role == Role.CITY_ADMIN:
        if permissions.assessing_body_for(user.city) != "city_with_district":
            return None
        queryset = queryset.filter(city_id=user.city_id)
    elif user.role == Role.DISTRICT_OFFICER:
        queryset = queryset.filter(unit__district__in=user.districts.values("pk"))
    else:
        return None
    return queryset.order_by("end", "id")


def due_without_assessment(*, city, within_days: int = 30, on: dt.date | None = None) -> list[dict]:
    """Appointments of the city in force on `on` whose current service year ends within `within_days` days
    and has no assessment yet (for reminders to the assessing body): [{"appointment", "start", "end",
    "assessing_body"}], soonest first. Two queries."""
    on = on or clock.today()
    body = permissions.assessing_body_for(city)
    appointments = list(Appointment.objects.active(on=on).filter(city=city)
                        .select_related("unit__district", "planner", "city").prefetch_related("city__policy")
                        .order_by("id"))
    existing = set(Assessment.objects.filter(appointment__in=[a.pk for a in appointments])
                   .values_list("appointment_id", "period_start"))
    rows = []
    for appointment in appointments:
        start, end = cycle_for(appointment, today=on)
        if (end - on).days <= within_days and (appointment.pk, start) not in existing:
            rows.append({"appointment": appointment, "start": start, "end": end, "assessing_body": body})
    rows.sort(key=lambda r: (r["end"], r["appointment"].pk))
    return rows


def assessing_users(appointment) -> list:
    """Who opens and grades the appointment's assessment: the district officers of the unit's district, or
    the city administrators where the city leads (permissions.assessing_body_for)."""
    from rpms.accounts.models import User

    if permissions.assessing_body_for(appointment.city) == "city_with_district":
        return list(User.objects.filter(role=Role.CITY_ADMIN, city_id=appointment.city_id, is_active=True))
    from rpms.accounts.delegation import with_delegates

    return with_delegates(User.objects.filter(role=Role.DISTRICT_OFFICER, districts=appointment.unit.district_id,
                                              is_active=True).distinct())


def latest_graded(appointment) -> Assessment | None:
    return (
        Assessment.objects.filter(appointment=appointment, status=AssessmentStatus.GRADED)
        .order_by("-period_end", "-graded_at", "-id").first()
    )


def latest_grade_code(appointment) -> str | None:
    found = latest_graded(appointment)
    return found.grade if found else None


def renewal_refusal(appointment) -> str | None:
    """Why the latest recorded grade refuses the appointment's renewal, or None: the grade's policy says
    "refused" (P6(4)), or says "entity_decides" and the hiring entity made the result a condition of
    renewal (B20)."""
    found = latest_graded(appointment)
    if found is None:
        return None
    item = appointment.city.policy.grade(found.grade) or {}
    renewal = item.get("renewal")
    label = item.get("label", found.grade)
    if renewal == "refused":
        return f"{found.year} 年度考核结果为“{label}”，按规定不予续聘（{item.get('article', '')}）。"
    if renewal == "entity_decides" and found.renewal_conditional:
        return f"{found.year} 年度考核结果为“{label}”，聘任主体已将考核结果纳入续聘条件，不予续聘（{item.get('article', '')}）。"
    return None


def term_reviews(*, appointment, start: dt.date, end: dt.date) -> list[dict]:
    """The reviews (assessments) of the appointment held for its term `start`–`end`: those whose period
    overlaps the term (an older term's review does not count). The TERM_REVIEWS hook's provider
    (rpms.core.hooks), read by appointment renewal where the policy requires a review (P6(4)). One query."""
    rows = (
        Assessment.objects.filter(appointment_id=appointment.pk, period_start__lte=end, period_end__gte=start)
        .order_by("period_start", "id").values("status", "grade", "grade_label", "period_start", "period_end")
    )
    return [dict(row) for row in rows]


def grade_scores(planner_ids) -> dict[int, float]:
    """Planner id → the latest recorded grade (any appointment) as 0..1 by its place in the city's grade
    list (the first, best grade = 1.0, the last = 0.0; a single grade = 1.0). One query."""
    ids = list(planner_ids or [])
    if not ids:
        return {}
    rows = (
        Assessment.objects.filter(planner_id__in=ids, status=AssessmentStatus.GRADED)
        .select_related("city__policy").order_by("planner_id", "-period_end", "-graded_at", "-id")
    )
    scores: dict[int, float] = {}
    for row in rows:
        if row.planner_id in scores:
            continue
        codes = [g["code"] for g in row.city.policy.grades or []]
        if row.grade not in codes:
            continue
        n = len(codes)
        scores[row.planner_id] = 1.0 if n == 1 else round(1 - codes.index(row.grade) / (n - 1), 4)
    return scores


def graded_counts(*, city, year: int, district_ids=None) -> dict[str, int]:
    """Grade code → number of graded assessments of the year (every policy grade listed, zeros too)."""
    rows = Assessment.objects.filter(city=city, year=year, status=AssessmentStatus.GRADED)
    if district_ids is not None:
        rows = rows.filter(district_id__in=list(district_ids))
    counts = dict(rows.values_list("grade").annotate(n=Count("id")))
    return {g["code"]: counts.get(g["code"], 0) for g in city.policy.grades or []}


# --- violations ------------------------------------------------------------------------------------------------


def violation_scope_q(user) -> Q | None:
    return role_scope_q(user, district="district", planner="planner")


def violation_list(*, user, planner=None, unreported: bool = False, limit: int = LIST_LIMIT):
    if getattr(user, "role", None) == Role.HIRING_ENTITY:
        raise Forbidden("违规记录由区级和市级工作专班管理。")
    queryset = _scoped(
        Violation.objects.select_related("city", "planner", "district", "appointment__unit", "recorded_by")
        .prefetch_related("city__policy"),  # the policy profile once per city, not joined into every row (issue #15)
        violation_scope_q(user),
    )
    planner = _int(planner, "责任规划师")
    if planner:
        queryset = queryset.filter(planner_id=planner)
    if unreported:
        queryset = queryset.filter(reported_employer_at__isnull=True)
    return queryset.order_by("-occurred_on", "-id")[:limit]


def violation_get(*, user, pk) -> Violation:
    violation = (
        Violation.objects.select_related("city__policy", "planner", "district", "appointment__unit", "recorded_by",
                                         "reported_employer_by")
        .filter(pk=_int(pk, "编号")).first()
    )
    if violation is None or not permissions.can_view_violation(user, violation):
        raise NotFound()
    return violation


def violation_kind_choices(user) -> list[tuple[str, str]]:
    """(code, label with the city's own article) for the violation kinds of the user's city policy; a
    superuser without a city sees every city's, named. A city whose policy lists none: []."""
    from rpms.cities.models import City

    def label(item, prefix=""):
        article = item.get("article", "")
        return f"{prefix}{item['label']}" + (f"（{article}）" if article else "")

    if getattr(user, "city_id", None):
        policy = City.objects.select_related("policy").get(pk=user.city_id).policy
        return [(item["code"], label(item)) for item in policy.violation_kinds or []]
    if getattr(user, "is_superuser", False):
        return [(item["code"], label(item, f"{city.name}：")) for city in City.objects.select_related("policy")
                if hasattr(city, "policy") for item in city.policy.violation_kinds or []]
    return []


def violation_planner_choices(user, *, limit: int = 500) -> list:
    """Planners the user may record a violation against: the city's (city admin) or those ever appointed in
    the officer's districts."""
    from rpms.registry.models import Planner

    if not getattr(user, "is_authenticated", False):
        return []
    if user.is_superuser:
        return list(Planner.objects.select_related("city").order_by("city", "name")[:limit])
    if user.role == Role.CITY_ADMIN:
        return list(Planner.objects.filter(city_id=user.city_id).order_by("name", "id")[:limit])
    if user.role == Role.DISTRICT_OFFICER:
        served = Appointment.objects.filter(planner=OuterRef("pk"), unit__district__in=user.districts.values("pk"))
        return list(Planner.objects.filter(Exists(served)).order_by("name", "id")[:limit])
    return []


# --- replacement flags ----------------------------------------------------------------------------------------


def _flags():
    return ReplacementFlag.objects.select_related("city", "unit", "district", "planner", "assessment", "appointment")


def open_replacement_flags(*, city, district_ids=None):
    """The units flagged for a replacement and not yet dealt with (the city's pending list; dispatch and
    withdrawal pages)."""
    queryset = _flags().filter(city=city, status=FlagStatus.OPEN)
    if district_ids is not None:
        queryset = queryset.filter(district_id__in=list(district_ids))
    return queryset.order_by("created_at", "id")


def replacement_flag_for_unit(unit) -> ReplacementFlag | None:
    return _flags().filter(unit=unit, status=FlagStatus.OPEN).order_by("created_at", "id").first()


def flag_list(*, user, status: str = "", limit: int = LIST_LIMIT):
    q = assessment_scope_q(user)
    if getattr(user, "role", None) in (Role.PLANNER, Role.HIRING_ENTITY):
        raise Forbidden("待调整补位的责任单元由市、区工作专班处理。")
    queryset = _scoped(_flags(), q)
    if status:
        if status not in FlagStatus.values:
            raise DomainError(f"未知的状态“{status}”。", code="invalid_status")
        queryset = queryset.filter(status=status)
    return queryset.order_by("status", "-created_at", "-id")[:limit]


def flag_get(*, user, pk) -> ReplacementFlag:
    flag = _flags().filter(pk=_int(pk, "编号")).first()
    if flag is None or not (is_city_wide(user, flag.city) or permissions.can_resolve_flag(user, flag)):
        raise NotFound()
    return flag


# --- district assessment (B20) ---------------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int):
    return round(numerator / denominator, 4) if denominator else None


def _metric(code: str, label: str, numerator: int, denominator: int, note: str = "") -> dict:
    return {"code": code, "label": label, "numerator": numerator, "denominator": denominator,
            "ratio": _ratio(numerator, denominator), "note": note}


def fee_timeliness_by_district(*, city, year: int, on: dt.date | None = None) -> dict[int, tuple[int, int]] | None:
    """District id → (installments settled on time, installments due) for the service-fee installments whose
    last day of payment falls in `year` (B21), from rpms.finance (`selectors.fee_year_summary`): due = settled
    (on time or late) + unpaid past their last day; installments not yet due are not counted."""
    from rpms.finance.selectors import fee_year_summary

    summary = fee_year_summary(city=city, year=year, on=on)
    result = {}
    for district_id, row in (summary.get("by_district") or {}).items():
        due = int(row.get("settled_count", 0)) + int(row.get("overdue_count", 0))
        result[district_id] = (int(row.get("on_time_count", 0)), due)
    return result


def _expected_cycles(appointment_rows, *, year: int, until: dt.date) -> set[tuple[int, dt.date]]:
    """(appointment id, cycle start) of the service years that ended in `year` (up to `until`) and are not cut
    short by a termination or withdrawal (those leave without a year to assess)."""
    expected = set()
    for pk, start, end, ended_on in appointment_rows:
        n = 1
        while True:
            cycle_start, natural_end = service_year(start, n)
            cycle_end = min(natural_end, end)
            if cycle_start > end or cycle_end.year > year or cycle_end > until:
                break
            if cycle_end.year == year and (ended_on is None or ended_on >= cycle_end):
                expected.add((pk, cycle_start))
            n += 1
    return expected


def districts_metrics(*, city, year: int, district_ids=None, today: dt.date | None = None) -> dict[int, dict]:
    """`compute_districts_metrics`, kept in the shared cache until one of its inputs changes: the city's statistics
    scopes (every year, and `year`'s), which rpms.reports raises on any write of an appointment, unit, district,
    assessment, fee, suggestion or the policy, and the day (figures are counted up to today). Issue #15: the year's
    suggestions alone took 0.1 s at 10× Beijing on every visit of the districts' assessment page."""
    from rpms.core import pubcache

    today = today or clock.today()
    ids = "all" if district_ids is None else ",".join(str(i) for i in sorted({int(d) for d in district_ids}))
    key = f"districts-metrics:{pubcache.generation(pubcache.statistics_scope(city.pk))}:{today.isoformat()}:{ids}"
    return pubcache.get_or_build(
        pubcache.statistics_scope(city.pk, year), key,
        lambda: compute_districts_metrics(city=city, year=year, district_ids=district_ids, today=today),
        timeout=3600,
    )


def compute_districts_metrics(*, city, year: int, district_ids=None, today: dt.date | None = None) -> dict[int, dict]:
    """District id → the city's figures for the district's execution of the system in `year` (B20):

    - coverage: units not dissolved by the reference day (31 December, or today for the current year) with
      an appointment serving that day / those units (rpms.appointments.selectors.coverage_by_district);
    - filing: appointments starting in the year filed within the city's `contract_filing_days` of their start / those whose
      filing window has closed or that are filed;
    - assessments: service years ended in the year (up to the reference day) with a graded assessment /
      such service years;
    - fees: service-fee installments due in the year paid on time / due (rpms.finance; "—" until available);
    - suggestions: suggestions received in the year (not hidden) answered on or before `due_on` / those
      answered or past their due date.
    `computed_score` = the mean of the available ratios × 100 (one decimal). A fixed number of queries."""
    from rpms.suggestions.models import Suggestion

    today = today or clock.today()
    on = min(dt.date(year, 12, 31), today)
    districts = District.objects.filter(city=city)
    if district_ids is not None:
        districts = districts.filter(pk__in=list(district_ids))
    ids = list(districts.order_by("sort_order", "code").values_list("pk", flat=True))
    # coverage (rpms.appointments' one definition), over the units not dissolved by the reference day
    coverage = coverage_by_district(city=city, on=on, today=today, district_ids=ids, units=ResponsibilityUnit.objects.filter(
        city=city).filter(Q(dissolved_at__isnull=True) | Q(dissolved_at__date__gt=on)))
    unit_totals = {district_id: row["units"] for district_id, row in coverage.items()}
    covered = {district_id: row["covered"] for district_id, row in coverage.items()}
    # filing within the policy's contract_filing_days of the start
    filing_days = city.policy.contract_filing_days
    filing_total: dict[int, int] = defaultdict(int)
    filing_on_time: dict[int, int] = defaultdict(int)
    for district_id, start, filed_at in Appointment.objects.filter(
        city=city, unit__district_id__in=ids, start__year=year
    ).values_list("unit__district_id", "start", "filed_at"):
        deadline = start + dt.timedelta(days=filing_days)
        filed_on = clock.localdate(filed_at) if filed_at else None
        if filed_on is None and deadline >= today:
            continue  # still within its filing window
        filing_total[district_id] += 1
        if filed_on is not None and filed_on <= deadline:
            filing_on_time[district_id] += 1
    # assessments completed
    serving = (
        Appointment.objects.filter(city=city, unit__district_id__in=ids, start__lte=dt.date(year, 12, 31))
        .filter(Q(ended_on__isnull=True, end__gte=dt.date(year, 1, 1)) | Q(ended_on__gte=dt.date(year, 1, 1)))
    )
    rows = list(serving.values_list("pk", "unit__district_id", "start", "end", "ended_on"))
    district_of = {pk: d for pk, d, *_ in rows}
    expected = _expected_cycles([(pk, s, e, x) for pk, _, s, e, x in rows], year=year, until=on)
    # the same appointments as a subquery, not thousands of ids sent back (issue #15)
    graded = set(
        Assessment.objects.filter(appointment_id__in=serving.values("pk"), status=AssessmentStatus.GRADED)
        .values_list("appointment_id", "period_start")
    )
    assess_total: dict[int, int] = defaultdict(int)
    assess_done: dict[int, int] = defaultdict(int)
    for key in expected:
        assess_total[district_of[key[0]]] += 1
        if key in graded:
            assess_done[district_of[key[0]]] += 1
    # fees (finance)
    fees = fee_timeliness_by_district(city=city, year=year, on=today)
    # suggestions answered on time
    suggestion_rows = {
        d: (total, on_time) for d, total, on_time in
        Suggestion.objects.filter(city=city, district_id__in=ids, received_on__year=year, hidden_at__isnull=True)
        .filter(Q(replied_at__isnull=False) | Q(due_on__lt=today))
        .values_list("district_id")
        .annotate(total=Count("id"), on_time=Count("id", filter=Q(replied_at__date__lte=F("due_on"))))
    }
    result = {}
    for district_id in ids:
        metrics = [
            _metric("coverage", "责任单元覆盖率", covered.get(district_id, 0), unit_totals.get(district_id, 0),
                    f"以 {on} 在任的派驻聘任计"),
            _metric("filing", f"聘用合同按时备案率（聘期开始后 {filing_days} 日内）", filing_on_time[district_id],
                    filing_total[district_id]),
            _metric("assessments", "年度考核完成率", assess_done[district_id], assess_total[district_id],
                    f"{year} 年内届满的服务年度"),
        ]
        if fees is None:
            metrics.append({"code": "fees", "label": "服务费用按时支付率", "numerator": None, "denominator": None,
                            "ratio": None, "note": "费用支付数据暂未接入"})
        else:
            paid, due = fees.get(district_id, (0, 0))
            metrics.append(_metric("fees", "服务费用按时支付率", paid, due))
        total, on_time = suggestion_rows.get(district_id, (0, 0))
        metrics.append(_metric("suggestions", "群众意见建议按时答复率", on_time, total))
        ratios = [m["ratio"] for m in metrics if m["ratio"] is not None]
        score = None
        if ratios:
            score = str((Decimal(str(sum(ratios) / len(ratios))) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        result[district_id] = {"year": year, "reference_day": on.isoformat(), "metrics": metrics, "computed_score": score}
    return result


def district_metrics(*, district, year: int, today: dt.date | None = None) -> dict:
    return districts_metrics(city=district.city, year=year, district_ids=[district.pk], today=today)[district.pk]


def district_assessment_overview(*, user, city, year: int) -> list[dict]:
    """Every district the user may see, with its figures for the year and the city's evaluation if recorded.
    A fixed number of queries."""
    ids = permissions_visible_district_ids(user, city)
    districts = District.objects.filter(city=city).order_by("sort_order", "code")
    if ids is not None:
        districts = districts.filter(pk__in=ids)
    districts = list(districts)
    figures = districts_metrics(city=city, year=year, district_ids=[d.pk for d in districts])
    recorded = {a.district_id: a for a in DistrictAssessment.objects.filter(city=city, year=year,
                                                                            district__in=[d.pk for d in districts])}
    return [{"district": d, "figures": figures[d.pk], "assessment": recorded.get(d.pk)} for d in districts]


def permissions_visible_district_ids(user, city):
    from rpms.accounts.scoping import visible_district_ids

    if not getattr(user, "is_authenticated", False) or user.role not in (Role.CITY_ADMIN, Role.AUDITOR, Role.DISTRICT_OFFICER) \
            and not user.is_superuser:
        raise Forbidden("对各区制度执行情况的评估供市、区工作专班查看。")
    ids = visible_district_ids(user, city)
    return ids


def district_assessment_get(*, user, pk) -> DistrictAssessment:
    record = DistrictAssessment.objects.select_related("city", "district", "assessed_by").filter(pk=_int(pk, "编号")).first()
    if record is None:
        raise NotFound()
    from rpms.accounts.scoping import visible_district_ids

    ids = visible_district_ids(user, record.city) if getattr(user, "is_authenticated", False) else set()
    if ids is not None and record.district_id not in ids or getattr(user, "role", None) in (Role.PLANNER, Role.HIRING_ENTITY):
        raise NotFound()
    return record


# --- honours (B24) ---------------------------------------------------------------------------------------------


def _honours():
    return Honour.objects.select_related("city", "district", "planner", "assessment__unit", "certificate")


def public_honours(*, city=None, year=None):
    """The published honours (public facts only: names, employer, district, unit, year)."""
    queryset = _honours().filter(published_at__isnull=False, status=HonourStatus.SELECTED)
    if city is not None:
        queryset = queryset.filter(city=city)
    year = _year(year)
    if year:
        queryset = queryset.filter(year=year)
    return queryset.order_by("city__sort_order", "-year", "district__sort_order", "district__code", "planner__name", "id")


def public_honour_years(city=None) -> list[int]:
    queryset = Honour.objects.filter(published_at__isnull=False)
    if city is not None:
        queryset = queryset.filter(city=city)
    return sorted(set(queryset.values_list("year", flat=True)), reverse=True)


def honour_list(*, user, city=None, year=None, status: str = ""):
    """Nominations and decisions the user may see: the city's (city admin, auditor), the district's own
    (district officer), the planner's own; others see only published ones."""
    queryset = _honours()
    if not getattr(user, "is_authenticated", False):
        return public_honours(city=city, year=year)
    if user.is_superuser or (user.role == Role.AUDITOR and user.city_id is None):
        pass
    elif user.role in (Role.CITY_ADMIN, Role.AUDITOR):
        queryset = queryset.filter(city_id=user.city_id)
    elif user.role == Role.DISTRICT_OFFICER:
        queryset = queryset.filter(Q(district__in=user.districts.values("pk")) | Q(published_at__isnull=False))
    elif user.role == Role.PLANNER:
        queryset = queryset.filter(Q(planner__user=user) | Q(published_at__isnull=False))
    else:
        queryset = queryset.filter(published_at__isnull=False)
    if city is not None:
        queryset = queryset.filter(city=city)
    year = _year(year)
    if year:
        queryset = queryset.filter(year=year)
    if status:
        if status not in HonourStatus.values:
            raise DomainError(f"未知的状态“{status}”。", code="invalid_status")
        queryset = queryset.filter(status=status)
    return queryset.order_by("-year", "district__sort_order", "district__code", "planner__name", "id")


def honour_get(*, user, pk) -> Honour:
    honour = _honours().select_related("planner__user").filter(pk=_int(pk, "编号")).first()
    if honour is None:
        raise NotFound()
    if honour.is_published:
        return honour
    if not getattr(user, "is_authenticated", False):
        raise NotFound()
    if is_city_wide(user, honour.city) or permissions.is_district_officer_of(user, honour.district_id) or (
        honour.planner.user_id == user.pk
    ):
        return honour
    raise NotFound()


def nominable_assessments(*, user, year: int) -> list[Assessment]:
    """The officer's district's assessments of the year graded with an honour-eligible grade and not yet
    nominated."""
    if not getattr(user, "is_authenticated", False) or (user.role != Role.DISTRICT_OFFICER and not user.is_superuser):
        return []
    queryset = _assessment_rows().filter(year=year, status=AssessmentStatus.GRADED)
    if not user.is_superuser:
        queryset = queryset.filter(district__in=user.districts.values("pk"))
    nominated = Honour.objects.filter(city=OuterRef("city"), year=year, planner=OuterRef("planner"))
    queryset = queryset.filter(~Exists(nominated)).order_by("district__code", "planner__name", "id")
    return [a for a in queryset if (a.city.policy.grade(a.grade) or {}).get("honour_eligible")]


# --- pending items on the home pages ----------------------------------------------------------------------------


def pending_items(user) -> list:
    from django.urls import reverse

    from rpms.core.pending import PendingItem

    if not getattr(user, "is_authenticated", False) or not user.role:
        return []
    items = []
    open_q = assessment_scope_q(user)
    opened = _scoped(Assessment.objects.filter(status=AssessmentStatus.OPEN), open_q)
    url = reverse("assessments:list")
    if user.role == Role.PLANNER:
        n = opened.filter(self_reported_at__isnull=True).exclude(absences__input="self_report").count()
        if n:
            items.append(PendingItem(title="年度考核待提交述职报告", url=url + "?status=open", count=n, level="warn"))
        return items
    if user.role == Role.HIRING_ENTITY:
        n = opened.filter(entity_feedback_at__isnull=True).exclude(absences__input="entity_feedback").count()
        if n:
            items.append(PendingItem(title="年度考核待填写属地反馈", url=url + "?status=open", count=n, level="warn"))
        return items
    if user.role == Role.DISTRICT_OFFICER:
        n = opened.exclude(scores__source="district").count()
        if n:
            items.append(PendingItem(title="年度考核待区级评分", url=url + "?status=open", count=n, level="warn"))
        unreported = _scoped(Violation.objects.filter(reported_employer_at__isnull=True), violation_scope_q(user)).count()
        if unreported:
            items.append(PendingItem(title="违规情况待告知所在单位", url=reverse("assessments:violations") + "?unreported=1",
                                     count=unreported, level="warn"))
        flags = ReplacementFlag.objects.filter(status=FlagStatus.OPEN, district__in=user.districts.values("pk")).count()
        if flags:
            items.append(PendingItem(title="考核不合格待调整补位的责任单元", url=reverse("assessments:flags"), count=flags,
                                     level="warn"))
        return items
    if user.role == Role.CITY_ADMIN and user.city_id:
        city = City.objects.select_related("policy").filter(pk=user.city_id).first()
        if city is not None and hasattr(city, "policy") and permissions.assessing_body_for(city) == "city_with_district":
            n = opened.exclude(scores__source="city").count()
            if n:
                items.append(PendingItem(title="年度考核待市级评分和评定", url=url + "?status=open", count=n, level="warn"))
        flags = ReplacementFlag.objects.filter(status=FlagStatus.OPEN, city_id=user.city_id).count()
        if flags:
            items.append(PendingItem(title="考核不合格待调整补位的责任单元", url=reverse("assessments:flags"), count=flags,
                                     level="warn"))
        nominations = Honour.objects.filter(city_id=user.city_id, status=HonourStatus.NOMINATED).count()
        if nominations:
            items.append(PendingItem(title="各区推选的优秀责任规划师待评选", url=reverse("assessments:honour_manage"),
                                     count=nominations))
    return items
