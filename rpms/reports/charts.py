"""Server-rendered bar charts as inline SVG (no JavaScript, no external assets).

`bar_chart(...)` turns categories and one or more series into the geometry the template
`reports/_bar_chart.html` draws: horizontal bars (long Chinese labels stay readable), value labels printed
beside every bar (colour is never the only carrier of meaning), gridlines on a rounded scale, a legend for
several series. Accessibility: the <svg> is role="img" labelled by its <title> and described by its <desc>;
each bar has its own <title>; the figure links to the table holding the same numbers."""
import math

PALETTE = ("#1a4480", "#5b8fd0", "#1e6b34", "#b07000", "#a31515", "#6f4a9e", "#2b7a78")
WIDTH = 760
LABEL_WIDTH = 150
VALUE_WIDTH = 90
BAR_HEIGHT = 18
BAR_GAP = 4
GROUP_GAP = 12
TOP = 34
AXIS_HEIGHT = 22


def nice_step(value: float, *, integers: bool = False) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^n not below value (2.5 left out for whole numbers; at least 1 then)."""
    if value <= 0:
        return 1
    steps = (1, 2, 5, 10) if integers else (1, 2, 2.5, 5, 10)
    exponent = math.floor(math.log10(value))
    for step in steps:
        candidate = step * 10 ** exponent
        if candidate >= value - 1e-9:
            return max(1, candidate) if integers else candidate
    return 10 ** (exponent + 1)


def _text(value, *, percent: bool, unit: str) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{value * 100:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}{unit}"
    return f"{int(value):,}{unit}"


def _tick_text(value: float, *, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(*, chart_id: str, title: str, desc: str, categories: list[str], series: list[dict], unit: str = "",
              percent: bool = False, table_id: str = "") -> dict:
    """series: [{"label": "全部", "values": [number | None, ...]}, ...] aligned with categories."""
    values = [v for s in series for v in s["values"] if v is not None]
    integers = all(float(v).is_integer() for v in values)
    if percent:
        step_value, steps = 0.25, 4
    else:
        largest = max(values, default=0)
        step_value = nice_step(largest / 4, integers=integers)
        steps = max(1, math.ceil(largest / step_value - 1e-9))
    top = step_value * steps
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    per_group = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    legend = len(series) > 1
    y = TOP if legend else 10
    groups = []
    for index, category in enumerate(categories):
        bars = []
        for number, item in enumerate(series):
            value = item["values"][index]
            width = 0 if not value else max(1.0, plot_width * min(value, top) / top)
            bar_y = y + number * (BAR_HEIGHT + BAR_GAP)
            text = _text(value, percent=percent, unit=unit)
            bars.append({
                "x": LABEL_WIDTH, "y": bar_y, "width": round(width, 1), "height": BAR_HEIGHT,
                "fill": PALETTE[number % len(PALETTE)], "text": text, "text_x": round(LABEL_WIDTH + width + 6, 1),
                "text_y": bar_y + BAR_HEIGHT - 4,
                "tooltip": f"{category}{('·' + item['label']) if legend else ''}：{text}",
            })
        groups.append({"label": category, "label_y": y + per_group / 2 + 5, "bars": bars})
        y += per_group + GROUP_GAP
    plot_bottom = y - GROUP_GAP + 6
    ticks = []
    for step in range(steps + 1):
        value = step_value * step
        x = LABEL_WIDTH + plot_width * step / steps
        ticks.append({"x": round(x, 1), "text": _tick_text(value, percent=percent)})
    return {
        "id": chart_id, "title": title, "desc": desc, "table_id": table_id,
        "width": WIDTH, "height": plot_bottom + AXIS_HEIGHT, "groups": groups, "ticks": ticks,
        "plot_top": TOP - 6 if legend else 4, "plot_bottom": plot_bottom, "axis_y": plot_bottom + 16,
        "label_x": LABEL_WIDTH - 8,
        "legend": [{"label": s["label"], "fill": PALETTE[n % len(PALETTE)], "x": LABEL_WIDTH + n * 150}
                   for n, s in enumerate(series)] if legend else [],
        "empty": not categories,
    }


def statistics_charts(stats: dict) -> dict[str, dict]:
    """The charts of the statistics page by name, each describing a table of the same page (ids `table-…`)."""
    names = [row["district_name"] for row in stats["coverage"]["rows"]]
    charts = {
        "coverage": bar_chart(
            chart_id="chart-coverage", table_id="table-coverage", percent=True,
            title=f"各区责任单元覆盖率（{stats['period']['as_of_label']}）",
            desc="横向条形图：每个区一条，长度为已覆盖责任单元占责任单元总数的比例；具体数字见“责任单元覆盖”表。",
            categories=names, series=[{"label": "覆盖率", "values": [r["ratio"] for r in stats["coverage"]["rows"]]}],
        ),
        "duty_districts": bar_chart(
            chart_id="chart-duty-districts", table_id="table-duty", unit=" 小时",
            title="各区履职时长",
            desc="横向条形图：每个区两条，分别为全部履职记录和已确认履职记录的时长（小时）；具体数字见“履职时长”表。",
            categories=[r["district_name"] for r in stats["duty_hours"]["rows"]],
            series=[{"label": "全部", "values": [r["hours"] for r in stats["duty_hours"]["rows"]]},
                    {"label": "已确认", "values": [r["confirmed_hours"] for r in stats["duty_hours"]["rows"]]}],
        ),
        "duty_categories": bar_chart(
            chart_id="chart-duty-categories", table_id="table-duty-categories", unit=" 小时",
            title="各类工作职责履职时长",
            desc="横向条形图：每类工作职责两条，分别为全部和已确认履职记录的时长（小时）；具体数字见“各类工作职责履职时长”表。",
            categories=[c["label"] for c in stats["duty_hours"]["categories"]],
            series=[
                {"label": "全部", "values": [stats["duty_hours"]["total"]["by_category"][c["code"]]["hours"]
                                            for c in stats["duty_hours"]["categories"]]},
                {"label": "已确认", "values": [stats["duty_hours"]["total"]["by_category"][c["code"]]["confirmed_hours"]
                                             for c in stats["duty_hours"]["categories"]]},
            ],
        ),
        "suggestions": bar_chart(
            chart_id="chart-suggestions", table_id="table-suggestions",
            title="各区意见建议受理与按期答复",
            desc="横向条形图：每个区两条，分别为年内受理的有效意见建议件数和按期答复件数；具体数字见“意见建议”表。",
            categories=[r["district_name"] for r in stats["suggestions"]["rows"]],
            series=[{"label": "有效受理", "values": [r["valid"] for r in stats["suggestions"]["rows"]]},
                    {"label": "按期答复", "values": [r["on_time"] for r in stats["suggestions"]["rows"]]}],
        ),
    }
    grades = stats["grades"]
    if grades["available"]:
        charts["grades"] = bar_chart(
            chart_id="chart-grades", table_id="table-grades",
            title="考核等次分布",
            desc="横向条形图：每个考核等次一条，长度为评定为该等次的年度考核数；各区数字见“年度考核等次”表。",
            categories=[c["label"] for c in grades["columns"]],
            series=[{"label": "考核数", "values": [grades["total"]["counts"][c["code"]] for c in grades["columns"]]}],
        )
    return charts
