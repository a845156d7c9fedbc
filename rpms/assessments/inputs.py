"""The assessment's inputs taken from the system itself (B20, P6(4): 工作成效、工作时长 …), computed with
database aggregates over the assessment period for the appointment assessed. A fixed number of queries
whatever the number of rows. Frozen on the assessment (`Assessment.inputs`) when it is graded.

- duty hours and record counts by duty category: CONFIRMED records only (unconfirmed ones are counted
  apart, for information);
- written opinions issued (current versions, issued in the period) and the responses recorded on them
  (adopted / partly adopted / not adopted);
- residents' suggestions delivered to the planner for this appointment and received in the period (not
  hidden): answered, answered on time (first public reply on or before `due_on`, local date), overdue;
- continuing-education hours of the assessment year (rpms.training, read through `training_hours_for`);
- violations recorded against the planner with a date in the period (B17)."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, Sum


def _tenths(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _text(value: Decimal) -> str:
    value = _tenths(value)
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value}"


def training_hours_for(planner, year: int) -> Decimal:
    """Continuing-education hours credited to the planner for `year` (B23), from rpms.training."""
    from rpms.training.selectors import training_hours

    return _tenths(training_hours(planner, year))


def duty_inputs(*, appointment, start: dt.date, end: dt.date) -> dict:
    from rpms.duties.models import DutyRecord, DutyStatus

    policy = appointment.city.policy
    rows = (
        DutyRecord.objects.filter(appointment=appointment, date__gte=start, date__lte=end)
        .values("category", "status")
        .annotate(hours=Sum("hours"), records=Count("id"))
    )
    confirmed: dict[str, dict] = {}
    unconfirmed_records = 0
    unconfirmed_hours = Decimal(0)
    for row in rows:
        if row["status"] == DutyStatus.CONFIRMED:
            slot = confirmed.setdefault(row["category"], {"hours": Decimal(0), "records": 0})
            slot["hours"] += Decimal(row["hours"] or 0)
            slot["records"] += row["records"]
        else:
            unconfirmed_records += row["records"]
            unconfirmed_hours += Decimal(row["hours"] or 0)
    categories = []
    for item in policy.duty_categories or []:
        slot = confirmed.pop(item["code"], {"hours": Decimal(0), "records": 0})
        categories.append({"code": item["code"], "label": item["label"], "hours": str(_tenths(slot["hours"])),
                           "records": slot["records"]})
    for code, slot in sorted(confirmed.items()):  # a category no longer in the policy still counts
        categories.append({"code": code, "label": code, "hours": str(_tenths(slot["hours"])), "records": slot["records"]})
    total = sum((Decimal(c["hours"]) for c in categories), Decimal(0))
    return {
        "categories": categories,
        "total_hours": str(_tenths(total)),
        "records": sum(c["records"] for c in categories),
        "unconfirmed_records": unconfirmed_records,
        "unconfirmed_hours": str(_tenths(unconfirmed_hours)),
    }


def opinion_inputs(*, appointment, start: dt.date, end: dt.date) -> dict:
    from rpms.opinions.models import OpinionResponse, OpinionStatus, ResponseOutcome, WrittenOpinion

    issued = WrittenOpinion.objects.filter(
        appointment=appointment, status=OpinionStatus.ISSUED, issued_at__date__gte=start, issued_at__date__lte=end
    )
    count = issued.count()
    outcomes = dict(
        OpinionResponse.objects.filter(opinion__in=issued.values("pk")).values_list("outcome").annotate(n=Count("id"))
    )
    adopted = outcomes.get(ResponseOutcome.ADOPTED, 0)
    partly = outcomes.get(ResponseOutcome.PARTLY_ADOPTED, 0)
    not_adopted = outcomes.get(ResponseOutcome.NOT_ADOPTED, 0)
    responded = adopted + partly + not_adopted
    return {
        "issued": count,
        "responses": responded,
        "adopted": adopted,
        "partly_adopted": partly,
        "not_adopted": not_adopted,
        # (adopted + partly adopted) / responses; None when nothing was responded to
        "adoption_rate": round((adopted + partly) / responded, 4) if responded else None,
    }


def suggestion_inputs(*, appointment, start: dt.date, end: dt.date, today: dt.date) -> dict:
    from rpms.suggestions.models import SuggestionRecipient, SuggestionStatus

    rows = SuggestionRecipient.objects.filter(
        appointment=appointment, suggestion__received_on__gte=start, suggestion__received_on__lte=end,
        suggestion__hidden_at__isnull=True,
    )
    figures = rows.aggregate(
        received=Count("suggestion", distinct=True),
        answered=Count("suggestion", distinct=True, filter=Q(suggestion__replied_at__isnull=False)),
        on_time=Count("suggestion", distinct=True,
                      filter=Q(suggestion__replied_at__isnull=False,
                               suggestion__replied_at__date__lte=F("suggestion__due_on"))),
        overdue=Count("suggestion", distinct=True,
                      filter=Q(suggestion__replied_at__isnull=True, suggestion__due_on__lt=today)
                      & ~Q(suggestion__status=SuggestionStatus.CLOSED)),
    )
    received = figures["received"] or 0
    return {
        "received": received,
        "answered": figures["answered"] or 0,
        "answered_on_time": figures["on_time"] or 0,
        "overdue": figures["overdue"] or 0,
        "on_time_rate": round((figures["on_time"] or 0) / received, 4) if received else None,
    }


def violation_inputs(*, planner, start: dt.date, end: dt.date) -> dict:
    from .models import Violation

    rows = list(
        Violation.objects.filter(planner=planner, occurred_on__gte=start, occurred_on__lte=end)
        .select_related("city__policy").order_by("occurred_on", "id")
    )
    # Labels and articles from each violation's city policy (never another city's articles).
    return {
        "count": len(rows),
        "items": [{"id": v.pk, "kind": v.kind, "label": v.kind_label, "article": v.kind_article,
                   "occurred_on": v.occurred_on.isoformat()} for v in rows],
    }


def assessment_inputs(assessment, *, today: dt.date | None = None) -> dict:
    """Everything the system knows about the period, as a JSON-safe dict (the snapshot frozen at grading)."""
    from rpms.core import clock

    today = today or clock.today()
    appointment = assessment.appointment
    start, end = assessment.period_start, assessment.period_end
    training = training_hours_for(assessment.planner, assessment.year)
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "year": assessment.year},
        "computed_on": today.isoformat(),
        "duties": duty_inputs(appointment=appointment, start=start, end=end),
        "opinions": opinion_inputs(appointment=appointment, start=start, end=end),
        "suggestions": suggestion_inputs(appointment=appointment, start=start, end=end, today=today),
        "training": {"year": assessment.year, "hours": str(training)},
        "violations": violation_inputs(planner=assessment.planner, start=start, end=end),
    }


def inputs_summary(inputs: dict) -> list[dict]:
    """Label/value lines in Chinese for pages and the result document."""
    if not inputs:
        return []
    from .review import review_lines

    duties = inputs.get("duties", {})
    opinions = inputs.get("opinions", {})
    suggestions = inputs.get("suggestions", {})
    violations = inputs.get("violations", {})
    rate = opinions.get("adoption_rate")
    on_time = suggestions.get("on_time_rate")
    lines = review_lines(inputs.get("review") or {}) + [
        {"label": "已确认履职记录", "value": f"{duties.get('records', 0)} 条，合计 {_text(Decimal(duties.get('total_hours') or 0))} 小时"},
    ]
    for category in duties.get("categories", []):
        lines.append({"label": f"　{category['label']}", "value": f"{_text(Decimal(category['hours']))} 小时，{category['records']} 条"})
    lines += [
        {"label": "出具书面意见", "value": f"{opinions.get('issued', 0)} 份；反馈 {opinions.get('responses', 0)} 份（采纳 "
                                      f"{opinions.get('adopted', 0)}、部分采纳 {opinions.get('partly_adopted', 0)}、未采纳 "
                                      f"{opinions.get('not_adopted', 0)}）" + (f"，采纳率 {rate * 100:.0f}%" if rate is not None else "")},
        {"label": "群众意见建议", "value": f"收到 {suggestions.get('received', 0)} 件，已答复 {suggestions.get('answered', 0)} 件，"
                                      f"按时答复 {suggestions.get('answered_on_time', 0)} 件，逾期未答复 {suggestions.get('overdue', 0)} 件"
                                      + (f"（按时率 {on_time * 100:.0f}%）" if on_time is not None else "")},
        {"label": "继续教育学时", "value": f"{inputs.get('training', {}).get('year', '')} 年度 {_text(Decimal(inputs.get('training', {}).get('hours') or 0))} 学时"},
        {"label": "违规记录", "value": f"{violations.get('count', 0)} 项" + (
            "：" + "；".join(f"{i['occurred_on']} {i['label'].split('（')[0]}" for i in violations.get("items", [])) if violations.get("count") else "")},
    ]
    return lines
