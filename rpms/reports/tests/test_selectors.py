"""city_statistics agrees with a recount from the raw rows (Python loops over model rows), in both cities,
and its number of queries does not grow with the data."""
import datetime as dt
import statistics
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from rpms.reports.selectors import city_statistics, statistics_for_user
from rpms.workdays.selectors import count_working_days

from .conftest import build_year

pytestmark = pytest.mark.django_db


def _local_date(value):
    from django.utils import timezone

    return timezone.localtime(value).date()


def recount(city, year, today, districts):
    """Every figure of the statistics, recomputed row by row with the definitions of the module docstring."""
    from rpms.appointments.models import Appointment, AppointmentTerm
    from rpms.assessments.models import Assessment
    from rpms.duties.models import DutyRecord
    from rpms.finance.models import Allowance, FeeInstallment, FeePayment
    from rpms.geography.models import ResponsibilityUnit
    from rpms.opinions.models import OpinionResponse, WrittenOpinion
    from rpms.registry.models import DossierEvent, Planner
    from rpms.suggestions.models import Suggestion

    y0, y1 = dt.date(year, 1, 1), dt.date(year, 12, 31)
    as_of = min(y1, today)
    over_until = min(y1, today - dt.timedelta(days=1))
    ids = {d.pk for d in districts}
    out = {"pool": {}, "removals": Counter(), "districts": {}}

    for planner in Planner.objects.filter(city=city):
        in_pool = (planner.admitted_at is not None and _local_date(planner.admitted_at) <= as_of
                   and (planner.removed_at is None or _local_date(planner.removed_at) > as_of)
                   and planner.pool_status != "candidate")
        out["pool"]["in_pool"] = out["pool"].get("in_pool", 0) + in_pool
        out["pool"]["teams"] = out["pool"].get("teams", 0) + (in_pool and planner.kind == "team")
    admitted = 0
    for event in DossierEvent.objects.filter(planner__city=city):
        if y0 <= _local_date(event.occurred_at) <= y1:
            if event.kind in ("admitted", "commissioned", "imported"):
                admitted += 1
            if event.kind == "removed":
                out["removals"][event.data.get("ground")] += 1
    out["pool"]["admitted"] = admitted

    def cell(district_id):
        return out["districts"].setdefault(district_id, defaultdict(lambda: 0))

    for d in districts:
        cell(d.pk)
    planners_as_of = defaultdict(set)
    for a in Appointment.objects.filter(city=city).select_related("unit"):
        district_id = a.unit.district_id
        if district_id not in ids:
            continue
        c = cell(district_id)
        last = a.ended_on or a.end
        c["active_in_year"] += a.start <= y1 and last >= y0 and last >= a.start
        c["active_at_as_of"] += a.start <= as_of <= last
        if a.start <= as_of <= last:
            planners_as_of[district_id].add(a.planner_id)
        c["new"] += y0 <= a.start <= y1
        if a.status == "terminated":
            c["terminated"] += y0 <= a.ended_on <= y1
        elif a.end_kind == "termination":  # consented for a later date: a termination once that date is past
            c["terminated"] += y0 <= a.ended_on <= over_until
        elif a.ended_on is None:
            c["ended"] += y0 <= a.end <= over_until
        else:
            c["withdrawn"] += y0 <= a.ended_on <= over_until
    for district_id, planners in planners_as_of.items():
        cell(district_id)["serving_planners"] = len(planners)
    out["serving_planners_total"] = len(set().union(*planners_as_of.values())) if planners_as_of else 0
    for term in AppointmentTerm.objects.filter(appointment__city=city).select_related("appointment__unit"):
        if term.kind == "renewal" and y0 <= term.start <= y1 and term.appointment.unit.district_id in ids:
            cell(term.appointment.unit.district_id)["renewed"] += 1

    serving_units = {a.unit_id for a in Appointment.objects.filter(city=city) if a.start <= as_of <= (a.ended_on or a.end)}
    for unit in ResponsibilityUnit.objects.filter(city=city):
        exists = _local_date(unit.created_at) <= as_of and (unit.dissolved_at is None or _local_date(unit.dissolved_at) > as_of)
        if exists and unit.district_id in ids:
            cell(unit.district_id)["units"] += 1
            cell(unit.district_id)["covered"] += unit.pk in serving_units

    for assessment in Assessment.objects.filter(city=city):
        if assessment.year == year and assessment.status == "graded" and assessment.district_id in ids:
            cell(assessment.district_id)["grade:" + assessment.grade] += 1

    for record in DutyRecord.objects.filter(city=city).select_related("unit"):
        if y0 <= record.date <= y1 and record.unit.district_id in ids:
            c = cell(record.unit.district_id)
            c["hours:" + record.category] += record.hours
            c["records"] += 1
            if record.status == "confirmed":
                c["confirmed:" + record.category] += record.hours

    issued_ids = set()
    for opinion in WrittenOpinion.objects.filter(city=city).select_related("unit"):
        if opinion.status != "draft" and y0 <= _local_date(opinion.issued_at) <= y1 and opinion.unit.district_id in ids:
            issued_ids.add(opinion.pk)
            c = cell(opinion.unit.district_id)
            c["issued"] += 1
            c["corrections"] += opinion.version > 1
    for response in OpinionResponse.objects.select_related("opinion__unit"):
        if response.opinion_id in issued_ids:
            c = cell(response.opinion.unit.district_id)
            if response.responder == "design_unit":
                c["responded"] += 1
                c[response.outcome] += 1
            else:
                c["department_answers"] += 1

    days, working = defaultdict(list), defaultdict(list)
    for s in Suggestion.objects.filter(city=city):
        if not (y0 <= s.received_on <= y1) or s.district_id not in ids:
            continue
        c = cell(s.district_id)
        c["received"] += 1
        if s.hidden_at is not None:
            c["hidden"] += 1
            continue
        if s.replied_at is not None:
            reply = _local_date(s.replied_at)
            c["answered"] += 1
            c["on_time"] += reply <= s.due_on
            days[s.district_id].append((reply - s.received_on).days)
            working[s.district_id].append(count_working_days(s.received_on, reply)[0])
        elif s.status != "closed":
            c["overdue_unanswered" if s.due_on < today else "pending"] += 1
        c["forwarded"] += s.forwarded_at is not None
        c["closed"] += s.status == "closed"
    out["days"], out["working"] = days, working

    for allowance in Allowance.objects.filter(city=city):
        if allowance.district_id not in ids:
            continue
        c = cell(allowance.district_id)
        if y0 <= allowance.due_on <= y1:
            c["allowance_due_yuan"] += allowance.amount_yuan
            c["allowance_overdue_yuan"] += allowance.amount_yuan if allowance.status == "due" and allowance.due_on < today else 0
        if allowance.paid_on and y0 <= allowance.paid_on <= y1:
            c["allowance_paid_yuan"] += allowance.amount_yuan
    for installment in FeeInstallment.objects.filter(city=city):
        if installment.district_id in ids and y0 <= installment.due_on <= y1:
            c = cell(installment.district_id)
            c["fee_due_yuan"] += installment.amount_yuan
            c["fee_settled_on_time_count"] += bool(installment.settled_on and installment.settled_on <= installment.pay_by)
            c["fee_overdue_count"] += installment.status != "paid" and installment.pay_by < today
    for payment in FeePayment.objects.filter(city=city).select_related("installment"):
        if payment.installment.district_id in ids and y0 <= payment.paid_on <= y1:
            cell(payment.installment.district_id)["fee_paid_yuan"] += payment.amount_yuan
    return out


