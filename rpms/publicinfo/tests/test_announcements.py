"""Announcements (公示公告, B22): the city drafts, attaches files, publishes (now or on a later date) and
withdraws; the public list merges them with the recruitment calls and notices, a notice showing its
window and where to object while it is open."""
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rpms.core.errors import Conflict, DomainError, Forbidden, NotFound
from rpms.core.identity import id_number_checksum
from rpms.core.models import ActionLog
from rpms.publicinfo import services
from rpms.publicinfo.models import Announcement, AnnouncementAttachment, PublicationStatus

pytestmark = pytest.mark.django_db


def _announcement(city_admin, **fields):
    data = {"kind": "appointment_list", "title": "2026年度海淀区责任规划师聘任名单", "body": "现将聘任名单公告如下。\n\n特此公告。"}
    data.update(fields)
    return services.announcement_create(actor=city_admin, city=city_admin.city, **data)


def test_publishing_makes_an_announcement_public_with_its_attachment(anon, city_admin, pdf_file):
    announcement = _announcement(city_admin)
    attachment = services.announcement_attachment_add(actor=city_admin, announcement=announcement, file=pdf_file(),
                                                      label="聘任名单")
    url = f"/info/announcements/{announcement.pk}/"
    download = f"/info/announcements/{announcement.pk}/attachments/{attachment.pk}/"
    assert anon.get(url).status_code == 404  # a draft is not public
    assert anon.get(download).status_code == 404
    assert "2026年度海淀区责任规划师聘任名单" not in anon.get("/info/announcements/").content.decode()

    services.announcement_publish(actor=city_admin, announcement=announcement)
    page = anon.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "2026年度海淀区责任规划师聘任名单" in html and "现将聘任名单公告如下。" in html and "聘任名单" in html
    assert 'href="/info/policies/beijing/#B22"' in html  # the rule applied links to its article
    response = anon.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    listing = anon.get("/info/announcements/").content.decode()
    assert "2026年度海淀区责任规划师聘任名单" in listing and "聘任名单" in listing

    services.announcement_withdraw(actor=city_admin, announcement=announcement, reason="名单有误，更正后重新发布")
    assert anon.get(url).status_code == 404 and anon.get(download).status_code == 404
    actions = sorted(ActionLog.objects.filter(action__startswith="publicinfo.").values_list("action", "article"))
    assert actions == [("publicinfo.announcement_create", "B22"), ("publicinfo.announcement_publish", "B22"),
                       ("publicinfo.announcement_withdraw", "B22"), ("publicinfo.attachment_add", "B22")]


def test_a_scheduled_announcement_becomes_public_on_its_date(anon, city_admin, clock):
    announcement = _announcement(city_admin)
    later = clock.today + dt.timedelta(days=3)
    services.announcement_publish(actor=city_admin, announcement=announcement, publish_on=later)
    assert anon.get(f"/info/announcements/{announcement.pk}/").status_code == 404
    clock.advance(days=3)
    assert anon.get(f"/info/announcements/{announcement.pk}/").status_code == 200


def test_publishing_with_a_date_in_the_past_is_refused_and_changes_nothing(city_admin):
    announcement = _announcement(city_admin)
    with pytest.raises(DomainError) as excinfo:
        services.announcement_publish(actor=city_admin, announcement=announcement,
                                      publish_on=timezone.localdate() - dt.timedelta(days=1))
    assert excinfo.value.code == "publish_date_past"
    announcement.refresh_from_db()
    assert announcement.status == PublicationStatus.DRAFT and announcement.published_at is None
    assert not ActionLog.objects.filter(action="publicinfo.announcement_publish").exists()


def test_publish_twice_and_withdraw_a_draft_are_refused(city_admin):
    announcement = _announcement(city_admin)
    with pytest.raises(Conflict):
        services.announcement_withdraw(actor=city_admin, announcement=announcement, reason="x")
    services.announcement_publish(actor=city_admin, announcement=announcement)
    with pytest.raises(Conflict):
        services.announcement_publish(actor=city_admin, announcement=announcement)
    with pytest.raises(DomainError):
        services.announcement_withdraw(actor=city_admin, announcement=announcement, reason="  ")


