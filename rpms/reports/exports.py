"""The annual statistics as ONE Excel workbook, a sheet per topic (B19(6)).

Built from the dict of `selectors.city_statistics`, so the workbook shows exactly the figures of the page
and the API (same scoping: a district officer's workbook has no city-level sheets)."""
from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from rpms.core.excel import XLSX_CONTENT_TYPE, cell_value

from .selectors import (
    APPOINTMENT_COLUMNS,
    COVERAGE_COLUMNS,
    FINANCE_COLUMNS,
    OPINION_COLUMNS,
    SUGGESTION_COLUMNS,
)

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1A4480")
_TOTAL_FONT = Font(bold=True)
_WRAP = Alignment(vertical="top", wrap_text=True)

RATIO_KEYS = {"ratio", "adoption_rate", "on_time_rate"}


def _value(key, value):
    if key in RATIO_KEYS and value is not None:
        return round(value * 100, 2)
    return value


def _header(label: str, key: str = "") -> str:
    return f"{label}（%）" if key in RATIO_KEYS else label


class _Book:
    def __init__(self):
        self.workbook = Workbook(write_only=True)

    def sheet(self, title: str, headers: list[str], rows: list[list], *, total: list | None = None, widths=None):
        sheet = self.workbook.create_sheet(title=title[:31])
        for index, header in enumerate(headers, start=1):
            width = widths[index - 1] if widths and index <= len(widths) else max(10, min(40, len(header) * 2 + 4))
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "B2"
        cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=header)
            cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _WRAP
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append([cell_value(v) for v in row])
        if total is not None:
            cells = []
            for value in total:
                cell = WriteOnlyCell(sheet, value=cell_value(value))
                cell.font = _TOTAL_FONT
                cells.append(cell)
            sheet.append(cells)

    def table(self, title: str, columns, topic: dict, total_label: str):
        headers = ["区", "区划代码"] + [_header(label, key) for key, label in columns]
        rows = [[r["district_name"], r["district"]] + [_value(k, r[k]) for k, _ in columns] for r in topic["rows"]]
        total = [total_label, ""] + [_value(k, topic["total"][k]) for k, _ in columns]
        self.sheet(title, headers, rows, total=total, widths=[14, 12] + [14] * len(columns))

    def bytes(self) -> bytes:
        buffer = BytesIO()
        self.workbook.save(buffer)
        return buffer.getvalue()


SHEETS = ("说明", "资源库", "调出情形", "聘任", "责任单元覆盖", "考核等次", "履职时长", "书面意见", "意见建议", "补贴与服务费用")