def _check_against_recount(city, year, today, stats, districts):
    expected = recount(city, year, today, districts)
    assert stats["year"] == year and stats["city"]["code"] == city.code
    if stats["pool"] is not None:
        assert stats["pool"]["in_pool"] == expected["pool"]["in_pool"]
        assert stats["pool"]["teams"] == expected["pool"]["teams"]
        assert stats["pool"]["admitted"] == expected["pool"]["admitted"]
        assert {g["code"]: g["count"] for g in stats["removals"]["grounds"] if g["count"]} == dict(expected["removals"])
    by_code = {d.code: d.pk for d in districts}
    assert [r["district"] for r in stats["appointments"]["rows"]] == [d.code for d in districts]
    for row in stats["appointments"]["rows"]:
        c = expected["districts"][by_code[row["district"]]]
        for key in ("active_in_year", "active_at_as_of", "new", "renewed", "ended", "withdrawn", "terminated",
                    "serving_planners"):
            assert row[key] == c[key], (row["district"], key)
    assert stats["appointments"]["total"]["serving_planners"] == expected["serving_planners_total"]
    for row in stats["coverage"]["rows"]:
        c = expected["districts"][by_code[row["district"]]]
        assert (row["units"], row["covered"]) == (c["units"], c["covered"])
        assert row["ratio"] == (round(c["covered"] / c["units"], 4) if c["units"] else None)
    for row in stats["grades"]["rows"]:
        c = expected["districts"][by_code[row["district"]]]
        for code, n in row["counts"].items():
            assert n == c["grade:" + code], (row["district"], code)
    for row in stats["duty_hours"]["rows"]:
        c = expected["districts"][by_code[row["district"]]]
        assert row["records"] == c["records"]
        for code, values in row["by_category"].items():
            assert Decimal(str(values["hours"])) == c["hours:" + code]
            assert Decimal(str(values["confirmed_hours"])) == c["confirmed:" + code]
    for row in stats["opinions"]["rows"]:
        c = expected["districts"][by_code[row["district"]]]
        for key in ("issued", "corrections", "responded", "adopted", "partly_adopted", "not_adopted", "department_answers"):
            assert row[key] == c[key], (row["district"], key)
    for row in stats["suggestions"]["rows"]:
        district_id = by_code[row["district"]]
        c = expected["districts"][district_id]
        for key in ("received", "hidden", "answered", "on_time", "overdue_unanswered", "pending", "forwarded", "closed"):
            assert row[key] == c[key], (row["district"], key)
        spans, work = expected["days"][district_id], expected["working"][district_id]
        assert row["median_days"] == (statistics.median(spans) if spans else None)
        assert row["mean_days"] == (round(sum(spans) / len(spans), 1) if spans else None)
        assert row["median_working_days"] == (statistics.median(work) if work else None)
        assert row["mean_working_days"] == (round(sum(work) / len(work), 1) if work else None)
    all_days = [v for d in districts for v in expected["days"][d.pk]]
    assert stats["suggestions"]["total"]["median_days"] == (statistics.median(all_days) if all_days else None)
    for row in stats["finance"]["rows"]:
        c = expected["districts"][by_code[row["district"]]]
        for key in ("allowance_due_yuan", "allowance_paid_yuan", "allowance_overdue_yuan", "fee_due_yuan",
                    "fee_settled_on_time_count", "fee_overdue_count", "fee_paid_yuan"):
            assert row[key] == c[key], (row["district"], key)
    return expected


