"""Coverage (B4) has one definition (rpms.appointments.selectors: a unit is covered on a day when an
appointment serves it that day); every place that shows it agrees (issue #14 item 8): geography's summary
and API, the city administrator's home page, the uncovered list, the public coverage dataset and map, the
statistics and the city's assessment of districts."""
import datetime as dt

import pytest

from rpms.core import clock
from rpms.appointments.selectors import coverage_by_district, covered_unit_ids, uncovered_by_district
from rpms.assessments.selectors import districts_metrics
from rpms.geography.models import District, ResponsibilityUnit
from rpms.geography.selectors import coverage_summary
from rpms.portal.selectors import coverage_overview
from rpms.publicinfo.selectors import city_coverage
from rpms.registry.services import planner_create
from rpms.reports.selectors import city_statistics
from rpms.testing.builders import appointment_build

pytestmark = pytest.mark.django_db


def _units(district, n):
    return list(ResponsibilityUnit.objects.filter(district=district, dissolved_at__isnull=True).order_by("pk")[:n])


def test_every_place_counts_the_same_coverage(beijing, haidian, chaoyang, anon):
    today = clock.today()
    served = _units(haidian, 2) + _units(chaoyang, 1)
    for n, unit in enumerate(served):
        planner = planner_create(actor=None, city=beijing, name=f"覆盖一致测试{n}", pool_status="active",
                                 specialties=["urban_rural_planning"], is_fictional=True)
        appointment_build(unit=unit, planner=planner, start=today - dt.timedelta(days=3))
    # a later appointment does not cover today
    appointment_build(unit=_units(haidian, 3)[2], start=today + dt.timedelta(days=5), planner=planner_create(
        actor=None, city=beijing, name="覆盖一致测试待到任", pool_status="active", specialties=["urban_rural_planning"],
        is_fictional=True))

    by_district = coverage_by_district(city=beijing)
    units = sum(row["units"] for row in by_district.values())
    covered = sum(row["covered"] for row in by_district.values())
    assert covered == 3 and covered_unit_ids(beijing) == {u.pk for u in served}
    assert units == ResponsibilityUnit.objects.filter(city=beijing, dissolved_at__isnull=True).count()

    summary = coverage_summary(beijing)  # geography: its page and /api/v1/cities/{code}/coverage
    assert (summary["units"], summary["covered"]) == (units, covered)
    api = anon.get(f"/api/v1/cities/{beijing.code}/coverage").json()
    assert (api["units"], api["covered"]) == (units, covered)
    overview = coverage_overview(beijing)  # the city administrator's home page
    assert (overview["units"], overview["covered"], overview["uncovered"]) == (units, covered, units - covered)
    assert sum(len(group["units"]) for group in uncovered_by_district(beijing)) == units - covered

    public = {dc.district.pk: (dc.total, dc.covered) for dc in city_coverage(beijing).districts}  # the public map
    dataset = {row["district_code"]: (row["units"], row["covered"])  # the open data
               for row in anon.get("/api/v1/public/coverage.json", {"city": beijing.code}).json()["rows"]}
    stats = {row["district"]: (row["units"], row["covered"])  # the statistics
             for row in city_statistics(city=beijing, year=today.year, today=today)["coverage"]["rows"]}
    metrics = districts_metrics(city=beijing, year=today.year, today=today)  # the assessment of districts
    for district in District.objects.filter(city=beijing):
        expected = (by_district.get(district.pk, {}).get("units", 0), by_district.get(district.pk, {}).get("covered", 0))
        assert public[district.pk] == expected, district.name
        assert dataset[district.code] == expected, district.name
        assert stats[district.code] == expected, district.name
        coverage = next(m for m in metrics[district.pk]["metrics"] if m["code"] == "coverage")
        assert (coverage["denominator"], coverage["numerator"]) == expected, district.name
