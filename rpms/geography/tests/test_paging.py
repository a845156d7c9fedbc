"""Issue #15: the public units API pages through the city's units, with the total in a header and links to the
neighbouring pages."""
import pytest

from rpms.geography import selectors
from rpms.geography.models import ResponsibilityUnit

pytestmark = pytest.mark.django_db


def test_the_units_api_pages_with_a_total_and_links(client, beijing_units, monkeypatch):
    monkeypatch.setattr(selectors, "UNITS_PAGE_SIZE", 200)
    first = client.get("/api/v1/cities/beijing/units")
    assert len(first.json()) == 200 and first["X-Total-Count"] == "349"
    assert first["Link"] == '</api/v1/cities/beijing/units?page=2>; rel="next"'
    second = client.get("/api/v1/cities/beijing/units", {"page": 2})
    assert len(second.json()) == 149 and 'rel="prev"' in second["Link"] and 'rel="next"' not in second["Link"]
    ids = [u["id"] for u in first.json() + second.json()]
    assert ids == list(ResponsibilityUnit.objects.filter(city=beijing_units, dissolved_at__isnull=True)
                       .values_list("id", flat=True))


def test_the_staff_units_page_lists_a_page_and_counts_every_unit(client, beijing_units, city_admin):
    """The staff page at 10× Beijing was one 1 MB page of 3,500 units: it lists 100 a page, counts in SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rpms.geography.selectors import covered_unit_ids

    client.force_login(city_admin)
    client.get("/geography/units/")  # fills the cached policy
    with CaptureQueriesContext(connection) as first_queries:
        first = client.get("/geography/units/")
    counts, paging = first.context["counts"], first.context["paging"]
    active = ResponsibilityUnit.objects.filter(city=beijing_units, dissolved_at__isnull=True)
    assert counts["units"] == active.count() == 349 and paging["pages"] == 4 and len(first.context["units"]) == 100
    assert counts["covered"] + counts["uncovered"] == 349 and counts["covered"] == len(covered_unit_ids(beijing_units))
    members = sum(len(u.current_subdistricts) for u in selectors.unit_list(city=beijing_units))
    assert counts["subdistricts"] == members
    assert counts["multi"] == sum(1 for u in selectors.unit_list(city=beijing_units) if len(u.current_subdistricts) > 1)
    assert "第 1 页，共 4 页" in first.content.decode() and "下一页" in first.content.decode()

    with CaptureQueriesContext(connection) as last_queries:
        last = client.get("/geography/units/", {"page": 4})
    assert len(last.context["units"]) == 49 and len(last_queries) == len(first_queries)
    assert client.get("/geography/units/", {"page": 99}).context["paging"]["number"] == 4  # past the end: the last
    listed = [u.pk for p in range(1, 5) for u in client.get("/geography/units/", {"page": p}).context["units"]]
    assert sorted(listed) == sorted(active.values_list("pk", flat=True))
    refused = client.get("/geography/units/", {"page": "abc"})
    assert refused.status_code == 400 and "页码" in refused.content.decode()
