"""Submitting a suggestion: routing to the unit's current planners, the deadline in working days, input checks,
photos, and the audit row."""
import datetime as dt
import re

import pytest

from rpms.core.errors import Conflict, DomainError
from rpms.core.models import ActionLog
from rpms.suggestions import selectors, services
from rpms.suggestions.models import Suggestion, SuggestionPhoto, SuggestionRecipient, SuggestionStatus

from .conftest import RESIDENT_PHONE, appoint, image_file, make_planner, pdf_file, submit

pytestmark = pytest.mark.django_db

CITIES = [("beijing", "bj_unit", "bj_other_unit"), ("pingdingshan", "pds_unit", "pds_other_unit")]


@pytest.mark.parametrize("city_code,unit_name,other_unit_name", CITIES)
def test_a_suggestion_reaches_exactly_the_planners_serving_the_unit_today(request, clock, city_code, unit_name, other_unit_name):
    clock.set(dt.date(2026, 3, 2))
    unit = request.getfixturevalue(unit_name)
    other_unit = request.getfixturevalue(other_unit_name)
    serving_a, serving_b = make_planner(unit.city), make_planner(unit.city)
    appoint(serving_a, unit)
    appoint(serving_b, unit, role="architect")
    ended = make_planner(unit.city)
    appoint(ended, unit, start=dt.date(2025, 1, 1), end=dt.date(2026, 3, 1))  # term ran out yesterday
    left = make_planner(unit.city)
    appoint(left, unit, start=dt.date(2025, 1, 1), end=dt.date(2026, 12, 31), ended_on=dt.date(2026, 2, 27))
    upcoming = make_planner(unit.city)
    appoint(upcoming, unit, start=dt.date(2026, 3, 3))  # starts tomorrow
    elsewhere = make_planner(unit.city)
    appoint(elsewhere, other_unit)

    suggestion = submit(unit)

    recipients = set(SuggestionRecipient.objects.filter(suggestion=suggestion).values_list("planner_id", flat=True))
    assert recipients == {serving_a.pk, serving_b.pk}
    assert suggestion.unit_vacant is False
    assert suggestion.status == SuggestionStatus.RECEIVED
    assert suggestion.district_id == unit.district_id
    # The inbox of each: the serving planners see it, the others do not.
    for planner, sees in ((serving_a, True), (serving_b, True), (ended, False), (left, False), (upcoming, False),
                          (elsewhere, False)):
        assert selectors.suggestion_list(user=planner.user).filter(pk=suggestion.pk).exists() is sees, planner.name


@pytest.mark.parametrize("city_code,unit_name,article", [("beijing", "bj_unit", "B11(2)、B22"), ("pingdingshan", "pds_unit", "P3(3)")])
def test_submission_writes_one_audit_row_with_the_citys_article_and_no_contact(request, clock, city_code, unit_name, article):
    unit = request.getfixturevalue(unit_name)
    before = ActionLog.objects.count()
    suggestion = submit(unit)
    rows = list(ActionLog.objects.filter(action="suggestions.suggestion_submit"))
    assert ActionLog.objects.count() == before + 1
    assert len(rows) == 1
    assert rows[0].article == article
    assert rows[0].object_id == str(suggestion.pk)
    assert rows[0].city_code == city_code
    assert RESIDENT_PHONE not in str(rows[0].after) and RESIDENT_PHONE not in rows[0].summary


def test_a_unit_nobody_serves_still_accepts_and_is_routed_to_the_district(clock, bj_unit, district_haidian, district_chaoyang):
    suggestion = submit(bj_unit)
    assert suggestion.unit_vacant is True
    assert not suggestion.recipients.exists()
    assert selectors.suggestion_list(user=district_haidian).filter(pk=suggestion.pk).exists()
    assert not selectors.suggestion_list(user=district_chaoyang).filter(pk=suggestion.pk).exists()
    from rpms.suggestions.pending import suggestion_pending

    items = suggestion_pending(district_haidian)
    assert [i.count for i in items if "无在任责任规划师" in i.title] == [1]
    assert suggestion_pending(district_chaoyang) == []


