"""Reconciling the per-appointment allowance rows of before issue #12 with the person's allowance
(P6(3): 交通、通讯等费用按照每年 5000 元/人标准). Run once by migration finance 0003 (with the historical
models); callable again with the live models (`apps=None`): it only touches rows not reconciled yet
(kind `legacy` without a reconciliation), so a second run changes nothing.

For each planner, the person's service cycles are computed from all their appointments in the city
(rpms.finance.cycles.person_cycles) and each old row is placed in the person's cycle that contains its
own cycle's first day. Then, per person and cycle:

- one old row that already is the person's allowance (same first day, same last day served, same days,
  same amount) simply becomes it (kind `cycle`, linked to the appointments it covers);
- otherwise (duplicates: two units in one cycle; or another amount or anchoring) an
  `AllowanceReconciliation` is written: the paid rows are KEPT (never deleted; kind `legacy`, linked to
  it), the unpaid ones are deleted (nothing was paid on them; the person's allowance replaces them), and
  it shows what is due per person, what was paid and the difference (paid − due), with a Chinese note.
  Still owed (difference below 0): `allowances_generate` records the person's allowance for the cycle
  less what was paid. Overpaid: nothing is generated; the note asks the finance officer to settle it.

One audit row per city ("finance.allowance_reconcile", the city's `allowance` article, actor 系统)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from rpms.core import clock

from .cycles import person_allowance_amount, person_cycles, persons_for, service_spans


def _iso(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _cycle_for(cycles, day: dt.date):
    found = next((c for c in cycles if c.start <= day <= c.end), None)
    if found is None:
        earlier = [c for c in cycles if c.start <= day]
        found = earlier[-1] if earlier else (cycles[0] if cycles else None)
    return found


def _note(*, planner, cycle, article, rate, units, closed, paid_rows, unpaid_rows, due, paid) -> str:
    text = (f"按人核对（{article}，每年 {rate} 元/人）：{planner.name}第 {cycle.no} 个服务周期 {cycle.start.isoformat()} 至 "
            f"{cycle.end.isoformat()}，在{units}服务 {cycle.days_served} 天（同时服务多个责任单元的日子只计一次）"
            + ("" if closed else "，本周期尚未结束，应付金额按现有聘任测算")
            + f"。原按聘任计发 {len(paid_rows) + len(unpaid_rows)} 条")
    if paid_rows:
        text += f"：已支付 {len(paid_rows)} 条，计 {paid} 元（凭证号 {'、'.join(r.voucher_no for r in paid_rows)}，保留不删）"
    if unpaid_rows:
        text += (f"{'；' if paid_rows else '：'}未支付 {len(unpaid_rows)} 条，计 {sum(r.amount_yuan for r in unpaid_rows)} 元，"
                 "已删除，由按人计发的补贴替代")
    text += f"。按人应付 {due} 元，已付 {paid} 元，"
    difference = paid - due
    if difference > 0:
        text += f"多付 {difference} 元，请财务核处（已付记录保留，不再生成本周期补贴）。"
    elif difference < 0:
        text += f"少付 {-difference} 元，由“生成到期补贴”按人补记{'（周期结束后）' if not closed else ''}。"
    else:
        text += "已付与应付一致。"
    return text


def reconcile_legacy_allowances(*, apps=None, today: dt.date | None = None) -> list:
    """Reconciles every legacy row not reconciled yet; returns the reconciliation records written."""
    if apps is None:
        from django.apps import apps as live_apps

        apps = live_apps
    Allowance = apps.get_model("finance", "Allowance")
    Reconciliation = apps.get_model("finance", "AllowanceReconciliation")
    Appointment = apps.get_model("appointments", "Appointment")
    AppointmentTerm = apps.get_model("appointments", "AppointmentTerm")
    PolicyProfile = apps.get_model("cities", "PolicyProfile")
    ActionLog = apps.get_model("core", "ActionLog")
    today = today or clock.today()

    pending = list(
        Allowance.objects.filter(kind="legacy", reconciliation__isnull=True)
        .select_related("planner", "city").order_by("city_id", "planner_id", "cycle_start", "id")
    )
    by_city: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for row in pending:
        by_city[row.city_id][row.planner_id].append(row)

    written = []
    for city_id, by_planner in by_city.items():
        policy = PolicyProfile.objects.select_related("city").get(city_id=city_id)
        city = policy.city
        rate = policy.allowance_yuan_per_person_year or 0
        article = (policy.articles or {}).get("allowance", "")
        appointments = list(
            Appointment.objects.filter(city_id=city_id, planner_id__in=list(by_planner))
            .select_related("unit__district").order_by("start", "id")
        )
        terms = defaultdict(list)
        for term in AppointmentTerm.objects.filter(appointment__in=[a.pk for a in appointments]):
            terms[term.appointment_id].append(term)
        appointments_of = defaultdict(list)
        for appointment in appointments:
            appointments_of[appointment.planner_id].append(appointment)
        converted, records = [], []
        for planner_id, rows in by_planner.items():
            planner = rows[0].planner
            mine = {a.pk: a for a in appointments_of[planner_id]}
            cycles = person_cycles([(a.pk, service_spans(a, terms[a.pk])) for a in mine.values()])
            if not cycles:
                continue  # no day served on record: left as it is, for a person to look at
            persons = persons_for(planner, policy, list(planner.members.all()))
            grouped = defaultdict(list)
            for row in rows:
                grouped[_cycle_for(cycles, row.cycle_start)].append(row)
            for cycle, group in grouped.items():
                units = "、".join(dict.fromkeys(mine[key].unit.name for key in cycle.appointment_keys))
                computed = person_allowance_amount(cycle, rate_yuan=rate, persons=persons,
                                                   partial_rule=policy.allowance_partial_cycle, article=article,
                                                   units=units) if rate else None
                due = computed.amount_yuan if computed else 0
                recorded = Allowance.objects.filter(planner_id=planner_id, cycle_start=cycle.start).exclude(kind="legacy")
                if len(group) == 1 and not recorded.exists():
                    row = group[0]
                    if (row.cycle_start, row.served_until, row.days_served, row.amount_yuan) == (
                            cycle.start, cycle.served_until, cycle.days_served, due):
                        row.kind = "cycle"
                        row.seq = 1
                        row.cycle_no = cycle.no
                        row.cycle_end = cycle.end
                        row.save(update_fields=["kind", "seq", "cycle_no", "cycle_end", "updated_at"])
                        row.appointments.set(cycle.appointment_keys)
                        converted.append(row.pk)
                        continue
                paid_rows = [r for r in group if r.status == "paid"]
                unpaid_rows = [r for r in group if r.status != "paid"]
                paid = sum(r.amount_yuan for r in paid_rows)
                closed = cycle.closed(today)
                counted = mine[cycle.counted_under()]
                record = Reconciliation.objects.create(
                    city_id=city_id, planner_id=planner_id, district_id=counted.unit.district_id, cycle_no=cycle.no,
                    cycle_start=cycle.start, cycle_end=cycle.end, days_served=cycle.days_served, due_yuan=due,
                    paid_yuan=paid, difference_yuan=paid - due, legacy_count=len(group),
                    removed_unpaid_count=len(unpaid_rows), removed_unpaid_yuan=sum(r.amount_yuan for r in unpaid_rows),
                    cycle_closed=closed, reconciled_on=today,
                    note=_note(planner=planner, cycle=cycle, article=article, rate=rate, units=units, closed=closed,
                               paid_rows=paid_rows, unpaid_rows=unpaid_rows, due=due, paid=paid),
                )
                Allowance.objects.filter(pk__in=[r.pk for r in paid_rows]).update(reconciliation=record)
                if unpaid_rows:
                    Allowance.objects.filter(pk__in=[r.pk for r in unpaid_rows]).delete()
                records.append({
                    "id": record.pk, "planner": planner_id, "cycle_start": cycle.start.isoformat(), "due_yuan": due,
                    "paid_yuan": paid, "difference_yuan": paid - due, "kept": [r.pk for r in paid_rows],
                    "removed_unpaid": [{"id": r.pk, "amount_yuan": r.amount_yuan, "appointment": r.appointment_id}
                                       for r in unpaid_rows],
                })
                written.append(record)
        if converted or records:
            ActionLog.objects.create(
                actor=None, actor_repr="系统", action="finance.allowance_reconcile", object_type="finance.allowance",
                object_repr=f"{city.name}交通通讯补贴按人核对", city_code=city.code, article=article,
                summary=(f"交通通讯补贴改为按人计发：{len(converted)} 条原记录即为按人补贴，{len(records)} 个人员周期写入核对记录"
                         f"（已付记录保留）")[:255],
                after={"on": today.isoformat(), "converted": converted, "reconciliations": records},
            )
    return written
