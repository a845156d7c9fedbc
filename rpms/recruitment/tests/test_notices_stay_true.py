"""Issue #12 item 5: a notice stays true.

(a) an end computed on a provisional year is recomputed when the year's schedule is entered — never
below the minimum, never earlier than published — the administrator is told and the notice shows it;
(b) the administrator may set a period longer than the minimum, never shorter;
(c) a start in the past records a notice published elsewhere and needs the original's address or scan.
Both cities, through services, API and pages; every act audited with the city's article."""
import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rpms.cities.selectors import policy_article
from rpms.core.errors import DomainError
from rpms.core.models import ActionLog
from rpms.notifications.models import Notification
from rpms.recruitment import services
from rpms.recruitment.models import NoticeRecomputation, PublicNotice
from rpms.testing.pdfs import TINY_PDF
from rpms.workdays.selectors import add_working_days, count_working_days
from rpms.workdays.services import calendar_year_delete, calendar_year_enter

from .factories import applicant, approved_application, beijing_data, open_call, pingdingshan_data

pytestmark = pytest.mark.django_db

PDF = TINY_PDF
# Made-up test data in the official notice's line format (2027 is provisional: not in the holidays package).
SCHEDULE_2027 = "2027-10-01 至 2027-10-07 放假 国庆节\n2027-09-26 上班 国庆节"
SCHEDULE_2027_WITH_SATURDAY = SCHEDULE_2027 + "\n2027-11-06 上班 国庆节"
START = dt.date(2027, 9, 27)  # a Monday: provisional Mon–Fri puts the 5th working day on Friday 1 October

