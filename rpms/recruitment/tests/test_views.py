"""Recruitment pages: public calls and notices (no identifiers, objection form), the applicant's
form with the eligibility check before submitting, management pages, scoping, query counts."""
import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rpms.recruitment import services
from rpms.recruitment.models import Application, OpenCall, Proof, PublicNotice
from rpms.registry.models import Planner
from rpms.testing.pdfs import TINY_PDF

from .factories import applicant, approved_application, beijing_data, open_call, pingdingshan_data

pytestmark = pytest.mark.django_db

PDF = TINY_PDF


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def html(response):
    return response.content.decode()


@pytest.fixture
def notice_state(city_admin, beijing, clock):
    clock.set(dt.date(2026, 11, 2))
    call = open_call(city_admin, beijing, title="北京征集（页面测试）", deadline=dt.date(2026, 11, 30))
    people = [beijing_data(name=f"公示人{i}") for i in range(2)]
    apps = [approved_application(city_admin, call, applicant(f"v{i}", beijing), data) for i, data in enumerate(people)]
    notice = services.notice_publish(actor=city_admin, call=call, start=dt.date(2026, 11, 2))
    return {"call": call, "apps": apps, "people": people, "notice": notice}


def test_public_pages_show_calls_notices_and_never_identifiers(anon, notice_state, city_admin):
    apps, people, notice = notice_state["apps"], notice_state["people"], notice_state["notice"]
    objection = services.objection_submit(notice=notice, application_id=apps[0].pk, content="反映问题",
                                          contact_name="秘密联系人", contact_phone="13811112222")
    services.objection_resolve(actor=city_admin, objection=objection, upheld=True, finding="经查属实，取消资格。")
    pages = ["/recruitment/", "/recruitment/?city=beijing", f"/api/v1/notices/{notice.pk}",
             "/api/v1/cities/beijing/calls", f"/api/v1/calls/{notice_state['call'].pk}"]
    # Crawl: every public page and the links they give to other recruitment pages.
    seen, queue = set(), list(pages)
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = anon.get(url)
        assert response.status_code == 200, url
        text = html(response)
        for person in people:
            assert person["id_number"] not in text and person["mobile"] not in text, url
        assert "13811112222" not in text and "秘密联系人" not in text, url
        queue += [link for link in re.findall(r'href="(/recruitment/[^"?#]*)"', text) if "/apply/" not in link]
    assert {f"/recruitment/calls/{notice_state['call'].pk}/", f"/recruitment/notices/{notice.pk}/"} <= seen
    page = html(anon.get(f"/recruitment/notices/{notice.pk}/"))
    assert "公示人0" in page and "已取消入库资格" in page and "经查属实，取消资格。" in page
    assert "2026-11-06" in page and "如何计算" in page
    assert "csrfmiddlewaretoken" in page and "提交异议" in page


def test_an_objection_through_the_public_page(notice_state, clock):
    client = Client(enforce_csrf_checks=False)
    notice, apps = notice_state["notice"], notice_state["apps"]
    response = client.post(f"/recruitment/notices/{notice.pk}/objections/", {
        "application": apps[1].pk, "content": "工作单位不实", "contact_name": "张先生", "contact_phone": "13900001111"})
    assert response.status_code == 302
    assert notice.objections.get().content == "工作单位不实"
    clock.set(dt.date(2026, 11, 9))
    late = client.post(f"/recruitment/notices/{notice.pk}/objections/", {
        "application": apps[1].pk, "content": "迟到", "contact_name": "张先生", "contact_phone": "13900001111"})
    assert late.status_code == 409 and "公示期已于 2026-11-06 结束，不再受理异议。" in html(late)
    assert notice.objections.count() == 1


# --- applicant ----------------------------------------------------------------------------------------


def form_post(data, **extra):
    post = {k: v for k, v in data.items() if not isinstance(v, list)}
    for key in ("registrations", "specialties", "districts", "declarations"):
        post[key] = data.get(key, [])
    post.update(extra)
    return post


