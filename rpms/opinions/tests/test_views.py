"""The /opinions/ pages and the read-only admin."""
import pytest

from rpms.accounts.models import User
from rpms.opinions import services
from rpms.opinions.models import OpinionReceipt, OpinionStatus, WrittenOpinion

from .conftest import PASSWORD, draft_data, make_planner


def form_post(world, **overrides):
    data = draft_data(world, **overrides)
    return {
        "unit": world.unit.pk,
        "subject": data["subject"],
        "subject_kind": data["subject_kind"],
        "developer": data["developer"],
        "design_unit": data["design_unit"],
        "reviewed_documents": "\n".join(data["reviewed_documents"]),
        "findings": data["findings"],
        "recommendations": data["recommendations"],
        "departments": [str(d) for d in data["departments"]],
    }


def test_a_planner_drafts_declares_and_issues_on_the_pages(world, login):
    client = login(world.author)
    page = client.get("/opinions/new/")
    assert page.status_code == 200
    assert world.unit.name in page.content.decode()
    created = client.post("/opinions/new/", form_post(world))
    assert created.status_code == 302, created.content.decode()[:2000]
    opinion = WrittenOpinion.objects.get()
    assert created["Location"] == f"/opinions/{opinion.pk}/"
    detail = client.get(created["Location"]).content.decode()
    assert "出具前须声明" in detail and opinion.subject in detail
    assert client.post(f"/opinions/{opinion.pk}/declaration/", {"has_conflict": "0"}).status_code == 302
    asked = client.post(f"/opinions/{opinion.pk}/issue/")
    assert asked.status_code == 200 and "请确认" in asked.content.decode()
    issued = client.post(f"/opinions/{opinion.pk}/issue/", {"confirm": "1"})
    assert issued.status_code == 302
    opinion.refresh_from_db()
    assert opinion.status == OpinionStatus.ISSUED
    detail = client.get(f"/opinions/{opinion.pk}/").content.decode()
    assert opinion.document.formatted_code in detail and opinion.content_hash in detail
    assert "修改草稿" not in detail and "起草更正版本" in detail
    pdf = client.get(f"/opinions/{opinion.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_the_draft_link_only_for_a_planner_serving_today(world, login):
    """Issue #17 item 2: 起草书面意见 led a planner with no posting served today (after a termination, or
    before the first appointment) to a 403; the list says why instead."""
    link = 'href="/opinions/new/"'
    serving = login(world.author).get("/opinions/").content.decode()
    assert link in serving
    outsider = login(make_planner(world.city, "尚未派驻规划师").user)  # no posting at all
    listing = outsider.get("/opinions/").content.decode()
    assert link not in listing and "没有在任的派驻聘任" in listing
    assert outsider.get("/opinions/new/").status_code == 403


def test_a_declared_conflict_is_refused_on_the_issue_page(world, login, make_draft):
    opinion = make_draft(world)
    client = login(world.author)
    client.post(f"/opinions/{opinion.pk}/declaration/", {"has_conflict": "1", "note": "本人配偶任职于建设单位"})
    response = client.post(f"/opinions/{opinion.pk}/issue/")
    assert response.status_code == 400
    body = response.content.decode()
    assert "利益冲突" in body and world.interest_article in body
    assert WrittenOpinion.objects.get(pk=opinion.pk).status == OpinionStatus.DRAFT


def test_a_planner_not_serving_the_unit_is_refused_on_the_form(world, login):
    response = login(world.outsider).post("/opinions/new/", form_post(world))
    assert response.status_code == 403
    assert "履职" in response.content.decode()
    assert not WrittenOpinion.objects.exists()


def test_the_edit_page_of_an_issued_opinion_is_refused(world, login, make_issued):
    opinion = make_issued(world)
    client = login(world.author)
    assert client.get(f"/opinions/{opinion.pk}/edit/").status_code == 409
    response = client.post(f"/opinions/{opinion.pk}/edit/", {**form_post(world), "findings": "出具后改写"})
    assert response.status_code == 409
    assert WrittenOpinion.objects.get(pk=opinion.pk).findings == opinion.findings


def test_opening_a_received_opinion_records_the_read_receipt(world, login, make_issued):
    opinion = make_issued(world)
    client = login(world.entity)
    inbox = client.get("/opinions/inbox/").content.decode()
    assert opinion.title in inbox and "未读" in inbox
    assert client.get(f"/opinions/{opinion.pk}/").status_code == 200
    client.get(f"/opinions/{opinion.pk}/")
    receipt = OpinionReceipt.objects.get()
    assert receipt.user == world.entity and receipt.opinion == opinion
    assert "已读" in client.get("/opinions/inbox/").content.decode()
    author_view = login(world.author).get(f"/opinions/{opinion.pk}/").content.decode()
    assert "阅读回执" in author_view and world.entity.display_name in author_view


def test_the_hiring_entity_records_the_design_units_response_on_the_page(world, login, make_issued):
    opinion = make_issued(world)
    client = login(world.entity)
    response = client.post(f"/opinions/{opinion.pk}/response/", {
        "responder": "design_unit", "outcome": "partly_adopted", "reasons": "退线已调整，通道受限",
    })
    assert response.status_code == 302
    page = client.get(f"/opinions/{opinion.pk}/").content.decode()
    assert "部分采纳" in page and "退线已调整" in page


def test_another_districts_officer_gets_404(world, login, make_issued):
    opinion = make_issued(world)
    client = login(world.other_officer)
    assert client.get(f"/opinions/{opinion.pk}/").status_code == 404
    assert client.get(f"/opinions/{opinion.pk}/pdf/").status_code == 404
    assert opinion.title not in client.get("/opinions/").content.decode()
    assert opinion.title not in client.get("/opinions/inbox/").content.decode()


def test_anonymous_visitors_are_sent_to_log_in(world, anon, make_issued):
    opinion = make_issued(world)
    response = anon.get(f"/opinions/{opinion.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_exports_to_excel(world, login, make_issued):
    make_issued(world)
    response = login(world.officer).get("/opinions/?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_unread_opinions_show_on_the_recipients_home_page_list(world, make_issued):
    from rpms.opinions.pending import pending_items

    opinion = make_issued(world)
    [item] = pending_items(world.entity)
    assert item.count == 1 and item.url.startswith("/opinions/inbox/")
    services.opinion_mark_read(actor=world.entity, opinion=opinion)
    assert pending_items(world.entity) == []
    assert pending_items(world.other_officer) == []


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(username="op_root", password=PASSWORD, email="root@example.org")


def test_the_admin_is_read_only_for_issued_opinions(world, make_issued, superuser, client):
    opinion = make_issued(world)
    client.force_login(superuser)
    url = f"/admin/opinions/writtenopinion/{opinion.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(url, {"findings": "后台篡改", "title": "后台篡改", "_save": "保存"})
    assert response.status_code == 403
    assert client.get("/admin/opinions/writtenopinion/add/").status_code == 403
    assert client.post(f"/admin/opinions/writtenopinion/{opinion.pk}/delete/", {"post": "yes"}).status_code == 403
    fresh = WrittenOpinion.objects.get(pk=opinion.pk)
    assert fresh.findings == opinion.findings and fresh.title == opinion.title
    assert fresh.status == OpinionStatus.ISSUED


def test_the_list_pages_keep_a_constant_query_count(world, login, make_issued, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_issued(world)
    pages = {"/opinions/": login(world.officer), "/opinions/inbox/": login(world.entity)}
    baseline = {}
    for url, client in pages.items():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        baseline[url] = len(ctx.captured_queries)
    titles = [make_issued(world, subject=f"第{i}号地块设计方案").title for i in range(4)]
    for url, client in pages.items():
        with django_assert_max_num_queries(baseline[url]):
            body = client.get(url).content.decode()
        assert all(title in body for title in titles)
