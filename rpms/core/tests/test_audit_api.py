import pytest

from rpms.accounts.services import api_token_issue

from .conftest import at_local

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/audit"


def _get(client, user=None, **params):
    headers = {}
    if user is not None:
        raw, _ = api_token_issue(user=user)
        headers["Authorization"] = f"Bearer {raw}"
    return client.get(API_URL, params, headers=headers)


def test_without_a_token_the_api_answers_401(client, make_log):
    make_log()
    response = _get(client)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_district_officer_gets_403(client, district_officer, make_log):
    make_log()
    response = _get(client, district_officer)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_an_auditor_gets_their_city_rows_with_every_field(client, auditor, make_log):
    row = make_log(actor_repr="zhangsan", ip="10.1.2.3", summary="设立单元", before={"a": 1}, after={"a": 2}, article="B4")
    make_log(city_code="pingdingshan", summary="平顶山")
    response = _get(client, auditor, action="geography.unit_create")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item == {
        "id": row.pk,
        "at": "2026-03-10T12:00:00+08:00",
        "actor": "zhangsan",
        "ip": "10.1.2.3",
        "action": "geography.unit_create",
        "object_type": "geography.responsibilityunit",
        "object_id": "1",
        "object_repr": "学院路责任单元",
        "city_code": "beijing",
        "article": "B4",
        "summary": "设立单元",
        "before": {"a": 1},
        "after": {"a": 2},
    }


def test_a_city_admin_sees_only_their_city(client, city_admin, make_log):
    make_log(city_code="pingdingshan", summary="平顶山")
    make_log(city_code="beijing", summary="北京", action="x.y")
    body = _get(client, city_admin, action="x.y").json()
    assert [i["summary"] for i in body["items"]] == ["北京"]
    everything = _get(client, city_admin).json()
    assert {i["city_code"] for i in everything["items"]} == {"beijing"}


def test_dates_filter_inclusively_in_beijing_time(client, global_auditor, make_log):
    make_log(at=at_local(2026, 3, 9, 23, 59), summary="before")
    make_log(at=at_local(2026, 3, 10, 0, 1), summary="first")
    make_log(at=at_local(2026, 3, 12, 23, 59), summary="last")
    make_log(at=at_local(2026, 3, 13, 0, 1), summary="after")
    body = _get(client, global_auditor, since="2026-03-10", until="2026-03-12", object_type="geography.responsibilityunit").json()
    assert [i["summary"] for i in body["items"]] == ["last", "first"]


def test_a_bad_since_date_is_a_400_in_chinese(client, auditor):
    response = _get(client, auditor, since="10/03/2026")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_date"
    assert body["message"] == "起始日期格式不正确，应为 YYYY-MM-DD（如 2026-03-01）。"


def test_since_after_until_is_a_400(client, auditor):
    response = _get(client, auditor, since="2026-03-12", until="2026-03-10")
    assert response.status_code == 400
    assert "起始日期不能晚于截止日期" in response.json()["message"]


def test_limit_and_offset_page_through_the_rows(client, global_auditor, make_log):
    for i in range(7):
        make_log(object_id=str(i), at=at_local(2026, 3, 1, 10, i), action="paging.test")
    first = _get(client, global_auditor, action="paging.test", limit=3).json()
    third = _get(client, global_auditor, action="paging.test", limit=3, offset=6).json()
    assert first["count"] == 7 and third["count"] == 7
    assert [i["object_id"] for i in first["items"]] == ["6", "5", "4"]
    assert [i["object_id"] for i in third["items"]] == ["0"]


@pytest.mark.parametrize("limit", [0, 201])
def test_limit_outside_1_to_200_is_refused(client, auditor, limit):
    response = _get(client, auditor, limit=limit)
    assert response.status_code == 400
    assert "limit" in response.json()["message"]


def test_limit_of_200_is_accepted(client, auditor):
    assert _get(client, auditor, limit=200).status_code == 200


def test_a_non_numeric_limit_is_a_4xx_not_a_500(client, auditor):
    response = _get(client, auditor, limit="many")
    assert 400 <= response.status_code < 500
    assert "请求参数有误" in response.json()["message"]


def test_the_count_stops_at_the_cap_and_says_so(client, auditor, make_log, monkeypatch):
    """count is at most COUNT_CAP (10,000): a city's million log rows are never counted whole; count_capped and
    has_more tell the rest."""
    from rpms.core import paging

    for i in range(5):
        make_log(summary=f"第 {i} 条")
    action = "geography.unit_create"  # the five rows (not what issuing each call's token logs)
    body = _get(client, auditor, action=action, limit=2).json()
    assert body["count"] == 5 and body["count_capped"] is False and body["has_more"] is True
    body = _get(client, auditor, action=action, limit=2, offset=4).json()
    assert len(body["items"]) == 1 and body["has_more"] is False
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    body = _get(client, auditor, action=action, limit=2).json()
    assert body["count"] == 3 and body["count_capped"] is True and body["has_more"] is True
