"""The benchmarks' fictional world: a city's registry, appointments, duty records, residents' suggestions,
written opinions, assessments, fees and audit trail at a chosen size, written fast (COPY on PostgreSQL,
executemany on SQLite). Used by bench/annual_statistics.py (one calendar year and its edges) and bench/pages.py
(a city as it stands today).

    generate(city=beijing, scale=1, seed=2026, out=print, year=2025)   # a year: rows spread over 2025 ± 10 days
    generate(city=beijing, scale=1, seed=2026, out=print)              # today: terms covering today, the last
                                                                        # ~15 months of duty records and suggestions

`scale` is a fraction of FULL, the 10× Beijing size (3,500 units, 20,000 planners, 1 M duty records, 200 k
suggestions, 10 k written opinions, 1 M audit rows); scale 0.1 is Beijing itself. Every row is fictional.
The audit trail (core.ActionLog) is append-only by its triggers on UPDATE and DELETE; COPY only inserts, so it
is written like the other big tables.
"""
import datetime as dt
import json
import time
from decimal import Decimal

FULL = {"units": 3_500, "planners": 20_000, "duty_records": 1_000_000, "suggestions": 200_000, "opinions": 10_000,
        "audit_rows": 1_000_000}


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


def generate(*, city, scale: float, seed: int, out, year: int | None = None, audit: bool = False) -> dict:
    """Fills `city` (see the module's docstring); returns the number of rows written per kind. With `year` the
    rows fall in that year and its edges; without it, they are dated relative to today (clock.today()).
    `audit` also writes FULL["audit_rows"] × scale audit-trail rows."""
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

    from rpms.suggestions.models import SuggestionPhoto, SuggestionRecipient, SuggestionReply

    writer = Writer(connection)
    now = clock.now()
    today = clock.today()
    tz = timezone.get_current_timezone()
    if year is not None:
        # a calendar year: y0 its first day; events from 10 days before it to 10 days after it
        y0 = dt.date(year, 1, 1)
        event_from, event_days = y0 - dt.timedelta(days=10), 385
        assessed_year, fee_year, last_day = year, year, None
    else:
        # today: y0 starts the year that ends today; events over the last 15 months, none after today
        y0 = _years_later(today, -1) + dt.timedelta(days=1)
        event_from, event_days = today - dt.timedelta(days=455), 456
        assessed_year, fee_year, last_day = today.year - 1, today.year, today
    y_end = _years_later(y0, 1) - dt.timedelta(days=1)

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
        ResponsibilityUnit.objects.filter(city=city).update(created_at=at(_years_later(y0, -1) + dt.timedelta(days=151)))
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
                status, admitted, removed, ground = "active", at(_years_later(y0, -2) + dt.timedelta(days=n % 700)), None, ""
            elif r < 90:
                status, admitted, removed, ground = "active", at(y0 + dt.timedelta(days=n % 360)), None, ""
            elif r < 95:
                status, admitted = "removed", at(_years_later(y0, -2) + dt.timedelta(days=59 + n % 300))
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
        expiring_in = set()  # districts with a term ending within the month (every city has some, at any size)
        for n, ((unit_id, district_id), second) in enumerate(slots):
            r = (n * 37) % 100
            planner_id = active_planners[(n * 7919) % len(active_planners)]
            ended_on, status = None, "active"
            if r < 70:
                start, end = _years_later(y0, -1) + dt.timedelta(days=n % 365), _years_later(y0, 1) + dt.timedelta(days=n % 300)
                if year is None and (district_id not in expiring_in or n % 12 == 5):
                    end = today + dt.timedelta(days=5 + n % 20)
                    expiring_in.add(district_id)
            elif r < 80:
                start = y0 + dt.timedelta(days=n % 330)
                end = _years_later(start, 1) - dt.timedelta(days=1)
            elif r < 87:
                start, status = _years_later(y0, -1) + dt.timedelta(days=n % 365), "ended"
                end = _years_later(start, 1) - dt.timedelta(days=1)
            elif r < 92:
                start, end, status = _years_later(y0, -1) + dt.timedelta(days=151), _years_later(y0, 1) + dt.timedelta(days=150), "withdrawn"
                ended_on = y0 + dt.timedelta(days=n % 360)
            elif r < 95:
                start, end, status = _years_later(y0, -1) + dt.timedelta(days=59), _years_later(y0, 1) + dt.timedelta(days=58), "terminated"
                ended_on = y0 + dt.timedelta(days=n % 360)
            else:
                start, end, status = _years_later(y0, -2), y0 - dt.timedelta(days=366), "ended"
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
            renewed = status == "active" and n % 5 == 0 and end > y_end
            first_end = y0 + dt.timedelta(days=242) if renewed else end
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
        day_times = {d: at(event_from + dt.timedelta(days=d), 18) for d in range(event_days)}

        def duty_rows():
            count_a = len(appointments)
            for g in range(want["duty_records"]):
                pk, unit_id, planner_id, *_ = appointments[(g * 7919) % count_a]
                offset = (g * 104_729) % event_days  # days from event_from
                day = event_from + dt.timedelta(days=offset)
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
        reply_times = {d: at(event_from + dt.timedelta(days=d), 16) for d in range(event_days + 30)}
        receipt_times = {d: at(event_from + dt.timedelta(days=d), 9) for d in range(event_days + 30)}
        replies = []  # (number, reply time) of the answered ones
        photos = []

        def suggestion_rows():
            count_u = len(units)
            for g in range(want["suggestions"]):
                unit_id, district_id = units[(g * 31) % count_u]
                offset = (g * 104_729) % event_days
                received_on = event_from + dt.timedelta(days=offset)
                r = g % 100
                hidden = r == 99
                lag = (g * 13) % 23
                replied = r < 85 and (last_day is None or received_on + dt.timedelta(days=lag) <= last_day)
                if replied:
                    replies.append((g, reply_times[offset + lag]))
                if g % 50 == 7:
                    photos.append(g)
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
        code_ids = dict(Suggestion.objects.filter(city=city, tracking_code__startswith="B").values_list("tracking_code", "id"))
        replier = get_user_model().objects.create_user(username=f"bench_replier_{seed}", password=None,
                                                       role="district_officer", city=city)
        counts["suggestion_replies"] = writer.write(
            SuggestionReply, ["suggestion", "text", "author", "author_label", "replied_at"],
            ((code_ids[f"B{g:015d}"], "感谢您的建议，已转相关部门研究办理（基准测试）。", replier.pk, "区工作专班", at_)
             for g, at_ in replies), now=now)
        counts["suggestion_photos"] = writer.write(
            SuggestionPhoto, ["suggestion", "path", "original_name", "kind", "size", "sha256"],
            ((code_ids[f"B{g:015d}"], f"bench/suggestions/{g}.jpg", "现场照片.jpg", "jpeg", 120_000, "0" * 64)
             for g in photos), now=now)
        serving = {}
        for pk, unit_id, planner_id, start, end, status, _e in appointments:
            if status == "active":
                serving.setdefault(unit_id, (pk, planner_id))

        def recipient_rows():
            for code, pk in code_ids.items():
                g = int(code[1:])
                unit_id, _d = units[(g * 31) % len(units)]
                if unit_id in serving:
                    appointment_id, planner_id = serving[unit_id]
                    yield (pk, planner_id, appointment_id, receipt_times[(g * 104_729) % event_days])

        counts["suggestion_recipients"] = writer.write(
            SuggestionRecipient, ["suggestion", "planner", "appointment", "delivered_at"], recipient_rows(), now=now)
        step(f"意见建议 {counts['suggestions']:,}（答复 {counts['suggestion_replies']:,}）", t)

        # written opinions, their documents and responses --------------------------------------------------------------
        t = time.perf_counter()
        author = get_user_model().objects.create_user(username=f"bench_author_{seed}", password=None, role="planner", city=city)
        base_sequence = 900_000

        def document_rows():
            for g in range(want["opinions"]):
                issued = at(event_from + dt.timedelta(days=(g * 7) % event_days), 11)
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
                    a0, a1 = dt.date(assessed_year, 1, 1), dt.date(assessed_year, 12, 31)
                    if start > a1 or (ended_on or end) < a0:
                        continue
                    grade = grades[min(n % 10 // 4, len(grades) - 1)] if n % 20 else grades[-1]
                    yield (city.pk, pk, planner_id, unit_id, district_of[unit_id], assessed_year, start, min(end, a1),
                           "district", "graded", at(dt.date(assessed_year, 11, 1)), grade, labels[grade],
                           at(dt.date(assessed_year, 12, 10)))

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
                        due = dt.date(fee_year, month, 1)
                        paid = n % 10 < 7 and (last_day is None or due + dt.timedelta(days=12) <= last_day)
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

        if audit:
            t = time.perf_counter()
            counts["audit_rows"] = _audit_rows(writer, city=city, count=want["audit_rows"], event_from=event_from,
                                               event_days=event_days, actor=replier, at=at, now=now)
            step(f"操作日志 {counts['audit_rows']:,}", t)
    if connection.vendor == "postgresql":
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        step("ANALYZE", t)
    return counts


AUDIT_ACTIONS = [
    ("duties.record_confirm", "duties.dutyrecord", "确认履职记录", "B13"),
    ("duties.record_submit", "duties.dutyrecord", "提交履职记录", "B13"),
    ("suggestions.reply", "suggestions.suggestion", "答复意见建议", "B16"),
    ("appointments.create", "appointments.appointment", "登记派驻聘任", "B8"),
    ("registry.planner_update", "registry.planner", "修改责任规划师信息", "B19(1)"),
    ("accounts.login", "accounts.user", "登录", ""),
]


def _audit_rows(writer, *, city, count, event_from, event_days, actor, at, now) -> int:
    """`count` rows of the append-only audit trail, as audit_log writes them, spread over the event window."""
    from rpms.core.models import ActionLog

    def rows():
        for g in range(count):
            action, object_type, summary, article = AUDIT_ACTIONS[g % len(AUDIT_ACTIONS)]
            day = event_from + dt.timedelta(days=(g * 104_729) % event_days)
            stamp = at(day, 8) + dt.timedelta(seconds=(g * 7_919) % 36_000)
            yield (stamp, actor.pk, actor.username, "127.0.0.1", action, object_type, str(g + 1), f"基准对象{g}",
                   city.code, article, summary, None, {"bench": g % 1000})

    return writer.write(ActionLog, ["at", "actor", "actor_repr", "ip", "action", "object_type", "object_id",
                                    "object_repr", "city_code", "article", "summary", "before", "after"], rows(), now=now)
