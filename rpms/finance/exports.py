"""The allowance finance list as one Excel workbook: the rows (明细, with the appointments each person's
allowance covers), the totals per district (按区汇总) and per planner (按责任规划师汇总), and the
reconciliation of the per-appointment rows of before issue #12 (历史记录核对), each sheet with a header row; written in write-only mode so memory
does not grow with the number of rows."""
from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from rpms.core.excel import XLSX_CONTENT_TYPE, cell_value

from . import selectors

ALLOWANCE_HEADERS = ["区", "责任单元", "责任规划师", "类型", "覆盖的派驻（责任单元）", "服务周期", "周期开始", "本周期最后服务日",
                     "服务天数", "整周期天数", "不足周期", "计补人数", "标准（元/人·年）", "应付金额（元）", "应付日期", "状态",
                     "支付日期", "凭证号", "计算说明"]
RECONCILIATION_HEADERS = ["责任规划师", "计入的区", "服务周期", "周期开始", "周期结束", "按人服务天数", "按人应付（元）", "已付（元）",
                          "差额（元，已付 − 应付）", "原按聘任记录（条）", "删除的未付记录（条）", "核对日期", "核对说明"]
SUMMARY_HEADERS = ["应付条数", "应付金额（元）", "待支付条数", "待支付金额（元）", "逾期条数", "逾期金额（元）", "已支付条数", "已支付金额（元）"]
_SUMMARY_KEYS = ["count", "total_yuan", "due_count", "due_yuan", "overdue_count", "overdue_yuan", "paid_count", "paid_yuan"]


def _sheet(workbook, title, headers, rows):
    sheet = workbook.create_sheet(title=title)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1A4480")
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([cell_value(v) for v in row])


def allowance_workbook_response(*, filename: str, queryset, on, reconciliations=None) -> HttpResponse:
    workbook = Workbook(write_only=True)
    _sheet(workbook, "明细", ALLOWANCE_HEADERS, (
        [a.district.name, a.unit.name, a.planner.name, a.get_kind_display(),
         "、".join(c.unit.name for c in a.appointments.all()) or a.unit.name, a.cycle_no, a.cycle_start,
         a.served_until, a.days_served, a.days_in_cycle, a.partial, a.persons, a.rate_yuan, a.amount_yuan, a.due_on,
         a.state_label(on), a.paid_on, a.voucher_no, a.basis]
        for a in queryset.iterator(chunk_size=1000)
    ))
    _sheet(workbook, "按区汇总", ["区", *SUMMARY_HEADERS],
           ([d["district_name"], *(d[k] for k in _SUMMARY_KEYS)] for d in selectors.allowance_by_district(queryset, on)))
    _sheet(workbook, "按责任规划师汇总", ["责任规划师", *SUMMARY_HEADERS],
           ([p["planner_name"], *(p[k] for k in _SUMMARY_KEYS)]
            for p in selectors.allowance_by_planner(queryset, on, limit=None)))
    totals = selectors.allowance_totals(queryset, on)
    _sheet(workbook, "合计", SUMMARY_HEADERS, [[totals[k] for k in _SUMMARY_KEYS]])
    if reconciliations is not None:
        _sheet(workbook, "历史记录核对", RECONCILIATION_HEADERS, (
            [r.planner.name, r.district.name, r.cycle_no, r.cycle_start, r.cycle_end, r.days_served, r.due_yuan,
             r.paid_yuan, r.difference_yuan, r.legacy_count, r.removed_unpaid_count, r.reconciled_on, r.note]
            for r in reconciliations
        ))
    buffer = BytesIO()
    workbook.save(buffer)
    if not filename.endswith(".xlsx"):
        filename += ".xlsx"
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename=\"allowances.xlsx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response
