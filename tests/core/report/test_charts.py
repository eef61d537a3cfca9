"""SVG charts: well-formed, escaped, proportional — no database."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from debtflow.core.report.charts import Bar, Series, bar_chart, heat_table, line_chart
from debtflow.core.report.rates import ReportInputError
from debtflow.core.report.rolls import RollMatrix

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on malformed XML


def test_bar_chart_escapes_labels_and_scales_bars() -> None:
    svg = bar_chart(
        [Bar("<script>alert(1)</script>", 0.5, "1/2"), Bar("张三 & 李四", 0.25), Bar("无", None)],
        title='回收率 "by collector"',
    )
    root = parse(svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "张三 &amp; 李四" not in texts and "张三 & 李四" in texts
    assert "50.0% (1/2)" in texts and "25.0%" in texts and "—" in texts
    filled = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#2f6fb0"]
    assert [float(r.get("width", "0")) for r in filled] == [220.0, 110.0]  # track 600 - 150 - 230
    assert root.get("aria-label") == '回收率 "by collector"'
    assert texts[0] == '回收率 "by collector"'  # the visible caption


def test_bar_chart_empty_and_bad_values() -> None:
    assert "no data" in bar_chart([], title="x")
    assert "暂无数据" in bar_chart([], title="x", no_data="暂无数据")
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ReportInputError):
            bar_chart([Bar("a", bad)], title="x")


def test_line_chart_draws_each_series_with_gaps() -> None:
    svg = line_chart(
        ["11-01", "11-02", "11-03", "11-04"],
        [Series("collected", [1.0, 2.0, None, 4.0]), Series("<b>", [0.0, 0.0, 0.0, 0.0])],
        title="daily",
        formatter=lambda v: f"{v:.0f}",
    )
    root = parse(svg)
    lines = list(root.iter(f"{SVG}polyline"))
    dots = list(root.iter(f"{SVG}circle"))
    assert len(lines) == 2 and len(dots) == 1  # the gap splits the first series
    first = [tuple(map(float, p.split(","))) for p in lines[0].get("points", "").split()]
    assert first[0][1] > first[1][1]  # a larger value is drawn higher
    assert "&lt;b&gt;" in svg
    with pytest.raises(ReportInputError):
        line_chart(["a"], [Series("s", [1.0, 2.0])], title="x")
    assert "no data" in line_chart(["a"], [Series("s", [None])], title="x")


def test_heat_table_shows_shares_per_start_bucket() -> None:
    matrix = RollMatrix(month=date(2026, 11, 1), counts={("M1", "M2"): 1, ("M1", "M1"): 3})
    svg = heat_table(matrix, title="roll <M1>")
    root = parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "25.0%" in texts and "75.0%" in texts and "4" in texts
    assert "roll &lt;M1&gt;" in svg
    assert "no data" in heat_table(RollMatrix(month=date(2026, 11, 1), counts={}), title="t")
