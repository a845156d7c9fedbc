import pytest

pytestmark = pytest.mark.django_db


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_add_returns_the_documented_shape(client):
    response = client.get("/api/v1/workdays/add", {"start": "2026-02-13", "days": "5"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"start", "days", "end", "provisional", "explanation"}
    assert body["start"] == "2026-02-13"
    assert body["days"] == 5
    assert body["end"] == "2026-02-26"
    assert body["provisional"] is False
    assert any("春节" in line for line in body["explanation"])
    assert any("2026-02-14" in line and "调休上班" in line for line in body["explanation"])


def test_add_in_an_unpublished_year_is_provisional(client):
    body = client.get("/api/v1/workdays/add", {"start": "2030-01-04", "days": "2"}).json()
    assert body["end"] == "2030-01-07"
    assert body["provisional"] is True


def test_count_is_inclusive(client):
    response = client.get("/api/v1/workdays/count", {"start": "2026-02-13", "end": "2026-02-26"})
    assert response.status_code == 200
    assert response.json() == {"count": 5, "provisional": False}


def test_year_lists_holidays_make_up_days_and_source(client, entered_2027):
    body = client.get("/api/v1/workdays/year/2026").json()
    assert body["source"] == "package"
    assert {"date": "2026-02-14", "name": "春节", "detail": "调休上班日（春节）"} in body["workdays"]
    assert any(p["description"] == "2026-02-15 至 2026-02-23 春节假期（含周末），共 9 天" for p in body["periods"])
    entered = client.get("/api/v1/workdays/year/2027").json()
    assert entered["source"] == "entered" and entered["source_detail"] == "测试用通知（虚构）"
    assert entered["provisional"] is False
    assert client.get("/api/v1/workdays/year/2031").json()["provisional"] is True


@pytest.mark.parametrize(
    "url, params, code",
    [
        ("/api/v1/workdays/add", {"days": "5"}, "missing_param"),
        ("/api/v1/workdays/add", {"start": "2026-02-13"}, "missing_param"),
        ("/api/v1/workdays/add", {"start": "2026-02-30", "days": "5"}, "invalid_date"),
        ("/api/v1/workdays/add", {"start": "abc", "days": "5"}, "invalid_date"),
        ("/api/v1/workdays/add", {"start": "2026/02/13", "days": "5"}, "invalid_date"),
        ("/api/v1/workdays/add", {"start": "2026-02-13", "days": "0"}, "days_out_of_range"),
        ("/api/v1/workdays/add", {"start": "2026-02-13", "days": "367"}, "days_out_of_range"),
        ("/api/v1/workdays/add", {"start": "2026-02-13", "days": "-3"}, "days_out_of_range"),
        ("/api/v1/workdays/add", {"start": "2026-02-13", "days": "1.5"}, "invalid_days"),
        ("/api/v1/workdays/add", {"start": "2026-02-13", "days": "abc"}, "invalid_days"),
        ("/api/v1/workdays/add", {"start": "2026-02-13", "days": "99999999999999999999"}, "invalid_days"),
        ("/api/v1/workdays/add", {"start": "9999-12-30", "days": "5"}, "date_out_of_range"),
        ("/api/v1/workdays/count", {"start": "2026-03-02", "end": "2026-03-01"}, "end_before_start"),
        ("/api/v1/workdays/count", {"start": "2026-03-02"}, "missing_param"),
        ("/api/v1/workdays/count", {"start": "2026-13-01", "end": "2026-03-01"}, "invalid_date"),
        ("/api/v1/workdays/count", {"start": "2026-03-01", "end": "x"}, "invalid_date"),
        ("/api/v1/workdays/count", {"start": "0001-01-01", "end": "9999-12-31"}, "range_too_long"),
        ("/api/v1/workdays/year/abc", {}, "invalid_year"),
        ("/api/v1/workdays/year/1800", {}, "invalid_year"),
    ],
)
def test_bad_input_gives_400_with_a_chinese_message(client, url, params, code):
    response = client.get(url, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert _has_cjk(body["message"])
