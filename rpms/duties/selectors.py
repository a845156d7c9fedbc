"""Reads of the duties context, with the role scoping applied here once (permissions.scope_q):
a planner reads its own, a hiring entity its units', a district officer its districts', city
administrators and auditors their city's. Anything outside the scope is NotFound (404).

Lists use select_related/prefetch_related so their query count does not grow with the rows; the hours
summaries are computed by the database, one aggregate query per summary."""
from __future__ import annotations

import calendar
import datetime as dt
from collections import OrderedDict
from decimal import Decimal

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from rpms.accounts.models import Role
from rpms.core import clock
from rpms.core.errors import DomainError, NotFound
from rpms.core.paging import CappedPaginator  # noqa: F401 — re-exported (the records page)

from .models import (
    DataMaterial,
    DataRequest,
    DataRequestStatus,
    DownloadLog,
    DutyEvidence,
    DutyQuery,
    DutyRecord,
    DutyStatus,
    ExtraWork,
    FeedbackStatus,
    MonitoringFeedback,
    WorkCertificate,
)
from .permissions import entity_unit_ids, officer_district_ids, planner_of, scope_q

LIST_LIMIT = 500
# The records page shows this many rows per page (the API keeps its 500 by default; both at most LIST_LIMIT).
PAGE_SIZE = 50
# The page counts (and pages through) at most this many records; beyond it the page asks for a filter.
PAGE_COUNT_CAP = 10_000


def _scoped(queryset, user, **fields):
    q = scope_q(user, **fields)
    if q is None:
        return queryset.none()
    return queryset.filter(q)


# --- duty records ----------------------------------------------------------------------------------


def _records():
    return DutyRecord.objects.select_related("city__policy", "unit__district", "planner", "confirmed_by")


def _evidence_count():
    """The record's evidence count as a correlated subquery (one index probe per row it is computed for)."""
    return Coalesce(
        Subquery(
            DutyEvidence.objects.filter(record_id=OuterRef("pk")).order_by().values("record_id")
            .annotate(n=Count("id")).values("n")[:1]
        ),
        0,
    )


def _filtered_records(*, user, unit_id=None, planner_id=None, status: str = "", year: int | None = None,
                      month: int | None = None, start=None, end=None):
    """The records the user may read with the list's filters, newest first — no joins, no counts: what the
    count and the page's ids are read from (served by the (unit|city|planner, date, id) and (date, id) indexes)."""
    records = _scoped(DutyRecord.objects.all(), user)
    if unit_id:
        records = records.filter(unit_id=unit_id)
    if planner_id:
        records = records.filter(planner_id=planner_id)
    if status:
        if status not in DutyStatus.values:
            raise DomainError("状态应为 submitted、queried 或 confirmed。", code="invalid_status")
        records = records.filter(status=status)
    if year:
        try:
            records = _period_filter(records, year=year, month=month)
        except (DomainError, ValueError, OverflowError):  # a year or month no record can have: nothing
            records = records.none()
    if start:
        records = records.filter(date__gte=start)
    if end:
        records = records.filter(date__lte=end)
    return records.order_by("-date", "-id")


def _rows_of(ids_queryset):
    """The full rows (unit, district, planner, confirmer; `evidence_count`) of the records whose ids the sliced
    `ids_queryset` selects, newest first, each city's policy profile attached from the cache. ONE query: the
    slice is a subquery (`id IN (… LIMIT n)`), so the joins and the evidence counts run on the page's rows only,
    never on the whole filtered set."""
    from rpms.cities.selectors import attach_policies

    rows = list(
        DutyRecord.objects.select_related("city", "unit__district", "planner", "confirmed_by")
        .filter(pk__in=ids_queryset.values("pk"))
        .annotate(evidence_count=_evidence_count())
        .order_by("-date", "-id")
    )
    return attach_policies(rows, "city")


def duty_record_list(*, user, unit_id=None, planner_id=None, status: str = "", year: int | None = None,
                     month: int | None = None, start=None, end=None, limit: int = LIST_LIMIT, offset: int = 0):
    """The records the user may read, newest first, `limit` of them from `offset`, each with
    `evidence_count`. One query (the policy profile comes from the cache)."""
    records = _filtered_records(user=user, unit_id=unit_id, planner_id=planner_id, status=status, year=year,
                                month=month, start=start, end=end)
    limit = max(0, min(int(limit), LIST_LIMIT))
    offset = max(0, int(offset))
    if limit == 0:
        return []
    return _rows_of(records[offset:offset + limit])


