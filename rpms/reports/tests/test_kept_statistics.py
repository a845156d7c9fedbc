"""Issue #15: a finished year's statistics are computed once and kept (AnnualStatisticsSnapshot, the shared cache in
front), recomputed when late data of that year arrives or when an "as of today" figure would change with the date;
the current year is cached and a new record shows at once; a district officer's figures are kept apart."""
import datetime as dt

import pytest
from django.core.cache import cache
from django.db import transaction

from rpms.reports.models import AnnualStatisticsSnapshot
from rpms.reports.selectors import city_statistics, compute_city_statistics, statistics_for_user

from .conftest import _duty, build_year, make_user

pytestmark = pytest.mark.django_db


def _same(a: dict, b: dict) -> bool:
    return {**a, "generated_at": None} == {**b, "generated_at": None}


def _an_appointment(city):
    from rpms.appointments.models import Appointment

    return Appointment.objects.filter(city=city).order_by("start", "pk").first()


def test_a_finished_year_is_computed_once_kept_and_read_back_in_at_most_two_queries(
        beijing, stats_year, stats_today, django_assert_max_num_queries):
    build_year(beijing, stats_year)
    first = city_statistics(city=beijing, year=stats_year, today=stats_today)
    assert _same(first, compute_city_statistics(city=beijing, year=stats_year, today=stats_today))
    row = AnnualStatisticsSnapshot.objects.get(city=beijing, year=stats_year)
    assert row.scope_key == "city" and not row.stale and row.computed_on == stats_today
    assert "definitions" in first and row.data["definitions"] is None  # constants of the program are not kept
    with django_assert_max_num_queries(2):  # the shared cache
        assert city_statistics(city=beijing, year=stats_year, today=stats_today) == first
    cache.clear()  # a flush of the shared cache: the kept row answers
    with django_assert_max_num_queries(2) as kept:
        assert city_statistics(city=beijing, year=stats_year, today=stats_today) == first
    assert len(kept.captured_queries) == 1
    assert AnnualStatisticsSnapshot.objects.filter(city=beijing, year=stats_year).count() == 1


def test_the_kept_read_costs_the_same_queries_at_two_data_sizes(
        beijing, stats_year, stats_today, django_assert_max_num_queries):
    build_year(beijing, stats_year)
    city_statistics(city=beijing, year=stats_year, today=stats_today)
    cache.clear()
    with django_assert_max_num_queries(2) as small:
        city_statistics(city=beijing, year=stats_year, today=stats_today)
    build_year(beijing, stats_year, copies=2)
    bigger = city_statistics(city=beijing, year=stats_year, today=stats_today)  # late data: recomputed
    assert bigger["duty_hours"]["total"]["records"] > 0
    cache.clear()
    with django_assert_max_num_queries(2) as large:
        assert city_statistics(city=beijing, year=stats_year, today=stats_today) == bigger
    assert len(small.captured_queries) == len(large.captured_queries)


def test_a_late_duty_record_of_the_year_changes_the_next_read(
        beijing, stats_year, stats_today, django_capture_on_commit_callbacks):
    build_year(beijing, stats_year)
    before = city_statistics(city=beijing, year=stats_year, today=stats_today)["duty_hours"]["total"]
    appointment = _an_appointment(beijing)
    category = beijing.policy.duty_categories[0]["code"]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _duty(appointment, dt.date(stats_year, 12, 20), "2.5", category, confirmed=False)
    # At once (the cache generations), and from the table after a cache flush (the row was marked at commit).
    after = city_statistics(city=beijing, year=stats_year, today=stats_today)["duty_hours"]["total"]
    assert after["records"] == before["records"] + 1 and after["hours"] == before["hours"] + 2.5
    assert AnnualStatisticsSnapshot.objects.get(city=beijing, year=stats_year).stale is False  # recomputed
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _duty(appointment, dt.date(stats_year, 12, 21), "1.5", category, confirmed=False)
    assert AnnualStatisticsSnapshot.objects.get(city=beijing, year=stats_year).stale is True
    cache.clear()
    again = city_statistics(city=beijing, year=stats_year, today=stats_today)["duty_hours"]["total"]
    assert again["records"] == before["records"] + 2 and again["hours"] == before["hours"] + 4.0


