"""Every figure of the annual statistics recomputed from the raw rows, independently of the selectors.

Plain Python over model rows (one loop per table, no aggregate queries, no import from rpms.reports), with the
definitions the page states (selectors.DEFINITIONS). `recount(city, year, today, districts)` answers in the
shape of `city_statistics` — {"pool", "removals", "appointments", "coverage", "grades", "duty_hours",
"opinions", "suggestions", "finance"}, each topic with its district rows and its total — so that a test can
compare every figure, and `figures(stats)` flattens either answer to {"topic.row.key": value}."""
from __future__ import annotations

import datetime as dt
import statistics as pystats
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

ENTRIES = ("admitted", "commissioned", "imported")
EXIT = "removed"


def local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _ratio(part, whole):
    return round(part / whole, 4) if whole else None


def _money(value):
    value = Decimal(value or 0)
    return int(value) if value == value.to_integral_value() else float(round(value, 2))


def _pool(city, start_dt, as_of_end, today_end):
    from rpms.registry.models import DossierEvent, Planner

    events = defaultdict(list)
    for event in DossierEvent.objects.filter(planner__city=city):
        if event.kind in ENTRIES or event.kind == EXIT:
            events[event.planner_id].append(event)

    def inside(planner_id, moment) -> bool:
        before = sorted((e for e in events[planner_id] if e.occurred_at < moment), key=lambda e: (e.occurred_at, e.pk))
        return bool(before) and before[-1].kind in ENTRIES

    pool = {"in_pool_start": 0, "in_pool": 0, "individuals": 0, "teams": 0, "in_pool_now": 0, "status_mismatch": 0}
    for planner in Planner.objects.filter(city=city):
        pool["in_pool_start"] += inside(planner.pk, start_dt)
        if inside(planner.pk, as_of_end):
            pool["in_pool"] += 1
            pool["teams" if planner.kind == "team" else "individuals"] += 1
        now = inside(planner.pk, today_end)
        pool["in_pool_now"] += now
        pool["status_mismatch"] += now != (planner.pool_status == "active")
    routes = dict.fromkeys(ENTRIES, 0)
    grounds = defaultdict(int)
    for planner_events in events.values():
        for event in planner_events:
            if start_dt <= event.occurred_at < as_of_end:
                if event.kind in ENTRIES:
                    routes[event.kind] += 1
                else:
                    grounds[event.data.get("ground") or ""] += 1
    pool["admitted_by_route"] = routes
    pool["admitted"] = sum(routes.values())
    pool["removed"] = sum(grounds.values())
    return pool, {"grounds": dict(grounds), "total": sum(grounds.values())}


