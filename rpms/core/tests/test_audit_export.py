from io import BytesIO

import pytest
from openpyxl import load_workbook

from rpms.core.views import AUDIT_EXPORT_HEADERS

from .conftest import at_local

pytestmark = pytest.mark.django_db

EXPORT_URL = "/audit/export.xlsx"


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    workbook = load_workbook(BytesIO(response.content))
    return workbook.active


def test_export_has_the_chinese_header_row_and_only_the_filtered_rows(client, auditor, make_log):
    make_log(actor_repr="zhangsan", summary="记录甲", article="B4", at=at_local(2026, 3, 10, 9, 30), before={"名称": "旧"}, after={"名称": "新"})
    make_log(actor_repr="lisi", summary="记录乙", article="P5(2)")
    client.force_login(auditor)
    sheet = _sheet(client.get(EXPORT_URL, {"actor": "zhang"}))
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == AUDIT_EXPORT_HEADERS
    assert rows[0][:4] == ("时间", "操作人", "IP 地址", "动作")
    assert len(rows) == 2
    data = dict(zip(rows[0], rows[1]))
    assert data["操作人"] == "zhangsan"
    assert data["摘要"] == "记录甲"
    assert data["依据条款"] == "B4"
    assert data["时间"].strftime("%Y-%m-%d %H:%M") == "2026-03-10 09:30"  # local time, not UTC
    assert "旧" in data["变更前"] and "新" in data["变更后"]


def test_export_respects_the_city_scope(client, city_admin, make_log):
    make_log(city_code="beijing", summary="北京市的记录")
    make_log(city_code="pingdingshan", summary="平顶山市的记录")
    client.force_login(city_admin)
    summaries = [row[9] for row in _sheet(client.get(EXPORT_URL)).iter_rows(min_row=2, values_only=True)]
    assert summaries == ["北京市的记录"]


def test_export_names_the_file_in_chinese(client, auditor):
    client.force_login(auditor)
    response = client.get(EXPORT_URL)
    assert "filename*=UTF-8''%E6%93%8D%E4%BD%9C%E6%97%A5%E5%BF%97" in response["Content-Disposition"]  # 操作日志


def test_export_is_refused_to_a_district_officer(client, district_officer, make_log):
    make_log()
    client.force_login(district_officer)
    assert client.get(EXPORT_URL).status_code == 403


def test_export_with_a_bad_date_is_a_400_in_chinese(client, auditor):
    client.force_login(auditor)
    response = client.get(EXPORT_URL, {"until": "yesterday"})
    assert response.status_code == 400
    assert "截止日期格式不正确" in response.content.decode()


def test_export_requires_login(client):
    response = client.get(EXPORT_URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
