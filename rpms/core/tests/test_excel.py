import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from rpms.core.excel import workbook_response


def _load(response):
    return load_workbook(BytesIO(response.content)).active


def test_workbook_response_writes_headers_then_rows():
    response = workbook_response("名单", "责任规划师", ["姓名", "人数", "日期"], [["张三", 3, datetime.date(2026, 1, 5)]])
    sheet = _load(response)
    assert sheet.title == "责任规划师"
    assert [c.value for c in sheet[1]] == ["姓名", "人数", "日期"]
    assert sheet[1][0].font.bold
    assert sheet["A2"].value == "张三"
    assert sheet["B2"].value == 3
    assert sheet["C2"].value.date() == datetime.date(2026, 1, 5)
    assert response["Content-Disposition"].endswith("filename*=UTF-8''%E5%90%8D%E5%8D%95.xlsx")


def test_aware_datetimes_are_written_in_beijing_time():
    moment = datetime.datetime(2026, 3, 1, 16, 30, tzinfo=datetime.timezone.utc)  # 00:30 next day in Beijing
    sheet = _load(workbook_response("t.xlsx", "表", ["时间"], [[moment]]))
    assert sheet["A2"].value == datetime.datetime(2026, 3, 2, 0, 30)
    assert moment.astimezone(ZoneInfo("Asia/Shanghai")).hour == 0


def test_text_that_looks_like_a_formula_is_stored_as_text():
    sheet = _load(workbook_response("t", "表", ["摘要"], [["=HYPERLINK(\"http://x\")"], ["+1"]]))
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].value.startswith("'=")
    assert sheet["A3"].value == "'+1"


def test_sheet_titles_are_made_valid():
    sheet = _load(workbook_response("t", "2026/03 统计:全市[汇总]超过三十一个字符的标题会被截断", ["a"], []))
    assert "/" not in sheet.title and ":" not in sheet.title and "[" not in sheet.title
    assert len(sheet.title) <= 31