def recount(city, year: int, today: dt.date, districts) -> dict:
    from rpms.appointments.models import Appointment, AppointmentTerm
    from rpms.assessments.models import Assessment
    from rpms.duties.models import DutyRecord
    from rpms.finance.models import Allowance, FeeInstallment, FeePayment
    from rpms.geography.models import ResponsibilityUnit
    from rpms.opinions.models import OpinionResponse, WrittenOpinion
    from rpms.suggestions.models import Suggestion
    from rpms.workdays.selectors import count_working_days

    y0, y1 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    as_of = min(y1, today)
    ids = [d.pk for d in districts]
    codes = {d.pk: d.code for d in districts}
    rows = {pk: defaultdict(int) for pk in ids}
    out = {}
    out["pool"], out["removals"] = _pool(city, midnight(y0), midnight(as_of + dt.timedelta(days=1)),
                                         midnight(today + dt.timedelta(days=1)))

    # appointments and coverage ---------------------------------------------------------------------------
    def serving(a, day) -> bool:
        last = a.ended_on or a.end
        return a.start <= day <= last and (day < today or a.status == "active")

    def how_left(a) -> str:
        if a.end_kind == "termination" or a.status == "terminated":
            return "terminated"
        if a.end_kind == "removal" or a.status == "removed":
            return "removed"
        return "withdrawn" if a.ended_on is not None else "ended"

    planners = defaultdict(set)
    appointments = list(Appointment.objects.filter(city=city).select_related("unit"))
    serving_units = set()
    for a in appointments:
        if serving(a, as_of):
            serving_units.add(a.unit_id)
        district_id = a.unit.district_id
        if district_id not in rows:
            continue
        c = rows[district_id]
        last = a.ended_on or a.end
        served = a.start <= as_of and last >= y0 and last >= a.start
        if not served:
            continue
        c["active_in_year"] += 1
        c["carried_in" if a.start < y0 else "new"] += 1
        if serving(a, as_of):
            c["active_at_as_of"] += 1
            planners[district_id].add(a.planner_id)
        else:
            c[how_left(a)] += 1
    for district_id, found in planners.items():
        rows[district_id]["serving_planners"] = len(found)
    for term in AppointmentTerm.objects.filter(appointment__city=city).select_related("appointment__unit"):
        if term.kind == "renewal" and y0 <= term.start <= as_of and term.appointment.unit.district_id in rows:
            rows[term.appointment.unit.district_id]["renewed"] += 1
    for unit in ResponsibilityUnit.objects.filter(city=city):
        exists = local_date(unit.created_at) <= as_of and (unit.dissolved_at is None or local_date(unit.dissolved_at) > as_of)
        if exists and unit.district_id in rows:
            rows[unit.district_id]["units"] += 1
            rows[unit.district_id]["covered"] += unit.pk in serving_units

    # grades, duty hours, opinions --------------------------------------------------------------------------
    grades = defaultdict(lambda: defaultdict(int))
    for assessment in Assessment.objects.filter(city=city):
        if assessment.year == year and assessment.status == "graded" and assessment.grade and assessment.district_id in rows:
            grades[assessment.district_id][assessment.grade] += 1
    duty = defaultdict(lambda: defaultdict(lambda: {"hours": Decimal(0), "confirmed_hours": Decimal(0), "records": 0,
                                                    "confirmed_records": 0}))
    for record in DutyRecord.objects.filter(city=city).select_related("unit"):
        if y0 <= record.date <= y1 and record.unit.district_id in rows:
            cell = duty[record.unit.district_id][record.category]
            cell["hours"] += record.hours
            cell["records"] += 1
            if record.status == "confirmed":
                cell["confirmed_hours"] += record.hours
                cell["confirmed_records"] += 1
    issued = {}
    for opinion in WrittenOpinion.objects.filter(city=city).select_related("unit"):
        if opinion.status in ("issued", "superseded") and opinion.issued_at and y0 <= local_date(opinion.issued_at) <= y1 \
                and opinion.unit.district_id in rows:
            issued[opinion.pk] = opinion.unit.district_id
            rows[opinion.unit.district_id]["issued"] += 1
            rows[opinion.unit.district_id]["corrections"] += opinion.version > 1
    for response in OpinionResponse.objects.all():
        if response.opinion_id in issued:
            c = rows[issued[response.opinion_id]]
            if response.responder == "design_unit":
                c["responded"] += 1
                c[response.outcome] += 1
            else:
                c["department_answers"] += 1

    # suggestions --------------------------------------------------------------------------------------------
    days, working = defaultdict(list), defaultdict(list)
    for s in Suggestion.objects.filter(city=city):
        if not (y0 <= s.received_on <= as_of) or s.district_id not in rows:
            continue
        c = rows[s.district_id]
        c["received"] += 1
        if s.hidden_at is not None:
            c["hidden"] += 1
            continue
        c["valid"] += 1
        if s.replied_at is not None:
            reply = local_date(s.replied_at)
            c["answered"] += 1
            c["on_time" if reply <= s.due_on else "late"] += 1
            days[s.district_id].append((reply - s.received_on).days)
            working[s.district_id].append(count_working_days(s.received_on, reply)[0])
        elif s.status != "closed":
            c["overdue_unanswered" if s.due_on < today else "pending"] += 1
        c["forwarded"] += s.forwarded_at is not None
        c["closed"] += s.status == "closed"

    # money --------------------------------------------------------------------------------------------------
    for allowance in Allowance.objects.filter(city=city):
        if allowance.district_id not in rows:
            continue
        c = rows[allowance.district_id]
        if y0 <= allowance.due_on <= y1:
            c["allowance_due_count"] += 1
            c["allowance_due_yuan"] += allowance.amount_yuan
            if allowance.status == "due" and allowance.due_on < today:
                c["allowance_overdue_count"] += 1
                c["allowance_overdue_yuan"] += allowance.amount_yuan
        if allowance.paid_on and y0 <= allowance.paid_on <= y1:
            c["allowance_paid_count"] += 1
            c["allowance_paid_yuan"] += allowance.amount_yuan
    for installment in FeeInstallment.objects.filter(city=city):
        if installment.district_id in rows and y0 <= installment.due_on <= y1:
            c = rows[installment.district_id]
            c["fee_due_count"] += 1
            c["fee_due_yuan"] += installment.amount_yuan
            c["fee_settled_on_time_count"] += bool(installment.status == "paid" and installment.settled_on
                                                   and installment.settled_on <= installment.pay_by)
            c["fee_overdue_count"] += installment.status != "paid" and installment.pay_by < today
    for payment in FeePayment.objects.filter(city=city).select_related("installment"):
        if payment.installment.district_id in rows and y0 <= payment.paid_on <= y1:
            rows[payment.installment.district_id]["fee_paid_count"] += 1
            rows[payment.installment.district_id]["fee_paid_yuan"] += payment.amount_yuan

    # shaped like the statistics -------------------------------------------------------------------------------
    def table(keys, make=None):
        result = []
        for pk in ids:
            row = {"district": codes[pk], **{k: rows[pk][k] for k in keys}}
            if make:
                row.update(make(rows[pk], pk))
            result.append(row)
        total = {k: sum(r[k] for r in result) for k in keys}
        return result, total

    appointment_keys = ("carried_in", "new", "active_in_year", "renewed", "ended", "terminated", "withdrawn", "removed",
                        "active_at_as_of", "serving_planners")
    a_rows, a_total = table(appointment_keys)
    a_total["serving_planners"] = len(set().union(*planners.values())) if planners else 0
    out["appointments"] = {"rows": a_rows, "total": a_total}
    c_rows, c_total = table(("units", "covered"), lambda c, pk: {"uncovered": c["units"] - c["covered"],
                                                                  "ratio": _ratio(c["covered"], c["units"])})
    c_total["uncovered"] = c_total["units"] - c_total["covered"]
    c_total["ratio"] = _ratio(c_total["covered"], c_total["units"])
    out["coverage"] = {"rows": c_rows, "total": c_total}
    grade_codes = sorted({code for cells in grades.values() for code in cells})
    out["grades"] = {"rows": [{"district": codes[pk], "counts": dict(grades[pk]), "total": sum(grades[pk].values())}
                              for pk in ids]}
    out["grades"]["total"] = {"counts": {code: sum(grades[pk][code] for pk in ids) for code in grade_codes},
                              "total": sum(sum(grades[pk].values()) for pk in ids)}

    def duty_row(cells):
        return {"by_category": {code: {"hours": float(v["hours"]), "confirmed_hours": float(v["confirmed_hours"]),
                                       "records": v["records"], "confirmed_records": v["confirmed_records"]}
                                for code, v in cells.items()},
                "hours": float(sum(v["hours"] for v in cells.values())),
                "confirmed_hours": float(sum(v["confirmed_hours"] for v in cells.values())),
                "records": sum(v["records"] for v in cells.values()),
                "confirmed_records": sum(v["confirmed_records"] for v in cells.values())}

    everything = defaultdict(lambda: {"hours": Decimal(0), "confirmed_hours": Decimal(0), "records": 0, "confirmed_records": 0})
    for pk in ids:
        for code, v in duty[pk].items():
            for key in v:
                everything[code][key] += v[key]
    out["duty_hours"] = {"rows": [{"district": codes[pk], **duty_row(duty[pk])} for pk in ids], "total": duty_row(everything)}
    o_keys = ("issued", "corrections", "responded", "adopted", "partly_adopted", "not_adopted", "department_answers")
    o_rows, o_total = table(o_keys, lambda c, pk: {"adoption_rate": _ratio(c["adopted"] + c["partly_adopted"], c["responded"])})
    o_total["adoption_rate"] = _ratio(o_total["adopted"] + o_total["partly_adopted"], o_total["responded"])
    out["opinions"] = {"rows": o_rows, "total": o_total}

    def times(spans, work):
        return {"mean_days": round(sum(spans) / len(spans), 1) if spans else None,
                "median_days": float(pystats.median(spans)) if spans else None,
                "mean_working_days": round(sum(work) / len(work), 1) if work else None,
                "median_working_days": float(pystats.median(work)) if work else None}

    s_keys = ("received", "hidden", "valid", "answered", "on_time", "late", "overdue_unanswered", "pending", "forwarded",
              "closed")
    s_rows, s_total = table(s_keys, lambda c, pk: {"on_time_rate": _ratio(c["on_time"], c["answered"]),
                                                   **times(days[pk], working[pk])})
    s_total["on_time_rate"] = _ratio(s_total["on_time"], s_total["answered"])
    s_total.update(times([v for pk in ids for v in days[pk]], [v for pk in ids for v in working[pk]]))
    out["suggestions"] = {"rows": s_rows, "total": s_total}
    f_keys = ("allowance_due_count", "allowance_due_yuan", "allowance_paid_count", "allowance_paid_yuan",
              "allowance_overdue_count", "allowance_overdue_yuan", "fee_due_count", "fee_due_yuan",
              "fee_settled_on_time_count", "fee_overdue_count", "fee_paid_count", "fee_paid_yuan")
    f_rows, f_total = table(f_keys)
    for row in [*f_rows, f_total]:
        for key in f_keys:
            row[key] = _money(row[key])
    out["finance"] = {"rows": f_rows, "total": f_total}
    return out


