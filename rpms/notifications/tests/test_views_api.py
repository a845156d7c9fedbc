"""The inbox page, its unread badge tag, and the API: own items only, mark read / all read."""
import pytest
from django.template import Context, Template
from django.test import RequestFactory

from rpms.notifications.models import Notification
from rpms.notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_users(city_admin, district_haidian):
    notify(users=[city_admin], event="x", title="公示即将结束：测试公示", body="请处理。", url="/recruitment/manage/", key="a")
    notify(users=[city_admin], event="x", title="第二条提醒", key="b")
    notify(users=[district_haidian], event="x", title="别人的提醒", key="c")
    return city_admin, district_haidian


def test_the_inbox_lists_only_my_notifications(two_users, login):
    me, _ = two_users
    html = login(me).get("/inbox/").content.decode()
    assert "公示即将结束：测试公示" in html and "第二条提醒" in html
    assert "别人的提醒" not in html
    assert "您有 <strong>2</strong> 条未读提醒" in html


def test_the_inbox_needs_a_login(anon):
    response = anon.get("/inbox/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_opening_an_item_marks_it_read_and_goes_to_its_page(two_users, login):
    me, _ = two_users
    note = Notification.objects.get(recipient=me, key="a")
    response = login(me).post(f"/inbox/{note.pk}/read/", {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/recruitment/manage/"
    assert Notification.objects.get(pk=note.pk).read_at is not None


def test_an_external_link_is_not_followed(two_users, login):
    me, _ = two_users
    note = notify(users=[me], event="x", title="外链", url="https://evil.example/", key="evil")[0]
    response = login(me).post(f"/inbox/{note.pk}/read/", {"open": "1"})
    assert response["Location"] == "/inbox/"


def test_someone_elses_item_cannot_be_marked(two_users, login):
    me, other = two_users
    theirs = Notification.objects.get(recipient=other)
    assert login(me).post(f"/inbox/{theirs.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_all_read_marks_only_mine(two_users, login):
    me, other = two_users
    login(me).post("/inbox/read-all/")
    assert not Notification.objects.filter(recipient=me, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 1


def test_the_unread_badge_tag(two_users):
    me, _ = two_users
    request = RequestFactory().get("/")
    request.user = me
    html = Template("{% load inbox %}{% inbox_link %}").render(Context({"request": request}))
    assert 'href="/inbox/"' in html and '<span class="badge warn">2</span>' in html
    Notification.objects.filter(recipient=me).update(read_at="2026-01-01T00:00:00Z")
    html = Template("{% load inbox %}{% inbox_link %}").render(Context({"request": request}))
    assert 'href="/inbox/"' in html and "badge" not in html


def test_the_badge_is_empty_for_anonymous_visitors(db):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert Template("{% load inbox %}{% inbox_link %}").render(Context({"request": request})).strip() == ""


def test_the_api_lists_my_items_and_marks_them_read(two_users, bearer, client):
    me, other = two_users
    headers = bearer(me)
    data = client.get("/api/v1/notifications", **headers).json()
    assert data["count"] == 2 and data["unread"] == 2
    assert {i["title"] for i in data["items"]} == {"公示即将结束：测试公示", "第二条提醒"}
    first = data["items"][0]["id"]
    response = client.post(f"/api/v1/notifications/{first}/read", **headers)
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert client.get("/api/v1/notifications?unread=1", **headers).json()["count"] == 1
    theirs = Notification.objects.get(recipient=other).pk
    assert client.post(f"/api/v1/notifications/{theirs}/read", **headers).status_code == 404
    response = client.post("/api/v1/notifications/read", {"ids": [theirs]}, content_type="application/json", **headers)
    assert response.json()["marked"] == 0
    response = client.post("/api/v1/notifications/read", **headers)
    assert response.status_code == 200 and response.json() == {"marked": 1, "unread": 0}
    assert Notification.objects.get(pk=theirs).read_at is None


def test_the_api_refuses_bad_input_in_chinese(two_users, bearer, client):
    me, _ = two_users
    response = client.get("/api/v1/notifications?unread=yes", **bearer(me))
    assert response.status_code == 400 and response.json()["code"] == "invalid_filter"
    assert client.get("/api/v1/notifications").status_code == 401


def test_the_inbox_query_count_does_not_grow(city_admin, login, django_assert_max_num_queries):
    client = login(city_admin)
    notify(users=[city_admin], event="x", title="一", key="k0")
    with django_assert_max_num_queries(20) as one:
        client.get("/inbox/")
    for i in range(1, 15):
        notify(users=[city_admin], event="x", title=f"提醒{i}", key=f"k{i}", city=city_admin.city)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert "提醒14" in client.get("/inbox/").content.decode()
