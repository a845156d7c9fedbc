"""The statistics API, page and workbook: scoping by role, Chinese errors, charts with their text
equivalents, one workbook with a sheet per topic."""
import io
import re

import pytest
from openpyxl import load_workbook

from rpms.accounts.models import Role

from .conftest import build_year, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/cities/{code}/statistics"


@pytest.fixture
def year_rows(beijing, stats_year):
    return build_year(beijing, stats_year)


def test_city_admin_gets_the_whole_city_with_city_level_figures(client, city_admin, bearer, year_rows, stats_year, beijing):
    response = client.get(URL.format(code="beijing"), {"year": stats_year}, **bearer(city_admin))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["year"] == stats_year and data["article"] == "B19(6)"
    assert len(data["appointments"]["rows"]) == beijing.districts.count()
    assert data["pool"]["in_pool"] > 0 and data["removals"]["total"] == 2
    assert data["scope"]["total_label"] == "全市合计"


def test_pingdingshan_cites_its_own_article(client, pds_admin, bearer, pingdingshan, stats_year):
    build_year(pingdingshan, stats_year)
    response = client.get(URL.format(code="pingdingshan"), {"year": stats_year}, **bearer(pds_admin))
    assert response.status_code == 200
    assert response.json()["article"] == pingdingshan.policy.articles["statistics"]
    assert response.json()["suggestions"]["total"]["received"] == 10


def test_auditor_without_a_city_sees_any_city(client, auditor, bearer, year_rows, stats_year):
    response = client.get(URL.format(code="beijing"), {"year": stats_year}, **bearer(auditor))
    assert response.status_code == 200
    assert response.json()["pool"] is not None


def test_district_officer_gets_only_his_district_and_no_city_totals(client, bearer, year_rows, stats_year, beijing):
    a, b = year_rows["districts"]
    officer = make_user("stat_api_officer", Role.DISTRICT_OFFICER, beijing, districts=[a])
    response = client.get(URL.format(code="beijing"), {"year": stats_year}, **bearer(officer))
    assert response.status_code == 200
    data = response.json()
    assert [r["district"] for r in data["appointments"]["rows"]] == [a.code]
    assert data["pool"] is None and data["removals"] is None
    assert data["scope"]["total_label"] == "所辖区合计"
    assert data["appointments"]["total"]["new"] == data["appointments"]["rows"][0]["new"]
    # Another district is not revealed: 404 with a Chinese message.
    other = client.get(URL.format(code="beijing"), {"year": stats_year, "district": b.code}, **bearer(officer))
    assert other.status_code == 404
    assert "管辖范围" in other.json()["message"]


def test_city_admin_may_narrow_to_several_districts(client, city_admin, bearer, year_rows, stats_year):
    a, b = year_rows["districts"]
    response = client.get(f"{URL.format(code='beijing')}?year={stats_year}&district={a.code}&district={b.code}",
                          **bearer(city_admin))
    assert response.status_code == 200
    data = response.json()
    assert {r["district"] for r in data["suggestions"]["rows"]} == {a.code, b.code}
    assert data["suggestions"]["total"]["received"] == 10
    assert data["scope"]["total_label"] == "所选区合计"


@pytest.mark.parametrize("persona", ["street_office", "planner_user", "pds_admin"])
def test_other_roles_and_other_cities_admins_are_refused(client, bearer, persona, request, stats_year, beijing):
    user = request.getfixturevalue(persona)
    response = client.get(URL.format(code="beijing"), {"year": stats_year}, **bearer(user))
    assert response.status_code == 403
    assert re.search(r"[\u4e00-\u9fff]", response.json()["message"])


def test_anonymous_is_401(client, beijing, stats_year):
    assert client.get(URL.format(code="beijing"), {"year": stats_year}).status_code == 401


@pytest.mark.parametrize("year, code", [("abcd", "invalid_year"), ("1999", "year_out_of_range"), ("", "year_required")])
def test_bad_years_are_400_in_chinese(client, city_admin, bearer, year, code):
    response = client.get(URL.format(code="beijing"), {"year": year}, **bearer(city_admin))
    assert response.status_code == 400
    assert response.json()["code"] == code and "年度" in response.json()["message"]


def test_unknown_city_is_404(client, city_admin, bearer, stats_year):
    response = client.get(URL.format(code="atlantis"), {"year": stats_year}, **bearer(city_admin))
    assert response.status_code == 404