def test_only_the_citys_administrator_publishes(city_admin, pds_admin, district_haidian, auditor):
    with pytest.raises(Forbidden):
        services.announcement_create(actor=district_haidian, city=city_admin.city, kind="other", title="t", body="b")
    announcement = _announcement(city_admin)
    with pytest.raises(NotFound):  # another city's administrator is not told it exists
        services.announcement_publish(actor=pds_admin, announcement=announcement)
    with pytest.raises(Forbidden):
        services.announcement_publish(actor=auditor, announcement=announcement)


def test_an_attachment_that_is_not_pdf_or_image_is_refused(city_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    announcement = _announcement(city_admin)
    fake = SimpleUploadedFile("名单.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    with pytest.raises(DomainError):
        services.announcement_attachment_add(actor=city_admin, announcement=announcement, file=fake)
    assert not AnnouncementAttachment.objects.exists()


def test_bad_input_is_refused_in_chinese(city_admin):
    with pytest.raises(DomainError) as excinfo:
        _announcement(city_admin, kind="gossip")
    assert "公告类别" in excinfo.value.message
    with pytest.raises(DomainError) as excinfo:
        _announcement(city_admin, record_url="https://evil.example/")
    assert excinfo.value.code == "invalid_record_url"


def test_manage_pages_create_attach_and_publish(login, city_admin, pdf_file, anon):
    client = login(city_admin)
    assert client.get("/info/manage/").status_code == 200
    response = client.post("/info/manage/announcements/new/", {"kind": "honours", "title": "2025年度优秀责任规划师表彰名单",
                                                             "body": "经推选评选，现予公布。"})
    assert response.status_code == 302
    pk = int(re.search(r"/announcements/(\d+)/", response["Location"]).group(1))
    assert client.post(f"/info/manage/announcements/{pk}/attachments/", {"file": pdf_file(), "label": "名单"}).status_code == 302
    assert client.post(f"/info/manage/announcements/{pk}/publish/", {"publish_on": timezone.localdate().isoformat()}).status_code == 302
    html = anon.get(f"/info/announcements/{pk}/").content.decode()
    assert "2025年度优秀责任规划师表彰名单" in html and "表彰名单" in html and "名单" in html
    export = client.get("/info/manage/announcements.xlsx")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_manage_pages_are_closed_to_the_public_and_other_roles(anon, login, district_haidian):
    assert anon.get("/info/manage/").status_code == 302  # to the login page
    assert login(district_haidian).get("/info/manage/").status_code == 403


# --- recruitment notices in the list --------------------------------------------------------------------------


def _pingdingshan_notice(pds_admin):
    from rpms.accounts.models import Role, User
    from rpms.recruitment import services as recruitment

    call = recruitment.call_create(actor=pds_admin, city=pds_admin.city, title="2026年平顶山市责任规划师公开征集",
                                   deadline=timezone.localdate() + dt.timedelta(days=20))
    user = User.objects.create_user(username="pi_applicant", password="Applicant-pass-2026!", role=Role.PLANNER,
                                    city=pds_admin.city, display_name="公开测试申请人")
    first17 = "41040219850101077"
    application = recruitment.application_submit(actor=user, call=call, data={
        "kind": "individual", "name": "公开测试申请人", "id_number": first17 + id_number_checksum(first17),
        "mobile": "13900000077", "employer": "虚构城乡规划设计院", "degree": "bachelor", "major": "城乡规划",
        "degree_field": "urban_rural_planning", "title_level": "intermediate", "title_field": "urban_rural_planning",
        "registrations": [], "experience_years": 4, "specialties": ["urban_rural_planning"], "districts": ["410402"],
        "declarations": ["political", "familiarity", "good_record"],
    })
    recruitment.application_review(actor=pds_admin, application=application, decision="approve",
                                   scores={"background": 80, "title": 80, "experience": 80, "local_familiarity": 80})
    return call, recruitment.notice_publish(actor=pds_admin, call=call)


def test_recruitment_notices_appear_with_their_window_and_objection_link(anon, pds_admin):
    call, notice = _pingdingshan_notice(pds_admin)
    html = anon.get("/info/announcements/", {"city": "pingdingshan"}).content.decode()
    assert notice.title in html
    assert f"公示期 {notice.start:%Y-%m-%d} 至 {notice.end:%Y-%m-%d}" in html
    assert f'href="/recruitment/notices/{notice.pk}/">公示期内可提出异议' in html
    assert f'href="/recruitment/calls/{call.pk}/"' in html and f"报名截止 {call.deadline:%Y-%m-%d}" in html
    assert "13900000077" not in html and "410402198501010" not in html
    only_notices = anon.get("/info/announcements/", {"kind": "notice", "city": "pingdingshan"}).content.decode()
    assert notice.title in only_notices and f'href="/recruitment/calls/{call.pk}/"' not in only_notices


def test_filters_by_city_and_kind(anon, city_admin, pds_admin):
    bj = _announcement(city_admin, kind="honours", title="北京表彰名单")
    pds = services.announcement_create(actor=pds_admin, city=pds_admin.city, kind="other", title="平顶山工作通知", body="正文")
    for a, admin in ((bj, city_admin), (pds, pds_admin)):
        services.announcement_publish(actor=admin, announcement=a)
    html = anon.get("/info/announcements/", {"city": "beijing"}).content.decode()
    assert "北京表彰名单" in html and "平顶山工作通知" not in html
    html = anon.get("/info/announcements/", {"kind": "other"}).content.decode()
    assert "平顶山工作通知" in html and "北京表彰名单" not in html
    assert anon.get("/info/announcements/", {"kind": "gossip"}).status_code == 400
    assert anon.get("/info/announcements/", {"city": "atlantis"}).status_code == 404


def test_public_list_query_count_does_not_grow_with_rows(anon, city_admin, pdf_file):
    def add(n):
        for i in range(n):
            a = _announcement(city_admin, title=f"公告{Announcement.objects.count()}")
            services.announcement_attachment_add(actor=city_admin, announcement=a, file=pdf_file())
            services.announcement_publish(actor=city_admin, announcement=a)

    add(2)
    with CaptureQueriesContext(connection) as few:
        assert anon.get("/info/announcements/").status_code == 200
    add(12)
    with CaptureQueriesContext(connection) as many:
        response = anon.get("/info/announcements/")
    assert len(response.context["page"].items) == 14
    assert len(many.captured_queries) == len(few.captured_queries)


def test_announcement_api_publishes_and_lists(client, bearer, city_admin, anon):
    headers = bearer(city_admin)
    created = client.post("/api/v1/announcements", {"kind": "notice", "title": "API 公告", "body": "正文"},
                          content_type="application/json", **headers)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert anon.get(f"/api/v1/public/announcements/{pk}").status_code == 404
    published = client.post(f"/api/v1/announcements/{pk}/publish", {}, content_type="application/json", **headers)
    assert published.status_code == 200 and published.json()["status"] == "published"
    listing = anon.get("/api/v1/public/announcements").json()
    assert any(item["title"] == "API 公告" for item in listing["items"])
    bad = client.post("/api/v1/announcements", {"kind": "x", "title": "t", "body": "b"}, content_type="application/json",
                      **headers)
    assert bad.status_code == 400 and "公告类别" in bad.json()["message"]


def test_attachments_can_be_uploaded_through_the_api(client, bearer, city_admin, pdf_file, anon):
    headers = bearer(city_admin)
    announcement = _announcement(city_admin)
    response = client.post(f"/api/v1/announcements/{announcement.pk}/attachments", {"file": pdf_file(), "label": "名单"},
                           **headers)
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "pdf" and response.json()["name"] == "名单"
    assert AnnouncementAttachment.objects.filter(announcement=announcement).count() == 1
    assert anon.post(f"/api/v1/announcements/{announcement.pk}/attachments", {"file": pdf_file()}).status_code == 401
