"""Issue #15: the opinion lists page (50 a page with 上一页/下一页/第 N 页，共 M 页 keeping the filters; the API by
limit/offset, default 50, at most 500, still a bare list), and their query counts do not grow with the rows."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rpms.opinions import selectors, services
from rpms.opinions.models import WrittenOpinion

pytestmark = pytest.mark.django_db


def _queries(client, path, **extra):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **extra)
    assert response.status_code == 200, response.content.decode()[:300]
    return len(ctx), response


def _issue(world, make_issued, n):
    return [make_issued(world, title=f"分页测试意见{i:03d}") for i in range(n)]


def test_list_and_inbox_query_counts_do_not_grow(world, login, bearer, make_issued):
    paths = [("/opinions/", world.admin), ("/opinions/", world.officer), ("/opinions/inbox/", world.officer),
             ("/opinions/inbox/", world.entity), ("/opinions/", world.author)]
    api = [("/api/v1/opinions", world.admin), ("/api/v1/opinions", world.officer),
           ("/api/v1/opinions/inbox", world.entity), ("/api/v1/opinions", world.author)]
    _issue(world, make_issued, 2)
    clients = {user.pk: login(user) for _, user in paths + api}
    headers = {user.pk: bearer(user) for _, user in api}
    [_queries(clients[u.pk], p) for p, u in paths]
    few = ([_queries(clients[u.pk], p)[0] for p, u in paths], [_queries(clients[u.pk], p, **headers[u.pk])[0] for p, u in api])
    made = _issue(world, make_issued, 4)
    services.opinion_supersede(actor=world.author, opinion=made[0], reason="更正笔误")  # a correcting draft too
    many = ([_queries(clients[u.pk], p)[0] for p, u in paths], [_queries(clients[u.pk], p, **headers[u.pk])[0] for p, u in api])
    assert few == many


def test_the_list_pages_by_50_keeping_the_filter(world, login, make_issued, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    made = _issue(world, make_issued, 5)
    client = login(world.admin)
    first = client.get("/opinions/?status=issued").content.decode()
    assert "第 1 页，共 3 页" in first and "下一页" in first and "status=issued&amp;page=2" in first
    newest = sorted(made, key=lambda o: (o.issued_at, o.created_at, o.pk), reverse=True)
    assert newest[0].title in first and newest[2].title not in first
    second = client.get("/opinions/?status=issued&page=2").content.decode()
    assert "第 2 页，共 3 页" in second and "上一页" in second and newest[2].title in second
    for page in ("abc", "0", "-3", "99999999999999999999"):
        response = client.get(f"/opinions/?page={page}")
        assert response.status_code == 200
    assert "第 3 页，共 3 页" in client.get("/opinions/?page=99").content.decode()  # past the end → the last
    inbox = login(world.officer).get("/opinions/inbox/").content.decode()
    assert "第 1 页，共 3 页" in inbox and "未读 5 件" in inbox  # unread counts every opinion, not the page's


def test_the_api_pages_by_limit_and_offset(world, login, bearer, make_issued):
    made = _issue(world, make_issued, 5)
    client = login(world.admin)
    headers = bearer(world.admin)
    every = client.get("/api/v1/opinions", **headers).json()
    assert isinstance(every, list) and len(every) == 5
    expected = [o.pk for o in WrittenOpinion.objects.filter(pk__in=[m.pk for m in made])
                .order_by("-issued_at", "-created_at", "-id")]
    assert [row["id"] for row in every] == expected
    page = client.get("/api/v1/opinions?limit=2&offset=2", **headers).json()
    assert [row["id"] for row in page] == expected[2:4]
    assert client.get("/api/v1/opinions?limit=100000", **headers).status_code == 200  # capped at 500
    bad = client.get("/api/v1/opinions?limit=abc", **headers)
    assert bad.status_code == 400 and "limit" in bad.json()["message"]
    assert client.get("/api/v1/opinions?offset=-1", **headers).status_code == 400
    inbox = login(world.entity).get("/api/v1/opinions/inbox?limit=3", **bearer(world.entity)).json()
    assert len(inbox) == 3 and all(row["read_at"] is None for row in inbox)
