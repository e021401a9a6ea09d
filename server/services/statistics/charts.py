"""Charts drawn on the server as SVG with pygal: no script, no CDN, legible in Chinese, printable."""
from __future__ import annotations

import pygal
from pygal.style import Style

FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', sans-serif"
STYLE = Style(
    background="white", plot_background="white", foreground="#1a1a1a", foreground_strong="#1a1a1a",
    foreground_subtle="#d8dce1", colors=("#0b4f8a", "#f79009", "#1f8a4c", "#d92d20"), font_family=FONT,
    label_font_family=FONT, major_label_font_family=FONT, value_font_family=FONT, value_label_font_family=FONT,
    title_font_family=FONT, legend_font_family=FONT, tooltip_font_family=FONT,
    label_font_size=13, major_label_font_size=13, legend_font_size=14, title_font_size=16, value_font_size=12,
    value_label_font_size=12,
)
COMMON = dict(style=STYLE, js=[], disable_xml_declaration=True, width=760, height=340, legend_at_bottom=True,
              print_values=True, explicit_size=False, no_data_text="无数据", margin=16)


def _percent(value):
    return "" if value is None else f"{value:.2f}%"


def _svg(chart) -> str:
    return chart.render(is_unicode=True)


def return_rate_by_month(points: list[dict], year_label: str, last_year_label: str) -> str:
    """Monthly 退件率 of the period beside the same months a year earlier."""
    chart = pygal.Line(**COMMON, title="月度退件率（%）", value_formatter=_percent, range=(0, 100), include_x_axis=True)
    chart.x_labels = [f"{int(p['from'][5:7])}月" for p in points]
    chart.add(year_label, [p["value"] for p in points])
    chart.add(last_year_label, [p["last_year"] for p in points])
    return _svg(chart)


def cloud_share_by_business_type(rows: list[dict]) -> str:
    chart = pygal.Bar(**COMMON, title="云帮办占比（按业务类型，%）", value_formatter=_percent, range=(0, 100))
    chart.x_labels = [row["label"] for row in rows]
    chart.add("云帮办占比", [row["cloud_share"] for row in rows])
    return _svg(chart)


def durations(durations: dict) -> str:
    chart = pygal.HorizontalBar(**COMMON, title="办理时长（工作小时）",
                                value_formatter=lambda v: "" if v is None else f"{v:g} 小时")
    chart.x_labels = [entry["label"] for entry in durations.values()]
    chart.add("中位数", [entry["median"] for entry in durations.values()])
    chart.add("第90百分位数", [entry["p90"] for entry in durations.values()])
    return _svg(chart)