def statistics_workbook(stats: dict) -> bytes:
    """The workbook's bytes: 说明 (scope and definitions) and one sheet per topic; the city-level sheets
    (资源库, 调出情形) only when the statistics include them."""
    book = _Book()
    total_label = stats["scope"]["total_label"]
    period = stats["period"]
    about = [
        ["城市", stats["city"]["name"]], ["统计年度", stats["year"]], ["依据条款", stats["article"]],
        ["统计期", f"{period['start']} 至 {period['end']}"], ["截至日", f"{period['as_of']}（{period['as_of_label']}）"],
        ["统计范围", "全市" if stats["scope"]["whole_city"] else "、".join(d["name"] for d in stats["districts"])],
        ["生成时间", stats["generated_at"]],
    ]
    if stats.get("withheld"):
        about.append(["说明", stats["withheld"]])
    labels = {"values": "数值", "period": "统计期", "pool": "资源库", "appointments": "聘任", "coverage": "覆盖", "grades": "考核等次",
              "removals": "调出情形", "limit_exceptions": "原则性规定的例外", "duty_hours": "履职时长", "opinions": "书面意见", "suggestions": "意见建议",
              "finance": "补贴与服务费用"}
    about += [[f"口径：{labels.get(key, key)}", text] for key, text in stats["definitions"].items()]
    book.sheet("说明", ["项目", "内容"], about, widths=[18, 110])

    if stats["pool"] is not None:
        pool = stats["pool"]
        rows = [["年初在库", pool["in_pool_start"]], ["年内入库", pool["admitted"]]]
        rows += [[f"年内入库：{item['label']}", item["count"]] for item in pool["admitted_by_route"]]
        rows += [["年内调出", pool["removed"]], [f"在库责任规划师（{period['as_of_label']}）", pool["in_pool"]],
                 ["其中：个人", pool["individuals"]], ["其中：团队", pool["teams"]], ["当前在库", pool["in_pool_now"]],
                 ["入库状态与档案不一致", pool["status_mismatch"]]]
        book.sheet("资源库", ["指标", "数值"], rows, widths=[36, 14])
        removals = stats["removals"]
        book.sheet("调出情形", ["调出情形", "依据", "人次"], [[g["label"], g["article"], g["count"]] for g in removals["grounds"]],
                   total=["合计", "", removals["total"]], widths=[70, 14, 10])
        excepted = stats.get("limit_exceptions")
        if excepted:
            book.sheet("原则性规定的例外", ["限制", "依据", "年内批准", "年内不予批准", "待审批"],
                       [[r["label"], r["article"], r["granted"], r["refused"], r["pending"]] for r in excepted["rows"]],
                       total=["合计", "", excepted["total"]["granted"], excepted["total"]["refused"],
                              excepted["total"]["pending"]], widths=[30, 14, 12, 14, 10])

    book.table("聘任", APPOINTMENT_COLUMNS, stats["appointments"], total_label)
    book.table("责任单元覆盖", COVERAGE_COLUMNS, stats["coverage"], total_label)

    grades = stats["grades"]
    if grades["available"]:
        headers = ["区", "区划代码"] + [c["label"] for c in grades["columns"]] + ["合计"]
        rows = [[r["district_name"], r["district"]] + [r["counts"][c["code"]] for c in grades["columns"]] + [r["total"]]
                for r in grades["rows"]]
        total = [total_label, ""] + [grades["total"]["counts"][c["code"]] for c in grades["columns"]] + [grades["total"]["total"]]
        book.sheet("考核等次", headers, rows, total=total, widths=[14, 12] + [12] * (len(grades["columns"]) + 1))
    else:
        book.sheet("考核等次", ["说明"], [[grades["note"]]], widths=[60])

    duty = stats["duty_hours"]
    headers = ["区", "区划代码"]
    for c in duty["categories"]:
        headers += [f"{c['label']}（全部，小时）", f"{c['label']}（已确认，小时）"]
    headers += ["合计（全部，小时）", "合计（已确认，小时）", "记录数（全部）", "记录数（已确认）"]

    def duty_cells(row):
        cells = []
        for c in duty["categories"]:
            cells += [row["by_category"][c["code"]]["hours"], row["by_category"][c["code"]]["confirmed_hours"]]
        return cells + [row["hours"], row["confirmed_hours"], row["records"], row["confirmed_records"]]

    book.sheet("履职时长", headers, [[r["district_name"], r["district"]] + duty_cells(r) for r in duty["rows"]],
               total=[total_label, ""] + duty_cells(duty["total"]), widths=[14, 12] + [16] * (len(headers) - 2))

    book.table("书面意见", OPINION_COLUMNS, stats["opinions"], total_label)
    book.table("意见建议", SUGGESTION_COLUMNS, stats["suggestions"], total_label)
    finance = stats["finance"]
    if finance["available"]:
        book.table("补贴与服务费用", FINANCE_COLUMNS, finance, total_label)
    else:
        book.sheet("补贴与服务费用", ["说明"], [[finance["note"]]], widths=[60])
    return book.bytes()


def statistics_filename(stats: dict) -> str:
    scope = "" if stats["scope"]["whole_city"] else "（" + "、".join(d["name"] for d in stats["districts"])[:40] + "）"
    return f"{stats['city']['name']}{stats['year']}年度责任规划师工作统计{scope}.xlsx"


def statistics_workbook_response(stats: dict) -> HttpResponse:
    filename = statistics_filename(stats)
    response = HttpResponse(statistics_workbook(stats), content_type=XLSX_CONTENT_TYPE)
    ascii_name = f"statistics-{stats['city']['code']}-{stats['year']}.xlsx"
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response
