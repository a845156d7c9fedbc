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
