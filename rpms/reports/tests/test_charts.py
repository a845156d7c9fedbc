"""The SVG bar charts: bars proportional to the values on a rounded scale, every value written out."""
from rpms.reports.charts import bar_chart, nice_step


def test_scale_steps_are_round_and_whole_for_counts():
    assert nice_step(1.2, integers=True) == 2
    assert nice_step(0.3, integers=True) == 1
    assert nice_step(1.2) == 2 and nice_step(2.1) == 2.5 and nice_step(430) == 500


def test_bars_are_proportional_and_labelled():
    chart = bar_chart(chart_id="c", title="标题", desc="说明", categories=["东城区", "西城区"],
                      series=[{"label": "全部", "values": [4, 2]}, {"label": "已确认", "values": [3, None]}])
    first, second = chart["groups"]
    assert first["bars"][0]["width"] == 2 * second["bars"][0]["width"]
    assert second["bars"][1]["width"] == 0 and second["bars"][1]["text"] == "—"
    assert [t["text"] for t in chart["ticks"]] == ["0", "1", "2", "3", "4"]
    assert first["bars"][1]["tooltip"] == "东城区·已确认：3"
    assert [item["label"] for item in chart["legend"]] == ["全部", "已确认"]


def test_percentages_use_a_full_scale():
    chart = bar_chart(chart_id="p", title="覆盖率", desc="说明", categories=["东城区"],
                      series=[{"label": "覆盖率", "values": [0.5]}], percent=True)
    assert chart["ticks"][-1]["text"] == "100%" and chart["groups"][0]["bars"][0]["text"] == "50.0%"
    assert chart["legend"] == []


def test_the_scale_ends_at_the_first_round_value_above_the_largest_bar():
    chart = bar_chart(chart_id="s", title="件数", desc="说明", categories=["东城区", "西城区"],
                      series=[{"label": "受理", "values": [10, 8]}])
    assert [t["text"] for t in chart["ticks"]] == ["0", "5", "10"]
    assert chart["groups"][0]["bars"][0]["width"] == 760 - 150 - 90  # the largest bar fills the plot