def test_the_apply_form_checks_eligibility_before_submitting(pingdingshan, pds_admin):
    call = open_call(pds_admin, pingdingshan)
    client = logged_in(applicant("pp", pingdingshan))
    assert client.get(f"/recruitment/calls/{call.pk}/apply/").status_code == 200
    data = pingdingshan_data(degree="junior_college", title_level="none", title_field="", experience_years=12)
    response = client.post(f"/recruitment/calls/{call.pk}/apply/", form_post(data, action="check"))
    page = html(response)
    assert response.status_code == 200
    assert "资格检查结果" in page and "P4(1)" in page and "P4(2)" in page and "P4(4)" in page
    assert "在相关领域从业满10年以上" in page and "符合全部条件" in page.replace("<strong>", "").replace("</strong>", "")
    assert not Application.objects.exists()
    assert f'value="{data["id_number"]}"' in page  # what was typed is kept


def test_an_ineligible_applicant_sees_why_and_may_still_submit(pingdingshan, pds_admin):
    call = open_call(pds_admin, pingdingshan)
    client = logged_in(applicant("pp", pingdingshan))
    data = pingdingshan_data(degree="junior_college", title_level="none", title_field="", experience_years=6)
    checked = html(client.post(f"/recruitment/calls/{call.pk}/apply/", form_post(data, action="check")))
    assert "尚有未满足的条件" in checked and "要求不少于 10 年" in checked
    response = client.post(f"/recruitment/calls/{call.pk}/apply/", form_post(data, action="submit"))
    application = Application.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/recruitment/applications/{application.pk}/"
    assert application.eligible is False
    detail = html(client.get(response["Location"]))
    assert "不符合" in detail and data["id_number"] in detail  # the applicant sees their own full number


