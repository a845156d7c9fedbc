"""The scripts moved out of the templates (issue #16 item 5) still work under the Content-Security-Policy
(script-src 'self'): the import progress follows the import to its end, the release confirmation asks first,
and the API docs page (django-ninja's Swagger UI, served from local files) lists the operations. Any CSP
violation fails the test (tests/browser/conftest.py collects them)."""
import datetime as dt

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
    from rpms.core.crypto import blind_index

    # identity numbers are stored encrypted: looked up through their blind index (issue #16 item 3)
    assert Planner.objects.filter(
        id_number_index__in=[blind_index(p["id_number"], kind="id_number") for p in people]).count() == 3


def test_the_api_docs_page_lists_the_operations_offline(pages):
    page = pages.open()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    assert page.locator(".opblock").count() > 50
    assert all(url.startswith(pages.base_url) or url.startswith("data:") for url in requested), requested


def test_the_release_confirmation_asks_before_the_form_is_sent(pages, pingdingshan):
    from rpms.accounts.models import Role
    from rpms.appointments.models import Appointment
    from rpms.cities.models import PolicyProfile
    from rpms.suggestions import services
    from rpms.suggestions.models import Suggestion
    from rpms.testing.builders import planner_build, unit_of, user_build

    PolicyProfile.objects.filter(city=pingdingshan).update(suggestions_premoderated=True)
    unit = unit_of(pingdingshan, "410402001")  # 曙光街街道
    planner = planner_build(pingdingshan, "新华区测试规划师", username_prefix="csp_planner", mobile="13700000001")
    Appointment.objects.create(city=pingdingshan, unit=unit, planner=planner, role="responsible_planner",
                               start=dt.date(2025, 1, 1), end=dt.date(2027, 12, 31), party_a="测试街道办事处")
    district = user_build("csp_pds_district", Role.DISTRICT_OFFICER, pingdingshan, districts=[unit.district])
    suggestion = services.suggestion_submit(actor=None, unit=unit, category="problem", content="曙光街公园的健身器材损坏了。",
                                            contact_name="王测试居民", contact_phone="13912345678", photos=(),
                                            subdistrict=None)
    assert suggestion.premoderated and suggestion.released_at is None

    page = login(pages.open(), district)
    page.goto(f"/suggestions/manage/{suggestion.pk}/")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name="审核放行，公开显示").click()
    page.wait_for_timeout(500)
    assert questions and questions[0].startswith("确认审核放行？")
    assert Suggestion.objects.get(pk=suggestion.pk).released_at is None  # dismissed: nothing was sent

    page.once("dialog", lambda dialog: answer(dialog, True))
    with page.expect_navigation():
        page.get_by_role("button", name="审核放行，公开显示").click()
    assert len(questions) == 2
    assert Suggestion.objects.get(pk=suggestion.pk).released_at is not None
