"""Kept and cached annual statistics (issue #15).

- A finished year (before this year) is computed once and kept in AnnualStatisticsSnapshot, per city, year and
  scope (whole city, or the districts reported and whether the city-level topics are included — a district
  officer's figures are never served to anyone else, nor the city's to him), with the shared cache
  (rpms.core.pubcache) in front. It is recomputed on the next read when
    * late data arrives: a write to one of its inputs (receivers below, registered in ReportsConfig.ready())
      marks the city's rows of the years concerned stale after the transaction commits, and raises the cache
      generations of those years at once (so the writer's own transaction reads the new figures too);
    * a figure counted "as of today" would change with the date: a finished year still shows what is overdue or
      pending today (unanswered suggestions, unpaid allowances and fees) and the pool now; `valid_until` is the
      last day before the earliest such change (the row is not used before `computed_on` either);
    * the program's definitions change (SOURCE_VERSION).
  A row survives a cache flush (the generations restart at 1 and never invalidate a row by being lower).
- The current year is cached for CURRENT_YEAR_TIMEOUT seconds under the same generations, so a new record of
  the year shows at once.

Writes that bypass save()/delete() (QuerySet.update, bulk_create) send no signal: the services that do so call
rpms.core.hooks.rows_written_in_bulk(model, city_id=, years=), whose handler here (`rows_written_in_bulk`) marks
what the rows feed stale as a saved row would."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone

from rpms.core import clock, pubcache

logger = logging.getLogger(__name__)

# Raise when the computation changes what a kept year shows: every kept row is then recomputed on its next read.
SOURCE_VERSION = 1
CURRENT_YEAR_TIMEOUT = 300  # seconds: the current year's figures are at most this old (and new data bumps them)
_NOT_KEPT = ("definitions", "labels")  # constants of the program, re-attached on read


def city_scope(city_id) -> str:
    return pubcache.statistics_scope(city_id)


def year_scope(city_id, year) -> str:
    return pubcache.statistics_scope(city_id, year)


def scope_key(district_ids: Iterable[int] | None, city_level: bool) -> str:
    """Which figures: the whole city, or these districts with or without the city-level topics."""
    if district_ids is None:
        return "city" if city_level else "city:no-city-level"
    ids = ",".join(str(pk) for pk in sorted(set(district_ids)))
    return f"districts:{ids}:{'with' if city_level else 'without'}-city-level"


# --- reading ------------------------------------------------------------------------------------------------------


def statistics(*, city, year: int, district_ids, city_level: bool, today: dt.date, compute: Callable[[], dict],
               constants: dict) -> dict:
    """The statistics dict of `compute()`, kept (finished year) or cached (current year)."""
    key = scope_key(district_ids, city_level)
    city_gen = pubcache.generation(city_scope(city.pk))
    cache_key = f"{key}:{today.isoformat()}:{city_gen}"
    if year >= today.year:
        return pubcache.get_or_build(year_scope(city.pk, year), f"current:{cache_key}", compute,
                                     timeout=CURRENT_YEAR_TIMEOUT)
    kept = pubcache.get_or_build(year_scope(city.pk, year), f"kept:{cache_key}",
                                 lambda: _kept(city, year, key, today, city_gen, compute))
    return {**kept, **{name: constants[name] for name in _NOT_KEPT if name in kept}}


def _kept(city, year: int, key: str, today: dt.date, city_gen: int, compute: Callable[[], dict]) -> dict:
    from .models import AnnualStatisticsSnapshot

    year_gen = pubcache.generation(year_scope(city.pk, year))
    row = AnnualStatisticsSnapshot.objects.filter(city=city, year=year, scope_key=key).first()
    if row is not None and _usable(row, today, city_gen, year_gen):
        return row.data
    data = compute()
    kept = {name: (None if name in _NOT_KEPT else value) for name, value in data.items()}
    values = {"data": kept, "computed_at": clock.now(), "computed_on": today,
              "valid_until": _valid_until(city, year, today), "source_version": SOURCE_VERSION,
              "city_generation": city_gen, "year_generation": year_gen, "stale": False}
    if row is None:
        # Two first readers at once: the second insert is ignored (both computed the same figures).
        AnnualStatisticsSnapshot.objects.bulk_create(
            [AnnualStatisticsSnapshot(city=city, year=year, scope_key=key, **values)], ignore_conflicts=True)
    else:
        AnnualStatisticsSnapshot.objects.filter(pk=row.pk).update(**values)
    return kept


def _usable(row, today: dt.date, city_gen: int, year_gen: int) -> bool:
    return (not row.stale and row.source_version == SOURCE_VERSION
            and row.computed_on <= today and (row.valid_until is None or today <= row.valid_until)
            # A write bumped the generation since (its own transaction reads the new figures before the row is
            # marked stale at commit); after a cache flush the generations restart lower and do not count.
            and row.city_generation >= city_gen and row.year_generation >= year_gen)


def _valid_until(city, year: int, today: dt.date) -> dt.date | None:
    """The last day on which a finished year's "as of today" figures stay as computed `today` (None: forever).

    Those figures: unanswered suggestions of the year (pending until their due day, overdue after it), unpaid
    allowances due in the year and unpaid fee instalments due in it (overdue after their due / pay-by day),
    and the pool now (a dossier event dated after today counts from its day on)."""
    from django.db.models import DateField, DateTimeField, Min, OuterRef, Q, Subquery

    from rpms.cities.models import City
    from rpms.registry.models import DossierEvent
    from rpms.suggestions.models import Suggestion
    from rpms.suggestions.selectors import pending_q

    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)

    def earliest(queryset, field, output):
        # MIN over the rows of the city (grouped by nothing): one scalar subquery each, all in one SELECT.
        return Subquery(queryset.order_by().annotate(_one=models_value(1)).values("_one").annotate(d=Min(field))
                        .values("d")[:1], output_field=output)

    subqueries = {
        "suggestion": earliest(Suggestion.objects.filter(pending_q(), city=OuterRef("pk"), received_on__gte=start,
                                                         received_on__lte=end, due_on__gte=today), "due_on", DateField()),
        "event": earliest(DossierEvent.objects.filter(planner__city=OuterRef("pk"), occurred_at__gte=timezone.make_aware(
            dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))), "occurred_at", DateTimeField()),
    }
    try:
        allowance = apps.get_model("finance", "Allowance")
        installment = apps.get_model("finance", "FeeInstallment")
    except LookupError:
        allowance = installment = None
    if allowance is not None:
        subqueries["allowance"] = earliest(allowance.objects.filter(
            city=OuterRef("pk"), status="due", due_on__gte=max(start, today), due_on__lte=end), "due_on", DateField())
        subqueries["installment"] = earliest(installment.objects.filter(
            ~Q(status="paid"), city=OuterRef("pk"), due_on__gte=start, due_on__lte=end, pay_by__gte=today),
            "pay_by", DateField())
    found = City.objects.filter(pk=city.pk).annotate(**subqueries).values(*subqueries).first() or {}
    candidates = [found.get("suggestion"), found.get("allowance"), found.get("installment")]
    if found.get("event") is not None:
        candidates.append(timezone.localtime(found["event"]).date() - dt.timedelta(days=1))
    found = [d for d in candidates if d is not None]
    return min(found) if found else None


def models_value(value):
    from django.db.models import Value

    return Value(value)


# --- late data ----------------------------------------------------------------------------------------------------


def mark_stale(city_id: int | None, years: Iterable[int] | None = None) -> None:
    """The kept statistics of `city_id` (None: every city) for `years` (None: every year) are stale: the cache
    generations are raised now, the rows are marked when the transaction commits (one UPDATE per city)."""
    years = None if years is None else sorted({int(y) for y in years if y})
    if years == []:
        return
    city_ids = [city_id] if city_id is not None else _all_city_ids()
    for cid in city_ids:
        if years is None:
            pubcache.bump_now(city_scope(cid))  # bumped once more at commit (below)
        else:
            for year in years:
                pubcache.bump_now(year_scope(cid, year))
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _apply({(cid, y) for cid in city_ids for y in (years or [None])})
        return
    # One callback per transaction (and savepoint), however many rows it writes (an import of thousands of
    # records); one registered in another savepoint is not reused, so a rolled-back savepoint loses only its own.
    savepoints = set(connection.savepoint_ids)
    for sids, func, _robust in connection.run_on_commit:
        pending = getattr(func, "statistics_pending", None)
        if pending is not None and sids == savepoints:
            pending.update((cid, y) for cid in city_ids for y in (years or [None]))
            return

    def flush():
        _apply(flush.statistics_pending)

    flush.statistics_pending = {(cid, y) for cid in city_ids for y in (years or [None])}
    transaction.on_commit(flush)


def _all_city_ids() -> list[int]:
    from rpms.cities.models import City

    return list(City.objects.values_list("pk", flat=True))


def _apply(pending: set) -> None:
    from .models import AnnualStatisticsSnapshot

    by_city: dict = {}
    for cid, year in pending:
        by_city.setdefault(cid, set()).add(year)
    try:
        for cid, years in by_city.items():
            rows = AnnualStatisticsSnapshot.objects.filter(city_id=cid, stale=False)
            if None in years:
                pubcache.bump_now(city_scope(cid))
            else:
                rows = rows.filter(year__in=sorted(years))
                for year in years:
                    pubcache.bump_now(year_scope(cid, year))
            rows.update(stale=True)
    except Exception:  # noqa: BLE001 — the write that triggered this has committed; never fail it afterwards
        logger.exception("statistics: could not mark kept years stale for %s", sorted(by_city))


def _year_of(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).year if timezone.is_aware(value) else value.year
    if isinstance(value, dt.date):
        return value.year
    return None


# (app, model) → the fields whose year is the statistics year the row counts in.
YEAR_FIELDS = {
    ("duties", "DutyRecord"): ("date",),
    ("suggestions", "Suggestion"): ("received_on",),
    ("opinions", "WrittenOpinion"): ("issued_at",),
    ("assessments", "Assessment"): ("year",),
    ("finance", "Allowance"): ("due_on", "paid_on"),
    ("finance", "FeeInstallment"): ("due_on",),
    ("finance", "FeePayment"): ("paid_on",),
}
# (app, model) → every year of the row's city: figures shown "now" in every year (the pool, pending exceptions),
# appointments (they span years), the city's districts, units and policy (labels, categories, grouping).
CITY_FIELD = {
    ("registry", "Planner"): "city_id",
    ("registry", "LimitException"): "city_id",
    ("appointments", "Appointment"): "city_id",
    ("geography", "District"): "city_id",
    ("geography", "ResponsibilityUnit"): "city_id",
    ("cities", "PolicyProfile"): "city_id",
    ("cities", "City"): "pk",
}
# (app, model) → (foreign key, parent (app, model), the parent's year field or None for every year).
VIA_PARENT = {
    ("registry", "DossierEvent"): ("planner_id", ("registry", "Planner"), None),
    ("appointments", "AppointmentTerm"): ("appointment_id", ("appointments", "Appointment"), None),
    ("opinions", "OpinionResponse"): ("opinion_id", ("opinions", "WrittenOpinion"), "issued_at"),
    ("suggestions", "SuggestionReply"): ("suggestion_id", ("suggestions", "Suggestion"), "received_on"),
}
# Every city, every year: the working-day calendar (response times in working days).
EVERYWHERE = (("workdays", "CalendarDay"), ("workdays", "CalendarYear"))

_SEEN = "_statistics_years_seen"


def _years_now(instance, fields) -> set | None:
    values = instance.__dict__
    if any(name not in values for name in fields):  # a deferred field: do not load it
        return None
    return {_year_of(values[name]) for name in fields} - {None}


def _remember_years(sender, instance, **kwargs):
    fields = YEAR_FIELDS.get((sender._meta.app_label, sender.__name__))
    if fields and instance.pk is not None:
        setattr(instance, _SEEN, _years_now(instance, fields))


def _on_year_row(sender, instance, raw=False, **kwargs):
    if raw:
        return
    fields = YEAR_FIELDS[(sender._meta.app_label, sender.__name__)]
    now = _years_now(instance, fields)
    before = getattr(instance, _SEEN, set()) if not kwargs.get("created") else set()
    years = None if now is None or before is None else now | before
    mark_stale(getattr(instance, "city_id", None), years)
    setattr(instance, _SEEN, now)


def _on_city_row(sender, instance, raw=False, **kwargs):
    if raw:
        return
    attr = CITY_FIELD[(sender._meta.app_label, sender.__name__)]
    mark_stale(getattr(instance, attr, None))


def _on_child_row(sender, instance, raw=False, **kwargs):
    if raw:
        return
    fk, (app, name), year_field = VIA_PARENT[(sender._meta.app_label, sender.__name__)]
    parent = apps.get_model(app, name)
    columns = ["city_id"] + ([year_field] if year_field else [])
    found = parent.objects.filter(pk=getattr(instance, fk)).values_list(*columns).first()
    if found is None:
        mark_stale(None, None)
        return
    mark_stale(found[0], None if year_field is None else [_year_of(found[1])])


def _on_everywhere(sender, instance, raw=False, **kwargs):
    if not raw:
        mark_stale(None, None)


def rows_written_in_bulk(*, model, city_id=None, years=None) -> None:
    """hooks.ROWS_WRITTEN_IN_BULK: a lower app wrote rows of `model` without signals (bulk_create, update)."""
    key = (model._meta.app_label, model.__name__)
    if key in EVERYWHERE:
        mark_stale(None, None)
    elif key in YEAR_FIELDS:
        mark_stale(city_id, years)
    elif key in CITY_FIELD:
        mark_stale(city_id, None)
    elif key in VIA_PARENT:
        mark_stale(city_id, years if VIA_PARENT[key][2] else None)


def connect_receivers() -> None:
    """Called once from ReportsConfig.ready(): reports is the top layer, so it listens to the lower apps."""
    def connect(key, receiver, init=False):
        try:
            model = apps.get_model(*key)
        except LookupError:
            return
        uid = f"reports.statistics.{key[0]}.{key[1]}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}.save")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}.delete")
        if init:
            post_init.connect(_remember_years, sender=model, weak=False, dispatch_uid=f"{uid}.init")

    for key in YEAR_FIELDS:
        connect(key, _on_year_row, init=True)
    for key in CITY_FIELD:
        connect(key, _on_city_row)
    for key in VIA_PARENT:
        connect(key, _on_child_row)
    for key in EVERYWHERE:
        connect(key, _on_everywhere)