def test_a_late_record_read_inside_the_writers_own_transaction_counts(beijing, stats_year, stats_today):
    build_year(beijing, stats_year)
    before = city_statistics(city=beijing, year=stats_year, today=stats_today)["duty_hours"]["total"]["records"]
    _duty(_an_appointment(beijing), dt.date(stats_year, 6, 1), "1", beijing.policy.duty_categories[0]["code"],
          confirmed=True)  # not committed: the row is not marked yet, the raised generation is enough
    assert city_statistics(city=beijing, year=stats_year, today=stats_today)["duty_hours"]["total"]["records"] \
        == before + 1


def test_a_record_of_another_year_leaves_the_kept_year_alone(
        beijing, stats_year, stats_today, django_capture_on_commit_callbacks, django_assert_max_num_queries):
    build_year(beijing, stats_year)
    first = city_statistics(city=beijing, year=stats_year, today=stats_today)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _duty(_an_appointment(beijing), stats_today, "3", beijing.policy.duty_categories[0]["code"], confirmed=False)
    with django_assert_max_num_queries(0):
        assert city_statistics(city=beijing, year=stats_year, today=stats_today) == first
    assert AnnualStatisticsSnapshot.objects.get(city=beijing, year=stats_year).stale is False


def test_the_current_year_is_cached_and_a_new_record_shows_at_once(
        beijing, stats_year, stats_today, django_assert_max_num_queries):
    year = stats_today.year
    build_year(beijing, stats_year)
    first = city_statistics(city=beijing, year=year, today=stats_today)
    with django_assert_max_num_queries(0):
        assert city_statistics(city=beijing, year=year, today=stats_today) == first
    assert not AnnualStatisticsSnapshot.objects.filter(year=year).exists()  # not kept: it is still running
    _duty(_an_appointment(beijing), stats_today, "4", beijing.policy.duty_categories[0]["code"], confirmed=False)
    after = city_statistics(city=beijing, year=year, today=stats_today)["duty_hours"]["total"]
    assert after["records"] == first["duty_hours"]["total"]["records"] + 1


def test_a_district_officer_never_gets_city_wide_figures_from_the_cache_or_the_table(beijing, stats_year, stats_today):
    from rpms.accounts.models import Role

    built = build_year(beijing, stats_year)
    a, b = built["districts"]
    admin = make_user("kept_admin", Role.CITY_ADMIN, beijing)
    officer_b = make_user("kept_officer_b", Role.DISTRICT_OFFICER, beijing, districts=[b])
    officer_a = make_user("kept_officer_a", Role.DISTRICT_OFFICER, beijing, districts=[a])
    whole = statistics_for_user(user=admin, city=beijing, year=stats_year, today=stats_today)
    admin_b = statistics_for_user(user=admin, city=beijing, year=stats_year, district_codes=[b.code], today=stats_today)
    for _ in range(2):  # from the computation, then from the cache, then (below) from the table
        mine = statistics_for_user(user=officer_b, city=beijing, year=stats_year, today=stats_today)
        assert mine["districts"] == [{"code": b.code, "name": b.name}]
        assert mine["pool"] is None and mine["removals"] is None and mine["scope"]["city_level"] is False
        assert mine["duty_hours"]["total"] != whole["duty_hours"]["total"]
        assert admin_b["pool"] is not None  # the administrator's view of district b keeps the city-level figures
    cache.clear()
    mine_again = statistics_for_user(user=officer_b, city=beijing, year=stats_year, today=stats_today)
    assert _same(mine_again, mine)
    theirs = statistics_for_user(user=officer_a, city=beijing, year=stats_year, today=stats_today)
    assert theirs["districts"] == [{"code": a.code, "name": a.name}] and theirs["pool"] is None
    keys = set(AnnualStatisticsSnapshot.objects.filter(city=beijing, year=stats_year).values_list("scope_key", flat=True))
    assert len(keys) == 4  # the city, district b with and without the city-level figures, district a