# The columns the API's list rows are built from (rpms.duties.api.record_row_json): plain values, no model objects.
RECORD_ROW_FIELDS = (
    "id", "city_id", "city__code", "unit_id", "unit__name", "unit__district__name", "planner_id", "planner__name",
    "appointment_id", "category", "date", "hours", "place", "participants", "description", "focus", "status",
    "submitted_at", "confirmed_at", "confirmed_by_id", "confirmed_by__display_name", "confirmed_by__username",
)


def duty_record_values(*, user, unit_id=None, planner_id=None, status: str = "", year: int | None = None,
                       month: int | None = None, start=None, end=None, limit: int = LIST_LIMIT, offset: int = 0):
    """The same rows as `duty_record_list`, as dicts of RECORD_ROW_FIELDS plus `evidence_count` (for the API:
    building hundreds of model objects with their unit, district, planner and confirmer costs more than the
    query). ONE query; the page's ids are a LIMIT subquery, the joins and counts run on the page only."""
    records = _filtered_records(user=user, unit_id=unit_id, planner_id=planner_id, status=status, year=year,
                                month=month, start=start, end=end)
    limit = max(0, min(int(limit), LIST_LIMIT))
    offset = max(0, int(offset))
    if limit == 0:
        return []
    return list(
        DutyRecord.objects.filter(pk__in=records[offset:offset + limit].values("pk"))
        .annotate(evidence_count=_evidence_count())
        .order_by("-date", "-id")
        .values(*RECORD_ROW_FIELDS, "evidence_count")
    )


def duty_record_page(*, user, page=None, per_page: int = PAGE_SIZE, **filters):
    """A page of the records the user may read (Django's Paginator: a page number that is not a number → the
    first page, past the end → the last), its `object_list` the full rows with `evidence_count`. Two queries:
    the count of the filtered records (no joins, no grouping, at most PAGE_COUNT_CAP) and the page's rows."""
    per_page = max(1, min(int(per_page), LIST_LIMIT))
    records = _filtered_records(user=user, **filters)
    paged = CappedPaginator(records, per_page, cap=PAGE_COUNT_CAP).get_page(page)
    paged.object_list = _rows_of(paged.object_list)
    return paged


def duty_record_export_rows(*, user, chunk: int = 1000, **filters):
    """Every record of the filtered list (for the Excel export), newest first, in chunks of `chunk` rows read
    by keyset (date, id) — each chunk one query for its rows with `evidence_count`, never a whole-table sort
    with counts."""
    records = _filtered_records(user=user, **filters)
    last = None
    while True:
        batch = records
        if last is not None:
            batch = batch.filter(Q(date__lt=last.date) | Q(date=last.date, id__lt=last.pk))
        rows = _rows_of(batch[:chunk])
        yield from rows
        if len(rows) < chunk:
            return
        last = rows[-1]


def duty_record_get(*, user, pk) -> DutyRecord:
    """A record with its evidence and queries, or NotFound when it is not the user's to read."""
    record = (
        _scoped(_records(), user)
        .prefetch_related(
            Prefetch("evidence", queryset=DutyEvidence.objects.order_by("uploaded_at", "id")),
            Prefetch("queries", queryset=DutyQuery.objects.select_related("asked_by", "answered_by").order_by("asked_at", "id")),
        )
        .filter(pk=pk)
        .first()
    )
    if record is None:
        raise NotFound("履职记录不存在或您无权查看。")
    return record


def _summary_scope(user, *, planner_id=None, unit_id=None):
    records = _scoped(DutyRecord.objects.all(), user)
    if planner_id:
        records = records.filter(planner_id=planner_id)
    if unit_id:
        records = records.filter(unit_id=unit_id)
    return records


