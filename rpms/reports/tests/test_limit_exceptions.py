"""Issue #12 item 4: the statistics count the exceptions to in-principle limits per limit (granted and
refused in the year, pending now), city-wide, with each limit's article and strictness."""

import pytest
from django.utils import timezone

from rpms.registry.models import LimitException
from rpms.reports.selectors import city_statistics, statistics_for_user

pytestmark = pytest.mark.django_db


def record(city, district, user, *, limit, status, decided=True):
    now = timezone.now()
    return LimitException.objects.create(
        city=city, limit=limit, article="B19(2)", act="selection_approve", subject="appointment",
        subject_label="某人 → 某单元", district=district, reason="理由", requested_by=user, requested_at=now,
        status=status, decided_by=user if decided else None, decided_at=now if decided else None,
        decision_note="不同意" if status == "refused" else "")


def test_exceptions_are_counted_per_limit(beijing, pingdingshan, haidian, city_admin, district_haidian):
    record(beijing, haidian, city_admin, limit="unit_cap", status="approved")
    record(beijing, haidian, city_admin, limit="unit_cap", status="approved")
    record(beijing, haidian, city_admin, limit="core_team_members", status="refused")
    record(beijing, haidian, district_haidian, limit="eligibility", status="pending", decided=False)
    year = timezone.localdate().year

    stats = city_statistics(city=beijing, year=year)

    rows = {r["code"]: r for r in stats["limit_exceptions"]["rows"]}
    assert (rows["unit_cap"]["granted"], rows["unit_cap"]["article"], rows["unit_cap"]["strictness"]) == (
        2, "B19(2)", "in_principle")
    assert rows["core_team_members"]["refused"] == 1 and rows["eligibility"]["pending"] == 1
    assert stats["limit_exceptions"]["total"] == {"granted": 2, "refused": 1, "pending": 1}
    assert "原则性规定的例外" in stats["definitions"]["limit_exceptions"]
    # A past year counts none of this year's decisions; another city counts its own.
    assert city_statistics(city=beijing, year=year - 1)["limit_exceptions"]["total"]["granted"] == 0
    pds = city_statistics(city=pingdingshan, year=year)["limit_exceptions"]
    assert pds["total"] == {"granted": 0, "refused": 0, "pending": 0}
    assert {r["strictness"] for r in pds["rows"]} == {"strict"}
    # City-wide: withheld from a district officer like the pool figures.
    assert statistics_for_user(user=district_haidian, city=beijing, year=year)["limit_exceptions"] is None


def test_the_statistics_page_shows_the_figure(beijing, haidian, city_admin, login):
    record(beijing, haidian, city_admin, limit="unit_cap", status="approved")
    page = login(city_admin).get(f"/statistics/?city=beijing&year={timezone.localdate().year}").content.decode()
    assert "原则性规定的例外" in page and 'id="table-limit-exceptions"' in page