CITIES = {
    "beijing": ("city_admin", beijing_data),
    "pingdingshan": ("pds_admin", pingdingshan_data),
}


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def post_json(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture(params=sorted(CITIES))
def city_case(request, clock):
    """(city, its administrator, a call with two approved candidates) in each city, on 2027-09-20."""
    code = request.param
    admin_fixture, data = CITIES[code]
    city = request.getfixturevalue(code)
    admin = request.getfixturevalue(admin_fixture)
    clock.set(dt.date(2027, 9, 20))
    call = open_call(admin, city, title=f"{city.name}征集（公示期）", deadline=dt.date(2027, 9, 25))
    for i in range(2):
        approved_application(admin, call, applicant(f"{code}_n{i}", city), data(name=f"{city.name}候选{i}"))
    return city, admin, call


# --- (a) recomputed when the year's schedule is entered ---------------------------------------------------


def test_a_provisional_end_is_recomputed_when_the_years_schedule_is_entered(city_case):
    city, admin, call = city_case
    minimum = city.policy.notice_working_days
    notice = services.notice_publish(actor=admin, call=call, start=START)
    assert notice.provisional is True
    old_end = notice.end
    assert old_end == dt.date(2027, 10, 1)  # Mon–Fri, not knowing 1–7 October are holidays

    entered = calendar_year_enter(actor=admin, year=2027, source="测试用通知（虚构）", notice_text=SCHEDULE_2027)

    notice.refresh_from_db()
    assert notice.end == dt.date(2027, 10, 8) > old_end
    assert notice.provisional is False
    assert count_working_days(notice.start, notice.end)[0] >= minimum
    assert notice.end == add_working_days(START, minimum).end
    assert any("国庆节" in line for line in notice.explanation)
    recomputation = NoticeRecomputation.objects.get(notice=notice)
    assert (recomputation.old_end, recomputation.new_end, recomputation.year) == (old_end, notice.end, 2027)
    assert recomputation.old_provisional is True and "2027 年节假日安排" in recomputation.reason
    # The administrator who entered the schedule is told on the page ...
    assert [e.title for e in entered.effects] == [f"《{notice.title}》公示期重新计算"]
    assert "2027-10-01" in entered.effects[0].detail and "2027-10-08" in entered.effects[0].detail
    # ... and the city's administrators in their inbox, with a link to the notice.
    note = Notification.objects.get(event="recruitment.notice_recomputed", recipient=admin)
    assert note.city == city and f"/recruitment/manage/notices/{notice.pk}/" == note.url
    assert "2027-10-08" in note.body
    log = ActionLog.objects.get(action="recruitment.notice_recompute", object_id=str(notice.pk))
    assert log.article == policy_article(city, "notice") != ""
    assert log.before["end"] == "2027-10-01" and log.after["end"] == "2027-10-08"


def test_the_public_notice_and_its_api_show_the_recomputation(city_case, anon):
    city, admin, call = city_case
    notice = services.notice_publish(actor=admin, call=call, start=START)
    calendar_year_enter(actor=admin, year=2027, source="测试用通知（虚构）", notice_text=SCHEDULE_2027)

    page = anon.get(f"/recruitment/notices/{notice.pk}/").content.decode()
    assert "公示期已重新计算" in page
    assert "原截止日期 2027-10-01" in page and "现截止日期 <strong>2027-10-08</strong>" in page
    assert "录入 2027 年节假日安排" in page
    body = anon.get(f"/api/v1/notices/{notice.pk}").json()
    assert body["end"] == "2027-10-08" and body["provisional"] is False
    [item] = body["recomputations"]
    assert (item["old_end"], item["new_end"], item["year"]) == ("2027-10-01", "2027-10-08", 2027)
    assert item["recomputed_at"] and "2027 年节假日安排" in item["reason"]


def test_entering_the_schedule_on_its_page_lists_the_recomputed_notices(city_case):
    city, admin, call = city_case
    notice = services.notice_publish(actor=admin, call=call, start=START)
    client = logged_in(admin)
    response = client.post("/workdays/enter/", {"year": 2027, "source": "测试用通知（虚构）",
                                                "notice_text": SCHEDULE_2027, "action": "confirm"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "按新的节假日安排重新计算了 1 项期限" in page
    assert f"《{notice.title}》公示期重新计算" in page and "现截止日期 2027-10-08" in page
    notice.refresh_from_db()
    assert notice.end == dt.date(2027, 10, 8)


def test_a_published_end_is_never_brought_forward_by_a_make_up_working_day(city_case):
    """A make-up Saturday inside the window would end the 5 working days a day earlier; the public was
    told the later day, so it stands and the period counts the working days it now holds."""
    city, admin, call = city_case
    start = dt.date(2027, 11, 3)  # Wednesday: Wed Thu Fri Mon Tue → Tuesday 9 November
    notice = services.notice_publish(actor=admin, call=call, start=start)
    assert notice.end == dt.date(2027, 11, 9)
    calendar_year_enter(actor=admin, year=2027, source="测试用通知（虚构）", notice_text=SCHEDULE_2027_WITH_SATURDAY)
    notice.refresh_from_db()
    assert notice.end == dt.date(2027, 11, 9)
    assert notice.working_days == 6 > city.policy.notice_working_days
    recomputation = NoticeRecomputation.objects.get(notice=notice)
    assert (recomputation.old_working_days, recomputation.new_working_days) == (5, 6)
    assert recomputation.old_end == recomputation.new_end


def test_closed_notices_and_notices_of_other_years_are_left_alone(city_case, clock):
    city, admin, call = city_case
    clock.set(dt.date(2026, 11, 2))
    earlier = services.notice_publish(actor=admin, call=call, start=dt.date(2026, 11, 2))
    clock.set(dt.date(2026, 12, 1))
    services.notice_close(actor=admin, notice=earlier)
    clock.set(dt.date(2027, 9, 20))
    other_call = open_call(admin, city, title="第二次征集", deadline=dt.date(2027, 9, 25))
    approved_application(admin, other_call, applicant(f"{city.code}_late", city),
                         CITIES[city.code][1](name="第二次候选"))
    touched = services.notice_publish(actor=admin, call=other_call, start=START)
    before = PublicNotice.objects.get(pk=earlier.pk).end
    calendar_year_enter(actor=admin, year=2027, source="测试用通知（虚构）", notice_text=SCHEDULE_2027)
    assert PublicNotice.objects.get(pk=earlier.pk).end == before
    assert not NoticeRecomputation.objects.filter(notice=earlier).exists()
    assert NoticeRecomputation.objects.filter(notice=touched).count() == 1


def test_removing_the_entered_year_recomputes_again_without_shortening(city_case):
    city, admin, call = city_case
    notice = services.notice_publish(actor=admin, call=call, start=START)
    calendar_year_enter(actor=admin, year=2027, source="测试用通知（虚构）", notice_text=SCHEDULE_2027)
    effects = calendar_year_delete(actor=admin, year=2027)
    notice.refresh_from_db()
    # Back to provisional Mon–Fri: 27 Sep–8 Oct now holds more working days, but 8 October stands.
    assert notice.end == dt.date(2027, 10, 8) and notice.provisional is True
    assert notice.working_days >= city.policy.notice_working_days
    assert len(effects) == 1 and NoticeRecomputation.objects.filter(notice=notice).count() == 2


# --- (b) a longer period, never a shorter one ------------------------------------------------------------


def test_fewer_working_days_than_the_minimum_are_refused_and_more_are_accepted(city_case):
    city, admin, call = city_case
    minimum = city.policy.notice_working_days
    with pytest.raises(DomainError) as short:
        services.notice_publish(actor=admin, call=call, start=dt.date(2027, 9, 20), working_days=minimum - 1)
    assert short.value.code == "notice_too_short" and short.value.status == 400
    assert f"不能少于{city.name}规定的 {minimum} 个工作日" in short.value.message
    assert policy_article(city, "notice") in short.value.message
    assert not PublicNotice.objects.exists()
    notice = services.notice_publish(actor=admin, call=call, start=dt.date(2027, 9, 20),
                                     working_days=minimum + 5)
    assert notice.working_days == minimum + 5
    assert notice.end == add_working_days(notice.start, minimum + 5).end
    log = ActionLog.objects.get(action="recruitment.notice_publish", object_id=str(notice.pk))
    assert log.after["working_days"] == minimum + 5 and log.after["minimum_working_days"] == minimum
    assert log.article == policy_article(city, "notice") and f"长于规定的 {minimum} 个工作日" in log.summary


def test_the_api_takes_working_days_refusing_fewer_than_the_minimum(city_case, anon, bearer):
    city, admin, call = city_case
    headers = bearer(admin)
    minimum = city.policy.notice_working_days
    url = f"/api/v1/calls/{call.pk}/notices"
    refused = post_json(anon, url, {"start": "2027-09-20", "working_days": minimum - 1}, headers)
    assert refused.status_code == 400
    assert refused.json()["code"] == "notice_too_short" and "个工作日" in refused.json()["detail"]
    response = post_json(anon, url, {"start": "2027-09-20", "working_days": minimum + 3}, headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["working_days"] == minimum + 3 and body["minimum_working_days"] == minimum
    assert body["end"] == add_working_days(dt.date(2027, 9, 20), minimum + 3).end.isoformat()
    assert body["recorded_afterwards"] is False and body["evidence"] is None
    page = anon.get(f"/recruitment/notices/{body['id']}/").content.decode()
    assert f"公示期不少于 {minimum} 个工作日，本次公示期为 {minimum + 3} 个工作日" in page


def test_the_publish_page_takes_working_days_and_keeps_what_was_typed_on_refusal(city_case):
    city, admin, call = city_case
    client = logged_in(admin)
    minimum = city.policy.notice_working_days
    form = client.get(f"/recruitment/manage/calls/{call.pk}/").content.decode()
    assert f'name="working_days" id="id_working_days" min="{minimum}"' in form and 'enctype="multipart/form-data"' in form
    refused = client.post(f"/recruitment/manage/calls/{call.pk}/notices/",
                          {"start": "2027-09-20", "working_days": str(minimum - 2), "title": "我的标题"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "不能少于" in page and 'value="我的标题"' in page and f'value="{minimum - 2}"' in page
    response = client.post(f"/recruitment/manage/calls/{call.pk}/notices/",
                           {"start": "2027-09-20", "working_days": str(minimum + 2)})
    assert response.status_code == 302
    assert PublicNotice.objects.get().working_days == minimum + 2


# --- (c) a start in the past is a record of a notice published elsewhere ---------------------------------


def test_a_backdated_notice_without_evidence_is_refused(city_case):
    city, admin, call = city_case
    with pytest.raises(DomainError) as refused:
        services.notice_publish(actor=admin, call=call, start=dt.date(2027, 9, 13))
    assert refused.value.code == "evidence_required" and refused.value.status == 400
    assert "补录" in refused.value.message and "网址" in refused.value.message and "扫描件" in refused.value.message
    with pytest.raises(DomainError) as bad_url:
        services.notice_publish(actor=admin, call=call, start=dt.date(2027, 9, 13), evidence_url="javascript:alert(1)")
    assert bad_url.value.code == "invalid_evidence_url"
    assert not PublicNotice.objects.exists()
    # Today or later needs no evidence, as before.
    assert services.notice_publish(actor=admin, call=call, start=dt.date(2027, 9, 20)).backdated is False


def test_the_api_refuses_a_backdated_notice_without_evidence_and_records_one_with_its_address(city_case, anon, bearer):
    city, admin, call = city_case
    headers = bearer(admin)
    url = f"/api/v1/calls/{call.pk}/notices"
    refused = post_json(anon, url, {"start": "2027-09-13"}, headers)
    assert refused.status_code == 400 and refused.json()["code"] == "evidence_required"
    assert "补录" in refused.json()["detail"]
    original = "https://zrzy.example.gov.cn/gongshi/2027-09-13.html"
    response = post_json(anon, url, {"start": "2027-09-13", "evidence_url": original}, headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["backdated"] is True and body["recorded_afterwards"] is True
    assert body["evidence"] == {"url": original, "scan": None}
    page = anon.get(f"/recruitment/notices/{body['id']}/").content.decode()
    assert "补录" in page and "2027-09-13 在别处发布" in page and f'href="{original}"' in page
    log = ActionLog.objects.get(action="recruitment.notice_publish", object_id=str(body["id"]))
    assert log.after["evidence_url"] == original and "补录" in log.summary
    assert log.article == policy_article(city, "notice")


def test_a_backdated_notice_may_carry_a_scan_kept_for_staff(city_case, anon, bearer, auditor):
    city, admin, call = city_case
    headers = bearer(admin)
    scan = SimpleUploadedFile("原公示.pdf", PDF, content_type="application/pdf")
    response = anon.post(f"/api/v1/calls/{call.pk}/notices/recorded",
                         {"start": "2027-09-13", "working_days": "7", "scan": scan}, **headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["recorded_afterwards"] is True and body["working_days"] == 7
    assert body["evidence"]["url"] == "" and body["evidence"]["scan"]["name"] == "原公示.pdf"
    assert len(body["evidence"]["scan"]["sha256"]) == 64
    notice = PublicNotice.objects.get(pk=body["id"])
    page = anon.get(f"/recruitment/notices/{notice.pk}/").content.decode()
    assert "原公示扫描件：原公示.pdf" in page and "/evidence/" not in page  # a reference, not the file
    assert anon.get(f"/recruitment/manage/notices/{notice.pk}/evidence/").status_code in (302, 403)
    download = logged_in(admin).get(f"/recruitment/manage/notices/{notice.pk}/evidence/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert anon.get(f"/api/v1/notices/{notice.pk}/evidence", **headers).status_code == 200
    # A disguised file is refused and nothing is published.
    fake = SimpleUploadedFile("scan.pdf", b"not a pdf at all", content_type="application/pdf")
    other = open_call(admin, city, title="另一征集", deadline=dt.date(2027, 9, 25))
    approved_application(admin, other, applicant(f"{city.code}_scan", city), CITIES[city.code][1](name="另一候选"))
    refused = anon.post(f"/api/v1/calls/{other.pk}/notices/recorded", {"start": "2027-09-13", "scan": fake}, **headers)
    assert refused.status_code == 400 and PublicNotice.objects.filter(call=other).count() == 0


def test_the_publish_page_records_a_backdated_notice_with_an_uploaded_scan(city_case, anon):
    city, admin, call = city_case
    client = logged_in(admin)
    refused = client.post(f"/recruitment/manage/calls/{call.pk}/notices/", {"start": "2027-09-13", "working_days": "5"})
    assert refused.status_code == 400 and "补录" in refused.content.decode()
    assert 'value="2027-09-13"' in refused.content.decode()
    scan = SimpleUploadedFile("纸质公示.pdf", PDF, content_type="application/pdf")
    response = client.post(f"/recruitment/manage/calls/{call.pk}/notices/",
                           {"start": "2027-09-13", "working_days": "5", "evidence_file": scan})
    assert response.status_code == 302
    notice = PublicNotice.objects.get()
    assert notice.backdated and notice.evidence_name == "纸质公示.pdf"
    manage = client.get(response["Location"]).content.decode()
    assert f"/recruitment/manage/notices/{notice.pk}/evidence/" in manage and "补录" in manage
    assert "补录" in anon.get(f"/recruitment/notices/{notice.pk}/").content.decode()


def test_the_public_notice_keeps_a_constant_query_count_with_recomputations(city_case, anon):
    city, admin, call = city_case
    notice = services.notice_publish(actor=admin, call=call, start=START)

    def queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert anon.get(f"/api/v1/notices/{notice.pk}").status_code == 200
            assert anon.get(f"/recruitment/notices/{notice.pk}/").status_code == 200
        return len(captured)

    few = queries()
    for n in range(4):
        NoticeRecomputation.objects.create(
            notice=notice, year=2027, reason=f"测试{n}", old_end=notice.end, new_end=notice.end,
            old_working_days=5, new_working_days=5, recomputed_at=notice.published_at,
        )
    assert queries() == few
