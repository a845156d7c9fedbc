"""Duties pages: the planner's unit page with the focus checklist, records, confirmation, calendar, summaries,
data requests, certificates, extra work and feedback; the admin is read-only."""
import datetime as dt
import re

import pytest

from rpms.accounts.models import User
from rpms.core.models import ActionLog
from rpms.duties import services
from rpms.duties.models import (
    DataRequest,
    DownloadLog,
    DutyRecord,
    DutyStatus,
    ExtraWork,
    MonitoringFeedback,
    WorkCertificate,
)

from .conftest import PASSWORD, upload

pytestmark = pytest.mark.django_db


def test_the_unit_page_shows_the_zone_type_focus_checklist_and_records_a_duty(login, bj_planner, bj_unit):
    client = login(bj_planner.user)
    page = client.get(f"/duties/units/{bj_unit.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "中心城区" in html and 'name="focus" value="老旧小区综合整治"' in html
    assert "强化调查研究" in html and "实施监督反馈" in html
    assert "csrfmiddlewaretoken" in html
    response = client.post(f"/duties/units/{bj_unit.pk}/", {
        "category": "public_liaison", "date": dt.date.today().isoformat(), "hours": "2", "place": "社区议事厅",
        "participants": "居民代表", "description": "议事会", "focus": ["公共空间改造", "老旧小区综合整治"],
        "evidence": [upload("签到表.pdf")],
    })
    assert response.status_code == 302
    record = DutyRecord.objects.get()
    assert record.focus == ["公共空间改造", "老旧小区综合整治"] and record.evidence.count() == 1
    detail = client.get(response["Location"]).content.decode()
    assert "广泛联系群众" in detail and "签到表.pdf" in detail


def test_a_refused_record_shows_the_reason_next_to_the_form(login, bj_planner, bj_unit):
    client = login(bj_planner.user)
    response = client.post(f"/duties/units/{bj_unit.pk}/", {
        "category": "research", "date": dt.date.today().isoformat(), "hours": "30", "place": "x", "description": "y"})
    assert response.status_code == 400
    assert "不超过 24 小时" in response.content.decode()
    assert not DutyRecord.objects.exists()


def test_a_planner_cannot_open_the_page_of_a_unit_it_does_not_serve(login, bj_planner, bj_other_unit, street_office):
    assert login(bj_planner.user).get(f"/duties/units/{bj_other_unit.pk}/").status_code == 404
    assert login(street_office).get(f"/duties/units/{bj_other_unit.pk}/").status_code == 403


def test_pingdingshan_unit_page_has_its_four_categories_and_no_focus(login, pds_planner, pds_unit):
    html = login(pds_planner.user).get(f"/duties/units/{pds_unit.pk}/").content.decode()
    for label in ("专业咨询服务", "技术审查指导", "推动公众参与", "总结经验成果"):
        assert label in html
    assert 'name="focus"' not in html
    assert "强化调查研究" not in html


def test_the_entity_confirms_on_the_record_page_then_the_planner_sees_it_locked(login, bj_planner, bj_unit, street_office,
                                                                               record_factory):
    record = record_factory(bj_planner, bj_unit)
    entity = login(street_office)
    assert "确认该记录" in entity.get(f"/duties/records/{record.pk}/").content.decode()
    assert entity.post(f"/duties/records/{record.pk}/confirm/").status_code == 302
    record.refresh_from_db()
    assert record.status == DutyStatus.CONFIRMED
    planner = login(bj_planner.user)
    html = planner.get(f"/duties/records/{record.pk}/").content.decode()
    assert "已锁定" in html and "删除该记录" not in html
    assert planner.get(f"/duties/records/{record.pk}/edit/").status_code == 302
    planner.post(f"/duties/records/{record.pk}/delete/")
    assert DutyRecord.objects.filter(pk=record.pk).exists()


def test_query_and_answer_on_the_pages(login, bj_planner, bj_unit, street_office, record_factory):
    record = record_factory(bj_planner, bj_unit)
    login(street_office).post(f"/duties/records/{record.pk}/query/", {"question": "请补充照片"})
    record.refresh_from_db()
    assert record.status == DutyStatus.QUERIED
    planner = login(bj_planner.user)
    assert "答复疑问并重新提交" in planner.get(f"/duties/records/{record.pk}/").content.decode()
    planner.post(f"/duties/records/{record.pk}/answer/", {"answer": "已补充"})
    record.refresh_from_db()
    assert record.status == DutyStatus.SUBMITTED


def test_record_list_is_scoped_and_exports_excel(login, bj_planner, bj_unit, bj_other, bj_other_unit, street_office,
                                                 record_factory):
    record_factory(bj_planner, bj_unit, place="甲地")
    record_factory(bj_other, bj_other_unit, place="乙地")
    html = login(street_office).get("/duties/records/").content.decode()
    assert bj_planner.name in html and bj_other.name not in html
    export = login(street_office).get("/duties/records/?format=xlsx")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_calendar_and_summary_pages(login, bj_planner, bj_unit, record_factory, district_haidian, today):
    record_factory(bj_planner, bj_unit, hours="2", date=today)
    planner = login(bj_planner.user)
    calendar = planner.get(f"/duties/calendar/?year={today.year}&month={today.month}")
    assert calendar.status_code == 200 and f"{today.year}年{today.month}月" in calendar.content.decode()
    summary = planner.get(f"/duties/summary/?year={today.year}&month={today.month}").content.decode()
    assert "强化调查研究" in summary and "2.0" in summary and "各责任单元" not in summary
    district = login(district_haidian).get(f"/duties/summary/?year={today.year}").content.decode()
    assert "各责任单元" in district and bj_unit.name in district and bj_planner.name in district
    export = login(district_haidian).get(f"/duties/summary/?year={today.year}&format=xlsx")
    assert export.status_code == 200


def test_data_request_pages_deliver_and_log_confidential_downloads(login, bj_planner, bj_unit, street_office, city_admin):
    planner = login(bj_planner.user)
    response = planner.post("/duties/data-requests/new/", {"unit": bj_unit.pk, "addressee": "entity", "title": "现状资料",
                                                           "content": "地形图"})
    assert response.status_code == 302
    item = DataRequest.objects.get()
    entity = login(street_office)
    assert "提供资料" in entity.get(f"/duties/data-requests/{item.pk}/").content.decode()
    entity.post(f"/duties/data-requests/{item.pk}/deliver/", {"file_1": upload("现状.pdf"), "label_1": "现状图",
                                                                "file_2": upload("公开.pdf"), "label_2": "公开图",
                                                                "public_2": "on"})
    item.refresh_from_db()
    assert item.status == "delivered"
    secret = item.materials.get(is_public=False)
    admin_page = login(city_admin).get(f"/duties/data-requests/{item.pk}/").content.decode()
    assert "无权下载" in admin_page
    assert login(city_admin).get(f"/duties/data-requests/{item.pk}/materials/{secret.pk}/").status_code == 404
    assert planner.get(f"/duties/data-requests/{item.pk}/materials/{secret.pk}/").status_code == 200
    assert DownloadLog.objects.filter(material=secret).count() == 1
    assert "下载记录" in entity.get(f"/duties/data-requests/{item.pk}/").content.decode()


def test_a_refusal_without_reason_is_shown_on_the_page(login, bj_planner, bj_unit, street_office):
    item = services.data_request_create(actor=bj_planner.user, unit=bj_unit, addressee="entity", title="资料", content="x")
    response = login(street_office).post(f"/duties/data-requests/{item.pk}/refuse/", {"reason": ""})
    assert response.status_code == 400 and "请填写不予提供的理由" in response.content.decode()


def test_certificate_pages_preview_issue_and_pdf(login, bj_planner, bj_unit, street_office, record_factory, today):
    services.duty_record_confirm(actor=street_office, record=record_factory(bj_planner, bj_unit, hours="3"))
    entity = login(street_office)
    form = entity.get("/duties/certificates/new/").content.decode()
    assert bj_planner.name in form
    period = {"planner": bj_planner.pk, "start": (today - dt.timedelta(days=30)).isoformat(), "end": today.isoformat()}
    preview = entity.post("/duties/certificates/new/", {**period, "action": "preview"}).content.decode()
    assert "已确认记录 1 条" in preview and "出具并生成 PDF" in preview
    response = entity.post("/duties/certificates/new/", {**period, "action": "issue"})
    assert response.status_code == 302
    certificate = WorkCertificate.objects.get()
    detail = entity.get(response["Location"]).content.decode()
    assert certificate.document.formatted_code in detail
    pdf = login(bj_planner.user).get(f"/duties/certificates/{certificate.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_extra_work_and_feedback_pages(login, bj_planner, bj_unit, district_haidian, today):
    planner = login(bj_planner.user)
    appointment = bj_planner.appointments.get()
    assert bj_unit.name in planner.get("/duties/extra-work/new/").content.decode()
    response = planner.post("/duties/extra-work/new/", {
        "appointment": appointment.pk, "kind": "health_check", "title": "街区体检评估", "scope": "年度体检",
        "fee_yuan": "30000", "party_a": "街道", "contract_number": "TJ-9", "contract_date": today.isoformat()})
    assert response.status_code == 302
    work = ExtraWork.objects.get()
    assert "体检评估" in planner.get(f"/duties/extra-work/{work.pk}/").content.decode()
    response = planner.post("/duties/feedback/new/", {"unit": bj_unit.pk, "source": "health_check", "title": "绿地不足",
                                                      "description": "人均绿地偏低"})
    assert response.status_code == 302
    item = MonitoringFeedback.objects.get()
    district = login(district_haidian)
    assert "登记答复" in district.get(f"/duties/feedback/{item.pk}/").content.decode()
    district.post(f"/duties/feedback/{item.pk}/answer/", {"answer": "纳入计划", "answered_on": today.isoformat()})
    item.refresh_from_db()
    assert item.status == "answered"


def test_pending_items_reach_the_entity_and_the_planner(bj_planner, bj_unit, street_office, record_factory):
    from rpms.duties.pending import duties_pending

    record = record_factory(bj_planner, bj_unit)
    titles = [item.title for item in duties_pending(street_office)]
    assert "待确认的履职记录" in titles
    services.duty_record_query(actor=street_office, record=record, question="?")
    assert [item.title for item in duties_pending(bj_planner.user)] == ["履职记录有疑问待答复"]


def test_home_pages_render_for_every_role(login, bj_planner, street_office, district_haidian, city_admin, auditor):
    for user in (bj_planner.user, street_office, district_haidian, city_admin, auditor):
        assert login(user).get("/duties/").status_code == 200
    for path in ("/duties/records/", "/duties/data-requests/", "/duties/certificates/", "/duties/extra-work/",
                 "/duties/feedback/", "/duties/calendar/", "/duties/summary/"):
        assert login(auditor).get(path).status_code == 200


def test_the_admin_cannot_change_or_delete_a_confirmed_record(client, bj_planner, bj_unit, street_office, record_factory):
    record = services.duty_record_confirm(actor=street_office, record=record_factory(bj_planner, bj_unit))
    User.objects.create_superuser("du_root", "root@example.com", PASSWORD)
    client.post("/accounts/login/", {"username": "du_root", "password": PASSWORD})
    change = client.post(f"/admin/duties/dutyrecord/{record.pk}/change/", {"hours": "1", "place": "改"})
    assert change.status_code == 403
    delete = client.post(f"/admin/duties/dutyrecord/{record.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    view = client.get(f"/admin/duties/dutyrecord/{record.pk}/change/")
    assert view.status_code == 200 and not re.search(r'name="hours"', view.content.decode())
    record.refresh_from_db()
    assert record.place == "社区议事厅" and record.status == DutyStatus.CONFIRMED
    assert ActionLog.objects.filter(object_id=str(record.pk), action="duties.duty_record_confirm").count() == 1


def test_list_pages_keep_a_constant_query_count(login, bj_planner, bj_unit, street_office, district_haidian, record_factory,
                                                today):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    district = login(district_haidian)
    entity = login(street_office)

    def counts():
        found = []
        for client, path in ((district, "/duties/records/"), (entity, "/duties/data-requests/"),
                             (district, "/duties/feedback/"), (entity, "/duties/extra-work/")):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(path).status_code == 200
            found.append(len(ctx))
        return found

    def add(n, offset):
        for i in range(n):
            record_factory(bj_planner, bj_unit, date=today - dt.timedelta(days=offset + i), hours="1", evidence=[upload()])
            services.data_request_create(actor=bj_planner.user, unit=bj_unit, addressee="entity", title=f"资料{offset + i}",
                                         content="x")
            services.monitoring_feedback_file(actor=bj_planner.user, unit=bj_unit, source="other", title=f"问题{offset + i}",
                                              description="x")
            services.extra_work_create(actor=street_office, appointment=bj_planner.appointments.get(), kind="other",
                                       title=f"工作{offset + i}", scope="x", fee_yuan="1", party_a="街道",
                                       contract_number=f"Q-{offset + i}", contract_date=today)

    add(2, 0)
    counts()  # the first visit reads the policy profile into the cache (issue #15); compare warm visits
    few = counts()
    add(8, 2)
    assert counts() == few


def test_every_duties_audit_row_cites_an_article(login, bj_planner, bj_unit, street_office, district_haidian, record_factory,
                                                 today):
    record = record_factory(bj_planner, bj_unit)
    services.duty_record_query(actor=street_office, record=record, question="?")
    services.duty_record_answer(actor=bj_planner.user, record=record, answer="!")
    services.duty_record_confirm(actor=district_haidian, record=record)
    item = services.data_request_create(actor=bj_planner.user, unit=bj_unit, addressee="entity", title="t", content="c")
    services.data_request_deliver(actor=street_office, request=item, materials=[upload()])
    services.data_material_download(actor=bj_planner.user, material=item.materials.get())
    services.work_certificate_issue(actor=street_office, planner=bj_planner, start=today - dt.timedelta(days=5), end=today)
    work = services.extra_work_create(actor=bj_planner.user, appointment=bj_planner.appointments.get(), kind="design",
                                      title="t", scope="s", fee_yuan="1", party_a="p", contract_number="A-1",
                                      contract_date=today)
    services.extra_work_status_change(actor=bj_planner.user, work=work, status="in_progress")
    feedback = services.monitoring_feedback_file(actor=bj_planner.user, unit=bj_unit, source="other", title="t",
                                                 description="d")
    services.monitoring_feedback_answer(actor=district_haidian, feedback=feedback, answer="a")
    rows = list(ActionLog.objects.filter(action__startswith="duties.").values_list("action", "article"))
    assert len(rows) == 12  # one row per act
    assert all(article for _, article in rows), rows
    assert dict(rows)["duties.data_material_download"] == "B16(1)"


def test_edit_pages_and_a_revoked_certificate_render(login, bj_planner, bj_unit, street_office, record_factory, today):
    record = record_factory(bj_planner, bj_unit, focus=["公共空间改造"])
    planner = login(bj_planner.user)
    edit = planner.get(f"/duties/records/{record.pk}/edit/").content.decode()
    assert 'value="公共空间改造" checked' in edit
    response = planner.post(f"/duties/records/{record.pk}/edit/", {
        "category": "research", "date": record.date.isoformat(), "hours": "1.5", "place": "新地点", "description": "改",
        "focus": ["片区整体更新"]})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.place == "新地点" and record.focus == ["片区整体更新"]
    work = services.extra_work_create(actor=street_office, appointment=bj_planner.appointments.get(), kind="design",
                                      title="方案", scope="s", fee_yuan="10", party_a="街道", contract_number="E-1",
                                      contract_date=today)
    assert 'value="E-1"' in planner.get(f"/duties/extra-work/{work.pk}/edit/").content.decode()
    services.duty_record_confirm(actor=street_office, record=record)
    certificate = services.work_certificate_issue(actor=street_office, planner=bj_planner,
                                                  start=today - dt.timedelta(days=3), end=today)
    entity = login(street_office)
    entity.post(f"/duties/certificates/{certificate.pk}/revoke/", {"reason": "重复出具"})
    html = entity.get(f"/duties/certificates/{certificate.pk}/").content.decode()
    assert "已于" in html and "重复出具" in html and "撤销该证明" not in html
