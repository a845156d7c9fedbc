"""Pages: the resident's path (find the street → form → thank-you → tracking), CSRF and throttling, that no public
page ever shows contact details, and the staff pages (inbox, a suggestion's page, photos, export, proposals)."""
import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from rpms.suggestions import services
from rpms.suggestions.models import Suggestion, SuggestionStatus

from .conftest import RESIDENT_NAME, RESIDENT_PHONE, image_file, submit

pytestmark = pytest.mark.django_db


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _send_through_pages(client, unit, street="110108001", **fields):
    form = client.get(f"/suggestions/units/{unit.pk}/new/?street={street}")
    assert form.status_code == 200
    data = {"csrfmiddlewaretoken": _csrf(form.content.decode()), "street": street, "category": "problem",
            "content": "小区东门外的路灯已经坏了一个月。", "contact_name": RESIDENT_NAME, "contact_phone": RESIDENT_PHONE}
    data.update(fields)
    return client.post(f"/suggestions/units/{unit.pk}/new/", data)


@pytest.mark.parametrize("query,unit_name,planner_name", [("万寿路", "bj_unit", "bj_planner"), ("曙光", "pds_unit", "pds_planner")])
def test_a_resident_finds_the_street_sends_a_suggestion_and_tracks_it(request, clock, query, unit_name, planner_name):
    unit = request.getfixturevalue(unit_name)
    planner = request.getfixturevalue(planner_name)
    street = unit.memberships.get(left_at__isnull=True).subdistrict
    client = Client(enforce_csrf_checks=True)
    found = client.get("/suggestions/", {"q": query})
    assert found.status_code == 200
    assert f"/suggestions/units/{unit.pk}/new/?street={street.code}" in found.content.decode()

    response = _send_through_pages(client, unit, street=street.code, photos=[image_file()])
    assert response.status_code == 302 and response["Location"] == "/suggestions/thanks/"
    suggestion = Suggestion.objects.get()
    assert suggestion.subdistrict == street and suggestion.photos.count() == 1
    assert list(suggestion.recipients.values_list("planner_id", flat=True)) == [planner.pk]
    thanks = client.get("/suggestions/thanks/").content.decode()
    assert suggestion.tracking_code in thanks and "提交成功" in thanks

    services.suggestion_reply(actor=planner.user, suggestion=suggestion, text="已通知路灯维护单位，本周修复。")
    tracked = client.get("/suggestions/track/", {"code": suggestion.tracking_code}).content.decode()
    assert "已通知路灯维护单位，本周修复。" in tracked and SuggestionStatus.ANSWERED.label in tracked
    assert RESIDENT_PHONE not in tracked and RESIDENT_NAME not in tracked


def test_the_form_is_csrf_protected(clock, bj_unit):
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/suggestions/units/{bj_unit.pk}/new/", {"category": "problem", "content": "没有令牌的提交内容"})
    assert response.status_code == 403
    assert Suggestion.objects.count() == 0


def test_a_refused_form_shows_the_reason_and_keeps_what_was_typed(clock, bj_unit):
    client = Client()
    response = _send_through_pages(client, bj_unit, contact_phone="12345")
    assert response.status_code == 400
    html = response.content.decode()
    assert "手机号码格式不正确" in html and "小区东门外的路灯已经坏了一个月。" in html
    assert Suggestion.objects.count() == 0