def _sheets(content: bytes):
    return load_workbook(io.BytesIO(content), read_only=True)


def test_api_workbook_opens_and_has_a_sheet_per_topic(client, city_admin, bearer, year_rows, stats_year):
    response = client.get(URL.format(code="beijing") + "/export", {"year": stats_year}, **bearer(city_admin))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = _sheets(response.content)
    assert book.sheetnames == ["说明", "资源库", "调出情形", "原则性规定的例外", "聘任", "责任单元覆盖", "考核等次",
                               "履职时长", "书面意见", "意见建议", "补贴与服务费用"]
    suggestions = list(book["意见建议"].iter_rows(values_only=True))
    assert suggestions[0][:3] == ("区", "区划代码", "受理")
    assert suggestions[-1][0] == "全市合计" and suggestions[-1][2] == 10
    duty = list(book["履职时长"].iter_rows(values_only=True))
    assert duty[-1][0] == "全市合计"
    assert 28.5 in duty[-1]
    about = dict(row[:2] for row in book["说明"].iter_rows(min_row=2, values_only=True))
    assert about["依据条款"] == "B19(6)" and about["统计年度"] == stats_year


def test_page_shows_tables_and_accessible_charts(login, city_admin, year_rows, stats_year):
    response = login(city_admin).get("/statistics/", {"city": "beijing", "year": stats_year})
    assert response.status_code == 200
    html = response.content.decode()
    assert "责任规划师工作年度统计" in html and "B19(6)" in html
    for table_id in ("table-appointments", "table-coverage", "table-grades", "table-duty", "table-duty-categories",
                     "table-opinions", "table-suggestions", "table-finance", "table-removals"):
        assert f'id="{table_id}"' in html, table_id
    svgs = re.findall(r"<svg [^>]*>.*?</svg>", html, flags=re.DOTALL)
    assert len(svgs) == 5
    for svg in svgs:
        chart_id = re.search(r'id="([^"]+)"', svg).group(1)
        assert 'role="img"' in svg
        assert f'<title id="{chart_id}-title">' in svg and f'<desc id="{chart_id}-desc">' in svg
        assert f'aria-labelledby="{chart_id}-title"' in svg
    # Each chart points to the table with the same numbers.
    for table_id in ("table-coverage", "table-grades", "table-duty", "table-duty-categories", "table-suggestions"):
        assert f'href="#{table_id}"' in html
    assert "<script" not in html.split("<main", 1)[1]


def test_page_for_a_district_officer_withholds_city_figures(login, year_rows, stats_year, beijing):
    a, _b = year_rows["districts"]
    officer = make_user("stat_page_officer", Role.DISTRICT_OFFICER, beijing, districts=[a])
    html = login(officer).get("/statistics/", {"year": stats_year}).content.decode()
    assert "所辖区合计" in html and 'id="table-removals"' not in html
    assert "仅市级管理员和审计员可见" in html


def test_page_refuses_other_roles(login, planner_user, stats_year):
    response = login(planner_user).get("/statistics/", {"year": stats_year})
    assert response.status_code == 403


def test_page_shows_a_bad_year_as_a_chinese_message(login, city_admin):
    response = login(city_admin).get("/statistics/", {"city": "beijing", "year": "1990"})
    assert response.status_code == 200
    assert "统计年度应在" in response.content.decode()


def test_page_export_is_one_workbook_for_the_chosen_districts(login, city_admin, year_rows, stats_year):
    a, _b = year_rows["districts"]
    response = login(city_admin).get("/statistics/export/", {"city": "beijing", "year": stats_year, "district": a.code})
    assert response.status_code == 200
    book = _sheets(response.content)
    rows = list(book["聘任"].iter_rows(values_only=True))
    assert [r[1] for r in rows[1:-1]] == [a.code] and rows[-1][0] == "所选区合计"
    assert "filename*=UTF-8''" in response["Content-Disposition"]


def test_district_officer_workbook_has_no_city_level_sheets(login, year_rows, stats_year, beijing):
    a, _b = year_rows["districts"]
    officer = make_user("stat_xlsx_officer", Role.DISTRICT_OFFICER, beijing, districts=[a])
    response = login(officer).get("/statistics/export/", {"year": stats_year})
    book = _sheets(response.content)
    assert "资源库" not in book.sheetnames and "调出情形" not in book.sheetnames
    assert "聘任" in book.sheetnames and "意见建议" in book.sheetnames