# --- comparing ------------------------------------------------------------------------------------------------------


def _number(value):
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def figures(stats: dict) -> dict:
    """{"topic.district-or-total.key": value} of every figure of a statistics answer (or of a recount); zero
    grade / duty-category / route cells are left out, so both sides list the same keys."""
    flat = {}
    if stats.get("pool") is not None:
        pool = stats["pool"]
        for key in ("in_pool_start", "admitted", "removed", "in_pool", "individuals", "teams", "in_pool_now",
                    "status_mismatch"):
            flat[f"pool.{key}"] = pool[key]
        routes = pool["admitted_by_route"]
        routes = {item["code"]: item["count"] for item in routes} if isinstance(routes, list) else routes
        flat.update({f"pool.route.{code}": n for code, n in routes.items() if n})
        grounds = stats["removals"]["grounds"]
        grounds = {g["code"]: g["count"] for g in grounds} if isinstance(grounds, list) else grounds
        flat.update({f"removals.{code}": n for code, n in grounds.items() if n})
        flat["removals.total"] = stats["removals"]["total"]
    for topic in ("appointments", "coverage", "opinions", "suggestions", "finance", "grades", "duty_hours"):
        data = stats.get(topic)
        if not data or data.get("rows") is None or data.get("total") is None:
            continue
        for row in [*data["rows"], {**data["total"], "district": "total"}]:
            for key, value in row.items():
                if key in ("district", "district_name"):
                    continue
                if key == "counts":
                    flat.update({f"{topic}.{row['district']}.grade.{code}": n for code, n in value.items() if n})
                elif key == "by_category":
                    for code, cell in value.items():
                        flat.update({f"{topic}.{row['district']}.{code}.{k}": _number(v) for k, v in cell.items() if v})
                else:
                    flat[f"{topic}.{row['district']}.{key}"] = _number(value)
    return flat
