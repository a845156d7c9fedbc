#!/usr/bin/env python
"""Benchmark: annual statistics (年度统计, issue #6 item 7, B19(6)). Target: ≤ 2 s on PostgreSQL.

Generates a 10× Beijing year (--scale 1): 3,500 responsibility units, 20,000 planners (with their dossier
events), about 4,000 appointments (first terms and renewals), 1,000,000 duty records, 200,000 residents'
suggestions, 10,000 issued written opinions (with their documents and responses), a graded assessment per
appointment and a fee schedule with payments — every row fictional, spread over the year and its edges
(some rows of the year before and after, so the filters have work to do). Then it times
`rpms.reports.selectors.city_statistics(city=beijing, year=…)`: cold (first call on a fresh database
connection) and warm (best of three), and prints the seconds, the number of queries and the slowest queries.

    scripts/with-postgres.sh .venv/bin/python bench/statistics.py        # PostgreSQL (throwaway cluster)
    .venv/bin/python bench/statistics.py --scale 0.05                     # SQLite in a temporary directory
    DATABASE_URL=postgresql://… .venv/bin/python bench/statistics.py      # an EMPTY PostgreSQL database

With DATABASE_URL set to PostgreSQL the database is migrated and filled; it refuses a database that already
holds cities (it would add a million fictional rows to it) unless --disposable-database is given. Without
DATABASE_URL (or with --sqlite) it uses a throwaway SQLite file. The big tables are written with COPY on
PostgreSQL and executemany on SQLite (bulk_create for the small ones); ANALYZE runs before the timing.
"""
import sys
from pathlib import Path

# This file is named like the standard library's `statistics`, which Django's SQLite backend imports: run as a
# script, its own folder comes first on sys.path, so take it off before anything imports `statistics`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import tempfile
import time
from decimal import Decimal

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

FULL = {"units": 3_500, "planners": 20_000, "duty_records": 1_000_000, "suggestions": 200_000, "opinions": 10_000}


# --- raw writing: COPY on PostgreSQL, executemany on SQLite ----------------------------------------------------------


