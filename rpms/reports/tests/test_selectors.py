"""city_statistics agrees with a recount from the raw rows (Python loops over model rows), in both cities,
and its number of queries does not grow with the data."""
import datetime as dt

import pytest

from rpms.reports.selectors import city_statistics, statistics_for_user

from .conftest import build_year
from .recount import figures, recount

pytestmark = pytest.mark.django_db


def _check_against_recount(city, year, today, stats, districts):
    """Every figure of `stats` equals the independent recount (tests/recount.py), key by key."""
    expected = recount(city, year, today, districts)
    assert stats["year"] == year and stats["city"]["code"] == city.code
    assert [r["district"] for r in stats["appointments"]["rows"]] == [d.code for d in districts]
    if stats["pool"] is None:
        expected["pool"] = expected["removals"] = None
    got, want = figures(stats), figures(expected)
    assert set(got) == set(want), sorted(set(got) ^ set(want))
    wrong = {key: (got[key], want[key]) for key in got if got[key] != want[key]}
    assert not wrong, wrong
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
    # The appointment terminated before it began never served: it is no departure (and no "new" one either).
    assert (row_b["ended"], row_b["withdrawn"], row_b["renewed"], row_b["terminated"]) == (1, 1, 1, 0)
    assert stats["pool"]["admitted"] == 3
    pool = stats["pool"]
    assert pool["in_pool_start"] + pool["admitted"] - pool["removed"] == pool["in_pool"] == pool["individuals"] + pool["teams"]
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
