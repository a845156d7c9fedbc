"""Issue #15: the units page and the units API page through the city's units; their counts are of all units
(computed in SQL), and the query count does not depend on the page."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rpms.geography import selectors
from rpms.geography.models import ResponsibilityUnit

pytestmark = pytest.mark.django_db


def test_the_units_page_pages_with_counts_of_all_units(client, beijing_units, city_admin, monkeypatch):
    monkeypatch.setattr(selectors, "UNITS_PAGE_SIZE", 100)
    client.force_login(city_admin)
    everything = list(ResponsibilityUnit.objects.filter(city=beijing_units, dissolved_at__isnull=True))
    seen, counts = [], []
    for page in range(1, 5):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("geography:unit_list"), {"page": page})
        counts.append(len(queries))
        context = response.context
        assert context["counts"]["units"] == len(everything) == 349
        assert context["counts"]["uncovered"] == 349 and context["pages"] == 4
        seen += [u.pk for u in context["units"]]
    assert seen == [u.pk for u in everything]  # every unit once, in the units' order
    assert len(set(counts)) == 1
    html = response.content.decode()
    assert "第 4 / 4 页（共 349 个）" in html and "page=3\">上一页</a>" in html


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