def test_a_kept_year_is_recomputed_when_an_as_of_today_figure_changes_with_the_date(beijing, stats_year, stats_today):
    """A suggestion received on 30 December is pending on 10 January; once its reply period has run out it is
    overdue, with no write in between: the row is valid only until its due day."""
    build_year(beijing, stats_year)
    first = city_statistics(city=beijing, year=stats_year, today=stats_today)["suggestions"]["total"]
    row = AnnualStatisticsSnapshot.objects.get(city=beijing, year=stats_year)
    assert row.valid_until is not None and row.valid_until >= stats_today
    later = row.valid_until + dt.timedelta(days=1)
    assert city_statistics(city=beijing, year=stats_year, today=row.valid_until)["suggestions"]["total"] == first
    moved = city_statistics(city=beijing, year=stats_year, today=later)["suggestions"]["total"]
    assert moved["overdue_unanswered"] == first["overdue_unanswered"] + 1 and moved["pending"] == first["pending"] - 1
    assert moved == compute_city_statistics(city=beijing, year=stats_year, today=later)["suggestions"]["total"]


def test_a_change_of_the_citys_units_marks_every_year(beijing, stats_year, stats_today,
                                                                django_capture_on_commit_callbacks):
    build_year(beijing, stats_year)
    city_statistics(city=beijing, year=stats_year, today=stats_today)
    city_statistics(city=beijing, year=stats_year - 1, today=stats_today)
    unit = beijing.units.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        unit.save()
    assert set(AnnualStatisticsSnapshot.objects.filter(city=beijing).values_list("stale", flat=True)) == {True}


def test_rows_written_in_bulk_mark_the_kept_years_as_a_saved_row_would(beijing, stats_year, stats_today, city_admin,
                                                                       django_capture_on_commit_callbacks):
    """bulk_create / QuerySet.update send no signal: the services that use them tell rpms.core.hooks
    (ROWS_WRITTEN_IN_BULK), and the kept statistics they feed are marked stale."""
    from rpms.core import hooks
    from rpms.finance.models import Allowance
    from rpms.registry import services as registry_services

    build_year(beijing, stats_year)

    def kept_then(act):
        city_statistics(city=beijing, year=stats_year, today=stats_today)
        city_statistics(city=beijing, year=stats_year - 1, today=stats_today)
        AnnualStatisticsSnapshot.objects.filter(city=beijing).update(stale=False)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            act()
        return dict(AnnualStatisticsSnapshot.objects.filter(city=beijing).values_list("year", "stale"))

    # a service's bulk update of planners (the pool is shown in every year)
    from rpms.testing.builders import planner_build

    planners = [planner_build(beijing)]
    type(planners[0]).objects.filter(pk=planners[0].pk).update(is_fictional=False)
    planners[0].is_fictional = False
    marked = kept_then(lambda: registry_services.planners_mark_fictional(actor=city_admin, city=beijing, planners=planners))
    assert marked == {stats_year: True, stats_year - 1: True}
    # rows of one year: only that year
    assert kept_then(lambda: hooks.rows_written_in_bulk(Allowance, city_id=beijing.pk, years=[stats_year - 1])) == {
        stats_year: False, stats_year - 1: True}
    # another city's rows leave Beijing's kept years alone
    other = beijing.pk + 10_000
    assert kept_then(lambda: hooks.rows_written_in_bulk(Allowance, city_id=other, years=[stats_year])) == {
        stats_year: False, stats_year - 1: False}