class Writer:
    """Writes generated tuples into a model's table. Columns not given get the field's default (or NULL)."""

    def __init__(self, connection):
        self.connection = connection
        self.vendor = connection.vendor

    def _converter(self, field):
        internal = field.get_internal_type()
        if self.vendor == "postgresql":
            if internal == "JSONField":
                from psycopg.types.json import Jsonb

                return Jsonb
            return None
        if internal == "DateTimeField":
            return lambda v: None if v is None else str(v.astimezone(dt.UTC).replace(tzinfo=None))
        if internal == "DateField":
            return lambda v: None if v is None else v.isoformat()
        if internal == "DecimalField":
            return lambda v: None if v is None else str(v)
        if internal == "JSONField":
            return lambda v: json.dumps(v, ensure_ascii=False)
        if internal == "BooleanField":
            return lambda v: None if v is None else int(v)
        return None

    def write(self, model, names: list[str], rows, *, now) -> int:
        fields = {f.name: f for f in model._meta.concrete_fields}
        given = [fields[n] for n in names]
        rest = []
        for field in model._meta.concrete_fields:
            if field.primary_key or field.name in names:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            elif field.has_default():
                value = field.get_default()
            elif field.null:
                value = None
            elif field.get_internal_type() in ("CharField", "TextField", "SlugField", "EmailField"):
                value = ""
            else:
                raise RuntimeError(f"{model.__name__}.{field.name}: no value and no default")
            rest.append((field, value))
        columns = [f.column for f in given] + [f.column for f, _ in rest]
        converters = [self._converter(f) for f in given] + [self._converter(f) for f, _ in rest]
        constant = [v for _, v in rest]
        table = model._meta.db_table
        quoted = ", ".join(self.connection.ops.quote_name(c) for c in columns)
        count = 0

        def converted(row):
            values = list(row) + constant
            return [c(v) if c is not None else v for c, v in zip(converters, values)]

        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {self.connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(converted(row))
                        count += 1
            else:
                sql = f"INSERT INTO {self.connection.ops.quote_name(table)} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))})"
                batch = []
                for row in rows:
                    batch.append(converted(row))
                    if len(batch) == 10_000:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    count += len(batch)
        return count


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- generation ----------------------------------------------------------------------------------------------------------


def generate(*, city, year: int, scale: float, seed: int, out) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from rpms.appointments.models import Appointment, AppointmentTerm
    from rpms.core import clock
    from rpms.documents.models import IssuedDocument
    from rpms.duties.models import DutyRecord
    from rpms.geography.models import Department, District, ResponsibilityUnit
    from rpms.opinions.models import OpinionResponse, WrittenOpinion
    from rpms.registry.models import DossierEvent, Planner
    from rpms.suggestions.models import Suggestion

    writer = Writer(connection)
    now = clock.now()
    tz = timezone.get_current_timezone()
    y0 = dt.date(year, 1, 1)

    def at(day: dt.date, hour: int = 10) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=tz)

    counts = {}
    policy = city.policy
    categories = [c["code"] for c in policy.duty_categories]
    grounds = [g["code"] for g in policy.removal_grounds]
    roles = [r["code"] for r in policy.roles] or ["responsible_planner"]
    want = {k: max(1, round(v * scale)) for k, v in FULL.items()}

    def step(label, started):
        out(f"  生成 {label:<34} {time.perf_counter() - started:7.1f} s")

    with transaction.atomic():
        # units ------------------------------------------------------------------------------------------------------
        t = time.perf_counter()
        districts = list(District.objects.filter(city=city).order_by("sort_order", "code"))
        existing = ResponsibilityUnit.objects.filter(city=city, dissolved_at__isnull=True).count()
        extra = max(0, want["units"] - existing)
        ResponsibilityUnit.objects.bulk_create(
            [ResponsibilityUnit(city=city, district=districts[n % len(districts)], name=f"基准测试责任单元{n:05d}")
             for n in range(extra)], batch_size=2000)
        ResponsibilityUnit.objects.filter(city=city).update(created_at=at(dt.date(year - 1, 6, 1)))
        units = list(ResponsibilityUnit.objects.filter(city=city, dissolved_at__isnull=True).values_list("id", "district_id"))
        counts["units"] = len(units)
        step(f"责任单元 {len(units):,}", t)

        # planners and dossier events ----------------------------------------------------------------------------------
        t = time.perf_counter()
        planners = []
        for n in range(want["planners"]):
            r = n % 100
            kind = "team" if n % 10 == 0 else "individual"
            if r < 75:
                status, admitted, removed, ground = "active", at(dt.date(year - 2, 1, 1) + dt.timedelta(days=n % 700)), None, ""
            elif r < 90:
                status, admitted, removed, ground = "active", at(y0 + dt.timedelta(days=n % 360)), None, ""
            elif r < 95:
                status, admitted = "removed", at(dt.date(year - 2, 3, 1) + dt.timedelta(days=n % 300))
                removed, ground = at(y0 + dt.timedelta(days=n % 365), 15), grounds[n % len(grounds)]
            else:
                status, admitted, removed, ground = "candidate", None, None, ""
            planners.append(Planner(city=city, name=f"基准规划师{n:06d}", kind=kind, pool_status=status, admitted_at=admitted,
                                    removed_at=removed, removal_ground=ground, source="import", is_fictional=True))
        Planner.objects.bulk_create(planners, batch_size=2000)
        planners = list(Planner.objects.filter(city=city, is_fictional=True, name__startswith="基准规划师")
                        .values_list("id", "pool_status", "admitted_at", "removed_at", "removal_ground"))
        routes = ["admitted", "commissioned", "imported"]

        def events():
            for n, (pk, status, admitted, removed, ground) in enumerate(planners):
                if admitted is not None:
                    yield (pk, routes[n % 3], admitted, "B19(1)", "入库", {})
                if removed is not None:
                    yield (pk, "removed", removed, "B20", "调出资源库", {"ground": ground})

        counts["dossier_events"] = writer.write(DossierEvent, ["planner", "kind", "occurred_at", "article", "summary", "data"],
                                                events(), now=now)
        counts["planners"] = len(planners)
        step(f"责任规划师 {len(planners):,}（档案 {counts['dossier_events']:,}）", t)

        # appointments and terms ---------------------------------------------------------------------------------------
        t = time.perf_counter()
        active_planners = [p[0] for p in planners if p[1] == "active"]
        appointments = []
        slots = [(u, 0) for u in units] + [(u, 1) for u in units[: len(units) * 15 // 100]]
        for n, ((unit_id, _district_id), second) in enumerate(slots):
            r = (n * 37) % 100
            planner_id = active_planners[(n * 7919) % len(active_planners)]
            ended_on, status = None, "active"
            if r < 70:
                start, end = dt.date(year - 1, 1, 1) + dt.timedelta(days=n % 365), dt.date(year + 1, 1, 1) + dt.timedelta(days=n % 300)
            elif r < 80:
                start = y0 + dt.timedelta(days=n % 330)
                end = _years_later(start, 1) - dt.timedelta(days=1)
            elif r < 87:
                start, status = dt.date(year - 1, 1, 1) + dt.timedelta(days=n % 365), "ended"
                end = _years_later(start, 1) - dt.timedelta(days=1)
            elif r < 92:
                start, end, status = dt.date(year - 1, 6, 1), dt.date(year + 1, 5, 31), "withdrawn"
                ended_on = y0 + dt.timedelta(days=n % 360)
            elif r < 95:
                start, end, status = dt.date(year - 1, 3, 1), dt.date(year + 1, 2, 28), "terminated"
                ended_on = y0 + dt.timedelta(days=n % 360)
            else:
                start, end, status = dt.date(year - 2, 1, 1), dt.date(year - 1, 12, 31), "ended"
            appointments.append(Appointment(
                city=city, unit_id=unit_id, planner_id=planner_id, role=roles[second % len(roles)], start=start, end=end,
                status=status, ended_on=ended_on, term_no=1, party_a="虚构街道办事处", source="bench",
                fee_yuan=60_000, filed_at=at(start),
            ))
        Appointment.objects.bulk_create(appointments, batch_size=2000)
        appointments = list(Appointment.objects.filter(city=city, source="bench").order_by("id")
                            .values_list("id", "unit_id", "planner_id", "start", "end", "status", "ended_on"))
        terms = []
        for n, (pk, _u, _p, start, end, status, _e) in enumerate(appointments):
            renewed = status == "active" and n % 5 == 0 and end.year > year
            first_end = dt.date(year, 8, 31) if renewed else end
            if renewed and first_end < start:
                renewed, first_end = False, end
            terms.append(AppointmentTerm(appointment_id=pk, term_no=1, kind="first", start=start, end=first_end, years=1))
            if renewed:
                terms.append(AppointmentTerm(appointment_id=pk, term_no=2, kind="renewal", start=first_end + dt.timedelta(days=1),
                                             end=end, years=1))
        AppointmentTerm.objects.bulk_create(terms, batch_size=2000)
        counts["appointments"], counts["appointment_terms"] = len(appointments), len(terms)
        step(f"派驻聘任 {len(appointments):,}（聘期 {len(terms):,}）", t)

        # duty records (the big one) -----------------------------------------------------------------------------------
        t = time.perf_counter()
        hours = [Decimal(h) / 2 for h in range(1, 17)]
        day_times = {d: at(y0 + dt.timedelta(days=d - 10), 18) for d in range(400)}

        def duty_rows():
            count_a = len(appointments)
            for g in range(want["duty_records"]):
                pk, unit_id, planner_id, *_ = appointments[(g * 7919) % count_a]
                offset = (g * 104_729) % 385  # days from 10 days before the year to 10 days after
                day = y0 + dt.timedelta(days=offset - 10)
                confirmed = g % 5 != 0
                stamp = day_times[offset]
                yield (city.pk, unit_id, pk, planner_id, categories[g % len(categories)], day, hours[g % 16], "社区活动室",
                       "基准测试履职记录", "confirmed" if confirmed else "submitted", stamp, stamp if confirmed else None)

        counts["duty_records"] = writer.write(
            DutyRecord, ["city", "unit", "appointment", "planner", "category", "date", "hours", "place", "description",
                         "status", "submitted_at", "confirmed_at"], duty_rows(), now=now)
        step(f"履职记录 {counts['duty_records']:,}", t)

        # suggestions ------------------------------------------------------------------------------------------------
        t = time.perf_counter()
        department = Department.objects.get_or_create(city=city, district=None, name="基准测试市级部门")[0]
        reply_times = {d: at(y0 + dt.timedelta(days=d - 10), 16) for d in range(430)}
        receipt_times = {d: at(y0 + dt.timedelta(days=d - 10), 9) for d in range(430)}

        def suggestion_rows():
            count_u = len(units)
            for g in range(want["suggestions"]):
                unit_id, district_id = units[(g * 31) % count_u]
                offset = (g * 104_729) % 385
                received_on = y0 + dt.timedelta(days=offset - 10)
                r = g % 100
                hidden = r == 99
                replied = r < 85
                lag = (g * 13) % 23
                status = "closed" if r in (97, 98) else ("answered" if replied else "received")
                forwarded = r < 5
                yield (city.pk, unit_id, district_id, f"B{g:015d}", "suggestion" if g % 3 else "problem",
                       "基准测试意见建议", receipt_times[offset], received_on, received_on + dt.timedelta(days=14), 10,
                       status, reply_times[offset + lag] if replied else None,
                       receipt_times[offset] if hidden else None, "基准测试隐藏" if hidden else "",
                       department.pk if forwarded else None, receipt_times[offset] if forwarded else None)

        counts["suggestions"] = writer.write(
            Suggestion, ["city", "unit", "district", "tracking_code", "category", "content", "received_at", "received_on",
                         "due_on", "response_working_days", "status", "replied_at", "hidden_at", "hidden_reason",
                         "department", "forwarded_at"], suggestion_rows(), now=now)
        step(f"意见建议 {counts['suggestions']:,}", t)

        # written opinions, their documents and responses --------------------------------------------------------------
        t = time.perf_counter()
        author = get_user_model().objects.create_user(username=f"bench_author_{seed}", password=None, role="planner", city=city)
        base_sequence = 900_000

        def document_rows():
            for g in range(want["opinions"]):
                issued = at(y0 + dt.timedelta(days=(g * 7) % 372 - 7), 11)
                yield (city.pk, "written_opinion", "书面意见", f"BENCH-{seed}-{g:07d}", issued.year, base_sequence + g,
                       f"BQ{seed % 1000:03d}{g:07d}", "0" * 64, issued)

        writer.write(IssuedDocument, ["city", "kind", "title", "number", "year", "sequence", "verification_code",
                                      "content_hash", "issued_at"], document_rows(), now=now)
        documents = list(IssuedDocument.objects.filter(number__startswith=f"BENCH-{seed}-").order_by("number")
                         .values_list("id", "issued_at"))

        def opinion_rows():
            count_a = len(appointments)
            for g, (document_id, issued) in enumerate(documents):
                pk, unit_id, planner_id, *_ = appointments[(g * 131) % count_a]
                yield (city.pk, unit_id, author.pk, planner_id, pk, 1, "基准测试书面意见", "虚构项目", "plan", "issued",
                       {"bench": g}, "b" * 64, document_id, issued, "no_conflict")

        counts["opinions"] = writer.write(
            WrittenOpinion, ["city", "unit", "author", "planner", "appointment", "version", "title", "subject", "subject_kind",
                             "status", "content", "content_hash", "document", "issued_at", "interest_declaration"],
            opinion_rows(), now=now)
        opinions = list(WrittenOpinion.objects.filter(city=city, author=author).values_list("id", "issued_at"))
        outcomes = ["adopted", "partly_adopted", "not_adopted"]

        def response_rows():
            for g, (pk, issued) in enumerate(opinions):
                if g % 10 < 7:
                    yield (pk, "design_unit", None, "虚构设计院", outcomes[g % 3], issued.date(), author.pk)
                if g % 10 == 0:
                    yield (pk, "department", department.pk, department.name, outcomes[g % 3], issued.date(), author.pk)

        counts["opinion_responses"] = writer.write(
            OpinionResponse, ["opinion", "responder", "department", "responder_name", "outcome", "responded_on", "recorded_by"],
            response_rows(), now=now)
        step(f"书面意见 {counts['opinions']:,}（反馈 {counts['opinion_responses']:,}）", t)

        # assessments and fees (apps built alongside: skipped if their models differ) ----------------------------------
        t = time.perf_counter()
        district_of = dict(units)
        try:
            from rpms.assessments.models import Assessment

            grades = [g["code"] for g in policy.grades]
            labels = {g["code"]: g["label"] for g in policy.grades}

            def assessment_rows():
                for n, (pk, unit_id, planner_id, start, end, status, ended_on) in enumerate(appointments):
                    if start > dt.date(year, 12, 31) or (ended_on or end) < y0:
                        continue
                    grade = grades[min(n % 10 // 4, len(grades) - 1)] if n % 20 else grades[-1]
                    yield (city.pk, pk, planner_id, unit_id, district_of[unit_id], year, start, min(end, dt.date(year, 12, 31)),
                           "district", "graded", at(dt.date(year, 11, 1)), grade, labels[grade], at(dt.date(year, 12, 10)))

            counts["assessments"] = writer.write(
                Assessment, ["city", "appointment", "planner", "unit", "district", "year", "period_start", "period_end",
                             "assessing_body", "status", "opened_at", "grade", "grade_label", "graded_at"],
                assessment_rows(), now=now)
        except Exception as exc:  # noqa: BLE001 - the benchmark goes on without this topic
            out(f"  （年度考核数据未生成：{exc}）")
        try:
            from rpms.finance.models import FeeInstallment, FeePayment

            def installment_rows():
                for n, (pk, unit_id, _p, start, end, status, ended_on) in enumerate(appointments):
                    for seq, month in ((1, 3), (2, 9)):
                        due = dt.date(year, month, 1)
                        paid = n % 10 < 7
                        settled = due + dt.timedelta(days=n % 12) if paid else None
                        yield (city.pk, pk, district_of[unit_id], 1, seq, due, 30_000, 0, due + dt.timedelta(days=7),
                               "paid" if paid else "unpaid", 30_000 if paid else 0, settled)

            counts["fee_installments"] = writer.write(
                FeeInstallment, ["city", "appointment", "district", "term_no", "seq", "due_on", "amount_yuan",
                                 "grace_working_days", "pay_by", "status", "paid_yuan", "settled_on"],
                installment_rows(), now=now)
            installments = list(FeeInstallment.objects.filter(city=city, status="paid").values_list("id", "settled_on"))
            counts["fee_payments"] = writer.write(
                FeePayment, ["city", "installment", "paid_on", "amount_yuan", "voucher_no"],
                ((city.pk, pk, settled, 30_000, f"BENCH-{pk}") for pk, settled in installments), now=now)
        except Exception as exc:  # noqa: BLE001
            out(f"  （服务费用数据未生成：{exc}）")
        step("年度考核与服务费用", t)
    if connection.vendor == "postgresql":
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        step("ANALYZE", t)
    return counts


# --- timing ----------------------------------------------------------------------------------------------------------------


def time_statistics(*, city, year: int, out) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rpms.cities.models import City
    from rpms.reports.selectors import city_statistics

    connection.close()  # cold: a fresh connection, nothing cached in this process
    city = City.objects.select_related("policy").get(pk=city.pk)
    with CaptureQueriesContext(connection) as cold_queries:
        t = time.perf_counter()
        stats = city_statistics(city=city, year=year)
        cold = time.perf_counter() - t
    warm_runs = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as warm_queries:
            t = time.perf_counter()
            city_statistics(city=city, year=year)
            warm_runs.append(time.perf_counter() - t)
    slow = sorted(warm_queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:6]
    load = os.getloadavg()[0]
    out(f"  机器负载（1 分钟平均）{load:.1f}（{os.cpu_count()} 核；负载高时耗时偏大）")
    return {"stats": stats, "cold": cold, "warm": min(warm_runs), "warm_runs": warm_runs,
            "queries_cold": len(cold_queries.captured_queries), "queries_warm": len(warm_queries.captured_queries),
            "slow": slow}


def main() -> int:
    parser = argparse.ArgumentParser(description="年度统计基准测试（10 倍北京规模的一年）")
    parser.add_argument("--scale", type=float, default=None,
                        help="fraction of the 10× Beijing year (default 1 on PostgreSQL, 0.05 on SQLite)")
    parser.add_argument("--sqlite", action="store_true", help="use a throwaway SQLite database even if DATABASE_URL is set")
    parser.add_argument("--year", type=int, default=None, help="the year to generate and compute (default: last year)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--disposable-database", action="store_true",
                        help="allow filling a PostgreSQL database that already holds data")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite directory")
    parser.add_argument("--explain", action="store_true", help="PostgreSQL: print EXPLAIN ANALYZE of the three slowest queries")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    url = os.environ.get("DATABASE_URL", "")
    workdir = None
    if args.sqlite or not url.startswith(("postgres://", "postgresql://")):
        workdir = Path(tempfile.mkdtemp(prefix="rpms-bench-stats-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("PRIVATE_MEDIA_ROOT", str(Path(tempfile.gettempdir()) / "rpms-bench-private"))
    scale = args.scale if args.scale is not None else (0.05 if workdir else 1.0)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from rpms.cities.models import City
        from rpms.core import clock
        from rpms.geography.reference import reference_data_load

        def out(text):
            print(text, flush=True)

        backend = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
        if connection.vendor == "postgresql" and not args.disposable_database:
            tables = connection.introspection.table_names()
            if "cities_city" in tables and City.objects.exists():
                out("这个 PostgreSQL 数据库已有数据：基准测试会写入上百万行虚构数据，已拒绝。"
                    "请用 scripts/with-postgres.sh 运行，或加 --disposable-database。")
                return 2
        year = args.year or clock.today().year - 1
        out(f"年度统计基准测试 · {backend} · 规模 {scale:g} × 10 倍北京 · 统计年度 {year}")
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        cities = {c.code: c for c in reference_data_load(actor=None)}
        city = cities["beijing"]
        out(f"  迁移与参考数据                         {time.perf_counter() - t0:7.1f} s")
        t0 = time.perf_counter()
        counts = generate(city=city, year=year, scale=scale, seed=args.seed, out=out)
        out(f"  生成合计                               {time.perf_counter() - t0:7.1f} s")
        result = time_statistics(city=city, year=year, out=out)
        stats = result["stats"]
        out("  数据量：" + "，".join(f"{k} {v:,}" for k, v in counts.items()))
        out(f"  city_statistics 冷启动（新连接）       {result['cold']:7.3f} s   查询 {result['queries_cold']} 次")
        out(f"  city_statistics 热运行（三次取最快）   {result['warm']:7.3f} s   查询 {result['queries_warm']} 次"
            f"   （三次：{', '.join(f'{x:.3f}' for x in result['warm_runs'])}）")
        if connection.vendor == "postgresql":
            verdict = "达到" if max(result["cold"], result["warm"]) <= 2 else "未达到"
            out(f"  目标 ≤ 2 s（PostgreSQL）：{verdict}")
        out("  最慢的查询（热运行）：")
        for query in result["slow"]:
            sql = " ".join(query["sql"].split())
            out(f"    {float(query['time']):6.3f} s  {sql[:150]}")
        if args.explain and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for query in result["slow"][:3]:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    out("  ---- EXPLAIN ANALYZE ----")
                    for (line,) in cursor.fetchall():
                        out("    " + (line if len(line) < 240 else line[:240] + " …"))
        total = stats["duty_hours"]["total"]
        out(f"  结果核对：履职记录 {total['records']:,} 条 / {total['hours']:,} 小时；意见建议受理 "
            f"{stats['suggestions']['total']['received']:,}，按期答复率 {stats['suggestions']['total']['on_time_rate']}，"
            f"答复用时中位数 {stats['suggestions']['total']['median_days']} 天（工作日 {stats['suggestions']['total']['median_working_days']}）；"
            f"责任单元 {stats['coverage']['total']['units']:,}，覆盖率 {stats['coverage']['total']['ratio']}；"
            f"在库 {stats['pool']['in_pool']:,}")
        out(f"  峰值内存（RSS）                        {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.1f} MB")
        return 0
    finally:
        if workdir is not None:
            if args.keep:
                print(f"  数据库保留在 {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