def test_submitting_with_proofs_stores_them(beijing, city_admin):
    call = open_call(city_admin, beijing)
    client = logged_in(applicant("bb", beijing))
    post = form_post(beijing_data(), action="submit", proof_labels=["注册证书"],
                     proofs=[SimpleUploadedFile("注册证书.pdf", PDF, content_type="application/pdf")])
    response = client.post(f"/recruitment/calls/{call.pk}/apply/", post)
    assert response.status_code == 302
    proof = Proof.objects.get()
    assert proof.label == "注册证书" and proof.kind == "pdf"
    download = client.get(f"/recruitment/applications/{proof.application_id}/proofs/{proof.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert Client().get(f"/recruitment/applications/{proof.application_id}/proofs/{proof.pk}/").status_code == 302


def test_a_disguised_proof_refuses_the_submission_and_keeps_the_form(beijing, city_admin):
    call = open_call(city_admin, beijing)
    client = logged_in(applicant("bb", beijing))
    data = beijing_data()
    post = form_post(data, action="submit", proofs=[SimpleUploadedFile("证书.pdf", b"<html>not a pdf</html>")])
    response = client.post(f"/recruitment/calls/{call.pk}/apply/", post)
    assert response.status_code == 400
    page = html(response)
    assert "只接受 PDF、JPEG、PNG" in page and f'value="{data["name"]}"' in page
    assert not Application.objects.exists() and not Proof.objects.exists()


def test_a_web_page_dressed_as_a_pdf_refuses_the_submission_with_a_chinese_message_and_keeps_the_form(
        beijing, city_admin):
    """Issue #16 item 7: starts with %PDF and ends with %%EOF, but is an HTML page with script."""
    call = open_call(city_admin, beijing)
    client = logged_in(applicant("bb", beijing))
    data = beijing_data()
    polyglot = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"
    post = form_post(data, action="submit", proof_labels=["注册证书"],
                     proofs=[SimpleUploadedFile("注册证书.pdf", polyglot, content_type="application/pdf")])
    response = client.post(f"/recruitment/calls/{call.pk}/apply/", post)
    assert response.status_code == 400
    page = html(response)
    assert "PDF 文件含有网页（HTML）代码" in page and f'value="{data["name"]}"' in page
    assert not Application.objects.exists() and not Proof.objects.exists()


def test_an_invalid_id_number_on_the_form_is_explained(beijing, city_admin):
    call = open_call(city_admin, beijing)
    client = logged_in(applicant("bb", beijing))
    response = client.post(f"/recruitment/calls/{call.pk}/apply/",
                           form_post(beijing_data(id_number="110108198501010010"), action="submit"))
    assert response.status_code == 400 and "校验位不正确" in html(response)
    assert not Application.objects.exists()


def test_only_planner_accounts_see_the_apply_form(beijing, city_admin, district_haidian):
    call = open_call(city_admin, beijing)
    response = logged_in(district_haidian).get(f"/recruitment/calls/{call.pk}/apply/")
    assert response.status_code == 403
    assert Client().get(f"/recruitment/calls/{call.pk}/apply/").status_code == 302  # to the login page


def test_my_applications_show_the_review_reason(beijing, city_admin):
    call = open_call(city_admin, beijing)
    user = applicant("bb", beijing)
    application = services.application_submit(actor=user, call=call, data=beijing_data())
    services.application_review(actor=city_admin, application=application, decision="reject", reason="专业不对口")
    page = html(logged_in(user).get("/recruitment/mine/"))
    assert "专业不对口" in page and "未通过审核" in page


# --- administrators -----------------------------------------------------------------------------------


def test_an_administrator_runs_a_call_through_the_pages(beijing, city_admin, clock):
    clock.set(dt.date(2026, 11, 2))
    admin = logged_in(city_admin)
    created = admin.post("/recruitment/manage/", {"title": "页面征集", "kind": "open", "specialties": ["urban_design"],
                                                 "deadline": "2026-11-30", "publish": "on", "requirements": "要求"})
    call = OpenCall.objects.get(title="页面征集")
    assert created.status_code == 302 and call.is_published
    application = services.application_submit(actor=applicant("bb", beijing), call=call, data=beijing_data(name="页面申请人"))
    page = html(admin.get(f"/recruitment/manage/calls/{call.pk}/"))
    assert "页面申请人" in page and "审核" in page
    detail = html(admin.get(f"/recruitment/applications/{application.pk}/"))
    assert re.search(r"审核遴选（<a[^>]*#B18[^>]*>B18</a>、<a[^>]*#B19-5[^>]*>B19\(5\)</a>）", detail)
    assert "csrfmiddlewaretoken" in detail
    reviewed = admin.post(f"/recruitment/applications/{application.pk}/review/", {
        "decision": "approve", "reason": "优秀", "score_background": "90", "score_title": "80",
        "score_experience": "85", "score_local_familiarity": "70"})
    assert reviewed.status_code == 302
    published = admin.post(f"/recruitment/manage/calls/{call.pk}/notices/", {"start": "2026-11-02"})
    notice = PublicNotice.objects.get()
    assert published.status_code == 302 and notice.end == dt.date(2026, 11, 6)
    early = admin.post(f"/recruitment/manage/notices/{notice.pk}/close/")
    assert early.status_code == 409 and "期满后方可办理入库" in html(early)
    objection = services.objection_submit(notice=notice, application_id=application.pk, content="问题",
                                          contact_name="联系人乙", contact_phone="13900002222")
    manage_page = html(admin.get(f"/recruitment/manage/notices/{notice.pk}/"))
    assert "联系人乙" in manage_page and "13900002222" in manage_page  # the bureau sees the contact
    bad = admin.post(f"/recruitment/manage/objections/{objection.pk}/resolve/", {"finding": "未选结论"})
    assert bad.status_code == 400 and "请选择异议是否成立" in html(bad)
    admin.post(f"/recruitment/manage/objections/{objection.pk}/resolve/", {"upheld": "0", "finding": "不属实"})
    clock.set(dt.date(2026, 11, 9))
    admin = logged_in(city_admin)  # a week later: a new session (the earlier one lapsed)
    closed = admin.post(f"/recruitment/manage/notices/{notice.pk}/close/")
    assert closed.status_code == 302
    assert Planner.objects.get(name="页面申请人").pool_status == "active"


def test_an_ineligible_application_cannot_be_approved_on_the_page(beijing, city_admin):
    call = open_call(city_admin, beijing)
    application = services.application_submit(actor=applicant("bb", beijing), call=call,
                                              data=beijing_data(registrations=[], title_level="none"))
    response = logged_in(city_admin).post(f"/recruitment/applications/{application.pk}/review/", {
        "decision": "approve", "score_background": "1", "score_title": "1", "score_experience": "1",
        "score_local_familiarity": "1"})
    assert response.status_code == 400 and "不符合选聘条件（B18）" in html(response)


def test_management_pages_are_scoped(beijing, pingdingshan, city_admin, pds_admin, district_haidian, auditor):
    call = open_call(city_admin, beijing)
    assert logged_in(district_haidian).get("/recruitment/manage/").status_code == 403
    assert logged_in(pds_admin).get(f"/recruitment/manage/calls/{call.pk}/").status_code == 404
    assert logged_in(pds_admin).post(f"/recruitment/manage/calls/{call.pk}/notices/", {}).status_code == 404
    page = logged_in(auditor).get(f"/recruitment/manage/calls/{call.pk}/")
    assert page.status_code == 200 and "发布公示" not in html(page)
    assert logged_in(auditor).post("/recruitment/manage/", {"title": "x", "deadline": "2026-12-01"}).status_code in (403, 404)
    assert OpenCall.objects.count() == 1


def test_public_list_and_notice_pages_keep_a_constant_query_count(anon, beijing, city_admin, clock,
                                                                   django_assert_max_num_queries):
    clock.set(dt.date(2026, 11, 2))
    call = open_call(city_admin, beijing, deadline=dt.date(2026, 11, 30))
    approved_application(city_admin, call, applicant("c0", beijing), beijing_data())
    notice = services.notice_publish(actor=city_admin, call=call, start=dt.date(2026, 11, 2))
    with django_assert_max_num_queries(20) as list_small:
        anon.get("/recruitment/")
    with django_assert_max_num_queries(20) as notice_small:
        anon.get(f"/recruitment/notices/{notice.pk}/")
    for i in range(5):
        other = open_call(city_admin, beijing, title=f"更多{i}", deadline=dt.date(2026, 11, 30))
        approved_application(city_admin, other, applicant(f"c{i + 1}", beijing), beijing_data())
        services.notice_publish(actor=city_admin, call=other, start=dt.date(2026, 11, 2))
    call2 = open_call(city_admin, beijing, title="大公示", deadline=dt.date(2026, 11, 30))
    for i in range(6):
        approved_application(city_admin, call2, applicant(f"d{i}", beijing), beijing_data())
    big = services.notice_publish(actor=city_admin, call=call2, start=dt.date(2026, 11, 2))
    with django_assert_max_num_queries(len(list_small.captured_queries)):
        assert anon.get("/recruitment/").status_code == 200
    with django_assert_max_num_queries(len(notice_small.captured_queries)):
        assert anon.get(f"/recruitment/notices/{big.pk}/").status_code == 200


def test_pages_cite_the_citys_own_articles(anon, notice_state, city_admin, pingdingshan, pds_admin, clock):
    notice = notice_state["notice"]
    page = html(anon.get(f"/recruitment/notices/{notice.pk}/"))
    # A Beijing notice cites Beijing's rule book, linked to the article's text on the policy page.
    assert re.search(r'依据 <a class="article-link" href="/info/policies/beijing/#B19-7"[^>]*>B19\(7\)</a>', page)
    assert "P5(2)" not in page
    manage = html(logged_in(city_admin).get(f"/recruitment/manage/notices/{notice.pk}/"))
    assert re.search(r"（<a[^>]*#B19-1[^>]*>B19\(1\)</a>）", manage) and "P5(2)" not in manage
    clock.set(dt.date(2026, 9, 1))
    call = open_call(pds_admin, pingdingshan, title="平顶山征集（条款）", deadline=dt.date(2026, 9, 30))
    approved_application(pds_admin, call, applicant("pds_art", pingdingshan), pingdingshan_data(name="条款人"))
    pds_notice = services.notice_publish(actor=pds_admin, call=call, start=dt.date(2026, 9, 1))
    assert re.search(r'依据 <a class="article-link" href="/info/policies/pingdingshan/#P5-2"[^>]*>P5\(2\)</a>',
                     html(anon.get(f"/recruitment/notices/{pds_notice.pk}/")))


def test_the_calls_and_a_calls_applications_page_through(login, beijing, city_admin, monkeypatch):
    from rpms.recruitment import views

    from .factories import open_call

    monkeypatch.setattr(views, "CALL_PAGE_SIZE", 2)
    for n in range(3):
        open_call(city_admin, beijing, title=f"分页征集{n}")
    client = login(city_admin)
    first = client.get("/recruitment/manage/").content.decode()
    second = client.get("/recruitment/manage/?page=2").content.decode()
    assert first.count("分页征集") == 2 and second.count("分页征集") == 1
    assert "第 2 页，共 2 页（3 条）" in second