@pytest.mark.parametrize("city_code", ["beijing", "pingdingshan"])
def test_statistics_agree_with_a_recount_from_the_raw_rows(reference, city_code, stats_year, stats_today):
    city = reference[city_code]
    built = build_year(city, stats_year)
    other = reference["pingdingshan" if city_code == "beijing" else "beijing"]
    build_year(other, stats_year)  # another city's rows must not leak in
    stats = city_statistics(city=city, year=stats_year, today=stats_today)
    districts = list(city.districts.order_by("sort_order", "code"))
    _check_against_recount(city, stats_year, stats_today, stats, districts)
    # The known rows, spelled out for the first district (a wrong recount would not catch a shared mistake).
    a, b = built["districts"]
    row_a = next(r for r in stats["appointments"]["rows"] if r["district"] == a.code)
    row_b = next(r for r in stats["appointments"]["rows"] if r["district"] == b.code)
    assert (row_a["new"], row_a["terminated"], row_a["active_at_as_of"]) == (2, 1, 2)
    assert (row_b["ended"], row_b["withdrawn"], row_b["renewed"], row_b["terminated"]) == (1, 1, 1, 1)
    assert stats["pool"]["admitted"] == 3
    assert stats["removals"]["total"] == 2
    assert stats["opinions"]["total"]["issued"] == 5 and stats["opinions"]["total"]["corrections"] == 1
    assert stats["opinions"]["total"]["adoption_rate"] == 0.75
    assert stats["suggestions"]["total"]["received"] == 10 and stats["suggestions"]["total"]["hidden"] == 1
    assert stats["duty_hours"]["total"]["hours"] == 28.5
    assert stats["grades"]["total"]["total"] == 4
    assert stats["finance"]["total"]["allowance_due_yuan"] == 14110
    assert stats["finance"]["total"]["fee_paid_yuan"] == 60000
    assert stats["article"] == city.policy.articles["statistics"]
    assert stats["scope"]["total_label"] == "全市合计"