def test_tracking_codes_are_ten_unambiguous_characters_and_distinct(clock, bj_unit):
    codes = {submit(bj_unit).tracking_code for _ in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{10}", code), code


def test_due_date_counts_working_days_across_the_national_day_holiday(clock, bj_unit, district_haidian):
    # Received Tuesday 29 September 2026. 1–7 October are holidays and Saturday 10 October is a make-up
    # working day, so the 10th working day is Friday 16 October (not 9 or 12 October).
    clock.set(dt.date(2026, 9, 29))
    suggestion = submit(bj_unit)
    assert suggestion.received_on == dt.date(2026, 9, 29)
    assert suggestion.response_working_days == 10
    assert suggestion.due_on == dt.date(2026, 10, 16)

    def overdue_ids():
        return set(selectors.suggestion_list(user=district_haidian, overdue=True).values_list("pk", flat=True))

    clock.set(dt.date(2026, 10, 13))  # Mon–Fri counting would already be past the deadline (12 October)
    assert overdue_ids() == set()
    clock.set(dt.date(2026, 10, 16))  # the last day itself is not late
    assert overdue_ids() == set()
    clock.set(dt.date(2026, 10, 17))
    assert overdue_ids() == {suggestion.pk}
    from rpms.suggestions.pending import suggestion_pending

    warn = [i for i in suggestion_pending(district_haidian) if i.level == "warn" and "超过答复期限" in i.title]
    assert warn and warn[0].count == 1


def test_the_response_time_is_the_citys_policy(clock, pds_unit):
    policy = pds_unit.city.policy
    policy.suggestion_response_working_days = 3
    policy.save()
    clock.set(dt.date(2026, 9, 30))  # Wed; 1–7 Oct holidays: Wed 30 Sep, Thu 8 Oct, Fri 9 Oct
    suggestion = submit(pds_unit)
    assert suggestion.due_on == dt.date(2026, 10, 9)


def test_an_answer_in_time_is_never_overdue(clock, bj_unit, bj_planner, district_haidian):
    clock.set(dt.date(2026, 9, 29))
    suggestion = submit(bj_unit)
    services.suggestion_reply(actor=bj_planner.user, suggestion=suggestion, text="已联系路灯管理单位，本周内修复。")
    clock.set(dt.date(2026, 11, 30))
    assert not selectors.suggestion_list(user=district_haidian, overdue=True).exists()


@pytest.mark.parametrize("kwargs,code", [
    ({"phone": "12345"}, "invalid_mobile"),
    ({"content": "  "}, "invalid_content"),
    ({"content": "灯坏"}, "invalid_content"),
    ({"content": "很" * 2001}, "invalid_content"),
    ({"category": "complaint"}, "invalid_category"),
    ({"name": "名" * 51}, "invalid_contact_name"),
])
def test_bad_input_is_refused_and_nothing_is_saved(clock, bj_unit, bj_planner, kwargs, code):
    logs = ActionLog.objects.count()
    with pytest.raises(DomainError) as caught:
        submit(bj_unit, **kwargs)
    assert caught.value.code == code
    assert re.search(r"[\u4e00-\u9fff]", caught.value.message)
    assert Suggestion.objects.count() == 0 and SuggestionRecipient.objects.count() == 0
    assert ActionLog.objects.count() == logs


def test_contact_is_optional_and_a_phone_is_normalised(clock, bj_unit):
    assert submit(bj_unit, phone="", name="").contact_phone == ""
    assert submit(bj_unit, phone="+86 139-1234-5678").contact_phone == RESIDENT_PHONE


def test_a_dissolved_unit_refuses(clock, bj_unit):
    from django.utils import timezone

    bj_unit.dissolved_at = timezone.now()
    bj_unit.save()
    with pytest.raises(Conflict):
        submit(bj_unit)


def test_a_street_outside_the_unit_is_refused(clock, bj_unit):
    from rpms.geography.models import Subdistrict

    with pytest.raises(DomainError) as caught:
        submit(bj_unit, subdistrict=Subdistrict.objects.get(code="110105001"))
    assert caught.value.code == "subdistrict_not_in_unit"


def test_photos_are_stored_privately_images_only(clock, bj_unit, settings):
    suggestion = submit(bj_unit, photos=[image_file("a.png"), image_file("b.jpg", fmt="JPEG")])
    photos = list(SuggestionPhoto.objects.filter(suggestion=suggestion))
    assert sorted(p.kind for p in photos) == ["jpeg", "png"]
    for photo in photos:
        assert (settings.PRIVATE_MEDIA_ROOT / photo.path).is_file()


@pytest.mark.parametrize("photos,code", [
    (lambda: [pdf_file()], "upload_type_not_allowed"),
    (lambda: [image_file("x.png")] * 4, "too_many_photos"),
    (lambda: [image_file("disguised.jpg", fmt="PNG")], "upload_type_mismatch"),
])
def test_bad_photos_are_refused_and_no_file_or_row_stays(clock, bj_unit, settings, photos, code):
    with pytest.raises(DomainError) as caught:
        submit(bj_unit, photos=photos())
    assert caught.value.code == code
    assert Suggestion.objects.count() == 0
    root = settings.PRIVATE_MEDIA_ROOT
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_an_oversized_photo_is_refused(clock, bj_unit, settings):
    settings.RPMS_SUGGESTION_MAX_PHOTO_BYTES = 100
    with pytest.raises(DomainError) as caught:
        submit(bj_unit, photos=[image_file(size=(200, 200))])
    assert caught.value.code == "upload_too_large"
    assert Suggestion.objects.count() == 0


def test_a_failure_after_storing_photos_removes_them(clock, bj_unit, settings, monkeypatch):
    from rpms.suggestions import services as module

    def boom(**kwargs):
        raise RuntimeError("audit failed")

    monkeypatch.setattr(module, "audit_log", boom)
    with pytest.raises(RuntimeError):
        submit(bj_unit, photos=[image_file()])
    assert Suggestion.objects.count() == 0
    root = settings.PRIVATE_MEDIA_ROOT
    assert not any(p.is_file() for p in root.rglob("*"))