def _period_filter(records, *, year: int, month: int | None):
    if not (1900 <= int(year) <= 2999):
        raise DomainError("年份不正确。", code="invalid_period")
    if month:
        if not 1 <= int(month) <= 12:
            raise DomainError("月份应为 1–12。", code="invalid_period")
        # A date range (not EXTRACT(MONTH …)), so the (city|unit, date, id) indexes bound the scan to the month.
        first = dt.date(int(year), int(month), 1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return records.filter(date__gte=first, date__lt=following)
    return records.filter(date__gte=dt.date(int(year), 1, 1), date__lte=dt.date(int(year), 12, 31))


def _tenths(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.1"))


def _summary_city(user, planner_id=None):
    planner = planner_of(user)
    if planner is not None:
        return planner.city
    return getattr(user, "city", None)


# The city's and a district's summaries aggregate up to a year of a city's records (~800 k rows at ten times
# Beijing, ~0.4 s in PostgreSQL): their aggregate rows are kept in the shared cache (rpms.core.pubcache) under
# the scope f"duties:{city_id}", which every change of a duty record of the city bumps (signals in apps.py and
# DutyRecordQuerySet.update/delete). A planner's or a hiring entity's summary (their own units) is computed.
SUMMARY_CACHE_TIMEOUT = 1800


def summary_cache_scope(user) -> tuple[str, str] | None:
    """(pubcache scope, the reader's part of the key) for the readers whose summaries are cached, else None:
    a city administrator or auditor of a city (the city's rows) and a district officer (its districts' rows,
    keyed by the officer; a change of any officer's districts bumps the city's scope (rpms.duties.apps), so an
    officer moved to another district never reads the old district's cached figures)."""
    role = getattr(user, "role", None)
    city_id = getattr(user, "city_id", None)
    if not getattr(user, "is_authenticated", False) or getattr(user, "is_superuser", False) or city_id is None:
        return None
    if role in (Role.CITY_ADMIN, Role.AUDITOR):
        return f"duties:{city_id}", f"city{city_id}"
    if role == Role.DISTRICT_OFFICER:
        # By day too: an officer's districts include a colleague's on the days of a delegation (issue #17 item 7,
        # rpms.accounts.scope_fields); creating or revoking one bumps the scope (rpms.accounts.delegation).
        return f"duties:{city_id}", f"officer{user.pk}:{clock.today():%Y%m%d}"
    return None


def hours_summary(*, user, year: int, month: int | None = None, planner_id=None, unit_id=None, city=None) -> dict:
    """Hours by duty category over a month or a year for what the user may read (a planner: its own;
    a district: its units). ONE aggregate query: values("category").annotate(Sum, Count).

    → {"year","month","rows":[{"code","label","article","hours","confirmed_hours","records"}],
       "total_hours","confirmed_hours","records"} with every category of the city listed (zeros too)."""
    records = _period_filter(_summary_scope(user, planner_id=planner_id, unit_id=unit_id), year=year, month=month)

    def build():
        return {
            row["category"]: row
            for row in records.values("category").annotate(
                sum_hours=Sum("hours"),
                sum_confirmed=Sum("hours", filter=Q(status=DutyStatus.CONFIRMED)),
                n_records=Count("id"),
            ).order_by()
        }

    cache_scope = summary_cache_scope(user)
    if cache_scope is None:
        rows = build()
    else:
        from rpms.core import pubcache

        key = f"hours:{cache_scope[1]}:{int(year)}:{int(month or 0)}:{planner_id or 0}:{unit_id or 0}"
        rows = pubcache.get_or_build(cache_scope[0], key, build, timeout=SUMMARY_CACHE_TIMEOUT)
    city = city or _summary_city(user, planner_id)
    categories = list(city.policy.duty_categories) if city is not None else []
    known = {c["code"] for c in categories}
    result = []
    for category in categories + [{"code": code, "label": "本市政策中已无此类别", "article": ""}
                                   for code in rows if code not in known]:
        row = rows.get(category["code"], {})
        result.append({
            "code": category["code"],
            "label": category["label"],
            "article": category.get("article", ""),
            "hours": _tenths(row.get("sum_hours")),
            "confirmed_hours": _tenths(row.get("sum_confirmed")),
            "records": row.get("n_records") or 0,
        })
    return {
        "year": int(year),
        "month": int(month) if month else None,
        "rows": result,
        "total_hours": sum((r["hours"] for r in result), Decimal(0)),
        "confirmed_hours": sum((r["confirmed_hours"] for r in result), Decimal(0)),
        "records": sum(r["records"] for r in result),
    }


UNIT_SUMMARY_PAGE = 50
UNIT_SUMMARY_MAX = 200


def _summary_units(user, *, year: int, month: int | None):
    """The units the user may read that have records in the period, ordered by district and name — read from the
    units table (one EXISTS probe of the (unit, date, id) index per unit), never by grouping the records."""
    from django.db.models import Exists

    from rpms.geography.models import ResponsibilityUnit

    period = _period_filter(DutyRecord.objects.filter(unit_id=OuterRef("pk")), year=year, month=month)
    q = scope_q(user, city_field="city", unit_field="pk", planner_field="appointments__planner")
    if q is None:
        return ResponsibilityUnit.objects.none()
    if getattr(user, "role", None) == Role.PLANNER:
        # A planner's summary lists its own records only: units where it has records.
        planner = planner_of(user)
        period = period.filter(planner=planner) if planner is not None else period.none()
        q = Q()
    units = ResponsibilityUnit.objects.filter(q).filter(Exists(period))
    return units.order_by("district__name", "name", "id")


def unit_hours_summary(*, user, year: int, month: int | None = None, city=None, limit: int | None = UNIT_SUMMARY_PAGE,
                       offset: int = 0, count: bool = False) -> dict:
    """The district's view: hours by category for each unit (and planner) it may read, paged by UNIT: `limit`
    units (at most UNIT_SUMMARY_MAX) from `offset` among the units that have records in the period, ordered by
    district and name (limit=None: every unit, for the Excel export). ONE aggregate query grouped by unit,
    planner and category over the page's units only (`unit_id IN (the page of units, LIMIT limit + 1)`: the
    extra unit only tells `has_more`), pivoted here; with `count`, one more query counts the units
    (`units_total`, from the units table).

    → {"categories":[{code,label}], "rows":[{"unit_id","unit","district","planner_id","planner",
       "by_category":[hours...], "total_hours","confirmed_hours","records"}], "limit", "offset", "has_more",
       "units_total" (None without `count`)}"""
    year = int(year)
    units_qs = _summary_units(user, year=year, month=month)
    offset = max(0, int(offset or 0))
    records = _period_filter(_summary_scope(user), year=year, month=month)
    if limit is not None:
        limit = max(1, min(int(limit), UNIT_SUMMARY_MAX))
    unit_ids = None
    cache_scope = summary_cache_scope(user)
    if cache_scope is not None and getattr(user, "role", None) in (Role.CITY_ADMIN, Role.AUDITOR):
        # A city's units with records in the period (3,500 index probes at ten times Beijing) are kept in the
        # cache, in page order, with the summaries (same scope, bumped by every record change).
        from rpms.core import pubcache

        unit_ids = pubcache.get_or_build(
            cache_scope[0], f"units:{cache_scope[1]}:{year}:{int(month or 0)}",
            lambda: list(units_qs.values_list("pk", flat=True)), timeout=SUMMARY_CACHE_TIMEOUT)
        end = None if limit is None else offset + limit + 1
        records = records.filter(unit_id__in=unit_ids[offset:end])
    elif limit is not None:
        records = records.filter(unit_id__in=units_qs.values("pk")[offset:offset + limit + 1])
    elif offset:
        records = records.filter(unit_id__in=units_qs.values("pk")[offset:])
    grouped = records.values(
        "unit_id", "unit__name", "unit__district__name", "planner_id", "planner__name", "category"
    ).annotate(
        sum_hours=Sum("hours"), sum_confirmed=Sum("hours", filter=Q(status=DutyStatus.CONFIRMED)), n_records=Count("id")
    ).order_by("unit__district__name", "unit__name", "unit_id", "planner__name", "planner_id")
    if cache_scope is not None:
        # The page's aggregate rows too (same scope: bumped by every record change of the city).
        from rpms.core import pubcache

        grouped = pubcache.get_or_build(
            cache_scope[0], f"unit-rows:{cache_scope[1]}:{year}:{int(month or 0)}:{offset}:{limit}",
            lambda: list(grouped), timeout=SUMMARY_CACHE_TIMEOUT)
    city = city or getattr(user, "city", None)
    categories = [{"code": c["code"], "label": c["label"]} for c in (city.policy.duty_categories if city else [])]
    index = {c["code"]: i for i, c in enumerate(categories)}
    rows: OrderedDict = OrderedDict()
    units_seen: list[int] = []
    for item in grouped:
        if not units_seen or units_seen[-1] != item["unit_id"]:
            units_seen.append(item["unit_id"])
        if limit is not None and len(units_seen) > limit:
            break  # the first unit of the next page: there is more
        key = (item["unit_id"], item["planner_id"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "unit_id": item["unit_id"], "unit": item["unit__name"], "district": item["unit__district__name"],
                "planner_id": item["planner_id"], "planner": item["planner__name"],
                "by_category": [Decimal(0)] * len(categories),
                "total_hours": Decimal(0), "confirmed_hours": Decimal(0), "records": 0,
            }
        hours = _tenths(item["sum_hours"])
        if item["category"] in index:
            row["by_category"][index[item["category"]]] += hours
        row["total_hours"] += hours
        row["confirmed_hours"] += _tenths(item["sum_confirmed"])
        row["records"] += item["n_records"]
    return {"year": year, "month": int(month) if month else None, "categories": categories,
            "rows": list(rows.values()), "limit": limit, "offset": offset,
            "has_more": limit is not None and len(units_seen) > limit,
            "units_total": (len(unit_ids) if unit_ids is not None else units_qs.count()) if count else None}


# The calendar lists at most this many records a month (the earliest days first) and at most CALENDAR_DAY_SHOWN a
# day; every day still shows its full count and hours (one aggregate by day) and links to its records.
CALENDAR_RECORDS = 200
CALENDAR_DAY_SHOWN = 5


def duty_calendar(*, user, year: int, month: int, planner_id=None, unit_id=None) -> dict:
    """A month grid (weeks of 7 days, Monday first) with each day's record count and hours (`count`, `hours`,
    computed by the database: ONE aggregate grouped by day) and at most CALENDAR_DAY_SHOWN of its records
    (`records`, read by ONE bounded query: the month's first CALENDAR_RECORDS records by date), `more` = how many
    of the day's records are not listed. Two queries whatever the number of records (plus the working-day
    calendar's own bounded reads for the holiday marks) — a city's month is never loaded whole (issue #15)."""
    from rpms.workdays.selectors import day_statuses

    if not (1 <= int(month) <= 12):
        raise DomainError("月份应为 1–12。", code="invalid_period")
    month_records = _period_filter(_summary_scope(user, planner_id=planner_id, unit_id=unit_id), year=year, month=month)

    def build():
        return {
            row["date"]: row
            for row in month_records.order_by().values("date").annotate(n=Count("id"), sum_hours=Sum("hours"))
        }

    cache_scope = summary_cache_scope(user)
    if cache_scope is None:
        per_day = build()
    else:  # a city's month is ~65 k records at ten times Beijing: its day totals are cached like the summaries
        from rpms.core import pubcache

        key = f"calendar:{cache_scope[1]}:{int(year)}:{int(month)}:{planner_id or 0}:{unit_id or 0}"
        per_day = pubcache.get_or_build(cache_scope[0], key, build, timeout=SUMMARY_CACHE_TIMEOUT)
    by_day: dict[dt.date, list] = {}
    shown = month_records.select_related("unit").only(
        "id", "date", "hours", "status", "unit_id", "unit__name"
    ).order_by("date", "id")[:CALENDAR_RECORDS]
    for record in shown:
        day_list = by_day.setdefault(record.date, [])
        if len(day_list) < CALENDAR_DAY_SHOWN:
            day_list.append(record)
    weeks_dates = calendar.Calendar(firstweekday=0).monthdatescalendar(int(year), int(month))
    try:
        statuses = {s.date: s for s in day_statuses(weeks_dates[0][0], weeks_dates[-1][-1])}
    except DomainError:
        statuses = {}
    today = clock.today()
    weeks = []
    for week in weeks_dates:
        days = []
        for day in week:
            in_month = day.month == int(month)
            day_records = by_day.get(day, []) if in_month else []
            totals = per_day.get(day, {}) if in_month else {}
            count = totals.get("n") or 0
            status = statuses.get(day)
            days.append({
                "date": day,
                "in_month": in_month,
                "is_today": day == today,
                "is_working": status.is_working if status else day.weekday() < 5,
                "label": (status.label if status else ""),
                "records": day_records,
                "count": count,
                "more": count - len(day_records),
                "hours": _tenths(totals.get("sum_hours")) if count else Decimal(0),
            })
        weeks.append(days)
    first = dt.date(int(year), int(month), 1)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return {"year": int(year), "month": int(month), "weeks": weeks, "previous": previous, "next": following,
            "total_hours": sum((_tenths(r["sum_hours"]) for r in per_day.values()), Decimal(0)),
            "records": sum(r["n"] for r in per_day.values())}


def awaiting_confirmation(user):
    """Records waiting for this hiring entity or district officer to confirm (not the planner's own)."""
    if getattr(user, "role", None) not in (Role.HIRING_ENTITY, Role.DISTRICT_OFFICER):
        return DutyRecord.objects.none()
    return _scoped(DutyRecord.objects.all(), user).filter(status=DutyStatus.SUBMITTED)


# --- data requests ---------------------------------------------------------------------------------


def _requests():
    return DataRequest.objects.select_related("city__policy", "unit__district", "planner", "department", "answered_by")


def data_request_list(*, user, status: str = "", unit_id=None, limit: int = LIST_LIMIT):
    """Requests the user may read, each with `material_count`. One query."""
    requests = _scoped(_requests(), user).annotate(material_count=Count("materials"))
    if status:
        if status not in DataRequestStatus.values:
            raise DomainError("状态应为 submitted、delivered 或 refused。", code="invalid_status")
        requests = requests.filter(status=status)
    if unit_id:
        requests = requests.filter(unit_id=unit_id)
    return list(requests.order_by("-submitted_at", "-id")[:limit])


def data_request_get(*, user, pk) -> DataRequest:
    request = (
        _scoped(_requests(), user)
        .prefetch_related(Prefetch("materials", queryset=DataMaterial.objects.select_related("uploaded_by").order_by("uploaded_at", "id")))
        .filter(pk=pk)
        .first()
    )
    if request is None:
        raise NotFound("资料申请不存在或您无权查看。")
    return request


def data_material_get(*, user, request_pk, material_pk) -> DataMaterial:
    """A material of a request the user may read (entitlement to a non-public file is checked by the
    download service)."""
    request = data_request_get(user=user, pk=request_pk)
    material = next((m for m in request.materials.all() if m.pk == int(material_pk)), None)
    if material is None:
        raise NotFound("文件不存在或您无权下载。")
    material.request = request
    return material


def download_log_list(*, user, request: DataRequest, limit: int = 200):
    """The download log of a request's materials (the request must already be visible to the user)."""
    return list(
        DownloadLog.objects.filter(material__request=request).select_related("material").order_by("-at", "-id")[:limit]
    )


def awaiting_data_answer(user):
    """Requests this user is expected to answer: entity → addressed to it; district officer → its districts."""
    if getattr(user, "role", None) == Role.HIRING_ENTITY:
        return DataRequest.objects.filter(unit_id__in=entity_unit_ids(user), addressee="entity",
                                          status=DataRequestStatus.SUBMITTED)
    if getattr(user, "role", None) == Role.DISTRICT_OFFICER:
        return DataRequest.objects.filter(unit__district__in=officer_district_ids(user), status=DataRequestStatus.SUBMITTED)
    return DataRequest.objects.none()


# --- work certificates -----------------------------------------------------------------------------


def _certificates():
    return WorkCertificate.objects.select_related("city", "planner", "document", "issued_by").prefetch_related("units")


def work_certificate_list(*, user, planner_id=None, limit: int = LIST_LIMIT):
    """Certificates the user may read: the planner its own, the entity those of its units, the district its
    districts', the city its city's. Two queries (rows + units)."""
    q = scope_q(user, unit_field="units")
    if q is None:
        return []
    certificates = _certificates().filter(q).distinct()
    if planner_id:
        certificates = certificates.filter(planner_id=planner_id)
    return list(certificates.order_by("-issued_at", "-id")[:limit])


def work_certificate_get(*, user, pk) -> WorkCertificate:
    q = scope_q(user, unit_field="units")
    certificate = None if q is None else _certificates().filter(q).filter(pk=pk).distinct().first()
    if certificate is None:
        raise NotFound("工作证明不存在或您无权查看。")
    return certificate


def certifiable_planners(user) -> list:
    """Planners with confirmed records in this entity's units (whom it may certify). One query."""
    from rpms.registry.models import Planner

    units = entity_unit_ids(user)
    if not units:
        return []
    return list(
        Planner.objects.filter(duty_records__unit_id__in=units, duty_records__status=DutyStatus.CONFIRMED)
        .distinct().order_by("name", "id")
    )


# --- extra work ------------------------------------------------------------------------------------


def _extra():
    return ExtraWork.objects.select_related("city", "unit__district", "planner", "appointment")


def extra_work_list(*, user, appointment_id=None, unit_id=None, limit: int = LIST_LIMIT):
    works = _scoped(_extra(), user)
    if appointment_id:
        works = works.filter(appointment_id=appointment_id)
    if unit_id:
        works = works.filter(unit_id=unit_id)
    return list(works.order_by("-contract_date", "-id")[:limit])


def extra_work_get(*, user, pk) -> ExtraWork:
    work = _scoped(_extra(), user).filter(pk=pk).first()
    if work is None:
        raise NotFound("另行签约工作不存在或您无权查看。")
    return work


def appointment_for_extra_work(*, user, pk):
    """The appointment to record extra work against, if the user may see it (its planner, the unit's entity,
    the district officer, city-wide readers); otherwise NotFound."""
    from rpms.appointments.models import Appointment

    appointment = _scoped(
        Appointment.objects.select_related("city__policy", "unit__district", "planner"), user
    ).filter(pk=pk).first()
    if appointment is None:
        raise NotFound("派驻聘任不存在或您无权查看。")
    return appointment


def manageable_appointments(user, *, limit: int = 200):
    """Appointments in force (or upcoming) the user may record extra work against. One query."""
    from rpms.appointments.models import Appointment

    if getattr(user, "role", None) not in (Role.PLANNER, Role.HIRING_ENTITY, Role.DISTRICT_OFFICER):
        return []
    return list(
        _scoped(Appointment.objects.not_over(on=clock.today()).select_related("unit__district", "planner", "city__policy"), user)
        .order_by("unit__name", "id")[:limit]
    )


# --- monitoring feedback ---------------------------------------------------------------------------


def _feedback():
    return MonitoringFeedback.objects.select_related("city", "district", "unit", "planner", "department", "answered_by")


def monitoring_feedback_list(*, user, status: str = "", limit: int = LIST_LIMIT):
    items = _scoped(_feedback(), user)
    if status:
        if status not in FeedbackStatus.values:
            raise DomainError("状态应为 submitted 或 answered。", code="invalid_status")
        items = items.filter(status=status)
    return list(items.order_by("-submitted_at", "-id")[:limit])


def monitoring_feedback_get(*, user, pk) -> MonitoringFeedback:
    item = _scoped(_feedback(), user).filter(pk=pk).first()
    if item is None:
        raise NotFound("实施监督反馈不存在或您无权查看。")
    return item


def awaiting_feedback_answer(user):
    if getattr(user, "role", None) != Role.DISTRICT_OFFICER:
        return MonitoringFeedback.objects.none()
    return MonitoringFeedback.objects.filter(district__in=officer_district_ids(user), status=FeedbackStatus.SUBMITTED)


# --- the planner's units ---------------------------------------------------------------------------


def planner_units(user, *, on=None) -> list:
    """The appointments in force today of the planner acting as `user` (unit and district loaded)."""
    from rpms.appointments.serving import serving_appointments

    return list(serving_appointments(user, on=on or clock.today()).order_by("unit__name", "id"))


def unit_for_planner(*, user, pk):
    """A unit the planner serves today (with its appointment), else NotFound."""
    from rpms.appointments.serving import serving_appointment
    from rpms.geography.models import ResponsibilityUnit

    unit = ResponsibilityUnit.objects.select_related("city__policy", "district").filter(pk=pk).first()
    if unit is None:
        raise NotFound("责任单元不存在。")
    appointment = serving_appointment(user=user, unit=unit, on=clock.today())
    if appointment is None:
        raise NotFound("您今天未受聘服务该责任单元。")
    return unit, appointment


def unit_for_act(*, user, pk):
    """The unit named in a planner's request (API): any existing unit — the service then answers 403 when
    the planner does not serve it, rather than hiding a public unit."""
    from rpms.geography.models import ResponsibilityUnit

    unit = ResponsibilityUnit.objects.select_related("city__policy", "district").filter(pk=pk).first()
    if unit is None:
        raise NotFound("责任单元不存在。")
    return unit