def test_a_burst_of_page_submissions_is_throttled_and_accepted_ones_are_kept(clock, bj_unit, settings):
    settings.RPMS_SUGGESTION_RATE = (5, 600)
    client = Client()
    statuses = [_send_through_pages(client, bj_unit).status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    assert Suggestion.objects.count() == 5
    refused = _send_through_pages(client, bj_unit)
    assert refused.status_code == 429 and "提交过于频繁" in refused.content.decode()
    assert Suggestion.objects.count() == 5


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith("/suggestions/") and not href.startswith("/suggestions/manage"):
                self.links.append(href.replace("&amp;", "&"))


def test_no_public_page_or_answer_shows_the_residents_contact(clock, bj_unit, bj_planner, haidian_department):
    client = Client()
    assert _send_through_pages(client, bj_unit).status_code == 302
    suggestion = Suggestion.objects.get()
    services.suggestion_reply(actor=bj_planner.user, suggestion=suggestion, text="已处理完毕。")
    services.suggestion_forward(actor=bj_planner.user, suggestion=suggestion, department=haidian_department)
    secrets = (RESIDENT_PHONE, "139****5678", "5678", RESIDENT_NAME)
    start = ["/suggestions/", "/suggestions/?q=万寿路", f"/suggestions/units/{bj_unit.pk}/", "/suggestions/thanks/",
             f"/suggestions/track/?code={suggestion.tracking_code}", f"/api/v1/public/units/{bj_unit.pk}/suggestions",
             f"/api/v1/public/suggestions/{suggestion.tracking_code}"]
    seen, queue = set(), list(start)
    while queue and len(seen) < 60:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body, (secret, url)
        parser = _Links()
        parser.feed(body)
        queue.extend(link for link in parser.links if link not in seen)
    assert f"/suggestions/units/{bj_unit.pk}/new/?street=110108001" in seen  # the crawl reached the form


def test_the_inbox_flags_overdue_and_vacant_suggestions_for_the_district(clock, bj_unit, district_haidian, login):
    clock.set(dt.date(2026, 9, 29))
    suggestion = submit(bj_unit)
    clock.set(dt.date(2026, 10, 19))
    html = login(district_haidian).get("/suggestions/manage/").content.decode()
    assert suggestion.tracking_code in html and "已超期" in html and "单元空缺" in html
    html = login(district_haidian).get("/suggestions/manage/?overdue=0").content.decode()
    assert suggestion.tracking_code not in html


def test_the_suggestion_page_for_the_planner_and_for_the_city(clock, bj_unit, bj_planner, city_admin, login):
    suggestion = submit(bj_unit, photos=[image_file()])
    page = login(bj_planner.user).get(f"/suggestions/manage/{suggestion.pk}/").content.decode()
    assert RESIDENT_PHONE in page and "公开答复" in page and "隐藏原因" not in page
    assert "2026-03-13" in page and "如何计算" in page  # 10th working day from Monday 2 March 2026
    page = login(city_admin).get(f"/suggestions/manage/{suggestion.pk}/").content.decode()
    assert "139****5678" in page and RESIDENT_PHONE not in page and "隐藏原因" in page
    assert 'name="text"' not in page  # the city does not answer in the planner's place


def test_acts_from_the_suggestion_page(clock, bj_unit, bj_planner, city_admin, haidian_department, login):
    suggestion = submit(bj_unit)
    client = login(bj_planner.user)
    base = f"/suggestions/manage/{suggestion.pk}"
    response = client.post(f"{base}/close/", {})
    assert response.status_code == 409 and "请先公开答复" in response.content.decode()
    assert client.post(f"{base}/reply/", {"text": "已安排修复。", "confirm": "1"}).status_code == 302
    assert client.post(f"{base}/forward/", {"department": haidian_department.pk, "note": "请处理"}).status_code == 302
    assert client.post(f"{base}/department-answer/", {"answer": "已修复", "answered_on": "2026-03-02"}).status_code == 302
    assert client.post(f"{base}/close/", {"note": "办结"}).status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.CLOSED and suggestion.department_answer == "已修复"
    admin_client = login(city_admin)
    assert admin_client.post(f"{base}/hide/", {"reason": ""}).status_code == 400
    assert admin_client.post(f"{base}/hide/", {"reason": "内容涉及他人隐私"}).status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.hidden_reason == "内容涉及他人隐私"
    page = admin_client.get(f"{base}/").content.decode()
    assert "已隐藏" in page and "恢复公开显示" in page and suggestion.content in page  # kept and shown to staff
    assert client.post(f"{base}/hide/", {"reason": "规划师不能隐藏"}).status_code == 403


def test_photos_are_served_only_to_those_who_may_read_the_suggestion(clock, bj_unit, bj_planner, district_chaoyang,
                                                                   bj_other_planner, login):
    suggestion = submit(bj_unit, photos=[image_file("门口.png")])
    photo = suggestion.photos.get()
    url = f"/suggestions/manage/{suggestion.pk}/photos/{photo.pk}/"
    response = login(bj_planner.user).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert login(district_chaoyang).get(url).status_code == 404
    assert login(bj_other_planner.user).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    html = Client().get(f"/suggestions/units/{bj_unit.pk}/").content.decode()
    assert "/photos/" not in html


def test_scoping_on_pages(clock, bj_unit, bj_other_planner, district_chaoyang, street_office, login):
    suggestion = submit(bj_unit)
    assert login(district_chaoyang).get(f"/suggestions/manage/{suggestion.pk}/").status_code == 404
    assert login(bj_other_planner.user).get(f"/suggestions/manage/{suggestion.pk}/").status_code == 404
    assert login(street_office).get("/suggestions/manage/").status_code == 403


def test_export_has_the_list_but_no_contact(clock, bj_unit, district_haidian, login):
    import io

    from openpyxl import load_workbook

    suggestion = submit(bj_unit)
    response = login(district_haidian).get("/suggestions/manage/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert suggestion.tracking_code in values
    assert not any(RESIDENT_PHONE in v or RESIDENT_NAME in v for v in values)


def test_proposal_pages(clock, bj_unit, bj_planner, street_office, login):
    first, second = submit(bj_unit), submit(bj_unit)
    client = login(bj_planner.user)
    form = client.get("/suggestions/proposals/new/").content.decode()
    assert first.tracking_code in form and second.tracking_code in form
    response = client.post("/suggestions/proposals/new/", {
        "unit": bj_unit.pk, "suggestion": [first.pk, second.pk], "title": "照明改善工作建议",
        "analysis": "居民反映照明不足。", "recommendation": "增设路灯。"})
    assert response.status_code == 302
    entity = login(street_office)
    detail_url = response["Location"]
    listing = entity.get("/suggestions/proposals/?status=submitted").content.decode()
    assert "照明改善工作建议" in listing and detail_url in listing
    page = entity.get(detail_url).content.decode()
    assert "照明改善工作建议" in page and "签收" in page and RESIDENT_PHONE not in page
    assert entity.post(f"{detail_url}acknowledge/", {"note": "已收悉"}).status_code == 302
    assert "聘任主体已签收" in entity.get(detail_url).content.decode()


def test_pending_lines_for_planner_district_and_entity(clock, bj_unit, bj_planner, district_haidian, street_office):
    from rpms.core.pending import PENDING_PROVIDERS
    from rpms.suggestions.pending import suggestion_pending

    assert suggestion_pending in PENDING_PROVIDERS
    clock.set(dt.date(2026, 9, 29))
    first = submit(bj_unit)
    clock.set(dt.date(2026, 10, 19))
    submit(bj_unit)
    lines = {item.title: item for item in suggestion_pending(bj_planner.user)}
    assert lines["待答复的居民意见建议"].count == 2
    assert lines["超过答复期限的居民意见建议"].count == 1 and lines["超过答复期限的居民意见建议"].level == "warn"
    assert [i.count for i in suggestion_pending(district_haidian)] == [1]
    services.work_proposal_submit(actor=bj_planner.user, unit=bj_unit, title="工作建议", analysis="分析", recommendation="建议",
                                  suggestions=[first.pk])
    assert [i.count for i in suggestion_pending(street_office)] == [1]