def test_district_filter_limits_the_rows_and_the_totals(beijing, stats_year, stats_today):
    built = build_year(beijing, stats_year)
    _a, b = built["districts"]
    stats = city_statistics(city=beijing, year=stats_year, districts=[b], today=stats_today)
    assert [r["district"] for r in stats["appointments"]["rows"]] == [b.code]
    _check_against_recount(beijing, stats_year, stats_today, stats, [b])
    assert stats["suggestions"]["total"]["received"] == stats["suggestions"]["rows"][0]["received"] == 4
    assert stats["scope"]["whole_city"] is False


def test_the_current_year_counts_up_to_today(beijing, stats_year):
    build_year(beijing, stats_year)
    today = dt.date(stats_year, 7, 1)
    stats = city_statistics(city=beijing, year=stats_year, today=today)
    assert stats["period"]["as_of"] == today.isoformat() and stats["period"]["as_of_label"] == "截至今日"
    _check_against_recount(beijing, stats_year, today, stats, list(beijing.districts.order_by("sort_order", "code")))
    # The withdrawal (15 May) is over, the 31 August leave is not yet an "ended" term.
    assert stats["appointments"]["total"]["withdrawn"] == 1


def test_a_future_or_malformed_year_is_refused_in_chinese(beijing):
    from rpms.core.errors import DomainError

    with pytest.raises(DomainError) as future:
        city_statistics(city=beijing, year=dt.date.today().year + 1)
    assert future.value.code == "year_out_of_range" and "统计年度" in future.value.message
    with pytest.raises(DomainError) as bad:
        city_statistics(city=beijing, year="二〇二五")
    assert bad.value.code == "invalid_year"


def test_query_count_does_not_grow_with_the_data(beijing, stats_year, stats_today, django_assert_max_num_queries):
    build_year(beijing, stats_year)
    with django_assert_max_num_queries(25) as small:
        first = city_statistics(city=beijing, year=stats_year, today=stats_today)
    build_year(beijing, stats_year, copies=4)
    with django_assert_max_num_queries(25) as large:
        second = city_statistics(city=beijing, year=stats_year, today=stats_today)
    assert second["duty_hours"]["total"]["records"] == 5 * first["duty_hours"]["total"]["records"]
    assert second["suggestions"]["total"]["received"] == 5 * first["suggestions"]["total"]["received"]
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_district_officers_query_count_is_bounded_too(beijing, stats_year, stats_today, django_assert_max_num_queries):
    from rpms.accounts.models import Role

    from .conftest import make_user

    built = build_year(beijing, stats_year, copies=3)
    officer = make_user("stat_count_officer", Role.DISTRICT_OFFICER, beijing, districts=built["districts"][:1])
    with django_assert_max_num_queries(25):
        stats = statistics_for_user(user=officer, city=beijing, year=stats_year, today=stats_today)
    assert stats["appointments"]["total"]["new"] == 3 * 2


def test_district_officer_sees_only_his_districts_and_no_city_level_figures(beijing, stats_year, stats_today):
    from rpms.accounts.models import Role

    from .conftest import make_user

    built = build_year(beijing, stats_year)
    _a, b = built["districts"]
    officer = make_user("stat_officer", Role.DISTRICT_OFFICER, beijing, districts=[b])
    stats = statistics_for_user(user=officer, city=beijing, year=stats_year, today=stats_today)
    assert stats["districts"] == [{"code": b.code, "name": b.name}]
    assert stats["pool"] is None and stats["removals"] is None and "withheld" in stats
    assert stats["scope"]["total_label"] == "所辖区合计"
    _check_against_recount(beijing, stats_year, stats_today, stats, [b])
